"""Page-level opt-out signals of one HTTP response: robots directives and the TDM Reservation Protocol.

Read where the reader already holds the record, so that the ``optout`` step acts on them without re-reading:

- ``X-Robots-Tag`` response headers (Google, "Robots meta tag, data-nosnippet, and X-Robots-Tag
  specifications": comma-separated directives, optionally scoped by ``agent:``) and ``<meta name="robots">``;
  ``noai`` / ``noimageai`` are the directives proposed for AI training (DeviantArt 2022, since used by
  many hosts); a meta whose name is an agent (``<meta name="GPTBot" content="noai">``) scopes its directives
  to that agent.
- The TDM Reservation Protocol (W3C TDMRep Community Group final report, 2024): ``tdm-reservation`` (1 = text
  and data mining rights reserved) and ``tdm-policy`` (a policy URL), as HTTP headers or as ``<meta name>``.
  A header is what the server sent for this very resource, so it wins over the page's meta.

No HTML parse: one regex pass over the document head (up to ``</head>``, ``<body>`` or :data:`HEAD_LIMIT`
bytes) finds its ``<meta>`` tags; only those that mention the names are taken apart.

Results are the reader's columns: ``robots_tag`` (sorted directives, ``agent:directive`` when scoped; only
bare directives, not value ones such as ``max-snippet:20``), ``tdm_reservation`` (0/1) and ``tdm_policy``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

HEAD_LIMIT = 256 * 1024  # robots metas sit up to ~96 KB into real pages (shared extraction pages); heads end below
MAX_ENTRIES = 32  # robots_tag entries kept per page: a header repeated thousands of times stays a short value
_VALUE_DIRECTIVES = frozenset({"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after"})
_DIRECTIVE = re.compile(r"[a-z][a-z0-9_-]{0,40}")
_AGENT = re.compile(r"[a-z0-9][a-z0-9._-]{0,60}")
# every <meta> tag up to the end of the head: one regex pass (~30 µs on a real page, ~3% of reading it)
_TAG = re.compile(rb"(?i)<(?:meta\b[^>]{0,4096}>|/head\b|body\b)")
_ATTR = re.compile(rb"""(?i)\b(name|http-equiv|content)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


class PageSignals(NamedTuple):
    robots_tag: str | None
    tdm_reservation: int | None
    tdm_policy: str | None


NO_SIGNALS = PageSignals(None, None, None)


def robots_entries(value: str, agent: str | None = None) -> list[str]:
    """``noindex, googlebot: noai`` -> ``["noindex", "googlebot:noai"]``. An ``agent:`` prefix scopes the
    directives after it (X-Robots-Tag syntax); value directives (``max-snippet: 20``) are left out."""
    out: list[str] = []
    for token in value.lower().split(","):
        token = token.strip()
        head, colon, rest = token.partition(":")
        head = head.strip()
        if colon and head not in _VALUE_DIRECTIVES:
            if _AGENT.fullmatch(head) is None:
                continue
            agent, token = head, rest.strip()
            head, colon, _ = token.partition(":")
            head = head.strip()
        if colon or _DIRECTIVE.fullmatch(token) is None:
            continue  # a value directive (unavailable_after: ...), or not a directive at all
        out.append(f"{agent}:{token}" if agent and agent not in ("robots", "x-robots-tag") else token)
    return out


def _attrs(tag: bytes) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTR.finditer(tag):
        key = match.group(1).lower().decode("ascii")
        raw = match.group(2) if match.group(2) is not None else match.group(3) or match.group(4) or b""
        found.setdefault(key, raw.decode("utf-8", "replace").strip())
    return found


def _reservation(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value in ("0", "1") else None


def page_signals(html: bytes | None, x_robots_tag: str | None = None, tdm_reservation: str | None = None,
                 tdm_policy: str | None = None) -> PageSignals:
    """The signals of one response: its headers' values (``None`` when absent) and its body's head."""
    entries: list[str] = []
    if x_robots_tag:
        for line in x_robots_tag.split("\n"):  # one header per line: each starts unscoped
            entries.extend(robots_entries(line))
    reservation, policy = _reservation(tdm_reservation), (tdm_policy or "").strip() or None
    if html:
        for match in _TAG.finditer(html, 0, HEAD_LIMIT):
            tag = match.group()
            if tag[1] in b"/bB":
                break  # </head> or <body>: the head is over
            lowered = tag.lower()
            if b"robots" not in lowered and b"tdm-" not in lowered and b"noai" not in lowered and \
                    b"noimageai" not in lowered:
                continue
            attrs = _attrs(tag)
            name = (attrs.get("name") or attrs.get("http-equiv") or "").lower()
            content = attrs.get("content", "")
            if name in ("robots", "x-robots-tag"):
                entries.extend(robots_entries(content))
            elif name == "tdm-reservation":
                reservation = reservation if reservation is not None else _reservation(content)
            elif name == "tdm-policy":
                policy = policy or content or None
            elif "noai" in content.lower() or "noimageai" in content.lower():
                entries.extend(robots_entries(content, agent=name))
    if not entries and reservation is None and policy is None:
        return NO_SIGNALS
    robots = ",".join(sorted(set(entries))[:MAX_ENTRIES]) or None
    return PageSignals(robots, reservation, policy[:2048] if policy else None)
