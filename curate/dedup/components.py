"""Clusters from candidate edges, computed by tasks: connected components, one kept document per cluster.

No process holds the graph, and no task holds a cluster: every phase is a set of tasks run through the
step's ``job.map`` (a process pool locally, Ray tasks on a cluster), each reading one partition of a
shuffle (:mod:`.partitioned_shuffle`) and writing one run of the next, and everything about a cluster is
computed as partial aggregates per partition, combined at the cluster's home partition, and sent back (the
combiner of MapReduce, Dean & Ghemawat 2004, section 4.3): a cluster of ten million documents costs its
home at most one row per partition.

1. components (:mod:`.star_rounds`) — large-star / small-star rounds over the edges; the ``labels``
   shuffle holds (node, root) by node partition, root = the component's smallest document number;
2. ``join`` — per node partition: its labels and its documents (the ``docs`` shuffle written by the keys
   phase, :func:`write_docs`) make the partition's *members* (kept in a file of the partition), and per
   cluster a partial (members here, the best member here under the keep rule) goes to the root's partition;
3. ``combine`` — per root partition: cluster size = sum of counts, kept document = best of the bests, the
   per-language size statistics and the largest clusters; the (size, kept document) goes back to every
   partition that sent a partial;
4. ``apply`` — per node partition: each member's decision (kept or duplicate of, cluster size, cluster id),
   regrouped by *range* of document numbers (:mod:`.row_ranges`: ceil(N/P) documents per range);
5. ``results`` — per range, one piece ``results/<shard id>.<k>.parquet`` per shard the range meets
   (rows in clusters of size > 1, in row order): at most shards + partitions - 1 pieces; a shard's
   ``process`` reads its pieces one after the other (:func:`read_piece`).

Every task reads about N/P rows (each reports ``rows_read``), plus at most one row per (cluster, partition)
for the partial aggregates. The kept document is deterministic:

- ``first_id`` (default): the smallest document ``id`` (ties: the earlier shard/row). Independent of how
  the input is split into shards, so 1 shard and 7 shards keep the same documents.
- ``first_index``: the earliest document in shard order, then row order (FineWeb2/datatrove keep the first
  document of a cluster in processing order).

The cluster id is the kept document's ``id`` (a string): stable, readable, the same however the input was
sharded. Statistics count a cluster under its kept document's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.blocks import columns as C
from curate.dedup import partitioned_shuffle as shuffle
from curate.dedup.partitioned_shuffle import ShufflePlan, ShuffleRef
from curate.dedup.row_ranges import RowRanges
from curate.dedup.star_contraction import edge_partition, node_partition, orient
from curate.dedup.star_rounds import (
    EDGE_SCHEMA,
    LABEL_SCHEMA,
    ComponentsError,
    _read_table,
    _run_phase,
    _write_table,
    connected_components,
    part_name,
)
from curate.dedup.workdir import Workdir

KeepRule = Literal["first_id", "first_index"]
KEEP_RULES: tuple[str, ...] = get_args(KeepRule)
ROW_BITS = 40
ROW_MASK = (1 << ROW_BITS) - 1
RESULT_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        (C.ID, pa.string()),
        ("keep", pa.bool_()),
        ("duplicate_of", pa.string()),
        ("cluster_size", pa.int64()),
        ("cluster_id", pa.string()),
    ]
)
DOCS_SCHEMA = pa.schema([("node", pa.int64()), (C.ID, pa.string()), (C.LANG, pa.string()), (C.URL, pa.string())])
MEMBER_SCHEMA = pa.schema([("root", pa.int64()), ("node", pa.int64()), (C.ID, pa.string()), (C.LANG, pa.string()),
                           (C.URL, pa.string())])
PARTIAL_SCHEMA = pa.schema([("root", pa.int64()), ("count", pa.int64()), ("best_node", pa.int64()),
                            ("best_id", pa.string()), ("best_lang", pa.string()), ("src", pa.int64())])
REPLY_SCHEMA = pa.schema([("root", pa.int64()), ("size", pa.int64()), ("kept_node", pa.int64()),
                          ("kept_id", pa.string())])
CLUSTERED_SCHEMA = pa.schema(
    [("node", pa.int64()), (C.ID, pa.string()), ("keep", pa.bool_()), ("cluster_size", pa.int64()),
     ("cluster_id", pa.string())]
)
PIECES_KEY = b"curate.pieces"
RANGES = ("cl", "ranges.json")  # the result ranges' first document numbers, for the apply tasks
SAMPLES = 3  # members' urls listed per largest cluster
MapFn = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


def shard_name(index: int) -> str:
    return f"shard-{index:06d}"


def write_docs(wd: Workdir, index: int, ids: pa.Array, langs: pa.Array, partitions: int,
               urls: pa.Array | None = None) -> int:
    """Shard ``index``'s run of the ``docs`` shuffle: (node, id, lang, url) of every row, to its node
    partition, so the join task of a partition reads only its own documents. Returns the run's bytes."""
    node = (index << ROW_BITS) | np.arange(len(ids), dtype=np.int64)
    urls = pa.nulls(len(ids), pa.string()) if urls is None else urls
    table = pa.table([pa.array(node), ids, langs, urls], schema=DOCS_SCHEMA)
    return shuffle.write(wd, "docs", index, table, node_partition(node, partitions), partitions)


