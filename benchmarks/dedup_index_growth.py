"""The cost of adding one dump to a persistent dedup index, against the index's size (issue 28).

A corpus of short synthetic documents (``_dedup_common.short_docs_shard``: 8-24 words of a 5,000-word
vocabulary, 15% copies and near-copies of an earlier document anywhere) is cut in two at ``M = r x N``:
documents ``[0, M)`` are added to a fresh index as one dump (``base``), then documents ``[M, M + N)`` as the
next dump (``new``): about 15% of the new documents copy an earlier one, nearly all of them in the index, so
the new dump joins (and grows) earlier clusters. For each ``r`` (default 1, 10, 100) the ``minhash`` step runs
as the runner runs it (``prepare`` -> ``process`` of every shard, its kept rows written as the run's output ->
``finish``, which commits the index's new version) on a local 2-process pool, each task measured:

- *index bytes read*: what the tasks read from the index (the index URL is ``counting::file://...``, the
  wrapper of :mod:`curate.storage.request_counter`; the run's own scratch folder and its input are not counted);
- *largest task growth*: per task VmHWM reset before it (``/proc/self/clear_refs``) minus the worker's RSS at
  the task's start, the largest of the add;
- *task CPU* and *wall* of the add, and of the alternative a user without an index has: one run over all
  ``M + N`` documents (*rebuild*).

Goal (issue 28): the cost of the add grows with ``N`` and with the index's keys it reads, never with
re-processing ``M`` (no text, signature or component of an earlier dump is computed again).

Run: ``.venv/bin/python benchmarks/dedup_index_growth.py`` (N = 20,000; ``--new N --ratios 1 10 100
--partitions P``). Each ``r`` runs in a fresh child process. Writes the ``dedup_index_growth`` section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from _dedup_common import SHARD_DOCS, MeasuredMap, short_docs_shard
from _results import WORK, md_table, write_section

ROOT = WORK / "dedup_index_growth"
SEED = 28


def corpus_rows(lo: int, hi: int, total: int) -> pa.Table:
    """Documents ``[lo, hi)`` of the ``total``-document corpus (the generator's shards cut to the range)."""
    parts = []
    for s in range(lo // SHARD_DOCS, (hi - 1) // SHARD_DOCS + 1):
        t = short_docs_shard(total, s, SEED)
        a, b = max(lo - s * SHARD_DOCS, 0), min(hi - s * SHARD_DOCS, t.num_rows)
        parts.append(t.slice(a, b - a))
    return pa.concat_tables(parts)


def dump_shards(name: str, lo: int, hi: int, total: int, folder: Path) -> list[tuple[str, str]]:
    """Documents ``[lo, hi)`` as input shards of at most ``SHARD_DOCS`` rows, written once."""
    shards = []
    table = corpus_rows(lo, hi, total)
    for k, a in enumerate(range(0, table.num_rows, SHARD_DOCS)):
        path = folder / f"{name}-{k:04d}.parquet"
        if not path.exists():
            pq.write_table(table.slice(a, SHARD_DOCS), str(path) + ".tmp")
            os.replace(str(path) + ".tmp", path)
        shards.append((f"{name}-{k:04d}", str(path)))
    return shards


def _process_shard(args: tuple[bytes, str, str, str]) -> dict[str, int]:
    """One shard through the prepared step; its kept rows written where the run's output would be."""
    from curate.blocks.base import BlockContext

    blob, sid, path, out = args
    step = pickle.loads(blob)
    ctx = BlockContext(shard=sid)
    kept = []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=8192):
        table = pa.Table.from_batches([batch])
        kept.append(table.filter(pa.array(step.process(table, ctx).keep)))
    pq.write_table(pa.concat_tables(kept), out)
    return {"kept": sum(t.num_rows for t in kept)}


def run_dump(shards: list[tuple[str, str]], work: Path, index: str | None, dump: str, partitions: int,
             pool: ProcessPoolExecutor) -> dict[str, Any]:
    """One run of the ``minhash`` step as the runner runs it (prepare, process, finish), measured."""
    from curate.blocks.base import GlobalJob
    from curate.dedup import MinHashDedup

    out = work / f"out-{dump}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    setting = {"index": {"url": index, "dump": dump}} if index else {}
    step = MinHashDedup(partitions=partitions, **setting)
    measured = MeasuredMap(pool)
    job = GlobalJob(shards=shards, workdir=str(work / f"scratch-{dump}"), map=measured, out_dir=str(out))
    t0 = time.perf_counter()
    step.prepare(job)
    blob = pickle.dumps(step)
    outputs = [str(out / f"{sid}.parquet") for sid, _ in shards]
    kept = measured(_process_shard, [(blob, sid, p, o) for (sid, p), o in zip(shards, outputs, strict=True)])
    job.outputs = [(sid, [o]) for (sid, _), o in zip(shards, outputs, strict=True)]
    step.finish(job)
    wall = time.perf_counter() - t0
    shutil.rmtree(work / f"scratch-{dump}", ignore_errors=True)
    summary = job.stats.get(f"{step.name}_index", {})
    return {"wall": wall, "tasks": measured.tasks, "kept": sum(k["kept"] for k in kept),
            "documents": sum(pq.ParquetFile(p).metadata.num_rows for _, p in shards),
            "touched": summary.get("earlier_clusters_touched"), "index_documents": summary.get("documents")}


def _warm(folder: str) -> int:
    """In a worker: one small run's shard keys, so that no measured task pays the worker's first imports."""
    from curate.dedup import MinHashDedup
    from curate.dedup.shuffle import ShardKeysTask, shard_keys_task

    time.sleep(0.5)  # both workers get one
    path = f"{folder}/warm.parquet"
    pq.write_table(short_docs_shard(200, 0, SEED), path)
    step = MinHashDedup(partitions=2)
    shard_keys_task(ShardKeysTask(0, path, f"{folder}/{os.getpid()}", 2, step.make_keyer(None), 2048, 2, False,
                                  False))
    return os.getpid()


def child(new: int, ratio: int, partitions: int) -> dict[str, Any]:
    base_docs = new * ratio
    total = base_docs + new
    folder = ROOT / f"input-{new}-{ratio}"
    folder.mkdir(parents=True, exist_ok=True)
    base = dump_shards("base", 0, base_docs, total, folder)
    added = dump_shards("new", base_docs, total, total, folder)
    work = ROOT / f"work-{new}-{ratio}"
    shutil.rmtree(work, ignore_errors=True)
    index_dir = work / "index"
    index = f"counting::file://{index_dir}"
    load0 = os.getloadavg()[0]
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        (work / "warm").mkdir(parents=True)
        assert len(set(pool.map(_warm, [str(work / "warm")] * 2))) == 2
        built = run_dump(base, work, index, "base", partitions, pool)
        add = run_dump(added, work, index, "new", partitions, pool)
        rebuild = run_dump(base + added, work, None, "rebuild", partitions, pool)
    index_bytes = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    shutil.rmtree(work, ignore_errors=True)
    return {"new": new, "ratio": ratio, "base_docs": base_docs, "partitions": partitions, "build": built,
            "add": add, "rebuild": rebuild, "index_bytes": index_bytes,
            "load": (load0 + os.getloadavg()[0]) / 2}


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f}"


