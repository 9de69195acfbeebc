"""Remove lines made only of symbols (table borders and separators left by extraction).

FineWeb2 (Penedo et al. 2025, arXiv:2506.20920, "finishing touches") removes lines
that consist only of "|" characters, artefacts of tables in trafilatura's output, replacing each
run of such lines with one line break (huggingface/fineweb-2 pipeline:
``SymbolLinesFormatter(symbols_to_remove=["|"], replace_char="\\n")``); those are the defaults.
``symbols: all`` removes lines made of any punctuation/symbol character
(``curate.text.word_stats.PUNCTUATION``), with ``replacement: ""`` they vanish without a trace.

A line is a symbol line when it is not blank and every character is a listed symbol or a space.
Blank lines are kept; consecutive symbol lines are replaced once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from curate.formatters._base import TextFormatter
from curate.text.word_stats import PUNCTUATION


class SymbolLinesFormatter(TextFormatter):
    """Drop lines consisting only of symbols (FineWeb2 default: "|" table borders)."""

    name: ClassVar[str] = "symbol_lines"

    def __init__(self, symbols: str | Sequence[str] = "|", replacement: str = "\n") -> None:
        self.symbols = symbols if isinstance(symbols, str) else list(symbols)
        self.replacement = replacement
        chars = PUNCTUATION if symbols == "all" else frozenset("".join(self.symbols))
        self._allowed = frozenset(chars) | {" "}

    def format(self, text: str) -> str:
        allowed = self._allowed
        out: list[str] = []
        in_run = False
        for line in text.splitlines():
            if line.strip() and allowed.issuperset(line):
                if not in_run and self.replacement:
                    out.append(self.replacement)
                in_run = True
            else:
                out.append(line)
                in_run = False
        return "\n".join(out)
