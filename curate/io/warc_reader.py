"""WARC / WET reader: FastWARC on the fast path, warcio with resync after the first anomaly.

Handles per-record gzip, a file gzipped as one stream (its first member that holds anything holds
more than one record; FastWARC's offsets in it are not records', so Python's gzip feeds it
instead, through :class:`~curate.io.gzip_stream_view.GzipStreamView`, which ends where the stream is
cut or damaged), zstd per the IIPC "WARC zstd" proposal (a frame per record, with or without a
dictionary: :class:`~curate.io.zstd_frame_stream.ZstdFrameStream` feeds the decompressed records,
resyncing past damaged frames), plain ``.warc``, WET ``conversion`` records (text, no extraction
needed), WARC/0.17 to 1.1 and any fsspec URL. Every record is accounted for: emitted, skipped by
reason, or errored with the file, record number and byte offset named.

FastWARC reads until it stops (end of file, an empty gzip member, a parse error, a short body);
a record is counted only once the record after it parsed. A cheap check that nothing follows the
last record (one gzip member inflated, or one header read) closes a clean file; otherwise, from the
first record not yet counted, :class:`~curate.io.careful_archive.CarefulArchive` reads the rest
with warcio and resyncs past damage (a damaged gzip member is its record's counted error). A gzip
member holding several records after per-record ones (two files concatenated) is met by either
pass; the rest of the file is then read as one stream, from the first record not yet counted.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import fsspec
import pyarrow as pa

from curate.io.careful_archive import CarefulArchive
from curate.io.fast_warc_pass import FastWarcPass
from curate.io.gzip_member import several_records
from curate.io.gzip_stream_view import GzipStreamView, ended_early
from curate.io.read_counts import EMPTY_FILE, ReadCounts
from curate.io.reader_base import BatchBuilder, Reader
from curate.io.record_converter import RecordConverter, record_id_for
from curate.io.sync_scanner import GZIP_MAGIC, first_record_end
from curate.io.zstd_dictionary import ZSTD_STARTS, ZstdDictionaryError
from curate.io.zstd_frame_stream import ZstdFrameStream

__all__ = ["WarcReader", "record_id_for"]

UNREADABLE_REST = "unreadable_rest"  # the careful path itself failed: a reader bug, never expected


def _ends_cleanly(stream: BinaryIO, offset: int, gzip_members: bool) -> bool:
    """Whether the record at ``offset`` is the file's last and ends where its length says.

    FastWARC ends silently at an empty gzip member or at bytes it cannot parse; this cheap check
    (one member inflated, or one header read) spares clean files the careful path.
    """
    stream.seek(offset)
    if gzip_members:
        data = stream.read(_TAIL_LIMIT + 1)
        if len(data) > _TAIL_LIMIT:
            return False
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        head, total, end = b"", 0, None
        try:
            while data and not inflater.eof:  # in 1 MB steps: memory stays bounded whatever the record
                out = inflater.decompress(data, 1 << 20)
                data = inflater.unconsumed_tail
                if end is None:
                    head = (head + out)[: 1 << 20]
                    end = first_record_end(head)
                if end is not None and total + len(out) > end - 4 and out[max(0, end - 4 - total):].strip():
                    return False  # bytes after the record's declared end
                total += len(out)
        except zlib.error:
            return False
        return inflater.eof and not inflater.unused_data and end is not None and total >= end - 4
    end = first_record_end(stream.read(65_536))
    if end is None:
        return False
    size = stream.seek(0, 2)
    if offset + end - 4 > size:
        return False  # a length past the end of the file
    stream.seek(offset + end - 4)
    rest = stream.read(4096)
    return len(rest) < 4096 and not rest.strip()


_TAIL_LIMIT = 16 << 20  # a last member larger than this goes to the careful path


def _member_starts_at(stream: BinaryIO, offset: int) -> bool:
    """Whether a gzip member starts at ``offset``: in per-record gzip, FastWARC's offset of every record."""
    stream.seek(offset)
    return stream.read(3) == GZIP_MAGIC


