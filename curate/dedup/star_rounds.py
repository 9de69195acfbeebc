"""Distributed connected components: large-star / small-star rounds as tasks, bounded per task under skew.

Input: an edges shuffle (:mod:`curate.shuffle.partitioned_shuffle`) of undirected edges as ``(big, small)`` rows, each
routed to the partition of a hash of both ends (:func:`.star_contraction.edge_partition`), so every
partition holds about E/P edges whatever the degrees. Output: a labels shuffle of ``(node, root)`` rows by
node partition (every node of the graph once as a leaf; each root at most once per edge partition that
held it), ``root`` = the smallest node of the component.

Each operation (large-star, small-star, alternately: :mod:`.star_contraction`) is two phases:

- edges (task per edge partition ``e``): apply the previous operation to its local edges with the ``m``
  values sent back for them, write the new local edges (they stay in ``e``: an operation maps an edge to
  at most one edge), and send one *partial* per local node (min/max smaller neighbour, which ends) to the
  node's home partition;
- nodes (task per node partition): combine the partials of its nodes into ``m = min(node, smaller
  neighbours)``, count the unsettled nodes (on a large-star's input: 0 = converged), and send ``m`` back to
  each partition that needs it (the ones holding the node as the small end for large-star, as the big end
  for small-star).

A task reads its partition's edges (at most what it started with) or one partial/reply per (node,
partition that holds it): a hub of 10 million edges is at most one row per partition, never a task of its
own. Rounds are bounded by Kiveris et al.'s O(log^2 n): :func:`max_rounds` of the number of nodes; past it
the step stops with the graph's size in the message. Resumable operation by operation (``cc/progress.json``
names the last finished one; markers per task). A second run over labels from an earlier one needs
nothing more: a label is the edge ``(node, root)``, written as one more run of the edges shuffle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from curate.dedup.star_contraction import (
    BIG,
    SMALL,
    apply_large,
    apply_small,
    combine,
    node_partition,
    orient,
    partials,
)
from curate.errors import CurateError
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShufflePlan, ShuffleRef
from curate.shuffle.workdir import Workdir

EDGE_SCHEMA = pa.schema([("big", pa.int64()), ("small", pa.int64())])
PARTIAL_SCHEMA = pa.schema([("node", pa.int64()), ("lowmin", pa.int64()), ("lowmax", pa.int64()),
                            ("flags", pa.int64()), ("src", pa.int64())])
REPLY_SCHEMA = pa.schema([("node", pa.int64()), ("m", pa.int64())])
LABEL_SCHEMA = pa.schema([("node", pa.int64()), ("root", pa.int64())])
MapFn = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


class ComponentsError(CurateError):
    """Connected components did not converge (a bug or corrupted dedup workdir)."""


def max_rounds(nodes: int) -> int:
    """Rounds allowed for ``nodes`` nodes: Kiveris et al. (SoCC 2014) prove O(log^2 n) rounds (Theorem 3.6);
    ``max(16, ceil(log2 n)^2)`` is that bound with constant 1 (a path of 300,000 nodes takes 15 rounds,
    tests/test_components.py)."""
    return max(16, math.ceil(math.log2(max(nodes, 2))) ** 2)


def is_large(op: int) -> bool:
    return op % 2 == 0


def part_name(p: int) -> str:
    return f"part-{p:05d}"


def _edges_file(op: int, p: int) -> tuple[str, str, str]:
    return ("cc", f"edges-{op:03d}", part_name(p) + ".arrow")


@dataclass(frozen=True)
class EdgeTask:
    """Edge partition ``partition`` at operation ``op`` (op 0 reads the edges shuffle; later ones the local
    edges of ``op - 1`` and its ``replies``). ``final``: the edges of ``op`` are the star forest: write
    labels instead of partials."""

    workdir: str
    partition: int
    partitions: int
    op: int
    edges: ShuffleRef | None = None
    replies: ShuffleRef | None = None
    final: bool = False

    @property
    def phase(self) -> str:
        return "labels" if self.final else ("large_star" if is_large(self.op) else "small_star")


def edge_task(task: EdgeTask) -> dict[str, Any]:
    wd = Workdir(task.workdir)
    p, parts = task.partition, task.partitions
    if task.final:
        t = wd.read_arrow(*_edges_file(task.op, p))
        big, small = t.column("big").to_numpy(), t.column("small").to_numpy()
        roots = np.unique(small)  # converged: every small end is a root, every big end a leaf of one star
        node = np.concatenate([big, roots])
        table = pa.table([pa.array(node), pa.array(np.concatenate([small, roots]))], schema=LABEL_SCHEMA)
        size = shuffle.write(wd, "labels", p, table, node_partition(node, parts), parts)
        return {"rows_read": t.num_rows, "run_bytes": size, "leaves": int(len(big))}
    if task.op == 0:
        assert task.edges is not None
        t = shuffle.read(wd, task.edges, p, EDGE_SCHEMA)
        rows_read = t.num_rows
        big, small = orient(t.column("big").to_numpy(), t.column("small").to_numpy())
    else:
        assert task.replies is not None
        t = wd.read_arrow(*_edges_file(task.op - 1, p))
        r = shuffle.read(wd, task.replies, p, REPLY_SCHEMA)
        rows_read = t.num_rows + r.num_rows
        node, first = np.unique(r.column("node").to_numpy(), return_index=True)
        m = r.column("m").to_numpy()[first]
        apply = apply_large if is_large(task.op - 1) else apply_small
        big, small = apply(t.column("big").to_numpy(), t.column("small").to_numpy(), node, m)
    del t
    wd.write_arrow(pa.table([pa.array(big), pa.array(small)], schema=EDGE_SCHEMA), *_edges_file(task.op, p))
    node, lowmin, lowmax, flags = partials(big, small)
    table = pa.table([pa.array(node), pa.array(lowmin), pa.array(lowmax), pa.array(flags),
                      pa.array(np.full(len(node), p, dtype=np.int64))], schema=PARTIAL_SCHEMA)
    size = shuffle.write(wd, f"cc/partials-{task.op:03d}", p, table, node_partition(node, parts), parts)
    return {"rows_read": rows_read, "run_bytes": size, "edges": int(len(big))}


@dataclass(frozen=True)
class NodeTask:
    """Node partition ``partition`` at operation ``op``: combine the partials, send ``m`` back."""

    workdir: str
    partition: int
    partitions: int
    op: int
    partials: ShuffleRef

    @property
    def phase(self) -> str:
        return "large_star_min" if is_large(self.op) else "small_star_min"


def node_task(task: NodeTask) -> dict[str, Any]:
    wd = Workdir(task.workdir)
    t = shuffle.read(wd, task.partials, task.partition, PARTIAL_SCHEMA)
    flags = t.column("flags").to_numpy()
    nodes, m, unsettled, group = combine(t.column("node").to_numpy(), t.column("lowmin").to_numpy(),
                                         t.column("lowmax").to_numpy(), flags)
    # large-star rewrites (v, u) with m(u): the partitions holding u as the small end need it; small-star
    # rewrites (u, w) with m(u): those holding u as the big end
    want = (flags & (SMALL if is_large(task.op) else BIG)) != 0
    src = t.column("src").to_numpy()[want]
    table = pa.table([pa.array(nodes[group[want]]), pa.array(m[group[want]])], schema=REPLY_SCHEMA)
    size = shuffle.write(wd, f"cc/replies-{task.op:03d}", task.partition, table, src, task.partitions)
    return {"rows_read": t.num_rows, "run_bytes": size, "unsettled": int(unsettled.sum()),
            "nodes": int(len(nodes))}


def run_phase(run: MapFn, wd: Workdir, fn: Callable[[Any], Any], tasks: list[Any], folder: str) -> list[Any]:
    """Run the tasks whose marker (``folder/part-P.done``) is missing; read the others' markers."""
    done = set(wd.listdir(folder))
    todo = [t for t in tasks if part_name(t.partition) + ".done" not in done]
    out: dict[int, Any] = {}
    if todo:
        for task, info in zip(todo, run(_Marked(fn, folder), todo), strict=True):
            out[task.partition] = info
    return [out[t.partition] if t.partition in out else wd.read_json(folder, part_name(t.partition) + ".done")
            for t in tasks]


