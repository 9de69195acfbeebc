"""Cheap checks on raw HTML before any parser sees it: byte size and element nesting depth.

Parsers are superlinear in nesting depth (resiliparse takes ~1 s of CPU for 10,000 nested
``<div>`` and minutes for 100,000), and no real page nests thousands of containers, so a page
over ``max_depth`` is removed up front instead of burning its whole CPU budget. The depth is an
upper bound found by one regex pass over the container tags whose end tag is never implied by the
HTML parsing rules (so unclosed ``<p>``/``<li>``/``<td>`` and void tags do not inflate it). That pass runs only
when a cheaper bound allows a page over the limit: the depth cannot exceed the number of ``<`` not followed by
``/`` (a vectorised count), which is under 2,000 for 95% of the 618 HTML pages of shared/data.
"""

from __future__ import annotations

import re

import numpy as np

# container elements whose end tag the HTML standard never implies (section 13.1.2.4 lists the rest)
_CONTAINERS = (
    "div|span|section|article|aside|nav|header|footer|main|table|ul|ol|dl|blockquote|form|fieldset|"
    "font|a|b|i|u|s|em|strong|small|big|center|figure|label|button|select|object|svg|g"
)
_TAG = re.compile(rb"<(/?)(?:" + _CONTAINERS.encode() + rb")(?=[\s>/])", re.IGNORECASE)


def nesting_depth(html: bytes) -> int:
    """Upper bound of the container nesting depth: max running count of opens minus closes."""
    marks = _TAG.findall(html)  # b"" for an opening tag, b"/" for a closing one
    if not marks:
        return 0
    steps = 1 - 2 * np.fromiter(map(len, marks), dtype=np.int32, count=len(marks))
    return max(0, int(np.cumsum(steps).max()))


def opening_tags_bound(html: bytes) -> int:
    """An upper bound of :func:`nesting_depth`: every opening container tag is a ``<`` not followed by ``/``.
    (numpy: several times faster than ``bytes.count``, about 0.05 ms for a 180 KB page.)"""
    data = np.frombuffer(html, dtype=np.uint8)
    lt = np.flatnonzero(data[:-1] == 0x3C)  # "<" (one at the very end opens nothing)
    return len(lt) - int(np.count_nonzero(data[lt + 1] == 0x2F))  # minus the "</"


def limit_reason(html: bytes, max_bytes: int | None, max_depth: int | None) -> str | None:
    """``html_too_large:<n>`` / ``html_too_deep:<n>``, or None when the page is within the limits."""
    if max_bytes and len(html) > max_bytes:
        return f"html_too_large:{len(html)}_bytes"
    if max_depth and opening_tags_bound(html) > max_depth:
        depth = nesting_depth(html)
        if depth > max_depth:
            return f"html_too_deep:{depth}_levels"
    return None
