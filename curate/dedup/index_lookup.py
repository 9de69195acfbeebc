"""A new dump meets the index: which earlier clusters its documents join, as partition tasks.

1. ``probe`` (per key partition): the run's distinct keys of the partition (each with its smallest
   document) against the same partition of every earlier dump's ``keys`` table, streamed batch by batch
   (a task holds its partition of the run and one batch); per matched key, the smallest earlier document
   sharing it: a *hit* ``(new, old)``, sent to the node partition of ``old``;
2. ``labels`` (per node partition): each hit's earlier document -> the cluster it joined (its label; no label:
   it is its cluster's kept document), sent to the partition of that cluster;
3. ``resolve`` (per node partition, only when the index has merged clusters): a cluster merged since is
   forwarded to the one it joined, in rounds (a chain of merges is one hop per round);
4. ``fetch`` (per node partition): each live cluster's row once (size, kept document, its filters' outcome):
   an edge ``(new, cid - SUPER)`` into the run's edges shuffle and the cluster as one node of the run's
   components (``supers`` shuffle, :data:`.index_tables.SUPER_SCHEMA`).

A task reads its partition of the run plus that partition of the index tables: the bytes of the index it
reads are its keys, labels and cluster rows, never texts, signatures or edges, and it recomputes nothing of
the earlier dumps. Every task writes one run of the next shuffle (:mod:`.partitioned_shuffle`) and a marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from curate.dedup.cluster_tables import write_edges
from curate.dedup.index_tables import (
    CLUSTER_SCHEMA,
    HIT_SCHEMA,
    SUPER_SCHEMA,
    match_keys,
    newest_rows,
    super_node,
)
from curate.dedup.shuffle import KEY_SCHEMA
from curate.dedup.star_contraction import node_partition
from curate.dedup.star_rounds import MapFn, run_phase
from curate.errors import CurateError
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShufflePlan, ShuffleRef
from curate.shuffle.workdir import Workdir

NONE = np.iinfo(np.int64).max


class IndexDamagedError(CurateError):
    """A dedup index whose tables disagree (a file missing or written by something else)."""


@dataclass(frozen=True)
class LookupTask:
    """Partition ``partition`` of one lookup phase (``phase``: probe, labels, resolve, fetch)."""

    phase: str
    workdir: str
    partition: int
    partitions: int  # of the shuffle read (key partitions for probe, node partitions otherwise)
    node_partitions: int
    source: ShuffleRef  # the run's keys (probe) or the previous phase's shuffle
    index_url: str
    segments: tuple[ShuffleRef, ...]  # the index table read: keys per dump, labels or clusters segments
    out: str = ""  # folder of the shuffle written
    writer: int = 0  # writer number in it (resolve rounds and the edges shuffle add runs after others')
    forwards: str = ""  # resolve: folder of the next round's shuffle


def probe(task: LookupTask) -> dict[str, Any]:
    wd, ix, p = Workdir(task.workdir), Workdir(task.index_url), task.partition
    t = shuffle.read(wd, task.source, p, KEY_SCHEMA)
    k1, k2, doc = t.column("k1").to_numpy(), t.column("k2").to_numpy(), t.column("doc").to_numpy()
    home = (k1 % np.uint64(task.partitions)) == np.uint64(p)  # a salted key's pieces meet at its home's marker
    k1, k2, doc = k1[home], k2[home], doc[home]
    order = np.lexsort((doc, k2, k1))
    k1, k2, doc = k1[order], k2[order], doc[order]
    first = np.r_[True, (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])] if len(k1) else np.zeros(0, bool)
    k1, k2, doc = k1[first], k2[first], doc[first]
    best = np.full(len(doc), NONE, dtype=np.int64)
    rows_read = t.num_rows
    del t
    for segment in task.segments if len(doc) else ():
        for batch in shuffle.read_batches(ix, segment, p):
            b1, b2 = batch.column(0).to_numpy(), batch.column(1).to_numpy()
            bd = batch.column(2).to_numpy()
            rows_read += batch.num_rows
            i, j = match_keys(k1, k2, b1, b2)
            if len(i):
                np.minimum.at(best, i, bd[j])
    hit = best != NONE
    new, old = doc[hit], best[hit]
    pairs = np.unique(np.stack([new, old], axis=1), axis=0) if len(new) else np.empty((0, 2), np.int64)
    table = pa.table([pa.array(pairs[:, 0]), pa.array(pairs[:, 1])], schema=HIT_SCHEMA)
    size = shuffle.write(wd, task.out, task.writer, table, node_partition(pairs[:, 1], task.node_partitions),
                         task.node_partitions)
    return {"rows_read": rows_read, "run_bytes": size, "hits": int(len(pairs))}


def labels(task: LookupTask) -> dict[str, Any]:
    wd, ix, q = Workdir(task.workdir), Workdir(task.index_url), task.partition
    t = shuffle.read(wd, task.source, q, HIT_SCHEMA)
    new, old = t.column("new").to_numpy(), t.column("old").to_numpy()
    want = np.unique(old)
    cid = want.copy()  # no label: the document is its cluster's kept document
    found = np.zeros(len(want), bool)
    rows_read = t.num_rows
    for segment in task.segments if len(want) else ():
        for batch in shuffle.read_batches(ix, segment, q):
            rows_read += batch.num_rows
            at, rows = newest_rows(pa.Table.from_batches([batch]), "node", want, found)
            cid[at] = batch.column(1).to_numpy()[rows]
    to = cid[np.searchsorted(want, old)] if len(old) else np.empty(0, np.int64)
    table = pa.table([pa.array(new), pa.array(to)], schema=HIT_SCHEMA)
    size = shuffle.write(wd, task.out, task.writer, table, node_partition(to, task.node_partitions),
                         task.node_partitions)
    return {"rows_read": rows_read, "run_bytes": size}


def _cluster_rows(ix: Workdir, segments: tuple[ShuffleRef, ...], q: int, want: np.ndarray) -> tuple[pa.Table, int]:
    """The newest row of each ``cid`` in ``want`` (sorted, distinct), in ``want`` order; rows read."""
    found = np.zeros(len(want), bool)
    parts: list[tuple[np.ndarray, pa.Table]] = []
    rows_read = 0
    for segment in reversed(segments):
        if found.all():
            break
        for batch in shuffle.read_batches(ix, segment, q):
            rows_read += batch.num_rows
            table = pa.Table.from_batches([batch])
            at, rows = newest_rows(table, "cid", want, found)
            if len(at):
                parts.append((at, table.take(pa.array(rows))))
    if not found.all():
        missing = want[~found][:5].tolist()
        raise IndexDamagedError(f"dedup index {ix.url}: no cluster row for cid(s) {missing}; the index is damaged "
                                "(a file of it missing or replaced)")
    if not parts:
        return CLUSTER_SCHEMA.empty_table(), rows_read
    table = pa.concat_tables([p for _, p in parts])
    order = np.argsort(np.concatenate([a for a, _ in parts]), kind="stable")
    return table.take(pa.array(order)), rows_read


def _hit_clusters(task: LookupTask) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.Table, int]:
    """The partition's hits (new document, cluster) and the index's row of each cluster they name (sorted by
    cluster); rows read counts the hits too."""
    t = shuffle.read(Workdir(task.workdir), task.source, task.partition, HIT_SCHEMA)
    new, cid = t.column("new").to_numpy(), t.column("old").to_numpy()
    want = np.unique(cid)
    rows, rows_read = _cluster_rows(Workdir(task.index_url), task.segments, task.partition, want)
    return new, cid, want, rows, rows_read + t.num_rows


def resolve(task: LookupTask) -> dict[str, Any]:
    """Clusters merged since a hit's label was written: one hop further per round."""
    wd, q = Workdir(task.workdir), task.partition
    new, cid, want, rows, rows_read = _hit_clusters(task)
    forward = rows.column("forward").to_numpy()[np.searchsorted(want, cid)] if len(cid) else np.empty(0, np.int64)
    live = forward < 0
    done = pa.table([pa.array(new[live]), pa.array(cid[live])], schema=HIT_SCHEMA)
    size = shuffle.write(wd, task.out, task.writer, done, node_partition(cid[live], task.node_partitions),
                         task.node_partitions)
    on = pa.table([pa.array(new[~live]), pa.array(forward[~live])], schema=HIT_SCHEMA)
    more = shuffle.write(wd, task.forwards, q, on, node_partition(forward[~live], task.node_partitions),
                         task.node_partitions)
    return {"rows_read": rows_read, "run_bytes": size, "forward_bytes": more,
            "forwarded": int((~live).sum())}


