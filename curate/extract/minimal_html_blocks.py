"""Text blocks of resiliparse's minimal-HTML rendering of a page's main content.

Resiliparse (Bevendorff et al., *Elastic ChatNoir*, 2018; ``extract_plain_text(preserve_formatting=
"minimal_html")``) renders the main content with a reduced markup: headings, paragraphs, lists, ``<pre>``,
line breaks and links, everything else as plain lines. This class splits that rendering into blocks — one per
paragraph, heading, list item, preformatted section or plain line — and keeps, per block, what the block
classifier needs: its tag, its text, how much of it is link text and how many links it holds. The parse is
one regular-expression pass in Python over markup that resiliparse has already reduced (a few KB per page).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"<(/?)(p|h[1-6]|ul|ol|li|pre|a|br|blockquote)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")

# block kinds (the classifier one-hot encodes them)
TAGS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote")
TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
_PLAIN = TAG_INDEX["div"]  # a plain line: text outside any of the reduced markup's blocks


@dataclass
class Blocks:
    """Parallel lists, one entry per block, in reading order."""

    texts: list[str] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)
    link_chars: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    in_list: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


class MinimalHtmlBlocks:
    """Split a minimal-HTML rendering into :class:`Blocks` (one pass over ``re.split``, state in locals: this
    runs once per page)."""

    def __call__(self, markup: str) -> Blocks:
        out = Blocks()
        texts, tags, link_chars, links, in_list = out.texts, out.tags, out.link_chars, out.links, out.in_list
        stack: list[str] = []  # open block tags
        parts: list[str] = []
        in_a = n_links = n_link_chars = list_depth = 0

        def flush() -> None:
            nonlocal n_links, n_link_chars
            raw = html.unescape("".join(parts))
            parts.clear()
            tag = stack[-1] if stack else None
            text = raw.strip("\n") if tag == "pre" else _SPACES.sub(" ", raw.replace("\n", " ")).strip()
            if text.strip():
                texts.append(text)
                tags.append(TAG_INDEX.get(tag, _PLAIN) if tag else _PLAIN)
                link_chars.append(min(n_link_chars, len(text)))
                links.append(n_links)
                in_list.append(list_depth > 0 or tag == "li")
            n_links = n_link_chars = 0

        pieces = _TOKEN.split(markup)  # text, closing slash, tag name, text, ...
        for k in range(0, len(pieces), 3):
            chunk = pieces[k]
            if chunk:
                if not stack and "\n" in chunk:  # plain text: every line is a block
                    *lines, chunk = chunk.split("\n")
                    for line in lines:
                        parts.append(line)
                        if in_a:
                            n_link_chars += len(line.strip())
                        flush()
                parts.append(chunk)
                if in_a:
                    n_link_chars += len(chunk.strip())
            if k + 2 >= len(pieces):
                break
            closing, name = pieces[k + 1], pieces[k + 2].lower()
            if name == "a":
                if closing:
                    in_a = max(0, in_a - 1)
                else:
                    in_a += 1
                    n_links += 1
                continue
            if name == "br":
                parts.append("\n")
                continue
            if parts:
                flush()
            if name in ("ul", "ol"):
                list_depth = max(0, list_depth + (-1 if closing else 1))
            elif not closing:
                stack.append(name)
            elif name in stack:
                while stack.pop() != name:
                    pass
        if parts:
            flush()
        return out