class _Marked:
    """A task function that writes its marker after its outputs (picklable)."""

    def __init__(self, fn: Callable[[Any], Any], folder: str) -> None:
        self.fn, self.folder = fn, folder
        self.__name__ = getattr(fn, "__name__", "task")

    def __call__(self, task: Any) -> Any:
        wd = Workdir(task.workdir)
        marker = (self.folder, part_name(task.partition) + ".done")
        if wd.exists(*marker):
            return wd.read_json(*marker)
        info = self.fn(task)
        wd.write_json(info, *marker)
        return info


def connected_components(run: MapFn, wd: Workdir, edges: ShuffleRef, partitions: int, nodes: int,
                         plan: ShufflePlan | None = None) -> tuple[ShuffleRef, dict[str, Any]]:
    """Labels shuffle (``labels``: (node, root) by node partition) of the graph in ``edges``; and a summary:
    rounds (large-star operations), operations, the largest task input. Resumable."""
    if wd.exists("cc", "converged.json"):
        done = wd.read_json("cc", "converged.json")
        return ShuffleRef(**done["labels"]), done["summary"]
    limit = max_rounds(nodes)
    progress = wd.read_json("cc", "progress.json") if wd.exists("cc", "progress.json") else {"op": -1}
    op = int(progress["op"]) + 1
    replies = ShuffleRef(**progress["replies"]) if "replies" in progress else None
    rows_read = int(progress.get("rows_read", 0))
    final = -1
    if progress.get("converged"):
        final = int(progress["op"])
    while final < 0:
        if op // 2 >= limit:
            raise ComponentsError(
                f"connected components did not converge in {limit} rounds, the O(log^2 n) bound for {nodes:,} "
                f"nodes (Kiveris et al. 2014), in {wd.url}: a bug or a damaged work folder; delete it and rerun")
        folder = f"cc/partials-{op:03d}"
        tasks = [EdgeTask(wd.url, p, partitions, op, edges if op == 0 else None, replies) for p in range(partitions)]
        info = run_phase(run, wd, edge_task, tasks, folder)
        rows_read = max([rows_read, *[int(i["rows_read"]) for i in info]])
        parts = shuffle.merge(run, wd, folder, partitions, [int(i["run_bytes"]) for i in info], plan)
        if op > 0:  # the previous operation's edges and replies are consumed
            for old in (f"edges-{op - 1:03d}", f"replies-{op - 1:03d}", f"partials-{op - 1:03d}"):
                wd.remove("cc", old)
        folder = f"cc/replies-{op:03d}"
        tasks = [NodeTask(wd.url, p, partitions, op, parts) for p in range(partitions)]
        info = run_phase(run, wd, node_task, tasks, folder)
        rows_read = max([rows_read, *[int(i["rows_read"]) for i in info]])
        replies = shuffle.merge(run, wd, folder, partitions, [int(i["run_bytes"]) for i in info], plan)
        converged = is_large(op) and sum(int(i["unsettled"]) for i in info) == 0
        wd.write_json({"op": op, "replies": replies.__dict__, "converged": converged, "rows_read": rows_read},
                      "cc", "progress.json")
        if converged:
            final = op
        op += 1
    tasks = [EdgeTask(wd.url, p, partitions, final, final=True) for p in range(partitions)]
    info = run_phase(run, wd, edge_task, tasks, "labels")
    rows_read = max([rows_read, *[int(i["rows_read"]) for i in info]])
    labels = shuffle.merge(run, wd, "labels", partitions, [int(i["run_bytes"]) for i in info], plan)
    summary = {"rounds": final // 2 + 1, "operations": final + 1, "max_rounds": limit,
               "max_task_rows": rows_read, "edges_in_forest": sum(int(i["leaves"]) for i in info)}
    wd.write_json({"labels": labels.__dict__, "summary": summary}, "cc", "converged.json")
    for name in wd.listdir("cc"):
        if name.startswith(("edges-", "partials-", "replies-")):
            wd.remove("cc", name)
    return labels, summary

