"""Find where the next whole record starts after damage, so reading goes on from there.

The first of: a gzip member whose first bytes decompress to a ``WARC/`` or ARC header line
(per-record gzip, as crawlers write WARC and ARC), a ``WARC/x.y`` version line, or a line that is
an ARC v1 header (``URL IP yyyymmddhhmmss mime length``).
"""

from __future__ import annotations

import re
import zlib
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_LINE = re.compile(rb"WARC/\d+\.\d+\r?\n")
# ARC v1 header line (Internet Archive ARC file format, 1996): the length is its last field
ARC_LINE = re.compile(rb"[a-zA-Z][a-zA-Z0-9+.\-]*:[^ \n]* [^ \n]+ \d{14} [^ \n]* ?(\d+)\r?\n")
# a WARC version line anywhere (damage may run into it); an ARC header line at a line start, or
# anywhere when its URL has a crawler's usual scheme (a record cut short runs into the next line)
_ARC_TAIL = rb" [^ \n]+ \d{14} [^ \n]* ?\d+\r?\n"
_PLAIN_START = re.compile(
    rb"WARC/\d+\.\d+\r?\n"
    rb"|(?<=\n)[a-zA-Z][a-zA-Z0-9+.\-]*:[^ \n]*" + _ARC_TAIL
    + rb"|(?:https?|ftp|dns|filedesc):[^ \n]*" + _ARC_TAIL
)
_CHUNK = 1 << 20


def starts_record(head: bytes) -> bool:
    """Whether decompressed bytes begin with a WARC or an ARC record header line."""
    return WARC_LINE.match(head) is not None or ARC_LINE.match(head) is not None


def first_record_end(head: bytes) -> int | None:
    """Where the first record ends by its declared length (WARC or ARC header), if the head says."""
    arc = ARC_LINE.match(head)
    if arc is not None:
        return arc.end() + int(arc.group(1)) + 1
    if WARC_LINE.match(head) is None:
        return None
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = next((int(line.split(b":", 1)[1]) for line in head[:end].split(b"\r\n")
                   if line.lower().startswith(b"content-length:") and line.split(b":", 1)[1].strip().isdigit()), 0)
    return end + 4 + length + 4


def member_head(data: bytes) -> bytes:
    """The first decompressed bytes of the gzip member at the start of ``data`` (``b""`` if none)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(data, 16_384)  # an ARC header line holds the whole URL
    except zlib.error:
        return b""


class SyncScanner:
    """Scans a seekable stream forward from an offset, in bounded chunks.

    ``members_only``: in per-record gzip, only a gzip member starts a record (a record's text in a
    stored deflate block, as gzip writes incompressible data, is no record start).
    """

    def __init__(self, stream: BinaryIO, members_only: bool = False) -> None:
        self.stream = stream
        self.members_only = members_only

    def next_start(self, after: int) -> int | None:
        """The offset of the first record start strictly after ``after``, or ``None`` at EOF."""
        pos = after + 1
        overlap = 4096  # a header line or member head cut by a chunk border is found in the next one
        while True:
            try:
                self.stream.seek(pos)
                chunk = self.stream.read(_CHUNK + overlap)
            except (OSError, EOFError, zlib.error):
                return None  # inside one damaged gzip member (whole-file gzip): nothing more to find

            if not chunk:
                return None
            found = self._find(chunk, pos)
            if found is not None:
                return found
            if len(chunk) <= overlap:
                return None
            pos += len(chunk) - overlap

    def _find(self, chunk: bytes, base: int) -> int | None:
        # both kinds in either file: damage may have hit the first bytes that told the kind
        lines = None if self.members_only else self._line(chunk)
        found = [pos for pos in (self._member(chunk), lines) if pos is not None]
        return base + min(found) if found else None

    @staticmethod
    def _member(chunk: bytes) -> int | None:
        i = chunk.find(GZIP_MAGIC)
        while i >= 0:
            if starts_record(member_head(chunk[i:i + 65_536])):
                return i
            i = chunk.find(GZIP_MAGIC, i + 1)
        return None

    @staticmethod
    def _line(chunk: bytes) -> int | None:
        match = _PLAIN_START.search(chunk)
        return None if match is None else match.start()
