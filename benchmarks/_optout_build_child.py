"""One ``curate optout build`` in a fresh process, measured; run by optout_cost.py (this tree, or an older tree of
curate put first on PYTHONPATH, for the before/after rows).

    .venv/bin/python benchmarks/_optout_build_child.py --agents ai --out T.parquet --workers 2 INPUT...

Prints one JSON line: CPU seconds of the build (this process and its workers), wall seconds, the driver's peak
RSS and the largest worker's (``getrusage``: ``ru_maxrss`` of this process, and of its largest finished child),
the hosts and captures of the table, and which curate ran.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import curate
from curate.cli.optout_command import build_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--agents", default="ai")
    parser.add_argument("--out", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--partitions", type=int, help="(after only) instead of the default from the input sizes")
    args = parser.parse_args()
    extra = {"partitions": args.partitions} if args.partitions else {}
    c0 = time.process_time()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    summary = build_table(args.inputs, args.agents, args.out, workers=args.workers, **extra)
    wall = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - c0 + (children.ru_utime + children.ru_stime) - (children0.ru_utime + children0.ru_stime)
    print(json.dumps({
        "cpu_s": cpu, "wall_s": wall, "driver_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_rss_mb": children.ru_maxrss / 1024, "hosts": summary["hosts"], "captures": summary["captures"],
        "partitions": summary.get("partitions", 1), "curate": curate.__file__,
    }))


if __name__ == "__main__":
    main()
