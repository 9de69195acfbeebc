"""CPU cost of the extraction limits on real pages: a persistent extraction process per worker with a
CPU-time budget per page and the depth/size checks before parsing, against extracting in the worker with
no limit.

    .venv/bin/python benchmarks/extraction_limits.py [--repeats 3]

Pages: the 311 real pages of shared/data/extraction (scrapinghub article-extraction benchmark and
mozilla readability test pages), read once, in batches of 256 as in a run. Each measurement is a fresh
process; it reports CPU seconds (``resource.getrusage`` of itself plus its children, the extraction
process included, its start-up and engine warm-up included) of ``Extract.process`` over all pages, and a
digest of the texts, so that both modes are seen to give the same output. The machine is shared: CPU
time, not wall time. Median of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from _results import REPO, machine_line, md_table, require_shared, write_section

CHILD = r"""
import hashlib, json, resource, sys
from curate.blocks.base import BlockContext
from curate.extract.extract_block import Extract
from curate.extract.extraction_process import _close_all, extraction_process
from curate.extract.html_limits import nesting_depth
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

engine, mode, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
tables = [t for p in paths for t in WarcReader(batch_size=256).read(p, ReadCounts())]
if mode == "startup":
    start = cpu()
    extraction_process(engine, 5.0).start()
    _close_all()
    print(json.dumps({"cpu": cpu() - start, "digest": "", "pages": 0}))
    raise SystemExit
if mode == "scan":
    pages = [h for t in tables for h in t.column("html").cast("binary").to_pylist() if h is not None]
    start = cpu()
    depth = max(nesting_depth(h) for h in pages)
    print(json.dumps({"cpu": cpu() - start, "digest": str(depth), "pages": len(pages)}))
    raise SystemExit
block = Extract(engine=engine, timeout=0, max_depth=0, max_html_bytes=0) if mode == "in-process" \
    else Extract(engine=engine)
start = cpu()
digest, pages = hashlib.sha256(), 0
for i, table in enumerate(tables):
    out = block.process(table, BlockContext(shard=str(i)))
    for text in out.table.column("text").to_pylist():
        digest.update((text or "").encode() + b"\0")
    pages += table.num_rows
_close_all()  # joins the extraction process, so its CPU time is counted in RUSAGE_CHILDREN
print(json.dumps({"cpu": cpu() - start, "digest": digest.hexdigest(), "pages": pages}))
"""

MODES = {"in-process": "in the worker, no limit",
         "process": "extraction process, CPU budget 5 s/page, depth <= 2000, size <= 10 MB"}


def measure(engine: str, mode: str, paths: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", CHILD, engine, mode, *paths], capture_output=True, text=True,
                          env=env, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{engine}/{mode} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    paths = [str(require_shared("extraction", n)) for n in ("scrapinghub_aeb_pages.warc.gz",
                                                           "mozilla_readability_testpages.warc.gz")]
    load = [os.getloadavg()[0]]
    rows = []
    for engine in ("resiliparse", "trafilatura"):
        cpu: dict[str, list[float]] = {m: [] for m in MODES}
        digests: dict[str, set[str]] = {m: set() for m in MODES}
        pages = 0
        startup = statistics.median(measure(engine, "startup", paths)["cpu"] for _ in range(args.repeats))
        for _ in range(args.repeats):
            for mode in MODES:  # interleaved, so a load change hits both
                r = measure(engine, mode, paths)
                cpu[mode].append(r["cpu"])
                digests[mode].add(r["digest"])
                pages = r["pages"]
            load.append(os.getloadavg()[0])
        base = statistics.median(cpu["in-process"])
        same = "yes" if digests["in-process"] == digests["process"] and len(digests["process"]) == 1 else "NO"
        for mode, label in MODES.items():
            value = statistics.median(cpu[mode])
            per_page = value - (startup if mode == "process" else 0.0)
            rows.append([engine, label, pages, f"{value:.2f}", f"{startup:.2f}" if mode == "process" else "",
                         f"{1000 * per_page / pages:.2f}",
                         f"{100 * (per_page - base) / base:+.1f}%" if mode != "in-process" else "", same])
            print(rows[-1], flush=True)
    scan = measure("resiliparse", "scan", paths)
    table = md_table(["engine", "mode", "pages", "CPU s", "of which process start-up (once per worker)",
                      "CPU ms/page without start-up", "overhead per page", "same texts"], rows)
    text = (f"## Extraction limits: overhead on real pages\n\n{machine_line()}; load average during the run "
            f"{min(load):.2f}-{max(load):.2f} (shared machine: CPU time of the worker and its extraction process, "
            f"not wall time). Command: `python benchmarks/extraction_limits.py --repeats {args.repeats}`; median "
            f"of {args.repeats}. Process start-up (spawning the extraction process, importing "
            f"and warming up the engine) is measured apart, in a process that only starts and stops it, and "
            f"taken out of the per-page figures: each worker pays it once per run.\n\n{table}\n\n"
            f"The depth scan alone (one regex pass, before parsing) takes {1000 * scan['cpu'] / scan['pages']:.3f} "
            f"ms of CPU per page on these pages (deepest: {scan['digest']} levels; the limit is 2000).\n")
    print(text)
    write_section("extraction_limits", text)


if __name__ == "__main__":
    main()
