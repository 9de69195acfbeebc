"""The scratch folder of multi-task steps and commands (dedup, ``curate optout build``): atomic Parquet/JSON
writes and phase markers (resume support).

Every file is written atomically (:func:`curate.storage.atomic.write_bytes_atomic`: temporary name and
rename on filesystems, one PUT on object stores), and each phase finishes by writing a ``*.done`` marker
*after* its data files, so a run killed at any moment leaves either a
complete result or one that is redone (identically: every phase is deterministic) on the next run.
Paths may be local or any fsspec URL that the workers all see.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from curate.shuffle.partfile import ipc_options
from curate.storage.atomic import TMP_SUFFIX, is_object_store, publish, write_bytes_atomic


class Workdir:
    """A folder on a (possibly remote) filesystem, addressed by relative parts."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._fs: Any = None
        self._root = ""

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}  # filesystems are re-resolved in each worker

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs, self._root = fsspec.core.url_to_fs(self.url)
        return self._fs

    def path(self, *parts: str) -> str:
        fs = self.fs
        return "/".join([self._root.rstrip("/"), *parts]) if parts else self._root or fs.root_marker

    def exists(self, *parts: str) -> bool:
        return bool(self.fs.exists(self.path(*parts)))

    def makedirs(self, *parts: str) -> None:
        self.fs.makedirs(self.path(*parts), exist_ok=True)

    def _atomic_write(self, data: bytes, parts: tuple[str, ...]) -> None:
        write_bytes_atomic(self.path(*parts), data, fs=self.fs)

    def write_bytes(self, data: bytes, *parts: str) -> None:
        self._atomic_write(data, parts)

    @contextmanager
    def open_stream(self, *parts: str, block_size: int = 64 * 2**20) -> Iterator[Any]:
        """A file written piece by piece that appears whole or not at all: on object stores a multipart
        upload (the object exists once it completes; aborted on error), elsewhere a temporary file renamed."""
        path = self.path(*parts)
        fs = self.fs
        if is_object_store(fs):
            f = fs.open(path, "wb", block_size=block_size)
            try:
                yield f
            except BaseException:
                if hasattr(f, "discard"):
                    f.discard()
                f.closed = True
                raise
            f.close()
            return
        parent = path.rpartition("/")[0]
        if parent:
            fs.makedirs(parent, exist_ok=True)
        tmp = f"{path}.{uuid.uuid4().hex}{TMP_SUFFIX}"
        f = fs.open(tmp, "wb")
        try:
            yield f
            f.close()
            publish(fs, tmp, path)
        except BaseException:
            f.close()
            if fs.exists(tmp):
                fs.rm(tmp)
            raise

    def write_arrow(self, table: pa.Table, *parts: str) -> None:
        """One Arrow IPC stream (zstd from 16 KiB: :func:`.partfile.ipc_options`), written atomically."""
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema, options=ipc_options(table.nbytes)) as writer:
            writer.write_table(table)
        self._atomic_write(sink.getvalue().to_pybytes(), parts)

    def read_arrow(self, *parts: str) -> pa.Table:
        return pa.ipc.open_stream(pa.py_buffer(self.fs.cat_file(self.path(*parts)))).read_all()

    def write_parquet(self, table: pa.Table, *parts: str) -> None:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        self._atomic_write(sink.getvalue().to_pybytes(), parts)

    def read_parquet(self, *parts: str, columns: list[str] | None = None) -> pa.Table:
        with self.fs.open(self.path(*parts), "rb") as f:
            return pq.read_table(f, columns=columns)

    def write_json(self, obj: Any, *parts: str) -> None:
        self._atomic_write(json.dumps(obj, sort_keys=True, indent=1).encode(), parts)

    def read_json(self, *parts: str) -> Any:
        with self.fs.open(self.path(*parts), "rb") as f:
            return json.loads(f.read())

    def listdir(self, *parts: str) -> list[str]:
        """Names (not paths) in a folder, sorted; empty when it does not exist."""
        p = self.path(*parts)
        if not self.fs.exists(p):
            return []
        return sorted(x.rstrip("/").rsplit("/", 1)[-1] for x in self.fs.ls(p, detail=False))

    def remove(self, *parts: str) -> None:
        p = self.path(*parts)
        if self.fs.exists(p):
            self.fs.rm(p, recursive=True)
