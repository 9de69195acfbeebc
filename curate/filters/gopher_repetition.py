"""Gopher repetition filter, with FineWeb2's per-language thresholds.

Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from Training Gopher",
Appendix A "Repetition removal", Table A1 (arXiv:2112.11446): remove documents whose lines, paragraphs or word
n-grams repeat too much. FineWeb2 (Penedo et al. 2025, arXiv:2506.20920; filtering step) keeps the
line rule and the n-gram rules with per-language thresholds (``configs/<lang>.yml``:
``dup_line_frac``, ``top_n_grams``, ``dup_n_grams``) and switches the paragraph and line-character
rules off (trafilatura output has few paragraphs; FineWeb quality's ``char_dup_ratio`` covers
duplicated line characters). Decision logic follows datatrove's ``GopherRepetitionFilter`` as run
by huggingface/fineweb-2 ``fineweb-2-pipeline.py``:

=====================  =========================================================  ==============
rule (reason)          removes when                                               default
=====================  =========================================================  ==============
``empty``              the text is empty
``dup_para_frac``      repeated paragraphs (``\\n\\n+``) / paragraphs > value       off (Gopher 0.3)
``dup_para_char_frac`` chars in repeated paragraphs / len(text) > value           off (Gopher 0.2)
``dup_line_frac``      repeated lines (``\\n+``) / lines > value                    language table
``dup_line_char_frac`` chars in repeated lines / len(text) > value                off (Gopher 0.2)
``top_{n}_gram``       len(top n-gram, words joined by a space) * its count         language table
                       / len(text) > value, n = 2, 3, 4
``dup_{n}_gram``       chars of the words of repeated n-grams (left-to-right,       language table
                       overlaps skipped) / len(text) > value, n = 5..10
=====================  =========================================================  ==============

datatrove names the last rules ``duplicated_{n}_n_grams``. Rules are checked in this order; the
first that fires is the reason. 0 switches a line or
paragraph rule off, an empty list the n-gram rules; None takes the language table's value.
Words come from the language's tokenizer (``curate.tokenizers``), shared with the other filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from curate.filters._base import LanguageAwareFilter, pick
from curate.languages.language_config import LanguageConfig
from curate.text.word_stats import WordArrays, duplicated_ngram_chars, top_ngram_chars
from curate.tokenizers import get_word_tokenizer
from curate.tokenizers.base import WordTokenizer
from curate.tokenizers.cache import tokenized

_PARAGRAPHS = re.compile(r"\n{2,}")
_LINES = re.compile(r"\n+")


def _repeats(items: list[str]) -> tuple[int, int]:
    """(number of repeated elements, their characters): every occurrence after the first."""
    distinct = set(items)
    return len(items) - len(distinct), sum(map(len, items)) - sum(map(len, distinct))


def _pairs(value: Any) -> tuple[tuple[int, float], ...]:
    return tuple((int(n), float(f)) for n, f in (value or ()))


@dataclass(frozen=True)
class _Params:
    tokenizer: WordTokenizer
    dup_line_frac: float
    top_n_grams: tuple[tuple[int, float], ...]
    dup_n_grams: tuple[tuple[int, float], ...]


class GopherRepetitionFilter(LanguageAwareFilter):
    """Remove documents with repeated lines, paragraphs or n-grams (Gopher Table A1, FineWeb2)."""

    name: ClassVar[str] = "gopher_repetition"

    def __init__(
        self,
        dup_line_frac: float | None = None,
        top_n_grams: list[tuple[int, float]] | None = None,
        dup_n_grams: list[tuple[int, float]] | None = None,
        dup_para_frac: float | None = 0,
        dup_para_char_frac: float | None = 0,
        dup_line_char_frac: float | None = 0,
        tokenizer: str | None = None,
    ) -> None:
        self.dup_line_frac = dup_line_frac
        self.top_n_grams = None if top_n_grams is None else _pairs(top_n_grams)
        self.dup_n_grams = None if dup_n_grams is None else _pairs(dup_n_grams)
        self.dup_para_frac = dup_para_frac
        self.dup_para_char_frac = dup_para_char_frac
        self.dup_line_char_frac = dup_line_char_frac
        self.tokenizer = tokenizer  # overrides the language table's tokenizer for every language

    def params(self, cfg: LanguageConfig) -> _Params:
        return _Params(
            tokenizer=get_word_tokenizer(pick(self.tokenizer, cfg.tokenizer)),
            dup_line_frac=pick(self.dup_line_frac, cfg.dup_line_frac),
            top_n_grams=_pairs(pick(self.top_n_grams, cfg.top_n_grams)),
            dup_n_grams=_pairs(pick(self.dup_n_grams, cfg.dup_n_grams)),
        )

    def judge(self, text: str, p: _Params, row: int, batch: Any = None) -> str | None:
        if not text:
            return "empty"
        size = len(text)
        if self.dup_para_frac or self.dup_para_char_frac:
            paragraphs = _PARAGRAPHS.split(text.strip())
            n_rep, rep_chars = _repeats(paragraphs)
            if self.dup_para_frac and n_rep / len(paragraphs) > self.dup_para_frac:
                return "dup_para_frac"
            if self.dup_para_char_frac and rep_chars / size > self.dup_para_char_frac:
                return "dup_para_char_frac"
        if p.dup_line_frac or self.dup_line_char_frac:
            lines = _LINES.split(text)
            n_rep, rep_chars = _repeats(lines)
            if p.dup_line_frac and n_rep / len(lines) > p.dup_line_frac:
                return "dup_line_frac"
            if self.dup_line_char_frac and rep_chars / size > self.dup_line_char_frac:
                return "dup_line_char_frac"
        if not p.top_n_grams and not p.dup_n_grams:
            return None
        arr = WordArrays.of(tokenized(p.tokenizer, text))
        top_family = tuple(n for n, _ in p.top_n_grams)
        for n, frac in p.top_n_grams:
            if arr.n - n + 1 <= 0:
                continue
            if top_ngram_chars(arr, n, top_family) / size > frac:
                return f"top_{n}_gram"
        dup_family = tuple(n for n, _ in p.dup_n_grams)
        for n, frac in p.dup_n_grams:
            if duplicated_ngram_chars(arr, n, dup_family) / size > frac:
                return f"dup_{n}_gram"
        return None