def fetch(task: LookupTask) -> dict[str, Any]:
    """Each live cluster hit: an edge per (new document, cluster) and the cluster as one node."""
    wd, ix, q = Workdir(task.workdir), Workdir(task.index_url), task.partition
    new, cid, want, rows, rows_read = _hit_clusters(task)
    if len(want) and (rows.column("forward").to_numpy() >= 0).any():
        raise IndexDamagedError(f"dedup index {ix.url}: a forwarded cluster reached the fetch phase; rerun")
    edge_bytes = write_edges(wd, task.writer, new, super_node(cid), task.node_partitions)
    node = super_node(want)
    supers = pa.table([pa.array(node), rows.column("kept_id"), rows.column("lang"), pa.nulls(len(want), pa.string()),
                       rows.column("size"), rows.column("filtered"), rows.column("known")], schema=SUPER_SCHEMA)
    size = shuffle.write(wd, task.out, q, supers, node_partition(node, task.node_partitions), task.node_partitions)
    return {"rows_read": rows_read, "run_bytes": size, "edge_bytes": edge_bytes,
            "clusters": int(len(want)), "hits": int(len(new))}


PHASES = {"probe": probe, "labels": labels, "resolve": resolve, "fetch": fetch}


def lookup_task(task: LookupTask) -> dict[str, Any]:
    return PHASES[task.phase](task)