class WarcReader(Reader):
    """Reads WARC and WET files (``.warc``, ``.warc.gz``, ``.warc.zst``, ``.wet.gz``), local or fsspec URLs.

    Settings: ``max_bytes`` skips bodies larger than this (huge pages: counted as
    ``skipped:too_large``); ``html_only`` drops non-HTML responses (``skipped:non_html:<mime>``); ``captures``
    reads every response whatever its status and type, with ``http_status`` and ``http_location`` columns
    (robots.txt captures, see :class:`~curate.io.record_converter.RecordConverter`).
    """

    name: ClassVar[str] = "warc"
    suffixes: ClassVar[tuple[str, ...]] = (".warc", ".warc.gz", ".warc.zst", ".wet", ".wet.gz", ".wet.zst")
    fast_path: ClassVar[bool] = True

    def __init__(self, batch_size: int = 256, max_bytes: int = 10_000_000, html_only: bool = True,
                 captures: bool = False) -> None:
        super().__init__(batch_size)
        self.max_bytes = max_bytes
        self.html_only = html_only
        self.converter = RecordConverter(max_bytes, html_only, captures)

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:
        builder = BatchBuilder(self.batch_size)
        with fsspec.open(path, "rb") as raw:
            yield from self.read_handle(raw, path, counts, builder)
        last = builder.flush()
        if last is not None:
            yield last

    def read_handle(self, raw: BinaryIO, path: str, counts: ReadCounts, builder: BatchBuilder) -> Iterator[pa.Table]:
        """One archive from an open seekable handle (its byte 0 is the archive's), named ``path``.

        Full batches are yielded; the caller flushes ``builder`` (a WACZ reads several WARCs into
        the same batches).
        """
        magic = raw.read(4)
        if not magic:
            counts.records += 1
            counts.error(EMPTY_FILE, f"{path}: the file is empty (0 bytes), nothing to read; fetch it again")
            return
        if magic[:3] == GZIP_MAGIC and several_records(raw, 0):
            yield from self._read_one_stream(raw, path, counts, builder)
        elif magic in ZSTD_STARTS:
            try:
                frames = ZstdFrameStream(raw, path, counts, frame_limit=max(64 << 20, self.max_bytes + (1 << 20)))
            except ZstdDictionaryError as exc:
                counts.records += 1
                counts.error("unreadable_dictionary", str(exc))
                return
            # seeking back costs one frame's inflation: the plain-file checks apply
            yield from self._read_stream(frames, path, counts, builder, gzip_members=False, native=True)
        else:
            raw.seek(0)
            yield from self._read_stream(raw, path, counts, builder, gzip_members=magic[:3] == GZIP_MAGIC,
                                         native=True)

    def _read_stream(self, stream: BinaryIO, path: str, counts: ReadCounts, builder: BatchBuilder,
                     gzip_members: bool, native: bool, skip: int = 0) -> Iterator[pa.Table]:
        """The records of ``stream``; the first ``skip`` were counted already (they are read, not counted)."""
        start, position, seen = 0, 0, 0
        if self.fast_path:
            fast = FastWarcPass(self.converter, path, check_merged=not gzip_members,
                                gzip_members=gzip_members and native)
            for outcome in fast.outcomes(stream, native):
                seen += 1
                table = outcome.apply(counts, builder) if seen > skip else None
                if table is not None:
                    yield table
            start, position = fast.resume_offset, fast.position
            if gzip_members and (fast.shared_member or not _member_starts_at(stream, start)):
                # a gzip member holding several records after per-record ones: FastWARC's offsets
                # are no record's from there, so the rest is read as one stream
                yield from self._read_one_stream(stream, path, counts, builder, skip=position)
                return
            if fast.clean_end and not native and not ended_early(stream):
                return  # whole-file gzip: seeking back means inflating the file again
            if fast.clean_end and native and fast.pending is not None and _ends_cleanly(stream, start, gzip_members):
                table = fast.pending.apply(counts, builder)  # the last record, and nothing after it
                if table is not None:
                    yield table
                return
        careful = CarefulArchive(stream, path, gzip_members, self.max_bytes, verify_tail=native)
        try:
            for rec, loss in careful.records(start, position):
                outcome = loss if rec is None else self.converter.convert(rec)
                seen += 1
                table = outcome.apply(counts, builder) if seen > skip else None
                if table is not None:
                    yield table
        except Exception as exc:  # noqa: BLE001 - last resort: the shard goes on with what was read
            counts.records += 1
            counts.error(UNREADABLE_REST, f"{path}: after record {careful.position}: {type(exc).__name__}: {exc}; "
                         "the rest of the file was not read (please report this file)")
        if careful.shared_member:
            yield from self._read_one_stream(stream, path, counts, builder, skip=seen)

    def _read_one_stream(self, raw: BinaryIO, path: str, counts: ReadCounts, builder: BatchBuilder,
                         skip: int = 0) -> Iterator[pa.Table]:
        """Every gzip member inflated as one stream (empty members too), records from the first.

        Damage ends the stream (one deflate stream cannot be resynced): the record it cuts is
        counted by the parsers, else the loss is counted here, once.
        """
        raw.seek(0)
        before = _losses(counts)
        with GzipStreamView(raw) as view:
            yield from self._read_stream(view, path, counts, builder, gzip_members=False, native=False, skip=skip)
        if view.damage is not None and _losses(counts) == before:
            counts.records += 1
            if view.cut:
                counts.error("truncated_record", f"{path}: the file ends inside its gzip stream, at inflated byte "
                             f"{view.damage_at} (truncated download?); the records before it were read, any after "
                             "it are lost: re-download the file to recover them")
            else:
                counts.error("unreadable_record", f"{path}: its gzip stream is damaged at inflated byte "
                             f"{view.damage_at} ({view.damage}): a file gzipped as one stream cannot be read past "
                             "damage; the records before it were read (with a wrong checksum, one of them may "
                             "hold a changed byte), any after it are lost")


def _losses(counts: ReadCounts) -> int:
    """Records the careful path counted as lost to damage (a cut or unreadable record)."""
    return counts.errored["truncated_record"] + counts.errored["unreadable_record"]
