"""Turn an HTTP response body from a WARC record into HTML text.

Crawlers record bodies as sent: chunked, gzip/deflate/brotli-encoded, in any charset, and the
headers sometimes lie (``Transfer-Encoding: chunked`` on a body that is not). Each decoding step
is tried and, when it fails, the raw bytes are kept: a wrong header must not lose the page.
"""

from __future__ import annotations

import io
import zlib
from typing import NamedTuple

from fastwarc.stream_io import BrotliReader, ChunkedReader
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from curate.errors import CurateError

HTML_MIME_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml+xhtml"})


class PayloadDecodeError(CurateError, ValueError):
    """The body could not be decoded (e.g. gzip-encoded but corrupt)."""


def mime_type(content_type: str | None) -> str:
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def looks_like_html(body: bytes) -> bool:
    """Sniff the start of a body with no usable Content-Type (wayback snapshots have none)."""
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head or b"<body" in head


def _dechunk(body: bytes) -> bytes:
    try:
        return ChunkedReader(io.BytesIO(body)).read()
    except OSError:
        return body  # header said chunked, body is not: keep it as it is


def _decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity", "none"):
        return body
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, sent by some servers
        if encoding == "br":
            return BrotliReader(io.BytesIO(body)).read()
    except (zlib.error, OSError) as exc:
        if looks_like_html(body):
            return body  # mislabelled: the bytes are already plain
        raise PayloadDecodeError(f"Content-Encoding {encoding!r} could not be decoded: {exc}") from exc
    return body  # unknown encodings: keep the bytes, charset detection decides


def decode_body(body: bytes, transfer_encoding: str | None, content_encoding: str | None) -> bytes:
    if transfer_encoding and "chunked" in transfer_encoding.lower():
        body = _dechunk(body)
    if content_encoding:
        for enc in reversed(content_encoding.split(",")):
            body = _decompress(body, enc)
    return body


_UTF8_NAMES = frozenset({"", "utf-8", "utf8"})


class DecodedHtml(NamedTuple):
    """UTF-8 bytes of a body, and whether its declared charset was unknown (detection used)."""

    html: bytes
    charset_fallback: bool


def _detected(body: bytes) -> str:
    return bytes_to_str(body, detect_encoding(body, from_html_meta=True))


def body_to_utf8(body: bytes, http_charset: str | None) -> DecodedHtml:
    """The body as UTF-8 bytes. Valid UTF-8 (most pages) is passed through without a decode and
    re-encode; Arrow validates it once when the batch is built. A charset no codec knows
    (``x-user-defined``, ``bogus-xyz``: both common on the web) falls back to detection."""
    declared = (http_charset or "").strip().lower()
    if declared in _UTF8_NAMES:
        try:
            body.decode("utf-8")
            return DecodedHtml(body[3:] if body.startswith(b"\xef\xbb\xbf") else body, False)
        except UnicodeDecodeError:
            if declared:
                # declared UTF-8, broken bytes replaced
                return DecodedHtml(bytes_to_str(body, "utf-8").encode("utf-8"), False)
            return DecodedHtml(_detected(body).encode("utf-8"), False)
    try:
        return DecodedHtml(bytes_to_str(body, declared).encode("utf-8"), False)
    except LookupError:
        return DecodedHtml(_detected(body).encode("utf-8"), True)


def body_to_text(body: bytes, http_charset: str | None) -> str:
    """Decode bytes: the HTTP charset when declared and known; else UTF-8 when the bytes are valid
    UTF-8 (most of the web, and cheap to check); else the page's meta charset, else detection.
    Never raises."""
    declared = (http_charset or "").strip().lower()
    if declared:
        try:
            return bytes_to_str(body, declared)
        except LookupError:
            pass
    try:
        return body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return _detected(body)
