"""What opt-outs cost: building the robots.txt table, and the optout + domain_cap steps inside the FineWeb2 recipe.

    .venv/bin/python benchmarks/optout_cost.py [--rounds 3] [--skip-recipe] [--before 43cc24d]
                                              [--rss-captures 20000,200000]

1. ``curate optout build`` on the 4,231 real robots.txt files of ../shared/data/robots (one worker, a fresh
   process per build: ``_optout_build_child.py``): CPU seconds per 1,000 files with the ``ai`` list (50 agents)
   and with one agent, against the reference, protego alone (decode, ``Protego.parse``, ``can_fetch`` of the
   root per agent: what any tool must do at least), and against curate before the partitioned build
   (``--before``: that commit's ``curate/`` from ``git archive``, first on PYTHONPATH), in the same run, medians
   of ``--build-rounds`` alternated rounds.
1b. The driver's memory (issue 27's follow-up): synthetic WARCs of ``--rss-captures`` robots.txt captures (hosts
   ``sNNNNNNN.<a real host>``, each serving one of the 4,231 real files, drawn Zipf-like so that some files are
   common, as platforms' default files are; one host in ten redirects http -> https first), built with 2 workers,
   before and after: the driver's peak RSS at each size (flat after: it holds task results, never captures;
   before it grew ~150 bytes per capture) and the largest worker's.
2. The FineWeb2 recipe (reader -> precise extraction -> langid -> FineWeb2 filters -> MinHash, one worker) on the
   same real WARCs as ``fineweb2_end_to_end.py``, without and with ``optout`` (host scope, page signals, a table of
   the 4,231 hosts plus robots.txt captures disallowing GPTBot for every 4th host of the input) and
   ``domain_cap`` (``max_docs: 10`` per registered domain, a barrier of its own): per-step CPU from timers in the
   run (``_curate_optout_recipe.py``, a fresh process per run, the word tokenizers of the languages found by an
   untimed warm-up run loaded before timing), alternated for ``--rounds`` rounds, medians. The
   goal: optout + domain_cap under 5% of the recipe's CPU outside extraction (measured in the same runs).
   The reader's page-signal scan is timed apart (it runs for every HTML page, with or without the steps).
3. ``scope: path`` costs more than ``scope: host`` (protego per URL of a host with rules): timed on the same
   documents' URLs, block alone.
4. At scale (``--scale-docs``, default 100,000 documents in 4 shards), the marginal CPU per document of the two
   steps and of domain_cap's stage hand-over, without the fixed costs per shard that dominate 618 documents.

No threshold is chosen here: the 5% goal is the issue's; every figure is measured on these inputs only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from _results import WORK, RunInfo, md_table, require_shared, write_section
from protego import Protego
from throughput import prepare_inputs
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from curate.blocks.base import BlockContext, GlobalJob
from curate.cli.optout_command import build_table
from curate.io.parquet_output import ParquetOutput
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader
from curate.optout.agent_lists import resolve_agents
from curate.optout.domain_cap import DomainCap
from curate.optout.optout_block import OptOut
from curate.optout.robots_table import decode_robots
from curate.optout.url_hosts import url_hosts

BENCH = Path(__file__).resolve().parent
OUT = WORK / "optout_cost"


def protego_alone(files: list[Path], agents: list[str]) -> float:
    c0 = time.process_time()
    for path in files:
        parser = Protego.parse(decode_robots(path.read_bytes()))
        for agent in agents:
            parser.can_fetch(f"https://{path.name}/", agent)
    return time.process_time() - c0


def before_tree(ref: str) -> Path | None:
    """``curate/`` of commit ``ref`` (git archive), to put first on PYTHONPATH; None when ``ref`` is empty."""
    if not ref:
        return None
    tree = OUT / f"before-{ref}"
    if not (tree / "curate" / "__init__.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(BENCH.parent), "archive", ref, "curate"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def child_build(inputs: list[str], spec: str, out: Path, workers: int, tree: Path | None,
                partitions: int = 0) -> dict[str, object]:
    """One build in a fresh process (``_optout_build_child.py``), with ``tree``'s curate when given."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, str(BENCH / "_optout_build_child.py"), *inputs, "--agents", spec,
                           "--out", str(out), "--workers", str(workers),
                           *(["--partitions", str(partitions)] if partitions else [])], capture_output=True, text=True, cwd=BENCH,
                          env=env)
    if proc.returncode:
        sys.exit(f"optout build failed ({'before' if tree else 'after'}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = str(tree) if tree is not None else str(BENCH.parent)
    assert str(result["curate"]).startswith(expected), (result["curate"], expected)  # the tree we meant ran
    return result


def build_cost(folder: Path, tree: Path | None, rounds: int) -> list[list[object]]:
    files = sorted(folder.iterdir())
    rows = []
    per_k = 1000 / len(files)
    for label, spec in (("ai (50 agents)", "ai"), ("CCBot (1 agent)", "CCBot")):
        agents = resolve_agents(spec)
        ref = statistics.median(protego_alone(files, agents) for _ in range(rounds))
        runs: dict[str, list[dict[str, object]]] = {"before": [], "after": []}
        for r in range(rounds):
            sides = [("before", tree), ("after", None)] if tree is not None else [("after", None)]
            for side, t in sides if r % 2 == 0 else sides[::-1]:
                runs[side].append(child_build([str(folder)], spec, OUT / f"table-{spec}-{side}.parquet", 1, t))
        after = statistics.median(float(x["cpu_s"]) for x in runs["after"])
        before = statistics.median(float(x["cpu_s"]) for x in runs["before"]) if runs["before"] else None
        wall = statistics.median(float(x["wall_s"]) for x in runs["after"])
        size = (OUT / f"table-{spec}-after.parquet").stat().st_size
        rows.append([label, len(files), f"{ref * per_k:.2f}", f"{before * per_k:.2f}" if before else "-",
                     f"{after * per_k:.2f}", f"{100 * (after - before) / before:+.1f}%" if before else "-",
                     f"{wall * per_k:.2f}", f"{after / ref:.1f}x", f"{size / len(files):.0f}"])
    return rows


def synthetic_warcs(folder: Path, captures: int, per_file: int = 10_000) -> list[str]:
    """``captures`` robots.txt captures of synthetic hosts serving the real files (Zipf-like: rank r has weight
    1/(r+1)), one host in ten redirecting http -> https first; ``per_file`` captures per WARC."""
    where = OUT / f"synthetic-{captures}"
    done = where / "done"
    paths = sorted(str(p) for p in where.glob("*.warc.gz"))
    if done.exists():
        return paths
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    files = sorted(folder.iterdir())
    rng = random.Random(0)
    ranked = files[:]
    rng.shuffle(ranked)
    weights = [1 / (r + 1) for r in range(len(ranked))]
    bodies: dict[Path, bytes] = {}
    written, n, in_file = 0, 0, 0
    handle = writer = None
    while written < captures:
        if handle is None or in_file >= per_file:
            if handle is not None:
                handle.close()
            handle = open(where / f"robots-{n:04d}.warc.gz", "wb")
            writer = WARCWriter(handle, gzip=True)
            n, in_file = n + 1, 0
        source = rng.choices(ranked, weights)[0]
        body = bodies.setdefault(source, source.read_bytes())
        host = f"s{written:07d}.{source.name.rpartition('_')[0] or source.name}"
        if written % 10 == 0 and written + 1 < captures:  # a redirect, then its target: two captures
            http = StatusAndHeaders("301 Moved Permanently", [("Location", f"https://{host}/robots.txt")],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"http://{host}/robots.txt", "response", payload=io.BytesIO(b""), http_headers=http,
                warc_headers_dict={"WARC-Date": "2025-06-01T00:00:00Z"}))
            written += 1
            in_file += 1
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/plain")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            f"https://{host}/robots.txt", "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Date": "2025-06-01T00:00:00Z"}))
        written += 1
        in_file += 1
    handle.close()
    done.write_text(str(written))
    return sorted(str(p) for p in where.glob("*.warc.gz"))


