"""Clusters from candidate edges, computed by tasks: connected components, one kept document per cluster.

No process holds the graph. Every phase is a set of tasks run through the step's ``job.map`` (a process
pool locally, Ray tasks on a cluster), each reading one partition of its input and writing one run of a
shuffle (:mod:`.partitioned_shuffle`: runs merged into group files, read by partition through an index), so
a phase writes O(partitions) objects and makes O(partitions) requests:

1. ``cc`` rounds — large-star / small-star over the edges, grouped by node partition, until the graph is
   a forest of stars rooted at each component's smallest document number (:mod:`.star_contraction`);
2. ``labels`` — each node's root, regrouped by node partition (a hash of the node number: one huge shard
   spreads over every partition);
3. ``join`` — per node partition, (id, lang) from the same partition of the ``docs`` shuffle (written in
   the keys phase, :func:`write_docs`); rows are regrouped by the partition of their root, so a task sees
   whole clusters;
4. ``clusters`` — per root partition: cluster size, the kept document under the keep rule, and the
   per-language size statistics; rows regrouped by *range* of document numbers (:mod:`.row_ranges`:
   ceil(N/P) documents per range, whatever the shard sizes);
5. ``results`` — per range, one piece ``results/<shard id>.<k>.parquet`` per shard the range meets
   (rows in clusters of size > 1, in row order): at most shards + partitions - 1 pieces; a shard's
   ``process`` reads its pieces one after the other (:func:`read_piece`).

Every task's input is one partition of the nodes (about N/partitions of them, each task reports its
``rows_read``), never a whole shard, so one 40 GB input shard does not make one big task.

Every document and edge is touched a constant number of times per round: O(N + E) per round in total, with
no loop over languages (edges only join documents of one language, since keys are seeded by language: a
cross-language edge would need a 128-bit hash collision). The kept document is deterministic:

- ``first_id`` (default): the smallest document ``id`` (ties: the earlier shard/row). Independent of how
  the input is split into shards, so 1 shard and 7 shards keep the same documents.
- ``first_index``: the earliest document in shard order, then row order (FineWeb2/datatrove keep the first
  document of a cluster in processing order).

The cluster id is the kept document's ``id`` (a string): stable, readable, the same however the input was
sharded.
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
from curate.dedup.partitioned_shuffle import ShuffleRef
from curate.dedup.row_ranges import RowRanges
from curate.dedup.star_contraction import large_star, node_partition, small_star
from curate.dedup.workdir import Workdir
from curate.errors import CurateError

KeepRule = Literal["first_id", "first_index"]
KEEP_RULES: tuple[str, ...] = get_args(KeepRule)
ROW_BITS = 40
ROW_MASK = (1 << ROW_BITS) - 1
MAX_ROUNDS = 200  # Kiveris et al. prove O(log^2 n); 200 rounds means something is wrong
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
EDGE_SCHEMA = pa.schema([("node", pa.int64()), ("nbr", pa.int64())])
LABEL_SCHEMA = pa.schema([("node", pa.int64()), ("root", pa.int64())])
JOINED_SCHEMA = pa.schema([("root", pa.int64()), ("node", pa.int64()), (C.ID, pa.string()), (C.LANG, pa.string())])
CLUSTERED_SCHEMA = pa.schema(
    [("node", pa.int64()), (C.ID, pa.string()), ("keep", pa.bool_()), ("cluster_size", pa.int64()),
     ("cluster_id", pa.string())]
)
DOCS_SCHEMA = pa.schema([("node", pa.int64()), (C.ID, pa.string()), (C.LANG, pa.string())])
PIECES_KEY = b"curate.pieces"
RANGES = ("cc", "ranges.json")  # the result ranges' first document numbers, for the clusters tasks
MapFn = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


class ComponentsError(CurateError):
    """Connected components did not converge (a bug or corrupted dedup workdir)."""


def shard_name(index: int) -> str:
    return f"shard-{index:06d}"


def part_name(p: int) -> str:
    return f"part-{p:05d}"


def write_docs(wd: Workdir, index: int, ids: pa.Array, langs: pa.Array, partitions: int) -> int:
    """Shard ``index``'s run of the ``docs`` shuffle: (node, id, lang) of every row, to its node partition,
    so the join task of a partition reads only its own documents. Returns the run's bytes."""
    node = (index << ROW_BITS) | np.arange(len(ids), dtype=np.int64)
    table = pa.table([pa.array(node), ids, langs], schema=DOCS_SCHEMA)
    return shuffle.write(wd, "docs", index, table, node_partition(node, partitions), partitions)


