"""One Parquet file written row group by row group as rows come: memory bounded by a row group.

Row groups are cut at fixed row positions, after ``row_group_rows`` rows or once the text of the
rows in hand reaches ``row_group_bytes``, whichever comes first. The cut depends only on the rows,
so the same rows give the same bytes whatever the batch boundaries were upstream. The file is
written under a temporary name and renamed when complete.

Rows of different schemas may share a file (removed rows of different steps carry different
columns): when a row group does not fit the file's schema, the file so far becomes a segment and
a new one starts; closing merges the segments, row group by row group, under the union schema.
"""

from __future__ import annotations

import os
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks.columns import TEXT
from curate.storage.atomic import TMP_SUFFIX, publish
from curate.storage.failures import name_path


def _row_bytes(table: pa.Table) -> np.ndarray:
    if TEXT not in table.column_names or table.num_rows == 0:
        return np.zeros(table.num_rows, dtype=np.int64)
    lengths = pc.fill_null(pc.binary_length(table.column(TEXT).cast(pa.binary())), 0)
    return lengths.to_numpy().astype(np.int64, copy=False)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table | None:
    """``table`` in ``schema`` (missing columns as nulls, same order and types), or None."""
    if table.schema.equals(schema):
        return table
    if not set(table.column_names) <= set(schema.names):
        return None
    columns = [table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
               for f in schema]
    try:
        return pa.Table.from_arrays([c.cast(f.type) for c, f in zip(columns, schema, strict=True)], schema=schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


class RowGroupWriter:
    """``add`` tables, ``close`` to get the final file; nothing is visible under ``path`` before."""

    def __init__(self, path: str, compression: str | None = "zstd", compression_level: int | None = 3,
                 row_group_rows: int = 20_000, row_group_bytes: int = 8 * 2**20) -> None:
        self.path = path
        self.fs, self.fs_path = fsspec.core.url_to_fs(path)
        self.options: dict[str, Any] = {"compression": compression, "compression_level": compression_level,
                                        "write_statistics": True}
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes
        self.rows = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self._segments: list[str] = []  # finished segment files (schema changes)
        self._writer: pq.ParquetWriter | None = None
        self._handle: Any = None

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self._pending_bytes += int(_row_bytes(table).sum())
        try:
            while self._pending_rows >= self.row_group_rows or self._pending_bytes >= self.row_group_bytes:
                self._write_group(final=False)
        except OSError as exc:  # a full disk names the file it could not write
            name_path(exc, self.path)
            raise

    def _cut(self, table: pa.Table) -> int:
        """Rows in the next row group: up to ``row_group_rows``, and up to the first row at which
        the text reaches ``row_group_bytes`` (that row included, so every group has a row)."""
        n = min(table.num_rows, self.row_group_rows)
        reached = np.nonzero(np.cumsum(_row_bytes(table.slice(0, n))) >= self.row_group_bytes)[0]
        return int(reached[0]) + 1 if reached.size else n

    def _write_group(self, final: bool) -> None:
        table = pa.concat_tables(self._pending, promote_options="default") if len(self._pending) > 1 \
            else self._pending[0]
        k = self._cut(table)
        if final and k == table.num_rows:
            group, rest = table, None
        else:
            group, rest = table.slice(0, k), table.slice(k)
        self._emit(group.combine_chunks())
        self._pending = [rest] if rest is not None and rest.num_rows else []
        self._pending_rows = rest.num_rows if rest is not None else 0
        self._pending_bytes = int(_row_bytes(rest).sum()) if rest is not None else 0

    def _emit(self, group: pa.Table) -> None:
        if self._writer is not None:
            fitted = conform(group, self._writer.schema)
            if fitted is None:  # new columns or types: the file so far becomes a segment
                self._close_writer()
            else:
                group = fitted
        if self._writer is None:
            self._open(self._segment_path(len(self._segments)), group.schema)
        assert self._writer is not None
        self._writer.write_table(group, row_group_size=group.num_rows)
        self.rows += group.num_rows

    def _segment_path(self, i: int) -> str:
        return f"{self.fs_path}.seg{i}{TMP_SUFFIX}"

    def _open(self, path: str, schema: pa.Schema) -> None:
        self.fs.makedirs(os.path.dirname(path), exist_ok=True)
        self._handle = self.fs.open(path, "wb")
        self._writer = pq.ParquetWriter(self._handle, schema, **self.options)
        self._segments.append(path)

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._handle.close()
            self._writer = self._handle = None

    def close(self) -> int:
        """Write what is left, merge segments if any, rename into place; returns the rows written."""
        try:
            return self._close()
        except OSError as exc:  # a full disk names the file it could not write
            name_path(exc, self.path)
            raise

    def _close(self) -> int:
        while self._pending_rows:
            self._write_group(final=True)
        self._close_writer()
        if not self._segments:
            return 0
        if len(self._segments) > 1:
            self._merge()
        publish(self.fs, self._segments[0], self.fs_path)
        self._segments = []
        return self.rows

    def _merge(self) -> None:
        """Stream every segment into one file under the union schema, re-cut into row groups."""
        segments = self._segments
        schemas = [pq.read_schema(self.fs.open(p, "rb")) for p in segments]
        union = pa.unify_schemas(schemas, promote_options="permissive")
        merged = f"{self.fs_path}.merged{TMP_SUFFIX}"
        self._segments, self.rows = [], 0
        self._open(merged, union)
        for path in segments:
            with self.fs.open(path, "rb") as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=self.row_group_rows):
                    fitted = conform(pa.Table.from_batches([batch]), union)
                    assert fitted is not None  # the union schema holds every segment's rows
                    self._pending.append(fitted)
                    self._pending_rows += fitted.num_rows
                    self._pending_bytes += int(_row_bytes(fitted).sum())
                    while self._pending_rows >= self.row_group_rows or self._pending_bytes >= self.row_group_bytes:
                        self._write_group(final=False)
            self.fs.rm(path)
        while self._pending_rows:
            self._write_group(final=True)
        self._close_writer()

    def abort(self) -> None:
        try:
            self._close_writer()
        except OSError:  # closing flushes, which fails again on a full disk: the files go anyway
            self._writer = self._handle = None
        for path in self._segments:
            if self.fs.exists(path):
                self.fs.rm(path)
        self._segments = []
