"""datatrove's side of fineweb2_end_to_end.py: the FineWeb2 recipe as huggingface/fineweb-2 builds it, timed per step.

    benchmarks/.venv-datatrove/bin/python benchmarks/_datatrove_fineweb2.py --input-dir DIR --work-dir DIR \
        --model lid.176.ftz --assets-cache DIR --configs CONFIGS.json [--warm-langs eng_Latn,deu_Latn]

Runs in the reference venv and never imports curate. Steps (fineweb-2's ``fineweb-2-pipeline.py``: extraction and
language ID, then per language the three quality filters with that language's config, then MinHash in four
stages, then the writer), all ``LocalPipelineExecutor(tasks=1, workers=1)``:

1. WarcReader -> Trafilatura(favour_precision, deduplicate) -> LanguageFilter (lid.176, threshold 0: every
   language kept with its score) -> per language: language_score >= the config's threshold,
   GopherRepetitionFilter, FineWebQualityFilter, GopherQualityFilter (built as ``_filters_datatrove.build``)
   -> JsonlWriter into one folder per language;
2. per language: JsonlReader -> MinhashDedupSignature (FineWeb2 MinhashConfig, the language's word tokenizer);
   MinhashDedupBuckets (tasks=14, one per bucket, the fewest it accepts, run one after the other);
   MinhashDedupCluster; JsonlReader -> MinhashDedupFilter -> ParquetWriter.

fineweb-2 runs one language filtering pipeline per language over the language ID output; here one step hands
each document to its language's filters in the same process (same filter objects and calls, no re-reading).
Per-step CPU: ``time.process_time`` inside the reader, LanguageFilter.filter, each quality filter and the
writer; extraction runs in datatrove's sandbox subprocess, so it is that child's CPU (``RUSAGE_CHILDREN``,
counted when the sandbox is reaped at the end of the stage). The quality filters' word tokenizers are loaded
before the timed run (``--warm-langs``); the MinHash signature stages load their own inside the stage (datatrove
deep-copies each stage's steps, and a loaded jieba cannot be copied), as fineweb-2's separate dedup jobs do. Prints one JSON line; kept ids per language go
to ``WORK/kept.json``.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import resource
import sys
import time
from collections import defaultdict

PH: dict[str, float] = defaultdict(float)
FILTERS = ("gopher_repetition", "fineweb_quality", "gopher_quality")


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def kids_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:  # noqa: PLR0915 - one linear script
    ap = argparse.ArgumentParser()
    ap.add_argument("--input-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--assets-cache", required=True)
    ap.add_argument("--configs", required=True, help="JSON: lid.176 label -> {key, config}")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--warm-langs", default="", help="keys whose word tokenizers to load before timing")
    args = ap.parse_args()
    os.environ["HF_ASSETS_CACHE"] = args.assets_cache
    logging.disable(logging.WARNING)

    import pyarrow.parquet as pq
    import trafilatura
    from _datatrove_minhash import minhash_config
    from _filters_datatrove import _patch_kiwi, build
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import LanguageFilter
    from datatrove.pipeline.filters.base_filter import BaseFilter
    from datatrove.pipeline.readers import JsonlReader, WarcReader
    from datatrove.pipeline.writers import JsonlWriter, ParquetWriter
    from datatrove.utils.lid import FT176LID
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    FT176LID.MODEL_URL = os.path.abspath(args.model)
    _patch_kiwi()
    configs = json.load(open(args.configs, encoding="utf-8"))
    by_key = {v["key"]: v["config"] for v in configs.values()}
    filters: dict[str, list] = {}

    # set-up outside the timed stages, as curate's side does: each language's word tokenizer
    c0 = own_cpu()
    for key in filter(None, args.warm_langs.split(",")):
        if key in by_key:
            load_word_tokenizer(key).word_tokenize("warm up the tokenizer")  # what the filters call
            filters[key] = build(key, by_key[key])
    warm_s = own_cpu() - c0

    class TimedWarcReader(WarcReader):
        def read_file(self, filepath: str):  # noqa: ANN202 - datatrove's generator
            it = super().read_file(filepath)
            while True:
                t0 = time.process_time()
                try:
                    doc = next(it)
                except StopIteration:
                    return
                finally:
                    PH["read"] += time.process_time() - t0
                yield doc

    class TimedLanguageFilter(LanguageFilter):
        def filter(self, doc):  # noqa: ANN001, ANN202
            t0 = time.process_time()
            try:
                return super().filter(doc)
            finally:
                PH["langid"] += time.process_time() - t0

    class FineWeb2Filters(BaseFilter):
        """The language's threshold and three quality filters (fineweb-2 pipeline, filtering step)."""

        name = "FineWeb2 per-language filters"

        def filter(self, doc):  # noqa: ANN001, ANN202
            entry = configs.get(doc.metadata.get("language"))
            if entry is None:
                return False, "no_config"
            key = entry["key"]
            doc.metadata["fw2_key"] = key
            t0 = time.process_time()
            ok = doc.metadata["language_score"] >= entry["config"]["language_score"]
            PH["language_score"] += time.process_time() - t0
            if not ok:
                return False, "language_score"
            if key not in filters:
                filters[key] = build(key, entry["config"])
            for name, f in zip(FILTERS, filters[key], strict=True):
                t0 = time.process_time()
                res = f.filter(doc)
                PH[name] += time.process_time() - t0
                if res is False or (isinstance(res, tuple) and not res[0]):
                    return False, name
            return True

    class TimedJsonlWriter(JsonlWriter):
        def write(self, document, rank: int = 0, **kwargs):  # noqa: ANN001, ANN202
            t0 = time.process_time()
            try:
                return super().write(document, rank, **kwargs)
            finally:
                PH["write"] += time.process_time() - t0

    class TimedParquetWriter(ParquetWriter):
        def write(self, document, rank: int = 0, **kwargs):  # noqa: ANN001, ANN202
            t0 = time.process_time()
            try:
                return super().write(document, rank, **kwargs)
            finally:
                PH["write_final"] += time.process_time() - t0

    work = args.work_dir
    filtered = os.path.join(work, "filtered")
    load = [os.getloadavg()[0]]
    t_start, own0, kids0 = time.perf_counter(), own_cpu(), kids_cpu()
    LocalPipelineExecutor(
        pipeline=[
            TimedWarcReader(args.input_dir, glob_pattern="*.warc*"),
            Trafilatura(favour_precision=True, timeout=args.timeout, deduplicate=True),
            TimedLanguageFilter(language_threshold=0.0),
            FineWeb2Filters(),
            TimedJsonlWriter(filtered, output_filename="${fw2_key}/${rank}.jsonl.gz"),
        ],
        tasks=1, workers=1, logging_dir=os.path.join(work, "logs", "filter"), skip_completed=False,
    ).run()
    own1, kids1 = own_cpu(), kids_cpu()
    PH["extract"] += kids1 - kids0  # the sandbox subprocess
    stage1_other = (own1 - own0) - sum(PH[k] for k in ("read", "langid", "language_score", "write", *FILTERS))
    with open(os.path.join(work, "logs", "filter", "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    counters = {s["name"]: {k: (v if isinstance(v, int | float) else v.get("total"))
                            for k, v in s.get("stats", {}).items()} for s in stats}

    cfg = minhash_config()
    m_own0, m_kids0 = own_cpu(), kids_cpu()
    kept: dict[str, list[str]] = {}
    for lang_dir in sorted(glob.glob(os.path.join(filtered, "*"))):
        key = os.path.basename(lang_dir)
        base = os.path.join(work, "minhash", key)
        sigs, buckets, remove = (os.path.join(base, d) for d in ("signatures", "buckets", "remove_ids"))
        final = os.path.join(work, "final", key)
        # LocalPipelineExecutor deep-copies each stage's steps, which fails on some loaded tokenizers (jieba's):
        # the signature stage gets a fresh one from an empty cache and loads it inside the stage, as
        # fineweb-2's separate dedup jobs do
        load_word_tokenizer.cache_clear()
        stages = [
            (1, [JsonlReader(lang_dir), MinhashDedupSignature(output_folder=sigs, config=cfg, language=key)]),
            (cfg.num_buckets, [MinhashDedupBuckets(input_folder=sigs, output_folder=buckets, config=cfg)]),
            (1, [MinhashDedupCluster(input_folder=buckets, output_folder=remove, config=cfg)]),
            (1, [JsonlReader(lang_dir), MinhashDedupFilter(input_folder=remove),
                 TimedParquetWriter(final, compression="zstd")]),
        ]
        for i, (tasks, pipeline) in enumerate(stages):
            LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, skip_completed=False,
                                  logging_dir=os.path.join(base, "logs", str(i))).run()
        kept[key] = [i for p in sorted(glob.glob(os.path.join(final, "*.parquet")))
                     for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()]
    m_cpu = (own_cpu() - m_own0) + (kids_cpu() - m_kids0)
    wall = time.perf_counter() - t_start
    cpu = (own_cpu() - own0) + (kids_cpu() - kids0)
    PH["minhash"] = m_cpu - PH["write_final"]  # the four stages, less the final writer
    PH["write"] += PH.pop("write_final")
    load.append(os.getloadavg()[0])
    json.dump(kept, open(os.path.join(work, "kept.json"), "w", encoding="utf-8"))
    print(json.dumps({
        "trafilatura": trafilatura.__version__, "wall_s": wall, "cpu_s": cpu, "warm_cpu_s": warm_s,
        "phases_cpu": dict(PH), "stage1_other_cpu_s": stage1_other, "load1": load,
        "peak_rss_mb": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024,
        "counters": counters,
        "docs_in": int(next((v.get("total", 0) for k, v in counters.items() if "Trafilatura" in k), 0) or 0),
        "written": sum(len(v) for v in kept.values()),
    }))


if __name__ == "__main__":
    sys.exit(main())
