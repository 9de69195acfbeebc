"""Split an HTTP response block (status line, headers, body) as crawlers recorded it.

Written for the records the web actually holds, not only RFC 9112 ones: header lines ending in
bare LF (ClueWeb09's Japanese crawl, old ARC files), a mix of CRLF and LF, no blank line at all,
folded or duplicated headers. The first of ``\\r\\n\\r\\n`` / ``\\n\\n`` ends the headers.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_HEADER_BYTES = 65_536  # past this the "headers" are a body without any: keep it all as body


@dataclass(frozen=True)
class HttpResponse:
    """Status, the three headers the reader needs (last occurrence wins) and the body."""

    status: int | None
    content_type: str | None
    transfer_encoding: str | None
    content_encoding: str | None
    body: bytes

    @property
    def charset(self) -> str | None:
        if not self.content_type:
            return None
        for param in self.content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'") or None
        return None

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
        lines = head.split(b"\n")
        parts = lines[0].split(None, 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        found: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if colon:
                found[name.strip().lower()] = value.strip()
        return cls(
            status=status,
            content_type=_text(found.get(b"content-type")),
            transfer_encoding=_text(found.get(b"transfer-encoding")),
            content_encoding=_text(found.get(b"content-encoding")),
            body=body,
        )


def _header_end(block: bytes) -> tuple[int, int]:
    window = block[:MAX_HEADER_BYTES]
    # the earliest blank line ends the headers, whichever line ends it uses
    found = [(pos, len(sep)) for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n") if (pos := window.find(sep)) >= 0]
    return min(found) if found else (-1, 0)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
