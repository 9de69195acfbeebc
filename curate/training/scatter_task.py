"""Pass 3 of ``curate tokenize``: lay one group's document copies out by destination shard.

The group's document table gives every document's copies (:func:`curate.training.copy_order.copies_per_document`)
and every copy's key and shard (:func:`curate.training.copy_order.copy_keys`); the copies are sorted by
(shard, key, tie-breaks) and written as two files: the tokens of every copy in that order, and one fixed-width
record per copy (:data:`RECORD`). The ranges each shard owns in both files go back to the driver, so that
pass 4 reads exactly its own bytes from each group: one ranged read per file, never a whole file. The task
holds one group's tokens (the group is sized by ``--task-bytes``) and writes its copies in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fsspec
import numpy as np
import pyarrow.parquet as pq

from curate.pipeline.shard_task import read_marker, write_marker
from curate.storage.atomic import publish, write_bytes_atomic
from curate.training.copy_order import LanguagePlan, copies_per_document, copy_keys, shard_of
from curate.training.shard_format import temporary_name

RECORD = np.dtype([("key", "<f8"), ("hash", "<u8"), ("file", "<i4"), ("copy", "<i4"), ("row", "<i8"),
                   ("length", "<i8"), ("lang", "<i4"), ("dump", "<i4")])
CHUNK_TOKENS = 1 << 24


@dataclass(frozen=True)
class ScatterTask:
    group: int
    docs_path: str
    tokens_path: str
    records_out: str
    tokens_out: str
    marker: str
    plans: dict[str, LanguagePlan]
    n_shards: int
    lang_codes: dict[str, int]
    dump_codes: dict[str, int]
    dtype: str


def gather_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] .. starts[i] + lengths[i] - 1`` of every ``i``, concatenated."""
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.repeat(np.asarray(starts, dtype=np.int64) - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + offsets


def chunked(tokens: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
            chunk_tokens: int = CHUNK_TOKENS) -> Iterator[np.ndarray]:
    """``tokens`` of each (start, length) in turn, in chunks of about ``chunk_tokens``."""
    ends = np.cumsum(lengths)
    first = 0
    while first < lengths.size:
        last = int(np.searchsorted(ends, ends[first] - lengths[first] + chunk_tokens, side="right"))
        last = max(last, first + 1)
        yield tokens[gather_ranges(starts[first:last], lengths[first:last])]
        first = last


def scatter_group(task: ScatterTask) -> dict[str, Any]:
    """Write the group's copies in shard order; per shard ``[record from, to, token from, to]``."""
    done = read_marker(task.marker)  # finished by an earlier, interrupted run
    if done is not None:
        return done
    with fsspec.open(task.docs_path, "rb") as handle:
        docs = pq.read_table(handle)
    dtype = np.dtype(task.dtype)
    langs = docs.column("lang").to_pylist()
    hashes = docs.column("hash").to_numpy()
    units = docs.column("units").to_numpy()
    files = docs.column("file").to_numpy()
    rows = docs.column("row").to_numpy()
    copies = copies_per_document(langs, docs.column("weight").to_numpy(), hashes, task.plans)
    doc, k, key = copy_keys(hashes, copies)
    shard = shard_of(key, task.n_shards)
    order = np.lexsort((k, rows[doc], files[doc], hashes[doc], key, shard))
    doc, k, key, shard = doc[order], k[order], key[order], shard[order]
    records = np.empty(doc.size, dtype=RECORD)
    records["key"], records["hash"], records["copy"] = key, hashes[doc], k
    records["file"], records["row"], records["length"] = files[doc], rows[doc], units[doc]
    records["lang"] = np.asarray([task.lang_codes[x] for x in langs], dtype=np.int32)[doc] if langs else 0
    dump_names = docs.column("dump").to_pylist()
    records["dump"] = np.asarray([task.dump_codes[x] for x in dump_names], dtype=np.int32)[doc] if langs else 0
    fs, tokens_in = fsspec.core.url_to_fs(task.tokens_path)
    tokens = np.frombuffer(fs.cat_file(tokens_in), dtype=dtype.newbyteorder("<"))
    starts = docs.column("offset").to_numpy()[doc]
    out_fs, out_path = fsspec.core.url_to_fs(task.tokens_out)
    tmp = temporary_name(out_fs, out_path)
    with out_fs.open(tmp, "wb") as out:
        for chunk in chunked(tokens, starts, units[doc]):
            out.write(chunk.tobytes())
    publish(out_fs, tmp, out_path)
    write_bytes_atomic(task.records_out, records.tobytes())
    record_counts = np.bincount(shard, minlength=task.n_shards)
    token_counts = np.zeros(task.n_shards, dtype=np.int64)
    np.add.at(token_counts, shard, units[doc])
    rec_end, tok_end = np.cumsum(record_counts), np.cumsum(token_counts)
    ranges = {str(j): [int(rec_end[j] - record_counts[j]), int(rec_end[j]), int(tok_end[j] - token_counts[j]),
                       int(tok_end[j])] for j in np.flatnonzero(record_counts).tolist()}
    result = {"group": task.group, "copies": int(doc.size), "tokens": int(tok_end[-1]) if doc.size else 0,
              "ranges": ranges}
    write_marker(task.marker, result)
    return result
