"""FineWeb quality filter, with FineWeb2's per-language thresholds.

Penedo et al. 2024, "The FineWeb Datasets" (arXiv:2406.17557), section "Developing additional
heuristic filters": three line-based rules that removed low-quality Common Crawl
text — few lines ending in punctuation, many short lines, many duplicated line characters —
plus a newline-per-word ("list") rule. FineWeb2 (arXiv:2506.20920; filtering step) fits
``line_punct_thr`` and ``new_line_ratio`` per language (``-1`` disables the punctuation rule for
languages that do not end lines with it), raises ``char_duplicates_ratio`` from 0.01 to 0.1 and
switches the short-line rule off (``short_line_thr=999`` in huggingface/fineweb-2's pipeline).
Decision logic follows datatrove's ``FineWebQualityFilter``; lines are the non-blank lines of
``text.split("\\n")``:

====================  =====================================================  ====================
rule (reason)         removes when                                           default
====================  =====================================================  ====================
``empty``             no non-blank line
``line_punct_ratio``  lines ending in terminal punctuation / lines < value   language table
``short_line_ratio``  lines of <= ``short_line_length`` chars / lines > value  off (FineWeb 0.67)
``char_dup_ratio``    chars of repeated lines / chars without newlines > v.  0.1 (FineWeb: 0.01)
``new_line_ratio``    newlines / words > value                               language table
====================  =====================================================  ====================

datatrove names the last rule ``list_ratio``. For the table-backed settings None takes the
language's value and a value <= 0 switches the rule off (FineWeb2 writes ``line_punct_thr: -1``);
``short_line_thr: null`` and ``char_duplicates_ratio: null`` switch those rules off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from curate.filters._base import LanguageAwareFilter, pick
from curate.languages.language_config import LanguageConfig
from curate.text.word_stats import TERMINAL_PUNCTUATION
from curate.tokenizers import get_word_tokenizer
from curate.tokenizers.base import WordTokenizer
from curate.tokenizers.cache import tokenized


@dataclass(frozen=True)
class _Params:
    tokenizer: WordTokenizer
    line_punct_thr: float
    new_line_ratio: float


class FineWebQualityFilter(LanguageAwareFilter):
    """Remove documents with unpunctuated, short, duplicated or list-like lines (FineWeb heuristics)."""

    name: ClassVar[str] = "fineweb_quality"

    def __init__(
        self,
        line_punct_thr: float | None = None,
        line_punct_exclude_zero: bool = False,
        stop_chars: list[str] | str | None = None,
        short_line_thr: float | None = None,
        short_line_length: int = 30,
        char_duplicates_ratio: float | None = 0.1,
        new_line_ratio: float | None = None,
        tokenizer: str | None = None,
    ) -> None:
        self.line_punct_thr = line_punct_thr
        self.line_punct_exclude_zero = line_punct_exclude_zero
        self.stop_chars = None if stop_chars is None else tuple(stop_chars)
        self.short_line_thr = short_line_thr
        self.short_line_length = short_line_length
        self.char_duplicates_ratio = char_duplicates_ratio
        self.new_line_ratio = new_line_ratio
        self.tokenizer = tokenizer
        chars = TERMINAL_PUNCTUATION if self.stop_chars is None else frozenset(self.stop_chars)
        # single characters: a set lookup on the last character replaces str.endswith(tuple)
        self._single = all(len(c) == 1 for c in chars)
        self._stop_set = frozenset(chars)
        self._stop_tuple = tuple(chars)

    def params(self, cfg: LanguageConfig) -> _Params:
        return _Params(
            tokenizer=get_word_tokenizer(pick(self.tokenizer, cfg.tokenizer)),
            line_punct_thr=pick(self.line_punct_thr, cfg.line_punct_thr),
            new_line_ratio=pick(self.new_line_ratio, cfg.new_line_ratio),
        )

    def judge(self, text: str, p: _Params, row: int, batch: Any = None) -> str | None:
        lines = [line for line in text.split("\n") if line.strip()]
        if not lines:
            return "empty"
        n_lines = len(lines)
        if p.line_punct_thr is not None and p.line_punct_thr > 0:
            if self._single:
                stop = self._stop_set
                ended = sum(1 for line in lines if line[-1] in stop)
            else:
                ended = sum(1 for line in lines if line.endswith(self._stop_tuple))
            ratio = ended / n_lines
            if ratio < p.line_punct_thr and not (ratio == 0 and self.line_punct_exclude_zero):
                return "line_punct_ratio"
        if self.short_line_thr is not None and self.short_line_thr > 0:
            limit = self.short_line_length
            if sum(1 for line in lines if len(line) <= limit) / n_lines > self.short_line_thr:
                return "short_line_ratio"
        if self.char_duplicates_ratio is not None:
            distinct = set(lines)
            dup_chars = sum(map(len, lines)) - sum(map(len, distinct))
            if dup_chars / (len(text) - text.count("\n")) > self.char_duplicates_ratio:
                return "char_dup_ratio"
        if p.new_line_ratio is not None and p.new_line_ratio > 0:
            n_words = len(tokenized(p.tokenizer, text).words)
            newlines = text.count("\n")
            if newlines and (n_words == 0 or newlines / n_words > p.new_line_ratio):
                return "new_line_ratio"
        return None
