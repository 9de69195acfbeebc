"""An fsspec filesystem that wraps another and counts its requests and bytes: ``counting::s3://bucket/path``.

Object stores bill, throttle and slow down per request, so the dedup shuffle is designed against request
counts (DESIGN "Dedup at one dump"). This wrapper measures them instead of guessing: every call that reaches
the wrapped filesystem is counted by the kind of request it makes on an object store:

- ``get`` / ``get_bytes``: reads (``cat_file`` with or without a range; a file opened for reading fetches
  its blocks through ``cat_file``, one request per block, as s3fs does);
- ``meta_get`` / ``meta_bytes``: the subset of reads that are metadata, not payload: small index and marker
  files (:data:`METADATA_SUFFIXES`) and the tail of a Parquet file (its footer: a read that ends at the
  file's end and does not start at 0); every other read's size goes to a log-scale histogram
  (``read_sizes``: bucket ``round(8 * log2(size))``), whence the median payload read;
- ``head``: metadata requests without payload (``info``, ``exists``, ``isfile``, ``isdir``, ``size``);
- ``list``: listings (``ls``, ``find``, ``glob``, ``walk``; one per 1,000 keys returned, as S3 pages them);
- ``put`` / ``put_bytes``: writes (``pipe_file`` is one PUT; a file written in ``n > 1`` blocks is a multipart
  upload: ``n`` parts + create + complete);
- ``delete``, ``copy``: one per 1,000 keys deleted, one per object copied.

Counts live in the process (:func:`snapshot`); :class:`CountedCall` wraps a task function so that each task
returns the requests it made, whatever process or Ray worker ran it. The wrapper is registered with fsspec
as the ``counting`` protocol (``curate.storage`` registers it on import), so a URL is all a task needs.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import fsspec
from fsspec.implementations.chained import ChainedFileSystem
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

METADATA_SUFFIXES = (".json", ".done", ".index", ".offsets")
KEYS_PER_LIST = 1000  # S3 ListObjectsV2 and DeleteObjects handle up to 1,000 keys per request
_COUNTS: Counter[str] = Counter()
_SIZES: Counter[int] = Counter()


def is_metadata(path: str, start: int, end: int, size: int | None) -> bool:
    """Whether a read of ``[start, end)`` of ``path`` (``size`` bytes) fetches metadata rather than payload."""
    if path.endswith(METADATA_SUFFIXES):
        return True
    return path.endswith(".parquet") and size is not None and start > 0 and end >= size


def _read(path: str, start: int, end: int, size: int | None, n: int) -> None:
    _COUNTS["get"] += 1
    _COUNTS["get_bytes"] += n
    if is_metadata(path, start, end, size):
        _COUNTS["meta_get"] += 1
        _COUNTS["meta_bytes"] += n
    else:
        _SIZES[round(8 * math.log2(n)) if n > 0 else -1] += 1


def snapshot() -> dict[str, Any]:
    """This process's counts so far: ``{kind: count, ..., "read_sizes": {bucket: reads}}``."""
    return {**dict(_COUNTS), "read_sizes": dict(_SIZES)}


