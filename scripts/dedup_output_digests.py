"""Output digests of the dedup steps and of the shipped pipelines: proof that a refactor changed no byte.

Prints (and with ``--save FILE`` writes, with ``--check FILE`` compares against) a JSON map
``configuration -> sha256`` of:

- the ``minhash`` and ``exact_dedup`` steps alone (prepare + process of every shard, as the runner does),
  over real text: the cs336 dedup fixtures plus news articles of the shared data with near and exact copies,
  for 1 and 5 shards, 1 and 4 partitions and both keep rules: the per-shard output table (with its keep
  flags and reasons) as Parquet bytes, and the step's statistics (``job.stats``, wall-clock entries removed);
- ``pipelines/quickstart.yaml`` and ``pipelines/fineweb2.yaml`` and a FineWeb2-order pipeline over four real
  WARCs (``minhash: {partitions: 3}``): every Parquet file of the output and ``_stats/stats.json``.

Run: ``.venv/bin/python scripts/dedup_output_digests.py --save /tmp/before.json`` before a change,
``--check /tmp/before.json`` after it (exit status 1 and the differing configurations when any differs).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
SHARED = Path(os.environ.get("CURATE_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()


def corpus() -> pa.Table:
    rows = []
    root = SHARED / "dedup" / "cs336_fixtures"
    for folder in ("documents_with_fuzzy_duplicates", "documents_with_line_duplicates"):
        for f in sorted((root / folder).iterdir()):
            rows.append({"id": f"{folder}/{f.name}", "text": f.read_text(encoding="utf-8"), "lang": "eng_Latn"})
    rng = random.Random(11)
    with open(SHARED / "extraction" / "scrapinghub_aeb_gold.jsonl", encoding="utf-8") as f:
        arts = [json.loads(line)["articleBody"] for line in f]
    for i, text in enumerate(arts):
        lang = "eng_Latn" if i % 5 else "deu_Latn"  # two languages: the per-language scope shows
        rows.append({"id": f"z{i:03d}", "text": text, "lang": lang})
        for c in range(i % 4):
            words = text.split()
            for _ in range(c * (i % 7)):
                if words:
                    words[rng.randrange(len(words))] = f"edit{rng.randrange(10**6)}"
            rows.append({"id": f"c{i:03d}-{c}-{rng.randrange(100)}", "text": " ".join(words), "lang": lang})
    rng.shuffle(rows)
    return pa.Table.from_pylist(rows)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _no_timing(value: Any) -> Any:
    from curate.stats.run_stats import split_timing

    return split_timing(value)[0]


def step_digests(tmp: Path) -> dict[str, str]:
    from dedup_harness import run_step, split_table, write_shards

    from curate.dedup import ExactDedup, MinHashDedup

    tbl = corpus()
    out: dict[str, str] = {}
    for n_shards in (1, 5):
        shards = write_shards(split_table(tbl, n_shards), tmp / f"in{n_shards}")
        for kind in ("minhash", "exact_dedup"):
            for partitions in (1, 4):
                for keep in ("first_id", "first_index"):
                    step = (MinHashDedup(partitions=partitions, keep=keep) if kind == "minhash"
                            else ExactDedup(partitions=partitions, keep=keep, normalize=True))
                    name = f"step:{kind}:shards={n_shards}:partitions={partitions}:keep={keep}"
                    outputs, stats = run_step(step, shards, tmp / name.replace(":", "_"))
                    h = hashlib.sha256()
                    for sid in sorted(outputs):
                        res = outputs[sid]
                        t = res.table.append_column("_keep", pa.array(res.keep)).append_column(
                            "_reason", pa.array(res.reasons, pa.string()))
                        sink = io.BytesIO()
                        pq.write_table(t, sink)
                        h.update(sid.encode() + sink.getvalue())
                    out[name + ":outputs"] = h.hexdigest()
                    out[name + ":stats"] = _sha(json.dumps(_no_timing(stats), sort_keys=True).encode())
    return out


def pipeline_digests(tmp: Path) -> dict[str, str]:
    from pipeline_helpers import parquet_digests, write_pipeline

    from curate import run
    from curate.config.pipeline_config import load_pipeline
    from curate.executors.local import LocalExecutor

    warcs = [str(SHARED / "warc" / n) for n in ("cc-main-2020-34-multilingual.warc.gz", "wget-crawl-sample-0000.warc.gz",
                                               "wget-crawl-sample-0001.warc.gz", "cc-main-2024-22-whirlwind.warc.gz")]
    steps = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"language_score": {}},
             {"minhash": {"partitions": 3}}, {"gopher_repetition": {}}, {"gopher_quality": {}}]
    configs = {"quickstart": REPO / "pipelines" / "quickstart.yaml", "fineweb2": REPO / "pipelines" / "fineweb2.yaml",
               "warcs": write_pipeline(tmp / "warcs.yaml", warcs, tmp / "unused", steps)}
    out: dict[str, str] = {}
    for name, cfg in configs.items():
        target = tmp / f"out-{name}"
        executor = LocalExecutor(workers=2, progress=False)
        try:
            run(load_pipeline(str(cfg)), output=str(target), executor=executor)
        finally:
            executor.close()
        for rel, digest in parquet_digests(target).items():
            out[f"pipeline:{name}:{rel}"] = digest
        out[f"pipeline:{name}:_stats/stats.json"] = _sha((target / "_stats" / "stats.json").read_bytes())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--save", type=Path)
    parser.add_argument("--check", type=Path)
    parser.add_argument("--steps-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dedup-digests-") as tmp:
        digests = step_digests(Path(tmp))
        if not args.steps_only:
            digests.update(pipeline_digests(Path(tmp)))
    text = json.dumps(digests, indent=1, sort_keys=True)
    print(text)
    if args.save:
        args.save.write_text(text)
    if args.check:
        want = json.loads(args.check.read_text())
        keys = set(want) if not args.steps_only else {k for k in want if k.startswith("step:")}
        differ = sorted(k for k in keys | set(digests) if want.get(k) != digests.get(k))
        print(f"{len(keys) - len(differ)} of {len(keys)} digests equal", file=sys.stderr)
        if differ:
            print("differ:\n  " + "\n  ".join(differ), file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
