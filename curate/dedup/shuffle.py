"""The disk shuffle of dedup keys: per shard, keys -> hash partitions; per partition, keys -> edges.

Phase "keys" (one task per shard): every document yields one or more 128-bit keys (MinHash: one per LSH
band; exact dedup: one content hash). Rows ``(k1, k2, doc)`` go to partition ``k1 % partitions`` through
the ``keys`` shuffle (:mod:`curate.shuffle.partitioned_shuffle`: one run per shard, merged into group files, read by
partition through an index); the ``docs`` shuffle carries (node, id, lang, url) of every row to its node
partition, so that the components' join task of a partition reads only its own documents.
Phase "edges" (one task per key partition): reads its partition of the keys; documents sharing a key are
candidate duplicates, and each key group becomes a star of edges from its smallest document. The edges go,
once each as (big, small), to the ``edges`` shuffle by a hash of both ends, for the components rounds
(:mod:`.star_rounds`). Key partitions are sized by keys (~4M each), node partitions by documents: the
components handle ~14x fewer rows per document than the keys. Objects and requests grow with shards + partitions, not their product. A task's
working set is one shard or one partition; every output is marked done when complete.

Heavy keys (a boilerplate text shared by millions of pages puts millions of rows under one key) are
*salted*: a key seen :data:`HEAVY_KEY` times or more in one shard has those rows spread over all
partitions by a hash of the document, except its smallest document there, which goes to the key's home
partition as a marker. Each partition stars its piece of the key from the piece's smallest document, and
sends that document to the key's home (phase "links"), which links every piece's smallest document to the
smallest of all: the same components, with no partition holding more than ``shards x HEAVY_KEY`` rows of
one key (the two-level grouping of skewed keys, as in Spark's adaptive skew join and Hive's
``hive.groupby.skewindata``). Keys below the threshold in every shard take the plain path, so on ordinary
corpora nothing changes.

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
from curate.dedup.cluster_tables import first_node_of
from curate.dedup.components import ROW_MASK, shard_name, write_docs, write_edges, write_signatures
from curate.dedup.star_contraction import node_partition
from curate.dedup.star_rounds import part_name
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShuffleRef
from curate.shuffle.workdir import Workdir

KEY_SCHEMA = pa.schema([("k1", pa.uint64()), ("k2", pa.uint64()), ("doc", pa.int64()), ("salted", pa.bool_())])
LINK_SCHEMA = pa.schema([("k1", pa.uint64()), ("k2", pa.uint64()), ("doc", pa.int64())])
HEAVY_KEY = 64  # rows of one key in one shard from which the key's rows are spread over the partitions


def key_destinations(k: np.ndarray, doc: np.ndarray, partitions: int, heavy: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Partition of each key row and whether it is salted: ``k1 % partitions``, except for keys with at least
    ``heavy`` (:data:`HEAVY_KEY`) rows here, whose rows (all but the smallest document, the marker sent
    home) go to a partition drawn from a hash of the document."""
    heavy = HEAVY_KEY if heavy is None else heavy
    home = (k[:, 0] % np.uint64(partitions)).astype(np.int64)
    salted = np.zeros(len(doc), dtype=bool)
    if len(doc) < heavy:
        return home, salted
    # cheap first: keys whose first half is frequent (the second half only splits what the first merged)
    values, counts = np.unique(k[:, 0], return_counts=True)
    frequent = values[counts >= heavy]
    if len(frequent) == 0:
        return home, salted
    candidates = np.flatnonzero(np.isin(k[:, 0], frequent))
    rows = np.ascontiguousarray(k[candidates]).view(np.dtype((np.void, 16))).ravel()
    _, inverse, counts = np.unique(rows, return_inverse=True, return_counts=True)
    hot = counts[inverse] >= heavy
    if not hot.any():
        return home, salted
    idx, inverse = candidates[hot], inverse[hot]
    salted[idx] = True
    # the marker: each hot key's smallest document stays home (salted=True tells the home the key is split)
    order = np.lexsort((doc[idx], inverse))
    first = order[np.r_[True, inverse[order][1:] != inverse[order][:-1]]]
    spread = np.ones(len(idx), dtype=bool)
    spread[first] = False
    dest = home.copy()
    # by the document alone: the hot keys of one text (its 14 bands) split the same way, so their pieces
    # star from the same documents and give the same edges
    dest[idx[spread]] = node_partition(doc[idx[spread]], partitions)
    return dest, salted


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
    signatures: bool = False  # write the ``sigs`` shuffle (b-bit signatures, to verify clusters)
    first_node: int = -1  # number of the shard's first document when numbered densely (a dedup index)
    rows: int = -1  # rows the shard must have (dense numbering: the numbers of the next shard start after them)


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
    sig_nodes: list[np.ndarray] = []
    sigs: list[np.ndarray] = []
    lang_counts: dict[str, int] = {}
    row = 0
    base = first_node_of(task.index, task.first_node)
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
            if task.signatures:
                which, k, has, sig = task.keyer.keys_and_signatures([texts[i] or "" for i in pos], lang, timing)
                sig_nodes.append(base + row + pos[has])
                sigs.append(sig)
            else:
                which, k = task.keyer([texts[i] or "" for i in pos], lang, timing)
            if len(which):
                keys.append(k)
                docs.append(base + row + pos[which])
        row += n
    if row > ROW_MASK:
        raise ValueError(f"shard {task.path} has {row} rows; at most {ROW_MASK} are supported")
    if task.rows >= 0 and row != task.rows:
        raise ValueError(f"shard {task.path} has {row} rows, not the {task.rows} its stage wrote; rerun the step")
    k = np.concatenate(keys) if keys else np.empty((0, 2), dtype=np.uint64)
    d = np.concatenate(docs) if docs else np.empty(0, dtype=np.int64)
    part, salted = key_destinations(k, d, task.partitions)
    tbl = pa.table([k[:, 0], k[:, 1], d, salted], schema=KEY_SCHEMA)
    keys_bytes = shuffle.write(wd, "keys", task.index, tbl, part, task.partitions)
    id_arr = pa.concat_arrays(ids) if ids else pa.array([], pa.string())
    lang_arr = pa.concat_arrays(langs) if langs else pa.array([], pa.string())
    url_arr = pa.concat_arrays(urls) if urls else pa.array([], pa.string())
    docs_bytes = write_docs(wd, task.index, id_arr, lang_arr, task.node_partitions or task.partitions, url_arr,
                            task.first_node)
    runs = {"keys": keys_bytes, "docs": docs_bytes}
    if task.signatures:
        runs["sigs"] = write_signatures(wd, task.index, sig_nodes, sigs, task.node_partitions or task.partitions)
    info = {
        "runs": runs,
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


def salted_pieces(k1: np.ndarray, k2: np.ndarray, doc: np.ndarray, salted: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k1, k2, smallest document) of every key group here that holds a salted row (a piece of a split key)."""
    if not salted.any():
        e = np.empty(0, np.uint64)
        return e, e, np.empty(0, np.int64)
    order = np.lexsort((doc, k2, k1))
    k1, k2, doc, salted = k1[order], k2[order], doc[order], salted[order]
    new = np.r_[True, (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])]
    starts = np.flatnonzero(new)
    split = np.logical_or.reduceat(salted, starts)
    first = starts[split]
    return k1[first], k2[first], doc[first]


def partition_edges_task(task: PartitionEdgesTask) -> dict[str, Any]:
    """Phase "edges" for one partition: its keys from every shard's run -> candidate edges; the pieces of
    salted keys -> the ``links`` shuffle (their smallest document, to the key's home partition)."""
    wd = Workdir(task.workdir)
    marker = ("edges", part_name(task.partition) + ".done")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    t0 = time.perf_counter()
    t = shuffle.read(wd, task.keys, task.partition, KEY_SCHEMA)
    k1, k2, doc = t.column("k1").to_numpy(), t.column("k2").to_numpy(), t.column("doc").to_numpy()
    src, dst = group_edges(k1, k2, doc)
    p1, p2, pdoc = salted_pieces(k1, k2, doc, t.column("salted").to_numpy(zero_copy_only=False))
    n_keys = t.num_rows
    del t, k1, k2, doc
    size = write_edges(wd, task.partition, src, dst, task.node_partitions or task.partitions)
    links = pa.table([pa.array(p1, pa.uint64()), pa.array(p2, pa.uint64()), pa.array(pdoc, pa.int64())],
                     schema=LINK_SCHEMA)
    link_bytes = shuffle.write(wd, "links", task.partition, links,
                               (p1 % np.uint64(task.partitions)).astype(np.int64), task.partitions)
    info = {"keys": n_keys, "edges": int(len(src)), "run_bytes": size, "rows_read": n_keys,
            "links": int(len(pdoc)), "link_bytes": link_bytes, "seconds": time.perf_counter() - t0}
    wd.write_json(info, *marker)
    return info


@dataclass(frozen=True)
class LinkTask:
    """Home partition ``partition`` of the salted keys: link each piece's smallest document to the key's."""

    partition: int
    partitions: int
    links: ShuffleRef
    workdir: str
    node_partitions: int = 0

    @property
    def phase(self) -> str:
        return "links"


def link_task(task: LinkTask) -> dict[str, Any]:
    wd = Workdir(task.workdir)
    marker = ("links", part_name(task.partition) + ".done")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    t0 = time.perf_counter()
    t = shuffle.read(wd, task.links, task.partition, LINK_SCHEMA)
    src, dst = group_edges(t.column("k1").to_numpy(), t.column("k2").to_numpy(), t.column("doc").to_numpy())
    # written as more runs of the edges shuffle: writers partitions .. 2 x partitions - 1
    size = write_edges(wd, task.partitions + task.partition, src, dst, task.node_partitions or task.partitions)
    info = {"edges": int(len(src)), "run_bytes": size, "rows_read": t.num_rows, "seconds": time.perf_counter() - t0}
    wd.write_json(info, *marker)
    return info
