"""Per-language budgets of the ``rehydrate`` block: up- or down-sample a language to a target size.

YAML (inside ``rehydrate:``)::

    budget:
      unit: tokens            # documents | tokens | bytes | words
      targets: {eng_Latn: 2.0e9, "*": 1.0e8}   # absolute targets, "*" = every other language
      share: {deu_Latn: 0.3}  # or a fraction of `total` (default: all languages' weighted size)
      total: 1.0e10           # optional, for `share`
      seed: 0                 # of the sampling hash; same seed + same documents = same output
      tokenizer: tok.json     # optional Hugging Face tokenizer.json for unit "tokens"

Sizes are counted *after* rehydration, i.e. with each document's repetition weight: a language's
"before" size is ``sum(weight * units)``. Units: ``documents`` (1 each), ``bytes`` (UTF-8 bytes of
``text``), ``words`` (whitespace-separated words, the count the run's stats report) and ``tokens``
(tokens of ``tokenizer`` when given, else whitespace words, i.e. the same as ``words``). For scripts
written without spaces use ``bytes`` or a tokenizer: whitespace words undercount them badly.
Languages in neither ``targets`` nor ``share`` (and no ``"*"``) keep their weights unchanged.

This is FineWeb2's suggestion to pick a per-language repetition scheme against a token budget
(Penedo et al., "FineWeb2: One Pipeline to Scale Them All", arXiv:2506.20920, rehydration section;
huggingface/fineweb-2 README), made exact and reproducible: see :mod:`curate.rehydrate.sampling`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from curate.languages.labels import normalize_label

ANY_LANG = "*"
Unit = Literal["documents", "tokens", "bytes", "words"]


def _lang_key(label: str) -> str:
    if label == ANY_LANG:
        return label
    return normalize_label(label)


class Budget(BaseModel):
    """Validated ``budget:`` settings (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    unit: Unit = Field("tokens", description="what a target counts: documents, tokens, bytes or words")
    targets: dict[str, float] = Field(default_factory=dict, description="language -> target size in `unit`")
    share: dict[str, float] = Field(default_factory=dict, description="language -> fraction of `total`")
    total: float | None = Field(None, gt=0, description="size that `share` divides (default: all languages)")
    seed: int = Field(0, description="seed of the per-document sampling hash")
    tokenizer: str | None = Field(None, description="Hugging Face tokenizer.json for unit 'tokens'")

    @field_validator("targets", "share")
    @classmethod
    def _normalise_keys(cls, value: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for label, number in value.items():
            if number < 0:
                raise ValueError(f"{label}: a budget cannot be negative, got {number}")
            key = _lang_key(label)
            if key in out:
                raise ValueError(f"{label}: language {key} is given twice")
            out[key] = float(number)
        return out

    @model_validator(mode="after")
    def _check(self) -> Budget:
        if not self.targets and not self.share:
            raise ValueError("a budget needs `targets` or `share` (language -> number)")
        both = sorted(set(self.targets) & set(self.share))
        if both:
            raise ValueError(f"languages in both `targets` and `share`: {', '.join(both)}")
        if any(v > 1 for v in self.share.values()):
            raise ValueError("`share` values are fractions of the total, between 0 and 1")
        named = sum(v for k, v in self.share.items() if k != ANY_LANG)
        if named > 1 + 1e-9:
            raise ValueError(f"`share` fractions add up to {named:.4f} > 1")
        if self.total is not None and not self.share:
            raise ValueError("`total` is only used by `share`")
        if self.tokenizer is not None:
            if self.unit != "tokens":
                raise ValueError("`tokenizer` is only used with unit: tokens")
            try:
                import tokenizers  # noqa: F401
            except ImportError as exc:
                raise ValueError(
                    "`tokenizer` needs the Hugging Face `tokenizers` package (pip install tokenizers); "
                    "without it, unit 'tokens' counts whitespace words"
                ) from exc
        return self

    def applies_to(self, lang: str) -> bool:
        return lang in self.targets or lang in self.share or ANY_LANG in self.targets or ANY_LANG in self.share

    def target_for(self, lang: str, grand_total: int) -> float | None:
        """Target size of ``lang`` in ``unit`` (None: no budget). ``grand_total``: weighted size of
        all languages before sampling, the default ``total`` of ``share``. Documents round to whole ones."""
        if lang in self.targets:
            target = self.targets[lang]
        elif lang in self.share:
            target = self.share[lang] * (self.total if self.total is not None else grand_total)
        elif ANY_LANG in self.targets:
            target = self.targets[ANY_LANG]
        elif ANY_LANG in self.share:
            target = self.share[ANY_LANG] * (self.total if self.total is not None else grand_total)
        else:
            return None
        return float(round(target)) if self.unit == "documents" else target

    @classmethod
    def from_setting(cls, value: Budget | Mapping[str, Any] | None) -> Budget | None:
        if value is None or isinstance(value, Budget):
            return value
        return cls.model_validate(dict(value))