def edge_rows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of undirected edges, as (node, nbr) rows."""
    return np.concatenate([a, b]), np.concatenate([b, a])


def write_edge_rows(wd: Workdir, folder: str, writer: int, node: np.ndarray, nbr: np.ndarray,
                    partitions: int) -> int:
    """Writer ``writer``'s run of edge rows to shuffle ``folder``, by node partition; returns its bytes."""
    table = pa.table([pa.array(node, pa.int64()), pa.array(nbr, pa.int64())], schema=EDGE_SCHEMA)
    return shuffle.write(wd, folder, writer, table, node_partition(node, partitions), partitions)


@dataclass(frozen=True)
class PartitionTask:
    """One task of a components phase: read partition ``partition`` of the shuffle ``source`` and write its
    run of the shuffle ``target`` (the join also reads its partition of ``docs``)."""

    phase: str
    partition: int
    partitions: int
    workdir: str
    source: ShuffleRef
    target: str
    shards: int = 0
    keep: str = "first_id"
    docs: ShuffleRef | None = None


def _read(wd: Workdir, task: PartitionTask, schema: pa.Schema) -> pa.Table:
    return shuffle.read(wd, task.source, task.partition, schema)


def _write(wd: Workdir, task: PartitionTask, table: pa.Table, dest: np.ndarray) -> int:
    return shuffle.write(wd, task.target, task.partition, table, dest, task.partitions)


def _large_star(wd: Workdir, task: PartitionTask) -> dict[str, Any]:
    t = _read(wd, task, EDGE_SCHEMA)
    v, m, unsettled = large_star(t.column("node").to_numpy(), t.column("nbr").to_numpy())
    # directed (v > m): only v's partition needs them (small-star looks at smaller neighbours)
    size = write_edge_rows(wd, task.target, task.partition, v, m, task.partitions)
    return {"unsettled": unsettled, "edges": int(len(v)), "rows_read": t.num_rows, "run_bytes": size}


def _small_star(wd: Workdir, task: PartitionTask) -> dict[str, Any]:
    t = _read(wd, task, EDGE_SCHEMA)
    a, b = small_star(t.column("node").to_numpy(), t.column("nbr").to_numpy())
    size = write_edge_rows(wd, task.target, task.partition, *edge_rows(a, b), task.partitions)
    return {"edges": int(len(a)), "rows_read": t.num_rows, "run_bytes": size}


def _labels(wd: Workdir, task: PartitionTask) -> dict[str, Any]:
    """Converged star edges (leaf, root) -> (node, root) for leaves and roots, by node partition."""
    t = _read(wd, task, EDGE_SCHEMA)
    leaf, root = t.column("node").to_numpy(), t.column("nbr").to_numpy()
    roots = np.unique(root)
    node = np.concatenate([leaf, roots])
    table = pa.table([pa.array(node), pa.array(np.concatenate([root, roots]))], schema=LABEL_SCHEMA)
    size = _write(wd, task, table, node_partition(node, task.partitions))
    return {"nodes": int(len(leaf)), "rows_read": t.num_rows, "run_bytes": size}


def _join(wd: Workdir, task: PartitionTask) -> dict[str, Any]:
    """Attach (id, lang) to this partition's nodes from the same partition of the ``docs`` shuffle (the
    documents whose node hashes here: about N/partitions, never a whole shard)."""
    t = _read(wd, task, LABEL_SCHEMA)
    rows_read = t.num_rows
    node = t.column("node").to_numpy()
    root = t.column("root").to_numpy()
    node, first = np.unique(node, return_index=True)  # a root arrives once per partition that saw it
    root = root[first]
    assert task.docs is not None
    docs = shuffle.read(wd, task.docs, task.partition, DOCS_SCHEMA)
    rows_read += docs.num_rows
    have = docs.column("node").to_numpy()  # runs in shard order, rows in order: sorted
    pos = np.minimum(np.searchsorted(have, node), max(len(have) - 1, 0))
    if len(node) and (len(have) == 0 or not np.array_equal(have[pos], node)):
        raise ComponentsError(f"{wd.path('docs')} lacks documents of the graph (written for another partition "
                              f"count?); delete {wd.url} and rerun")
    take = pa.array(pos)
    id_arr = docs.column(C.ID).take(take).combine_chunks() if len(node) else pa.array([], pa.string())
    lang_arr = docs.column(C.LANG).take(take).combine_chunks() if len(node) else pa.array([], pa.string())
    table = pa.table([pa.array(root), pa.array(node), id_arr, lang_arr], schema=JOINED_SCHEMA)
    size = _write(wd, task, table, node_partition(root, task.partitions))
    return {"nodes": int(len(node)), "rows_read": rows_read, "run_bytes": size}


