"""Boilerplate trimming of extracted text by line length and position, after jusText's context rule.

jusText (Pomikálek 2011, *Removing Boilerplate and Duplicate Content from Web Corpora*, ch. 3) classifies
short blocks by their neighbours: a short block between boilerplate is boilerplate. On main text that a DOM
main-content detector (resiliparse) has already cut down, what survives is mostly such short lines at the
edges — menus, bylines, dates, "Read more", share and comment widgets — and runs of short lines inside
(tag lists, link lists). This class keeps the span from the first to the last *long* line and drops interior
runs of very short lines.

The thresholds are ours, chosen on the extraction gold of ``shared/data/extraction`` so that the ``precise``
engine's token precision matches trafilatura's (``benchmarks/extraction_quality.py`` reports it, and also
the agreement on real Common Crawl pages, which were not used to choose them). Length is counted in
characters, a CJK character counting 3 (it carries about as much as a short Latin word).
"""

from __future__ import annotations

import re

# Han, kana, hangul: one character is roughly one word
_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


class EdgeTrim:
    """Keep lines from the first to the last of at least ``long_line`` weighted characters; drop interior
    runs of ``short_run`` or more lines under ``short_line``. Text without a long line is returned as is
    (short pages are the quality filters' call, not extraction's)."""

    def __init__(self, long_line: int = 130, short_line: int = 30, short_run: int = 3) -> None:
        self.long_line = long_line
        self.short_line = short_line
        self.short_run = short_run

    @staticmethod
    def weight(line: str) -> int:
        return len(line) + 2 * len(_WIDE.findall(line))

    def __call__(self, text: str) -> str:
        lines = [s for s in (raw.strip() for raw in text.splitlines()) if s]
        weights = [self.weight(s) for s in lines]
        long_at = [i for i, w in enumerate(weights) if w >= self.long_line]
        if not long_at:
            return "\n".join(lines)
        kept: list[str] = []
        run: list[str] = []
        for line, w in zip(lines[long_at[0]:long_at[-1] + 1], weights[long_at[0]:long_at[-1] + 1], strict=True):
            if w < self.short_line:
                run.append(line)
                continue
            if len(run) < self.short_run:
                kept += run
            run = []
            kept.append(line)
        return "\n".join(kept)  # the span ends on a long line, so no run is left over
