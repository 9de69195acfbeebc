"""Real WARC records of ../shared/data cut into their gzip members, and edits of one record."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


def gzip_members(path: Path) -> list[bytes]:
    """The file's per-record gzip members, byte for byte, as warcio finds them."""
    data = path.read_bytes()
    spans = []
    with open(path, "rb") as handle:
        it = ArchiveIterator(handle)
        for _ in it:
            spans.append((it.get_record_offset(), it.get_record_length()))
    return [data[off:off + length] for off, length in spans]


def split_record(record: bytes) -> tuple[bytes, bytes]:
    """(WARC header block without the blank line, content block without the trailing CRLFCRLF)."""
    head, _, rest = record.partition(b"\r\n\r\n")
    return head, rest[:-4] if rest.endswith(b"\r\n\r\n") else rest


def join_record(head: bytes, block: bytes, length: int | None = None) -> bytes:
    """A record with its Content-Length set to ``length`` (default: the block's true length)."""
    head = re.sub(rb"(?im)^Content-Length:[^\r\n]*", b"Content-Length: %d" % (len(block) if length is None
                                                                               else length), head)
    return head + b"\r\n\r\n" + block + b"\r\n\r\n"


def plain_records(members: list[bytes]) -> list[bytes]:
    return [gzip.decompress(m) for m in members]


def arc_records(records: list[bytes]) -> list[bytes]:
    """The real HTTP responses among ``records`` as ARC v1 records (URL IP date mime length, block, newline)."""
    out = []
    for rec in records:
        head, block = split_record(rec)
        url = re.search(rb"WARC-Target-URI: <?([^\r\n>]+)", head)
        if b"WARC-Type: response" not in head or url is None or not block.startswith(b"HTTP/"):
            continue
        out.append(url.group(1) + b" 10.0.0.1 20200803101010 text/html %d\n" % len(block) + block + b"\n")
    return out
