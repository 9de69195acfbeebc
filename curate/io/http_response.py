"""Split an HTTP response block (status line, headers, body) as crawlers recorded it.

Written for the records the web actually holds, not only RFC 9112 ones: header lines ending in
bare LF (ClueWeb09's Japanese crawl, old ARC files), a mix of CRLF and LF, no blank line at all,
folded or duplicated headers. The first of ``\\r\\n\\r\\n`` / ``\\n\\n`` ends the headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEADER_BYTES = 65_536  # past this the "headers" are a body without any: keep it all as body


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs µs per record
class HttpResponse:
    """Status, the headers the reader needs (last occurrence wins; every ``X-Robots-Tag``, one per line), the
    charset and the body."""

    status: int | None
    content_type: str | None
    charset: str | None
    transfer_encoding: str | None
    content_encoding: str | None
    body: bytes
    x_robots_tag: str | None = None  # opt-out signals (curate/io/page_signals.py)
    tdm_reservation: str | None = None
    tdm_policy: str | None = None
    location: str | None = None  # a redirect's target (robots.txt captures follow it)

    @classmethod
    def parse(cls, block: bytes) -> HttpResponse | None:
        """``None`` when the block does not start with an HTTP status line."""
        if not block.startswith(b"HTTP/"):
            return None
        head_end, sep = _header_end(block)
        if head_end < 0:
            head, body = block, b""
        else:
            head, body = block[:head_end], block[head_end + sep:]
        status_line = head[: head.find(b"\n")] if b"\n" in head else head
        parts = status_line.split(None, 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        pairs = _WANTED.findall(head)
        found = {name.lower(): value for name, value in pairs}  # the last one wins
        content_type = _text(found.get(b"content-type"))
        robots = [value for name, value in pairs if name.lower() == b"x-robots-tag"]  # every one applies
        return cls(
            status=status,
            content_type=content_type,
            charset=_charset(content_type),
            transfer_encoding=_text(found.get(b"transfer-encoding")),
            content_encoding=_text(found.get(b"content-encoding")),
            body=body,
            x_robots_tag=_text(b"\n".join(robots)) if robots else None,
            tdm_reservation=_text(found.get(b"tdm-reservation")),
            tdm_policy=_text(found.get(b"tdm-policy")),
            location=_text(found.get(b"location")),
        )


# only the headers the reader uses: one regex pass instead of splitting every line
_WANTED = re.compile(rb"(?im)^[ \t]*(content-type|transfer-encoding|content-encoding|x-robots-tag|tdm-reservation|"
                     rb"tdm-policy|location)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")


def _header_end(block: bytes) -> tuple[int, int]:
    # the earliest blank line ends the headers, whichever line ends it uses
    crlf = block.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES)
    limit = MAX_HEADER_BYTES if crlf < 0 else crlf
    found = [(pos, len(sep)) for sep in (b"\n\n", b"\n\r\n") if (pos := block.find(sep, 0, limit)) >= 0]
    if crlf >= 0:
        found.append((crlf, 4))
    return min(found) if found else (-1, 0)


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
