"""datatrove's four MinHash stages (FineWeb2 settings), each timed; run by dedup_speed.py in the reference venv.

    benchmarks/.venv-datatrove/bin/python benchmarks/_datatrove_minhash.py --input-dir DIR --work-dir DIR
    benchmarks/.venv-datatrove/bin/python benchmarks/_datatrove_minhash.py --input-dir DIR --breakdown 5000

Configuration (datatrove/pipeline/dedup/minhash.py, as FineWeb2 runs it): ``MinhashConfig(n_grams=5,
num_buckets=14, hashes_per_bucket=8, seed=1, hash_config=HashConfig(precision=64))`` (xxhash64 shingles,
64-bit signature values), ``language=Languages.english`` (the word tokenizer datatrove assigns to English:
``SpaCyTokenizer("en")``, i.e. ``spacy.blank("en")`` + sentencizer).

Stages, each a ``LocalPipelineExecutor(workers=1)`` run in this process, one after the other:

1. signature: JsonlReader -> MinhashDedupSignature                                   tasks=1
2. buckets:   MinhashDedupBuckets                                                   tasks=14 (*)
3. cluster:   MinhashDedupCluster(save_cluster_id=True, save_cluster_size=True)     tasks=1
4. filter:    JsonlReader -> MinhashDedupFilter(load_cluster_ids=True, load_cluster_sizes=True)  tasks=1

(*) MinhashDedupBuckets asserts ``world_size % num_buckets == 0``: one task per bucket is the fewest it
accepts. With workers=1 the 14 tasks run one after the other in this process, so it is still one core.

Nothing is written after the filter (curate's ``process`` returns the table and a keep mask; neither side
writes the deduplicated corpus). Wall time and CPU time (this process plus its finished children, e.g.
the multiprocess Manager the executor starts) are measured per stage; imports are outside the stages.

``--breakdown N``: no pipeline; on the first N documents, time ``get_shingles`` (normalise + spaCy +
xxhash64) and ``get_signature`` (112 permutations) apart, in this process (CPU seconds).

Prints one JSON line.
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
    """User + system CPU time of this process and of its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def minhash_config():  # noqa: ANN201 - datatrove type, imported lazily
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig

    return MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, seed=1,
                         hash_config=HashConfig(precision=64))


def stage_counters(logging_dir: str) -> dict[str, dict[str, object]]:
    with open(os.path.join(logging_dir, "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    out: dict[str, dict[str, object]] = {}
    for step in stats:
        out[step["name"]] = {k: (v if isinstance(v, int | float) else v.get("total"))
                             for k, v in step.get("stats", {}).items()}
    return out


def run_stages(input_dir: str, work_dir: str) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.utils.typeshelper import Languages

    t_imported = time.perf_counter()
    cfg = minhash_config()
    sigs, buckets, remove = (os.path.join(work_dir, d) for d in ("signatures", "buckets", "remove_ids"))
    stages = [
        ("signature", 1, [JsonlReader(input_dir, glob_pattern="*.jsonl"),
                          MinhashDedupSignature(output_folder=sigs, config=cfg, language=Languages.english)]),
        ("buckets", cfg.num_buckets, [MinhashDedupBuckets(input_folder=sigs, output_folder=buckets, config=cfg)]),
        ("cluster", 1, [MinhashDedupCluster(input_folder=buckets, output_folder=remove, config=cfg,
                                            save_cluster_id=True, save_cluster_size=True)]),
        ("filter", 1, [JsonlReader(input_dir, glob_pattern="*.jsonl"),
                       MinhashDedupFilter(input_folder=remove, load_cluster_ids=True, load_cluster_sizes=True)]),
    ]
    result: dict = {"startup_s": t_imported - T_START, "stages": {}, "counters": {}}
    for name, tasks, pipeline in stages:
        logs = os.path.join(work_dir, "logs", name)
        executor = LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=logs,
                                         skip_completed=False)
        load = os.getloadavg()[0]
        c0, t0 = cpu_seconds(), time.perf_counter()
        executor.run()
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        result["stages"][name] = {"wall_s": wall, "cpu_s": cpu, "tasks": tasks, "load1_before": load}
        result["counters"][name] = stage_counters(logs)
    result["load1"] = os.getloadavg()[0]
    return result


def breakdown(input_dir: str, n: int) -> dict:
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.utils.typeshelper import Languages

    texts: list[str] = []
    for name in sorted(os.listdir(input_dir)):
        if name.endswith(".jsonl") and len(texts) < n:
            with open(os.path.join(input_dir, name), encoding="utf-8") as f:
                texts.extend(json.loads(line)["text"] for line in f)
    texts = texts[:n]
    sig = MinhashDedupSignature(output_folder="/tmp/unused-dt-minhash", config=minhash_config(),
                                language=Languages.english)
    sig.get_shingles(texts[0])  # loads spaCy
    c0 = time.process_time()
    shingles = [sig.get_shingles(t) for t in texts]
    c1 = time.process_time()
    for s in shingles:
        if s.size:
            sig.get_signature(s)
    c2 = time.process_time()
    return {"docs": len(texts), "shingle_cpu_s": c1 - c0, "signature_cpu_s": c2 - c1,
            "shingles": int(sum(s.size for s in shingles)), "load1": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir", required=True, help="folder of *.jsonl files (id, text)")
    parser.add_argument("--work-dir", help="datatrove's signatures, buckets, remove_ids and logs")
    parser.add_argument("--breakdown", type=int, default=0, help="time shingles/signatures of N documents")
    args = parser.parse_args()
    if args.breakdown:
        print(json.dumps(breakdown(args.input_dir, args.breakdown)))
        return
    if not args.work_dir:
        parser.error("--work-dir is required")
    print(json.dumps(run_stages(args.input_dir, args.work_dir)))


if __name__ == "__main__":
    sys.exit(main())
