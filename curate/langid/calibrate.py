"""``curate calibrate``: derive FineWeb2-style per-language filter thresholds from reference text.

FineWeb2 (Penedo et al. 2025, "FineWeb2: One Pipeline to Scale Them All", arXiv:2506.20920, filtering
section) adapts FineWeb's English thresholds to each language from the distribution of each filter
metric on reference text of that language (Wikipedia, GlotLID-Corpus) *relative to English*, and
infers stopwords from the language's most frequent words (huggingface/fineweb-2 README: "Stopwords are
automatically inferred from wikipedia"). The code that produced ``configs/*.yml`` was not published;
this module re-implements the idea with curate's own statistics (:mod:`curate.langid.calibrate_stats`,
i.e. exactly what the filters compute). The method, per threshold (see the README, "Calibrating a new language"):

1. English anchor. For every rule, ``removed_en`` = the share of *English* reference documents the
   English (FineWeb) threshold removes, and ``median_en`` = the median of the metric on English
   reference text. Built in (:data:`DEFAULT_ENGLISH_ANCHOR`, measured on the lingua English sentences,
   see there), or measured from ``english=`` documents of the same kind as the language's reference.
2. Quantile matching. If ``1% <= removed_en <= 50%`` (the English threshold cuts into clean English
   text), the language's threshold is the quantile of its own distribution that removes the same share:
   ``Q(1 - removed_en)`` for "remove when above" rules, ``Q(removed_en)`` for "remove when below" ones.
3. Scale transfer. Otherwise the English threshold lies outside clean text (the rule targets junk that
   reference text does not contain: repetition, lists, symbol soup), so no quantile of clean text can
   express it; the English threshold is scaled by how the language's typical value compares with
   English's: ``t_en * median_lang / median_en`` (ratio clamped to [0.5, 2]); when either median is 0
   (repetition metrics on clean text) there is no signal and ``t_en`` stays.
4. Consistency: ``top_n_grams`` and ``dup_n_grams`` are made non-increasing in n (running minimum), as in
   every FineWeb2 config; ``line_punct_thr`` is -1 (off, as FineWeb2 writes it) when fewer than half
   of the language's reference lines end in terminal punctuation (median ratio < 0.5); word-length
   bounds are rounded outwards to integers, fractions to 3 decimals (FineWeb2's precision).

``language_score``: FineWeb2's LID rule ``max(0.3, min(0.9, median - std))`` of the model's confidence
on documents of the language, here lid.176 (curate's default ``langid`` model) on the reference
documents it labels as the language; languages lid.176 has no label for keep the table's value.

``stopwords``: the words (exact tokens, as the filter matches them) that make up at least 0.5% of the
reference tokens and occur in at least 10% of documents, by frequency, at least 8 and at most 63
(FineWeb2's list lengths); tokens without a letter or with a digit are never stopwords.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np
from ruamel.yaml import YAML

from curate.errors import CurateError
from curate.langid.calibrate_stats import DUP_NS, METRICS, TOP_NS, document_metrics
from curate.langid.fasttext_model import load_fasttext, packaged_lid176_path
from curate.languages.labels import lid176_labels, normalize_label
from curate.languages.language_config import LanguageConfig
from curate.languages.table import LanguageTable, load_language_table
from curate.text.sources import TextSourceError, iter_documents
from curate.tokenizers import get_word_tokenizer

METHODS = ("quantile",)
MIN_DOCUMENTS = 20
QUANTILE_RANGE = (0.01, 0.5)  # removed_en range in which the pure quantile method applies
SCALE_CLAMP = (0.5, 2.0)
STOPWORD_MIN_TOKEN_SHARE = 0.005
STOPWORD_MIN_DOC_SHARE = 0.10
STOPWORDS_MIN, STOPWORDS_MAX = 8, 63
LID_MIN_DOCUMENTS = 20


class CalibrationError(CurateError, ValueError):
    """Unusable reference input (too few documents, unknown method, ...)."""


@dataclass(frozen=True)
class Rule:
    """One threshold: ``field`` (+ ``n`` for n-gram lists) set from ``metric``; ``side`` = removes when
    the value is ``above`` or ``below`` the threshold."""

    name: str
    field: str
    metric: str
    side: str
    n: int | None = None

    def english_threshold(self, cfg: LanguageConfig) -> float:
        value = getattr(cfg, self.field)
        if self.n is not None:
            return float(dict(value)[self.n])
        return float(value)


RULES: tuple[Rule, ...] = (
    Rule("dup_line_frac", "dup_line_frac", "dup_line_frac", "above"),
    *(Rule(f"top_{n}_gram", "top_n_grams", f"top_{n}_gram", "above", n) for n in TOP_NS),
    *(Rule(f"dup_{n}_gram", "dup_n_grams", f"dup_{n}_gram", "above", n) for n in DUP_NS),
    Rule("line_punct_thr", "line_punct_thr", "line_punct_ratio", "below"),
    Rule("new_line_ratio", "new_line_ratio", "new_line_ratio", "above"),
    Rule("min_avg_word_length", "min_avg_word_length", "avg_word_length", "below"),
    Rule("max_avg_word_length", "max_avg_word_length", "avg_word_length", "above"),
    Rule("max_non_alpha_words_ratio", "max_non_alpha_words_ratio", "alpha_words_ratio", "below"),
)

# English anchor: rule -> (share of English reference documents the English threshold removes, median of
# the metric on English reference text). Measured with ``english_anchor`` on the lingua-rs English test
# sentences (Leipzig corpora, 1,000 sentences) grouped into 400 documents by ``documents_from_sentences``
# (seed 0), tokenizer spacy:en, thresholds of the table's eng_Latn row (FineWeb's English recipe).
# Pass your own English reference (``--english-reference``) of the same kind as the language's.
DEFAULT_ENGLISH_ANCHOR: dict[str, tuple[float, float]] = {
    "dup_line_frac": (0.0, 0.0),
    "top_2_gram": (0.0, 0.01037),
    "top_3_gram": (0.0, 0.0087),
    "top_4_gram": (0.0, 0.00988),
    **{f"dup_{n}_gram": (0.0, 0.0) for n in DUP_NS},
    "line_punct_thr": (0.0, 1.0),
    "new_line_ratio": (0.0, 0.01766),
    "min_avg_word_length": (0.0, 4.93498),
    "max_avg_word_length": (0.0, 4.93498),
    "max_non_alpha_words_ratio": (0.005, 0.85891),
}


@dataclass
class Measurement:
    """Per-metric value arrays plus word counts of a reference sample."""

    values: dict[str, np.ndarray]
    documents: int
    tokens: Counter[str] = field(default_factory=Counter)
    doc_freq: Counter[str] = field(default_factory=Counter)
    total_tokens: int = 0

    def finite(self, metric: str) -> np.ndarray:
        v = self.values[metric]
        return v[np.isfinite(v)]


@dataclass
class CalibrationResult:
    lang: str
    values: dict[str, Any]  # field -> value, in the FineWeb2 config's shape
    how: dict[str, str]  # rule / field -> statistic used
    documents: int
    total_tokens: int
    summary: dict[str, tuple[float, float, float]]  # metric -> (p5, median, p95)

    def overrides(self) -> dict[str, dict[str, Any]]:
        """``{lang: {field: value}}``: the table's ``overrides:`` entry."""
        return {self.lang: dict(self.values)}


