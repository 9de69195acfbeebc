"""MinHash dedup speed: curate's ``minhash`` step against datatrove's four MinHash stages, same documents, same run.

Corpus (one language, English, so both tools use spaCy English word tokens): the scrapinghub gold article
bodies and documents of 6-14 real English sentences (lingua's English sentences plus the gold articles split
at sentence ends), with planted duplicates anywhere later in the corpus: 12% near-duplicates made by word
substitutions aimed at a word-5-gram Jaccard drawn from U[0.6, 1] and 3% exact copies (of any earlier
document, so chains happen). Written once as JSONL (datatrove's ``JsonlReader``) and as Parquet shards
(curate), 10k documents per file, same files order.

datatrove (its own venv, ``_datatrove_minhash.py``): MinhashConfig 14 buckets x 8 hashes, 5-grams, 64-bit
hashes, English spaCy tokenizer; ``LocalPipelineExecutor(workers=1)`` per stage, tasks=1 (the buckets stage
needs one task per bucket: tasks=14, run one after the other). curate (a fresh process):
``MinHashDedup(num_perm=112, bands=14, rows=8, ngram=5, seed=1, tokenizer=...)``, ``prepare`` with a serial
map (one core) then ``process`` of every shard (read with ``pq.read_table``, as the runner hands it over).

Stage pairs: signature <-> keys (read, shingle, sign, band/bucket files), buckets <-> edges (candidate
pairs), cluster <-> clusters (connected components, kept document, result files), filter <-> process (read
each shard again, in the runner's 256-row batches for curate, and apply the decisions; neither writes the
output corpus). Each tool runs 3 times
(order rotated), medians reported. CPU seconds (process_time / getrusage, all threads and children) are the
main measure, since other work may share the 2 cores; wall seconds and the load average are reported too.
docs/s per core = documents / CPU seconds of the stage.

Run: ``.venv/bin/python benchmarks/dedup_speed.py`` (~15 min with 30k documents); ``--docs``, ``--repeats``,
``--no-write``, ``--report-only`` (rewrite the section from ``_work/dedup_speed/runs.json``). Needs ``benchmarks/.venv-datatrove`` (``bash benchmarks/setup_reference_env.sh``). Writes the
``dedup_speed`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import shutil
import string
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _dedup_common import english_sentences, gold_articles, rate_for_jaccard
from _results import BENCH, REPO, WORK, machine_line, md_table, median, package_versions, write_section

OUT = WORK / "dedup_speed"
DT_PY = BENCH / ".venv-datatrove" / "bin" / "python"
SHARD_DOCS = 10_000
LANG = "eng_Latn"
RUNNER_BATCH = 256  # rows per table the runner hands a block (InputConfig.batch_size)
STAGES = [("signature", "keys"), ("buckets", "edges"), ("cluster", "clusters"), ("filter", "process")]


# -- corpus -----------------------------------------------------------------------------------------------
def _fresh_word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))


def build_corpus(n: int, seed: int) -> tuple[list[str], list[dict]]:
    """Texts (document i has id ``doc-{i:06d}``) and the planted duplicates (dup, src, kind, target)."""
    rng = random.Random(seed)
    sents = english_sentences()
    articles = [a for a in gold_articles() if len(a.split()) >= 50]
    rng.shuffle(articles)
    article_at = dict(zip(rng.sample(range(n), min(len(articles), n)), articles, strict=False))
    texts: list[str] = []
    planted: list[dict] = []
    for i in range(n):
        r = rng.random()
        if i in article_at:
            text = article_at[i]
        elif i >= 100 and r < 0.12:
            src = rng.randrange(i)
            target = rng.uniform(0.6, 1.0)
            rate = rate_for_jaccard(target)
            words = texts[src].split()
            text = " ".join(w if rng.random() >= rate else _fresh_word(rng) for w in words)
            planted.append({"dup": i, "src": src, "kind": "near", "target": round(target, 3)})
        elif i >= 100 and r < 0.15:
            src = rng.randrange(i)
            text = texts[src]
            planted.append({"dup": i, "src": src, "kind": "exact", "target": 1.0})
        else:
            text = " ".join(rng.choice(sents) for _ in range(rng.randint(6, 14)))
        texts.append(text)
    return texts, planted


def write_corpus(n: int, seed: int) -> Path:
    """``OUT/data-{n}-{seed}/{jsonl,parquet}/`` with the same documents in the same order (reused when present)."""
    folder = OUT / f"data-{n}-{seed}"
    if (folder / "corpus.json").exists():
        return folder
    texts, planted = build_corpus(n, seed)
    for sub in ("jsonl", "parquet"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for s, lo in enumerate(range(0, n, SHARD_DOCS)):
        hi = min(lo + SHARD_DOCS, n)
        ids = [f"doc-{i:06d}" for i in range(lo, hi)]
        with open(folder / "jsonl" / f"shard-{s:03d}.jsonl", "w", encoding="utf-8") as f:
            for doc_id, text in zip(ids, texts[lo:hi], strict=True):
                f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
        tbl = pa.table({"id": ids, "text": texts[lo:hi], "lang": pa.array([LANG] * (hi - lo))})
        pq.write_table(tbl, folder / "parquet" / f"shard-{s:03d}.parquet", compression="zstd")
    meta = {"docs": n, "seed": seed, "bytes": sum(len(t.encode()) for t in texts),
            "words": sum(len(t.split()) for t in texts), "planted": planted}
    (folder / "corpus.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


# -- curate (child process) -------------------------------------------------------------------------------
def curate_child(data: Path, workdir: Path, tokenizer: str) -> None:
    t_start = time.perf_counter()
    from curate.blocks.base import BlockContext, GlobalJob
    from curate.dedup import MinHashDedup

    startup = time.perf_counter() - t_start
    paths = sorted((data / "parquet").glob("*.parquet"))
    shards = [(f"shard-{i:03d}", str(p)) for i, p in enumerate(paths)]
    if workdir.exists():
        shutil.rmtree(workdir)
    phases: dict[str, dict[str, float]] = {}

    def timed_map(fn, items):  # noqa: ANN001, ANN202 - GlobalJob.map, serial: one core
        w, c = time.perf_counter(), time.process_time()
        out = list(map(fn, items))
        phases[{"shard_keys_task": "keys", "partition_edges_task": "edges"}.get(fn.__name__, fn.__name__)] = {
            "wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c}
        return out

    step = MinHashDedup(num_perm=112, bands=14, rows=8, ngram=5, seed=1, tokenizer=tokenizer)
    job = GlobalJob(shards=shards, workdir=str(workdir), map=timed_map)
    load = os.getloadavg()[0]
    w0, c0 = time.perf_counter(), time.process_time()
    step.prepare(job)
    w1, c1 = time.perf_counter(), time.process_time()
    phases["clusters"] = {"wall_s": (w1 - w0) - phases["keys"]["wall_s"] - phases["edges"]["wall_s"],
                          "cpu_s": (c1 - c0) - phases["keys"]["cpu_s"] - phases["edges"]["cpu_s"]}
    worker = pickle.loads(pickle.dumps(step))  # as the runner ships the step to a worker
    outputs = []
    for sid, path in shards:  # in the runner's batches (input.batch_size, 256 rows), not whole shards
        for batch in pq.ParquetFile(path).iter_batches(batch_size=RUNNER_BATCH):
            outputs.append(worker.process(pa.Table.from_batches([batch]), BlockContext(shard=sid)))
    phases["process"] = {"wall_s": time.perf_counter() - w1, "cpu_s": time.process_time() - c1}

    clusters: dict[str, str] = {}  # document id -> cluster id, for documents in a cluster of size > 1
    removed = docs = 0
    for out in outputs:
        t = out.table
        docs += t.num_rows
        removed += int((~out.keep).sum())
        size = t.column("minhash_cluster_size").to_numpy()
        for j in np.flatnonzero(size > 1).tolist():
            clusters[t.column("id")[j].as_py()] = t.column("minhash_cluster_id")[j].as_py()
    summary = job.stats["minhash_summary"]
    print(json.dumps({"startup_s": startup, "phases": phases, "docs": docs, "removed": removed,
                      "timing": summary["timing"], "edges": summary["edges"],
                      "partitions": summary["partitions"], "clusters": clusters, "load1_before": load,
                      "load1": os.getloadavg()[0]}))


def curate_breakdown(data: Path, tokenizer: str, n: int) -> None:
    """CPU seconds of shingling and of signatures on the first ``n`` documents (like ``--breakdown`` of
    _datatrove_minhash.py): the keyer's own pieces, called directly, after loading the tokenizer."""
    from curate.dedup import MinHashKeyer

    texts: list[str] = []
    for path in sorted((data / "parquet").glob("*.parquet")):
        texts.extend(pq.read_table(path, columns=["text"]).column("text").to_pylist())
    texts = texts[:n]
    keyer = MinHashKeyer(num_perm=112, bands=14, rows=8, ngram=5, seed=1, tokenizer=tokenizer)
    shingle = keyer.shingler(LANG)
    shingle(texts[0])  # loads spaCy (language) and the normalisation table
    sh_cpu = sig_cpu = 0.0
    shingles = 0
    for lo in range(0, len(texts), 2048):  # the step's batch size (MinHashDedup(batch_size=2048))
        c0 = time.process_time()
        hashes = [shingle(t) for t in texts[lo : lo + 2048]]
        c1 = time.process_time()
        keyer.hasher.signatures(hashes)
        c2 = time.process_time()
        sh_cpu, sig_cpu = sh_cpu + (c1 - c0), sig_cpu + (c2 - c1)
        shingles += sum(len(h) for h in hashes)
    print(json.dumps({"docs": len(texts), "shingle_cpu_s": sh_cpu, "signature_cpu_s": sig_cpu,
                      "shingles": shingles, "load1": os.getloadavg()[0]}))


