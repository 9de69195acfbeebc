"""A file gzipped as one stream, read as the plain WARC or ARC it holds, up to where it is damaged.

Python's ``gzip`` inflates every member in turn (empty ones too) and raises where the stream is cut
short (``EOFError``) or damaged (``BadGzipFile``: a wrong CRC-32 or length; ``zlib.error``: bad
data). One deflate stream cannot be resynced after damage, so this view ends there, as if the file
ended, and remembers why: the parsers above see a clean end (a record cut by it comes up short and
is counted), and the reader counts the loss once (``damage``).
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import BinaryIO

from curate.io.read_only_view import ReadOnlyView

_STEP = 1 << 16


class GzipStreamView(ReadOnlyView):
    """Read-only, seekable view of the inflated bytes of ``raw`` (seeking back inflates again)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.gz = gzip.GzipFile(fileobj=raw)
        self.damage: str | None = None  # why the stream ends early, if it does
        self.damage_at: int | None = None  # the inflated offset where it does
        self.cut = False  # the file ends inside the stream (a truncated download), not bad bytes

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 2:
            raise io.UnsupportedOperation("a gzip stream has no known end")
        self._pos = max(0, offset + (self._pos if whence == 1 else 0))
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        want = -1 if size is None or size < 0 else size
        if want == 0 or (self.damage_at is not None and self._pos >= self.damage_at):
            return b""
        if self.damage_at is None:  # the common case: one read, as from the gzip file itself
            try:
                if self.gz.tell() != self._pos:
                    self.gz.seek(self._pos)
                data = self.gz.read(want)
                self._pos += len(data)
                return data
            except (OSError, EOFError, zlib.error):
                self.gz.rewind()  # read again in steps, keeping what comes before the damage
        if self.damage_at is not None and want < 0:
            want = self.damage_at - self._pos
        out: list[bytes] = []
        got = 0
        try:
            if self.gz.tell() != self._pos:
                self.gz.seek(self._pos)
            while want < 0 or got < want:
                step = _STEP if want < 0 else min(_STEP, want - got)
                if self.damage_at is not None:
                    step = min(step, self.damage_at - self._pos - got)
                    if step <= 0:
                        break
                chunk = self.gz.read1(step)
                if not chunk:
                    break
                out.append(chunk)
                got += len(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            self._damaged(exc, self._pos + got)
        self._pos += got
        return b"".join(out)

    def _damaged(self, exc: BaseException, at: int) -> None:
        if self.damage_at is None or at < self.damage_at:
            self.damage_at = at
            self.cut = isinstance(exc, EOFError)
            self.damage = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        self.gz.close()
        super().close()


def ended_early(stream: object) -> bool:
    """Whether ``stream`` is a gzip stream view that ended at damage (before its true end)."""
    return isinstance(stream, GzipStreamView) and stream.damage is not None
