"""curate's FineWeb2 recipe, timed per step; run by fineweb2_end_to_end.py (a fresh process per run).

    .venv/bin/python benchmarks/_curate_fineweb2.py --engine trafilatura --input-dir DIR --output-dir DIR

Pipeline (FineWeb2's order): WARC reader -> extract -> langid (lid.176.ftz) -> language_score -> gopher_repetition
-> fineweb_quality -> gopher_quality -> minhash -> Parquet per language; ``workers=1`` (everything in this
process), removed rows not written (datatrove's pipeline does not write them either).

Per-step CPU: ``time.process_time`` inside the reader, each block's ``process`` (for extract, plus the CPU of
curate's extraction child process, counted when it is stopped at the end), the MinHash step's
``prepare`` and ``process``, and the Parquet writer; *runner* is the rest of the pipeline call (the row loop,
counters, stage hand-over, markers). The word tokenizers of ``--warm-langs`` are loaded before the timed run
(as on datatrove's side). Prints one JSON line, then the kept ids per language go to
``OUTPUT/kept.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import pyarrow.parquet as pq
from _phase_timers import PHASES_CPU, children_cpu_seconds, cpu_seconds, timed, timed_iter

from curate import run
from curate.config.pipeline_config import parse_pipeline
from curate.dedup.step import ClusterDedupStep
from curate.dedup.tokenize import language_tokenizer
from curate.extract.extract_block import Extract
from curate.extract.extraction_process import extraction_process
from curate.filters.fineweb_quality import FineWebQualityFilter
from curate.filters.gopher_quality import GopherQualityFilter
from curate.filters.gopher_repetition import GopherRepetitionFilter
from curate.filters.language_score import LanguageScoreFilter
from curate.io.parquet_output import ParquetOutput
from curate.io.warc_reader import WarcReader
from curate.langid.langid_block import LanguageId

STEPS = ["extract", "langid", "language_score", "gopher_repetition", "fineweb_quality", "gopher_quality", "minhash"]








def instrument() -> None:
    WarcReader.read = timed_iter("read", WarcReader.read)  # type: ignore[method-assign]
    for phase, cls in [("extract", Extract), ("langid", LanguageId), ("language_score", LanguageScoreFilter),
                       ("gopher_repetition", GopherRepetitionFilter), ("fineweb_quality", FineWebQualityFilter),
                       ("gopher_quality", GopherQualityFilter)]:
        cls.process = timed(phase, cls.process)  # type: ignore[method-assign]
    ClusterDedupStep.prepare = timed("minhash", ClusterDedupStep.prepare)  # type: ignore[method-assign]
    ClusterDedupStep.process = timed("minhash", ClusterDedupStep.process)  # type: ignore[method-assign]
    ParquetOutput.add = timed("write", ParquetOutput.add)  # type: ignore[method-assign]
    ParquetOutput.close = timed("write", ParquetOutput.close)  # type: ignore[method-assign]


def kept_ids(out_dir: Path) -> dict[str, list[str]]:
    """Document ids in the final Parquet, per language folder."""
    kept: dict[str, list[str]] = {}
    for path in sorted(out_dir.glob("lang=*/*.parquet")) + sorted(out_dir.glob("*/part-*.parquet")):
        lang = path.parent.name.removeprefix("lang=")
        if lang.startswith("_"):
            continue
        kept.setdefault(lang, []).extend(pq.read_table(path, columns=["id"]).column("id").to_pylist())
    return kept


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["trafilatura", "resiliparse", "balanced"], required=True)
    parser.add_argument("--input-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--warm-langs", default="", help="languages whose word tokenizers to load before timing")
    args = parser.parse_args()
    instrument()
    import trafilatura

    c0 = time.process_time()
    for lang in filter(None, args.warm_langs.split(",")):
        language_tokenizer(lang)("warm up the tokenizer")  # what the filters and MinHash call
    warm_s = time.process_time() - c0

    config = parse_pipeline(f"""
name: fineweb2-e2e-{args.engine}
input: {{paths: ["{args.input_dir}/*.warc.gz"]}}
output: {args.output_dir}
writer: {{write_removed: false}}
pipeline:
  - extract: {{engine: {args.engine}, timeout: {args.timeout}}}
  - langid: {{}}
  - language_score: {{}}
  - gopher_repetition: {{}}
  - fineweb_quality: {{}}
  - gopher_quality: {{}}
  - minhash: {{}}
""")
    load = [os.getloadavg()[0]]
    c0, t0, kids0 = cpu_seconds(), time.perf_counter(), children_cpu_seconds()
    result = run(config, output=args.output_dir, workers=1, overwrite=True)
    # extraction runs in a persistent child process (curate.extract.extraction_process): stop it now, so that
    # its CPU time is counted (a child's rusage reaches its parent when it is reaped)
    extraction_process(args.engine, args.timeout).close()
    PHASES_CPU["extract"] += children_cpu_seconds() - kids0
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    load.append(os.getloadavg()[0])
    stats = result.stats
    steps = {s["name"]: {k: sum(v[k] for v in s["langs"].values()) for k in ("in", "out")} for s in stats["steps"]}
    phases = dict(PHASES_CPU)
    phases["runner"] = max(0.0, cpu - sum(phases.values()))
    out = Path(args.output_dir)
    (out / "kept.json").write_text(json.dumps(kept_ids(out)), encoding="utf-8")
    print(json.dumps({
        "trafilatura": trafilatura.__version__, "trafilatura_path": os.path.dirname(trafilatura.__file__),
        "wall_s": wall, "cpu_s": cpu, "warm_cpu_s": warm_s, "phases_cpu": phases, "load1": load,
        "peak_rss_mb": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024,
        "docs_in": steps["extract"]["in"], "steps": steps,
        "langs": sorted(next(s for s in stats["steps"] if s["name"] == "langid")["langs"]),
        "written": sum(v["documents"] for v in stats["output"].values()),
    }))


if __name__ == "__main__":
    main()