def difference(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    out = {k: v - before.get(k, 0) for k, v in after.items() if k != "read_sizes"}
    sizes = {b: n - before.get("read_sizes", {}).get(b, 0) for b, n in after.get("read_sizes", {}).items()}
    out = {k: v for k, v in out.items() if v}
    out["read_sizes"] = {b: n for b, n in sizes.items() if n}
    return out


def add(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """``total`` + ``part`` (both as :func:`snapshot` returns them), in place; returns ``total``."""
    for k, v in part.items():
        if k == "read_sizes":
            sizes = total.setdefault("read_sizes", {})
            for b, n in v.items():
                sizes[int(b)] = sizes.get(int(b), 0) + n
        else:
            total[k] = total.get(k, 0) + v
    return total


def median_read(counts: dict[str, Any]) -> float:
    """Median payload read in bytes, from the histogram (to its bucket's ~9% resolution); 0 with no reads."""
    sizes = sorted((int(b), n) for b, n in counts.get("read_sizes", {}).items())
    total = sum(n for _, n in sizes)
    seen = 0
    for bucket, n in sizes:
        seen += n
        if 2 * seen >= total:
            return 0.0 if bucket < 0 else 2 ** (bucket / 8)
    return 0.0


def requests(counts: dict[str, Any]) -> int:
    """All requests: reads, metadata requests, listings, writes, deletes, copies."""
    return sum(int(counts.get(k, 0)) for k in ("get", "head", "list", "put", "delete", "copy"))


class CountedCall:
    """``fn`` made to return ``(result, requests it made)``; picklable when ``fn`` is (for process pools, Ray)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "task")

    def __call__(self, item: Any) -> tuple[Any, dict[str, Any]]:
        before = snapshot()
        result = self.fn(item)
        return result, difference(snapshot(), before)


class _CountingReadFile(AbstractBufferedFile):
    """Blocks fetched with one ranged ``cat_file`` each (what s3fs's file does with a GET per block)."""

    def _fetch_range(self, start: int, end: int) -> bytes:
        data = self.fs.fs.cat_file(self.path, start=start, end=end)
        _read(self.path, start, end, self.size, len(data))
        return data


class _CountingWriteFile(AbstractBufferedFile):
    """Blocks passed to a file of the wrapped filesystem opened with the same block size, so each block is
    one part of its multipart upload."""

    def _initiate_upload(self) -> None:
        self._inner = self.fs.fs.open(self.path, "wb", block_size=self.blocksize)
        self._parts = 0

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getvalue()
        if data or final:
            self._inner.write(data)
            self._parts += 1
            _COUNTS["put_bytes"] += len(data)
        if final:
            self._inner.close()
            _COUNTS["put"] += self._parts + (2 if self._parts > 1 else 0)
        return True

    def discard(self) -> None:
        inner = getattr(self, "_inner", None)
        if inner is not None and hasattr(inner, "discard"):
            inner.discard()
            inner.closed = True
        self.buffer = io.BytesIO()


class CountingFileSystem(ChainedFileSystem):
    """Wraps ``fs`` (or the filesystem of ``target_protocol``/``target_options``) and counts its requests."""

    protocol = "counting"
    root_marker = ""

    def __init__(self, fs: AbstractFileSystem | None = None, target_protocol: str | None = None,
                 target_options: dict[str, Any] | None = None, fo: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fs = fs if fs is not None else fsspec.filesystem(target_protocol, **(target_options or {}))
        self.root_marker = self.fs.root_marker
        self.blocksize = getattr(self.fs, "blocksize", 2**22)

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return path[len("counting://"):] if str(path).startswith("counting://") else path

    def unstrip_protocol(self, name: str) -> str:
        return self.fs.unstrip_protocol(name)

    # -- reads -----------------------------------------------------------------------------------------
    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        data = self.fs.cat_file(path, start=start, end=end, **kwargs)
        _read(path, start or 0, (start or 0) + len(data), None, len(data))
        return data

    def cat_ranges(self, paths: list[str], starts: list[int], ends: list[int], **kwargs: Any) -> list[bytes]:
        out = self.fs.cat_ranges(paths, starts, ends, **kwargs)
        for path, start, data in zip(paths, starts, out, strict=True):
            _read(path, start, start + len(data), None, len(data))
        return out

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None, autocommit: bool = True,
              cache_options: dict[str, Any] | None = None, cache_type: str | None = None, size: int | None = None,
              **kwargs: Any) -> AbstractBufferedFile:
        block = block_size or getattr(self.fs, "default_block_size", None) or self.blocksize
        if "r" in mode:
            return _CountingReadFile(self, path, mode, block_size=block, cache_type=cache_type or "readahead",
                                     cache_options=cache_options, size=size)
        return _CountingWriteFile(self, path, mode, block_size=block)

    # -- metadata --------------------------------------------------------------------------------------
    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        _COUNTS["head"] += 1
        return self.fs.info(path, **kwargs)

    def exists(self, path: str, **kwargs: Any) -> bool:
        _COUNTS["head"] += 1
        return self.fs.exists(path, **kwargs)

    def isfile(self, path: str) -> bool:
        _COUNTS["head"] += 1
        return self.fs.isfile(path)

    def isdir(self, path: str) -> bool:
        _COUNTS["head"] += 1
        return self.fs.isdir(path)

    def size(self, path: str) -> int:
        _COUNTS["head"] += 1
        return self.fs.size(path)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        out = self.fs.ls(path, detail=detail, **kwargs)
        _COUNTS["list"] += 1 + len(out) // KEYS_PER_LIST
        return out

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        out = self.fs.find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        _COUNTS["list"] += 1 + len(out) // KEYS_PER_LIST
        return out

    def glob(self, path: str, **kwargs: Any) -> Any:
        out = self.fs.glob(path, **kwargs)
        _COUNTS["list"] += 1 + len(out) // KEYS_PER_LIST
        return out

    def walk(self, path: str, *args: Any, **kwargs: Any) -> Any:
        _COUNTS["list"] += 1
        return self.fs.walk(path, *args, **kwargs)

    # -- writes ----------------------------------------------------------------------------------------
    def pipe_file(self, path: str, value: bytes, **kwargs: Any) -> None:
        self.fs.pipe_file(path, value, **kwargs)
        _COUNTS["put"] += 1
        _COUNTS["put_bytes"] += len(value)

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        self.fs.mkdir(path, create_parents=create_parents, **kwargs)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        self.fs.makedirs(path, exist_ok=exist_ok)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        paths = self.fs.expand_path(path, recursive=recursive, maxdepth=maxdepth)
        _COUNTS["list"] += 1 if recursive else 0
        _COUNTS["delete"] += max(1, math.ceil(len(paths) / KEYS_PER_LIST))
        self.fs.rm(path, recursive=recursive, maxdepth=maxdepth)

    def rm_file(self, path: str) -> None:
        _COUNTS["delete"] += 1
        self.fs.rm_file(path)

    def mv(self, path1: str, path2: str, recursive: bool = False, maxdepth: int | None = None,
           **kwargs: Any) -> None:
        _COUNTS["copy"] += 1
        _COUNTS["delete"] += 1
        self.fs.mv(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        _COUNTS["copy"] += 1
        self.fs.cp_file(path1, path2, **kwargs)

    def invalidate_cache(self, path: str | None = None) -> None:
        self.fs.invalidate_cache(path)
