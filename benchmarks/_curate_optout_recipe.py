"""The FineWeb2 recipe with or without ``optout`` + ``domain_cap``, timed per step; run by optout_cost.py.

    .venv/bin/python benchmarks/_curate_optout_recipe.py --input-dir DIR --output-dir DIR [--table T.parquet]

Pipeline: WARC reader -> extract (trafilatura, the recipe's) -> langid -> language_score -> gopher_repetition -> fineweb_quality
-> gopher_quality [-> optout] -> minhash [-> domain_cap] -> Parquet; ``workers=1`` (all in this process and its
extraction child), removed rows not written. Per-step CPU as in ``_curate_fineweb2.py`` (``time.process_time``
inside the reader and each block; extraction includes its child process); the page-signal scan the reader does for
every HTML page (``curate.io.page_signals.page_signals``) is timed inside the reader's. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import pyarrow as pa
from _phase_timers import PHASES_CPU, children_cpu_seconds, cpu_seconds, timed, timed_iter

import curate.io.record_converter as record_converter
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
from curate.optout.domain_cap import DomainCap
from curate.optout.optout_block import OptOut
from curate.optout.url_hosts import registered_domains, url_hosts

ENGINE = "trafilatura"


def instrument() -> None:
    WarcReader.read = timed_iter("read", WarcReader.read)  # type: ignore[method-assign]
    record_converter.page_signals = timed("page_signals", record_converter.page_signals)  # inside "read"
    for phase, cls in [("extract", Extract), ("langid", LanguageId), ("language_score", LanguageScoreFilter),
                       ("gopher_repetition", GopherRepetitionFilter), ("fineweb_quality", FineWebQualityFilter),
                       ("gopher_quality", GopherQualityFilter), ("optout", OptOut)]:
        cls.process = timed(phase, cls.process)  # type: ignore[method-assign]
    ClusterDedupStep.prepare = timed("minhash", ClusterDedupStep.prepare)  # type: ignore[method-assign]
    ClusterDedupStep.process = timed("minhash", ClusterDedupStep.process)  # type: ignore[method-assign]
    DomainCap.prepare = timed("domain_cap", DomainCap.prepare)  # type: ignore[method-assign]
    DomainCap.process = timed("domain_cap", DomainCap.process)  # type: ignore[method-assign]
    ParquetOutput.add = timed("write", ParquetOutput.add)  # type: ignore[method-assign]
    ParquetOutput.close = timed("write", ParquetOutput.close)  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--table", help="an opt-out table: add optout and domain_cap")
    parser.add_argument("--scope", default="host", choices=["host", "path"])
    parser.add_argument("--max-docs", type=int, default=10)
    parser.add_argument("--warm-langs", default="", help="languages whose word tokenizers to load before timing")
    args = parser.parse_args()
    instrument()
    optout = f"  - optout: {{table: {args.table}, agents: ai, scope: {args.scope}}}\n" if args.table else ""
    cap = f"  - domain_cap: {{max_docs: {args.max_docs}, by: registered_domain}}\n" if args.table else ""
    config = parse_pipeline(f"""
name: optout-cost
input: {{paths: ["{args.input_dir}/*.warc.gz"]}}
output: {args.output_dir}
writer: {{write_removed: false}}
pipeline:
  - extract: {{engine: {ENGINE}}}
  - langid: {{}}
  - language_score: {{}}
  - gopher_repetition: {{}}
  - fineweb_quality: {{}}
  - gopher_quality: {{}}
{optout}  - minhash: {{}}
{cap}""")
    for lang in filter(None, args.warm_langs.split(",")):  # word tokenizers loaded before the timed run
        language_tokenizer(lang)("warm up")
    suffix_list_cpu = 0.0
    if args.table:  # the public suffix list (tldextract), loaded once per worker process: timed apart
        c = time.process_time()
        registered_domains(url_hosts(pa.array(["https://www.example.co.uk/"])))
        suffix_list_cpu = time.process_time() - c
    load = [os.getloadavg()[0]]
    c0, t0, kids0 = cpu_seconds(), time.perf_counter(), children_cpu_seconds()
    result = run(config, output=args.output_dir, workers=1, overwrite=True)
    extraction_process(ENGINE, 5.0).close()  # its CPU reaches this process's children rusage when reaped
    PHASES_CPU["extract"] += children_cpu_seconds() - kids0
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    load.append(os.getloadavg()[0])
    phases = dict(PHASES_CPU)
    signals = phases.pop("page_signals", 0.0)
    phases["runner"] = max(0.0, cpu - sum(phases.values()))
    stats = result.stats
    removed = {s["name"]: sum(sum(v["removed"].values()) for v in s["langs"].values()) for s in stats["steps"]}
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "phases_cpu": phases, "page_signals_cpu": signals,
                      "suffix_list_cpu": suffix_list_cpu,
                      "docs_in": stats["read"]["emitted"], "removed": removed, "load1": load,
                      "langs": sorted(next(s for s in stats["steps"] if s["name"] == "langid")["langs"]),
                      "written": sum(v["documents"] for v in stats["output"].values())}))


if __name__ == "__main__":
    main()
