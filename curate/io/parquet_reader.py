"""Parquet reader: streams row groups of any Parquet file with a text column."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks.columns import READER_SCHEMA
from curate.errors import CurateError
from curate.io.read_counts import ReadCounts
from curate.io.reader_base import Reader
from curate.io.warc_reader import record_id_for


class MissingColumnError(CurateError, ValueError):
    """The Parquet file has no column of the configured name."""


class ParquetReader(Reader):
    """Reads ``text`` (and ``id``, ``url``, ``date`` when present); column names are settings."""

    name: ClassVar[str] = "parquet"
    suffixes: ClassVar[tuple[str, ...]] = (".parquet",)

    def __init__(self, batch_size: int = 1024, text_key: str = "text", id_key: str = "id",
                 url_key: str = "url", date_key: str = "date") -> None:
        super().__init__(batch_size)
        self.keys = {"text": text_key, "id": id_key, "url": url_key, "date": date_key}

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:
        with fsspec.open(path, "rb") as handle:
            pfile = pq.ParquetFile(handle)
            names = set(pfile.schema_arrow.names)
            if self.keys["text"] not in names:
                raise MissingColumnError(
                    f"{path}: no column {self.keys['text']!r} (columns: {sorted(names)}); set input.text_key"
                )
            wanted = [c for c in self.keys.values() if c in names]
            offset = 0
            for batch in pfile.iter_batches(batch_size=self.batch_size, columns=wanted):
                n = batch.num_rows
                counts.records += n
                text = batch.column(self.keys["text"]).cast(pa.string())
                cols: dict[str, pa.Array] = {}
                for canon in ("id", "url", "date"):
                    key = self.keys[canon]
                    cols[canon] = batch.column(key).cast(pa.string()) if key in names else pa.nulls(n, pa.string())
                if self.keys["id"] not in names:
                    cols["id"] = pa.array([record_id_for(None, path, offset + i) for i in range(n)], pa.string())
                table = pa.table(
                    {"id": cols["id"], "url": cols["url"], "date": cols["date"],
                     "source": pa.array([path] * n, pa.string()), "html": pa.nulls(n, pa.string()), "text": text},
                    schema=READER_SCHEMA,
                )
                offset += n
                nonempty = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), False)
                empty = n - pc.sum(nonempty).as_py() if n else 0
                if empty:
                    counts.skipped["empty"] += empty
                counts.emitted += n - empty
                if empty:
                    table = table.filter(nonempty)
                if table.num_rows:
                    yield table
