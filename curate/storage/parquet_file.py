"""Write a small Parquet table (statistics, a measurement cache) in one atomic write
(:func:`curate.storage.atomic.write_bytes_atomic`), so a reader never opens half a file."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from curate.storage.atomic import TMP_SUFFIX, write_bytes_atomic

__all__ = ["TMP_SUFFIX", "write_parquet_atomic"]


def write_parquet_atomic(table: pa.Table, path: str, compression: str | None = "zstd",
                         compression_level: int | None = 3, row_group_rows: int = 20_000) -> None:
    sink = pa.BufferOutputStream()  # small tables only: the whole file is one buffer, then one write
    pq.write_table(table, sink, compression=compression, compression_level=compression_level,
                   row_group_size=row_group_rows, write_statistics=True)
    write_bytes_atomic(path, sink.getvalue().to_pybytes())
