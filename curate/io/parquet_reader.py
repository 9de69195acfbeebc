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
from curate.io.record_converter import record_id_for
from curate.io.text_column import TextColumn

_OWN = frozenset({"id", "url", "date", "source", "html", "text"})  # the reader columns a Parquet file fills


class MissingColumnError(CurateError, ValueError):
    """The Parquet file has no column of the configured name."""


class ParquetReader(Reader):
    """Reads ``text`` (and ``id``, ``url``, ``date`` when present); column names are settings.

    A file without the text column has every row counted as ``errored:missing_text_column`` (the
    message names the file, its columns and ``input.options.text_key``); a row whose text is not
    valid UTF-8 is ``errored:invalid_utf8`` with its row number. The run goes on.
    """

    name: ClassVar[str] = "parquet"
    suffixes: ClassVar[tuple[str, ...]] = (".parquet",)

    def __init__(self, batch_size: int = 1024, text_key: str = "text", id_key: str = "id",
                 url_key: str = "url", date_key: str = "date") -> None:
        super().__init__(batch_size)
        self.keys = {"text": text_key, "id": id_key, "url": url_key, "date": date_key}

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:
        with fsspec.open(path, "rb") as handle:
            try:
                pfile = pq.ParquetFile(handle)
            except (pa.ArrowException, OSError) as exc:
                counts.records += 1  # its rows cannot be counted: the file is one error
                counts.error("unreadable_file", f"{path}: not a readable Parquet file ({exc}); re-create or "
                             "re-download it, or set input.format if it is another format")
                return
            names = set(pfile.schema_arrow.names)
            if self.keys["text"] not in names:
                rows = pfile.metadata.num_rows
                counts.records += rows
                counts.error("missing_text_column", str(MissingColumnError(
                    f"{path}: no column {self.keys['text']!r} (columns: {sorted(names)}); its {rows} rows are "
                    "counted as errors; set input.options.text_key to the column that holds the text")), rows)
                return
            wanted = [c for c in self.keys.values() if c in names]
            offset = 0
            batches = pfile.iter_batches(batch_size=self.batch_size, columns=wanted)
            while True:
                try:
                    batch = next(batches)
                except StopIteration:
                    return
                except (pa.ArrowException, OSError) as exc:  # a damaged page: the rest of the file is lost
                    rest = pfile.metadata.num_rows - offset
                    counts.records += rest
                    counts.error("unreadable_rows", f"{path}: rows {offset} to {offset + rest - 1} cannot be "
                                 f"read ({exc}); re-create or re-download the file", rest)
                    return
                table = self._table(batch, names, path, offset, counts)
                offset += batch.num_rows
                if table.num_rows:
                    yield table

    def _table(self, batch: pa.RecordBatch, names: set[str], path: str, offset: int,
               counts: ReadCounts) -> pa.Table:
        n = batch.num_rows
        counts.records += n
        text, bad = TextColumn(batch.column(self.keys["text"])).strings()
        for i in bad:
            counts.error("invalid_utf8", f"{path}: row {offset + i}: column {self.keys['text']!r} is not valid "
                         "UTF-8; the row was skipped (re-encode the file's text as UTF-8)")
        cols: dict[str, pa.Array] = {}
        for canon in ("id", "url", "date"):
            key = self.keys[canon]
            cols[canon] = TextColumn(batch.column(key)).strings()[0] if key in names else pa.nulls(n, pa.string())
        if self.keys["id"] not in names:
            cols["id"] = pa.array([record_id_for(None, path, offset + i) for i in range(n)], pa.string())
        table = pa.table(
            {"id": cols["id"], "url": cols["url"], "date": cols["date"],
             "source": pa.array([path] * n, pa.string()), "html": pa.nulls(n, pa.string()), "text": text,
             **{f.name: pa.nulls(n, f.type) for f in READER_SCHEMA if f.name not in _OWN}},
            schema=READER_SCHEMA,
        )
        nonempty = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), False)
        empty = n - pc.sum(nonempty).as_py() - len(bad) if n else 0
        if empty:
            counts.skipped["empty"] += empty
        counts.emitted += n - empty - len(bad)
        return table.filter(nonempty) if empty or bad else table