def row(r: dict[str, Any]) -> list[Any]:
    add, rebuild = r["add"], r["rebuild"]
    cpu = sum(t["cpu"] for t in add["tasks"])
    rebuild_cpu = sum(t["cpu"] for t in rebuild["tasks"])
    read = sum(t["bytes"] for t in add["tasks"])
    top = max(add["tasks"], key=lambda t: t["growth"])
    probe = [t for t in add["tasks"] if t["phase"] == "probe"]
    return [f"{r['new']:,}", f"{r['base_docs']:,} ({r['ratio']}x)", r["partitions"], f"{add['touched']:,}",
            _mib(read), _mib(sum(t["bytes"] for t in probe)), f"{sum(t['gets'] for t in add['tasks']):,}",
            f"{top['growth']:.0f} ({top['phase']})", f"{cpu:.1f}", f"{add['wall']:.1f}",
            f"{rebuild_cpu:.1f}", f"{rebuild['wall']:.1f}", f"{rebuild_cpu / cpu:.1f}x",
            _mib(r["index_bytes"]), f"{r['load']:.1f}"]


PHASES = ["shard_keys", "probe", "labels", "resolve", "fetch", "components", "process_shard", "outcome", "merges",
          "other"]


def phase_row(r: dict[str, Any]) -> list[Any]:
    cpu = dict.fromkeys(PHASES, 0.0)
    for t in r["add"]["tasks"]:
        phase = t["phase"]
        if phase.startswith("merge"):
            phase = "merges"
        elif phase in ("large_star", "small_star", "partition_edges", "clusters", "results", "cc", "cl"):
            phase = "components"
        cpu[phase if phase in cpu else "other"] += t["cpu"]
    return [f"{r['new']:,}", f"{r['base_docs']:,}", *(f"{cpu[p]:.1f}" for p in PHASES)]


