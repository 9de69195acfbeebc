"""The part every read-only, seekable view of curate's readers shares: a position and ``readinto`` from ``read``."""

from __future__ import annotations

import io


class ReadOnlyView(io.RawIOBase):
    """Subclasses implement ``read(size)`` and ``seek``, keeping the position in ``_pos``."""

    def __init__(self) -> None:
        super().__init__()
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
