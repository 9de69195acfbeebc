"""Ray executor vs local executor: documents/s at 1 and 2 workers, Ray's cost per shard, and what one Common
Crawl dump would take on N nodes.

    .venv/bin/python benchmarks/ray_throughput.py [--copies 2] [--repeats 1] [--no-trafilatura] [--no-write]

- Inputs: every real WARC of shared/data/warc plus the two extraction WARCs, each linked ``--copies`` times
  under distinct names (a shard is one input path), so ~30 shards of very different sizes.
- Pipeline: read -> extract (resiliparse) -> langid -> Parquet per language (+ removed rows), the same file for
  every executor; ``curate run`` in a fresh process per measurement, so every run loads its models in its own
  workers (Ray starts new worker processes per job, the local pool spawns new ones per run).
- Ray: a private head on loopback (``tests/ray_local_head.py``: ``ray start --head --num-cpus=2``, token auth)
  started once; the run's driver joins it (``--executor ray``). Wall = the run's own ``seconds`` (connecting and
  the worker probe included), CPU = user+system of the driver process plus every process of the head's
  session (workers, raylet, GCS), local: of the run's process and its pool.
- Overhead: 60 shards of one record each (``cc-single-response.warc.gz``) through the same pipeline, and
  ``RayExecutor.map`` of a no-op function (pure scheduling cost per task).
- The estimate for one dump scales the measured CPU seconds per document and the per-shard overhead; its
  assumptions are printed with it.
Writes the ``ray_throughput`` section of benchmarks/RESULTS.md (``--no-write``: print only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _results import REPO, WORK, machine_line, md_table, require_shared, write_section

sys.path.insert(0, str(REPO / "tests"))  # the loopback Ray head the tests start, shared with this benchmark
from ray_local_head import LocalHead, SessionCPU, start_local_head  # noqa: E402

OUT = WORK / "ray_throughput"
STEPS = {"resiliparse": [{"extract": {"engine": "resiliparse"}}, {"langid": {}}],
         "trafilatura": [{"extract": {"engine": "trafilatura"}}, {"langid": {}}]}
# one Common Crawl main dump, for the estimate
CC_WARCS = 90_000
CC_HTML_PER_WARC = 37_500
CORES_PER_NODE = 32
EFFICIENCY = 0.85  # share of task slots doing work: stragglers at the end of a stage, node start-up, retries
NODES = (1, 10, 50, 100, 250)
THROUGHPUT = (("local", 1), ("local", 2), ("ray", 1), ("ray", 2))
OVERHEAD = (("local", 1), ("ray", 1), ("ray", 2))
TINY_SIZES = (20, 80)


def base_inputs() -> list[Path]:
    files = sorted(require_shared("warc").glob("*.warc.gz"))
    files += [require_shared("extraction", "scrapinghub_aeb_pages.warc.gz"),
              require_shared("extraction", "mozilla_readability_testpages.warc.gz")]
    return files


def linked_inputs(folder: Path, files: list[Path], copies: int) -> list[Path]:
    """``copies`` symlinks per file with distinct names: one shard each."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    links = []
    for copy in range(copies):
        for src in files:
            link = folder / f"c{copy:02d}-{src.name}"
            link.symlink_to(src)
            links.append(link)
    return links


def write_pipeline(path: Path, inputs: list[Path], steps: list[dict[str, Any]]) -> Path:
    doc = {"name": "ray-throughput", "input": {"paths": [str(p) for p in inputs]}, "output": str(OUT / "unused"),
           "pipeline": steps}
    path.write_text(json.dumps(doc, indent=1))  # JSON is YAML
    return path