# --- reference text ----------------------------------------------------------------------------

def _plain_blocks(path: str) -> Iterator[str]:
    """Plain text: documents are blocks separated by one or more blank lines (lines inside a block,
    i.e. paragraphs, are kept: the line-based metrics need them)."""
    with fsspec.open(path, "rt", encoding="utf-8", compression="infer") as fh:
        block: list[str] = []
        for line in fh:
            line = line.rstrip("\r\n")
            if line.strip():
                block.append(line)
            elif block:
                yield "\n".join(block)
                block = []
        if block:
            yield "\n".join(block)


def iter_reference_documents(paths: Iterable[str], lang: str | None = None, text_field: str = "text") -> Iterator[str]:
    """Documents of ``paths``: Parquet / JSONL (``text_field``; records whose ``lang`` is another language
    are skipped) via :func:`curate.text.sources.iter_documents`, anything else as plain text
    with blank-line-separated documents. ``.gz``/``.zst``/``.bz2``/``.xz`` are decompressed."""
    try:
        yield from iter_documents(paths, text_field, lang, plain=_plain_blocks)
    except TextSourceError as exc:
        raise CalibrationError(str(exc)) from exc


def documents_from_sentences(sentences: Sequence[str], seed: int = 0, min_sentences: int = 10,
                             max_sentences: int = 30, max_per_line: int = 4, documents: int | None = None) -> list[str]:
    """Build documents from a pool of sentences (e.g. Leipzig / lingua test sentences): each document takes
    ``min_sentences``..``max_sentences`` distinct sentences, written as paragraphs (lines) of 1..``max_per_line``
    sentences. Without ``documents``, every sentence is used once; with it, documents are drawn with
    fresh random subsets (a sentence may appear in several documents, never twice in one)."""
    rng = random.Random(seed)
    pool = [s.strip() for s in sentences if s.strip()]
    out: list[str] = []

    def build(chunk: list[str]) -> str:
        lines, i = [], 0
        while i < len(chunk):
            k = rng.randint(1, max_per_line)
            lines.append(" ".join(chunk[i:i + k]))
            i += k
        return "\n".join(lines)

    if documents is None:
        rng.shuffle(pool)
        i = 0
        while len(pool) - i >= min_sentences:
            k = rng.randint(min_sentences, max_sentences)
            out.append(build(pool[i:i + k]))
            i += k
        return out
    for _ in range(documents):
        k = min(len(pool), rng.randint(min_sentences, max_sentences))
        out.append(build(rng.sample(pool, k)))
    return out