def lookup(run: MapFn, wd: Workdir, keys: ShuffleRef, base: dict[str, Any], index_url: str, edge_writers: int,
           plan: ShufflePlan | None = None) -> tuple[list[int], ShuffleRef, dict[str, Any]]:
    """The lookup phases of a run against the index version ``base``: returns the sizes of the edges runs it
    wrote (writers ``edge_writers`` ..., after the run's own), the ``supers`` shuffle and a summary."""
    parts, nodes = int(base["partitions"]), int(base["node_partitions"])
    key_segments = tuple(ShuffleRef(**d["keys"]) for d in base["dumps"])
    label_segments = tuple(ShuffleRef(**e) for e in base["labels"])
    cluster_segments = tuple(ShuffleRef(**e) for e in base["clusters"])

    def phase(kind: str, source: ShuffleRef, out: str, count: int, segments: tuple[ShuffleRef, ...],
              marker: str = "", writer: int | None = None, forwards: str = "") -> list[dict[str, Any]]:
        tasks = [LookupTask(kind, wd.url, p, count, nodes, source, index_url, segments, out=out,
                            writer=p if writer is None else writer + p, forwards=forwards) for p in range(count)]
        return run_phase(run, wd, lookup_task, tasks, marker or f"ix/{kind}")

    probed = phase("probe", keys, "ix/hits", parts, key_segments)
    hits = shuffle.merge(run, wd, "ix/hits", nodes, [int(i["run_bytes"]) for i in probed], plan)
    labelled = phase("labels", hits, "ix/cids", nodes, label_segments)
    source = shuffle.merge(run, wd, "ix/cids", nodes, [int(i["run_bytes"]) for i in labelled], plan)
    rounds = 0
    if int(base.get("forwards", 0)):  # some cluster was merged into another: follow the forwards
        live: list[int] = []
        while True:
            infos = phase("resolve", source, "ix/live", nodes, cluster_segments, marker=f"ix/resolve-{rounds}",
                          writer=rounds * nodes, forwards=f"ix/pending-{rounds + 1}")
            live += [int(i["run_bytes"]) for i in infos]
            rounds += 1
            if not sum(int(i["forwarded"]) for i in infos):
                break
            if rounds > len(cluster_segments) + 1:
                raise IndexDamagedError(f"dedup index {index_url}: merged clusters forward in a cycle; the index "
                                        "is damaged")
            source = shuffle.merge(run, wd, f"ix/pending-{rounds}", nodes, [int(i["forward_bytes"]) for i in infos],
                                   plan)
        source = shuffle.merge(run, wd, "ix/live", nodes, live, plan)
    # each fetch task writes one run of the run's edges shuffle, numbered after the run's own writers
    fetched = phase("fetch", source, "ix/supers", nodes, cluster_segments, writer=edge_writers)
    supers = shuffle.merge(run, wd, "ix/supers", nodes, [int(i["run_bytes"]) for i in fetched], plan)
    every = probed + labelled + fetched
    summary = {"hits": sum(int(i["hits"]) for i in probed), "clusters": sum(int(i["clusters"]) for i in fetched),
               "resolve_rounds": rounds, "index_rows_read": sum(int(i["rows_read"]) for i in every),
               "max_task_rows": max([0, *[int(i["rows_read"]) for i in every]])}
    return [int(i["edge_bytes"]) for i in fetched], supers, summary
