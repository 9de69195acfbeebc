"""Peak memory of one worker against shard size, and the cost of one huge document.

    .venv/bin/python benchmarks/memory_per_shard.py [--sizes 4 16 64] [--baseline-repo PATH]

Each measurement is a fresh process running one JSONL shard through ``url_filter`` (keeps every row:
the output holds the whole shard) with ``workers: 1``, reporting its own peak RSS
(``resource.getrusage``, ``ru_maxrss``) and CPU seconds (``time.process_time``): the machine is shared,
so CPU time and memory are reported, not wall time. Inputs are built once from the real sentences of
shared/data/langid/lingua_sentences.jsonl (documents of 40 sentences) into ``benchmarks/_work/memory``.
A second case adds one ~50 MB document to a 4 MB shard and runs ``gopher_quality``, whose word-count
rule (max 100,000 words) removes it: with curate's ``input.max_text_bytes`` (5 MB) it is skipped by
a byte check before any step.

``--baseline-repo`` runs the same measurements with another checkout of curate (e.g. the commit
before row-group streaming) side by side, for the before/after table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from _results import REPO, WORK, machine_line, md_table, require_shared, write_section

MEM = WORK / "memory"

CHILD = r"""
import json, resource, sys, time, yaml
from curate.config.pipeline_config import parse_pipeline
from curate import run
src, out, steps, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
doc = {"name": "memory", "input": {"paths": [src], **extra}, "output": out, "pipeline": steps,
       "executor": {"type": "local", "workers": 1}}
cpu = time.process_time()
result = run(parse_pipeline(yaml.safe_dump(doc)), overwrite=True)
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cpu_s": time.process_time() - cpu, "read": result.stats["read"]}))
"""


def build_shard(mb: int, huge_mb: int = 0) -> Path:
    path = MEM / f"shard-{mb}mb{'-huge' if huge_mb else ''}.jsonl"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    MEM.mkdir(parents=True, exist_ok=True)
    lines = require_shared("langid", "lingua_sentences.jsonl").read_text(encoding="utf-8").split("\n")
    sentences = [json.loads(line)["text"] for line in lines if line.strip()]
    target = mb * 2**20
    written, i, n = 0, 0, 0
    with tmp.open("w", encoding="utf-8") as out:
        if huge_mb:
            words, size = [], 0
            while size < huge_mb * 2**20:
                s = sentences[i % len(sentences)]
                words.append(s)
                size += len(s.encode()) + 1
                i += 1
            out.write(json.dumps({"id": "huge", "text": " ".join(words)}, ensure_ascii=False) + "\n")
        while written < target:
            text = " ".join(sentences[(i + k) % len(sentences)] for k in range(40))
            line = json.dumps({"id": f"doc{n}", "text": text}, ensure_ascii=False) + "\n"
            out.write(line)
            written += len(line.encode())
            i, n = i + 40, n + 1
    tmp.rename(path)
    return path


def measure(repo: Path, src: Path, steps: list, extra: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    out = MEM / f"out-{os.getpid()}"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(out), json.dumps(steps), json.dumps(extra)],
                          capture_output=True, text=True, env=env, cwd=repo, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"measurement failed with {repo}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 64], help="shard sizes in MB")
    parser.add_argument("--baseline-repo", type=Path, help="another curate checkout to measure side by side")
    parser.add_argument("--huge-mb", type=int, default=50)
    args = parser.parse_args()
    codes = [("this checkout", REPO)] + ([("baseline", args.baseline_repo.resolve())] if args.baseline_repo else [])
    load = [os.getloadavg()[0]]
    rows = []
    keep_all = [{"url_filter": {}}]
    for mb in args.sizes:
        src = build_shard(mb)
        for label, repo in codes:
            r = measure(repo, src, keep_all, {})
            rows.append([f"{mb} MB JSONL, url_filter", label, f"{r['peak_rss_mb']:.0f}", f"{r['cpu_s']:.1f}",
                         r["read"]["emitted"]])
            print(rows[-1], flush=True)
        load.append(os.getloadavg()[0])
    huge = build_shard(4, huge_mb=args.huge_mb)
    for label, repo in codes:
        r = measure(repo, huge, [{"gopher_quality": {}}], {})
        skipped = r["read"].get("skipped", {}).get("text_too_large", 0)
        rows.append([f"4 MB + one {args.huge_mb} MB document, gopher_quality", label, f"{r['peak_rss_mb']:.0f}",
                     f"{r['cpu_s']:.1f}", f"{r['read']['emitted']} (skipped as too large: {skipped})"])
        print(rows[-1], flush=True)
        load.append(os.getloadavg()[0])
    baseline = ""
    if args.baseline_repo:
        commit = subprocess.run(["git", "-C", str(args.baseline_repo), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=False).stdout.strip()
        baseline = f" (baseline: commit {commit or 'unknown'})"
    table = md_table(["input", "code", "peak RSS MB", "CPU s", "documents emitted"], rows)
    text = (f"## Memory per worker against shard size\n\n{machine_line()}; load average during the run "
            f"{min(load):.2f}-{max(load):.2f} (shared machine: CPU time and peak RSS, not wall time).\n"
            f"Command: `python benchmarks/memory_per_shard.py {' '.join(sys.argv[1:])}`{baseline}. Peak RSS of a fresh "
            f"process running one shard with `workers: 1` (imports included, ~100-150 MB). \"baseline\" is the "
            f"checkout given by `--baseline-repo` (output rows held until the shard ends, no text-size check).\n\n"
            f"{table}\n")
    print(text)
    write_section("memory_per_shard", text)


if __name__ == "__main__":
    main()
