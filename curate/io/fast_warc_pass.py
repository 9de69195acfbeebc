"""The fast path of :class:`~curate.io.warc_reader.WarcReader`: FastWARC over a modern WARC.

FastWARC (Bevendorff et al., Resiliparse) parses WARC headers and HTTP headers in C. It stops at
an empty gzip member, a parse error, a short body or HTTP headers it cannot split (bare LF line
ends); the reader then hands the rest of the file to the careful path, from the first record this
pass did not count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecordType

from curate.io.archive_record import ArchiveRecord
from curate.io.gzip_stream_view import ended_early
from curate.io.http_response import HttpResponse
from curate.io.record_converter import KEPT_TYPES, RecordConverter
from curate.io.record_outcome import RecordOutcome


def _type_name(record_type: Any) -> str:
    # WarcRecordType is not hashable in FastWARC 2; its str() is "WarcRecordType.response"
    return str(record_type).rsplit(".", 1)[-1]


class FastWarcPass:
    """FastWARC over the stream until it stops; remembers where the first uncounted record starts."""

    def __init__(self, converter: RecordConverter, path: str, check_merged: bool = False,
                 gzip_members: bool = False) -> None:
        self.converter = converter
        self.path = path
        # plain files: a header cut short runs into the next record's header (two WARC-Type lines);
        # gzip members cannot merge, and the check costs µs per record
        self.check_merged = check_merged
        self.gzip_members = gzip_members
        self.resume_offset = 0
        self.position = 0  # records counted
        self.clean_end = False
        # per-record gzip: two records at one offset share a gzip member (the file is not per-record
        # gzip from there on, and FastWARC's offsets in it are where its reads were, not records)
        self.shared_member = False
        self.pending: RecordOutcome | None = None
        self._skips: dict[str, RecordOutcome] = {}  # one shared outcome per skipped record type

    def outcomes(self, stream: BinaryIO, native: bool) -> Iterator[RecordOutcome]:
        iterator = ArchiveIterator(stream, record_types=WarcRecordType.any_type, parse_http=True,
                                   auto_decode="none", stream_detect=native, fsspec_args=False)
        pending: RecordOutcome | None = None
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                self.clean_end = True
                if pending is not None and not native and not ended_early(stream):
                    # whole-file gzip: FastWARC's end is trusted (going back would inflate it all again),
                    # unless the stream ended at damage: then the careful path reads the last record
                    self.position += 1
                    yield pending
                else:
                    self.pending = pending  # counted by the caller once the file's end is checked
                return
            except Exception:  # noqa: BLE001 - the careful path reads from the last uncounted record
                return
            offset = record.stream_pos
            if self.gzip_members and pending is not None and offset == self.resume_offset:
                self.shared_member = True  # the reader reads the rest as one stream
                return
            if pending is not None:
                yield pending  # the record after it parsed: it is whole
                self.position += 1
            pending = None
            self.resume_offset = offset
            if self.check_merged and len(record.headers.get_multiple("WARC-Type")) > 1:
                return  # the careful path counts the merged record and reads the one inside it
            rtype = _type_name(record.record_type)
            if rtype not in KEPT_TYPES:  # requests, metadata, revisits: skipped unread (most records of a CC WARC)
                pending = self._skips.get(rtype) or self._skips.setdefault(rtype, RecordOutcome(
                    skip=f"record_type:{rtype}"))
                continue
            try:
                rec = self._record(record, offset, rtype)
            except Exception:  # noqa: BLE001 - short or unreadable body: the careful path decides
                return
            if rec is None:
                return
            pending = self.converter.convert(rec)

    def _record(self, record: Any, offset: int, rtype: str) -> ArchiveRecord | None:
        """``None`` hands the record to the careful path: a short body, or HTTP headers FastWARC
        could not split (LF-only line ends)."""
        http = None
        if rtype == "response" and record.is_http:
            parsed = record.http_headers
            # LF-only headers: FastWARC finds no end of the status line and takes the whole block for it
            if parsed is None or parsed.status_code is None or "\n" in parsed.status_line:
                return None  # warcio and curate's own HTTP parser read it (the careful path)
            http = parsed
        length = record.content_length
        # requests, metadata, revisits are skipped unread, as FastWARC skips their bytes
        wanted = rtype in KEPT_TYPES and length <= self.converter.max_bytes
        block = record.reader.read() if wanted else None
        if block is not None and len(block) < length:
            return None
        headers = record.headers
        response = None
        if http is not None and block is not None:
            status = http.status_code
            robots = http.get_multiple("X-Robots-Tag")  # every one applies
            response = HttpResponse(
                status=None if status is None else int(status), content_type=record.http_content_type,
                charset=record.http_charset, transfer_encoding=http.get("Transfer-Encoding"),
                content_encoding=http.get("Content-Encoding"), body=block,
                x_robots_tag="\n".join(robots) if robots else None, tdm_reservation=http.get("TDM-Reservation"),
                tdm_policy=http.get("TDM-Policy"), location=http.get("Location"))
        return ArchiveRecord(
            path=self.path, position=self.position + 1, offset=offset, rtype=rtype,
            url=headers.get("WARC-Target-URI"), date=headers.get("WARC-Date"), record_id=record.record_id,
            content_type=None if response is not None else headers.get("Content-Type"), declared_length=length,
            block=block, http=response,
        )