def driver_memory(folder: Path, sizes: list[int], tree: Path | None) -> list[list[object]]:
    rows = []
    for captures in sizes:
        inputs = synthetic_warcs(folder, captures)
        for side, t in ([("before", tree)] if tree is not None else []) + [("after", None)]:
            # partitions of 10,000 captures: every pass has several tasks, which run in the workers (a local pool
            # runs a pass of one task in the driver's process)
            r = child_build(inputs, "ai", OUT / f"rss-{captures}-{side}.parquet", 2, t,
                            0 if t is not None else -(-captures // 10_000))
            rows.append([f"{int(r['captures']):,}", f"{int(r['hosts']):,}", len(inputs), side,
                         f"{float(r['driver_rss_mb']):.0f}", f"{float(r['worker_rss_mb']):.0f}",
                         f"{float(r['cpu_s']):.1f}", f"{float(r['wall_s']):.1f}", r["partitions"]])
    return rows


def robots_warc(path: Path, hosts: list[str]) -> Path:
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for host in hosts:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/plain")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://{host}/robots.txt", "response", payload=io.BytesIO(b"User-agent: GPTBot\nDisallow: /\n"),
                http_headers=http, warc_headers_dict={"WARC-Date": "2025-06-01T00:00:00Z"}))
    return path


