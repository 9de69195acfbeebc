"""Object-store requests of the ``minhash`` step, measured per phase, and a cost model for one Common Crawl dump.

The dedup work folder is ``counting::s3://...`` on a SeaweedFS store started on loopback
(``tests/object_store.py``; ``--backend memory`` runs the same thing in memory: the counts are the same,
they are taken at the fsspec API, only the wall time differs): the wrapper
(:mod:`curate.storage.request_counter`) counts every read (with its size, and whether it is metadata: index
and marker files, Parquet footers), metadata request, listing and write. Each task runs through
:class:`~curate.storage.request_counter.CountedCall` in a 2-process pool, so every count is attributed to the
phase of the task that made it (the driver's own requests are the ``driver`` row).

Corpus: ``S`` shards of ``--docs`` short synthetic documents each (8-24 words from a 5,000-word vocabulary,
15% copies and near-copies of earlier documents anywhere; ids shaped like Common Crawl record ids), ``P``
partitions. Measured at two scales (default
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
import sys
import time
import uuid
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
from curate.shuffle.partitioned_shuffle import MergeTask
from curate.storage import request_counter as rc

sys.path.insert(0, str(REPO / "tests"))
from dedup_harness import RequestsByPhase  # noqa: E402

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
            # ids shaped like Common Crawl's WARC-Record-IDs, so that the docs shuffle has realistic bytes
            ids = [f"<urn:uuid:{uuid.UUID(int=int(g) * 0x9E3779B97F4A7C15 % 2**128)}>" for g in gid.tolist()]
            tbl = pa.table({"id": ids, "text": texts, "lang": ["eng_Latn"] * docs})
            pq.write_table(tbl, str(path) + ".tmp")
            os.replace(str(path) + ".tmp", path)
        out.append((f"s{s:05d}", str(path)))
    return out


def _folder(item: Any) -> str:
    return item.folder.split("/")[-1]


def measure(shards: int, partitions: int, docs: int, backend: str, shuffle_read: int) -> dict[str, Any]:
    """One ``minhash`` prepare over a fresh work folder; requests per phase, per shuffle, and each shuffle's
    shape (writers, groups, bytes of its runs)."""
    inputs = make_corpus(shards, docs, ROOT / f"input-{shards}-{docs}")
    name = f"work-{shards}x{partitions}-{time.time_ns()}"
    url = f"counting::{'s3' if backend == 's3' else 'memory'}://bench/{name}"
    # automatic partition counts, scaled so that this corpus gets ``partitions`` key partitions and 7 times
    # fewer node partitions, the ratio of one dump (4M keys vs 2M documents per partition, 14 keys a document)
    docs_total = shards * docs
    step = MinHashDedup(shuffle_read=shuffle_read)
    step.target_keys_per_partition = -(-docs_total * 14 // partitions)
    step.target_docs_per_partition = -(-docs_total * 7 // partitions)
    before = rc.snapshot()
    t0 = time.perf_counter()
    # memory:// lives in one process: there the tasks run in this one; on s3 in a 2-process pool
    pool = ProcessPoolExecutor(2, mp_context=get_context("spawn")) if backend == "s3" else None
    try:
        counting = RequestsByPhase(None if pool is None else lambda fn, items: pool.map(fn, items, chunksize=4))
        job = GlobalJob(shards=inputs, workdir=url, map=counting)
        step.prepare(job)
    finally:
        if pool is not None:
            pool.shutdown()
    wall = time.perf_counter() - t0
    phases = counting.phases()
    tasks: dict[str, Any] = {}
    for _, _, counts in counting.tasks:
        rc.add(tasks, counts)
    driver = rc.difference(rc.snapshot(), before)
    if pool is None:  # the tasks ran in this process: the driver's own requests are what they did not make
        driver = rc.difference(driver, tasks)
    phases["driver"] = {"tasks": 0, **driver}
    merged: dict[str, Any] = {}
    rc.add(merged, {"folders": tasks.get("folders", {})})
    rc.add(merged, {"folders": driver.get("folders", {})})
    folders = merged.get("folders", {})
    shuffles: dict[str, dict[str, int]] = {}
    for _, item, _ in counting.tasks:
        if isinstance(item, MergeTask):
            entry = shuffles.setdefault(_folder(item), {"writers": 0, "groups": 0, "bytes": 0,
                                                        "partitions": item.partitions})
            entry["writers"] += len(item.sizes)
            entry["groups"] += 1
            entry["bytes"] += sum(item.sizes)
    for folder, entry in shuffles.items():
        entry["requests"] = rc.requests(folders.get(folder, {}))
        entry["get_bytes"] = folders.get(folder, {}).get("get_bytes", 0)
        entry["meta_bytes"] = folders.get(folder, {}).get("meta_bytes", 0)
    order = list(dict.fromkeys(p for p, _, _ in counting.tasks))
    return {"shards": shards, "partitions": partitions, "docs": shards * docs, "backend": backend,
            "shuffle_read": shuffle_read, "order": [*order, "driver"], "phases": phases, "shuffles": shuffles,
            "wall_s": wall, "load": os.getloadavg()[0]}


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

# -- the model --------------------------------------------------------------------------------------------
DUMP = {"shards": 90_000, "partitions": 10_000, "docs": 3.0e9}
DUMP_NODE_PARTITIONS = 1_500  # components: 3e9 documents / 2M per node partition (ClusterDedupStep)
# who writes each shuffle and to what: (writers, destinations), "S" shards, "K" key and "N" node partitions
SHAPES = {"keys": ("S", "K"), "docs": ("S", "N"), "sigs": ("S", "N"), "edges": ("K", "N"), "links": ("K", "K")}
# Amazon S3 Standard, US East (N. Virginia), https://aws.amazon.com/s3/pricing/ (request pricing): PUT, COPY,
# POST, LIST $0.005 per 1,000 requests; GET, SELECT and all other requests $0.0004 per 1,000
PUT_PRICE = 0.005 / 1000
GET_PRICE = 0.0004 / 1000
PART = 64 * 2**20  # a group file is a multipart upload of parts of this size (Workdir.open_stream)
BYTES_PER_ROW = 20  # rows of the shuffles are 16-24 bytes (two or three int64): for the run metadata estimate


def features(writers: float, partitions: float, groups: float) -> list[float]:
    """Requests of one shuffle = a*W + b*P + c*P*G + d*G + e: per writer (its run, its marker, the merge's
    read of it), per reader (index read, marker), per reader and group (a ranged read), per group (group
    file, offsets, the index task's read), per shuffle."""
    return [writers, partitions, partitions * groups, groups, 1.0]


def fit(measurements: list[dict[str, Any]]) -> np.ndarray:
    """Non-negative least squares on relative errors (every shuffle counts alike, whatever its size)."""
    from scipy.optimize import nnls

    rows, target = [], []
    for m in measurements:
        for sh in m["shuffles"].values():
            rows.append(features(sh["writers"], sh["partitions"], sh["groups"]))
            target.append(sh["requests"])
    a, y = np.array(rows, dtype=float), np.array(target, dtype=float)
    coef, _ = nnls(a / y[:, None], np.ones(len(y)))
    return coef


def _median_read(counts: list[tuple[float, float]]) -> float:
    """Median of reads given as (size, how many)."""
    total = sum(n for _, n in counts)
    seen = 0.0
    for size, n in sorted(counts):
        seen += n
        if 2 * seen >= total:
            return size
    return 0.0


def dump_model(coef: np.ndarray, m: dict[str, Any]) -> list[dict[str, Any]]:
    """Every shuffle of measurement ``m`` at one dump's size: bytes scaled by documents, groups from the
    default plan, requests from the fitted coefficients, reads and metadata from the layout."""
    from curate.shuffle.partfile import encode_counts
    from curate.shuffle.partitioned_shuffle import plan_groups

    scale = DUMP["docs"] / m["docs"]
    sizes = {"S": DUMP["shards"], "K": DUMP["partitions"], "N": DUMP_NODE_PARTITIONS}
    out = []
    for name, sh in m["shuffles"].items():
        writers, dests = SHAPES.get(name, ("N", "N"))
        w, p = sizes[writers], sizes[dests]
        total = sh["bytes"] * scale
        run = total / w
        groups = plan_groups([int(run)] * w, p)
        g = len(groups)
        group_bytes = total / g
        requests = float(np.dot(coef, features(w, p, g)))
        gets = w + (g if g > 1 else 0) + p * (1 + g)  # merge reads, index task reads, readers' index + groups
        extra_parts = g * (int(np.ceil(group_bytes / PART)) + 2 - 1) if group_bytes > PART else 0
        puts = max(requests - gets, 0.0) + extra_parts
        rows_per_dest = max(run / BYTES_PER_ROW / p, 1e-3)
        counts_meta = len(encode_counts(np.random.default_rng(0).poisson(rows_per_dest, p)))
        meta = p * 16 * g + g * 8 * (p + 1) + w * counts_meta
        read = 2 * total + meta  # every byte twice (merge, reader) plus metadata
        out.append({"shuffle": name, "writers": w, "groups": g, "runs_per_group": groups[0][1] - groups[0][0],
                    "requests": gets + puts, "gets": gets, "puts": puts, "read": read, "meta": meta,
                    "median": _median_read([(run, w), (total / (p * g), p * g)]),
                    "dollars": gets * GET_PRICE + puts * PUT_PRICE})
    return out


def _gib(x: float) -> str:
    return f"{x / 2**30:,.1f}"


def section(results: list[dict[str, Any]], before: list[dict[str, Any]], coef: np.ndarray) -> str:
    import curate

    measured_rows = [r for m in results for r in phase_rows(m)]
    shuffle_rows = []
    worst = 0.0
    for m in results:
        for name, sh in m["shuffles"].items():
            fitted = float(np.dot(coef, features(sh["writers"], sh["partitions"], sh["groups"])))
            worst = max(worst, abs(fitted - sh["requests"]) / max(sh["requests"], 1))
            shuffle_rows.append([f"{m['shards']} x {m['partitions']}", name, sh["writers"], sh["groups"],
                                 f"{sh['bytes'] / 2**20:.2f}", f"{sh['requests']:,}", f"{fitted:,.0f}"])
    big = max(results, key=lambda m: m["docs"])
    model = dump_model(coef, big)
    model_rows = [[r["shuffle"], f"{r['writers']:,}", r["groups"], r["runs_per_group"], f"{r['requests']:,.0f}",
                   _gib(r["read"]), f"{100 * r['meta'] / r['read']:.3f}%", f"{r['median'] / 2**20:.2f}",
                   f"${r['dollars']:,.2f}"] for r in model]
    total_req = sum(r["requests"] for r in model)
    total_usd = sum(r["dollars"] for r in model)
    compare = []
    for b in before:
        same = next((m for m in results if (m["shards"], m["partitions"]) == (b["shards"], b["partitions"])), None)
        if same is not None:
            compare.append([f"{b['shards']} x {b['partitions']}", f"{rc.requests(totals(b)):,}",
                            f"{rc.requests(totals(same)):,}", f"{totals(b).get('get_bytes', 0) / 2**20:,.1f}",
                            f"{totals(same).get('get_bytes', 0) / 2**20:,.1f}"])
    a, b_, c, d, e = coef
    parts = [
        "## Dedup object-store requests per phase, and one Common Crawl dump",
        f"curate {curate.__version__}; backend {results[0]['backend']} (SeaweedFS on loopback for `s3`); "
        f"`minhash` prepare over {results[0]['docs'] // results[0]['shards']} short synthetic documents per shard "
        f"(15% copies and near-copies), tasks in a 2-process pool; `shuffle_read` = {results[0]['shuffle_read']:,} "
        "bytes so that the small shuffles still form several groups (the default is 1 MiB). Requests are counted "
        "by the `counting::` fsspec wrapper (`curate/storage/request_counter.py`) at the fsspec API, one per "
        "object-store request (GET, HEAD, LIST, PUT, multipart part, DELETE batch), attributed to the phase of "
        "the task that made them; metadata = reads of index, offsets and marker files (Parquet footers for the "
        "old layout). Median read: payload reads only.",
        md_table(HEADERS, measured_rows),
    ]
    if compare:
        parts += ["Before (main before this change: every reader opened every writer's Parquet file, footer + "
                  "row group) and after, same corpus, same backend:",
                  md_table(["shards x partitions", "requests before", "requests after", "MiB read before",
                            "MiB read after"], compare)]
    parts += [
        "Per shuffle (all its objects: runs, group files, offsets, index, markers), measured and as fitted by the "
        f"model `requests = a*W + b*P + c*P*G + d*G + e` (W writers, P partitions, G group files), non-negative "
        f"least squares of the relative error over both scales: a = {a:.2f}, b = {b_:.2f}, c = {c:.2f}, d = {d:.2f}, e = {e:.1f} (worst relative error "
        f"{100 * worst:.0f}%).",
        md_table(["shards x partitions", "shuffle", "writers W", "groups G", "run MiB", "requests", "fitted"],
                 shuffle_rows),
        f"### The model at one dump: {DUMP['shards']:,} shards, {DUMP['partitions']:,} key partitions "
        f"({DUMP_NODE_PARTITIONS:,} node partitions for the components: 2M documents each), "
        f"{DUMP['docs']:.0e} documents",
        "Bytes of each shuffle scaled from the largest measurement by documents; groups from the default plan "
        "(`plan_groups`: a group closes at 1 MiB x P bytes); requests from the fitted coefficients, plus the "
        "multipart parts of group files larger than 64 MiB; reads = every byte twice (the merge task's whole-run "
        "read, the reader's ranged read) plus metadata (index rows, offsets, the counts inside each run). "
        "Components phases as many as this corpus needed (rounds grow with the graph: each round is a "
        "`large`/`small` pair). S3 Standard prices: GET $0.0004 and PUT/LIST $0.005 per 1,000 requests "
        "(aws.amazon.com/s3/pricing, US East).",
        md_table(["shuffle", "writers", "groups", "runs per group", "requests", "GiB read", "metadata / read",
                  "median read MiB", "S3 requests $"], model_rows),
        f"All phases of one dump: {total_req:,.0f} requests, ${total_usd:,.2f} of S3 requests. The same dump with "
        f"every reader opening every writer's file: {DUMP['shards'] * DUMP['partitions']:,} reads for the keys "
        f"shuffle alone (${DUMP['shards'] * DUMP['partitions'] * GET_PRICE:,.0f}), each of "
        f"~{2 * model[0]['read'] / 2 / (DUMP['shards'] * DUMP['partitions']) / 1024:,.1f} KiB, plus a footer read "
        "per open.",
        "Command: `.venv/bin/python benchmarks/dedup_requests.py` (both scales on SeaweedFS; `--backend memory` "
        "gives the same counts faster).",
    ]
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", nargs="*", default=["256x64", "1024x256"])
    parser.add_argument("--docs", type=int, default=100, help="documents per shard")
    parser.add_argument("--backend", choices=["s3", "memory"], default="s3")
    parser.add_argument("--shuffle-read", type=int, default=8192)
    parser.add_argument("--label", default="current")
    parser.add_argument("--before", default="before-main", help="label of an earlier measurement to compare")
    parser.add_argument("--reuse", action="store_true", help="the section from the last measurement of --label")
    args = parser.parse_args()
    if args.reuse:
        results = json.loads((ROOT / f"{args.label}.json").read_text())
        before_path = ROOT / f"{args.before}.json"
        md = section(results, json.loads(before_path.read_text()) if before_path.exists() else [], fit(results))
        print(md)
        write_section("dedup_requests", md)
        return
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
            m = measure(s, p, args.docs, args.backend, args.shuffle_read)
            results.append(m)
            t = totals(m)
            print(f"{scale}: {rc.requests(t):,} requests, {t.get('get_bytes', 0) / 2**20:.1f} MiB read, "
                  f"wall {m['wall_s']:.0f} s", flush=True)
    finally:
        if store is not None:
            store.stop()
    ROOT.mkdir(parents=True, exist_ok=True)
    (ROOT / f"{args.label}.json").write_text(json.dumps(results, indent=1))
    before_path = ROOT / f"{args.before}.json"
    before = json.loads(before_path.read_text()) if before_path.exists() and args.before != args.label else []
    coef = fit(results)
    md = section(results, before, coef)
    print(md)
    if args.label == "current":
        write_section("dedup_requests", md)


if __name__ == "__main__":
    main()