# --- statistics --------------------------------------------------------------------------------

def measure(documents: Iterable[str], tokenizer: str) -> Measurement:
    """Every metric of every non-empty document, plus token and document frequencies of the words."""
    tok = get_word_tokenizer(tokenizer)
    cols: dict[str, list[float]] = {m: [] for m in METRICS}
    tokens: Counter[str] = Counter()
    doc_freq: Counter[str] = Counter()
    n = 0
    for text in documents:
        if not text or not text.strip():
            continue
        values, words = document_metrics(text, tok)
        for m in METRICS:
            cols[m].append(values[m])
        tokens.update(words)
        doc_freq.update(set(words))
        n += 1
    return Measurement({m: np.asarray(v, dtype=float) for m, v in cols.items()}, n, tokens, doc_freq,
                       sum(tokens.values()))


def _removed_share(values: np.ndarray, threshold: float, side: str) -> float:
    if not len(values) or threshold <= 0:  # <= 0 switches a rule off
        return 0.0
    return float(np.mean(values > threshold) if side == "above" else np.mean(values < threshold))


def english_anchor(english: Measurement, english_cfg: LanguageConfig | None = None) -> dict[str, tuple[float, float]]:
    """rule -> (share of English documents removed by the English threshold, English median of the metric)."""
    cfg = english_cfg or load_language_table().get("eng_Latn")
    out = {}
    for rule in RULES:
        v = english.finite(rule.metric)
        if not len(v):
            raise CalibrationError(f"English reference has no value of {rule.metric}")
        out[rule.name] = (round(_removed_share(v, rule.english_threshold(cfg), rule.side), 4),
                          round(float(np.median(v)), 5))
    return out


def _derive_rule(rule: Rule, values: np.ndarray, t_en: float, anchor: tuple[float, float]) -> tuple[float, str]:
    removed_en, median_en = anchor
    lo, hi = QUANTILE_RANGE
    if lo <= removed_en <= hi:
        q = 1 - removed_en if rule.side == "above" else removed_en
        return float(np.quantile(values, q)), f"quantile: Q({q:.3f}) (English threshold removes {removed_en:.1%})"
    median = float(np.median(values))
    if median <= 0 or median_en <= 0:
        return t_en, (f"English value {t_en:g} kept: median {median:.4g} (English {median_en:.4g}), "
                      f"no signal on clean text; English removes {removed_en:.1%}")
    ratio = min(max(median / median_en, SCALE_CLAMP[0]), SCALE_CLAMP[1])
    return t_en * ratio, (f"scale: {t_en:g} x median {median:.4g} / English median {median_en:.4g} "
                          f"= x{ratio:.3f} (English removes {removed_en:.1%})")


RULES_BY_NAME = {rule.name: rule for rule in RULES}


