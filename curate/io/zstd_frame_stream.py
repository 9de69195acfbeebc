"""A ``.warc.zst`` file read as the plain WARC it holds, frame by frame, past damaged frames.

The IIPC "WARC zstd" proposal compresses every record as its own zstd frame (with the file's
dictionary, if a dictionary frame opens it: :class:`~curate.io.zstd_dictionary.ZstdDictionary`);
other skippable frames may come between them. This stream decompresses one whole frame at a time
(python-zstandard's ``decompressobj`` stops at the frame's end and hands back the bytes after it),
so a frame is checked (its checksum, its end) before any of its bytes reach the WARC parser. A
damaged frame is lost whole, like a damaged gzip member: counted as one ``unreadable_record``
(``truncated_record`` when the file ends inside it), its compressed bytes to the next good frame
as ``zstd_bytes_lost``; the next frame whose first bytes are a WARC or ARC header line is the next
record. The WARC reader above sees a clean plain file.

Offsets (``source = file#offset``) are in the decompressed stream, as for whole-file gzip. Seeking
back (the reader's end checks and resync) inflates again from the frame that holds the offset; the
frame index is 16 bytes a record, per file.
"""

from __future__ import annotations

import bisect
from typing import BinaryIO

import zstandard

from curate.errors import CurateError
from curate.io.read_counts import ReadCounts
from curate.io.read_only_view import ReadOnlyView
from curate.io.sync_scanner import starts_record
from curate.io.zstd_dictionary import ZSTD_MAGIC, ZstdDictionary, is_skippable

_CHUNK = 1 << 16
_SCAN = 1 << 20


class _FrameDamage(CurateError):
    """A frame that does not decompress to its end; ``truncated`` when the file ends inside it."""

    def __init__(self, reason: str, truncated: bool = False) -> None:
        super().__init__(reason)
        self.truncated = truncated