def _clusters(wd: Workdir, task: PartitionTask) -> dict[str, Any]:
    """Whole clusters (every member of a root in this partition): size, kept document, statistics."""
    t = _read(wd, task, JOINED_SCHEMA)
    rows_read = t.num_rows
    root = t.column("root").to_numpy()
    node = t.column("node").to_numpy()
    ids = t.column(C.ID)
    # members of a cluster together, ordered by the keep rule: the first member is the kept document
    if task.keep == "first_id":
        order = pc.sort_indices(
            pa.table({"r": root, "id": ids, "n": node}),
            sort_keys=[("r", "ascending"), ("id", "ascending"), ("n", "ascending")],
        ).to_numpy()
    else:
        order = np.lexsort((node, root))
    t = t.take(pa.array(order))
    root, node = root[order], node[order]
    ids = t.column(C.ID).combine_chunks()
    new = np.r_[True, root[1:] != root[:-1]] if len(root) else np.empty(0, bool)
    group = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    sizes = np.diff(np.r_[starts, len(root)])
    keep = np.zeros(len(root), dtype=bool)
    keep[starts] = True
    cluster_id = ids.take(pa.array(starts[group])) if len(root) else pa.array([], pa.string())
    size = sizes[group] if len(root) else np.empty(0, np.int64)
    langs = t.column(C.LANG).combine_chunks()
    # counted under the kept document's language (all members share it when the scope is per language)
    kept_langs = langs.take(pa.array(starts)).to_pylist() if len(root) else []
    dist: dict[str, Counter[int]] = {}
    for lang, n in zip(kept_langs, sizes.tolist(), strict=True):
        dist.setdefault(lang, Counter())[n] += 1
    in_graph = Counter(langs.to_pylist())
    table = pa.table(
        [pa.array(node), ids, pa.array(keep), pa.array(size, pa.int64()), cluster_id], schema=CLUSTERED_SCHEMA
    )
    # regrouped by contiguous range of document numbers: a results task sees <= ceil(N/P) documents
    boundaries = np.asarray(wd.read_json(*RANGES), dtype=np.int64)
    size = _write(wd, task, table, np.searchsorted(boundaries, node, side="right"))
    return {
        "run_bytes": size,
        "clusters": {lang: {str(s): c for s, c in sorted(d.items())} for lang, d in sorted(dist.items())},
        "in_graph": dict(sorted(in_graph.items())),
        "rows_read": rows_read,
    }


PHASES: dict[str, Callable[[Workdir, PartitionTask], dict[str, Any]]] = {
    "large_star": _large_star,
    "small_star": _small_star,
    "labels": _labels,
    "join": _join,
    "clusters": _clusters,
}


def partition_task(task: PartitionTask) -> dict[str, Any]:
    """What executors run for every components phase; idempotent (a marker per task output)."""
    wd = Workdir(task.workdir)
    marker = (task.target, part_name(task.partition) + ".done")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    info = PHASES[task.phase](wd, task)
    wd.write_json(info, *marker)
    return info


@dataclass(frozen=True)
class ResultsTask:
    """Per range of document numbers: one result piece per shard whose rows meet the range."""

    part: int
    partitions: int
    workdir: str
    source: ShuffleRef
    pieces: tuple[tuple[int, str, int, int], ...]  # (index, shard id, piece number, pieces of the shard)


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
    marker = ("results", part_name(task.part) + ".done")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    t = shuffle.read(wd, task.source, task.part, CLUSTERED_SCHEMA)
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
    info = {"removed": removed, "rows_read": t.num_rows}
    wd.write_json(info, *marker)
    return info


def _run_phase(run: MapFn, wd: Workdir, fn: Callable[[Any], Any], tasks: list[Any], folder: str,
               names: list[str]) -> list[dict[str, Any]]:
    """Run the tasks whose marker is missing (markers from one listing); read the others' markers."""
    done = set(wd.listdir(folder))
    todo = [i for i, n in enumerate(names) if n + ".done" not in done]
    results: list[Any] = [None] * len(tasks)
    if todo:
        for i, res in zip(todo, run(fn, [tasks[i] for i in todo]), strict=True):
            results[i] = res
    for i, name in enumerate(names):
        if results[i] is None:
            results[i] = wd.read_json(folder, name + ".done")
    return results


