"""HTML -> main text engines. Each is a plain function ``str -> str`` (or ``bytes -> str``, :data:`TAKES_BYTES`)
so the block stays generic."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from curate.extract.balanced_engine import BalancedEngine

# trafilatura logs every unparsable page at ERROR; the extract block counts them instead
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def trafilatura_text(html: str) -> str:
    """Trafilatura with the FineWeb settings (FineWeb paper, section 3.2 "Text extraction";
    datatrove's ``Trafilatura`` block): favor_precision, no comments, deduplicate."""
    # heavy (lxml, models of boilerplate): loaded in the extraction worker only
    import trafilatura

    return trafilatura.extract(
        html, favor_precision=True, include_comments=False, deduplicate=True, include_tables=True
    ) or ""


def resiliparse_text(html: str | bytes) -> str:
    """Resiliparse main-content extraction: the fastest, recall first (benchmarks/RESULTS.md, extraction_quality)."""
    # optional fast extractor: imported only when selected
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    # UTF-8 bytes straight from the Arrow column skip a str decode and re-encode per page
    tree = HTMLTree.parse_from_bytes(html, "utf-8") if isinstance(html, bytes) else HTMLTree.parse(html)
    return extract_plain_text(
        tree, preserve_formatting=True, main_content=True, list_bullets=True, alt_texts=False,
        links=False, form_fields=False, noscript=False, comments=False,
    )


balanced_text = BalancedEngine()
"""Resiliparse's main content, block by block kept or dropped by a learned model (:mod:`balanced_engine`)."""

ENGINES: dict[str, Callable[[str], str]] = {
    "trafilatura": trafilatura_text, "resiliparse": resiliparse_text, "balanced": balanced_text,
}
TAKES_BYTES = frozenset({"resiliparse", "balanced"})
THRESHOLD_ENGINES = frozenset({"balanced"})  # engines with a keep threshold (``extract: {keep_threshold: ...}``)


def engine_function(name: str, keep_threshold: float | None = None) -> Callable[[Any], str]:
    """The engine called ``name``; ``keep_threshold``: its keep probability per block (balanced only; None: the
    model's own)."""
    if keep_threshold is None:
        return ENGINES[name]
    if name not in THRESHOLD_ENGINES:
        raise ValueError(f"keep_threshold applies to the engines {', '.join(sorted(THRESHOLD_ENGINES))}, "
                         f"not to {name!r}")
    return BalancedEngine(threshold=keep_threshold)
REMOVED = {
    "precise": "the `precise` engine (resiliparse + edge trimming) was removed: its thresholds, chosen on the "
               "shared gold pages, did not hold on unseen pages (issue 24); use `balanced` (as fast, measured "
               "out of sample) or `trafilatura`",
}
