"""A read-only, seekable view of a byte range of an open file, as if it were a file of its own."""

from __future__ import annotations

from typing import BinaryIO

from curate.io.read_only_view import ReadOnlyView


class ByteWindow(ReadOnlyView):
    """Bytes ``[start, start + size)`` of ``raw``; offset 0 here is ``start`` there.

    A STORED member of a ZIP read in place (no copy, no extraction); the handle is shared and left
    open. Reads past the end of ``raw`` (a truncated ZIP) simply end early.
    """

    def __init__(self, raw: BinaryIO, start: int, size: int) -> None:
        super().__init__()
        self.raw = raw
        self.start = start
        self.size = size

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        left = self.size - self._pos
        if left <= 0:
            return b""
        want = left if size is None or size < 0 else min(size, left)
        self.raw.seek(self.start + self._pos)
        data = self.raw.read(want)
        self._pos += len(data)
        return data
