"""The careful way through a damaged or old web archive: warcio, record by record, with resync.

FastWARC (the fast path in :class:`~curate.io.warc_reader.WarcReader`) reads modern, whole WARC
files; this reads everything else and whatever follows the first anomaly there: ARC v1 (with or
without the ``filedesc://`` version block), WARC/0.17 and 0.18, empty or garbage gzip members,
Content-Lengths that lie. warcio (Webrecorder) parses the records; damage is handled here:

* a record whose declared length runs over the start of the next record is cut there and kept
  (counted: ``content_length_too_long``; ClueWeb09 counted its lengths before its CRs were
  stripped); one whose file ends inside it is ``truncated_record``;
* a stretch warcio cannot parse, or skips silently, is one counted ``unreadable_record``; the
  next gzip member / ``WARC/`` / ARC header line after it
  (:class:`~curate.io.sync_scanner.SyncScanner`) is where reading goes on;
* a gzip member that does not inflate (warcio takes it for the end of the file, or for a record
  whose length lies: :mod:`~curate.io.gzip_member` tells them apart where reading stopped or a
  record came up short) is one counted ``unreadable_record``; reading goes on at the next member.

A record is handed out only once the record after it parsed (or the file ended cleanly), so a
record that swallowed its neighbours through a lying Content-Length is never emitted whole.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import timestamp_to_iso_date

from curate.io.archive_record import ArchiveRecord
from curate.io.gzip_member import MemberState, blank_after, record_member, several_records
from curate.io.gzip_stream_view import ended_early
from curate.io.record_outcome import RecordOutcome
from curate.io.sync_scanner import ARC_LINE, GZIP_MAGIC, SyncScanner


class CarefulArchive:
    """Iterates ``(record, None)`` for whole records and ``(None, error)`` for each loss."""

    def __init__(self, stream: BinaryIO, path: str, gzip_members: bool, max_bytes: int,
                 verify_tail: bool = True) -> None:
        self.stream = stream
        self.path = path
        self.gzip_members = gzip_members
        self.max_bytes = max_bytes
        self.verify_tail = verify_tail  # False where seeking back is costly (whole-file gzip)
        self.scanner = SyncScanner(stream, members_only=gzip_members)
        self.position = 0
        # per-record gzip: a member holding several records (warcio refuses those): the reader reads
        # the file as one stream from there; ``position`` records were handed out before it
        self.shared_member = False

    def records(self, start: int, position: int) -> Iterator[tuple[ArchiveRecord | None, RecordOutcome | None]]:
        """From byte ``start``; ``position`` records of the file came before it."""
        self.position = position
        resume: int | None = start
        while resume is not None:
            nxt = yield from self._session(resume)
            if nxt is not None and nxt <= resume:  # never read the same bytes again: on past them
                nxt = self.scanner.next_start(resume)
            resume = nxt

    def _session(self, start: int) -> Iterator[tuple[ArchiveRecord | None, RecordOutcome | None]]:
        """Read from ``start`` until EOF (``None``) or damage (the offset to resume at)."""
        self.stream.seek(start)
        pending: tuple[ArchiveRecord, int] | None = None  # a record and where it ends
        # warcio prints a warning per odd record on stderr: dropped, the counts say it
        with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
            archive = ArchiveIterator(self.stream, no_record_parse=True, arc2warc=False)
            iterator = iter(archive)
            while True:
                try:
                    raw = next(iterator)
                    rec = self._record(raw, archive)
                    end = rec.offset + archive.get_record_length()
                except StopIteration:
                    if pending is not None:
                        return (yield from self._settle(*pending, failed=False))
                    if self.gzip_members and not blank_after(self.stream, start):
                        # warcio stopped at a damaged member
                        return (yield from self._unreadable_at(start, "a gzip member that does not inflate (a "
                                                               "changed or lost byte)"))
                    return None
                except Exception as exc:  # noqa: BLE001 - any parse failure is damage to resync past
                    if pending is not None:
                        return (yield from self._settle(*pending, failed=True))
                    return (yield from self._unreadable_at(start, f"{type(exc).__name__}: {str(exc)[:120]!r}"))
                if self.gzip_members and not self._member_start(rec.offset):
                    # warcio's offsets are off inside a member holding several records: from the
                    # first record not handed out, the reader reads the file as one stream
                    self.shared_member = True
                    self.position -= 1 + (pending is not None)
                    return None
                expected = start if pending is None else pending[1]
                if rec.offset > expected + 8 and self._junk(expected, rec.offset):
                    # warcio skipped bytes it could not parse, silently: count them, and read again
                    # any record start it skipped with them
                    resume = yield from self._gap(pending, rec, start, expected)
                    if resume is not None:
                        return resume
                elif pending is not None:
                    yield pending[0], None
                if rec.block is not None and len(rec.block) < rec.declared_length:
                    return (yield from self._short(rec))
                pending = rec, end

    def _member_start(self, offset: int) -> bool:
        """Whether a gzip member starts at ``offset``; the stream is left where it was."""
        if offset < 0:
            return False
        saved = self.stream.tell()
        try:
            self.stream.seek(offset)
            return self.stream.read(3) == GZIP_MAGIC
        finally:
            self.stream.seek(saved)

    def _junk(self, begin: int, end: int) -> bool:
        """Whether ``[begin, end)`` holds more than line ends; the stream is left where it was."""
        saved = self.stream.tell()
        try:
            self.stream.seek(begin)
            gap = self.stream.read(min(end - begin, 65_536))
            return end - begin > 65_536 or bool(gap.strip(b"\r\n\t "))
        finally:
            self.stream.seek(saved)

    def _gap(self, pending: tuple[ArchiveRecord, int] | None, rec: ArchiveRecord, start: int,
             expected: int) -> Iterator[tuple[ArchiveRecord | None, RecordOutcome | None]]:
        """Unparsed bytes before ``rec``. Returns where a new session starts, or ``None`` to go on with ``rec``."""
        saved = self.stream.tell()
        nxt = self.scanner.next_start(pending[0].offset if pending is not None else start - 1)
        if pending is not None and nxt is not None and nxt < pending[1]:
            prev = pending[0]  # it ran over a record start: it ends there
            block = self._cut(prev, nxt)
            yield replace(prev, block=block, declared_length=len(block or b""),
                          notes=("content_length_too_long",)), None
            self.position -= 1  # rec is read again from nxt
            return nxt
        if pending is not None:
            yield pending[0], None
        skipped_start = nxt is not None and nxt < rec.offset
        stop = nxt if skipped_start and nxt is not None else rec.offset
        if skipped_start:
            self.position -= 1  # rec is read again in the next session
        if stop > expected + 8 and self._junk(expected, stop):
            self.position += 1
            yield None, RecordOutcome(
                error="unreadable_record",
                message=f"{self.path}: record {self.position} at byte {expected}: {stop - expected} bytes that "
                f"are no record; skipped to the next record at byte {stop}")
            if not skipped_start:
                rec.position += 1
        if skipped_start:
            return nxt
        self.stream.seek(saved)
        return None

    def _record(self, raw: Any, archive: ArchiveIterator) -> ArchiveRecord:
        headers = raw.rec_headers
        length = int(raw.length or 0)
        block = None if length > self.max_bytes else raw.raw_stream.read()
        offset = archive.get_record_offset()  # absolute; asking reads the record to its end, so after the block
        if raw.format != "warc":
            _check_arc_header(headers.get_header("uri"), headers.get_header("archive-date"))
        elif sum(1 for name, _ in headers.headers if name.lower() == "warc-type") > 1:
            # a header cut short ran into the next record's: that record starts at its WARC/ line
            raise ValueError("two records' WARC headers run together (a record cut short)")
        self.position += 1  # only once the record parsed: a failure is numbered where it is counted
        if raw.format == "warc":
            return ArchiveRecord(
                path=self.path, position=self.position, offset=offset, rtype=raw.rec_type,
                url=headers.get_header("WARC-Target-URI"), date=headers.get_header("WARC-Date"),
                record_id=headers.get_header("WARC-Record-ID"), content_type=headers.get_header("Content-Type"),
                declared_length=length, block=block,
            )
        date = headers.get_header("archive-date")
        return ArchiveRecord(  # ARC: no record id (ours is stable: source + position)
            path=self.path, position=self.position, offset=offset,
            rtype="filedesc" if raw.rec_type == "arc_header" else raw.rec_type,
            url=headers.get_header("uri"), date=timestamp_to_iso_date(date) if date else None, record_id=None,
            content_type=headers.get_header("content-type"), declared_length=length, block=block,
        )

    def _short(self, rec: ArchiveRecord) -> Iterator[tuple[ArchiveRecord | None, RecordOutcome | None]]:
        """A block shorter than its declared length: a length that lies, or a file that ends early."""
        assert rec.block is not None
        if self.gzip_members:
            state, _ = record_member(self.stream, rec.offset)
            if state is not MemberState.WHOLE:  # cut short by damage, not by a lying length
                return (yield from self._damaged(rec, state))
        nxt = self.scanner.next_start(rec.offset)
        missing = rec.declared_length - len(rec.block)
        # ClueWeb09 counted lengths before its CRs were stripped: short by at most one byte a line;
        # a gzip stream that ended at damage cut it, whatever it misses
        if nxt is None and (missing > rec.block.count(b"\n") or ended_early(self.stream)):
            yield None, RecordOutcome(
                error="truncated_record",
                message=f"{rec.where} ({rec.record_id or rec.url}): {len(rec.block)} of {rec.declared_length} "
                "bytes; the file ends inside this record (truncated download?); re-download the file to recover it")
            return None
        block = _without_separator(rec.block) if nxt is None or self.gzip_members else self._cut(rec, nxt)
        yield replace(rec, block=block, notes=("content_length_too_long",)), None
        return nxt

    def _settle(self, rec: ArchiveRecord, end: int,
                failed: bool) -> Iterator[tuple[ArchiveRecord | None, RecordOutcome | None]]:
        """The last record of a session: whole, or one whose declared length runs over the next record.

        Returns where to read on: after a failure, right where this record ends, so the next
        session meets the damage first and counts it.
        """
        if self.gzip_members:
            return (yield from self._settle_member(rec, failed))
        if not self.verify_tail and not failed:
            yield rec, None
            return None
        nxt = self.scanner.next_start(rec.offset)
        if nxt is not None and nxt < end:
            # the next record starts inside this one: this one ends there (its length lied)
            block = self._cut(rec, nxt)
            yield replace(rec, block=block, declared_length=len(block or b""), notes=("content_length_too_long",)), None
            return nxt
        yield rec, None
        if not failed:
            return nxt  # None at a clean end; else warcio stopped before a later record start
        return self._skip_blank(max(end, rec.offset + 1))  # always forward, whatever the length said

    def _settle_member(self, rec: ArchiveRecord,
                       failed: bool) -> Iterator[tuple[ArchiveRecord | None, RecordOutcome | None]]:
        """The last record of a session in per-record gzip: whole only if its member inflated whole.

        warcio ends silently at a damaged member: reading stops here also when the member after
        this one is damaged, so unless only empty members follow, a new session starts after it.
        """
        state, end = record_member(self.stream, rec.offset)
        if state is not MemberState.WHOLE:
            return (yield from self._damaged(rec, state))
        if failed and several_records(self.stream, rec.offset):
            self.shared_member = True  # not handed out: the one-stream reading reads it again
            self.position -= 1
            return None
        yield rec, None  # members bound each record: a lying length shows as a short block
        if not failed and blank_after(self.stream, end):
            return None
        return end  # the next session meets what stopped this one, and counts it

    def _damaged(self, rec: ArchiveRecord,
                 state: MemberState) -> Iterator[tuple[ArchiveRecord | None, RecordOutcome | None]]:
        """``rec`` was read from a gzip member that does not inflate: an error, not a record."""
        nxt = self.scanner.next_start(rec.offset)
        if state is MemberState.CUT and nxt is None:
            yield None, RecordOutcome(
                error="truncated_record",
                message=f"{rec.where} ({rec.record_id or rec.url}): the file ends inside this record's gzip member "
                "(truncated download?); re-download the file to recover it")
            return None
        yield None, RecordOutcome(
            error="unreadable_record",
            message=f"{rec.where} ({rec.record_id or rec.url}): its gzip member does not inflate (a changed or "
            f"lost byte: wrong data or checksum); {_resync_note(nxt)}")
        return nxt

    def _unreadable_at(self, start: int, why: str) -> Iterator[tuple[ArchiveRecord | None, RecordOutcome | None]]:
        """No record could be read at ``start`` (``why``): one counted loss; returns the next record start."""
        self.position += 1
        nxt = self.scanner.next_start(start)
        yield None, RecordOutcome(
            error="unreadable_record", message=f"{self.path}: record {self.position} at byte {start}: {why}; "
            f"{_resync_note(nxt)}")
        return nxt

    def _cut(self, rec: ArchiveRecord, nxt: int) -> bytes | None:
        """The block up to the next record start, read again from the (plain) stream.

        ``None`` when even the cut block is over ``max_bytes``.
        """
        self.stream.seek(rec.offset)
        head = self.stream.read(65_536)
        if ARC_LINE.match(head):
            start = head.index(b"\n") + 1
        else:
            ends = [(pos + len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (pos := head.find(sep)) >= 0]
            start = min(ends) if ends else 0
        size = max(0, nxt - rec.offset - start)
        if size > self.max_bytes:
            return None
        self.stream.seek(rec.offset + start)
        return _without_separator(self.stream.read(size))

    def _skip_blank(self, pos: int) -> int | None:
        """The first byte at or after ``pos`` that is not a line end, ``None`` at EOF."""
        while True:
            self.stream.seek(pos)
            chunk = self.stream.read(4096)
            if not chunk:
                return None
            stripped = chunk.lstrip(b"\r\n")
            if stripped:
                return pos + len(chunk) - len(stripped)
            pos += len(chunk)


def _resync_note(nxt: int | None) -> str:
    """Where reading goes on after a loss, for its message."""
    return f"skipped to the next record at byte {nxt}" if nxt is not None else \
        "skipped to the next record (none: the rest of the file is lost)"


def _without_separator(block: bytes) -> bytes:
    """Drop the record separator a too-long length took into the block."""
    for sep in (b"\r\n\r\n", b"\n\n", b"\r\n", b"\n"):
        if block.endswith(sep):
            return block[: -len(sep)]
    return block


def _check_arc_header(uri: str | None, date: str | None) -> None:
    """warcio takes any line of five or more words for an ARC header: garbage must not be a record."""
    if not uri or ":" not in uri or not date or not date.isdigit() or len(date) < 12:
        raise ValueError(f"not an ARC header line (URL {uri!r}, date {date!r})")
