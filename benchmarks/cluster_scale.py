"""Dedup at cluster scale: the driver stays flat, every task is bounded by its partition.

Three measurements, each size in a fresh child process (so peaks do not carry over):

1. ``exact_dedup`` and ``minhash`` steps end to end (prepare = keys, edges, components rounds, results;
   then ``process`` of every shard) over a 2-process pool as the local executor runs it. Synthetic short
   documents (8-24 words drawn from a 5,000-word vocabulary), 10% exact copies and 5% near-copies (one word
   changed) of earlier documents anywhere in the corpus, 250k documents per shard; partitions = one per
   250k documents. Reported: driver peak RSS (the process running ``prepare``), the largest peak RSS of any
   single task and per phase (VmHWM of the worker, reset before each task via /proc/self/clear_refs), CPU
   seconds of all tasks, wall time, and the most files the work folder held after any phase.
2. Connected components alone (``curate.dedup.components.build_clusters``) on synthetic dedup-like graphs
   (clusters of 2-40 documents joined by random trees; a tree is a worst case for rounds) vs partitions;
   and the same for ONE big shard (``--one-shard 2000000 --one-shard-partitions 1 16``, its own section
   ``cluster_scale_one_shard``): the largest task's peak RSS falls with partitions, not bound to the shard.
3. A written estimate for one Common Crawl dump, from the per-key and per-edge costs measured here.

The machine is shared (2 cores, other engineers' jobs): CPU seconds and peak RSS are the figures to read;
wall times carry the load average printed with them.

Run: ``.venv/bin/python benchmarks/cluster_scale.py`` (what fits in ~15 min on this machine), or pick:
``--exact 1000000 4000000 10000000 --minhash 1000000 4000000 --edges 1000000 10000000 100000000``.
Each measurement's result is also kept under ``_work/cluster_scale/results/``; ``--reuse`` takes those
instead of measuring again (to add sizes to a table without redoing the others). Writes the
``cluster_scale`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _dedup_common import short_docs_shard
from _results import WORK, md_table, write_section

import curate
from curate.blocks.base import BlockContext, GlobalJob
from curate.dedup import ExactDedup, MinHashDedup
from curate.dedup.components import ROW_BITS, build_clusters, write_docs, write_edges
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.workdir import Workdir

ROOT = WORK / "cluster_scale"
SHARD_DOCS = 250_000


# -- measuring -----------------------------------------------------------------------------------------------
def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:  # "5": reset the peak RSS (VmHWM) of this process
        f.write("5")


def _status_mib(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    return _status_mib("VmHWM")


def _measured(call: tuple[Any, Any]) -> tuple[Any, float, float, float]:
    """In a worker: run one task, return (result, its peak RSS MiB, its CPU seconds, its growth MiB: peak
    minus the worker's resting RSS, which holds the imports and memory the allocator kept from earlier
    tasks)."""
    fn, item = call
    gc.collect()
    pa.default_memory_pool().release_unused()
    _reset_peak()
    rest = _status_mib("VmRSS")
    cpu = time.process_time()
    result = fn(item)
    peak = _peak_mib()
    return result, peak, time.process_time() - cpu, peak - rest


def _count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder)) if folder.exists() else 0


class MeasuredMap:
    """``job.map`` over a 2-process pool recording, per phase, task count, peak RSS and CPU seconds, and the
    files in the work folder after each phase."""

    def __init__(self, pool: ProcessPoolExecutor, workdir: Path) -> None:
        self.pool = pool
        self.workdir = workdir
        self.phases: dict[str, dict[str, float]] = {}
        self.max_files = 0

    def __call__(self, fn: Any, items: list[Any]) -> list[Any]:
        out = list(self.pool.map(_measured, [(fn, item) for item in items]))
        name = getattr(items[0], "phase", None) if items else None
        name = name or fn.__name__.replace("_task", "")
        entry = self.phases.setdefault(name, {"tasks": 0, "peak_mib": 0.0, "cpu_s": 0.0, "growth_mib": 0.0})
        entry["tasks"] += len(out)
        entry["peak_mib"] = max(entry["peak_mib"], max((r[1] for r in out), default=0.0))
        entry["growth_mib"] = max(entry["growth_mib"], max((r[3] for r in out), default=0.0))
        entry["cpu_s"] += sum(r[2] for r in out)
        self.max_files = max(self.max_files, _count_files(self.workdir))
        return [r[0] for r in out]


# -- data ----------------------------------------------------------------------------------------------------
def make_corpus(n_docs: int, folder: Path) -> list[tuple[str, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    shards = []
    for s in range((n_docs + SHARD_DOCS - 1) // SHARD_DOCS):
        path = folder / f"input-{s:05d}.parquet"
        if not path.exists():
            pq.write_table(short_docs_shard(n_docs, s, 1), path)
        shards.append((f"s{s:05d}", str(path)))
    return shards


# -- 1. whole steps ------------------------------------------------------------------------------------------
def _process_shard(args: tuple[bytes, str, str]) -> dict[str, int]:
    step_bytes, sid, path = args
    step = pickle.loads(step_bytes)
    ctx = BlockContext(shard=sid)
    kept = rows = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
        out = step.process(pa.Table.from_batches([batch]), ctx)
        rows += batch.num_rows
        kept += int(out.keep.sum())
    return {"rows": rows, "kept": kept}


def run_step(kind: str, n_docs: int) -> dict[str, Any]:
    """In a child process: one dedup step over n_docs, measured."""
    shards = make_corpus(n_docs, ROOT / f"input-{n_docs}")
    work = ROOT / f"work-{kind}-{n_docs}"
    shutil.rmtree(work, ignore_errors=True)
    partitions = max(1, n_docs // SHARD_DOCS)
    step = ExactDedup(partitions=partitions) if kind == "exact_dedup" else MinHashDedup(partitions=partitions)
    load0 = os.getloadavg()[0]
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        list(pool.map(_peak_mib, [None] * 0))  # start nothing yet; workers spawn on first use
        measured = MeasuredMap(pool, work)
        _reset_peak()
        t0 = time.perf_counter()
        job = GlobalJob(shards=shards, workdir=str(work), map=measured)
        step.prepare(job)
        prepare_s = time.perf_counter() - t0
        driver_mib = _peak_mib()
        blob = pickle.dumps(step)
        res = list(pool.map(_measured, [(_process_shard, (blob, sid, p)) for sid, p in shards]))
        wall = time.perf_counter() - t0
    kept = sum(r[0]["kept"] for r in res)
    summary = job.stats[f"{step.name}_summary"]
    shutil.rmtree(work, ignore_errors=True)
    return {
        "kind": kind, "docs": n_docs, "shards": len(shards), "partitions": partitions,
        "edges": summary["edges"], "kept": kept, "prepare_s": prepare_s, "wall_s": wall,
        "driver_mib": driver_mib, "process_peak_mib": max(r[1] for r in res),
        "phases": measured.phases, "max_files": measured.max_files,
        "task_cpu_s": sum(p["cpu_s"] for p in measured.phases.values()) + sum(r[2] for r in res),
        "load": (load0 + os.getloadavg()[0]) / 2,
    }


# -- 2. components alone -------------------------------------------------------------------------------------
def make_graph(n_edges: int, shards: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dedup-like graph: clusters of 2-40 documents, each joined by a random tree (n - 1 edges)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 41, n_edges // 20 + 1)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes - 1), n_edges) + 1]
    n_nodes = int(sizes.sum())
    per_shard = (n_nodes + shards - 1) // shards
    perm = rng.permutation(n_nodes)
    doc = (perm // per_shard).astype(np.int64) << ROW_BITS | (perm % per_shard)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    member = np.arange(n_nodes) - np.repeat(starts, sizes)
    child = np.flatnonzero(member > 0)
    parent = np.repeat(starts, sizes)[child] + (rng.random(len(child)) * member[child]).astype(np.int64)
    return doc[child], doc[parent], doc


def run_components(n_edges: int, partitions: int, shards: int | None = None) -> dict[str, Any]:
    """``build_clusters`` alone; ``shards``: the documents' shards (default: one per million edges)."""
    shards = max(1, n_edges // 1_000_000) if shards is None else shards
    work = ROOT / f"cc-{n_edges}-{partitions}-{shards}"
    shutil.rmtree(work, ignore_errors=True)
    a, b, docs = make_graph(n_edges, shards)
    wd = Workdir(str(work))
    per_shard = (len(docs) + shards - 1) // shards
    docs_runs: list[int] = []
    edge_runs: list[int] = []
    for s in range(shards):
        n = min(per_shard, len(docs) - s * per_shard)
        ids = pa.array([f"d{s:05d}-{r:08d}" for r in range(n)], pa.string())
        docs_runs.append(write_docs(wd, s, ids, pa.array(["en"] * n, pa.string()), partitions))
    for p in range(partitions):
        lo, hi = p * len(a) // partitions, (p + 1) * len(a) // partitions
        edge_runs.append(write_edges(wd, p, a[lo:hi], b[lo:hi], partitions))
    nodes = len(docs)
    del a, b, docs
    load0 = os.getloadavg()[0]
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        measured = MeasuredMap(pool, work)
        _reset_peak()
        t0 = time.perf_counter()
        report: dict[str, Any] = {}
        edges = shuffle.merge(measured, wd, "edges", partitions, edge_runs)
        docs_ref = shuffle.merge(measured, wd, "docs", partitions, docs_runs)
        stats = build_clusters(measured, wd, [f"s{i}" for i in range(shards)],
                               [min(per_shard, nodes - s * per_shard) for s in range(shards)], partitions, {"en": nodes},
                               edges=edges, docs=docs_ref, report=report)
        wall = time.perf_counter() - t0
    rounds = report["rounds"]
    shutil.rmtree(work, ignore_errors=True)
    return {"edges": n_edges, "nodes": nodes, "partitions": partitions, "rounds": rounds, "wall_s": wall,
            "driver_mib": _peak_mib(), "task_peak_mib": max(p["peak_mib"] for p in measured.phases.values()),
            "task_cpu_s": sum(p["cpu_s"] for p in measured.phases.values()), "max_files": measured.max_files,
            "task_growth_mib": max(p["growth_mib"] for p in measured.phases.values()),
            "clusters": sum(c for s, c in stats["en"].items() if s > 1), "load": (load0 + os.getloadavg()[0]) / 2,
            "shards": shards, "phases": measured.phases}


def _mib(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _one_shard_section(rows: list[dict[str, Any]]) -> str:
    phases = ("large_star", "small_star", "labels", "join", "combine", "apply", "results")
    table = []
    for r in rows:
        ph = r["phases"]
        table.append([f"{r['nodes']:,}", r["shards"], r["partitions"], r["rounds"], f"{r['clusters']:,}",
                      f"{r['driver_mib']:.0f}", f"{r['task_peak_mib']:.0f}", _mib(r.get("task_growth_mib")),
                      *[_mib(ph[p]["growth_mib"]) if p in ph else "–" for p in phases],
                      f"{r['task_cpu_s']:.1f}", f"{r['wall_s']:.0f}", r["max_files"], f"{r['load']:.1f}"])
    return "\n\n".join([
        "## Connected components of ONE big shard: tasks bounded by partitions, not by the shard",
        f"curate {curate.__version__}, pyarrow {pa.__version__}, numpy {np.__version__}; local 2-process pool "
        "(the `job.map` tasks Ray runs). `build_clusters` alone over one shard whose every document is in a "
        "cluster (clusters of 2-40 documents joined by random trees), with the docs file written as the keys "
        "phase writes it. Task peak = the largest VmHWM of one task (reset per task; includes the worker's "
        "imports); growth = that peak minus the worker's RSS when the task started, i.e. the "
        "task's own working set, per phase the largest over its tasks. Shared 2-core machine: read peak RSS "
        "and CPU seconds; wall time moves with the load average shown (1-min, whole machine).",
        md_table(["documents", "shards", "partitions", "rounds", "clusters", "driver MiB", "task peak MiB",
                  "task growth MiB", *[f"{p} growth MiB" for p in phases], "task CPU s", "wall s",
                  "files at peak", "load"], table),
        "Before this layout the labels, join and results phases grouped nodes by shard bucket (shard % "
        "partitions): with one shard, one task of each held every node whatever the partition count. Now every "
        "phase's tasks read one partition of the nodes (the per-task `rows_read` is checked in "
        "tests/test_components.py), and the shard's results are pieces of a contiguous row range each.",
        "Command: `python benchmarks/cluster_scale.py --exact --minhash --edges --one-shard 2000000 "
        "--one-shard-partitions 1 16` (this case only).",
    ])


# -- driver --------------------------------------------------------------------------------------------------
def _cache(args: list[str]) -> Path:
    return ROOT / "results" / ("-".join(args) + ".json")


def _child(args: list[str], reuse: bool = False) -> dict[str, Any]:
    """One measurement in a fresh process (``--reuse``: the result of an earlier run of the same one)."""
    if reuse and _cache(args).exists():
        return json.loads(_cache(args).read_text())
    if args[0] == "step":  # the corpus is made in a process of its own: the measured one only reads it
        subprocess.run([sys.executable, __file__, "--child", "gen", args[2]], check=True)
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _estimate(steps: list[dict[str, Any]], cc: list[dict[str, Any]]) -> str:
    """One Common Crawl dump from the measured per-key and per-edge CPU costs (see the section text)."""
    mh = max((r for r in steps if r["kind"] == "minhash"), key=lambda r: r["docs"], default=None)
    big = max(cc, key=lambda r: r["edges"], default=None)
    if mh is None or big is None:
        return "(run with --minhash and --edges to get the estimate)"
    docs = 3.0e9  # documents of one dump after extraction and filtering, before dedup (order of magnitude)
    keys = docs * 14
    edges = docs * max(mh["edges"] / mh["docs"], 0.1)
    cpu_doc = mh["task_cpu_s"] / mh["docs"]  # includes shingling + signatures: the dominant term
    shuffle_cpu = sum(mh["phases"][p]["cpu_s"] for p in ("partition_edges",) if p in mh["phases"])
    cpu_key_edges = shuffle_cpu / (mh["docs"] * 14)
    cpu_edge = big["task_cpu_s"] / big["edges"]
    total_cpu_h = (docs * cpu_doc + edges * cpu_edge) / 3600
    partitions = int(keys / 4e6)
    lines = [
        f"- Measured: {cpu_doc * 1e3:.3f} CPU ms per document for the whole minhash step at {mh['docs']:,} short "
        f"documents (keys phase dominates: shingles + 112-permutation signatures), {cpu_key_edges * 1e6:.2f} CPU µs per "
        f"key in the edges phase, {cpu_edge * 1e6:.2f} CPU µs per edge for all components phases at "
        f"{big['edges']:,} edges ({big['rounds']} large-star rounds).",
        f"- One dump, assumed {docs:.0e} documents, 14 keys each ({keys:.1e} keys), {edges:.1e} candidate edges "
        f"(this corpus's edges per document): ~{total_cpu_h:,.0f} CPU hours of dedup; on N nodes of 32 cores "
        f"that is ~{total_cpu_h / 32:,.0f}/N hours (N=10: ~{total_cpu_h / 320:,.1f} h). Real FineWeb2 documents are "
        "~10x longer than these (signature cost grows with shingles), so multiply the document term by ~5-10.",
        f"- Memory per task: bounded by one partition (~4M keys at the default target: the edges task peaked at "
        f"{mh['phases'].get('partition_edges', {}).get('peak_mib', 0):.0f} MiB for "
        f"{mh['docs'] * 14 // mh['partitions']:,} keys here); the driver holds no keys, edges or doc tables.",
        f"- Object-store requests: measured per phase and modelled for one dump ({partitions:,} key partitions) in "
        "the `dedup_requests` section (shuffles read through merged group files and a partition-major index: "
        "requests grow with the bytes moved, not shards x partitions).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exact", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--minhash", type=int, nargs="*", default=[250_000])
    parser.add_argument("--edges", type=int, nargs="*", default=[1_000_000, 4_000_000])
    parser.add_argument("--partitions", type=int, nargs="*", default=[2, 8])
    parser.add_argument("--one-shard", type=int, nargs="*", default=[2_000_000],
                        help="documents of the ONE-shard components case (every document in a cluster)")
    parser.add_argument("--one-shard-partitions", type=int, nargs="*", default=[1, 16])
    parser.add_argument("--reuse", action="store_true", help="take results of earlier runs of the same sizes")
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child is not None:
        what = args.child
        if what[0] == "gen":
            make_corpus(int(what[1]), ROOT / f"input-{what[1]}")
            return
        if what[0] == "step":
            result = run_step(what[1], int(what[2]))
        elif what[0] == "one":  # clusters of 2-40 (21 on average, 20 edges each): docs * 20/21 edges
            result = run_components(int(what[1]) * 20 // 21, int(what[2]), shards=1)
        else:
            result = run_components(int(what[1]), int(what[2]))
        _cache(what).parent.mkdir(parents=True, exist_ok=True)
        _cache(what).write_text(json.dumps(result))
        print(json.dumps(result))
        return
    import ray

    import curate

    steps = []
    for kind, sizes in (("exact_dedup", args.exact), ("minhash", args.minhash)):
        for n in sizes:
            r = _child(["step", kind, str(n)], args.reuse)
            steps.append(r)
            print(kind, n, json.dumps({k: v for k, v in r.items() if k != "phases"}), flush=True)
    cc = []
    for n in args.edges:
        for p in args.partitions:
            r = _child(["cc", str(n), str(p)], args.reuse)
            cc.append(r)
            print("components", n, p, json.dumps(r), flush=True)
    one = []
    for n in args.one_shard:
        for p in args.one_shard_partitions:
            r = _child(["one", str(n), str(p)], args.reuse)
            one.append(r)
            print("one shard", n, p, json.dumps({k: v for k, v in r.items() if k != "phases"}), flush=True)
    if one:
        write_section("cluster_scale_one_shard", _one_shard_section(one))
    if not steps and not cc:
        return

    step_rows = [[r["kind"], f"{r['docs']:,}", r["shards"], r["partitions"], f"{r['edges']:,}", f"{r['kept']:,}",
                  f"{r['driver_mib']:.0f}", f"{max(p['peak_mib'] for p in r['phases'].values()):.0f}",
                  f"{r['process_peak_mib']:.0f}", f"{r['task_cpu_s']:.0f}", f"{r['wall_s']:.0f}", r["max_files"],
                  f"{r['load']:.1f}"] for r in steps]
    phase_rows = [[r["kind"], f"{r['docs']:,}", name, int(p["tasks"]), f"{p['peak_mib']:.0f}",
                   _mib(p.get("growth_mib")), f"{p['cpu_s']:.1f}"] for r in steps for name, p in r["phases"].items()]
    cc_rows = [[f"{r['edges']:,}", f"{r['nodes']:,}", r["partitions"], r["rounds"], f"{r['clusters']:,}",
                f"{r['driver_mib']:.0f}", f"{r['task_peak_mib']:.0f}", _mib(r.get("task_growth_mib")),
                f"{r['task_cpu_s']:.1f}", f"{r['wall_s']:.0f}",
                r["max_files"], f"{r['load']:.1f}"] for r in cc]
    md = "\n\n".join([
        "## Dedup at cluster scale: driver flat, tasks bounded by a partition",
        f"curate {curate.__version__}, pyarrow {pa.__version__}, numpy {np.__version__}, ray {ray.__version__} "
        "(installed; these runs use the local 2-process pool, the same `job.map` tasks Ray runs). Shared 2-core "
        "machine: read CPU seconds and peak RSS; wall times move with the load average shown (1-min, whole machine).",
        "Whole steps (synthetic short documents, 15% copies/near-copies anywhere in the corpus, 250k per shard, "
        "one partition per 250k documents). Driver = the process running `prepare` (peak RSS); task = the largest "
        "peak RSS of one task (VmHWM reset per task; it includes the ~200 MiB of a worker's imports and what the "
        "allocator kept from earlier tasks), growth = that peak minus the worker's RSS when the task started (the "
        "task's own working set); files = most files in the work folder after any phase.",
        md_table(["step", "documents", "shards", "partitions", "edges", "kept", "driver MiB", "prepare task MiB",
                  "process task MiB", "task CPU s", "wall s", "files at peak", "load"], step_rows),
        "Per phase (all tasks of the phase; `large_star`/`small_star` summed over rounds):",
        md_table(["step", "documents", "phase", "tasks", "peak MiB per task", "growth MiB per task", "CPU s"],
                 phase_rows),
        "Connected components alone (`build_clusters`: large-star/small-star rounds, labels, join, clusters, "
        "results) on dedup-like graphs: clusters of 2-40 documents joined by random trees.",
        md_table(["edges", "nodes", "partitions", "rounds", "clusters", "driver MiB", "task peak MiB",
                  "task growth MiB", "task CPU s", "wall s", "files at peak", "load"], cc_rows),
        "What bounds a task: keys tasks hold one shard's keys, edges tasks one key partition; every components "
        "task (large-star/small-star rounds, labels, join, clusters, results) one partition of the nodes: by "
        "node hash, by root, or by contiguous range of document numbers, never a whole shard (the join reads "
        "its partition's row group of each shard's docs file). The section `cluster_scale_one_shard` shows "
        "one big shard spread over partitions.",
        "### One Common Crawl dump on N nodes (estimate from the figures above)",
        _estimate(steps, cc),
        "Sizes not in the tables were not run in this session (time on the shared machine); the script runs them: "
        "`.venv/bin/python benchmarks/cluster_scale.py --exact 1000000 4000000 10000000 --minhash 1000000 4000000 "
        "--edges 1000000 10000000 100000000 --partitions 4 16 64`.",
    ])
    print(md)
    write_section("cluster_scale", md)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
