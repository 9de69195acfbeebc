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
import resource
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

T_START = time.perf_counter()


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children (datatrove's extraction sandbox)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

from curate import run  # noqa: E402
from curate.blocks.base import Block  # noqa: E402
from curate.config.pipeline_config import parse_pipeline  # noqa: E402
from curate.extract.extract_block import Extract  # noqa: E402
from curate.filters.language_score import LanguageScoreFilter  # noqa: E402
from curate.io.parquet_output import ParquetOutput  # noqa: E402
from curate.io.warc_reader import WarcReader  # noqa: E402
from curate.langid.langid_block import LanguageId  # noqa: E402

PHASES: dict[str, float] = defaultdict(float)  # wall seconds per phase
PHASES_CPU: dict[str, float] = defaultdict(float)  # CPU seconds of this process per phase


def _timed(phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES[phase] += time.perf_counter() - t0
            PHASES_CPU[phase] += time.process_time() - c0

    return wrapper


def _timed_iter(phase: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Time spent inside a generator (the reader), not in what consumes it."""

    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = fn(*args, **kwargs)
        while True:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                PHASES[phase] += time.perf_counter() - t0
                PHASES_CPU[phase] += time.process_time() - c0
            yield item

    return wrapper


def instrument() -> None:
    WarcReader.read = _timed_iter("read", WarcReader.read)  # type: ignore[method-assign]
    blocks: dict[str, type[Block]] = {"extract": Extract, "langid": LanguageId, "language_score": LanguageScoreFilter}
    for phase, cls in blocks.items():
        cls.process = _timed(phase, cls.process)  # type: ignore[method-assign]
    ParquetOutput.add = _timed("write", ParquetOutput.add)  # type: ignore[method-assign]
    ParquetOutput.close = _timed("write", ParquetOutput.close)  # type: ignore[method-assign]


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
    c0, t0 = cpu_seconds(), time.perf_counter()
    result = run(config, output=args.output_dir, workers=1, overwrite=True)
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
