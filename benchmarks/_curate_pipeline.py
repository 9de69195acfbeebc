"""curate's read -> extract -> langid -> language_score -> write pipeline, timed; run by throughput.py.

    .venv/bin/python benchmarks/_curate_pipeline.py --engine trafilatura --input-dir DIR --output-dir DIR

One core: ``run(..., workers=1)`` runs the shard tasks in this process, one after the other.
Prints one JSON line: seconds of imports (start-up), of ``run_pipeline`` (wall), where that time went
(reader, each block, Parquet writing; measured by wrapping those calls), and the run's counters.
"""

from __future__ import annotations

import argparse
import json
import os
import time

T_START = time.perf_counter()  # before the imports below: start-up is measured

from _phase_timers import PHASES, PHASES_CPU, children_cpu_seconds, cpu_seconds, timed, timed_iter  # noqa: E402

from curate import run  # noqa: E402
from curate.blocks.base import Block  # noqa: E402
from curate.config.pipeline_config import parse_pipeline  # noqa: E402
from curate.extract.extract_block import Extract  # noqa: E402
from curate.extract.extraction_process import extraction_process  # noqa: E402
from curate.filters.language_score import LanguageScoreFilter  # noqa: E402
from curate.io.parquet_output import ParquetOutput  # noqa: E402
from curate.io.warc_reader import WarcReader  # noqa: E402
from curate.langid.langid_block import LanguageId  # noqa: E402


def instrument() -> None:
    WarcReader.read = timed_iter("read", WarcReader.read)  # type: ignore[method-assign]
    blocks: dict[str, type[Block]] = {"extract": Extract, "langid": LanguageId, "language_score": LanguageScoreFilter}
    for phase, cls in blocks.items():
        cls.process = timed(phase, cls.process)  # type: ignore[method-assign]
    ParquetOutput.add = timed("write", ParquetOutput.add)  # type: ignore[method-assign]
    ParquetOutput.close = timed("write", ParquetOutput.close)  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["trafilatura", "resiliparse"], required=True)
    parser.add_argument("--input-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--no-instrument", action="store_true", help="skip the per-phase timers")
    args = parser.parse_args()
    if not args.no_instrument:
        instrument()
    config = parse_pipeline(f"""
name: throughput-{args.engine}
input: {{paths: ["{args.input_dir}/*.warc.gz"]}}
output: {args.output_dir}
pipeline:
  - extract: {{engine: {args.engine}}}
  - langid: {{}}
  - language_score: {{}}
""")
    t_ready = time.perf_counter()
    c0, t0, kids0 = cpu_seconds(), time.perf_counter(), children_cpu_seconds()
    result = run(config, output=args.output_dir, workers=1, overwrite=True)
    # extraction runs in a persistent child process (curate.extract.extraction_process): stop it now, so that
    # its CPU time is counted (a child's rusage reaches its parent when it is reaped)
    extraction_process(args.engine, Extract().timeout).close()
    PHASES_CPU["extract"] += children_cpu_seconds() - kids0
    run_s, cpu_s = time.perf_counter() - t0, cpu_seconds() - c0
    stats = result.stats
    steps = {s["name"]: {k: sum(v[k] for v in s["langs"].values()) for k in ("in", "out")} for s in stats["steps"]}
    print(json.dumps({
        "startup_s": t_ready - T_START,
        "run_s": run_s,
        "cpu_s": cpu_s,
        "load1": os.getloadavg()[0],
        "phases": dict(PHASES),
        "phases_cpu": dict(PHASES_CPU),
        "read": {"records": stats["read"]["records"], "emitted": stats["read"]["emitted"],
                 "errored": stats["read"]["errored"]},
        "steps": steps,
        "written": sum(v["documents"] for v in stats["output"].values()),
    }))


if __name__ == "__main__":
    main()
