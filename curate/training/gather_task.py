"""Pass 4 of ``curate tokenize``: assemble one output shard from every group's range and write it.

The shard's copies arrive from each group already in key order; they are merged by (key, hash, file, row,
copy), copies of one document that ended up next to each other are moved apart
(:func:`curate.training.copy_order.spread_adjacent`), documents longer than ``--seq-len`` are kept whole or
split into ``--seq-len`` pieces, and the format writes the files (:mod:`curate.training.shard_format`). The
result counts documents and tokens per language and Common Crawl dump: the manifest's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import fsspec
import numpy as np

from curate.pipeline.shard_task import read_marker, write_marker
from curate.training.copy_order import spread_adjacent
from curate.training.formats import FORMATS
from curate.training.scatter_task import RECORD, chunked

# (records file, tokens file, first record, end record, first token, end token) of one group
Piece = tuple[str, str, int, int, int, int]


@dataclass(frozen=True)
class GatherTask:
    shard: int
    base: str
    pieces: tuple[Piece, ...]
    format: str
    dtype: str
    seq_len: int
    split_long: bool
    langs: tuple[str, ...]
    dumps: tuple[str, ...]
    meta: dict[str, Any]
    marker: str


def _read(path: str, start: int, end: int, itemsize: int) -> bytes:
    if end <= start:
        return b""
    fs, p = fsspec.core.url_to_fs(path)
    return bytes(fs.cat_file(p, start=start * itemsize, end=end * itemsize))  # one ranged read


def sequence_lengths(lengths: np.ndarray, seq_len: int, split: bool) -> tuple[np.ndarray, np.ndarray]:
    """(tokens per sequence, sequences per document): one sequence per document, or, with ``split``, pieces of
    at most ``seq_len`` tokens, the last one holding the rest."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if not split:
        return lengths, np.ones(lengths.size, dtype=np.int64)
    pieces = np.maximum((lengths + seq_len - 1) // seq_len, 1)
    out = np.full(int(pieces.sum()), seq_len, dtype=np.int64)
    last = np.cumsum(pieces) - 1
    out[last] = lengths - (pieces - 1) * seq_len
    return out, pieces


def _counts(records: np.ndarray, langs: tuple[str, ...], dumps: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pair = records["lang"].astype(np.int64) * len(dumps) + records["dump"]
    uniq, inverse = np.unique(pair, return_inverse=True)
    tokens = np.zeros(uniq.size, dtype=np.int64)
    np.add.at(tokens, inverse, records["length"])
    documents = np.bincount(inverse, minlength=uniq.size)
    for code, n_docs, n_tokens in zip(uniq.tolist(), documents.tolist(), tokens.tolist(), strict=True):
        lang, dump = langs[code // len(dumps)], dumps[code % len(dumps)]
        entry = out.setdefault(lang, {"documents": 0, "tokens": 0, "dumps": {}})
        entry["documents"] += n_docs
        entry["tokens"] += n_tokens
        entry["dumps"][dump] = {"documents": n_docs, "tokens": n_tokens}
    return out


def gather_shard(task: GatherTask) -> dict[str, Any]:
    done = read_marker(task.marker)  # finished by an earlier, interrupted run
    if done is not None:
        return done
    dtype = np.dtype(task.dtype).newbyteorder("<")
    records = np.concatenate([np.frombuffer(_read(r, r0, r1, RECORD.itemsize), dtype=RECORD)
                              for r, _, r0, r1, _, _ in task.pieces]) if task.pieces else np.empty(0, RECORD)
    tokens = np.concatenate([np.frombuffer(_read(t, t0, t1, dtype.itemsize), dtype=dtype)
                             for _, t, _, _, t0, t1 in task.pieces]) if task.pieces else np.empty(0, dtype)
    starts = np.cumsum(records["length"]) - records["length"]
    order = np.lexsort((records["copy"], records["row"], records["file"], records["hash"], records["key"]))
    ident = (records["file"].astype(np.int64) << 40) | records["row"]
    order = order[spread_adjacent(ident[order])]
    lengths = records["length"][order]
    seq_lengths, doc_sequences = sequence_lengths(lengths, task.seq_len, task.split_long)
    out_fs, base = fsspec.core.url_to_fs(task.base)
    files = FORMATS[task.format].write(out_fs, base, chunked(tokens, starts[order], lengths), seq_lengths,
                                       doc_sequences, {**task.meta, "dtype": task.dtype})
    result = {
        "shard": task.shard,
        "name": base.rsplit("/", 1)[-1],
        "files": [f.rsplit("/", 1)[-1] for f in files],
        "documents": int(records.size),
        "sequences": int(seq_lengths.size),
        "tokens": int(lengths.sum()),
        "longer_than_seq_len": int((lengths > task.seq_len).sum()),
        "languages": _counts(records, task.langs, task.dumps),
    }
    write_marker(task.marker, result)
    return result