HEADERS = ["new dump N", "index M", "partitions", "earlier clusters joined", "index MiB read",
           "of it keys (probe) MiB", "index GETs", "largest task growth MiB (phase)", "add: task CPU s",
           "add: wall s", "rebuild M+N: task CPU s", "rebuild: wall s", "rebuild / add CPU",
           "index MiB on storage", "load"]


def figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The README's figures: the largest index measured against its new dump."""
    r = max(results, key=lambda r: (r["ratio"], r["new"]))
    add_cpu = sum(t["cpu"] for t in r["add"]["tasks"])
    return {"ratio": r["ratio"], "new": r["new"], "index_docs": r["base_docs"],
            "rebuild_over_add_cpu": round(sum(t["cpu"] for t in r["rebuild"]["tasks"]) / add_cpu, 1),
            "index_bytes_read_per_index_doc": round(sum(t["bytes"] for t in r["add"]["tasks"]) / r["base_docs"]),
            "largest_task_growth_mib": round(max(t["growth"] for t in r["add"]["tasks"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--new", type=int, default=20_000)
    parser.add_argument("--ratios", type=int, nargs="*", default=[1, 10, 100])
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--child", nargs=3, type=int)
    parser.add_argument("--table-only", action="store_true", help="the section from the kept results, no run")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    results_dir = ROOT / "results"
    for ratio in [] if args.table_only else args.ratios:
        proc = subprocess.run([sys.executable, __file__, "--child", str(args.new), str(ratio), str(args.partitions)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(proc.stderr[-3000:])
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results_dir.mkdir(parents=True, exist_ok=True)
        (results_dir / f"{args.new}-{ratio}-{args.partitions}.json").write_text(json.dumps(result))
        print(row(result), flush=True)
    results = [json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))]
    results.sort(key=lambda r: (r["new"], r["partitions"], r["ratio"]))
    fig = figures(results)
    md = "\n\n".join([
        "## Adding a dump to a dedup index: cost against the index's size",
        "A corpus of short synthetic documents (8-24 words of a 5,000-word vocabulary, 15% copies and "
        "near-copies of an earlier document anywhere) cut at M: its first M documents are added to a fresh "
        "`minhash` index as one dump, the next N as a second dump (about 15% of them copy an earlier "
        "document, nearly always one in the index). *index MiB read* and *GETs*: what the add's tasks read "
        "from the index (the index is a `counting::` URL; the run's own input and scratch are not counted); "
        "*largest task growth*: per task VmHWM reset before it, minus the worker's RSS at its start; *rebuild*: "
        "the alternative without an index, one run over all M + N documents (same step, same pool). Local "
        "2-process pool, each M in a fresh process; shared 2-core machine: wall times move with the load shown.",
        md_table(HEADERS, [row(r) for r in results]),
        "Task CPU seconds of the add by phase (the lookup phases `probe`, `labels`, `resolve`, `fetch` read the "
        "index; `outcome` and the `merge:ix/...` tasks write the new version):",
        md_table(["new dump N", "index M", *PHASES], [phase_row(r) for r in results]),
        f"Goal (issue 28): the cost of adding a dump grows with N and the index's keys it touches, not with "
        f"re-processing M. Nothing of an earlier dump is computed again (no text, signature or component), and "
        f"no task holds more than its partition of the new dump plus one batch of the index: the largest task "
        f"grew by {fig['largest_task_growth_mib']} MiB at M = {fig['ratio']}x N, and the add took "
        f"{fig['rebuild_over_add_cpu']}x less task CPU than rebuilding. **Not met** for bytes: the probe streams "
        f"every earlier dump's key partition (24 bytes per key, a key per band), so the index bytes the add "
        f"reads grow with M ({fig['index_bytes_read_per_index_doc']} bytes per earlier document), not only with "
        f"the keys it touches. Band keys are hashes spread uniformly, so a new dump's keys land in nearly every "
        f"1 MiB block (about 40,000 keys) of an index partition unless N is under about 1/40,000 of M: reading "
        f"only the touched blocks would save nothing at Common Crawl sizes. The keys are the whole price: a "
        f"rebuild reads and processes every earlier document again.",
        "Command: `.venv/bin/python benchmarks/dedup_index_growth.py --new 20000 --ratios 1 10 100 "
        "--partitions 8`.",
        f"<!-- figures {json.dumps(figures(results), sort_keys=True)} -->",
    ])
    print(md)
    write_section("dedup_index_growth", md)


if __name__ == "__main__":
    main()
