"""Cheap checks on raw HTML before any parser sees it: byte size and element nesting depth.

Parsers are superlinear in nesting depth (resiliparse takes ~1 s of CPU for 10,000 nested
``<div>`` and minutes for 100,000), and no real page nests thousands of containers, so a page
over ``max_depth`` is removed up front instead of burning its whole CPU budget. The depth is an
upper bound found by one regex pass over the container tags whose end tag is never implied by the
HTML parsing rules (so unclosed ``<p>``/``<li>``/``<td>`` and void tags do not inflate it). That pass runs only
when three cheaper, vectorised bounds allow a page over the limit: the number of ``<`` in the page
(:func:`tag_starts_bound`, one pass, enough for most pages), the number of opening container tags
(:func:`opening_tags_bound`), then, for long pages, their running count less the common end tags
(:func:`running_bound`).
"""

from __future__ import annotations

import re

import numpy as np

# container elements whose end tag the HTML standard never implies (section 13.1.2.4 lists the rest)
_CONTAINERS = (
    "div|span|section|article|aside|nav|header|footer|main|table|ul|ol|dl|blockquote|form|fieldset|"
    "font|a|b|i|u|s|em|strong|small|big|center|figure|label|button|select|object|svg|g"
)
_TAG = re.compile(rb"<(/?)(?:" + _CONTAINERS.encode() + rb")(?=[\s>/])")  # on lowercased bytes: 2x faster


def nesting_depth(html: bytes | memoryview) -> int:
    """Upper bound of the container nesting depth: max running count of opens minus closes."""
    marks = _TAG.findall(bytes(html).lower())  # b"" for an opening tag, b"/" for a closing one
    if not marks:
        return 0
    steps = 1 - 2 * np.fromiter(map(len, marks), dtype=np.int32, count=len(marks))
    return max(0, int(np.cumsum(steps).max()))


def tag_starts_bound(html: bytes | memoryview) -> int:
    """The loosest upper bound of :func:`nesting_depth`: the number of ``<`` in the page (every opening tag
    starts with one). One vectorised pass, about 0.02 ms for a 120 KB page, less than half of
    :func:`opening_tags_bound`; it clears about four pages in five of the shared crawls at the default limit."""
    return int(np.count_nonzero(np.frombuffer(html, dtype=np.uint8) == 0x3C))


def _prefix_table() -> np.ndarray:
    """True for the two bytes after a ``<`` that can start an opening container tag (any case)."""
    table = np.zeros(1 << 16, dtype=bool)
    for name in _CONTAINERS.split("|"):
        first = (ord(name[0]), ord(name[0].upper()))
        seconds = b" \t\n\r\f\v>/" if len(name) == 1 else bytes({ord(name[1]), ord(name[1].upper())})
        for a in first:
            for b in seconds:
                table[a << 8 | b] = True
    return table


_OPENING = _prefix_table()


# the most frequent container end tags, exactly as written (``</div>``): closes the tighter bound may subtract
_CLOSES = ("div", "span", "a", "ul", "ol", "section", "article", "b", "strong", "em", "i", "font", "table", "form",
           "nav", "header", "footer")
# ``name>`` as the little-endian 64-bit number of its bytes, with the mask of its length
_CLOSE_KEYS = [(np.uint64((1 << 8 * len(tag)) - 1), np.uint64(int.from_bytes(tag, "little")))
               for tag in (f"{name}>".encode() for name in _CLOSES)]


def _opening_tags(html: bytes | memoryview) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The page's bytes, the positions of its ``<`` (but the last two bytes') and, for each, whether the two bytes
    after it can begin an opening container tag (``<di``, ``<sp``, ``<a>``...; not ``</``, ``<p``, ``<li``,
    ``<img``...)."""
    data = np.frombuffer(html, dtype=np.uint8)
    n = len(data) - 2
    at = np.flatnonzero(data[:max(n, 0)] == 0x3C)
    if not len(at):
        return data, at, np.zeros(0, dtype=bool)
    # the two bytes after each position as one big-endian 16-bit code, read in place (unaligned strided view)
    pairs = np.ndarray(shape=(n,), dtype=">u2", buffer=html, offset=1, strides=(1,))
    return data, at, _OPENING[pairs[at]]


def opening_tags_bound(html: bytes | memoryview) -> int:
    """An upper bound of :func:`nesting_depth`: the number of opening container tags (:func:`_opening_tags`).
    Vectorised: about 0.05 ms for a 120 KB page, tens of times less than the scan."""
    return int(np.count_nonzero(_opening_tags(html)[2]))


def running_bound(html: bytes | memoryview) -> int:
    """A tighter upper bound of :func:`nesting_depth`, for the pages :func:`opening_tags_bound` cannot clear
    (long pages): the same opens, minus the end tags of :data:`_CLOSES` written exactly (``</div>``, never more
    closes than the scan counts), as a running sum. A few times less CPU than the scan."""
    data, at, opens = _opening_tags(html)
    if not len(at):
        return 0
    steps = opens.astype(np.int32)
    ends = np.flatnonzero(data[at + 1] == 0x2F)  # "</", as indexes into ``at``
    ends = ends[at[ends] + 10 <= len(data)]  # an end tag cut off by the page's end is not subtracted
    if len(ends):
        window = data[at[ends, None] + np.arange(2, 10)]
        upper = (window >= 0x41) & (window <= 0x5A)
        window[upper] |= 0x20  # ASCII letters to lower case, '>' as it is
        keys = window.view("<u8").ravel()
        closed = np.zeros(len(ends), dtype=bool)
        for mask, key in _CLOSE_KEYS:
            closed |= (keys & mask) == key
        steps[ends[closed]] -= 1
    return max(0, int(np.cumsum(steps).max()))


def limit_reason(html: bytes | memoryview, max_bytes: int | None, max_depth: int | None) -> str | None:
    """``html_too_large:<n>`` / ``html_too_deep:<n>``, or None when the page is within the limits."""
    if max_bytes and len(html) > max_bytes:
        return f"html_too_large:{len(html)}_bytes"
    if (max_depth and tag_starts_bound(html) > max_depth and opening_tags_bound(html) > max_depth
            and running_bound(html) > max_depth):
        depth = nesting_depth(html)
        if depth > max_depth:
            return f"html_too_deep:{depth}_levels"
    return None
