"""The ``fasttext_quality`` block: a fastText quality classifier's score per document, then filter or bucket.

Recipe: DCLM (Li et al. 2024, "DataComp-LM", Sec. 4.4 and Table 5): a fastText bigram classifier,
high-quality text (OpenHermes 2.5 + r/ExplainLikeImFive) vs random web text, labels ``__label__hq`` /
``__label__cc``; the document is folded to one line exactly as DCLM's
``classify_fasttext_hq_prob`` does (``" ".join(text.strip().splitlines())``, no lowercasing, no
truncation) and its score is the probability of the positive label. DCLM keeps the top 10% of
documents by that score; here ``threshold`` (default 0.5, the binary decision boundary) or
per-language ``thresholds`` set the cut, so calibrate the value on a sample of your crawl to reproduce
a top-k% rule.

One classifier per language (``models: {lang: path}``, FineWeb2-style) and/or one multilingual
classifier (``model: path``, used for every language without its own). Documents whose language has
no classifier are kept, with a null score and ``quality_status = "no_model"`` (counted per language
in the run statistics as ``quality_status:no_model``).

``mode``: ``filter`` (score, then drop documents below the language's threshold, reason
``fasttext_quality``), ``score`` (only add the column) or ``bucket`` (add the score and a bucket name
from ``bucket_edges``; nothing is dropped).

Models load once per worker process (``functools.lru_cache``) and documents are scored in a tight
loop of C++ ``predict`` calls, grouped by language. Classifiers trained by ``curate train-quality``
carry a sidecar ``MODEL.bin.json``; with ``segment: auto`` its word segmentation (for languages
written without spaces) is applied before scoring, exactly as in training.

Models by URL (``hf://``, ``s3://``, ``https://``, any fsspec URL): as langid's ``model:``, through the model
cache (:mod:`curate.models`; ``curate models fetch``, ``--offline``), pinned by ``model_sha256`` /
``models_sha256: {lang: sha256}``. The sidecar travels as its own cached file, fetched from the model's URL +
``.json`` (publish it next to the model, as ``curate train-quality`` writes it); it is read only with
``segment: auto``. Online, a URL without a sidecar is a model trained elsewhere (no segmentation, as for a
local model without one); offline, a sidecar missing from the cache is an error (``curate models fetch
--pipeline`` fetches it), as the run could not tell "none" from "not fetched". Set ``segment`` explicitly
(``none`` for a model trained elsewhere) and no sidecar is looked for.
"""

from __future__ import annotations

import importlib.util
import json
import mmap
import os
import struct
from collections import defaultdict
from functools import lru_cache
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockKind, BlockOutput
from curate.blocks.columns import LANG, TEXT, UNKNOWN_LANG
from curate.models.errors import ModelUnavailableError
from curate.models.offline import offline
from curate.models.ref import ModelRef
from curate.models.resolve import is_url, resolve_model
from curate.quality._settings import (
    check_file,
    check_pins,
    check_sha256,
    lang_map,
    resolve_setting,
    set_column,
)
from curate.quality.errors import PositiveLabelError, QualityConfigError, QualityModelNotFoundError
from curate.quality.perplexity_scorer import language_tokenizer_spec
from curate.tokenizers import get_word_tokenizer

DEFAULT_LABEL = "__label__hq"  # DCLM's positive label (fasttext_oh_eli5 classifier)
SIDECAR_SUFFIX = ".json"
STATUS_OK = "ok"
STATUS_NO_MODEL = "no_model"
_NO_SIDECAR = ("a model trained elsewhere; for offline runs set fasttext_quality.segment (none, or the tokenizer "
               "it was trained with)")


def sidecar_path(model_path: str) -> str:
    """Where ``curate train-quality`` writes the model's metadata (language, labels, segmentation, metrics)."""
    return model_path + SIDECAR_SUFFIX


def one_line(text: str) -> str:
    """DCLM's preprocessing: the document's lines joined by single spaces (fastText predicts one line)."""
    return " ".join(text.strip().splitlines())


def prepare_line(text: str, segmenter: Any = None) -> str:
    """The line fastText sees, in training and scoring alike: DCLM's one-line fold, optional word
    segmentation, and no token starting with ``__label__`` (fastText would read it as a label)."""
    line = one_line(text)
    if segmenter is not None:
        line = segmenter(line)
    if "__label__" in line:
        line = " ".join(t for t in line.split(" ") if not t.startswith("__label__"))
    return line


