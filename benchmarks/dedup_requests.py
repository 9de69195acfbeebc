"""Object-store requests of the ``minhash`` step, measured per phase, and a cost model for one Common Crawl dump.

The dedup work folder is ``counting::s3://...`` on a SeaweedFS store started on loopback
(``tests/object_store.py``; ``--backend memory`` runs the same thing in memory: the counts are the same,
they are taken at the fsspec API, only the wall time differs): the wrapper
(:mod:`curate.storage.request_counter`) counts every read (with its size, and whether it is metadata: index
and marker files, Parquet footers), metadata request, listing and write. Each task runs through
:class:`~curate.storage.request_counter.CountedCall` in a 2-process pool, so every count is attributed to the
phase of the task that made it (the driver's own requests are the ``driver`` row).

Corpus: ``S`` shards of ``--docs`` short synthetic documents each (8-24 words from a 5,000-word vocabulary,
15% copies and near-copies of earlier documents anywhere), ``P`` partitions. Measured at two scales (default
256 x 64 and 1,024 x 256); the per-phase counts are fitted as documented in :func:`fit` and the model is
evaluated for one dump (90,000 shards, 10,000 partitions, 3e9 documents).

Run: ``.venv/bin/python benchmarks/dedup_requests.py`` (both scales, SeaweedFS), ``--scales 256x64`` for one.
``--label before`` keeps the measurement under another name (to compare a layout with another). Writes the
``dedup_requests`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _results import REPO, WORK, md_table, write_section

from curate.blocks.base import GlobalJob
from curate.dedup import MinHashDedup
from curate.storage import request_counter as rc

sys.path.insert(0, str(REPO / "tests"))

ROOT = WORK / "dedup_requests"
VOCAB = 5_000
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
WORDS = np.array(["".join(_LETTERS[np.random.default_rng(i).integers(0, 26, 3 + i % 6)]) for i in range(VOCAB)])


def _text(g: int) -> str:
    r = np.random.default_rng(g)
    return " ".join(WORDS[r.integers(0, VOCAB, int(r.integers(8, 25)))].tolist())


def make_corpus(shards: int, docs: int, folder: Path) -> list[tuple[str, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for s in range(shards):
        path = folder / f"input-{s:05d}.parquet"
        if not path.exists():
            rng = np.random.default_rng(s)
            gid = np.arange(s * docs, (s + 1) * docs)
            kind = rng.random(docs)
            src = np.where((kind < 0.15) & (gid > 0), (rng.random(docs) * gid).astype(np.int64), gid)
            texts = []
            for g, k, c in zip(gid.tolist(), kind.tolist(), src.tolist(), strict=True):
                t = _text(c)
                if 0.10 <= k < 0.15 and c != g:  # a near-copy: one word changed
                    t = t + " zq" + str(g)
                texts.append(t)
            tbl = pa.table({"id": [f"doc-{g:010d}" for g in gid.tolist()], "text": texts, "lang": ["en"] * docs})
            pq.write_table(tbl, str(path) + ".tmp")
            os.replace(str(path) + ".tmp", path)
        out.append((f"s{s:05d}", str(path)))
    return out


def phase_of(fn: Any, items: list[Any]) -> str:
    item = items[0]
    for attr in ("phase", "kind"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return value
    return getattr(fn, "__name__", "task").replace("_task", "")


class CountingMap:
    """``job.map`` over a process pool (None: in this process); each task's requests are summed under its
    phase."""

    def __init__(self, pool: ProcessPoolExecutor | None) -> None:
        self.pool = pool
        self.phases: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []

    def __call__(self, fn: Any, items: list[Any]) -> list[Any]:
        if not items:
            return []
        call = rc.CountedCall(fn)
        if self.pool is None:
            out = [call(item) for item in items]
        else:
            out = list(self.pool.map(call, items, chunksize=max(1, len(items) // 16)))
        name = phase_of(fn, items)
        if name not in self.phases:
            self.order.append(name)
        entry = self.phases.setdefault(name, {"tasks": 0})
        entry["tasks"] += len(items)
        for _, counts in out:
            rc.add(entry, counts)
        return [r for r, _ in out]


def measure(shards: int, partitions: int, docs: int, backend: str) -> dict[str, Any]:
    inputs = make_corpus(shards, docs, ROOT / f"input-{shards}-{docs}")
    name = f"work-{shards}x{partitions}-{time.time_ns()}"
    if backend == "s3":
        url = f"counting::s3://bench/{name}"
    else:
        url = f"counting::memory://bench/{name}"
    step = MinHashDedup(partitions=partitions)
    before = rc.snapshot()
    t0 = time.perf_counter()
    # memory:// lives in one process: there the tasks run in this one; on s3 in a 2-process pool
    pool = ProcessPoolExecutor(2, mp_context=get_context("spawn")) if backend == "s3" else None
    try:
        counting = CountingMap(pool)
        job = GlobalJob(shards=inputs, workdir=url, map=counting)
        step.prepare(job)
    finally:
        if pool is not None:
            pool.shutdown()
    wall = time.perf_counter() - t0
    phases = counting.phases
    driver = rc.difference(rc.snapshot(), before)
    if pool is None:  # the tasks ran in this process: the driver's own requests are what they did not make
        tasks: dict[str, Any] = {}
        for p in phases.values():
            rc.add(tasks, {k: v for k, v in p.items() if k != "tasks"})
        driver = rc.difference(driver, tasks)
    phases["driver"] = {"tasks": 0, **driver}
    summary = job.stats[f"{step.name}_summary"]
    return {"shards": shards, "partitions": partitions, "docs": shards * docs, "backend": backend,
            "order": [*counting.order, "driver"], "phases": phases, "wall_s": wall,
            "edges": summary["edges"], "load": os.getloadavg()[0]}


def totals(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in m["phases"].values():
        rc.add(out, {k: v for k, v in p.items() if k != "tasks"})
    return out


def phase_rows(m: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for name in m["order"]:
        p = m["phases"][name]
        rows.append([f"{m['shards']} x {m['partitions']}", name, p.get("tasks", 0), f"{rc.requests(p):,}",
                     f"{p.get('get', 0):,}", f"{p.get('head', 0):,}", f"{p.get('list', 0):,}", f"{p.get('put', 0):,}",
                     f"{p.get('get_bytes', 0) / 2**20:.2f}", f"{p.get('meta_bytes', 0) / 2**20:.2f}",
                     f"{rc.median_read(p) / 1024:.1f}"])
    t = totals(m)
    rows.append([f"{m['shards']} x {m['partitions']}", "**all**", "", f"{rc.requests(t):,}", f"{t.get('get', 0):,}",
                 f"{t.get('head', 0):,}", f"{t.get('list', 0):,}", f"{t.get('put', 0):,}",
                 f"{t.get('get_bytes', 0) / 2**20:.2f}", f"{t.get('meta_bytes', 0) / 2**20:.2f}",
                 f"{rc.median_read(t) / 1024:.1f}"])
    return rows


HEADERS = ["shards x partitions", "phase", "tasks", "requests", "reads", "metadata requests", "listings", "writes",
           "MiB read", "metadata MiB read", "median read KiB"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", nargs="*", default=["256x64", "1024x256"])
    parser.add_argument("--docs", type=int, default=100, help="documents per shard")
    parser.add_argument("--backend", choices=["s3", "memory"], default="s3")
    parser.add_argument("--label", default="current")
    args = parser.parse_args()
    store = None
    if args.backend == "s3":
        from object_store import start_object_store

        store = start_object_store()
        os.environ.update(store.env())
        store.filesystem().mkdir("bench")
    results = []
    try:
        for scale in args.scales:
            s, p = (int(x) for x in scale.split("x"))
            m = measure(s, p, args.docs, args.backend)
            results.append(m)
            t = totals(m)
            print(f"{scale}: {rc.requests(t):,} requests, {t.get('get_bytes', 0) / 2**20:.1f} MiB read, "
                  f"wall {m['wall_s']:.0f} s", flush=True)
    finally:
        if store is not None:
            store.stop()
    ROOT.mkdir(parents=True, exist_ok=True)
    (ROOT / f"{args.label}.json").write_text(json.dumps(results, indent=1))
    print(md_table(HEADERS, [r for m in results for r in phase_rows(m)]))
    shutil.rmtree(ROOT / "scratch", ignore_errors=True)


if __name__ == "__main__":
    main()