def _family_ratio(m: Measurement, prefix: str, ns: Sequence[int], anchor: Mapping[str, tuple[float, float]]) -> float | None:
    """Mean over n of median_lang / median_en for an n-gram family, clamped; None without signal."""
    ratios = []
    for n in ns:
        median_en = anchor[f"{prefix}_{n}_gram"][1]
        v = m.finite(f"{prefix}_{n}_gram")
        median = float(np.median(v)) if len(v) else 0.0
        if median > 0 and median_en > 0:
            ratios.append(median / median_en)
    if not ratios:
        return None
    return min(max(float(np.mean(ratios)), SCALE_CLAMP[0]), SCALE_CLAMP[1])


def derive_stopwords(m: Measurement) -> list[str]:
    """Most frequent word tokens that hold >= 0.5% of tokens and occur in >= 10% of documents (8..63)."""
    def eligible(word: str) -> bool:
        return any(c.isalpha() for c in word) and not any(c.isdigit() for c in word)

    ranked = [(w, c) for w, c in m.tokens.most_common() if eligible(w)]
    min_docs = STOPWORD_MIN_DOC_SHARE * m.documents
    total = max(m.total_tokens, 1)
    out = [w for w, c in ranked if c / total >= STOPWORD_MIN_TOKEN_SHARE and m.doc_freq[w] >= min_docs]
    if len(out) < STOPWORDS_MIN:  # top up with the next most frequent frequent-enough words
        out += [w for w, _ in ranked if w not in out and m.doc_freq[w] >= min_docs][: STOPWORDS_MIN - len(out)]
    return out[:STOPWORDS_MAX]


def lid176_language_score(documents: Sequence[str], lang: str, model_path: str | None = None) -> tuple[float, str] | None:
    """FineWeb2's LID threshold ``max(0.3, min(0.9, median - std))`` of lid.176's top score on the reference
    documents it labels ``lang``; None when lid.176 has no label for ``lang`` or labels too few documents."""
    if not any(normalize_label(label) == lang for label in lid176_labels()):
        return None
    model = load_fasttext(model_path or packaged_lid176_path())
    scores = []
    for text in documents:
        line = " ".join(text[:10_000].split())
        preds = model.predict(line + "\n", 1, 0.0, "replace") if line else []
        if preds and normalize_label(preds[0][1]) == lang:
            scores.append(min(float(preds[0][0]), 1.0))
    if len(scores) < LID_MIN_DOCUMENTS:
        return None
    arr = np.asarray(scores)
    med, std = float(np.median(arr)), float(np.std(arr))
    value = max(0.3, min(0.9, med - std))
    return value, (f"lid.176: max(0.3, min(0.9, median {med:.3f} - std {std:.3f})) over the {len(scores)} of "
                   f"{len(documents)} documents it labels {lang}")


