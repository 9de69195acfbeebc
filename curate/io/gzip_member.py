"""Where a gzip member ends, whether it inflates whole, and whether anything follows it.

warcio takes a gzip member that does not inflate (a changed or lost byte: its data or its CRC-32
is wrong) for the end of the file: it reports the zlib error on stderr and stops, and the record
the damage cut short looks like one whose Content-Length lies. These checks, run by the careful
path only where reading stopped or a record came up short, tell damage from a clean end, so a
damaged member is one counted error and reading goes on at the next member (RFC 1952: every
member carries the CRC-32 and length of its data, so any change to its bytes is seen).

Memory stays bounded whatever the member's size: output is inflated in 1 MB steps and dropped.
"""

from __future__ import annotations

import zlib
from enum import Enum
from typing import BinaryIO

from curate.io.sync_scanner import GZIP_MAGIC, first_record_end, starts_record

_CHUNK = 1 << 16
_STEP = 1 << 20
_BLANK = b"\r\n\t "
_LOOK = 16 << 10  # an ARC header line holds a whole URL


class MemberState(Enum):
    WHOLE = "whole"
    DAMAGED = "damaged"  # does not inflate: wrong data, CRC or length
    CUT = "cut"  # the file ends inside it


def inflate_member(stream: BinaryIO, offset: int, keep: int = 0) -> tuple[MemberState, int, bytes]:
    """Inflate the gzip member at ``offset``: its state, where it ends (``WHOLE`` only) and the
    first ``keep`` bytes of its data. The stream's position is left anywhere."""
    stream.seek(offset)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    consumed = offset
    head = b""
    data = b""
    while True:
        if not data:
            data = stream.read(_CHUNK)
            if not data:
                return MemberState.CUT, consumed, head
            consumed += len(data)
        try:
            out = inflater.decompress(data, _STEP)
        except zlib.error:
            return MemberState.DAMAGED, consumed, head
        if len(head) < keep:
            head += out[: keep - len(head)]
        if inflater.eof:
            return MemberState.WHOLE, consumed - len(inflater.unused_data), head
        data = inflater.unconsumed_tail


def record_member(stream: BinaryIO, offset: int) -> tuple[MemberState, int]:
    """The state of the first member at or after ``offset`` that holds more than line ends (warcio
    gives a record the offset of the empty members in front of it), and where it ends."""
    while True:
        state, end, head = inflate_member(stream, offset, keep=64)
        if state is not MemberState.WHOLE or head.strip(_BLANK) or end <= offset:
            return state, end
        offset = end


def blank_after(stream: BinaryIO, offset: int, limit: int = 16 << 20) -> bool:
    """Whether nothing but line ends and empty gzip members follows ``offset`` to the end of the file
    (looked at up to ``limit`` bytes: beyond, ``False``, and the caller reads on)."""
    pos = offset
    while pos - offset <= limit:
        stream.seek(pos)
        chunk = stream.read(4096)
        if not chunk:
            return True
        stripped = chunk.lstrip(_BLANK)
        if not stripped:
            pos += len(chunk)
            continue
        pos += len(chunk) - len(stripped)
        if not stripped.startswith(GZIP_MAGIC[:2]):
            return False
        state, end, head = inflate_member(stream, pos, keep=_STEP)
        if state is not MemberState.WHOLE or head.strip(_BLANK):
            return False
        pos = end
    return False


def several_records(stream: BinaryIO, offset: int) -> bool:
    """Whether the first gzip member at or after ``offset`` that holds anything holds more than one
    record: after its first record's declared end, another record's header line.

    Per-record gzip (as crawlers write WARC and ARC) ends each member where its record ends; a file
    gzipped as one stream holds every record in one member. Empty members in front are passed over.
    The member is inflated in bounded steps only until its first record's declared end and the
    header line after it (a small member whole), keeping 1 MB of its head and 16 KB after the record.
    """
    stream.seek(offset)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = b""  # the member's first bytes, up to 1 MB
    tail = b""  # the bytes after its first record's declared end, up to _LOOK
    total = 0  # bytes this member inflated to so far
    need: int | None = None  # where its first record ends
    data = b""
    while True:
        if not data:
            data = stream.read(_CHUNK)
            if not data:
                return False  # the file ended: one record at most, or damage the per-record path counts
        try:
            out = inflater.decompress(data, _STEP)
        except zlib.error:
            return False  # damaged: the per-record path resyncs at the next member
        data = inflater.unconsumed_tail
        start, total = total, total + len(out)
        if need is None:
            head += out[: _STEP - len(head)]
            need = first_record_end(head)
            if need is None and len(head) >= _STEP:
                return False  # no record header in the first MB: leave it to the careful path
            if need is not None:
                tail = head[need:] + out[max(0, len(head) - start):]
        elif len(tail) < _LOOK:
            tail += out[max(0, need - start):]
        rest = tail[:_LOOK].lstrip(_BLANK)
        if rest and (b"\n" in rest or len(tail) >= _LOOK):
            return starts_record(rest)  # damage inflated to garbage is not a second record
        if inflater.eof:
            if need is None and not head.strip(_BLANK):  # an empty member: the next one decides
                data = inflater.unused_data
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                head, total = b"", 0
                continue
            return False  # the member ended with its first record
