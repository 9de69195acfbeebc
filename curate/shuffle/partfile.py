"""The two file formats of the partitioned shuffle (:mod:`.partitioned_shuffle`): runs and blocks.

A *run* is what one writer task writes for one shuffle: all its rows in one Arrow IPC stream (zstd buffers
from :data:`COMPRESS_FROM` bytes),
sorted by destination partition (stable, so rows keep their order within a destination), cut into record
batches of about :data:`RUN_BATCH_BYTES`, with the number of rows of every destination in the schema metadata
(uint32 per destination, zstd then base64: ~1 byte per destination, read once, by the one merge task that
reads the run whole, never by the readers). This is the map-output file of a sort-based shuffle: Hadoop
MapReduce's spill file (partition-sorted) with its index (Dean & Ghemawat, "MapReduce", OSDI 2004, section
3.1; Hadoop's ``IFile`` + ``SpillRecord``), here inside the file so that a run is one object.

A *block* is one destination's rows of one merged group file: a complete Arrow IPC stream (schema, batches,
end marker), so a reader decodes a byte range of a group file with nothing else.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import zstandard

from curate.storage.atomic import write_bytes_atomic

COUNTS_KEY = b"curate.counts"
RUN_BATCH_BYTES = 64 * 1024  # decoded batch a merge task holds per input run
COMPRESS_FROM = 16 * 1024  # smaller tables are written uncompressed: a zstd context costs ~1 ms per stream
_ZSTD = pa.ipc.IpcWriteOptions(compression="zstd")
_PLAIN = pa.ipc.IpcWriteOptions()


def ipc_options(nbytes: int) -> pa.ipc.IpcWriteOptions:
    """zstd buffers for tables of :data:`COMPRESS_FROM` bytes or more (a choice made from the data alone)."""
    return _ZSTD if nbytes >= COMPRESS_FROM else _PLAIN


def _rows_per_batch(table: pa.Table) -> int:
    if table.num_rows == 0:
        return 1
    return max(1024, int(RUN_BATCH_BYTES * table.num_rows // max(table.nbytes, 1)))


def encode_counts(counts: np.ndarray) -> bytes:
    return base64.b64encode(zstandard.ZstdCompressor(level=3).compress(counts.astype("<u4").tobytes()))


def decode_counts(value: bytes) -> np.ndarray:
    raw = zstandard.ZstdDecompressor().decompress(base64.b64decode(value))
    return np.frombuffer(raw, dtype="<u4").astype(np.int64)


def run_bytes(table: pa.Table, dest: np.ndarray, partitions: int) -> bytes:
    """The run of ``table`` whose row ``i`` goes to destination ``dest[i]`` (in ``[0, partitions)``)."""
    dest = np.asarray(dest, dtype=np.int64)
    if len(dest) and (dest.min() < 0 or dest.max() >= partitions):
        raise ValueError(f"destinations must lie in [0, {partitions})")
    order = np.argsort(dest, kind="stable")
    if len(order) and not (order[1:] > order[:-1]).all():
        table = table.take(pa.array(order))
    counts = np.bincount(dest, minlength=partitions)
    schema = table.schema.with_metadata({COUNTS_KEY: encode_counts(counts)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema, options=ipc_options(table.nbytes)) as writer:
        if table.num_rows:
            writer.write_table(table.replace_schema_metadata(schema.metadata), max_chunksize=_rows_per_batch(table))
    return sink.getvalue().to_pybytes()


def write_run(path: str, table: pa.Table, dest: np.ndarray, partitions: int, fs: Any = None) -> int:
    """Write the run atomically (one PUT on object stores); returns its size in bytes."""
    data = run_bytes(table, dest, partitions)
    write_bytes_atomic(path, data, fs=fs)
    return len(data)


class RunReader:
    """A run read front to back: :meth:`take` returns the next destination's rows (``counts[p]`` of them).
    Holds one decoded record batch at a time."""

    def __init__(self, f: Any) -> None:
        self._reader = pa.ipc.open_stream(f)
        self.schema = self._reader.schema.remove_metadata()
        self.counts = decode_counts((self._reader.schema.metadata or {})[COUNTS_KEY])
        self._batch: pa.RecordBatch | None = None
        self._pos = 0

    def take(self, n: int) -> list[pa.RecordBatch]:
        out: list[pa.RecordBatch] = []
        while n > 0:
            if self._batch is None or self._pos == self._batch.num_rows:
                self._batch = self._reader.read_next_batch()
                self._pos = 0
            k = min(n, self._batch.num_rows - self._pos)
            out.append(self._batch.slice(self._pos, k))
            self._pos += k
            n -= k
        return out


def encode_block(batches: list[pa.RecordBatch], schema: pa.Schema) -> bytes:
    """One destination's rows as a self-contained IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema, options=ipc_options(sum(b.nbytes for b in batches))) as writer:
        for batch in batches:
            writer.write_batch(batch.replace_schema_metadata(None) if batch.schema.metadata else batch)
    return sink.getvalue().to_pybytes()


def decode_block(data: bytes) -> Iterator[pa.RecordBatch]:
    yield from pa.ipc.open_stream(pa.py_buffer(data))
