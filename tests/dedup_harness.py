"""A stand-in for the pipeline runner's barrier, for dedup tests and benchmarks.

Writes shard tables to Parquet, builds a :class:`GlobalJob` (``map`` = builtin map or a process pool),
calls ``prepare`` once, pickles the step as the runner does, then calls ``process`` per shard.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.blocks.base import BlockContext, BlockOutput, GlobalJob, GlobalStep


def serial_map(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return list(map(fn, items))


def write_shards(tables: list[pa.Table], folder: Path) -> list[tuple[str, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    shards = []
    for i, t in enumerate(tables):
        path = folder / f"input-{i:03d}.parquet"
        pq.write_table(t, path)
        shards.append((f"shard-{i:03d}", str(path)))
    return shards


def split_table(table: pa.Table, n: int) -> list[pa.Table]:
    """``n`` contiguous slices of ``table`` (uneven sizes on purpose: shard boundaries must not matter)."""
    cuts = sorted({0, table.num_rows, *[(table.num_rows * (i * i + i)) // (n * n + n) for i in range(1, n)]})
    return [table.slice(a, b - a) for a, b in zip(cuts, cuts[1:], strict=False)]


def run_step(
    step: GlobalStep,
    shards: list[tuple[str, str]],
    workdir: Path,
    map_fn: Callable[[Callable[[Any], Any], list[Any]], list[Any]] = serial_map,
) -> tuple[dict[str, BlockOutput], dict[str, Any]]:
    """prepare once, then process every shard with an unpickled copy of the step (as on a worker)."""
    job = GlobalJob(shards=shards, workdir=str(workdir), map=map_fn)
    step.prepare(job)
    worker_step = pickle.loads(pickle.dumps(step))
    outputs = {}
    for sid, path in shards:
        outputs[sid] = worker_step.process(pq.read_table(path), BlockContext(shard=sid))
    return outputs, job.stats


def decisions(
    outputs: dict[str, BlockOutput], cluster_col: str | None = "minhash_cluster_id"
) -> dict[str, tuple]:
    """Per document id: (kept, reason, cluster size, cluster id) — comparable across shardings."""
    out: dict[str, tuple] = {}
    for res in outputs.values():
        t = res.table
        ids = t.column("id").to_pylist()
        keep = res.keep.tolist() if res.keep is not None else [True] * t.num_rows
        reasons = res.reasons or [None] * t.num_rows
        size_col = (
            "minhash_cluster_size" if "minhash_cluster_size" in t.column_names else "exact_cluster_size"
        )
        sizes = t.column(size_col).to_pylist()
        cids = (
            t.column(cluster_col).to_pylist()
            if cluster_col and cluster_col in t.column_names
            else [None] * len(ids)
        )
        for i, doc_id in enumerate(ids):
            out[doc_id] = (keep[i], reasons[i], sizes[i], cids[i])
    return out


def task_phase(fn: Callable[[Any], Any], item: Any) -> str:
    """The phase a dedup task belongs to: a components task's ``phase``, a merge or index task's ``kind``
    (``merge:<shuffle>``), else the function's name without ``_task``."""
    for attr in ("phase", "kind"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return value
    return getattr(fn, "__name__", "task").removesuffix("_task")


class RequestsByPhase:
    """``job.map`` that runs every task through :class:`curate.storage.request_counter.CountedCall` (in this
    process, or with ``map_fn``: a process pool's map) and keeps each task's requests, by phase."""

    def __init__(self, map_fn: Callable[..., Any] | None = None) -> None:
        self.map_fn = map_fn
        self.tasks: list[tuple[str, Any, dict[str, Any]]] = []  # (phase, item, requests)

    def __call__(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        from curate.storage.request_counter import CountedCall

        call = CountedCall(fn)
        out = [call(x) for x in items] if self.map_fn is None else list(self.map_fn(call, items))
        self.tasks.extend((task_phase(fn, item), item, counts) for item, (_, counts) in zip(items, out, strict=True))
        return [r for r, _ in out]

    def phases(self) -> dict[str, dict[str, Any]]:
        """Per phase: tasks and the sum of their requests (``request_counter`` kinds)."""
        from curate.storage.request_counter import add

        out: dict[str, dict[str, Any]] = {}
        for phase, _, counts in self.tasks:
            entry = out.setdefault(phase, {"tasks": 0})
            entry["tasks"] += 1
            add(entry, counts)
        return out
