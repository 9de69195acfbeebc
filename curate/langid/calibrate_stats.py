"""Per-document values of every metric FineWeb2 thresholds, computed exactly as curate's filters do.

One function, :func:`document_metrics`, mirrors the decision statistics of ``gopher_repetition``,
``fineweb_quality`` and ``gopher_quality`` (same line splitting, same tokenizer, same
:mod:`curate.text.word_stats` n-gram counting), so a threshold derived from these values means the
same thing when the filter applies it. Metric names:

=======================  ==========================================================  =================
metric                   value                                                       filter removes when
=======================  ==========================================================  =================
``dup_line_frac``        repeated lines (``\\n+``) / lines                            above
``top_{n}_gram``         chars of the top n-gram x its count / len(text), n=2,3,4     above
``dup_{n}_gram``         chars in repeated n-grams / len(text), n=5..10               above
``line_punct_ratio``     non-blank lines ending in terminal punctuation / lines       below
``new_line_ratio``       newlines / words                                            above
``avg_word_length``      mean length of non-symbol words                             below min, above max
``alpha_words_ratio``    words with a letter / words                                 below
=======================  ==========================================================  =================

A metric that the filter would skip for the document (too few words for an n-gram, no non-symbol
word) is NaN and left out of that metric's distribution.
"""

from __future__ import annotations

import math
import re

from curate.text.word_stats import TERMINAL_PUNCTUATION, WordArrays, duplicated_ngram_chars, top_ngram_chars
from curate.tokenizers.base import WordTokenizer

TOP_NS = (2, 3, 4)
DUP_NS = (5, 6, 7, 8, 9, 10)
METRICS = (
    "dup_line_frac",
    *(f"top_{n}_gram" for n in TOP_NS),
    *(f"dup_{n}_gram" for n in DUP_NS),
    "line_punct_ratio",
    "new_line_ratio",
    "avg_word_length",
    "alpha_words_ratio",
)
_LINES = re.compile(r"\n+")  # gopher_repetition's line split


def document_metrics(text: str, tokenizer: WordTokenizer) -> tuple[dict[str, float], list[str]]:
    """(metric -> value, the document's words) for one non-empty document."""
    nan = math.nan
    out: dict[str, float] = {}
    size = len(text)
    lines = _LINES.split(text)
    out["dup_line_frac"] = (len(lines) - len(set(lines))) / len(lines)
    words = tokenizer.words(text)
    arr = WordArrays(words)
    for n in TOP_NS:
        ok = arr.n - n + 1 > 0
        out[f"top_{n}_gram"] = top_ngram_chars(arr, n, TOP_NS) / size if ok else nan
    for n in DUP_NS:
        ok = arr.n - n + 1 > 0
        out[f"dup_{n}_gram"] = duplicated_ngram_chars(arr, n, DUP_NS) / size if ok else nan
    nonblank = [line for line in text.split("\n") if line.strip()]  # fineweb_quality's lines
    out["line_punct_ratio"] = (
        sum(1 for line in nonblank if line[-1] in TERMINAL_PUNCTUATION) / len(nonblank) if nonblank else nan
    )
    out["new_line_ratio"] = text.count("\n") / arr.n if arr.n else nan
    if arr.n:
        non_symbol = arr.non_symbol_words()
        k = int(non_symbol.sum())
        out["avg_word_length"] = float(arr.lens[non_symbol].sum()) / k if k else nan
        out["alpha_words_ratio"] = float(arr.alpha_words().sum()) / arr.n
    else:
        out["avg_word_length"] = out["alpha_words_ratio"] = nan
    return out, words
