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
    """Split a minimal-HTML rendering into :class:`Blocks`."""

    def __call__(self, markup: str) -> Blocks:
        out = Blocks()
        state = _State(out)
        pos = 0
        for m in _TOKEN.finditer(markup):
            state.text(markup[pos:m.start()])
            pos = m.end()
            state.tag(m.group(2).lower(), bool(m.group(1)))
        state.text(markup[pos:])
        state.flush()
        return out


class _State:
    __slots__ = ("out", "stack", "in_a", "parts", "link_chars", "links", "list_depth")

    def __init__(self, out: Blocks) -> None:
        self.out = out
        self.stack: list[str] = []  # open block tags
        self.in_a = 0
        self.parts: list[str] = []
        self.link_chars = 0
        self.links = 0
        self.list_depth = 0

    def text(self, s: str) -> None:
        if not s:
            return
        if not self.stack and "\n" in s:  # plain text: every line is a block
            *lines, s = s.split("\n")
            for line in lines:
                self._add(line)
                self.flush()
        self._add(s)

    def _add(self, s: str) -> None:
        self.parts.append(s)
        if self.in_a:
            self.link_chars += len(s.strip())

    def tag(self, name: str, closing: bool) -> None:
        if name == "a":
            if closing:
                self.in_a = max(0, self.in_a - 1)
            else:
                self.in_a += 1
                self.links += 1
            return
        if name == "br":
            self.parts.append("\n")
            return
        self.flush()
        if name in ("ul", "ol"):
            self.list_depth = max(0, self.list_depth + (-1 if closing else 1))
        elif not closing:
            self.stack.append(name)
        elif name in self.stack:
            while self.stack.pop() != name:
                pass

    def flush(self) -> None:
        if not self.parts:
            return
        raw = html.unescape("".join(self.parts))
        self.parts.clear()
        link_chars, links = self.link_chars, self.links
        self.link_chars = self.links = 0
        tag = self.stack[-1] if self.stack else None
        if tag == "pre":
            text = raw.strip("\n")
        else:
            text = _SPACES.sub(" ", raw.replace("\n", " ")).strip()
        if not text.strip():
            return
        out = self.out
        out.texts.append(text)
        out.tags.append(TAG_INDEX.get(tag, _PLAIN) if tag else _PLAIN)
        out.link_chars.append(min(link_chars, len(text)))
        out.links.append(links)
        out.in_list.append(self.list_depth > 0 or tag == "li")