def run_once(cfg: Path, executor: str, workers: int, head: LocalHead | None, label: str) -> dict[str, Any]:
    out = OUT / "runs" / label
    shutil.rmtree(out, ignore_errors=True)
    on_ray = head is not None and executor == "ray"
    env = head.driver_env() if on_ray else dict(os.environ)
    args = [sys.executable, "-m", "curate.cli", "run", str(cfg), "--output", str(out), "--executor", executor,
            "--workers", str(workers)]
    load_before = os.getloadavg()[0]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = SessionCPU(head.session).start() if on_ray else None
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=REPO)
    process_wall = time.perf_counter() - started
    head_cpu = sampler.stop() if sampler is not None else 0.0
    if proc.returncode != 0:
        sys.exit(f"{label} failed:\n{proc.stderr[-3000:]}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime) + head_cpu
    timing = json.loads((out / "_stats" / "timing.json").read_text())
    stats = json.loads((out / "_stats" / "stats.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    return {"label": label, "seconds": timing["seconds"], "process_wall": process_wall, "cpu": cpu,
            "docs": stats["read"]["emitted"], "shards": timing["ran_tasks"],
            "load1": (load_before + os.getloadavg()[0]) / 2}


def measure_all(configs: dict[str, tuple[Path, str, int]], head: LocalHead, repeats: int) -> dict[str, dict[str, Any]]:
    """Every configuration ``repeats`` times, round-robin (load drifts hit all alike); the median run of each."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    for i in range(repeats):
        for name, (cfg, executor, workers) in configs.items():
            runs[name].append(run_once(cfg, executor, workers, head, f"{name}-{i}"))
            r = runs[name][-1]
            print(f"  {name}: {r['docs']} docs, {r['shards']} shards, {r['seconds']:.2f} s, CPU {r['cpu']:.1f} s, "
                  f"load {r['load1']:.1f}", flush=True)
    out = {}
    for name, rs in runs.items():
        best = sorted(rs, key=lambda r: r["seconds"])[len(rs) // 2]
        out[name] = {**best, "all": [r["seconds"] for r in rs], "loads": [r["load1"] for r in rs]}
    return out


def _noop(x: int) -> int:
    return x


def executor_overhead(head: LocalHead, tasks: int) -> dict[str, float]:
    """Pure Ray scheduling cost per task: RayExecutor.map of a no-op, in this process."""
    os.environ.update(head.driver_env())
    from curate.executors.ray_executor import RayExecutor

    out: dict[str, float] = {}
    for workers in (2, None):
        executor = RayExecutor(address=head.gcs, workers=workers, progress=False)
        try:
            executor.map(_noop, list(range(8)))  # connect, probe, start workers
            started = time.perf_counter()
            assert executor.map(_noop, list(range(tasks))) == list(range(tasks))
            out[f"{'2' if workers else '4 (2 x CPUs, the default)'} in flight"] = time.perf_counter() - started
        finally:
            executor.close()
    return out


def dump_estimate(per_doc_cpu: dict[str, float], per_shard_s: float) -> str:
    docs = CC_WARCS * CC_HTML_PER_WARC
    rows = []
    for engine, cpu in per_doc_cpu.items():
        total_cpu_s = docs * cpu + CC_WARCS * per_shard_s
        per_shard_min = (CC_HTML_PER_WARC * cpu + per_shard_s) / 60
        walls = [total_cpu_s / (n * CORES_PER_NODE * EFFICIENCY) / 3600 for n in NODES]
        rows.append([engine, f"{cpu * 1000:.1f}", f"{per_shard_min:.1f}", f"{total_cpu_s / 3600:,.0f}",
                     *[f"{w:,.1f}" if w < 100 else f"{w:,.0f}" for w in walls]])
    headers = ["extract engine", "CPU ms/doc (measured)", "min per WARC task", "CPU-hours per dump",
               *[f"{n} node{'s' if n > 1 else ''}: hours" for n in NODES]]
    return md_table(headers, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="symlinks per input file (shards = 14 x copies)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration (median reported)")
    parser.add_argument("--no-trafilatura", action="store_true", help="skip the trafilatura run (~1 min)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    files = base_inputs()
    inputs = linked_inputs(OUT / "inputs", files, args.copies)
    cfg = write_pipeline(OUT / "pipeline.yaml", inputs, STEPS["resiliparse"])
    single = require_shared("warc", "cc-single-response.warc.gz")
    tiny_cfgs = {n: write_pipeline(OUT / f"tiny{n}.yaml", linked_inputs(OUT / f"tiny{n}", [single], n),
                                   STEPS["resiliparse"]) for n in TINY_SIZES}
    print(f"{len(inputs)} shards ({len(files)} files x {args.copies}); starting a local Ray head", flush=True)
    t0 = time.perf_counter()
    head = start_local_head(num_cpus=2)
    head_start = time.perf_counter() - t0
    try:
        print("throughput (extract resiliparse + langid):", flush=True)
        results = measure_all({f"{e}-{w}": (cfg, e, w) for e, w in THROUGHPUT}, head, args.repeats)
        print("per-shard overhead (one-record shards; two sizes, the slope is the cost per shard):", flush=True)
        overhead = measure_all({f"tiny{n}-{e}-{w}": (tiny_cfgs[n], e, w) for e, w in OVERHEAD for n in tiny_cfgs},
                               head, args.repeats)
        noop_tasks = 400
        noop = executor_overhead(head, noop_tasks)
        traf = None
        if not args.no_trafilatura:
            traf_cfg = write_pipeline(OUT / "trafilatura.yaml", linked_inputs(OUT / "traf", files, 1),
                                      STEPS["trafilatura"])
            print("trafilatura (FineWeb's default engine), local, 1 worker:", flush=True)
            traf = measure_all({"trafilatura-local-1": (traf_cfg, "local", 1)}, head, 1)["trafilatura-local-1"]
    finally:
        head.stop()

    # -- tables ------------------------------------------------------------------------------------
    rows = []
    for (executor, workers) in THROUGHPUT:
        r, local = results[f"{executor}-{workers}"], results[f"local-{workers}"]
        rows.append([executor, workers, r["shards"], r["docs"], f"{r['seconds']:.2f}",
                     f"**{r['docs'] / r['seconds']:.1f}**", f"{local['seconds'] / r['seconds']:.2f}x",
                     f"{r['cpu']:.1f}", f"{r['docs'] / r['cpu']:.0f}", f"{r['load1']:.1f}"])
    table = md_table(["executor", "workers", "shards", "docs", "wall s", "docs/s", "speed vs local, same workers",
                      "CPU s", "docs per CPU s", "load (1 min)"], rows)

    small, large = TINY_SIZES
    slope: dict[tuple[str, int], dict[str, float]] = {}
    orows = []
    for executor, workers in OVERHEAD:
        a, b = overhead[f"tiny{small}-{executor}-{workers}"], overhead[f"tiny{large}-{executor}-{workers}"]
        wall = (b["seconds"] - a["seconds"]) / (large - small)
        cpu = (b["cpu"] - a["cpu"]) / (large - small)
        fixed = a["seconds"] - wall * small
        slope[(executor, workers)] = {"wall": wall, "cpu": cpu}
        orows.append([f"curate run, {executor}, {workers} worker{'s' if workers > 1 else ''}",
                      f"{a['seconds']:.2f} / {b['seconds']:.2f}", f"**{wall * 1000:.0f}**", f"{cpu * 1000:.0f}",
                      f"{fixed:.2f}"])
    for name, seconds in noop.items():
        orows.append([f"RayExecutor.map, {noop_tasks} no-op tasks, {name}", f"{seconds:.2f}",
                      f"{seconds / noop_tasks * 1000:.1f}", "-", "-"])
    otable = md_table(["measurement", f"wall s, {small} / {large} shards", "ms per shard (slope)",
                       "CPU ms per shard (slope)", "fixed s per run"], orows)

    local1 = results["local-1"]
    per_doc_cpu = {"resiliparse": local1["cpu"] / local1["docs"]}
    if traf is not None:
        per_doc_cpu["trafilatura (FineWeb default)"] = traf["cpu"] / traf["docs"]
    per_shard_s = max(slope[("ray", 1)]["wall"], 0.0)  # serial cost a shard task adds on Ray
    estimate = dump_estimate(per_doc_cpu, per_shard_s)

    ray1 = results["ray-1"]
    daemon_cpu = ray1["cpu"] - local1["cpu"]
    daemon_cores = daemon_cpu / ray1["seconds"]
    loads = [v for r in [*results.values(), *overhead.values()] for v in r["loads"]]
    body = f"""## Ray executor: throughput, per-shard overhead, a Common Crawl dump on N nodes

`.venv/bin/python benchmarks/ray_throughput.py` — {len(files)} real WARCs (shared/data/warc + the 2 extraction \
WARCs) linked {args.copies}x under distinct names = {len(inputs)} shards of very different sizes; pipeline \
extract (resiliparse) → langid → Parquet. Each run is `curate run` in a fresh process (models load in every \
worker each run); Ray: a local head with 2 CPUs on loopback (token auth), started once in {head_start:.1f} s. \
Median of {args.repeats} run(s) per row, configurations interleaved.

{table}

What a shard costs on Ray beyond its documents: shards of one HTML record each, {small} and {large} of them; the \
difference divided by {large - small} is the cost per shard, without the fixed cost of a run (start-up, joining \
the cluster, loading models):

{otable}

- *wall s* is the run's own time (`_stats/timing.json`): for Ray it includes joining the cluster and the \
worker probe (~0.5–1 s), and the first task of every worker loads the models, as in a local pool.
- *CPU s*: user+system of the run's process and its pool (local); for Ray also every process of the head's \
session (workers, raylet, GCS, dashboard; sampled every 0.2 s while the run lasts, since Ray workers exit with \
their job), so Ray's own daemons are charged to it.
- Load average (1 min) during the runs: {min(loads):.1f}–{max(loads):.1f} on 2 cores. Other work shared the \
machine whenever it was above ~1: wall times then stretch, 2 workers cannot double 1, and the OS gives a \
run that spreads over more processes and threads (Ray's worker + driver + raylet) a bigger share of the \
contended cores, which can make Ray look faster than the in-process local run. CPU seconds and *docs per \
CPU s* are the steadier comparison: at 1 worker Ray used {daemon_cpu:.1f} CPU s more than local \
({daemon_cores:.2f} cores over the run: raylet, GCS, dashboard agents, the driver's Ray threads, the worker \
probe), the same for 10 shards or 90,000.
- The per-shard slopes are differences of a few hundred ms between runs and carry ~±10 ms of noise at this \
load; the no-op rows are Ray's scheduling cost alone (submit, run, fetch the result).
- {machine_line()}; ray {_ray_version()}.

### Estimate: one Common Crawl dump

CPU seconds per document measured above (local executor, 1 worker: the process's own rusage, models loading \
included) plus the Ray cost per shard (slope, 1 worker), scaled to {CC_WARCS:,} WARC files x \
{CC_HTML_PER_WARC:,} HTML responses = {CC_WARCS * CC_HTML_PER_WARC / 1e9:.2f} G documents, on nodes of \
{CORES_PER_NODE} vCPUs (one shard task per vCPU) at {EFFICIENCY:.0%} slot efficiency:

{estimate}

Assumptions: the CPU cost per document of these real pages (news/article pages and 2008–2024 crawls) holds for \
CC's page mix (it grows with page size; treat ±2x as the error bar); one 1 GiB WARC is one shard task \
(~{CC_HTML_PER_WARC * per_doc_cpu['resiliparse'] / 60:.0f} min of one vCPU with resiliparse), so the \
{per_shard_s * 1000:.0f} ms Ray adds per shard is negligible and 90k tasks are no load for the scheduler; \
reading 1 GiB from S3 (~10–20 s at 50–100 MB/s) overlaps other tasks' CPU work and is not counted; the later \
steps (MinHash, filters, formatters) add their own cost per document on the extracted text, and the dedup \
shuffle adds I/O: this covers read → extract → langid → write only. Memory: a shard task holds one batch of \
documents and one shard's output per language until it is written; ~1–2 GiB per vCPU is enough.
"""
    print(body)
    if not args.no_write:
        write_section("ray_throughput", body)
        print("written to benchmarks/RESULTS.md")
    return 0


def _ray_version() -> str:
    import ray

    return ray.__version__


if __name__ == "__main__":
    sys.exit(main())