def load_classifier(path: str) -> Any:
    """The raw C++ fastText model of ``path``, loaded once per process (either fastText build works);
    a file rewritten since (same path, new mtime or size) is loaded again."""
    st = os.stat(path)
    return _load_classifier(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _load_classifier(path: str, _mtime_ns: int, _size: int) -> Any:
    # native module: loaded only where a fastText model is used
    import fasttext

    try:
        return fasttext.load_model(path).f
    except ValueError as exc:  # fastText raises ValueError for files that are not fastText models
        raise QualityConfigError(f"{path!r} is not a fastText model ({exc}); expected a supervised .bin/.ftz") from exc


def read_remote_sidecar(model_url: str) -> dict[str, Any]:
    """The sidecar of a model given by URL, fetched into the model cache as ``model_url + .json``; {} when
    the store says there is no such file (a model trained elsewhere). Offline, not cached: an error."""
    path = _remote_sidecar(sidecar_path(model_url), offline(), os.environ.get("CURATE_MODEL_CACHE", ""))
    if path is None:
        return {}
    st = os.stat(path)
    return _read_sidecar(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)  # once per process, a sidecar that does not exist included (no request per batch)
def _remote_sidecar(url: str, _offline: bool, _cache_root: str) -> str | None:
    try:
        return resolve_model(url, what="fasttext_quality sidecar")
    except ModelUnavailableError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):  # the store answered: no such file
            return None
        raise ModelUnavailableError(
            f"{exc}; or set fasttext_quality.segment (none for a model not trained by `curate train-quality`), "
            "then no sidecar is needed") from None