class ZstdFrameStream(ReadOnlyView):
    """Read-only, seekable view of the decompressed records of a ``.warc.zst`` handle.

    ``frame_limit``: a frame that decompresses to more than this is skipped (``too_large``)
    rather than held in memory.
    """

    def __init__(self, raw: BinaryIO, path: str, counts: ReadCounts, frame_limit: int = 64 << 20) -> None:
        super().__init__()
        self.raw = raw
        self.path = path
        self.counts = counts
        self.frame_limit = frame_limit
        self.decompressor, first = ZstdDictionary.load(raw, path)
        self._starts: list[int] = [0]  # decompressed offset of each frame read so far ...
        self._frames: list[int] = [first]  # ... and where it starts in the file
        self._next: int | None = first  # the file offset after the last frame read (None: EOF)
        self._buf = b""  # the frame that holds decompressed offset _buf_start
        self._buf_start = 0
        self._buf_frame = -1  # its index in _starts
        self._counted: set[int] = set()  # damaged frames already counted (seeking back meets them again)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 1:
            offset += self._pos
        elif whence == 2:
            while self._next is not None:
                self._advance()
            offset += self._starts[-1]
        self._pos = max(0, offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        parts: list[bytes] = []
        want = size if size is not None and size >= 0 else 1 << 62
        while want > 0 and self._load(self._pos):
            at = self._pos - self._buf_start
            piece = self._buf[at: at + want]
            parts.append(piece)
            self._pos += len(piece)
            want -= len(piece)
        return b"".join(parts)

    def _load(self, pos: int) -> bool:
        """Make ``_buf`` the frame holding ``pos``; ``False`` at the end of the stream."""
        if self._buf_start <= pos < self._buf_start + len(self._buf):
            return True
        while pos >= self._starts[-1] and self._next is not None:
            self._advance()  # reads on past the last frame known
        index = bisect.bisect_right(self._starts, pos) - 1
        if index >= len(self._frames) or pos >= self._starts[-1]:
            return False  # at or past the end
        if index != self._buf_frame:
            data, _ = self._frame(self._frames[index])  # read whole before: it decompresses again
            self._buf, self._buf_start, self._buf_frame = data or b"", self._starts[index], index
        return self._buf_start <= pos < self._buf_start + len(self._buf)

    def _advance(self) -> None:
        """Read the next frame after the last known one: index it, or find the stream's end."""
        assert self._next is not None
        found = self._next_frame(self._next)
        if found is None:
            self._next = None
            return
        start, data, end = found
        # the last index entry is the frame starting at the stream's current end
        self._frames[-1] = start
        self._buf, self._buf_start, self._buf_frame = data, self._starts[-1], len(self._starts) - 1
        self._starts.append(self._starts[-1] + len(data))
        self._frames.append(end)
        self._next = end

    def _next_frame(self, offset: int) -> tuple[int, bytes, int] | None:
        """The first readable data frame at or after ``offset``: (start, data, end); ``None`` at EOF."""
        while True:
            self.raw.seek(offset)
            head = self.raw.read(8)
            if not head:
                return None
            if is_skippable(head[:4]) and len(head) == 8:
                offset += 8 + int.from_bytes(head[4:8], "little")  # an extension frame: no records
                continue
            try:
                data, end = self._frame(offset)
            except _FrameDamage as damage:
                resume = self._resync(offset)
                self._count_loss(offset, resume, damage)
                if resume is None:
                    return None
                offset = resume
                continue
            if data is None:  # too large to hold: skipped, counted once
                if offset not in self._counted:
                    self._counted.add(offset)
                    self.counts.records += 1
                    self.counts.skip("too_large")
                offset = end
                continue
            return offset, data, end

    def _frame(self, offset: int) -> tuple[bytes | None, int]:
        """Decompress the frame at ``offset`` whole: (data, offset after it); ``data`` is ``None`` if too large."""
        self.raw.seek(offset)
        inflater = self.decompressor.decompressobj()
        parts: list[bytes] = []
        size, read = 0, 0
        while not inflater.eof:
            chunk = self.raw.read(_CHUNK)
            if read == 0 and not chunk.startswith(ZSTD_MAGIC):
                raise _FrameDamage("no zstd frame starts here")
            if not chunk:
                raise _FrameDamage("the file ends inside this frame", truncated=True)
            read += len(chunk)
            try:
                out = inflater.decompress(chunk)
            except zstandard.ZstdError as exc:
                raise _FrameDamage(str(exc)) from exc
            size += len(out)
            if size > self.frame_limit:
                return None, self._skip_frame(inflater, offset, read)
            parts.append(out)
        return b"".join(parts), offset + read - len(inflater.unused_data)

    def _skip_frame(self, inflater: zstandard.ZstdDecompressionObj, offset: int, read: int) -> int:
        """Inflate the rest of a too-large frame without keeping it; the offset after it."""
        while not inflater.eof:
            chunk = self.raw.read(_CHUNK)
            if not chunk:
                raise _FrameDamage("the file ends inside this frame", truncated=True)
            read += len(chunk)
            try:
                inflater.decompress(chunk)
            except zstandard.ZstdError as exc:
                raise _FrameDamage(str(exc)) from exc
        return offset + read - len(inflater.unused_data)

    def _resync(self, offset: int) -> int | None:
        """The next zstd frame after ``offset`` whose first bytes are a record header line."""
        pos = offset + 1
        while True:
            self.raw.seek(pos)
            chunk = self.raw.read(_SCAN + 4)
            i = chunk.find(ZSTD_MAGIC)
            while i >= 0:
                if starts_record(self._head(pos + i)):
                    return pos + i
                i = chunk.find(ZSTD_MAGIC, i + 1)
            if len(chunk) <= 4:
                return None
            pos += len(chunk) - 3

    def _head(self, offset: int) -> bytes:
        """The first decompressed bytes of a candidate frame (``b""`` if it is none)."""
        self.raw.seek(offset)
        try:
            return self.decompressor.decompressobj().decompress(self.raw.read(1 << 17))[:256]
        except zstandard.ZstdError:
            return b""

    def _count_loss(self, offset: int, resume: int | None, damage: _FrameDamage) -> None:
        if offset in self._counted:
            return
        self._counted.add(offset)
        end = resume if resume is not None else self.raw.seek(0, 2)
        self.counts.records += 1
        self.counts.count("zstd_bytes_lost", end - offset)
        where = f"{self.path}: zstd frame at byte {offset}"
        if damage.truncated and resume is None:
            self.counts.error("truncated_record", f"{where}: the file ends inside this record's frame "
                              "(truncated download?); re-download the file to recover it")
            return
        self.counts.error("unreadable_record", f"{where}: {damage}; {end - offset} bytes lost, skipped to the "
                          + (f"next frame at byte {resume}" if resume is not None else "end (no frame after it)"))