# -- runs -------------------------------------------------------------------------------------------------
def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run(cmd: list[str], log: Path) -> tuple[dict, float, float]:
    """Run a child; (its JSON line, wall s, CPU s of the whole child incl. start-up)."""
    c0, t0 = _children_cpu(), time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode != 0:
        sys.exit(f"{cmd[:3]} failed ({proc.returncode}); see {log}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall, cpu


def run_datatrove(data: Path, rep: int) -> dict:
    work = OUT / f"dt-work-{rep}"
    if work.exists():
        shutil.rmtree(work)
    res, wall, cpu = _run([str(DT_PY), str(BENCH / "_datatrove_minhash.py"), "--input-dir",
                           str(data / "jsonl"), "--work-dir", str(work)], OUT / f"dt-{rep}.log")
    res["process_wall_s"], res["process_cpu_s"] = wall, cpu
    # stage 3's outputs: (doc index, cluster id) and removed doc indices, of rank 0 (all documents)
    remove = work / "remove_ids"
    pairs = np.fromfile(remove / "000000.clusters", dtype="<u4").reshape(-1, 2)
    res["clusters"] = {f"doc-{d:06d}": int(c) for d, c in pairs.tolist()}
    res["removed"] = int(np.fromfile(remove / "000000.remove", dtype="<u4").size)
    return res


def run_curate(data: Path, rep: int, tokenizer: str) -> dict:
    res, wall, cpu = _run([sys.executable, __file__, "--child", str(data), "--workdir",
                           str(OUT / f"curate-work-{tokenizer}"), "--tokenizer", tokenizer],
                          OUT / f"curate-{tokenizer}-{rep}.log")
    res["process_wall_s"], res["process_cpu_s"] = wall, cpu
    return res


# -- comparison -------------------------------------------------------------------------------------------
def agreement(clusters: dict[str, object], planted: list[dict]) -> dict[str, float]:
    """Planted pairs found in one cluster, by kind."""
    found = {"near": 0, "exact": 0}
    total = {"near": 0, "exact": 0}
    for p in planted:
        a, b = f"doc-{p['dup']:06d}", f"doc-{p['src']:06d}"
        total[p["kind"]] += 1
        if a in clusters and clusters.get(a) == clusters.get(b):
            found[p["kind"]] += 1
    return {k: found[k] / total[k] if total[k] else float("nan") for k in found}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--breakdown-docs", type=int, default=3000,
                    help="documents for the per-step breakdown of datatrove's signature stage (curate: all)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--report-only", action="store_true", help="rewrite the section from the saved runs.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--tokenizer", default="language", help=argparse.SUPPRESS)
    ap.add_argument("--breakdown-child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child and args.breakdown_child:
        curate_breakdown(Path(args.child), args.tokenizer, args.breakdown_child)
        return
    if args.child:
        curate_child(Path(args.child), Path(args.workdir), args.tokenizer)
        return
    if not DT_PY.exists():
        sys.exit(f"{DT_PY} missing: run bash benchmarks/setup_reference_env.sh")

    OUT.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        saved = json.loads((OUT / "runs.json").read_text(encoding="utf-8"))
        meta = json.loads((Path(saved["data"]) / "corpus.json").read_text(encoding="utf-8"))
        body = report(saved["runs"], saved["breakdown"], meta, meta["planted"])
        print(body)
        if not args.no_write:
            write_section("dedup_speed", body)
        return
    data = write_corpus(args.docs, args.seed)
    meta = json.loads((data / "corpus.json").read_text(encoding="utf-8"))
    planted = meta["planted"]
    n = meta["docs"]
    print(f"corpus: {n} docs, {meta['bytes'] / 1e6:.1f} MB, {len(planted)} planted duplicates -> {data}",
          flush=True)

    tools = ["datatrove", "language", "fast"]
    runs: dict[str, list[dict]] = {t: [] for t in tools}
    for rep in range(args.repeats):
        for tool in tools[rep % 3:] + tools[: rep % 3]:  # rotate the order: the load changes over time
            res = run_datatrove(data, rep) if tool == "datatrove" else run_curate(data, rep, tool)
            runs[tool].append(res)
            if tool == "datatrove":
                per = {s: round(v["cpu_s"], 2) for s, v in res["stages"].items()}
            else:
                per = {s: round(v["cpu_s"], 2) for s, v in res["phases"].items()}
            print(f"rep {rep} {tool}: cpu {per} wall {res['process_wall_s']:.1f}s removed {res['removed']} "
                  f"load {res['load1']:.1f}", flush=True)
    bd = {"datatrove": _run([str(DT_PY), str(BENCH / "_datatrove_minhash.py"), "--input-dir", str(data / "jsonl"),
                             "--breakdown", str(args.breakdown_docs)], OUT / "dt-breakdown.log")[0]}
    for tok in ("language", "fast"):
        bd[tok] = _run([sys.executable, __file__, "--child", str(data), "--tokenizer", tok, "--breakdown-child",
                        str(n)], OUT / f"curate-{tok}-breakdown.log")[0]
    (OUT / "runs.json").write_text(json.dumps({"data": str(data), "runs": runs, "breakdown": bd}, default=str), encoding="utf-8")
    body = report(runs, bd, meta, planted)
    print(body)
    if not args.no_write:
        write_section("dedup_speed", body)


def _med(values: list[float]) -> float:
    return median(values)


def report(runs: dict[str, list[dict]], bd: dict, meta: dict, planted: list[dict]) -> str:
    n = meta["docs"]
    dt = runs["datatrove"]
    dt_stage = {s: {m: _med([r["stages"][s][m] for r in dt]) for m in ("cpu_s", "wall_s")} for s, _ in STAGES}
    lines = [
        "## MinHash dedup speed: curate vs datatrove (FineWeb2 settings, one core)",
        "",
        f"{n:,} English documents ({meta['bytes'] / 1e6:.1f} MB, {meta['words'] / n:.0f} words/doc): gold article "
        f"bodies and real English sentences grouped 6-14 per document, plus {len(planted):,} planted duplicates "
        f"({sum(p['kind'] == 'near' for p in planted):,} word-substituted near-duplicates at target Jaccard "
        f"U[0.6, 1], {sum(p['kind'] == 'exact' for p in planted):,} exact copies). Same documents for both "
        f"tools: JSONL for datatrove, Parquet for curate, {SHARD_DOCS:,} per file. 14 bands x 8 rows, word "
        "5-grams, 64-bit hashes, seed 1. datatrove: `LocalPipelineExecutor(workers=1)`, tasks=1 per stage "
        "except buckets (tasks=14, it requires one per bucket; run serially). curate: `prepare` with a serial "
        f"map, then `process` on each shard's {RUNNER_BATCH}-row batches. Median of "
        f"{len(dt)} runs; CPU s = user+sys of the stage (all threads); docs/s/core = documents / CPU s.",
    ]
    speedups: dict[str, dict[str, float]] = {}
    for tok in ("language", "fast"):
        cr = runs[tok]
        cu = {p: {m: _med([r["phases"][p][m] for r in cr]) for m in ("cpu_s", "wall_s")} for _, p in STAGES}
        rows = []
        for s, p in STAGES:
            d, c = dt_stage[s], cu[p]
            rows.append([f"{s} / {p}", f"{d['cpu_s']:.2f}", f"{c['cpu_s']:.2f}", f"{d['cpu_s'] / c['cpu_s']:.1f}x",
                         f"{d['wall_s']:.2f}", f"{c['wall_s']:.2f}", f"{d['wall_s'] / c['wall_s']:.1f}x",
                         f"{n / d['cpu_s']:,.0f}", f"{n / c['cpu_s']:,.0f}"])
        d_tot = {m: _med([sum(r["stages"][s][m] for s, _ in STAGES) for r in dt]) for m in ("cpu_s", "wall_s")}
        c_tot = {m: _med([sum(r["phases"][p][m] for _, p in STAGES) for r in cr]) for m in ("cpu_s", "wall_s")}
        rows.append(["**end-to-end**", f"{d_tot['cpu_s']:.2f}", f"{c_tot['cpu_s']:.2f}",
                     f"**{d_tot['cpu_s'] / c_tot['cpu_s']:.1f}x**", f"{d_tot['wall_s']:.2f}",
                     f"{c_tot['wall_s']:.2f}", f"{d_tot['wall_s'] / c_tot['wall_s']:.1f}x",
                     f"{n / d_tot['cpu_s']:,.0f}", f"{n / c_tot['cpu_s']:,.0f}"])
        speedups[tok] = {"e2e": d_tot["cpu_s"] / c_tot["cpu_s"],
                         "sig": dt_stage["signature"]["cpu_s"] / cu["keys"]["cpu_s"]}
        label = "spaCy English (like datatrove)" if tok == "language" else "whitespace split"
        lines += [
            "",
            f"### curate `tokenizer: {tok}` ({label})",
            "",
            md_table(["stage (datatrove / curate)", "datatrove CPU s", "curate CPU s", "speedup (CPU)",
                      "datatrove wall s", "curate wall s", "speedup (wall)", "datatrove docs/s/core",
                      "curate docs/s/core"], rows),
        ]
    stage_cpu = {"datatrove": dt_stage["signature"]["cpu_s"],
                 **{tok: _med([r["phases"]["keys"]["cpu_s"] for r in runs[tok]]) for tok in ("language", "fast")}}
    bd_rows = []
    for tool, label in (("datatrove", "datatrove"), ("language", "curate `language`"), ("fast", "curate `fast`")):
        b = bd[tool]
        sh_ms, sig_ms = b["shingle_cpu_s"] / b["docs"] * 1e3, b["signature_cpu_s"] / b["docs"] * 1e3
        stage_ms = stage_cpu[tool] / n * 1e3
        bd_rows.append([label, f"{sh_ms:.3f}", f"{sig_ms:.3f}", f"{stage_ms - sh_ms - sig_ms:.3f}", f"{stage_ms:.3f}"])
    lines += [
        "",
        "### Where the signature stage's time goes (CPU ms per document)",
        "",
        md_table(["tool", "shingling (normalise + tokenize + xxh64 n-grams)", "signature (112 permutations + min)",
                  "rest of the stage (read, tokenizer load, band keys / bucket files, sort, write)",
                  "stage total (median run above)"], bd_rows),
        "",
        "Shingling and signature measured apart in one process (CPU), tokenizer already loaded: datatrove on the "
        f"first {bd['datatrove']['docs']:,} documents (no memo: its cost per document is flat), curate on all "
        f"{bd['language']['docs']:,} (its spaCy memo starts empty and fills as in the stage); "
        f"~{bd['language']['shingles'] / bd['language']['docs']:.0f} shingles per document. The rest = stage total - "
        "both (a difference of two measurements: +-0.05 ms); for curate it includes one-off set-up per process, "
        "~0.5 s building the normalisation table, + ~0.6 s spaCy load and affix analysis with `language`. "
        "datatrove's signature uses "
        "((a*x + b) mod 2^64) mod p with numpy `%`, one document at a time; curate the same function with the "
        "same parameters (identical signatures) through a Mersenne fold, across documents. The corpus "
        "recombines ~8k real sentences, so sentences repeat across documents and curate's spaCy memo gains "
        "more than on distinct text: see the minhash_signature section for the signature and the memo on "
        f"distinct text. curate's `process` runs on the runner's {RUNNER_BATCH}-row batches.",
        "",
        "Goals (CPU time): " + "; ".join(
            f"`{tok}`: end-to-end {s['e2e']:.1f}x ({'met' if s['e2e'] >= 5 else 'missed'}, goal 5x), signature "
            f"stage {s['sig']:.1f}x ({'met' if s['sig'] >= 5 else 'missed'}, goal 5x)"
            for tok, s in speedups.items()) + ".",
    ]

    # duplicates found
    def _row(name: str, rs: list[dict]) -> list[str]:
        rem = [r["removed"] for r in rs]
        in_cl = [len(r["clusters"]) for r in rs]
        ag = agreement(rs[0]["clusters"], planted)
        return [name, " / ".join(str(x) for x in sorted(set(rem))), " / ".join(str(x) for x in sorted(set(in_cl))),
                f"{ag['near']:.1%}", f"{ag['exact']:.1%}"]

    rows = [_row("datatrove", dt), _row("curate `language`", runs["language"]), _row("curate `fast`", runs["fast"])]
    a, b = set(dt[0]["clusters"]), set(runs["language"][0]["clusters"])
    lines += [
        "",
        "Duplicates found (every run of a tool found the same counts unless several are listed):",
        "",
        md_table(["tool", "documents removed", "documents in clusters of size > 1",
                  "planted near-duplicate pairs in one cluster", "planted exact copies in one cluster"], rows),
        "",
        f"Documents in a multi-document cluster: {len(a & b):,} in both datatrove's and curate's (`language`), "
        f"{len(a - b):,} only datatrove's, {len(b - a):,} only curate's (different hash functions and "
        "permutations, so LSH misses differ near the threshold; the normalisations differ slightly too).",
        "",
    ]
    loads = [r["load1"] for rs in runs.values() for r in rs]
    startup_dt = _med([r["startup_s"] for r in dt])
    startup_cu = _med([r["startup_s"] for r in runs["language"]])
    lines += [
        f"Versions: curate venv: {package_versions(sys.executable, ['numpy', 'xxhash', 'spacy', 'pyarrow'])}; "
        f"datatrove venv: {package_versions(DT_PY, ['datatrove', 'numpy', 'xxhash', 'spacy'])}. "
        f"Machine: {machine_line()}; 1-min load average during the runs {min(loads):.1f}-{max(loads):.1f} "
        "(other work shared the 2 cores: compare CPU columns). Process start-up and imports are outside the "
        f"stages (datatrove {startup_dt:.1f} s, curate {startup_cu:.1f} s); spaCy loading is inside the first "
        "stage for both. Reproduce: `.venv/bin/python benchmarks/dedup_speed.py` (datatrove side: "
        "`benchmarks/_datatrove_minhash.py` in `benchmarks/.venv-datatrove`).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
