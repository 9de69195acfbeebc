"""Gopher quality filter, with FineWeb2's per-language word lengths, alpha ratio and stopwords.

Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from Training Gopher",
Appendix A, MassiveWeb "Quality filtering" (arXiv:2112.11446): keep documents with 50 to 100,000 words,
mean word length 3 to 10 characters, a symbol-to-word ratio below 0.1 for "#" and for ellipses,
at most 90% of lines starting with a bullet and 30% ending with an ellipsis, at least 80% of
words containing a letter, and at least two English stop words. FineWeb2 (arXiv:2506.20920,
filtering step) replaces the word-length bounds, the alpha ratio and the stop words per language
(``configs/<lang>.yml``: ``min_avg_word_length``, ``max_avg_word_length``,
``max_non_alpha_words_ratio``, ``stopwords``) and counts words with the language's tokenizer.
Decision logic follows datatrove's ``GopherQualityFilter`` as run by FineWeb2:

=============================  ==========================================================  =========
rule (reason)                  removes when                                                default
=============================  ==========================================================  =========
``min_doc_words``              non-symbol words < value                                    50
``max_doc_words``              non-symbol words > value                                    100,000
``min_avg_word_length``        mean length of non-symbol words < value                     table
``max_avg_word_length``        mean length of non-symbol words > value                     table
``max_hash_ratio``             count of "#" / words > ``max_symbol_word_ratio``            0.1
``max_ellipsis_ratio``         count of "..." and "…" / words > ``max_symbol_word_ratio``  0.1
``max_bullet_lines_ratio``     lines starting (after spaces) with "•" or "-" / lines > v.  0.9
``max_ellipsis_lines_ratio``   lines ending (before spaces) with "..." or "…" / lines > v.  0.3
``max_non_alpha_words_ratio``  words containing a letter / words < value                   table
``min_stop_words``             distinct stopwords among the words < value                 2
=============================  ==========================================================  =========

"Words" are the tokenizer's tokens including punctuation tokens; a *non-symbol* word has at least
one character outside the punctuation set (``curate.text.word_stats.PUNCTUATION``). Stopwords match
tokens exactly (case-sensitive); a language without stopwords (no FineWeb2 config) skips that rule.
Lines are ``str.splitlines()``. Rules are checked in this order. 0 switches a rule off; None takes
the language table's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from curate.filters._base import LanguageAwareFilter, pick
from curate.languages.language_config import LanguageConfig
from curate.text.word_stats import WordArrays
from curate.tokenizers import get_word_tokenizer
from curate.tokenizers.base import WordTokenizer
from curate.tokenizers.cache import tokenized


@dataclass(frozen=True)
class _Params:
    tokenizer: WordTokenizer
    min_avg_word_length: float
    max_avg_word_length: float
    max_non_alpha_words_ratio: float
    stop_words: frozenset[str]


class GopherQualityFilter(LanguageAwareFilter):
    """Remove documents failing Gopher's quality heuristics (Gopher App. A quality filtering, FineWeb2)."""

    name: ClassVar[str] = "gopher_quality"

    def __init__(
        self,
        min_doc_words: int | None = 50,
        max_doc_words: int | None = 100_000,
        min_avg_word_length: float | None = None,
        max_avg_word_length: float | None = None,
        max_symbol_word_ratio: float | None = 0.1,
        max_bullet_lines_ratio: float | None = 0.9,
        max_ellipsis_lines_ratio: float | None = 0.3,
        max_non_alpha_words_ratio: float | None = None,
        min_stop_words: int | None = 2,
        stop_words: list[str] | None = None,
        tokenizer: str | None = None,
    ) -> None:
        self.min_doc_words = min_doc_words
        self.max_doc_words = max_doc_words
        self.min_avg_word_length = min_avg_word_length
        self.max_avg_word_length = max_avg_word_length
        self.max_symbol_word_ratio = max_symbol_word_ratio
        self.max_bullet_lines_ratio = max_bullet_lines_ratio
        self.max_ellipsis_lines_ratio = max_ellipsis_lines_ratio
        self.max_non_alpha_words_ratio = max_non_alpha_words_ratio
        self.min_stop_words = min_stop_words
        self.stop_words = None if stop_words is None else list(stop_words)
        self.tokenizer = tokenizer

    def params(self, cfg: LanguageConfig) -> _Params:
        return _Params(
            tokenizer=get_word_tokenizer(pick(self.tokenizer, cfg.tokenizer)),
            min_avg_word_length=pick(self.min_avg_word_length, cfg.min_avg_word_length),
            max_avg_word_length=pick(self.max_avg_word_length, cfg.max_avg_word_length),
            max_non_alpha_words_ratio=pick(self.max_non_alpha_words_ratio, cfg.max_non_alpha_words_ratio),
            stop_words=frozenset(pick(self.stop_words, cfg.stopwords) or ()),
        )

    def judge(self, text: str, p: _Params, row: int, batch: Any = None) -> str | None:
        doc = tokenized(p.tokenizer, text)
        words = doc.words
        arr = WordArrays.of(doc)
        n_words = arr.n
        non_symbol = arr.non_symbol_words() if n_words else np.zeros(0, dtype=bool)
        n_non_symbol = int(non_symbol.sum())
        if self.min_doc_words and n_non_symbol < self.min_doc_words:
            return "min_doc_words"
        if self.max_doc_words and n_non_symbol > self.max_doc_words:
            return "max_doc_words"
        # mean over non-symbol words; NaN for none (then neither bound fires, as in the reference)
        avg = float(arr.lens[non_symbol].sum()) / n_non_symbol if n_non_symbol else float("nan")
        if p.min_avg_word_length and avg < p.min_avg_word_length:
            return "min_avg_word_length"
        if p.max_avg_word_length and avg > p.max_avg_word_length:
            return "max_avg_word_length"
        if n_words and self.max_symbol_word_ratio:
            if text.count("#") / n_words > self.max_symbol_word_ratio:
                return "max_hash_ratio"
            if (text.count("...") + text.count("…")) / n_words > self.max_symbol_word_ratio:
                return "max_ellipsis_ratio"
        if self.max_bullet_lines_ratio or self.max_ellipsis_lines_ratio:
            lines = text.splitlines()
            if lines:
                n_lines = len(lines)
                if self.max_bullet_lines_ratio:
                    bullets = sum(1 for s in lines if s.lstrip().startswith(("•", "-")))
                    if bullets / n_lines > self.max_bullet_lines_ratio:
                        return "max_bullet_lines_ratio"
                if self.max_ellipsis_lines_ratio:
                    ellipsis = sum(1 for s in lines if s.rstrip().endswith(("...", "…")))
                    if ellipsis / n_lines > self.max_ellipsis_lines_ratio:
                        return "max_ellipsis_lines_ratio"
        if n_words and p.max_non_alpha_words_ratio:
            if int(arr.alpha_words().sum()) / n_words < p.max_non_alpha_words_ratio:
                return "max_non_alpha_words_ratio"
        # no stopword list (languages without a FineWeb2 config): the rule cannot apply
        if self.min_stop_words and p.stop_words and len(p.stop_words.intersection(words)) < self.min_stop_words:
            return "min_stop_words"
        return None
