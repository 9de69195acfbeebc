"""Gold main text of the mozilla/readability test pages: their expected HTML is turned into visible text, with a
line break at each block element. Independent of curate's extractors; shared by tests/extraction_gold.py and
the extraction and filter benchmarks, so the gold is the same everywhere."""

from __future__ import annotations

import re

from lxml import html as lxml_html

BLOCK_TAG = re.compile(
    r"<(/?)(p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|section|article|blockquote|pre|figure|figcaption"
    r"|dd|dt|dl|hr|header|footer|aside|main|nav)\b",
    re.IGNORECASE,
)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, with a line break at every block element."""
    if not html.strip():
        return ""
    root = lxml_html.fromstring(BLOCK_TAG.sub(lambda m: "\n<" + m.group(1) + m.group(2), html))
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return root.text_content()
