"""Write a small Parquet table (statistics, a measurement cache) under a temporary name, then move it into
place, so a reader never opens half a file."""

from __future__ import annotations

import os

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

TMP_SUFFIX = ".tmp"  # the one temporary suffix of curate's Parquet writes: a resumed run removes these


def write_parquet_atomic(table: pa.Table, path: str, compression: str | None = "zstd",
                         compression_level: int | None = 3, row_group_rows: int = 20_000) -> None:
    fs, fs_path = fsspec.core.url_to_fs(path)
    fs.makedirs(os.path.dirname(fs_path), exist_ok=True)
    tmp = fs_path + TMP_SUFFIX
    with fs.open(tmp, "wb") as handle:
        pq.write_table(table, handle, compression=compression, compression_level=compression_level,
                       row_group_size=row_group_rows, write_statistics=True)
    fs.mv(tmp, fs_path)
