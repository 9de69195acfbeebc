"""One web-archive record, whichever parser (FastWARC, warcio) and format (WARC, ARC) it came from."""

from __future__ import annotations

from dataclasses import dataclass

from curate.io.http_response import HttpResponse


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs µs per record
class ArchiveRecord:
    """What the reader needs of a record; ``block`` is ``None`` when the record was too large to read.

    ``position`` is the record's number in its file (1 = first), ``offset`` the byte where it
    starts (in the compressed file for per-record gzip, in the decompressed stream for whole-file
    gzip), ``declared_length`` its Content-Length (WARC) or archive-length (ARC); with ``http``
    set, ``block`` and ``declared_length`` are the HTTP body's.
    """

    path: str
    position: int
    offset: int
    rtype: str
    url: str | None
    date: str | None
    record_id: str | None
    content_type: str | None
    declared_length: int
    block: bytes | None
    notes: tuple[str, ...] = ()  # counters the reader adds (e.g. a Content-Length it corrected)
    http: HttpResponse | None = None  # already parsed (FastWARC's fast path); else parsed from ``block``

    @property
    def where(self) -> str:
        return f"{self.path}: record {self.position} at byte {self.offset}"
