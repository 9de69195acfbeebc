"""The training mixture of ``curate tokenize --mixture mix.yaml``: tokens per language, validated like a
pipeline file (unknown keys named with the closest allowed one, at their line).

::

    targets: {swh_Latn: 2.0e9, yor_Latn: 5.0e8, "*": 1.0e8}   # tokens per language after weighting
    share: {eng_Latn: 0.4}       # or fractions of `total` (default: every language's weighted tokens)
    total: 1.0e11
    others: drop                 # languages neither named nor matched by "*": drop (default) or keep
    weights: true                # apply the rehydration `weight` column (default); false: weight 1

A language's target counts the tokens written to the shards (document tokens plus the end-of-document
and begin-of-document tokens of the format), with each document repeated by its rehydration
``weight``. The copies are rounded by the same seeded sequential Poisson sampling as the ``rehydrate``
block's budgets (:mod:`curate.rehydrate.sampling`), so each language lands within one document of its
target, and the choice depends only on the documents and the seed.
"""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.config.key_check import check_keys
from curate.config.yaml_source import PipelineConfigError, YamlSource, load_yaml
from curate.errors import CurateError
from curate.languages.labels import normalize_label
from curate.rehydrate.budget import ANY_LANG, Budget


class MixtureError(CurateError, ValueError):
    """The mixture file is invalid or names a language the corpus does not have."""


class Mixture(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: dict[str, float] = Field(default_factory=dict, description="language -> tokens after weighting")
    share: dict[str, float] = Field(default_factory=dict, description="language -> fraction of `total`")
    total: float | None = Field(None, gt=0, description="tokens that `share` divides (default: all languages)")
    others: Literal["drop", "keep"] = Field("drop", description="languages the mixture does not name")
    weights: bool = Field(True, description="repeat each document by its rehydration `weight`")

    def budget(self, seed: int) -> Budget | None:
        """The per-language targets as a tokens budget (None: every language keeps its weighted size)."""
        if not self.targets and not self.share:
            return None
        return Budget(unit="tokens", targets=self.targets, share=self.share, total=self.total, seed=seed)

    def includes(self, lang: str) -> bool:
        """Whether ``lang``'s documents go into the shards at all."""
        budget = self.budget(0)
        return budget is None or budget.applies_to(lang) or self.others == "keep"


def load_mixture(path: str) -> tuple[Mixture, YamlSource]:
    """Read and validate ``path`` (keys, types, budget rules); languages are checked against a corpus
    by :func:`check_mixture_languages`. Raises :class:`MixtureError` naming the file, line and key."""
    try:
        src = load_yaml(path, what="a mixture file is a mapping with keys targets, share, total, others, weights")
        allowed = list(Mixture.model_fields)
        check_keys(src, (), src.data, allowed, [], "mixture: ")
    except PipelineConfigError as exc:
        raise MixtureError(str(exc)) from None
    try:
        mixture = Mixture(**src.data)
        mixture.budget(0)  # the budget's own rules: shares <= 1, no language twice, `total` only with `share`
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"]) or tuple(k for k in src.data if f"`{k}`" in str(err["msg"]))[:1]
        key = ".".join(str(p) for p in loc) or "mixture"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise MixtureError(f"{src.where(loc[:2])}: {key}: {msg}") from None
    return mixture, src


def check_mixture_languages(mixture: Mixture, src: YamlSource, available: list[str], corpus: str) -> None:
    """Every language the mixture names must be one of ``available`` (the corpus's languages)."""
    for section in ("targets", "share"):
        for label in src.data.get(section) or {}:
            if label == ANY_LANG:
                continue
            key = normalize_label(str(label))
            if key in available:
                continue
            guess = (difflib.get_close_matches(str(label), available, n=1, cutoff=0.6)
                     or difflib.get_close_matches(key, available, n=1, cutoff=0.6))
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            shown = f"{label!r}" + (f" ({key})" if key != label else "")
            listing = ", ".join(available[:30]) + (" ..." if len(available) > 30 else "")
            raise MixtureError(f"{src.where((section, label))}: {section}: language {shown} is not in {corpus}"
                               f"{hint}; its languages: {listing or '(none)'}")