def at_scale(table: Path, hosts: list[str], texts: list[str], n: int, shards: int) -> list[list[object]]:
    """Marginal CPU per document of the two steps and of domain_cap's stage hand-over, on ``n`` documents in
    ``shards`` shards: URLs on the input's hosts (a few large sites, many small: Zipf-like), real extracted texts."""
    rng = random.Random(0)
    weights = [1 / (i + 1) for i in range(len(hosts))]
    urls = [f"https://{h}/page/{i}" for i, h in enumerate(rng.choices(hosts, weights, k=n))]
    langs = rng.choices(["eng_Latn", "deu_Latn", "rus_Cyrl", "cmn_Hani"], [70, 15, 10, 5], k=n)
    docs = pa.table({"id": [f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>" for _ in range(n)],
                     "url": urls, "lang": langs, "text": [texts[i % len(texts)] for i in range(n)],
                     "robots_tag": pa.nulls(n, pa.string()), "tdm_reservation": pa.nulls(n, pa.int8())})
    rows = []
    block = OptOut(table=str(table))
    block.filter(docs.slice(0, 10), BlockContext())  # the table index, loaded once per worker in a run
    c0 = time.process_time()
    for start in range(0, n, 256):  # the runner's batches
        block.filter(docs.slice(start, 256), BlockContext())
    rows.append(["optout (host scope + page signals)", n, f"{(time.process_time() - c0) / n * 1e3:.4f}"])
    work = OUT / "scale"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    c0 = time.process_time()
    paths = []
    per = n // shards
    for i in range(shards):  # the stage hand-over: the previous stage writes its survivors, the next reads them
        out = ParquetOutput(str(work / "stage"), f"shard-{i}.parquet", partition_by_lang=False)
        for start in range(i * per, (i + 1) * per, 256):
            out.add(docs.slice(start, min(256, (i + 1) * per - start)))
        paths.append(out.close()["_all"]["file"])
    for path in paths:
        for _ in pq.ParquetFile(path).iter_batches(batch_size=256):
            pass
    rows.append(["domain_cap's barrier: write + read of the survivors (zstd Parquet)", per * shards,
                 f"{(time.process_time() - c0) / (per * shards) * 1e3:.4f}"])
    step = DomainCap(max_docs=10)
    c0 = time.process_time()
    step.prepare(GlobalJob(shards=[(str(i), p) for i, p in enumerate(paths)], workdir=str(work / "cap"),
                           map=lambda fn, items: [fn(x) for x in items]))
    ctx = BlockContext()
    for i, path in enumerate(paths):
        ctx.shard = str(i)
        for batch in pq.ParquetFile(path).iter_batches(batch_size=256, columns=["id", "url", "lang"]):
            step.process(pa.Table.from_batches([batch]), ctx)
    rows.append(["domain_cap (prepare + process; max_docs 10 per registered domain)", per * shards,
                 f"{(time.process_time() - c0) / (per * shards) * 1e3:.4f}"])
    return rows


def recipe(inputs: Path, table: Path | None, tag: str, warm: str = "") -> dict[str, object]:
    out = OUT / f"recipe-{tag}"
    cmd = [sys.executable, str(BENCH / "_curate_optout_recipe.py"), "--input-dir", str(inputs), "--output-dir", str(out),
           "--warm-langs", warm]
    if table is not None:
        cmd += ["--table", str(table)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-recipe", action="store_true")
    parser.add_argument("--scale-docs", type=int, default=100_000)
    parser.add_argument("--before", default="43cc24d", help="commit of curate before the partitioned build, run "
                        "side by side ('' to skip)")
    parser.add_argument("--build-rounds", type=int, default=3)
    parser.add_argument("--rss-captures", default="20000,200000", help="sizes of the driver-memory rows")
    args = parser.parse_args()
    info = RunInfo(["protego", "tldextract", "pyarrow", "resiliparse", "fastwarc"])
    OUT.mkdir(parents=True, exist_ok=True)
    folder = require_shared("robots", "protego_test_data")
    tree = before_tree(args.before)
    build_rows = build_cost(folder, tree, args.build_rounds)
    info.sample()
    rss_rows = driver_memory(folder, [int(x) for x in args.rss_captures.split(",") if x], tree)
    info.sample()
    sections = [
        "## Opt-outs: building the robots.txt table, and optout + domain_cap in the FineWeb2 recipe",
        "",
        "`.venv/bin/python benchmarks/optout_cost.py` (issue 27). Table build: `curate optout build` on the 4,231 "
        "real robots.txt files of ../shared/data/robots, one worker, a fresh process per build, CPU seconds per "
        "1,000 files (medians of "
        f"{args.build_rounds} alternated rounds), against protego alone (decode, parse, `can_fetch` of the root for "
        "each agent) and against curate before the partitioned build "
        f"({args.before or 'not run'}: driver-side choice of the newest capture) in the same run; the build also "
        "derives the group and rule that decided, the path rules kept for `scope: path`, and writes the table.",
        "",
        md_table(["agents", "files", "protego alone CPU s / 1,000", "before CPU s / 1,000",
                  "curate optout build CPU s / 1,000", "vs before", "wall s / 1,000", "vs protego alone",
                  "table bytes / host"], build_rows),
        "",
        "The driver's memory as the captures grow: synthetic Common-Crawl-like WARCs (10,000 captures per file; "
        "hosts serving the 4,231 real files, Zipf-like, so common files repeat as platforms' default files do; one "
        "host in ten redirects http -> https first), `--agents ai`, 2 workers, a fresh process per build. Peak RSS "
        "(`getrusage` maxrss) of the driver and of the largest worker; CPU of all processes. After, the driver "
        "holds task results and one row group of the table while it streams the parts, whatever the captures; the "
        "workers hold one input or one partition (the parser remembers repeated files, so CPU per capture is lower "
        "here than on 4,231 distinct files).",
        "",
        md_table(["captures", "hosts", "WARC files", "curate", "driver peak RSS MB", "largest worker peak RSS MB",
                  "CPU s", "wall s", "partitions"], rss_rows),
    ]
    figures: dict[str, object] = {"build_cpu_s_per_1000_ai": float(build_rows[0][4])}
    if not args.skip_recipe:
        inputs = OUT / "inputs"
        prepare_inputs(inputs)
        hosts = sorted({h for f in sorted(inputs.glob("*.warc.gz")) for t in WarcReader().read(str(f), ReadCounts())
                        for h in url_hosts(t.column("url")).to_pylist() if h})
        blocked = hosts[::4]
        table = OUT / "recipe-table.parquet"
        build_table([str(folder), str(robots_warc(OUT / "robots.warc.gz", blocked))], "ai", str(table))
        # untimed warm-up run: page cache, .pyc files, and the languages whose tokenizers to load before timing
        warm = ",".join(recipe(inputs, None, "warm")["langs"])
        base, with_steps = [], []
        for r in range(args.rounds):
            order = [(None, base), (table, with_steps)] if r % 2 == 0 else [(table, with_steps), (None, base)]
            for t, sink in order:
                sink.append(recipe(inputs, t, "with" if t else "base", warm))
                info.sample()
        docs = base[0]["docs_in"]

        def med(runs: list[dict], phase: str) -> float:
            return statistics.median(r["phases_cpu"].get(phase, 0.0) for r in runs) * 1000 / docs

        outside_base = statistics.median(r["cpu_s"] - r["phases_cpu"]["extract"] for r in base) * 1000 / docs
        outside_with = statistics.median(r["cpu_s"] - r["phases_cpu"]["extract"] for r in with_steps) * 1000 / docs
        optout_ms, cap_ms = med(with_steps, "optout"), med(with_steps, "domain_cap")
        extra = {p: med(with_steps, p) - med(base, p) for p in ("write", "runner")}
        barrier_ms = max(0.0, extra["write"]) + max(0.0, extra["runner"])
        signals_ms = statistics.median(r["page_signals_cpu"] for r in base + with_steps) * 1000 / docs
        read_ms = statistics.median(r["phases_cpu"]["read"] for r in base + with_steps) * 1000 / docs
        steps_ms = optout_ms + cap_ms
        rows = [
            ["recipe CPU outside extraction (without the steps)", f"{outside_base:.3f}", "100%"],
            ["optout (host scope + page signals)", f"{optout_ms:.4f}", f"{100 * optout_ms / outside_base:.2f}%"],
            ["domain_cap (prepare + process)", f"{cap_ms:.4f}", f"{100 * cap_ms / outside_base:.2f}%"],
            ["**optout + domain_cap**", f"**{steps_ms:.4f}**", f"**{100 * steps_ms / outside_base:.2f}%**"],
            ["domain_cap's barrier: extra write + runner (stage hand-over)", f"{barrier_ms:.3f}",
             f"{100 * barrier_ms / outside_base:.2f}%"],
            ["whole run outside extraction, with the steps (difference; noisy)", f"{outside_with:.3f}",
             f"{100 * (outside_with - outside_base) / outside_base:+.1f}%"],
            ["reader's page-signal scan (every run, inside read)", f"{signals_ms:.4f}",
             f"{100 * signals_ms / read_ms:.1f}% of read"],
        ]
        removed = with_steps[0]["removed"]
        urls = pa.array([u for f in sorted(inputs.glob("*.warc.gz")) for t in WarcReader().read(str(f), ReadCounts())
                         for u in t.column("url").to_pylist()], pa.string())
        batch = pa.table({"url": urls})
        scope_rows = []
        for scope in ("host", "path"):
            block = OptOut(table=str(table), scope=scope, page_signals=False)
            block.filter(batch, BlockContext())  # loads the table index (once per worker in a run)
            c0 = time.process_time()
            for _ in range(20):
                block.filter(batch, BlockContext())
            scope_rows.append([scope, len(urls), f"{(time.process_time() - c0) / 20 / len(urls) * 1e6:.1f}"])
        texts = [t for p in sorted((OUT / "recipe-base").glob("*/part-*.parquet"))
                 for t in pq.read_table(p, columns=["text"]).column("text").to_pylist()]
        scale_rows = at_scale(table, hosts, texts, args.scale_docs, 4)
        scale_ms = sum(float(r[2]) for r in scale_rows)
        scale_rows.append(["**all three**", args.scale_docs, f"**{scale_ms:.4f}** "
                           f"({100 * scale_ms / outside_base:.2f}% of the recipe outside extraction)"])
        sections += [
            "",
            f"FineWeb2 recipe (precise extraction, one worker) on the {len(list(inputs.glob('*.warc.gz')))} real "
            f"WARCs of `fineweb2_end_to_end.py`: {docs} documents; medians of {args.rounds} alternated rounds per "
            f"side; the table: the 4,231 hosts above plus {len(blocked)} of the input's {len(hosts)} hosts "
            f"disallowing GPTBot. Removed with the steps: optout {removed.get('optout', 0)}, domain_cap "
            f"{removed.get('domain_cap', 0)}.",
            "",
            md_table(["CPU per input document", "ms", "of the recipe outside extraction"], rows),
            "",
            "optout's block alone on the same documents' URLs (20 passes; the table index is loaded before):",
            "",
            md_table(["scope", "URLs", "CPU µs / document"], scope_rows),
            "",
            f"At scale, the marginal cost per document: {args.scale_docs:,} documents in 4 shards (URLs on the "
            "input's hosts, a few large sites and many small ones; the recipe's real extracted texts), in this process; "
            "the run above has 48 documents per shard on average, so fixed costs per shard and per step (the table "
            "load, the barrier's tasks, files and markers) weigh on its per-document figures far more than on a "
            "Common Crawl shard of ~20,000 documents:",
            "",
            md_table(["CPU per document at scale", "documents", "ms"], scale_rows),
        ]
        figures.update({"optout_domain_cap_pct": round(100 * steps_ms / outside_base, 2),
                        "at_scale_pct": round(100 * scale_ms / outside_base, 2),
                        "recipe_outside_extraction_ms": round(outside_base, 3)})
    sections += ["", info.line(), f"<!-- figures {json.dumps(figures, sort_keys=True)} -->"]
    text = "\n".join(sections)
    print(text)
    write_section("optout_cost", text)


if __name__ == "__main__":
    main()