def read_sidecar(path: str) -> dict[str, Any]:
    """The ``curate train-quality`` metadata next to a model, or {} for models trained elsewhere."""
    meta = sidecar_path(path)
    if not os.path.isfile(meta):
        return {}
    st = os.stat(meta)
    return _read_sidecar(meta, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _read_sidecar(meta: str, _mtime_ns: int, _size: int) -> dict[str, Any]:
    with open(meta, encoding="utf-8") as fh:
        return dict(json.load(fh))


@lru_cache(maxsize=16)
def model_labels(path: str) -> list[str]:
    """The labels of a fastText model, read from the file's dictionary (works with either fastText build).

    Layout (fastText 0.9 ``FastText::saveModel``): int32 magic, int32 version, 12 int32 args + one
    double, then the dictionary: int32 size, int32 nwords, int32 nlabels, int64 ntokens, int64
    pruneidx_size, and ``size`` entries of (NUL-terminated word, int64 count, int8 type); type 1 = label.
    """
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = 8 + 12 * 4 + 8
        size, _nwords, _nlabels = struct.unpack_from("<iii", mm, pos)
        pos += 12 + 16
        labels: list[str] = []
        for _ in range(size):
            end = mm.find(b"\x00", pos)
            if end < 0:
                break
            word = mm[pos:end]
            kind = mm[end + 9]
            pos = end + 10
            if kind == 1:
                labels.append(word.decode("utf-8", "replace"))
    return labels


def segmenter_for(spec: str | None) -> Any:
    """``text -> text`` that puts spaces between the words of ``spec``'s tokenizer (None: identity)."""
    if not spec:
        return None
    tokenizer = get_word_tokenizer(spec)
    return lambda text: " ".join(tokenizer.words(text))


def default_bucket_names(n_edges: int) -> list[str]:
    if n_edges == 1:
        return ["low", "high"]
    if n_edges == 2:
        return ["low", "mid", "high"]
    return [f"q{i}" for i in range(n_edges + 1)]


class FastTextQualityFilter(Block):
    """Adds ``quality_score`` (probability of ``label``) and ``quality_status``; filters or buckets on it.

    Defaults: ``label = "__label__hq"`` and DCLM's preprocessing (see module docstring);
    ``threshold = 0.5``. Settings:

    * ``model``: one multilingual classifier; ``models``: ``{lang: path}`` per language (wins); paths or
      URLs, pinned by ``model_sha256`` and ``models_sha256: {lang: sha256}`` (see the module docstring);
    * ``label``: the positive label, e.g. ``__label__hq`` (DCLM) or ``__label__1``;
    * ``mode``: ``filter`` | ``score`` | ``bucket``;
    * ``threshold`` / ``thresholds: {lang: t}``: keep documents with score >= t (filter mode);
    * ``bucket_edges``: ascending score cut-offs, one list for all languages or ``{lang: [...]}``
      (default: the language's threshold), ``bucket_names`` one more than edges
      (default ``low``/``high``, ``low``/``mid``/``high``, else ``q0``...);
    * ``segment``: ``auto`` (the model's sidecar decides), ``none``, ``table`` (the language's word
      tokenizer) or a tokenizer spec such as ``chinese``;
    * ``column`` / ``bucket_column`` / ``status_column``: output column names.
    """

    name: ClassVar[str] = "fasttext_quality"
    kind: ClassVar[BlockKind] = "filter"

    def __init__(
        self,
        model: str | None = None,
        models: dict[str, str] | None = None,
        model_sha256: str | None = None,
        models_sha256: dict[str, str] | None = None,
        label: str = DEFAULT_LABEL,
        mode: Literal["filter", "score", "bucket"] = "filter",
        threshold: float = 0.5,
        thresholds: dict[str, float] | None = None,
        bucket_edges: list[float] | dict[str, list[float]] | None = None,
        bucket_names: list[str] | None = None,
        segment: str = "auto",
        column: str = "quality_score",
        bucket_column: str = "quality_bucket",
        status_column: str = "quality_status",
    ) -> None:
        if not model and not models:
            raise QualityConfigError(
                "fasttext_quality needs a classifier: `model: PATH` (one multilingual model) and/or "
                "`models: {lang: PATH}` (one per language); train one with `curate train-quality`"
            )
        if mode not in ("filter", "score", "bucket"):
            raise QualityConfigError(f"fasttext_quality.mode must be filter, score or bucket; got {mode!r}")
        if not label.startswith("__label__"):
            label = "__label__" + label
        self.model = check_file(model, "fasttext_quality.model", "fastText classifier") if model else None
        self.models = {k: check_file(p, f"fasttext_quality.models.{k}", "fastText classifier")
                       for k, p in lang_map(models, "fasttext_quality.models").items()}
        if model_sha256 is not None and not model:
            raise QualityConfigError("fasttext_quality.model_sha256 pins `model:`, which is not set; pin "
                                     "per-language models with models_sha256: {lang: sha256}")
        self.model_sha256 = check_sha256(model_sha256, "fasttext_quality.model_sha256")
        self.models_sha256 = check_pins(models_sha256, self.models, "fasttext_quality.models_sha256")
        self.label = label
        self.mode = mode
        self.threshold = float(threshold)
        self.thresholds = {k: float(v) for k, v in lang_map(thresholds, "fasttext_quality.thresholds").items()}
        if isinstance(bucket_edges, dict):
            self.bucket_edges: list[float] | dict[str, list[float]] | None = {
                k: [float(x) for x in v] for k, v in lang_map(bucket_edges, "fasttext_quality.bucket_edges").items()}
            edge_lists = list(self.bucket_edges.values())
        else:
            self.bucket_edges = [float(x) for x in bucket_edges] if bucket_edges is not None else None
            edge_lists = [self.bucket_edges] if self.bucket_edges is not None else []
        for edges in edge_lists:
            if not edges or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise QualityConfigError(f"fasttext_quality.bucket_edges must be non-empty and ascending; got {edges}")
            if bucket_names is not None and len(bucket_names) != len(edges) + 1:
                raise QualityConfigError(
                    f"fasttext_quality.bucket_names needs {len(edges) + 1} names for edges {edges}; got {bucket_names}")
        self.bucket_names = list(bucket_names) if bucket_names is not None else None
        self.segment = segment
        self.column = column
        self.bucket_column = bucket_column
        self.status_column = status_column
        self._label_checked: set[str] = set()

    # -- per-language resolution -------------------------------------------------------------
    def model_for(self, lang: str) -> str | None:
        """The language's classifier as configured (a path or a URL), or None."""
        return self.models.get(lang) or self.model

    def local_model_for(self, lang: str) -> str | None:
        """The language's classifier as a local file (a URL resolved through the model cache), or None."""
        if lang in self.models:
            return resolve_setting(self.models[lang], self.models_sha256.get(lang), f"fasttext_quality.models.{lang}")
        if self.model:
            return resolve_setting(self.model, self.model_sha256, "fasttext_quality.model")
        return None

    def model_refs(self) -> list[ModelRef]:
        refs = [ModelRef(f"fasttext_quality.models.{k}", p, self.models_sha256.get(k)) for k, p in self.models.items()]
        if self.model:
            refs.append(ModelRef("fasttext_quality.model", self.model, self.model_sha256))
        if (self.segment or "").strip() == "auto":  # the sidecars travel with their models
            refs += [ModelRef(f"{r.setting} sidecar", sidecar_path(r.spec), optional=True, if_absent=_NO_SIDECAR)
                     for r in list(refs) if is_url(r.spec)]
        return refs

    def preflight(self) -> None:
        """Every classifier is on this machine (a URL fetched into the cache now when online; offline, one
        missing from the cache fails here, before any work, naming ``curate models fetch``), its pin matches,
        a URL model's sidecar is to be had when ``segment: auto`` reads it, and ``fasttext`` is importable.
        Nothing is loaded."""
        if importlib.util.find_spec("fasttext") is None:
            raise QualityConfigError("fasttext_quality needs the `fasttext` module: `pip install fasttext-predict` "
                                     "(or `pip install 'curate-corpus'`, which depends on it)")
        for ref in self.model_refs():
            if ref.optional:
                read_remote_sidecar(ref.spec.removesuffix(SIDECAR_SUFFIX))
                continue
            path = resolve_setting(ref.spec, ref.sha256, ref.setting)
            if not os.path.isfile(path):
                raise QualityModelNotFoundError(f"{ref.setting}: fastText classifier {path!r} does not exist; "
                                                "fix the path or give a URL")

    def threshold_for(self, lang: str) -> float:
        return self.thresholds.get(lang, self.threshold)

    def edges_for(self, lang: str) -> list[float]:
        if isinstance(self.bucket_edges, dict):
            return self.bucket_edges.get(lang) or [self.threshold_for(lang)]
        return self.bucket_edges or [self.threshold_for(lang)]

    def _segment_spec(self, path: str, lang: str, ctx: BlockContext) -> str | None:
        seg = (self.segment or "none").strip()
        if seg == "none":
            return None
        if seg == "auto":
            meta = read_remote_sidecar(path) if is_url(path) else read_sidecar(path)
            return meta.get("segment") or None
        if seg == "table":
            return language_tokenizer_spec(ctx.languages, lang)
        return seg

    # -- scoring -----------------------------------------------------------------------------
    def score_texts(self, texts: list[str], path: str, segment: str | None = None) -> np.ndarray:
        """Positive-label probability of each text under the classifier at ``path`` (float64)."""
        f = load_classifier(path)
        seg = segmenter_for(segment)
        label = self.label
        out = np.empty(len(texts), dtype=np.float64)
        for i, text in enumerate(texts):
            preds = f.predict(prepare_line(text or "", seg) + "\n", -1, 0.0, "replace")
            p = None
            for prob, lab in preds:
                if lab == label:
                    p = prob
                    break
            if p is None:  # probability underflowed (left out of the answer), or no such label at all
                if path not in self._label_checked:
                    labels = model_labels(path)
                    if label not in labels:
                        raise PositiveLabelError(
                            f"fastText classifier {path!r} has no label {label!r}; its labels: "
                            f"{', '.join(labels[:20])}. Set fasttext_quality.label to the high-quality label"
                        )
                    self._label_checked.add(path)
                p = 0.0
            out[i] = min(float(p), 1.0)
        return out

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        n = table.num_rows
        texts = table.column(TEXT).to_pylist() if TEXT in table.column_names else [""] * n
        langs = table.column(LANG).to_pylist() if LANG in table.column_names else [UNKNOWN_LANG] * n
        scores: list[float | None] = [None] * n
        status = [STATUS_NO_MODEL] * n
        buckets: list[str | None] = [None] * n
        keep = np.ones(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        groups: dict[str, list[int]] = defaultdict(list)
        for i, lang in enumerate(langs):
            groups[lang or UNKNOWN_LANG].append(i)
        for lang, rows in groups.items():
            spec = self.model_for(lang)
            path = self.local_model_for(lang)
            if spec is None or path is None:
                continue
            values = self.score_texts([texts[i] for i in rows], path, self._segment_spec(spec, lang, ctx))
            thr = self.threshold_for(lang)
            edges = self.edges_for(lang)
            names = self.bucket_names or default_bucket_names(len(edges))
            bins = np.searchsorted(np.asarray(edges), values, side="right")
            for i, value, b in zip(rows, values.tolist(), bins.tolist(), strict=True):
                scores[i] = value
                status[i] = STATUS_OK
                if self.mode == "bucket":
                    buckets[i] = names[b]
                elif self.mode == "filter" and value < thr:
                    keep[i] = False
                    reasons[i] = "fasttext_quality"
        out = set_column(table, self.column, pa.array(scores, pa.float32()))
        out = set_column(out, self.status_column, pa.array(status, pa.string()))
        if self.mode == "bucket":
            out = set_column(out, self.bucket_column, pa.array(buckets, pa.string()))
        if self.mode != "filter":
            return BlockOutput(table=out)
        return BlockOutput(table=out, keep=keep, reasons=reasons)

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        """Per language: ``quality_status:<status>`` and (bucket mode) ``quality_bucket:<name>`` counts."""
        if self.status_column not in table.column_names:
            return {}
        langs = table.column(LANG).to_pylist() if LANG in table.column_names else [UNKNOWN_LANG] * table.num_rows
        cols = [(self.status_column, table.column(self.status_column).to_pylist())]
        if self.mode == "bucket" and self.bucket_column in table.column_names:
            cols.append((self.bucket_column, table.column(self.bucket_column).to_pylist()))
        stats: dict[str, dict[str, int]] = {}
        for name, values in cols:
            for lang, value in zip(langs, values, strict=True):
                if value is None:
                    continue
                key = f"{name}:{value}"
                entry = stats.setdefault(lang or UNKNOWN_LANG, {})
                entry[key] = entry.get(key, 0) + 1
        return stats

