"""WARC / WET reader: FastWARC on the fast path, warcio with resync after the first anomaly.

Handles per-record gzip, whole-file single gzip member (FastWARC's own decompressor stops on
those; Python's gzip feeds it instead), zstd per the IIPC "WARC zstd" proposal (a frame per record,
with or without a dictionary: :class:`~curate.io.zstd_frame_stream.ZstdFrameStream` feeds the
decompressed records, resyncing past damaged frames), plain ``.warc``, WET ``conversion`` records (text, no
extraction needed), WARC/0.17 to 1.1 and any fsspec URL. Every record is accounted for: emitted,
skipped by reason, or errored with the file, record number and byte offset named.

FastWARC reads until it stops (end of file, an empty gzip member, a parse error, a short body);
a record is counted only once the record after it parsed. A cheap check that nothing follows the
last record (one gzip member inflated, or one header read) closes a clean file; otherwise, from the
first record not yet counted, :class:`~curate.io.careful_archive.CarefulArchive` reads the rest
with warcio and resyncs past damage.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import fsspec
import pyarrow as pa

from curate.io.careful_archive import CarefulArchive
from curate.io.fast_warc_pass import FastWarcPass
from curate.io.read_counts import ReadCounts
from curate.io.reader_base import BatchBuilder, Reader
from curate.io.record_converter import RecordConverter, record_id_for
from curate.io.sync_scanner import ARC_LINE, GZIP_MAGIC, WARC_LINE
from curate.io.zstd_dictionary import ZSTD_STARTS, ZstdDictionaryError
from curate.io.zstd_frame_stream import ZstdFrameStream

__all__ = ["WarcReader", "record_id_for"]

UNREADABLE_REST = "unreadable_rest"  # the careful path itself failed: a reader bug, never expected


def _first_record_end(head: bytes) -> int | None:
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


def _whole_file_gzip(raw: BinaryIO) -> bool:
    """Whether the first gzip member holds more than its first record (one member per file).

    Inflates the first member only until its first record's declared end (keeping its head only);
    per-record gzip ends the member there.
    """
    raw.seek(0)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = b""
    total = 0
    need: int | None = None
    while not inflater.eof:
        chunk = raw.read(65_536)
        if not chunk:
            return False
        try:
            out = inflater.decompress(chunk)
        except zlib.error:
            return False
        total += len(out)
        if inflater.eof:
            return False  # the member ended: one record per member (or a short file)
        if need is None:
            head = (head + out)[: 1 << 20]
            need = _first_record_end(head)
            if need is None and total >= 1 << 20:
                return False  # no record header in the first MB: leave it to the careful path
        if need is not None and total > need + 64:
            return True
    return False


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
                    end = _first_record_end(head)
                if end is not None and total + len(out) > end - 4 and out[max(0, end - 4 - total):].strip():
                    return False  # bytes after the record's declared end
                total += len(out)
        except zlib.error:
            return False
        return inflater.eof and not inflater.unused_data and end is not None and total >= end - 4
    end = _first_record_end(stream.read(65_536))
    if end is None:
        return False
    size = stream.seek(0, 2)
    if offset + end - 4 > size:
        return False  # a length past the end of the file
    stream.seek(offset + end - 4)
    rest = stream.read(4096)
    return len(rest) < 4096 and not rest.strip()


_TAIL_LIMIT = 16 << 20  # a last member larger than this goes to the careful path


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
        if magic[:3] == GZIP_MAGIC and _whole_file_gzip(raw):
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield from self._read_stream(unzipped, path, counts, builder, gzip_members=False,
                                             native=False)
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
                     gzip_members: bool, native: bool) -> Iterator[pa.Table]:
        start, position = 0, 0
        if self.fast_path:
            fast = FastWarcPass(self.converter, path, check_merged=not gzip_members)
            for outcome in fast.outcomes(stream, native):
                table = outcome.apply(counts, builder)
                if table is not None:
                    yield table
            start, position = fast.resume_offset, fast.position
            if fast.clean_end and not native:
                return  # whole-file gzip: seeking back means inflating the file again
            if fast.clean_end and fast.pending is not None and _ends_cleanly(stream, start, gzip_members):
                table = fast.pending.apply(counts, builder)  # the last record, and nothing after it
                if table is not None:
                    yield table
                return
        careful = CarefulArchive(stream, path, gzip_members, self.max_bytes, verify_tail=native)
        try:
            for rec, loss in careful.records(start, position):
                outcome = loss if rec is None else self.converter.convert(rec)
                if outcome is None:
                    continue
                table = outcome.apply(counts, builder)
                if table is not None:
                    yield table
        except Exception as exc:  # noqa: BLE001 - last resort: the shard goes on with what was read
            counts.records += 1
            counts.error(UNREADABLE_REST, f"{path}: after record {careful.position}: {type(exc).__name__}: {exc}; "
                         "the rest of the file was not read (please report this file)")
