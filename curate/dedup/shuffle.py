"""The disk shuffle of dedup keys: per shard, keys -> hash partitions; per partition, keys -> edges.

Phase "keys" (one task per shard): every document yields one or more 128-bit keys (MinHash: one per LSH
band; exact dedup: one content hash). Rows ``(k1, k2, doc)`` go to partition ``k1 % partitions`` through
the ``keys`` shuffle (:mod:`.partitioned_shuffle`: one run per shard, merged into group files, read by
partition through an index); the ``docs`` shuffle carries (node, id, lang, url) of every row to its node
partition, so that the components' join task of a partition reads only its own documents.
Phase "edges" (one task per key partition): reads its partition of the keys; documents sharing a key are
candidate duplicates, and each key group becomes a star of edges from its smallest document. The edges go,
once each as (big, small), to the ``edges`` shuffle by a hash of both ends, for the components rounds
(:mod:`.star_rounds`). Key partitions are sized by keys (~4M each), node partitions by documents: the
components handle ~14x fewer rows per document than the keys. Objects and requests grow with shards + partitions, not their product. A task's
working set is one shard or one partition; every output is marked done when complete.

Document numbers are ``shard_index << 40 | row``: ordered by shard then row, with no pre-pass to count rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks import columns as C
from curate.dedup import partitioned_shuffle as shuffle
from curate.dedup.components import ROW_BITS, ROW_MASK, shard_name, write_docs, write_edges
from curate.dedup.partitioned_shuffle import ShuffleRef
from curate.dedup.star_rounds import part_name
from curate.dedup.workdir import Workdir

KEY_SCHEMA = pa.schema([("k1", pa.uint64()), ("k2", pa.uint64()), ("doc", pa.int64())])


class DocKeyer(Protocol):
    """Maps the texts of one language to keys: (document positions (m,), keys (m, 2) uint64).

    ``timing`` accumulates seconds per named step (e.g. "signature") for benchmarks.
    """

    def __call__(
        self, texts: list[str], lang: str, timing: dict[str, float]
    ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class ShardKeysTask:
    index: int
    path: str
    workdir: str
    partitions: int
    keyer: Any  # a DocKeyer; picklable
    batch_size: int = 2048
    node_partitions: int = 0  # of the docs shuffle (0: ``partitions``)
    urls: bool = False  # carry each document's url (for the report of the largest clusters)


def _shard_batches(path: str, batch_size: int, urls: bool = False) -> Any:
    """Batches of id/text/lang (and url); a shard whose earlier stage kept nothing has no file ("")."""
    if not path:
        return
    with fsspec.open(path, "rb") as f:
        pf = pq.ParquetFile(f)
        wanted = (C.ID, C.TEXT, C.LANG, C.URL) if urls else (C.ID, C.TEXT, C.LANG)
        cols = [c for c in wanted if c in pf.schema_arrow.names]
        yield from pf.iter_batches(batch_size=batch_size, columns=cols)


def shard_keys_task(task: ShardKeysTask) -> dict[str, Any]:
    """Phase "keys" for one shard; returns (and records in its marker) row and language counts."""
    wd = Workdir(task.workdir)
    marker = ("keys", shard_name(task.index) + ".done")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    t0 = time.perf_counter()
    timing: dict[str, float] = {}
    keys: list[np.ndarray] = []
    docs: list[np.ndarray] = []
    ids: list[pa.Array] = []
    langs: list[pa.Array] = []
    urls: list[pa.Array] = []
    lang_counts: dict[str, int] = {}
    row = 0
    base = task.index << ROW_BITS
    for batch in _shard_batches(task.path, task.batch_size, task.urls):
        n = batch.num_rows
        lang_col = (
            pc.fill_null(batch.column(C.LANG), C.UNKNOWN_LANG)
            if C.LANG in batch.schema.names
            else pa.array([C.UNKNOWN_LANG] * n, pa.string())
        )
        texts = batch.column(C.TEXT).to_pylist()
        lang_list = lang_col.to_pylist()
        ids.append(batch.column(C.ID).cast(pa.string()))
        langs.append(lang_col.cast(pa.string()))
        urls.append(batch.column(C.URL).cast(pa.string()) if C.URL in batch.schema.names
                    else pa.nulls(n, pa.string()))
        by_lang: dict[str, list[int]] = {}
        for i, lang in enumerate(lang_list):
            by_lang.setdefault(lang, []).append(i)
        for lang in sorted(by_lang):
            pos = np.asarray(by_lang[lang], dtype=np.int64)
            lang_counts[lang] = lang_counts.get(lang, 0) + len(pos)
            which, k = task.keyer([texts[i] or "" for i in pos], lang, timing)
            if len(which):
                keys.append(k)
                docs.append(base + row + pos[which])
        row += n
    if row > ROW_MASK:
        raise ValueError(f"shard {task.path} has {row} rows; at most {ROW_MASK} are supported")
    k = np.concatenate(keys) if keys else np.empty((0, 2), dtype=np.uint64)
    d = np.concatenate(docs) if docs else np.empty(0, dtype=np.int64)
    part = (k[:, 0] % np.uint64(task.partitions)).astype(np.int64)
    tbl = pa.table([k[:, 0], k[:, 1], d], schema=KEY_SCHEMA)
    keys_bytes = shuffle.write(wd, "keys", task.index, tbl, part, task.partitions)
    id_arr = pa.concat_arrays(ids) if ids else pa.array([], pa.string())
    lang_arr = pa.concat_arrays(langs) if langs else pa.array([], pa.string())
    url_arr = pa.concat_arrays(urls) if urls else pa.array([], pa.string())
    docs_bytes = write_docs(wd, task.index, id_arr, lang_arr, task.node_partitions or task.partitions, url_arr)
    info = {
        "runs": {"keys": keys_bytes, "docs": docs_bytes},
        "rows": row,
        "langs": lang_counts,
        "keys": int(len(d)),
        "seconds": time.perf_counter() - t0,
        "timing": timing,
    }
    wd.write_json(info, *marker)
    return info


@dataclass(frozen=True)
class PartitionEdgesTask:
    partition: int
    partitions: int
    keys: ShuffleRef
    workdir: str
    node_partitions: int = 0  # of the edges shuffle (0: ``partitions``)


def group_edges(k1: np.ndarray, k2: np.ndarray, doc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Star edges (first doc of a key group -> each other doc), unique and without self loops."""
    if len(doc) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort((doc, k2, k1))
    k1, k2, doc = k1[order], k2[order], doc[order]
    new_group = np.ones(len(doc), dtype=bool)
    new_group[1:] = (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])
    group_first = np.flatnonzero(new_group)
    first_of = group_first[np.cumsum(new_group) - 1]
    member = ~new_group
    src, dst = doc[first_of[member]], doc[member]
    keep = src != dst
    if not keep.all():
        src, dst = src[keep], dst[keep]
    if len(src) == 0:
        return src, dst
    pairs = np.unique(np.stack([src, dst], axis=1), axis=0)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def partition_edges_task(task: PartitionEdgesTask) -> dict[str, Any]:
    """Phase "edges" for one partition: its keys from every shard's file -> candidate edges."""
    wd = Workdir(task.workdir)
    marker = ("edges", part_name(task.partition) + ".done")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    t0 = time.perf_counter()
    t = shuffle.read(wd, task.keys, task.partition, KEY_SCHEMA)
    src, dst = group_edges(t.column("k1").to_numpy(), t.column("k2").to_numpy(), t.column("doc").to_numpy())
    n_keys = t.num_rows
    del t
    size = write_edges(wd, task.partition, src, dst, task.node_partitions or task.partitions)
    info = {"keys": n_keys, "edges": int(len(src)), "run_bytes": size, "rows_read": n_keys,
            "seconds": time.perf_counter() - t0}
    wd.write_json(info, *marker)
    return info
