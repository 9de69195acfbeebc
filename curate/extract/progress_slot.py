"""Which page of a batch the extraction process is on, in memory both processes map: no pipe message per page.

The extraction process answers a batch in one message, sent at the batch's end. A message per page
cost a write and a wake-up of the waiting worker per page: about 0.07 ms of CPU per page on this project's
2-core VM, 2% of the ``balanced`` engine (benchmarks/RESULTS.md, "extraction_overhead"). When the process dies on
a page (CPU budget, crash), the batch's answers are lost with it; the worker reads here which page it
died on, counts that page's error and sends the rest of the batch to a fresh process. Like the page file
(:mod:`page_buffer`), the file is unlinked at once and reaches a restarted process through the descriptor.
"""

from __future__ import annotations

import mmap
import os
import tempfile

from curate.extract.page_buffer import scratch_dir

NONE = -1  # no page started yet in this batch


class ProgressSlot:
    """One signed 64-bit number, ``value``. ``ProgressSlot()`` creates it (the worker); ``ProgressSlot(fd)``
    maps the one the worker created (the extraction process)."""

    def __init__(self, fd: int | None = None) -> None:
        if fd is None:
            fd, path = tempfile.mkstemp(prefix="curate-progress-", dir=scratch_dir())
            os.unlink(path)
            os.ftruncate(fd, 8)
        self.fd = fd
        self._map = mmap.mmap(fd, 8)
        self._value = memoryview(self._map).cast("q")
        self._value[0] = NONE

    @property
    def value(self) -> int:
        return int(self._value[0])

    @value.setter
    def value(self, position: int) -> None:
        self._value[0] = position

    def close(self) -> None:
        self._value.release()
        self._map.close()
        try:
            os.close(self.fd)
        except OSError:
            pass
