"""HTML -> main text engines. Each is a plain function ``str -> str`` so the block stays generic."""

from __future__ import annotations

import logging
from collections.abc import Callable

from curate.extract.edge_trim import EdgeTrim

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
    """Resiliparse main-content extraction: much faster than trafilatura (benchmarks/RESULTS.md, extraction_quality)."""
    # optional fast extractor: imported only when selected
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    # UTF-8 bytes straight from the Arrow column skip a str decode and re-encode per page
    tree = HTMLTree.parse_from_bytes(html, "utf-8") if isinstance(html, bytes) else HTMLTree.parse(html)
    return extract_plain_text(
        tree, preserve_formatting=True, main_content=True, list_bullets=True, alt_texts=False,
        links=False, form_fields=False, noscript=False, comments=False,
    )


_EDGE_TRIM = EdgeTrim()


def precise_text(html: str | bytes) -> str:
    """Resiliparse's main content, then jusText-style trimming of the short lines around and between it
    (:class:`~curate.extract.edge_trim.EdgeTrim`): trafilatura's token precision on the extraction gold at
    a fraction of its cost (benchmarks/RESULTS.md, "extraction_quality")."""
    return _EDGE_TRIM(resiliparse_text(html))


ENGINES: dict[str, Callable[[str], str]] = {
    "trafilatura": trafilatura_text, "resiliparse": resiliparse_text, "precise": precise_text,
}
TAKES_BYTES = frozenset({"resiliparse", "precise"})
