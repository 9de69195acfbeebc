"""What every reader does: stream one input file as Arrow batches of the reader schema."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from curate.blocks.columns import CAPTURE_FIELDS, HTTP_STATUS, READER_SCHEMA
from curate.io.read_counts import ReadCounts


class Reader:
    """Base class of readers. ``name`` is the YAML ``input.format`` value."""

    name: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()  # file endings that select this reader with format: auto

    def __init__(self, batch_size: int = 256) -> None:
        self.batch_size = batch_size

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def settings(cls) -> list[str]:
        """The ``input.options`` this reader takes (its constructor's keywords but ``batch_size``, which is
        ``input.batch_size``)."""
        return [p for p in inspect.signature(cls).parameters if p not in ("self", "batch_size")]

    @classmethod
    def from_options(cls, batch_size: int, options: dict[str, Any]) -> Reader:
        """This reader with the options meant for it: with ``format: auto`` a folder may mix formats, and
        ``input.options`` holds the settings of each (the pipeline file's check refused any that none takes)."""
        return cls(batch_size=batch_size, **{k: v for k, v in options.items() if k in cls.settings()})


class BatchBuilder:
    """Collects reader rows and cuts them into tables of ``batch_size`` rows: READER_SCHEMA's columns, then the
    capture columns (``CAPTURE_FIELDS``) when the rows carry them (a capture reader's rows all do)."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.schema = READER_SCHEMA
        self.rows: dict[str, list[str | bytes | int | None]] = {name: [] for name in READER_SCHEMA.names}

    def add(self, **values: str | bytes | int | None) -> pa.Table | None:
        if HTTP_STATUS in values and self.schema is READER_SCHEMA:  # capture rows (a reader's are all alike)
            self.schema = pa.schema([*READER_SCHEMA, *CAPTURE_FIELDS])
            self.rows = {name: self.rows.get(name, [None] * len(self.rows["id"])) for name in self.schema.names}
        for name in self.schema.names:
            self.rows[name].append(values.get(name))
        if len(self.rows["id"]) >= self.batch_size:
            return self.flush()
        return None

    def flush(self) -> pa.Table | None:
        if not self.rows["id"]:
            return None
        columns = []
        for field in self.schema:
            values = self.rows[field.name]
            if any(isinstance(v, bytes) for v in values):
                # UTF-8 bytes (WARC bodies): Arrow copies and validates them, no str round trip
                columns.append(pa.array(values, pa.binary()).cast(field.type))
            else:
                columns.append(pa.array(values, field.type))
        table = pa.Table.from_arrays(columns, schema=self.schema)
        self.rows = {name: [] for name in self.schema.names}
        return table