def write_edges(wd: Workdir, writer: int, a: np.ndarray, b: np.ndarray, partitions: int,
                folder: str = "edges") -> int:
    """Writer ``writer``'s run of undirected edges, as distinct (big, small) rows by edge partition."""
    big, small = orient(np.asarray(a, np.int64), np.asarray(b, np.int64))
    table = pa.table([pa.array(big), pa.array(small)], schema=EDGE_SCHEMA)
    return shuffle.write(wd, folder, writer, table, edge_partition(big, small, partitions), partitions)


@dataclass(frozen=True)
class ClusterTask:
    """One task of the ``join``, ``combine`` or ``apply`` phase for partition ``partition``."""

    phase: str
    workdir: str
    partition: int
    partitions: int
    source: ShuffleRef
    docs: ShuffleRef | None = None
    keep: str = "first_id"
    largest: int = 0
    top: tuple[int, ...] = ()  # roots of the largest clusters (apply: sample their members)


def _keep_order(keep: str, root: np.ndarray, ids: pa.Array, node: np.ndarray) -> np.ndarray:
    """Rows grouped by root, best member (under the keep rule) first."""
    if keep == "first_id":
        return pc.sort_indices(pa.table({"r": root, "id": ids, "n": node}),
                               sort_keys=[("r", "ascending"), ("id", "ascending"), ("n", "ascending")]).to_numpy()
    return np.lexsort((node, root))


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.empty(0, np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def _join(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    labels = shuffle.read(wd, task.source, task.partition, LABEL_SCHEMA)
    node, first = np.unique(labels.column("node").to_numpy(), return_index=True)  # a root comes once per edge partition
    root = labels.column("root").to_numpy()[first]
    assert task.docs is not None
    docs = shuffle.read(wd, task.docs, task.partition, DOCS_SCHEMA)
    rows_read = labels.num_rows + docs.num_rows
    have = docs.column("node").to_numpy()  # runs in shard order, rows in order: sorted
    pos = np.minimum(np.searchsorted(have, node), max(len(have) - 1, 0))
    if len(node) and (len(have) == 0 or not np.array_equal(have[pos], node)):
        raise ComponentsError(f"{wd.path('docs')} lacks documents of the graph (written for another partition "
                              f"count?); delete {wd.url} and rerun")
    docs = docs.take(pa.array(pos)) if len(node) else DOCS_SCHEMA.empty_table()
    members = pa.table([pa.array(root), pa.array(node), docs.column(C.ID), docs.column(C.LANG), docs.column(C.URL)],
                       schema=MEMBER_SCHEMA)
    _write_table(wd, members, "cl", "members", part_name(task.partition) + ".arrow")
    ids = members.column(C.ID).combine_chunks()
    order = _keep_order(task.keep, root, ids, node)
    r_sorted = root[order]
    starts = _starts(r_sorted)
    counts = np.diff(np.r_[starts, len(r_sorted)])
    best = order[starts]
    partial = pa.table([pa.array(root[best]), pa.array(counts), pa.array(node[best]), ids.take(pa.array(best)),
                        members.column(C.LANG).take(pa.array(best)),
                        pa.array(np.full(len(best), task.partition, np.int64))], schema=PARTIAL_SCHEMA)
    size = shuffle.write(wd, "cl/partials", task.partition, partial,
                         node_partition(root[best], task.partitions), task.partitions)
    in_graph = Counter(members.column(C.LANG).to_pylist())
    return {"rows_read": rows_read, "run_bytes": size, "nodes": int(len(node)),
            "in_graph": dict(sorted(in_graph.items()))}


def _combine(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    t = shuffle.read(wd, task.source, task.partition, PARTIAL_SCHEMA)
    root = t.column("root").to_numpy()
    best_node = t.column("best_node").to_numpy()
    best_id = t.column("best_id").combine_chunks() if t.num_rows else pa.array([], pa.string())
    order = _keep_order(task.keep, root, best_id, best_node)
    r_sorted = root[order]
    starts = _starts(r_sorted)
    sizes = np.add.reduceat(t.column("count").to_numpy()[order], starts) if len(starts) else np.empty(0, np.int64)
    kept = order[starts]
    roots, kept_node = root[kept], best_node[kept]
    kept_id = best_id.take(pa.array(kept))
    kept_lang = t.column("best_lang").take(pa.array(kept)).to_pylist()
    dist: dict[str, Counter[int]] = {}
    for lang, n in zip(kept_lang, sizes.tolist(), strict=True):
        dist.setdefault(lang, Counter())[n] += 1
    largest: list[list[Any]] = []
    if task.largest:
        by_lang: dict[str, list[int]] = {}
        for i in np.lexsort((roots, -sizes)).tolist():
            picked = by_lang.setdefault(kept_lang[i], [])
            if len(picked) < task.largest:
                picked.append(i)
        largest = [[kept_lang[i], int(sizes[i]), int(roots[i]), kept_id[i].as_py(), int(kept_node[i])]
                   for lang in sorted(by_lang) for i in by_lang[lang]]
    # every partial row gets its cluster's answer, sent back to the partition it came from
    group = np.empty(len(root), dtype=np.int64)
    if len(root):
        group[order] = np.cumsum(np.r_[True, r_sorted[1:] != r_sorted[:-1]]) - 1
    reply = pa.table([pa.array(root), pa.array(sizes[group]), pa.array(kept_node[group]),
                      kept_id.take(pa.array(group))], schema=REPLY_SCHEMA)
    size = shuffle.write(wd, "cl/replies", task.partition, reply, t.column("src").to_numpy(), task.partitions)
    return {"rows_read": t.num_rows, "run_bytes": size, "largest": largest,
            "clusters": {lang: {str(s): c for s, c in sorted(d.items())} for lang, d in sorted(dist.items())}}


def _apply(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    members = _read_table(wd, "cl", "members", part_name(task.partition) + ".arrow")
    replies = shuffle.read(wd, task.source, task.partition, REPLY_SCHEMA)
    rows_read = members.num_rows + replies.num_rows
    r_root, first = np.unique(replies.column("root").to_numpy(), return_index=True)
    root = members.column("root").to_numpy()
    node = members.column("node").to_numpy()
    pos = np.searchsorted(r_root, root)
    if len(root) and not np.array_equal(r_root[np.minimum(pos, max(len(r_root) - 1, 0))], root):
        raise ComponentsError(f"clusters of partition {task.partition} got no answer in {wd.url}; delete it and rerun")
    at = pa.array(first[pos]) if len(root) else pa.array([], pa.int64())
    kept_node = replies.column("kept_node").to_numpy()[first][pos] if len(root) else np.empty(0, np.int64)
    keep = node == kept_node
    sizes = replies.column("size").take(at)
    cluster_id = replies.column("kept_id").take(at)
    table = pa.table([pa.array(node), members.column(C.ID), pa.array(keep), sizes, cluster_id],
                     schema=CLUSTERED_SCHEMA)
    boundaries = np.asarray(wd.read_json(*RANGES), dtype=np.int64)
    size = shuffle.write(wd, "clustered", task.partition, table, np.searchsorted(boundaries, node, side="right"),
                         task.partitions)
    samples: dict[str, dict[str, Any]] = {}
    if task.top and len(root):
        top = np.isin(root, np.asarray(task.top, dtype=np.int64))
        urls = members.column(C.URL).to_pylist()
        ids = members.column(C.ID).to_pylist()
        for i in np.flatnonzero(top)[np.argsort(node[top], kind="stable")].tolist():
            entry = samples.setdefault(str(int(root[i])), {"members": []})
            where = urls[i] or ids[i]
            if keep[i]:
                entry["kept"] = where
            elif len(entry["members"]) < SAMPLES:
                entry["members"].append([int(node[i]), where])
    return {"rows_read": rows_read, "run_bytes": size, "samples": samples}


PHASES: dict[str, Callable[[Workdir, ClusterTask], dict[str, Any]]] = {"join": _join, "combine": _combine,
                                                                     "apply": _apply}


def cluster_task(task: ClusterTask) -> dict[str, Any]:
    return PHASES[task.phase](Workdir(task.workdir), task)


@dataclass(frozen=True)
class ResultsTask:
    """Per range of document numbers: one result piece per shard whose rows meet the range."""

    partition: int
    partitions: int
    workdir: str
    source: ShuffleRef
    pieces: tuple[tuple[int, str, int, int], ...]  # (index, shard id, piece number, pieces of the shard)

    @property
    def phase(self) -> str:
        return "results"


def piece_name(shard_id: str, piece: int) -> str:
    """``results/<shard id>.<piece>.parquet``: the shard's result rows of one range, in row order."""
    return f"{shard_id}.{piece:05d}.parquet"


def read_piece(wd: Workdir, shard_id: str, piece: int) -> tuple[pa.Table, int] | None:
    """One result piece and the number of pieces of its shard; None when the shard has no result."""
    if not wd.exists("results", piece_name(shard_id, piece)):
        return None
    t = wd.read_parquet("results", piece_name(shard_id, piece))
    count = int((t.schema.metadata or {}).get(PIECES_KEY, b"1"))
    return t.replace_schema_metadata(None), count


def read_results(wd: Workdir, shard_id: str) -> pa.Table:
    """All result rows of one shard (its pieces concatenated): rows in clusters of size > 1."""
    first = read_piece(wd, shard_id, 0)
    if first is None:
        return RESULT_SCHEMA.empty_table()
    parts = [first[0]]
    for k in range(1, first[1]):
        piece = read_piece(wd, shard_id, k)
        if piece is None:
            raise ComponentsError(f"{wd.path('results', piece_name(shard_id, k))} is missing; rerun the dedup step")
        parts.append(piece[0])
    return pa.concat_tables(parts)


def results_task(task: ResultsTask) -> dict[str, Any]:
    wd = Workdir(task.workdir)
    t = shuffle.read(wd, task.source, task.partition, CLUSTERED_SCHEMA)
    node = t.column("node").to_numpy()
    order = np.argsort(node, kind="stable")
    t, node = t.take(pa.array(order)), node[order]
    shard_of = node >> ROW_BITS
    removed = 0
    for index, shard_id, piece, count in task.pieces:
        lo, hi = np.searchsorted(shard_of, [index, index + 1])
        part = t.slice(int(lo), int(hi - lo))
        keep = part.column("keep")
        removed += int(len(part) - pc.sum(keep).as_py()) if len(part) else 0
        dup = pc.if_else(keep, pa.scalar(None, pa.string()), part.column("cluster_id"))
        schema = RESULT_SCHEMA.with_metadata({PIECES_KEY: str(count).encode()})
        table = pa.table(
            [pa.array(node[lo:hi] & ROW_MASK, pa.int64()), part.column(C.ID), keep, dup,
             part.column("cluster_size"), part.column("cluster_id")],
            schema=schema,
        )
        wd.write_parquet(table, "results", piece_name(shard_id, piece))
    return {"removed": removed, "rows_read": t.num_rows}


def _largest(infos: list[dict[str, Any]], k: int) -> list[list[Any]]:
    """The k largest clusters per language from the combine tasks' lists (size, then root)."""
    rows = sorted((r for i in infos for r in i["largest"]), key=lambda r: (r[0], -r[1], r[2]))
    out: list[list[Any]] = []
    count: Counter[str] = Counter()
    for r in rows:
        if count[r[0]] < k:
            count[r[0]] += 1
            out.append(r)
    return out


def build_clusters(
    run: MapFn,
    wd: Workdir,
    shard_ids: list[str],
    shard_rows: list[int],
    partitions: int,
    lang_totals: dict[str, int],
    keep: str = "first_id",
    edges: ShuffleRef | None = None,
    docs: ShuffleRef | None = None,
    plan: ShufflePlan | None = None,
    report: dict[str, Any] | None = None,
    largest: int = 0,
) -> dict[str, dict[int, int]]:
    """From the ``edges`` shuffle (:func:`write_edges`) and the ``docs`` shuffle (:func:`write_docs`;
    ``shard_rows`` rows per shard) write the result pieces of every shard (:func:`read_results`) and return
    per-language cluster-size distributions ``{lang: {size: number of clusters}}`` (size 1 = unique
    documents). ``report`` (a dict) receives the rounds, the largest task input and, with ``largest``, the
    ``largest`` biggest clusters of each language. Resumable phase by phase; the caller removes the scratch
    (``edges``, ``docs``, ``cc``, ``cl``, ``clustered``) once it has recorded the result."""
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {KEEP_RULES}, not {keep!r}")
    edges = edges or ShuffleRef("edges", partitions, 1)
    docs = docs or ShuffleRef("docs", partitions, 1)
    nodes = int(sum(shard_rows))
    labels, summary = connected_components(run, wd, edges, partitions, nodes, plan)
    ranges = RowRanges(shard_rows, partitions, ROW_BITS)
    wd.write_json(ranges.boundaries(), *RANGES)

    def phase(kind: str, source: ShuffleRef, folder: str, **extra: Any) -> tuple[list[dict[str, Any]], ShuffleRef]:
        tasks = [ClusterTask(kind, wd.url, p, partitions, source, keep=keep, **extra) for p in range(partitions)]
        info = _run_phase(run, wd, cluster_task, tasks, folder)
        return info, shuffle.merge(run, wd, folder, partitions, [int(i["run_bytes"]) for i in info], plan)

    joined, partials = phase("join", labels, "cl/partials", docs=docs)
    combined, replies = phase("combine", partials, "cl/replies", largest=largest)
    top = _largest(combined, largest) if largest else []
    applied, clustered = phase("apply", replies, "clustered", top=tuple(sorted(r[2] for r in top)))
    tasks = [ResultsTask(q, partitions, wd.url, clustered, tuple((s, shard_ids[s], k, n) for s, k, n in pieces))
             for q, pieces in enumerate(ranges.pieces())]
    finished = _run_phase(run, wd, results_task, tasks, "results")

    stats: dict[str, dict[int, int]] = {}
    in_graph: Counter[str] = Counter()
    for info in joined:
        in_graph.update(info["in_graph"])
    for info in combined:
        for lang, dist in info["clusters"].items():
            entry = stats.setdefault(lang, {})
            for s, c in dist.items():
                entry[int(s)] = entry.get(int(s), 0) + c
    for lang, total in lang_totals.items():
        singles = total - in_graph.get(lang, 0)
        if singles:
            entry = stats.setdefault(lang, {})
            entry[1] = entry.get(1, 0) + singles
    if report is not None:
        report.update(summary)
        report["max_task_rows"] = max([summary["max_task_rows"],
                                       *[int(i["rows_read"]) for i in joined + combined + applied + finished]])
        if largest:
            samples: dict[str, dict[str, Any]] = {}
            for info in applied:
                for r, entry in info["samples"].items():
                    into = samples.setdefault(r, {"members": []})
                    into["members"].extend(entry["members"])
                    if "kept" in entry:
                        into["kept"] = entry["kept"]
            report["largest"] = [
                {"lang": lang, "size": size, "kept_id": kept_id,
                 "kept_url": samples.get(str(root), {}).get("kept"),
                 "members": [u for _, u in sorted(samples.get(str(root), {"members": []})["members"])[:SAMPLES]]}
                for lang, size, root, kept_id, _ in top]
    return {lang: dict(sorted(d.items())) for lang, d in sorted(stats.items())}


def summarize(stats: dict[str, dict[int, int]]) -> dict[str, Any]:
    """Per language: documents, clusters, removed duplicates."""
    out = {}
    for lang, dist in stats.items():
        docs = sum(s * c for s, c in dist.items())
        clusters = sum(dist.values())
        out[lang] = {"documents": docs, "clusters": clusters, "removed": docs - clusters}
    return out
