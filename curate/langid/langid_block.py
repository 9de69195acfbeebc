"""The ``langid`` block: fastText language identification with labels normalised to ``xxx_Scrp``.

Rows fastText is unsure about (top score below ``second_opinion_below``) are shown to a second model (CLD2 by
default, see :mod:`curate.langid.second_opinion`), which covers languages lid.176 has no label for (Māori, Zulu,
Xhosa, ...) and is better on weak ones (Swahili, Yoruba, Somali).
"""

from __future__ import annotations

import os
from typing import ClassVar, Literal

import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockKind, BlockOutput
from curate.blocks.columns import LANG, LANG_MODEL, LANG_SCORE, LANG_TOPK, TEXT
from curate.langid.fasttext_model import load_fasttext, packaged_lid176_path
from curate.langid.language_scores import SETS
from curate.langid.script import scripts_among
from curate.langid.second_opinion import BACKENDS, load_second_opinion, names_language
from curate.languages.labels import label_scripts, normalize_label, split_key
from curate.languages.relatives import DEFAULT_MARGIN, may_move
from curate.models.errors import ModelNotFoundError
from curate.models.ref import ModelRef
from curate.models.resolve import is_url, resolve_model

TOPK_TYPE = pa.list_(pa.struct([("lang", pa.string()), ("score", pa.float32())]))
FASTTEXT = "fasttext"
DEFAULT_SECOND_OPINION = "cld2"
_RELATIVES_K = 5

SecondOpinionName = Literal["auto", "none", "cld2", "lingua"]


