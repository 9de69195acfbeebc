"""Clusters from candidate edges, computed by tasks: connected components, one kept document per cluster.

No process holds the graph, and no task holds a cluster: every phase is a set of tasks run through the
step's ``job.map`` (a process pool locally, Ray tasks on a cluster), each reading one partition of a
shuffle (:mod:`curate.shuffle.partitioned_shuffle`) and writing one run of the next, and everything about a cluster is
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

With verification (:mod:`.cluster_verify`), ``combine`` also asks for each kept document's signature, and
``lookup``, ``verify``, ``recount`` come between it and ``apply``: only members close enough to their
kept document are removed, and the cluster sizes are those of the verified clusters.

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.blocks import columns as C
from curate.dedup import cluster_verify, index_apply
from curate.dedup.cluster_tables import (
    CLUSTERED_SCHEMA,
    DOCS_SCHEMA,
    KEEP_RULES,
    MEMBER_SCHEMA,
    PARTIAL_SCHEMA,
    PIECES_KEY,
    RANGES,
    REPLY_SCHEMA,
    REQUEST_SCHEMA,
    RESULT_SCHEMA,
    ROW_BITS,
    ROW_MASK,
    SAMPLES,
    ClusterTask,
    KeepRule,
    MapFn,
    group_starts,
    keep_order,
    sample_members,
    shard_name,
    write_clustered,
    write_docs,
    write_edges,
    write_signatures,
)
from curate.dedup.row_ranges import RowRanges
from curate.dedup.star_contraction import node_partition
from curate.dedup.star_rounds import LABEL_SCHEMA, ComponentsError, connected_components, part_name, run_phase
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShufflePlan, ShuffleRef
from curate.shuffle.workdir import Workdir

__all__ = ["KEEP_RULES", "ROW_BITS", "ROW_MASK", "ComponentsError", "KeepRule", "build_clusters", "part_name",
           "read_piece", "read_results", "shard_name", "summarize", "write_docs", "write_edges", "write_signatures"]


def _join(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    labels = shuffle.read(wd, task.source, task.partition, LABEL_SCHEMA)
    node, first = np.unique(labels.column("node").to_numpy(), return_index=True)  # a root comes once per edge partition
    root = labels.column("root").to_numpy()[first]
    assert task.docs is not None
    docs = shuffle.read(wd, task.docs, task.partition, DOCS_SCHEMA)
    indexed = task.supers is not None  # a run against a dedup index: earlier clusters are nodes too
    if indexed:
        docs = index_apply.with_supers(wd, task, docs)
    rows_read = labels.num_rows + docs.num_rows
    have = docs.column("node").to_numpy()  # runs in shard order, rows in order: sorted
    pos = np.minimum(np.searchsorted(have, node), max(len(have) - 1, 0))
    if len(node) and (len(have) == 0 or not np.array_equal(have[pos], node)):
        raise ComponentsError(f"{wd.path('docs')} lacks documents of the graph (written for another partition "
                              f"count?); delete {wd.url} and rerun")
    docs = docs.take(pa.array(pos)) if len(node) else docs.schema.empty_table()
    columns = [pa.array(root), pa.array(node), docs.column(C.ID), docs.column(C.LANG), docs.column(C.URL)]
    members = (pa.table(columns + index_apply.member_columns(docs), schema=index_apply.member_schema(MEMBER_SCHEMA))
               if indexed else pa.table(columns, schema=MEMBER_SCHEMA))
    wd.write_arrow(members, "cl", "members", part_name(task.partition) + ".arrow")
    ids = members.column(C.ID).combine_chunks()
    order = keep_order(task.keep, root, ids, node)
    r_sorted = root[order]
    starts = group_starts(r_sorted)
    counts = np.diff(np.r_[starts, len(r_sorted)])
    if indexed:  # an earlier cluster counts its size
        counts = np.add.reduceat(members.column("count").to_numpy()[order], starts) if len(starts) else counts
    best = order[starts]
    partial = pa.table([pa.array(root[best]), pa.array(counts), pa.array(node[best]), ids.take(pa.array(best)),
                        members.column(C.LANG).take(pa.array(best)),
                        pa.array(np.full(len(best), task.partition, np.int64))], schema=PARTIAL_SCHEMA)
    size = shuffle.write(wd, "cl/partials", task.partition, partial,
                         node_partition(root[best], task.partitions), task.partitions)
    langs = members.column(C.LANG)
    in_graph = Counter((langs.filter(pa.array(node >= 0)) if indexed else langs).to_pylist())
    return {"rows_read": rows_read, "run_bytes": size, "nodes": int(len(node)),
            "in_graph": dict(sorted(in_graph.items()))}


def _combine(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    t = shuffle.read(wd, task.source, task.partition, PARTIAL_SCHEMA)
    root = t.column("root").to_numpy()
    best_node = t.column("best_node").to_numpy()
    best_id = t.column("best_id").combine_chunks() if t.num_rows else pa.array([], pa.string())
    order = keep_order(task.keep, root, best_id, best_node)
    r_sorted = root[order]
    starts = group_starts(r_sorted)
    sizes = np.add.reduceat(t.column("count").to_numpy()[order], starts) if len(starts) else np.empty(0, np.int64)
    kept = order[starts]
    roots, kept_node = root[kept], best_node[kept]
    kept_id = best_id.take(pa.array(kept))
    kept_lang_arr = t.column("best_lang").take(pa.array(kept)).combine_chunks() if len(kept) else pa.array([], pa.string())
    kept_lang = kept_lang_arr.to_pylist()
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
    at = pa.array(group)
    src = t.column("src").to_numpy()
    reply = pa.table([pa.array(root), pa.array(sizes[group]), pa.array(kept_node[group]), kept_id.take(at),
                      kept_lang_arr.take(at)], schema=REPLY_SCHEMA)
    size = shuffle.write(wd, "cl/replies", task.partition, reply, src, task.partitions)
    info: dict[str, Any] = {"rows_read": t.num_rows, "run_bytes": size, "largest": largest,
                            "clusters": {lang: {str(s): c for s, c in sorted(d.items())} for lang, d in sorted(dist.items())}}
    if task.verify:  # each partition holding members asks for its clusters' kept signatures, once per cluster
        want = kept_node[group]
        request = pa.table([pa.array(want), pa.array(src)], schema=REQUEST_SCHEMA)
        info["request_bytes"] = shuffle.write(wd, "cl/requests", task.partition, request,
                                              node_partition(want, task.partitions), task.partitions)
    return info


def _apply(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    if task.verify:
        return cluster_verify.apply_verified(wd, task)
    members = wd.read_arrow("cl", "members", part_name(task.partition) + ".arrow")
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
    table = pa.table([pa.array(node), members.column(C.ID), pa.array(keep), replies.column("size").take(at),
                      replies.column("kept_id").take(at), pa.nulls(len(node), pa.float64())], schema=CLUSTERED_SCHEMA)
    recorded: dict[str, Any] = {}
    if task.supers is not None:  # what the index's next version says; the results are the new documents'
        recorded = index_apply.record(wd, task, members, keep, table.column("cluster_size").to_numpy(),
                                      table.column("cluster_id").combine_chunks(), kept_node)
        table = table.filter(pa.array(node >= 0))
    size = write_clustered(wd, task, table)
    samples: dict[str, dict[str, Any]] = {}
    sample_members(samples, root, node, keep, members.column(C.URL).to_pylist(), members.column(C.ID).to_pylist(), task.top)
    return {"rows_read": rows_read, "run_bytes": size, "samples": samples, **({"index": recorded} if recorded else {})}


PHASES = {"join": _join, "combine": _combine, "apply": _apply, **cluster_verify.PHASES}


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
    spans: tuple[tuple[int, int], ...] = ()  # dense numbering: each piece's shard's document numbers [first, end)

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
    for i, (index, shard_id, piece, count) in enumerate(task.pieces):
        if task.spans:  # dense numbering: the shard's numbers are a span
            first, end = task.spans[i]
            lo, hi = np.searchsorted(node, [first, end])
        else:
            first = index << ROW_BITS
            lo, hi = np.searchsorted(shard_of, [index, index + 1])
        part = t.slice(int(lo), int(hi - lo))
        keep = part.column("keep")
        removed += int(len(part) - pc.sum(keep).as_py()) if len(part) else 0
        dup = pc.if_else(keep, pa.scalar(None, pa.string()), part.column("cluster_id"))
        schema = RESULT_SCHEMA.with_metadata({PIECES_KEY: str(count).encode()})
        table = pa.table(
            [pa.array(node[lo:hi] - first, pa.int64()), part.column(C.ID), keep, dup,
             part.column("cluster_size"), part.column("cluster_id"), part.column("similarity")],
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
    verify: float = 0.0,
    sigs: ShuffleRef | None = None,
    sig_width: int = 0,
    first_node: int = -1,
    supers: ShuffleRef | None = None,
    dump_firsts: tuple[int, ...] = (),
    index_version: int = 0,
) -> dict[str, dict[int, int]]:
    """From the ``edges`` shuffle (:func:`write_edges`) and the ``docs`` shuffle (:func:`write_docs`;
    ``shard_rows`` rows per shard) write the result pieces of every shard (:func:`read_results`) and return
    per-language cluster-size distributions ``{lang: {size: number of clusters}}`` (size 1 = unique
    documents). ``report`` (a dict) receives the rounds, the largest task input and, with ``largest``, the
    ``largest`` biggest clusters of each language. ``verify`` > 0: clusters are verified against that
    similarity threshold (:mod:`.cluster_verify`), with the ``sigs`` shuffle (:func:`write_signatures`,
    ``sig_width`` bytes a signature). ``first_node`` >= 0: documents are numbered densely from it (a run
    against a dedup index, whose earlier clusters come as the ``supers`` shuffle: :mod:`.index_apply`; what
    the run changes in the index goes to ``report["index"]``). Resumable phase by phase; the caller removes
    the scratch (``edges``, ``docs``, ``sigs``, ``cc``, ``cl``, ``clustered``) once it has recorded the result."""
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {KEEP_RULES}, not {keep!r}")
    edges = edges or ShuffleRef("edges", partitions, 1)
    docs = docs or ShuffleRef("docs", partitions, 1)
    nodes = int(sum(shard_rows))
    labels, summary = connected_components(run, wd, edges, partitions, nodes, plan)
    ranges = RowRanges(shard_rows, partitions, ROW_BITS, first_node)
    wd.write_json(ranges.boundaries(), *RANGES)
    indexed = {"supers": supers, "dump_firsts": dump_firsts, "index_version": index_version} if supers else {}

    def phase(kind: str, source: ShuffleRef, folder: str, **extra: Any) -> tuple[list[dict[str, Any]], ShuffleRef]:
        tasks = [ClusterTask(kind, wd.url, p, partitions, source, keep=keep, **indexed, **extra)
                 for p in range(partitions)]
        info = run_phase(run, wd, cluster_task, tasks, folder)
        return info, shuffle.merge(run, wd, folder, partitions, [int(i["run_bytes"]) for i in info], plan)

    joined, partials = phase("join", labels, "cl/partials", docs=docs)
    combined, replies = phase("combine", partials, "cl/replies", largest=largest, verify=verify)
    top = _largest(combined, largest) if largest else []
    top_roots = tuple(sorted(r[2] for r in top))
    verified: list[dict[str, Any]] = []
    if verify:
        requests = shuffle.merge(run, wd, "cl/requests", partitions, [int(i["request_bytes"]) for i in combined], plan)
        looked, kept = phase("lookup", requests, "cl/kept", sigs=sigs, sig_width=sig_width)
        verified, counts = phase("verify", replies, "cl/counts", sigs=sigs, kept=kept, sig_width=sig_width,
                                 verify=verify, top=top_roots)
        recounted, sizes = phase("recount", counts, "cl/sizes")
        applied, clustered = phase("apply", sizes, "clustered", verify=verify)
        sampled, sized = verified, recounted
    else:
        looked = recounted = []
        applied, clustered = phase("apply", replies, "clustered", top=top_roots)
        sampled, sized = applied, combined
    tasks = [ResultsTask(q, partitions, wd.url, clustered, tuple((s, shard_ids[s], k, n) for s, k, n in pieces),
                         tuple(ranges.span(s) for s, _, _ in pieces) if first_node >= 0 else ())
             for q, pieces in enumerate(ranges.pieces())]
    finished = run_phase(run, wd, results_task, tasks, "results")

    stats: dict[str, dict[int, int]] = {}
    in_graph: Counter[str] = Counter()
    for info in joined:
        in_graph.update(info["in_graph"])
    for info in sized:
        for lang, dist in info["clusters"].items():
            entry = stats.setdefault(lang, {})
            for s, c in dist.items():
                entry[int(s)] = entry.get(int(s), 0) + c
    singles_of: Counter[str] = Counter({lang: total - in_graph.get(lang, 0) for lang, total in lang_totals.items()})
    for info in verified:  # members kept by verification: clusters of one
        singles_of.update(info["rejected"])
    for lang, singles in singles_of.items():
        if singles:
            entry = stats.setdefault(lang, {})
            entry[1] = entry.get(1, 0) + singles
    if report is not None:
        report.update(summary)
        if supers is not None:
            report["index"] = _index_report([i["index"] for i in applied])
        every = joined + combined + looked + verified + recounted + applied + finished
        report["max_task_rows"] = max([summary["max_task_rows"], *[int(i["rows_read"]) for i in every]])
        if verify:
            report["verify"] = {
                "threshold": verify, "candidates": sum(i["candidates"] for i in verified),
                "removed": sum(i["removed"] for i in verified),
                "histogram": np.sum([i["histogram"] for i in verified], axis=0).astype(int).tolist()
                if verified else [],
            }
        if largest:
            report["largest"] = _largest_report(top, sampled, verify > 0)
    return {lang: dict(sorted(d.items())) for lang, d in sorted(stats.items())}


def _index_report(infos: list[dict[str, Any]]) -> dict[str, Any]:
    """What the apply tasks of a run against an index recorded (:func:`.index_apply.record`), summed."""
    dist: dict[str, dict[str, int]] = {}
    rehydrate: dict[str, dict[str, dict[str, int]]] = {}
    by_dump: Counter[str] = Counter()
    for info in infos:
        for lang, d in info["dist"].items():
            entry = dist.setdefault(lang, {})
            for s, c in d.items():
                entry[s] = entry.get(s, 0) + c
        for lang, d in info["rehydrate"].items():
            entry2 = rehydrate.setdefault(lang, {"kept": {}, "removed": {}})
            for what, sizes in d.items():
                for s, c in sizes.items():
                    entry2[what][s] = entry2[what].get(s, 0) + c
        by_dump.update(info["touched_by_dump"])
    return {"runs": {k: [int(i[f"{k}_bytes"]) for i in infos] for k in ("label", "cluster", "update")},
            "touched": sum(int(i["touched"]) for i in infos), "retracted": sum(int(i["retracted"]) for i in infos),
            "labels": sum(int(i["labels"]) for i in infos), "dist": dist, "rehydrate": rehydrate,
            "touched_by_dump": dict(sorted(by_dump.items()))}


def _largest_report(top: list[list[Any]], sampled: list[dict[str, Any]], verified: bool) -> list[dict[str, Any]]:
    """Each of the largest clusters: size, kept document, its first members' urls, and (verified) how many
    members were removed and the spread of their similarities to the kept document."""
    samples: dict[str, dict[str, Any]] = {}
    for info in sampled:
        for r, entry in info["samples"].items():
            into = samples.setdefault(r, {"members": [], "removed": 0, "histogram": [0] * 20})
            into["members"].extend(entry["members"])
            into["removed"] += entry.get("removed", 0)
            into["histogram"] = [a + b for a, b in zip(into["histogram"], entry.get("histogram", [0] * 20),
                                                        strict=True)]
            if "kept" in entry:
                into["kept"] = entry["kept"]
    out = []
    for lang, size, root, kept_id, _ in top:
        entry = samples.get(str(root), {"members": [], "removed": 0, "histogram": [0] * 20})
        row: dict[str, Any] = {"lang": lang, "size": size, "kept_id": kept_id, "kept_url": entry.get("kept"),
                               "members": [u for _, u in sorted(entry["members"])[:SAMPLES]]}
        if verified:
            row["removed"] = entry["removed"]
            row["similarity"] = _spread(entry["histogram"])
        out.append(row)
    return out


def _spread(histogram: list[int]) -> dict[str, float]:
    """min, median and max similarity (to 0.05: the histogram's bins) of a cluster's other members."""
    counts = np.asarray(histogram)
    if counts.sum() == 0:
        return {}
    nonzero = np.flatnonzero(counts)
    median_bin = int(np.searchsorted(np.cumsum(counts), (counts.sum() + 1) / 2))
    return {"min": round(nonzero[0] / 20, 2), "median": round((median_bin + 0.5) / 20, 3),
            "max": round((nonzero[-1] + 1) / 20, 2)}


def summarize(stats: dict[str, dict[int, int]]) -> dict[str, Any]:
    """Per language: documents, clusters, removed duplicates."""
    out = {}
    for lang, dist in stats.items():
        docs = sum(s * c for s, c in dist.items())
        clusters = sum(dist.values())
        out[lang] = {"documents": docs, "clusters": clusters, "removed": docs - clusters}
    return out
