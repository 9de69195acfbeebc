"""The ``kenlm_perplexity`` block: CCNet perplexity per document, head/middle/tail buckets, optional filter.

CCNet (Wenzek et al. 2019, "CCNet: Extracting High Quality Monolingual Datasets from Web Crawl
Data", Sec. 3.3) scores every document with a 5-gram KenLM model trained on the language's
Wikipedia and splits each language into head / middle / tail by perplexity percentiles; cc_net's
``PerplexityBucket`` cuts at the 30th and 60th percentile of the language's perplexities
(``cutoff.csv``). Here: ``cutoffs: {lang: [head_max, middle_max]}`` (``curate calibrate-perplexity``
computes them from reference documents), a document is ``head`` if perplexity < head_max,
``middle`` if < middle_max, else ``tail``. Nothing is dropped unless asked: ``max_perplexity`` (one
value or ``{lang: value}``) removes documents above it (reason ``max_perplexity``), ``keep_buckets``
(e.g. ``[head, middle]``, cc_net's ``keep_bucket``) removes the other buckets (reason
``perplexity_bucket``).

Documents of a language without a model pass untouched: null perplexity and bucket,
``kenlm_status = "no_model"``. Statuses: ``ok`` (perplexity and bucket), ``no_cutoffs`` (perplexity,
no bucket), ``no_model``, ``empty`` (nothing to score after normalisation). The run statistics count
them per language as ``kenlm_status:<status>`` and ``perplexity_bucket:<bucket>``.

Scoring, normalisation and tokenisation: :class:`curate.quality.perplexity_scorer.PerplexityScorer`
(CCNet normalisation; the language's word tokenizer by default, ``sentencepiece_models`` for
CCNet's own models). Each model loads once per worker process; documents are scored grouped by
language, one KenLM call per line.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockKind, BlockOutput
from curate.blocks.columns import LANG, TEXT, UNKNOWN_LANG
from curate.models.ref import ModelRef
from curate.quality._settings import check_file, check_pins, lang_map, resolve_setting, set_column
from curate.quality.errors import QualityConfigError, QualityModelNotFoundError
from curate.quality.kenlm_model import check_loadable
from curate.quality.perplexity_scorer import PerplexityScorer, language_tokenizer_spec, require_sentencepiece

BUCKETS = ("head", "middle", "tail")
STATUS_OK = "ok"
STATUS_NO_CUTOFFS = "no_cutoffs"
STATUS_NO_MODEL = "no_model"
STATUS_EMPTY = "empty"


class KenLMPerplexity(Block):
    """Adds ``perplexity``, ``perplexity_bucket`` and ``kenlm_status``; optionally filters on them.

    Settings:

    * ``models``: ``{lang: path or URL}`` of KenLM models (ARPA, ARPA.gz or KenLM binary);
      ``models_sha256: {lang: sha256}`` pins them;
    * ``sentencepiece_models``: ``{lang: path or URL}`` of the SentencePiece model each KenLM model was
      trained with (CCNet ships ``<lang>.sp.model`` next to ``<lang>.arpa.bin``);
      ``sentencepiece_models_sha256: {lang: sha256}`` pins them;
    * ``tokenizer``: ``auto`` (the language table's word tokenizer), ``none`` (whitespace), a spec,
      or ``{lang: spec}``; unused for languages with a SentencePiece model;
    * ``normalize`` / ``strip_accents``: CCNet's text normalisation (both on, as CCNet);
    * ``per_line``: score line by line (``DocLM``), or the whole document as one line (``mine.py``);
    * ``cutoffs``: ``{lang: [head_max, middle_max]}``; ``max_perplexity``; ``keep_buckets``;
    * ``backend``: ``auto`` (kenlm if installed, else the pure-Python ARPA scorer), ``kenlm``, ``python``;
    * ``column`` / ``bucket_column`` / ``status_column``: output column names.

    A URL (``hf://``, ``s3://``, ``https://``, any fsspec URL) goes through the model cache as langid's
    ``model:`` does (:mod:`curate.models`; ``curate models fetch``, ``--offline``): ``preflight`` fetches it
    on the driver and on every node, and each worker process resolves it once.
    """

    name: ClassVar[str] = "kenlm_perplexity"
    kind: ClassVar[BlockKind] = "filter"

    def __init__(
        self,
        models: dict[str, str],
        sentencepiece_models: dict[str, str] | None = None,
        models_sha256: dict[str, str] | None = None,
        sentencepiece_models_sha256: dict[str, str] | None = None,
        tokenizer: str | dict[str, str] = "auto",
        normalize: bool = True,
        strip_accents: bool = True,
        per_line: bool = True,
        cutoffs: dict[str, list[float]] | None = None,
        max_perplexity: float | dict[str, float] | None = None,
        keep_buckets: list[Literal["head", "middle", "tail"]] | None = None,
        backend: Literal["auto", "kenlm", "python"] = "auto",
        column: str = "perplexity",
        bucket_column: str = "perplexity_bucket",
        status_column: str = "kenlm_status",
    ) -> None:
        if not models:
            raise QualityConfigError(
                "kenlm_perplexity needs `models: {lang: PATH}` (KenLM ARPA or binary files, e.g. CCNet's "
                "<lang>.arpa.bin); see the README, 'Where to get models'"
            )
        self.models = {k: check_file(p, f"kenlm_perplexity.models.{k}", "KenLM model")
                       for k, p in lang_map(models, "kenlm_perplexity.models").items()}
        self.sentencepiece_models = {
            k: check_file(p, f"kenlm_perplexity.sentencepiece_models.{k}", "SentencePiece model")
            for k, p in lang_map(sentencepiece_models, "kenlm_perplexity.sentencepiece_models").items()}
        self.models_sha256 = check_pins(models_sha256, self.models, "kenlm_perplexity.models_sha256")
        self.sentencepiece_models_sha256 = check_pins(sentencepiece_models_sha256, self.sentencepiece_models,
                                                      "kenlm_perplexity.sentencepiece_models_sha256")
        self.tokenizer = lang_map(tokenizer, "kenlm_perplexity.tokenizer") if isinstance(tokenizer, dict) else tokenizer
        self.normalize = normalize
        self.strip_accents = strip_accents
        self.per_line = per_line
        self.cutoffs: dict[str, tuple[float, float]] = {}
        for k, v in lang_map(cutoffs, "kenlm_perplexity.cutoffs").items():
            values = [float(x) for x in v]
            if len(values) != 2 or not values[0] <= values[1]:
                raise QualityConfigError(
                    f"kenlm_perplexity.cutoffs.{k} must be [head_max, middle_max] with head_max <= middle_max; "
                    f"got {v!r} (compute them with `curate calibrate-perplexity`)")
            self.cutoffs[k] = (values[0], values[1])
        if isinstance(max_perplexity, dict):
            self.max_perplexity: float | dict[str, float] | None = {
                k: float(v) for k, v in lang_map(max_perplexity, "kenlm_perplexity.max_perplexity").items()}
        else:
            self.max_perplexity = float(max_perplexity) if max_perplexity is not None else None
        bad = [b for b in (keep_buckets or []) if b not in BUCKETS]
        if bad:
            raise QualityConfigError(f"kenlm_perplexity.keep_buckets: unknown buckets {bad}; use {list(BUCKETS)}")
        self.keep_buckets = list(keep_buckets) if keep_buckets is not None else None
        self.backend = backend
        self.column = column
        self.bucket_column = bucket_column
        self.status_column = status_column
        self._scorers: dict[str, PerplexityScorer] = {}

    def tokenizer_for(self, lang: str, ctx: BlockContext | None) -> str:
        spec = self.tokenizer.get(lang, "auto") if isinstance(self.tokenizer, dict) else self.tokenizer
        if spec == "auto":
            return language_tokenizer_spec(ctx.languages if ctx is not None else None, lang)
        return spec

    def scorer_for(self, lang: str, ctx: BlockContext | None = None) -> PerplexityScorer | None:
        """The language's scorer (built once per block instance), or None without a model."""
        scorer = self._scorers.get(lang)
        if scorer is None:
            path = self.models.get(lang)
            if path is None:
                return None
            scorer = PerplexityScorer(
                path, tokenizer=self.tokenizer_for(lang, ctx), sentencepiece_model=self.sentencepiece_models.get(lang),
                normalize_text=self.normalize, strip_accents=self.strip_accents, per_line=self.per_line,
                backend=self.backend, model_sha256=self.models_sha256.get(lang),
                sentencepiece_sha256=self.sentencepiece_models_sha256.get(lang),
            )
            self._scorers[lang] = scorer
        return scorer

    def model_refs(self) -> list[ModelRef]:
        refs = [ModelRef(f"kenlm_perplexity.models.{k}", p, self.models_sha256.get(k)) for k, p in self.models.items()]
        return refs + [ModelRef(f"kenlm_perplexity.sentencepiece_models.{k}", p,
                                self.sentencepiece_models_sha256.get(k))
                       for k, p in self.sentencepiece_models.items()]

    def preflight(self) -> None:
        """Every model is on this machine (a URL fetched into the cache now when online; offline, one missing
        from the cache fails here, before any work, naming ``curate models fetch``), its pin matches, and the
        package it needs is installed: ``kenlm`` for KenLM binaries (ARPA files have a pure-Python reader),
        ``sentencepiece`` for SentencePiece models. Nothing is loaded."""
        for ref in self.model_refs():
            path = resolve_setting(ref.spec, ref.sha256, ref.setting)
            if not os.path.isfile(path):
                raise QualityModelNotFoundError(f"{ref.setting}: model file {path!r} does not exist; fix the path "
                                                "or give a URL")
            if ref.spec in self.sentencepiece_models.values():
                require_sentencepiece(path)
            else:
                check_loadable(path, self.backend)

    def max_for(self, lang: str) -> float | None:
        if isinstance(self.max_perplexity, dict):
            return self.max_perplexity.get(lang)
        return self.max_perplexity

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        n = table.num_rows
        texts = table.column(TEXT).to_pylist() if TEXT in table.column_names else [""] * n
        langs = table.column(LANG).to_pylist() if LANG in table.column_names else [UNKNOWN_LANG] * n
        ppl: list[float | None] = [None] * n
        buckets: list[str | None] = [None] * n
        status = [STATUS_NO_MODEL] * n
        keep = np.ones(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        errors: list[str | None] = [None] * n
        groups: dict[str, list[int]] = defaultdict(list)
        for i, lang in enumerate(langs):
            groups[lang or UNKNOWN_LANG].append(i)
        for lang, rows in groups.items():
            scorer = self.scorer_for(lang, ctx)
            if scorer is None:
                continue
            scorer.model  # noqa: B018 - load once, outside the per-document error handling
            cut = self.cutoffs.get(lang)
            limit = self.max_for(lang)
            for i in rows:
                try:
                    value = scorer.perplexity(texts[i] or "")
                except Exception as exc:  # one bad document never kills the batch
                    keep[i] = False
                    errors[i] = f"{type(exc).__name__}: {exc}"
                    status[i] = "error"
                    continue
                if value is None:
                    status[i] = STATUS_EMPTY
                    continue
                ppl[i] = value
                if cut is None:
                    status[i] = STATUS_NO_CUTOFFS
                else:
                    status[i] = STATUS_OK
                    buckets[i] = "head" if value < cut[0] else "middle" if value < cut[1] else "tail"
                if limit is not None and value > limit:
                    keep[i] = False
                    reasons[i] = "max_perplexity"
                elif self.keep_buckets is not None and buckets[i] is not None and buckets[i] not in self.keep_buckets:
                    keep[i] = False
                    reasons[i] = "perplexity_bucket"
        out = set_column(table, self.column, pa.array(ppl, pa.float64()))
        out = set_column(out, self.bucket_column, pa.array(buckets, pa.string()))
        out = set_column(out, self.status_column, pa.array(status, pa.string()))
        return BlockOutput(table=out, keep=keep, reasons=reasons,
                           errors=errors if any(e is not None for e in errors) else None)

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        """Per language: ``kenlm_status:<status>`` and ``perplexity_bucket:<bucket>`` counts."""
        if self.status_column not in table.column_names:
            return {}
        langs = table.column(LANG).to_pylist() if LANG in table.column_names else [UNKNOWN_LANG] * table.num_rows
        stats: dict[str, dict[str, int]] = {}
        for name in (self.status_column, self.bucket_column):
            if name not in table.column_names:
                continue
            for lang, value in zip(langs, table.column(name).to_pylist(), strict=True):
                if value is None:
                    continue
                entry = stats.setdefault(lang or UNKNOWN_LANG, {})
                key = f"{name}:{value}"
                entry[key] = entry.get(key, 0) + 1
        return stats

