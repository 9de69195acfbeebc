"""A dump dropped from a dedup index (a takedown): the clusters rebuilt from the keys of the dumps that stay.

Removing a dump's documents can split a cluster they bridged, so the clusters are computed again from the
stored keys of every remaining dump: the same edges, components and keep rule as one run over those dumps
(nothing is read but keys, documents' ids and the clusters table; no text, no MinHash). Phases (tasks of the
partitioned shuffle, resumable by markers, in ``INDEX/_work/<operation>/``):

1. ``edges`` (per key partition): the partition of every remaining dump's ``keys`` table -> star edges per
   key, and the smallest document of each salted key's piece to the key's home (``links``, as in a run);
2. the components (:mod:`.star_rounds`), and ``join`` / ``combine`` (:mod:`.components`) over the remaining
   documents (their ``docs`` tables gathered per node partition);
3. ``settle`` (per node partition): each document kept (a cluster's best, or alone) gets a cluster row,
   with the filters' outcome its dump's run recorded (a document that was never kept, so never filtered,
   gets ``known`` false: the drop lists it), each other document a label; every remaining dump's output
   gets the rows whose cluster changed (updates), and the corpus' counts are summed again.

The version it writes has one labels and one clusters segment (the rebuild is also a compaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from curate.blocks import columns as C
from curate.dedup.cluster_tables import (
    DOCS_SCHEMA,
    MEMBER_SCHEMA,
    REPLY_SCHEMA,
    ClusterTask,
    write_edges,
)
from curate.dedup.components import cluster_task
from curate.dedup.index_run import add_counts
from curate.dedup.index_store import FORMAT, DedupIndex, DedupIndexError
from curate.dedup.index_tables import CLUSTER_SCHEMA, LABEL_SCHEMA, UPDATE_SCHEMA, counted_lang
from curate.dedup.shuffle import KEY_SCHEMA, LINK_SCHEMA, LinkTask, group_edges, link_task, salted_pieces
from curate.dedup.star_rounds import MapFn, connected_components, part_name, run_phase
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShufflePlan, ShuffleRef
from curate.shuffle.workdir import Workdir


@dataclass(frozen=True)
class RebuildTask:
    """Partition ``partition`` of a rebuild phase (``edges``, ``docs``, ``settle``)."""

    phase: str
    workdir: str
    index_url: str
    partition: int
    partitions: int  # key partitions (edges) or node partitions
    node_partitions: int
    segments: tuple[ShuffleRef, ...]  # remaining dumps' keys (edges) or docs (docs, settle)
    clusters: tuple[ShuffleRef, ...] = ()  # settle: the clusters segments of the version dropped from
    replies: ShuffleRef | None = None  # settle: the combine tasks' answers
    dump_firsts: tuple[int, ...] = ()  # settle: first number of every dump of the version dropped from
    dropped: int = -1  # settle: ordinal of the dropped dump in it
    version: int = 0
    keep: str = "first_id"


def _edges(task: RebuildTask) -> dict[str, Any]:
    wd, ix, p = Workdir(task.workdir), Workdir(task.index_url), task.partition
    parts = [shuffle.read(ix, ref, p, KEY_SCHEMA) for ref in task.segments]
    t = pa.concat_tables(parts) if parts else KEY_SCHEMA.empty_table()
    k1, k2, doc = t.column("k1").to_numpy(), t.column("k2").to_numpy(), t.column("doc").to_numpy()
    src, dst = group_edges(k1, k2, doc)
    p1, p2, pdoc = salted_pieces(k1, k2, doc, t.column("salted").to_numpy(zero_copy_only=False))
    size = write_edges(wd, p, src, dst, task.node_partitions)
    links = pa.table([pa.array(p1, pa.uint64()), pa.array(p2, pa.uint64()), pa.array(pdoc, pa.int64())],
                     schema=LINK_SCHEMA)
    link_bytes = shuffle.write(wd, "links", p, links, (p1 % np.uint64(task.partitions)).astype(np.int64),
                               task.partitions)
    return {"rows_read": t.num_rows, "run_bytes": size, "links": int(len(pdoc)), "link_bytes": link_bytes,
            "edges": int(len(src))}


def _docs(task: RebuildTask) -> dict[str, Any]:
    wd, ix, q = Workdir(task.workdir), Workdir(task.index_url), task.partition
    parts = [shuffle.read(ix, ref, q, DOCS_SCHEMA) for ref in task.segments]
    t = pa.concat_tables(parts) if parts else DOCS_SCHEMA.empty_table()
    t = t.take(pa.array(np.argsort(t.column("node").to_numpy(), kind="stable")))
    size = shuffle.write(wd, "docs", q, t, np.full(t.num_rows, q, np.int64), task.node_partitions)
    return {"rows_read": t.num_rows, "run_bytes": size}


def _old_clusters(ix: Workdir, segments: tuple[ShuffleRef, ...], q: int) -> pa.Table:
    """Every cluster row of partition ``q``, the newest of each ``cid``."""
    parts = [shuffle.read(ix, ref, q, CLUSTER_SCHEMA) for ref in reversed(segments)]
    t = pa.concat_tables(parts) if parts else CLUSTER_SCHEMA.empty_table()
    if not t.num_rows:
        return t
    _, first = np.unique(t.column("cid").to_numpy(), return_index=True)  # newest segment first: first wins
    return t.take(pa.array(first))


def _settle(task: RebuildTask) -> dict[str, Any]:
    wd, ix, q = Workdir(task.workdir), Workdir(task.index_url), task.partition
    docs = shuffle.read(wd, task.segments[0], q, DOCS_SCHEMA)
    node = docs.column("node").to_numpy()
    n = len(node)
    keep = np.ones(n, bool)
    size = np.ones(n, np.int64)
    kept_node = node.copy()
    name = ("cl", "members", part_name(q) + ".arrow")
    members = wd.read_arrow(*name) if wd.exists(*name) else MEMBER_SCHEMA.empty_table()
    if members.num_rows:
        assert task.replies is not None
        replies = shuffle.read(wd, task.replies, q, REPLY_SCHEMA)
        r_root, first = np.unique(replies.column("root").to_numpy(), return_index=True)
        at = first[np.searchsorted(r_root, members.column("root").to_numpy())]
        pos = np.searchsorted(node, members.column("node").to_numpy())
        kept_node[pos] = replies.column("kept_node").to_numpy()[at]
        size[pos] = replies.column("size").to_numpy()[at]
        keep[pos] = kept_node[pos] == node[pos]
    old = _old_clusters(ix, task.clusters, q)
    o_cid = old.column("cid").to_numpy()
    firsts = np.asarray(task.dump_firsts, np.int64)
    o_dump = np.searchsorted(firsts, o_cid, side="right") - 1
    o_pos = np.searchsorted(node, o_cid)
    o_pos = np.minimum(o_pos, max(n - 1, 0))
    o_here = (o_dump != task.dropped) & (n > 0) & (node[o_pos] == o_cid) if n else np.zeros(len(o_cid), bool)
    # the filters' outcome of each document that was ever kept (its cluster row, live or forwarded)
    filtered = pa.nulls(n, pa.bool_()).to_pylist()
    known = np.zeros(n, bool)
    was_kept = np.zeros(n, bool)
    old_size = np.zeros(n, np.int64)
    o_filtered = old.column("filtered").to_pylist()
    o_known = old.column("known").to_numpy(zero_copy_only=False)
    o_live = old.column("forward").to_numpy() < 0
    o_size = old.column("size").to_numpy()
    for i in np.flatnonzero(o_here).tolist():
        j = int(o_pos[i])
        filtered[j], known[j] = o_filtered[i], bool(o_known[i])
        if o_live[i]:
            was_kept[j], old_size[j] = True, int(o_size[i])
    filtered_arr = pa.array(filtered, pa.bool_())
    langs = docs.column(C.LANG).combine_chunks()
    ids = docs.column(C.ID).combine_chunks()

    label = ~keep
    labels = pa.table([pa.array(node[label]), pa.array(kept_node[label])], schema=LABEL_SCHEMA)
    label_bytes = shuffle.write(wd, "ix/labels", q, labels, np.full(int(label.sum()), q, np.int64), task.node_partitions)
    # kept documents' rows; a document once kept and no longer keeps its outcome in a forwarded row
    rows = keep | (np.isin(node, o_cid[o_here]))
    at = pa.array(np.flatnonzero(rows))
    clusters = pa.table([pa.array(node[rows]), pa.array(np.where(keep, size, 1)[rows]), ids.take(at), langs.take(at),
                         filtered_arr.take(at), pa.array(known[rows]),
                         pa.array(np.where(keep, -1, kept_node)[rows])], schema=CLUSTER_SCHEMA)
    cluster_bytes = shuffle.write(wd, "ix/clusters", q, clusters, np.full(len(at), q, np.int64), task.node_partitions)
    # what the remaining dumps' outputs must learn: kept documents whose cluster size changed, and documents
    # kept now that were not (their winner was dropped, or a cluster they were merged into split)
    changed = keep & (~was_kept | (old_size != size))
    at = pa.array(np.flatnonzero(changed))
    unknown = changed & ~known
    upd_filtered = pa.array([None if u else f for u, f in zip(unknown[changed].tolist(),
                                                               filtered_arr.take(at).to_pylist(), strict=True)],
                            pa.bool_())
    updates = pa.table([ids.take(at), langs.take(at), pa.array(np.ones(len(at), bool)), pa.array(size[changed]),
                        ids.take(at), upd_filtered, pa.array(np.full(len(at), task.version, np.int64))],
                       schema=UPDATE_SCHEMA)
    dest = np.searchsorted(firsts, node[changed], side="right") - 1
    update_bytes = shuffle.write(wd, "ix/updates", q, updates, dest, max(len(firsts), 1))
    dist: dict[str, dict[str, int]] = {}
    counts: dict[str, dict[str, dict[str, int]]] = {}
    kept_at = pa.array(np.flatnonzero(keep))
    for lang, s in zip(langs.take(kept_at).to_pylist(), size[keep].tolist(), strict=True):
        dist.setdefault(lang, {})[str(s)] = dist.get(lang, {}).get(str(s), 0) + 1
    for lang, s, f in zip(counted_lang(langs.take(kept_at)).to_pylist(), size[keep].tolist(),
                          filtered_arr.take(kept_at).to_pylist(), strict=True):
        bucket = counts.setdefault(lang, {"kept": {}, "removed": {}})["removed" if f else "kept"]
        bucket[str(s)] = bucket.get(str(s), 0) + 1
    return {"rows_read": n + old.num_rows + members.num_rows, "label_bytes": label_bytes,
            "cluster_bytes": cluster_bytes, "update_bytes": update_bytes, "dist": dist, "rehydrate": counts,
            "unknown": int(unknown.sum()), "changed": int(changed.sum()), "kept": int(keep.sum())}


PHASES: dict[str, Callable[[RebuildTask], dict[str, Any]]] = {"edges": _edges, "docs": _docs, "settle": _settle}


def rebuild_task(task: RebuildTask) -> dict[str, Any]:
    return PHASES[task.phase](task)


def drop_dump(run: MapFn, index_url: str, dump: str,
              tables: Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any] | None] | None = None,
              plan: ShufflePlan | None = None) -> dict[str, Any]:
    """Drop ``dump`` from the index at ``index_url``: commit a version equal to one run over the other dumps
    (see the module doc); returns its manifest. ``tables(rehydrate_counts, previous rehydrate entry)`` gives the
    new version's rehydration entry (the corpus layer computes the tables; None keeps none)."""
    index = DedupIndex(index_url)
    latest = index.manifest()
    if latest is None:
        raise DedupIndexError(f"dedup index {index_url} is empty: nothing to drop")
    names = [d["name"] for d in latest["dumps"]]
    if dump not in names:
        raise DedupIndexError(f"dump {dump!r} is not in dedup index {index_url} (its dumps: {', '.join(names)})")
    version = int(latest["version"]) + 1
    operation = f"drop-{dump}-v{version:06d}"
    lock = index.lock(operation, "drop", dump).acquire()
    wd = Workdir(f"{index.url}/_work/{operation}")
    parts, nodes = int(latest["partitions"]), int(latest["node_partitions"])
    dropped = names.index(dump)
    remaining = [d for d in latest["dumps"] if d["name"] != dump]
    keys = tuple(ShuffleRef(**d["keys"]) for d in remaining)
    docs = tuple(ShuffleRef(**d["docs"]) for d in remaining)

    def phase(kind: str, count: int, segments: tuple[ShuffleRef, ...], folder: str, **extra: Any) -> list[Any]:
        tasks = [RebuildTask(kind, wd.url, index.url, p, count, nodes, segments, **extra) for p in range(count)]
        return run_phase(run, wd, rebuild_task, tasks, folder)

    edge_info = phase("edges", parts, keys, "rb/edges")
    edge_runs = [int(i["run_bytes"]) for i in edge_info]
    if sum(int(i["links"]) for i in edge_info):
        links = shuffle.merge(run, wd, "links", parts, [int(i["link_bytes"]) for i in edge_info], plan)
        infos = run_phase(run, wd, link_task, [LinkTask(p, parts, links, wd.url, nodes) for p in range(parts)],
                          "rb/links")
        edge_runs += [int(i["run_bytes"]) for i in infos]
    edges = shuffle.merge(run, wd, "edges", nodes, edge_runs, plan)
    doc_info = phase("docs", nodes, docs, "rb/docs")
    gathered = shuffle.merge(run, wd, "docs", nodes, [int(i["run_bytes"]) for i in doc_info], plan)
    total = sum(int(d["documents"]) for d in remaining)
    labels, _ = connected_components(run, wd, edges, nodes, total, plan)
    keep = latest["settings"].get("keep", "first_id")

    def clusters_phase(kind: str, source: ShuffleRef, folder: str) -> tuple[list[Any], ShuffleRef]:
        tasks = [ClusterTask(kind, wd.url, p, nodes, source, docs=gathered, keep=keep) for p in range(nodes)]
        info = run_phase(run, wd, cluster_task, tasks, folder)
        return info, shuffle.merge(run, wd, folder, nodes, [int(i["run_bytes"]) for i in info], plan)

    _, partials = clusters_phase("join", labels, "cl/partials")
    _, replies = clusters_phase("combine", partials, "cl/replies")
    settled = phase("settle", nodes, (gathered,), "rb/settle", clusters=tuple(ShuffleRef(**e) for e in latest["clusters"]),
                    replies=replies, dump_firsts=tuple(int(d["first_node"]) for d in latest["dumps"]),
                    dropped=dropped, version=version, keep=keep)
    label_ref = shuffle.merge(run, wd, "ix/labels", nodes, [int(i["label_bytes"]) for i in settled], plan)
    cluster_ref = shuffle.merge(run, wd, "ix/clusters", nodes, [int(i["cluster_bytes"]) for i in settled], plan)
    updates = shuffle.merge(run, wd, "ix/updates", len(names), [int(i["update_bytes"]) for i in settled], plan)
    uid = f"data/v{version:06d}-{operation}"
    label_ref = index.copy_shuffle(wd, label_ref, f"{uid}/labels")
    cluster_ref = index.copy_shuffle(wd, cluster_ref, f"{uid}/clusters")
    written = []
    for k, name in enumerate(names):
        table = shuffle.read(wd, updates, k, UPDATE_SCHEMA)
        if table.num_rows and name != dump:
            path = f"{uid}/updates/{name}.parquet"
            index.wd.write_parquet(table, *path.split("/"))
            written.append({"dump": name, "version": version, "path": path, "rows": table.num_rows})
    dist: dict[str, Any] = {}
    counts: dict[str, Any] = {}
    for info in settled:
        add_counts(dist, info["dist"], nested=False)
        add_counts(counts, info["rehydrate"], nested=True)
    manifest = {
        **{k: latest[k] for k in ("format", "block", "settings", "partitions", "node_partitions", "next_node")},
        "format": FORMAT, "version": version, "parent": int(latest["version"]),
        "operation": {"kind": "drop", "dump": dump, "run": operation},
        "dumps": remaining, "documents": total,
        "labels": [label_ref.__dict__], "clusters": [cluster_ref.__dict__], "forwards": 0,
        "updates": [u for u in latest["updates"] if u["dump"] != dump] + written,
        "clusters_by_lang": dict(sorted(dist.items())), "rehydrate_counts": dict(sorted(counts.items())),
        "unfiltered": sum(int(i["unknown"]) for i in settled),
        "rehydrate": tables(counts, latest.get("rehydrate")) if tables else latest.get("rehydrate"),
    }
    index.commit(manifest)
    lock.release()
    wd.remove()
    return manifest

