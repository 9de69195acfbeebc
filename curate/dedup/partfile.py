"""Partition-sorted Parquet files: the unit of every shuffle in dedup.

A task that scatters rows to ``P`` destinations writes *one* file, sorted by destination, with one row
group per non-empty destination; the file's key-value metadata lists which destination each row group
holds. A task that gathers destination ``p`` reads that one row group from each input file (a footer read
and a ranged read: no listing, no per-(task, destination) objects). Files per shuffle therefore grow with
the number of writers, not writers x destinations (MapReduce's sort-based shuffle, as in Hadoop's
map-output files with their index). Compression is zstd, as for every dedup file.
"""

from __future__ import annotations

import bisect
import json
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.storage.atomic import write_bytes_atomic

META_KEY = b"curate.destinations"


def write_partitioned(path: str, table: pa.Table, dest: np.ndarray, fs: Any = None) -> int:
    """Write ``table`` to ``path`` grouped by ``dest`` (int per row); returns the row groups written.

    Rows keep their relative order within a destination (stable sort), so readers see a deterministic
    order whatever wrote them."""
    order = np.argsort(dest, kind="stable")
    dest = dest[order]
    table = table.take(pa.array(order)) if len(order) else table
    present, starts = np.unique(dest, return_index=True)
    ends = np.append(starts[1:], len(dest)).astype(np.int64) if len(dest) else starts
    meta = {META_KEY: json.dumps([int(p) for p in present]).encode()}
    schema = table.schema.with_metadata(meta)
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            writer.write_table(table.slice(lo, hi - lo).replace_schema_metadata(meta), row_group_size=hi - lo)
    write_bytes_atomic(path, sink.getvalue().to_pybytes(), fs=fs)
    return len(present)


def read_destination(
    paths: list[str], dest: int, schema: pa.Schema, fs: Any = None, columns: list[str] | None = None
) -> pa.Table:
    """Rows for destination ``dest`` from each file of ``paths`` (in that order); missing files count as
    empty only when the caller passes them (they should not be: every writer writes its file)."""
    parts: list[pa.Table] = []
    for path in paths:
        f = fs.open(path, "rb") if fs is not None else fsspec.open(path, "rb").open()
        with f:
            pf = pq.ParquetFile(f)
            meta = pf.schema_arrow.metadata or {}
            present = json.loads(meta.get(META_KEY, b"[]"))
            group = bisect.bisect_left(present, dest)  # written sorted
            if group == len(present) or present[group] != dest:
                continue
            parts.append(pf.read_row_group(group, columns=columns).replace_schema_metadata(None))
    if not parts:
        return schema.empty_table() if columns is None else schema.empty_table().select(columns)
    return pa.concat_tables(parts)