class LanguageId(Block):
    """Adds ``lang`` (e.g. ``por_Latn``), ``lang_score``, ``lang_topk`` and, with a second opinion, ``lang_model``.

    Default model: fastText lid.176 (Joulin et al. 2016), as in FineWeb; FineWeb2 uses GlotLID
    (section 3.1) — pass its model file as ``model:``, its ``__label__por_Latn`` labels are
    understood as they are. Newlines are folded to spaces, as fastText predicts one line.

    Script from the text: a label that names no script although its language is written in several
    (lid.176's ``sr``, ``uz``, ``az``, ``ku``, ``pa``, ...) takes the text's dominant script
    (:mod:`curate.langid.script`; lid.176 ``sr`` on Latin text -> ``srp_Latn``), per label as documented in
    :mod:`curate.languages.labels`; a label that names its script (GlotLID's ``srp_Latn``) is trusted.

    ``model`` may be a local path or any fsspec URL (``hf://cis-lmu/glotlid/model_v3.bin``, ``s3://...``,
    ``https://...``): URLs go through the model cache (:mod:`curate.models`; ``curate models fetch``,
    ``--offline``), and ``model_sha256`` pins the file's checksum.

    ``language_scores`` picks the per-language ``language_score`` thresholds the pipeline applies downstream:
    ``auto`` = ``lid176`` (derived from lid.176's own scores) for the packaged model, ``fineweb2`` (FineWeb2's,
    fitted on GlotLID) for a ``model:`` of your own; see :mod:`curate.langid.language_scores`.

    Second opinion (:mod:`curate.langid.second_opinion`): when fastText's top score is below
    ``second_opinion_below``, the row's text also goes to the second model. Its answer replaces fastText's when
    it names a language (not ``und``) *other than fastText's*, with a confidence of at least
    ``second_opinion_min`` and, between close relatives (Serbian/Croatian/Bosnian, Danish/Norwegian, ...; see
    :mod:`curate.languages.relatives`), only when fastText's lead over the second opinion's language is below
    ``relatives_margin`` (1.0 turns the check off); then ``lang`` is its label, ``lang_score`` its confidence
    and ``lang_model`` its name (``cld2``). Every other row keeps fastText's label and score (``lang_model: fasttext``): an agreeing second
    opinion does not replace lid.176's score, so the per-language ``language_score`` thresholds keep their
    meaning, and a page fastText was lukewarm about is not waved through on CLD2's say-so. ``lang_topk`` always
    stays fastText's. Only the unsure rows reach the second model, which is loaded once per process.

    ``second_opinion: auto`` (the default) means ``cld2`` with the packaged lid.176 and ``none`` with a ``model:``
    of your own (GlotLID/OpenLID know Māori, Zulu, ... and their scores are what FineWeb2's thresholds were fitted
    on). ``none`` gives lid.176's own answers (normalised, script from the text), without the ``lang_model``
    column. The default
    threshold 0.7 (not 0.5) catches the Māori text lid.176 calls Latvian at 0.5-0.65; see
    benchmarks/RESULTS.md ("langid_second_opinion") for the sweep.
    """

    name: ClassVar[str] = "langid"
    kind: ClassVar[BlockKind] = "transform"

    def __init__(
        self,
        model: str | None = None,
        model_sha256: str | None = None,
        top_k: int = 3,
        max_chars: int = 10_000,
        second_opinion: SecondOpinionName = "auto",
        second_opinion_below: float = 0.7,
        second_opinion_min: float = 0.5,
        relatives_margin: float = DEFAULT_MARGIN,
        language_scores: str = "auto",
    ) -> None:
        if second_opinion not in ("auto", "none", *BACKENDS):
            raise ValueError(
                f"unknown second_opinion {second_opinion!r}; choose one of: auto, none, {', '.join(BACKENDS)}")
        for setting, value in (("second_opinion_below", second_opinion_below),
                               ("second_opinion_min", second_opinion_min), ("relatives_margin", relatives_margin)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{setting} must be between 0 and 1, got {value!r}")
        self.model = model
        self.model_sha256 = model_sha256
        self.top_k = top_k
        self.max_chars = max_chars
        if second_opinion == "auto":  # the packaged lid.176 gets CLD2; a model of the user's own stands alone
            second_opinion = "none" if model else DEFAULT_SECOND_OPINION
        self.second_opinion = second_opinion
        self.second_opinion_below = second_opinion_below
        self.second_opinion_min = second_opinion_min
        self.relatives_margin = relatives_margin
        if language_scores not in ("auto", *SETS):
            raise ValueError(f"unknown language_scores {language_scores!r}; choose one of: auto, {', '.join(SETS)}")
        self.language_scores = language_scores

    def score_set(self) -> str:
        """The ``language_score`` thresholds that fit this model's scores (:mod:`curate.langid.language_scores`):
        ``lid176`` for the packaged lid.176, FineWeb2's GlotLID-fitted ``fineweb2`` for a model of your own."""
        if self.language_scores != "auto":
            return self.language_scores
        return "fineweb2" if self.model else "lid176"

    def model_path(self) -> str:
        """The local fastText file: the packaged lid.176, a path, or a URL through the model cache."""
        if not self.model:
            return packaged_lid176_path()
        if is_url(self.model) or self.model_sha256:
            return resolve_model(self.model, self.model_sha256, what="langid model")
        return self.model

    def model_refs(self) -> list[ModelRef]:
        return [ModelRef("langid.model", self.model, self.model_sha256)] if self.model else []

    def preflight(self) -> None:
        """The model is on this machine (fetched into the cache now if it is a URL and curate runs online;
        offline, a model missing from the cache fails here, before any work); the second opinion's package is
        installed. The model is not loaded: a driver need not hold GlotLID's 1.6 GB."""
        path = self.model_path()
        if not os.path.isfile(path):
            raise ModelNotFoundError(f"language-ID model {path!r} does not exist; set langid.model to a fastText "
                                     ".bin/.ftz (a path or a URL)")
        if self.second_opinion != "none":
            load_second_opinion(self.second_opinion)

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        model = load_fasttext(self.model_path())
        second = None if self.second_opinion == "none" else load_second_opinion(self.second_opinion)
        texts = table.column(TEXT).to_pylist()
        langs: list[str] = []
        scores: list[float] = []
        topks: list[list[dict[str, float | str]]] = []
        unsure: list[int] = []  # rows with text whose fastText top score is below second_opinion_below
        unsure_lines: list[str] = []
        unsure_probs: list[dict[str, float]] = []  # fastText's probabilities of those rows, per language code
        # a few more than top_k with a second opinion: the close-relative check needs the runner-ups' probabilities
        k = self.top_k if second is None else max(self.top_k, _RELATIVES_K)
        lines = [(text or "")[: self.max_chars].replace("\n", " ") for text in texts]
        # fastText splits on ASCII whitespace itself; only newlines end its line (as datatrove does)
        all_preds = [model.predict(line + "\n", k, 0.0, "replace") if line.strip() else [] for line in lines]
        # a label that leaves the script open (lid.176's sr, uz, pa, ...) gets the text's dominant script,
        # computed for those rows only, in one vectorised pass
        open_rows, candidates = [], []
        for i, preds in enumerate(all_preds):
            allowed = tuple(dict.fromkeys(s for _, label in preds[: self.top_k] for s in label_scripts(label)))
            if allowed:
                open_rows.append(i)
                candidates.append(allowed)
        scripts: list[str | None] = [None] * len(lines)
        for i, script in zip(open_rows, scripts_among([lines[i] for i in open_rows], candidates), strict=True):
            scripts[i] = script
        for i, (line, preds, script) in enumerate(zip(lines, all_preds, scripts, strict=True)):
            top = [{"lang": normalize_label(label, script), "score": min(float(prob), 1.0)}
                   for prob, label in preds[: self.top_k]]
            if top:
                langs.append(str(top[0]["lang"]))
                scores.append(float(top[0]["score"]))
            else:
                langs.append("und")
                scores.append(0.0)
            topks.append(top)
            if second is not None and preds and scores[-1] < self.second_opinion_below:
                unsure.append(i)
                unsure_lines.append(line)
                # per ISO 639-3 code (the groups are by code): the runner-ups need no script
                unsure_probs.append({split_key(normalize_label(label))[0]: float(prob) for prob, label in reversed(preds)})
        columns: list[tuple[str, list, pa.DataType]] = [
            (LANG, langs, pa.string()), (LANG_SCORE, scores, pa.float32()), (LANG_TOPK, topks, TOPK_TYPE)]
        if second is not None:
            deciders = [FASTTEXT] * len(texts)
            answers = second.predict(unsure_lines)
            for i, (key, confidence), probs in zip(unsure, answers, unsure_probs, strict=True):
                if (names_language(key) and key != langs[i] and confidence >= self.second_opinion_min
                        and may_move(langs[i], scores[i], probs, key, self.relatives_margin)):
                    langs[i], scores[i], deciders[i] = key, confidence, second.name
            columns.append((LANG_MODEL, deciders, pa.string()))
        out = table
        for name, values, typ in columns:
            arr = pa.array(values, typ)
            idx = out.schema.get_field_index(name)
            out = out.set_column(idx, name, arr) if idx >= 0 else out.append_column(name, arr)
        return BlockOutput(table=out)

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        """Language-ID score histogram per language: 20 bins of 0.05 (``lang_score_bin:0.85``); with a second
        opinion also how many rows each model decided (``lang_model:cld2``)."""
        hist: dict[str, dict[str, int]] = {}
        if LANG not in table.column_names:  # the batch failed as a whole (e.g. no model): nothing to count
            return hist
        for lang, score in zip(table.column(LANG).to_pylist(), table.column(LANG_SCORE).to_pylist(), strict=True):
            key = f"lang_score_bin:{min(int((score or 0.0) * 20), 19) / 20:.2f}"
            bins = hist.setdefault(lang, {})
            bins[key] = bins.get(key, 0) + 1
        if LANG_MODEL in table.column_names:
            for lang, decider in zip(table.column(LANG).to_pylist(), table.column(LANG_MODEL).to_pylist(),
                                     strict=True):
                key = f"lang_model:{decider}"
                bins = hist.setdefault(lang, {})
                bins[key] = bins.get(key, 0) + 1
        return hist
