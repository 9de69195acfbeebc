"""A batch of pages shared with the extraction process through one memory-mapped file, not through the pipe.

A batch of 256 pages is tens of MB. Pickled through a pipe it is copied four times (into the pickle, into the
kernel, out of it, into the unpickled objects) in 64 KB round trips; here the worker copies each page once into a
file it shares with its extraction process (in ``/dev/shm`` where it exists, i.e. memory), and the extraction
process copies each page once out of its mapping. Only offsets cross the pipe. The file is unlinked as soon as it
is created: nothing is left behind whatever happens to either process, and a restarted extraction process maps the
same file through the descriptor it inherits.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from collections.abc import Sequence

RELEASE_ABOVE = 256 << 20  # a buffer grown past this by a batch of huge pages is given back after it


def scratch_dir() -> str:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()


class PageBuffer:
    """The worker's side: ``write(pages)`` -> (offset, length) per page; ``fd`` is inherited by the child."""

    def __init__(self) -> None:
        fd, path = tempfile.mkstemp(prefix="curate-pages-", dir=scratch_dir())
        os.unlink(path)
        self.fd = fd
        self._map: mmap.mmap | None = None
        self.size = 0

    def write(self, pages: Sequence[bytes | memoryview]) -> list[tuple[int, int]]:
        total = sum(len(p) for p in pages)
        if total > self.size:
            self._resize(total)
        spans, at = [], 0
        for page in pages:
            n = len(page)
            if n:
                assert self._map is not None
                self._map[at:at + n] = page
            spans.append((at, n))
            at += n
        return spans

    def release_if_large(self) -> None:
        if self.size > RELEASE_ABOVE:
            self._resize(0)

    def _resize(self, size: int) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        os.ftruncate(self.fd, size)
        self.size = size
        if size:
            self._map = mmap.mmap(self.fd, size)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        try:
            os.close(self.fd)
        except OSError:
            pass


class PageReader:
    """The extraction process's side: ``page(offset, length, size)`` -> the page's bytes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._map: mmap.mmap | None = None
        self._size = 0

    def page(self, offset: int, length: int, size: int) -> bytes:
        if size != self._size:  # the worker grew or shrank the file for this batch
            if self._map is not None:
                self._map.close()
            self._map = mmap.mmap(self.fd, size, access=mmap.ACCESS_READ) if size else None
            self._size = size
        if not length or self._map is None:
            return b""
        return self._map[offset:offset + length]
