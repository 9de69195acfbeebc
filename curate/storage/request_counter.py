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

Counts live in the process (:func:`snapshot`), in total and per folder (``folders``: the folder holding the
object, a trailing ``runs`` or ``groups`` folder left out, so that every object of one shuffle counts under
its name); :class:`CountedCall` wraps a task function so that each task returns the requests it made,
whatever process or Ray worker ran it. The wrapper is registered with fsspec
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
_FOLDERS: dict[str, Counter[str]] = {}
SUBFOLDERS = ("runs", "groups")  # parts of one shuffle, counted under the shuffle's folder


def folder_of(path: str) -> str:
    parts = str(path).rstrip("/").split("/")[:-1]
    while parts and parts[-1] in SUBFOLDERS:
        parts.pop()
    return parts[-1] if parts else ""


def _count(kind: str, path: str, n: int = 1) -> None:
    _COUNTS[kind] += n
    entry = _FOLDERS.get(folder_of(path))
    if entry is None:
        entry = _FOLDERS[folder_of(path)] = Counter()
    entry[kind] += n


def is_metadata(path: str, start: int, end: int, size: int | None) -> bool:
    """Whether a read of ``[start, end)`` of ``path`` (``size`` bytes) fetches metadata rather than payload."""
    if path.endswith(METADATA_SUFFIXES):
        return True
    return path.endswith(".parquet") and size is not None and start > 0 and end >= size


def _read(path: str, start: int, end: int, size: int | None, n: int) -> None:
    _count("get", path)
    _count("get_bytes", path, n)
    if is_metadata(path, start, end, size):
        _count("meta_get", path)
        _count("meta_bytes", path, n)
    else:
        _SIZES[round(8 * math.log2(n)) if n > 0 else -1] += 1


def snapshot() -> dict[str, Any]:
    """This process's counts so far: ``{kind: count, ..., "read_sizes": {bucket: reads},
    "folders": {folder: {kind: count}}}``."""
    return {**dict(_COUNTS), "read_sizes": dict(_SIZES), "folders": {f: dict(c) for f, c in _FOLDERS.items()}}


def _minus(after: dict[Any, int], before: dict[Any, int]) -> dict[Any, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def difference(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _minus({k: v for k, v in after.items() if k not in ("read_sizes", "folders")},
                                 {k: v for k, v in before.items() if k not in ("read_sizes", "folders")})
    out["read_sizes"] = _minus(after.get("read_sizes", {}), before.get("read_sizes", {}))
    folders = {f: _minus(c, before.get("folders", {}).get(f, {})) for f, c in after.get("folders", {}).items()}
    out["folders"] = {f: c for f, c in folders.items() if c}
    return out


def add(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """``total`` + ``part`` (both as :func:`snapshot` returns them), in place; returns ``total``."""
    for k, v in part.items():
        if k in ("read_sizes", "folders"):
            inner = total.setdefault(k, {})
            for b, n in v.items():
                key = int(b) if k == "read_sizes" else b
                if isinstance(n, dict):
                    add(inner.setdefault(key, {}), n)
                else:
                    inner[key] = inner.get(key, 0) + n
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
            _count("put_bytes", self.path, len(data))
        if final:
            self._inner.close()
            _count("put", self.path, self._parts + (2 if self._parts > 1 else 0))
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
        _count("head", path)
        return self.fs.info(path, **kwargs)

    def exists(self, path: str, **kwargs: Any) -> bool:
        _count("head", path)
        return self.fs.exists(path, **kwargs)

    def isfile(self, path: str) -> bool:
        _count("head", path)
        return self.fs.isfile(path)

    def isdir(self, path: str) -> bool:
        _count("head", path)
        return self.fs.isdir(path)

    def size(self, path: str) -> int:
        _count("head", path)
        return self.fs.size(path)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        out = self.fs.ls(path, detail=detail, **kwargs)
        _count("list", path + "/", 1 + len(out) // KEYS_PER_LIST)
        return out

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        out = self.fs.find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        _count("list", path + "/", 1 + len(out) // KEYS_PER_LIST)
        return out

    def glob(self, path: str, **kwargs: Any) -> Any:
        out = self.fs.glob(path, **kwargs)
        _count("list", path, 1 + len(out) // KEYS_PER_LIST)
        return out

    def walk(self, path: str, *args: Any, **kwargs: Any) -> Any:
        _count("list", path + "/")
        return self.fs.walk(path, *args, **kwargs)

    # -- writes ----------------------------------------------------------------------------------------
    def pipe_file(self, path: str, value: bytes, **kwargs: Any) -> None:
        self.fs.pipe_file(path, value, **kwargs)
        _count("put", path)
        _count("put_bytes", path, len(value))

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        self.fs.mkdir(path, create_parents=create_parents, **kwargs)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        self.fs.makedirs(path, exist_ok=exist_ok)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        paths = self.fs.expand_path(path, recursive=recursive, maxdepth=maxdepth)
        first = str(path if isinstance(path, str) else (path[0] if path else ""))
        _count("list", first + "/", 1 if recursive else 0)
        _count("delete", first + "/", max(1, math.ceil(len(paths) / KEYS_PER_LIST)))
        self.fs.rm(path, recursive=recursive, maxdepth=maxdepth)

    def rm_file(self, path: str) -> None:
        _count("delete", path)
        self.fs.rm_file(path)

    def mv(self, path1: str, path2: str, recursive: bool = False, maxdepth: int | None = None,
           **kwargs: Any) -> None:
        _count("copy", path2)
        _count("delete", path1)
        self.fs.mv(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        _count("copy", path2)
        self.fs.cp_file(path1, path2, **kwargs)

    def invalidate_cache(self, path: str | None = None) -> None:
        self.fs.invalidate_cache(path)