def calibrate(
    lang: str,
    documents: Iterable[str],
    *,
    tokenizer: str | None = None,
    english: Iterable[str] | Measurement | None = None,
    method: str = "quantile",
    table: LanguageTable | None = None,
    language_score: bool = True,
) -> CalibrationResult:
    """Derive the threshold fields of ``lang`` (any label form) from its reference ``documents``."""
    if method not in METHODS:
        raise CalibrationError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    table = table or load_language_table()
    key = normalize_label(lang)
    cfg = table.get(key)
    en_cfg = table.get("eng_Latn")
    docs = [d for d in documents if d and d.strip()]
    if len(docs) < MIN_DOCUMENTS:
        raise CalibrationError(f"only {len(docs)} reference documents for {key}; quantiles need at least "
                               f"{MIN_DOCUMENTS} (hundreds are better)")
    m = measure(docs, tokenizer or cfg.tokenizer)
    if english is None:
        anchor = DEFAULT_ENGLISH_ANCHOR
    else:
        en_m = english if isinstance(english, Measurement) else measure(english, en_cfg.tokenizer)
        if en_m.documents < MIN_DOCUMENTS:
            raise CalibrationError(f"only {en_m.documents} English reference documents; need {MIN_DOCUMENTS}")
        anchor = english_anchor(en_m, en_cfg)

    derived: dict[str, float] = {}
    how: dict[str, str] = {}
    for rule in RULES:
        v = m.finite(rule.metric)
        if not len(v):
            raise CalibrationError(f"no reference document has a value of {rule.metric} (documents too short?)")
        derived[rule.name], how[rule.name] = _derive_rule(rule, v, rule.english_threshold(en_cfg), anchor[rule.name])

    values: dict[str, Any] = {}
    if language_score:
        lid = lid176_language_score(docs, key)
        if lid is not None:
            values["language_score"] = round(lid[0], 3)
            how["language_score"] = lid[1]
    if "language_score" not in values:
        values["language_score"] = cfg.language_score
        how["language_score"] = f"table value kept ({cfg.source.get('language_score', 'default')}): no lid.176 label"
    values["dup_line_frac"] = round(derived["dup_line_frac"], 3)
    for fld, ns, prefix in (("top_n_grams", TOP_NS, "top"), ("dup_n_grams", DUP_NS, "dup")):
        family = _family_ratio(m, prefix, ns, anchor)
        pairs, running = [], math.inf
        for n in ns:
            name = f"{prefix}_{n}_gram"
            if family is not None and how[name].startswith("scale"):
                # one ratio for the family (mean of the per-n median ratios): keeps English's shape in n
                t_en = RULES_BY_NAME[name].english_threshold(en_cfg)
                derived[name] = t_en * family
                how[name] = f"scale: {t_en:g} x family ratio {family:.3f} (mean of per-n median ratios)"
            running = min(running, round(derived[name], 3))  # non-increasing in n
            pairs.append([n, running])
        values[fld] = pairs
    punct_median = float(np.median(m.finite("line_punct_ratio")))
    if punct_median < 0.5:
        values["line_punct_thr"] = -1
        how["line_punct_thr"] = f"off (-1): median share of lines ending in punctuation {punct_median:.2f} < 0.5"
    else:
        values["line_punct_thr"] = round(derived["line_punct_thr"], 3)
    values["new_line_ratio"] = round(derived["new_line_ratio"], 3)
    values["min_avg_word_length"] = math.floor(derived["min_avg_word_length"])
    values["max_avg_word_length"] = math.ceil(derived["max_avg_word_length"])
    values["max_non_alpha_words_ratio"] = round(derived["max_non_alpha_words_ratio"], 3)
    values["stopwords"] = derive_stopwords(m)
    how["stopwords"] = (f"{len(values['stopwords'])} words: >= {STOPWORD_MIN_TOKEN_SHARE:.1%} of {m.total_tokens} "
                        f"tokens and in >= {STOPWORD_MIN_DOC_SHARE:.0%} of documents")
    summary = {}
    for metric in METRICS:
        v = m.finite(metric)
        summary[metric] = tuple(float(np.quantile(v, q)) for q in (0.05, 0.5, 0.95)) if len(v) else (math.nan,) * 3
    return CalibrationResult(key, values, how, m.documents, m.total_tokens, summary)  # type: ignore[arg-type]


# --- output ------------------------------------------------------------------------------------

def format_report(result: CalibrationResult, tokenizer: str) -> list[str]:
    """The report: sample size, per-metric distribution, and the statistic behind each value."""
    lines = [f"calibrated {result.lang} from {result.documents} reference documents, {result.total_tokens} "
             f"tokens (tokenizer {tokenizer}); method: quantile matching against English, else scale transfer",
             "metric distribution (p5 / median / p95):"]
    for metric, (p5, p50, p95) in result.summary.items():
        lines.append(f"  {metric:20s} {p5:.4g} / {p50:.4g} / {p95:.4g}")
    lines.append("how each value was set:")
    for name, text in result.how.items():
        lines.append(f"  {name}: {text}")
    return lines


def format_yaml(result: CalibrationResult, report: Sequence[str] = ()) -> str:
    """The ``{lang: {field: value}}`` YAML (FineWeb2 config keys), the report as leading comments."""
    yaml = YAML()
    yaml.default_flow_style = None
    buf = io.StringIO()
    yaml.dump(_plain(result.overrides()), buf)
    head = "".join(f"# {line}\n" for line in report)
    return head + buf.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _english_anchor_from_lingua() -> dict[str, tuple[float, float]]:  # pragma: no cover - maintenance helper
    """How :data:`DEFAULT_ENGLISH_ANCHOR` was measured (needs ../shared/data/langid/lingua_sentences.jsonl)."""
    path = os.path.join(os.environ.get("CURATE_SHARED_DATA", "../shared/data"), "langid", "lingua_sentences.jsonl")
    with open(path, encoding="utf-8") as fh:
        sentences = [r["text"] for r in map(json.loads, fh) if r["iso639_1"] == "en"]
    docs = documents_from_sentences(sentences, seed=0, documents=400)
    return english_anchor(measure(docs, load_language_table().get("eng_Latn").tokenizer))