Phase = Callable[[str, ShuffleRef, str], tuple[list[dict[str, Any]], ShuffleRef]]


def _star_rounds(phase: Phase, wd: Workdir, edges: ShuffleRef) -> ShuffleRef:
    """Alternate large-star and small-star until a large-star input is settled; returns that round's
    output (the star forest). Only one round's files are kept at a time."""
    source = edges
    for r in range(MAX_ROUNDS):
        info, large = phase("large_star", source, f"cc/large-{r:03d}")
        if source != edges:
            wd.remove(source.folder)  # the previous round's edges: never needed again
        if sum(i["unsettled"] for i in info) == 0:
            return large
        _, source = phase("small_star", large, f"cc/small-{r:03d}")
        wd.remove(large.folder)
    raise ComponentsError(f"connected components did not converge in {MAX_ROUNDS} rounds in {wd.url}; "
                          "delete that folder and rerun")


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
    plan: shuffle.ShufflePlan | None = None,
) -> dict[str, dict[int, int]]:
    """From the ``edges`` shuffle (rows both directions, by node partition) and the ``docs`` shuffle
    (:func:`write_docs`; ``shard_rows`` rows per shard) write the result pieces of every shard
    (:func:`read_results`) and return per-language cluster-size distributions ``{lang: {size: number of
    clusters}}`` (size 1 = unique documents). Resumable phase by phase; the caller removes ``edges``, ``cc``
    and ``clustered`` once it has recorded the result."""
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {KEEP_RULES}, not {keep!r}")
    p_names = [part_name(p) for p in range(partitions)]
    edges = edges or ShuffleRef("edges", partitions, 1)
    docs = docs or ShuffleRef("docs", partitions, 1)

    def phase(kind: str, source: ShuffleRef, target: str) -> tuple[list[dict[str, Any]], ShuffleRef]:
        tasks = [PartitionTask(kind, p, partitions, wd.url, source, target, len(shard_ids), keep,
                               docs if kind == "join" else None) for p in range(partitions)]
        info = _run_phase(run, wd, partition_task, tasks, target, p_names)
        return info, shuffle.merge(run, wd, target, partitions, [int(i["run_bytes"]) for i in info], plan)

    if wd.exists("cc", "converged.json"):  # resume: the rounds are done, their last output kept
        large = ShuffleRef(**wd.read_json("cc", "converged.json"))
    else:
        large = _star_rounds(phase, wd, edges)
        wd.write_json(large.__dict__, "cc", "converged.json")
    ranges = RowRanges(shard_rows, partitions, ROW_BITS)
    wd.write_json(ranges.boundaries(), *RANGES)
    _, labels = phase("labels", large, "labels")
    _, joined = phase("join", labels, "joined")
    wd.remove("labels")
    clusters, clustered = phase("clusters", joined, "clustered")
    wd.remove("joined")
    tasks = [ResultsTask(q, partitions, wd.url, clustered,
                         tuple((s, shard_ids[s], k, n) for s, k, n in pieces))
             for q, pieces in enumerate(ranges.pieces())]
    _run_phase(run, wd, results_task, tasks, "results", p_names)

    stats: dict[str, dict[int, int]] = {}
    in_graph: Counter[str] = Counter()
    for info in clusters:
        in_graph.update(info["in_graph"])
        for lang, dist in info["clusters"].items():
            entry = stats.setdefault(lang, {})
            for s, c in dist.items():
                entry[int(s)] = entry.get(int(s), 0) + c
    for lang, total in lang_totals.items():
        singles = total - in_graph.get(lang, 0)
        if singles:
            entry = stats.setdefault(lang, {})
            entry[1] = entry.get(1, 0) + singles
    return {lang: dict(sorted(d.items())) for lang, d in sorted(stats.items())}


def summarize(stats: dict[str, dict[int, int]]) -> dict[str, Any]:
    """Per language: documents, clusters, removed duplicates."""
    out = {}
    for lang, dist in stats.items():
        docs = sum(s * c for s, c in dist.items())
        clusters = sum(dist.values())
        out[lang] = {"documents": docs, "clusters": clusters, "removed": docs - clusters}
    return out
