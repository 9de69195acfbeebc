"""The cost around the extraction engine: the ``extract`` block against the bare engine call, on 10,000+ pages.

    .venv/bin/python benchmarks/extraction_overhead.py [--pages 10000] [--engines balanced trafilatura]
        [--repeats 3] [--engine-repeats trafilatura=1] [--pin auto|none|CPU] [--instructions balanced]

Corpus: every HTML page of shared/data (the two extraction WARCs and the crawls of shared/data/warc, 618 distinct
pages), in shards of distinct pages, repeated until ``--pages`` (each shard is one shard task: trafilatura's
cross-page dedup cache is emptied between shards, in both modes), in Arrow batches of 256 rows as the WARC reader
makes them. One process per engine and round runs the three modes below by turns, batch by batch, in a rotating
order, each batch with the engine's cross-page state emptied (trafilatura's dedup cache) in every mode: a change of
the machine's load hits the three alike (run as fresh processes one after another, the modes' CPU times moved by
10% between rounds on this shared machine). CPU time = user + system (``time.process_time`` around each mode's
turn; the extraction process's own CPU time from ``resource.getrusage`` once it has exited), so the load stretches
it far less than wall time. numpy runs on one thread in all three modes, as the extraction process runs it
(``extraction_process.ONE_BLAS_THREAD``): like with like, and no idle BLAS thread spinning into the counts. By
default all of it runs on one CPU (``--pin``), so the extraction process runs on the core the bare engine runs on:
left to the scheduler, it moved between cores and took 3 to 7 more points of CPU time than its instructions show.

- **bare engine**: the engine function on each page (str engines get a ``str`` decoded beforehand, outside
  the timing, one per distinct page): the floor;
- **extract block, extraction process**: ``Extract(engine).process`` on every batch with the defaults (CPU budget
  5 s per page in a persistent extraction process, size and depth limits checked first), the extraction
  process's start-up and warm-up included;
- **extract block, in the worker**: the same with ``timeout: 0`` (no extraction process), to split the cost.

*Overhead* = (block - bare) / bare. The breakdown rows time the block's own steps alone (on one shard, scaled to
all the pages): Arrow column to row views, size and depth checks, UTF-8 decoding, the batches' way into the page
file shared with the extraction process and out of it (``curate.extract.page_buffer``; timed on its second pass,
as the file lives as long as the worker: its first touch is once per worker), and the extraction process's
start-up. Writes the ``extraction_overhead`` section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from _results import REPO, RunInfo, md_table, require_shared, write_section

from curate.extract.extraction_process import ONE_BLAS_THREAD

CHILD = r"""
import json, os, pickle, resource, sys, time
PIN = int(os.environ["CURATE_BENCH_PIN"]) if os.environ.get("CURATE_BENCH_PIN") else None  # the parent's --pin
import pyarrow as pa
from curate.blocks.base import BlockContext
from curate.blocks.columns import READER_SCHEMA
from curate.extract.engines import ENGINES, TAKES_BYTES
from curate.extract.extract_block import Extract, html_views
from curate.extract.extraction_process import ENGINE_RESETS, _close_all, extraction_process
from curate.extract.html_limits import limit_reason
from curate.extract.page_buffer import PageBuffer, PageReader
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

def children_cpu():
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime

engine, mode, n_pages, paths = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
if PIN is not None:  # this process and the extraction process it starts (which inherits it) on one core
    os.sched_setaffinity(0, {PIN})
distinct, seen = [], set()
for p in paths:
    for t in WarcReader().read(p, ReadCounts()):
        for h in t.column("html").cast(pa.binary()).to_pylist():
            if h and h not in seen:
                seen.add(h)
                distinct.append(h)
shards = []
while sum(map(len, shards)) < n_pages:
    shards.append(distinct[:n_pages - sum(map(len, shards))])

def tables(pages):
    for i in range(0, len(pages), 256):
        chunk = pages[i:i + 256]
        cols = {name: [None] * len(chunk) for name in READER_SCHEMA.names}
        cols["id"] = [f"d{i + j}" for j in range(len(chunk))]
        cols["html"] = chunk
        yield pa.table(cols, schema=READER_SCHEMA.set(READER_SCHEMA.get_field_index("html"),
                                                      pa.field("html", pa.binary())))

fn = ENGINES[engine]
takes_bytes = engine in TAKES_BYTES
out = {"pages": sum(map(len, shards)), "distinct": len(distinct), "shards": len(shards)}
if mode == "interleaved":
    # the three modes take turns on every batch, in a rotating order: a change of the machine's load (this is a
    # shared VM: CPU times of one mode moved by 10% between fresh processes) hits all three alike, and none is
    # always the first to read a batch's pages into the cache
    decoded = {id(h): h if takes_bytes else h.decode("utf-8", errors="replace") for h in distinct}
    fn(decoded[id(distinct[0])])  # imports: the process mode pays them in its start-up
    reset = ENGINE_RESETS.get(engine)
    blocks = {"process": Extract(engine=engine, timeout=5.0), "in-worker": Extract(engine=engine, timeout=0)}
    order = ("bare", "process", "in-worker")
    spent = dict.fromkeys(order, 0.0)
    kids = children_cpu()
    turn = 0
    for shard in shards:
        for k, t in enumerate(tables(shard)):  # built outside the timing: a reader makes them in a run
            inputs = [decoded[id(h)] for h in shard[256 * k:256 * (k + 1)]]
            for mode_now in order[turn % 3:] + order[:turn % 3]:
                # every mode starts each batch with the engine's cross-page state emptied (trafilatura's
                # dedup cache): a fresh shard scope for the block, a reset for the bare engine
                start = time.process_time()
                if mode_now == "bare":
                    if reset is not None:
                        reset()
                    for h in inputs:
                        fn(h)
                else:
                    blocks[mode_now].process(t, BlockContext(shard=str(turn)))
                spent[mode_now] += time.process_time() - start
            turn += 1
    _close_all()  # joins the extraction process: its CPU time (start-up included) reaches RUSAGE_CHILDREN
    spent["process"] += children_cpu() - kids
    out["cpu"] = spent
elif mode.startswith("instructions:"):
    # one mode on the first N distinct pages, nothing else: run under valgrind by the parent, which counts the
    # instructions of this process and of its extraction process
    mode_now, n = mode.split(":")[1], int(mode.split(":")[2])
    pages = distinct[:n]
    batches = list(tables(pages))
    if mode_now == "bare":
        inputs = [h if takes_bytes else h.decode("utf-8", errors="replace") for h in pages]
        fn(inputs[0])  # imports, as the extraction process's warm-up does
        for h in inputs:
            fn(h)
    else:
        block = Extract(engine=engine, timeout=5.0 if mode_now == "process" else 0)
        for t in batches:
            block.process(t, BlockContext(shard="0"))
        _close_all()
elif mode == "parts":
    all_tables = list(tables(shards[0]))  # one shard timed, scaled to all pages below
    t0 = time.process_time()
    raws = [html_views(t.column("html")) for t in all_tables]
    t1 = time.process_time()
    limits = 0.0
    for r in raws:
        for h in r:
            page = bytes(h)  # the depth is checked on the page the extraction process has just copied
            start = time.process_time()
            limit_reason(page, 10_000_000, 2000)
            limits += time.process_time() - start
    t2 = time.process_time()
    if not takes_bytes:
        for r in raws:
            for h in r:
                bytes(h).decode("utf-8", errors="replace")
    t_decoded = time.process_time()
    buffer = PageBuffer()
    reader = PageReader(buffer.fd)

    def through_page_file():
        for r in raws:  # the batch into the shared file and out again, offsets pickled, as the two sides do
            spans = buffer.write(r)
            message = pickle.loads(pickle.dumps((1, buffer.size, [(i, o, n) for i, (o, n) in enumerate(spans)])))
            for _, o, n in message[2]:
                reader.page(o, n, message[1])

    through_page_file()  # the file's first touch: once per worker, whose file lives as long as it does
    t3 = time.process_time()
    through_page_file()
    t4 = time.process_time()
    buffer.close()
    s0 = cpu()
    extraction_process(engine, 5.0).start()
    _close_all()
    scale = out["pages"] / len(shards[0])  # the steps per page are the same on every shard
    out.update({"to_python": scale * (t1 - t0), "limits": scale * limits, "decode": scale * (t_decoded - t2),
                "pipe": scale * (t4 - t3), "startup": cpu() - s0})
print(json.dumps(out))
"""

MODES = {"bare": "bare engine", "process": "extract block, extraction process (defaults)",
         "in-worker": "extract block, in the worker (timeout: 0)"}


PIN_ENV = "CURATE_BENCH_PIN"  # the CPU of --pin, read by CHILD


def measure(engine: str, mode: str, pages: int, paths: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), **ONE_BLAS_THREAD}
    proc = subprocess.run([sys.executable, "-c", CHILD, engine, mode, str(pages), *paths], capture_output=True,
                          text=True, env=env, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{engine}/{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def instructions(engine: str, mode: str, n: int, paths: list[str]) -> int:
    """Instructions executed by one mode on the first ``n`` distinct pages: valgrind's cachegrind (no cache
    simulation), this process and its extraction process summed. Deterministic, unlike CPU time on a shared VM;
    ``rep movsb`` copies count one instruction per byte, so the copies of the page file weigh more than in time."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0", **ONE_BLAS_THREAD}
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
                               f"--cachegrind-out-file={tmp}/cg.%p", sys.executable, "-c", CHILD, engine,
                               f"instructions:{mode}:{n}", "0", *paths],
                              capture_output=True, text=True, env=env, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"valgrind {engine}/{mode} failed:\n{proc.stderr[-3000:]}")
    counts = [int(m.replace(",", "")) for m in re.findall(r"I\s+refs:\s+([\d,]+)", proc.stderr)]
    if not counts:
        raise SystemExit(f"no instruction count in valgrind's output:\n{proc.stderr[-2000:]}")
    return sum(counts)


def instruction_rows(engine: str, pages: int, paths: list[str], distinct: int) -> tuple[list[list], dict]:
    """Per page (all distinct pages once, less a one-page run: what every run pays once cancels) and per worker
    (the one-page run's extra over the bare engine's: the extraction process's start-up), scaled to ``pages``."""
    rows, figures = [], {}
    runs = {m: (instructions(engine, m, distinct, paths), instructions(engine, m, 1, paths)) for m in MODES}
    per_page = {m: (many - one) / (distinct - 1) for m, (many, one) in runs.items()}
    fixed = {m: runs[m][1] - per_page[m] for m in MODES}
    for mode, label in MODES.items():
        extra_fixed = fixed[mode] - fixed["bare"]
        at_pages = (per_page[mode] * pages + extra_fixed) / (per_page["bare"] * pages) - 1
        rows.append([engine, label, f"{per_page[mode] / 1e6:.2f}",
                     "" if mode == "bare" else f"{100 * (per_page[mode] / per_page['bare'] - 1):+.1f}%",
                     "" if mode == "bare" else f"{extra_fixed / 1e6:.0f}",
                     "" if mode == "bare" else f"{100 * at_pages:+.1f}%"])
        if mode != "bare":
            figures[mode] = round(100 * at_pages, 1)
    return rows, figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--engines", nargs="+", default=["balanced", "trafilatura"])
    ap.add_argument("--repeats", type=int, default=1, help="rounds of the three modes (median)")
    ap.add_argument("--engine-repeats", nargs="*", default=[], metavar="ENGINE=N",
                    help="rounds for one engine instead of --repeats (trafilatura's round is ~14 minutes)")
    ap.add_argument("--pin", default="auto", metavar="CPU",
                    help="run the modes (the process and its extraction process) on this one CPU: auto = the last "
                         "CPU this process may use; none = let the scheduler place them")
    ap.add_argument("--instructions", nargs="*", default=[], metavar="ENGINE",
                    help="also count these engines' instructions per mode under valgrind (all distinct pages "
                         "once; minutes for balanced, an hour for trafilatura)")
    args = ap.parse_args()
    pin = None if args.pin == "none" else max(os.sched_getaffinity(0)) if args.pin == "auto" else int(args.pin)
    if pin is not None:
        os.environ[PIN_ENV] = str(pin)
    paths = [str(require_shared("extraction", n)) for n in ("scrapinghub_aeb_pages.warc.gz",
                                                           "mozilla_readability_testpages.warc.gz")]
    paths += sorted(str(p) for p in require_shared("warc").glob("*.warc.gz") if "clipped" not in p.name)
    info = RunInfo(["trafilatura", "resiliparse", "pyarrow"])
    rows, parts_rows, figures = [], [], {}
    instr_rows: list[list] = []
    instr_figures: dict[str, dict] = {}
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind on PATH")
    rounds = {engine: args.repeats for engine in args.engines}
    rounds.update((k, int(v)) for k, v in (item.split("=") for item in args.engine_repeats))
    for engine in args.engines:
        cpu: dict[str, list[float]] = {m: [] for m in MODES}
        meta = {}
        for _ in range(rounds[engine]):
            r = measure(engine, "interleaved", args.pages, paths)
            for mode in MODES:
                cpu[mode].append(r["cpu"][mode])
            meta = r
            info.sample()
            print(engine, r, flush=True)
        n = meta["pages"]
        bare = statistics.median(cpu["bare"])
        for mode, label in MODES.items():
            value = statistics.median(cpu[mode])
            rows.append([engine, label, n, rounds[engine], f"{value:.1f}", f"{1e3 * value / n:.3f}",
                         "" if mode == "bare" else f"{100 * (value - bare) / bare:+.1f}%"])
        figures[engine] = round(100 * (statistics.median(cpu["process"]) - bare) / bare, 1)
        if engine in args.instructions:
            got, instr_figures[engine] = instruction_rows(engine, args.pages, paths, meta["distinct"])
            instr_rows += got
            print(engine, instr_figures[engine], flush=True)
        parts = measure(engine, "parts", args.pages, paths)
        for key, label in (("to_python", "Arrow column to row views"),
                           ("limits", "size and depth checks (on the page just copied, as the extraction process does)"),
                           ("decode", "UTF-8 decoding (str engines, in the extraction process)"),
                           ("pipe", "batches through the shared page file and read back (both sides; the file warm)"),
                           ("startup", "extraction process start-up and warm-up (once per worker)")):
            parts_rows.append([engine, label, f"{parts[key]:.2f}", f"{1e3 * parts[key] / n:.4f}",
                               f"{100 * parts[key] / bare:.2f}%"])
    table = md_table(["engine", "mode", "pages", "rounds", "CPU s", "CPU ms/page", "overhead vs bare engine"], rows)
    parts_table = md_table(["engine", "step (timed alone)", "CPU s", "CPU ms/page", "share of the bare engine"],
                           parts_rows)
    instr_text = [] if not instr_rows else [
        "",
        f"Instructions executed (`--instructions`: valgrind's cachegrind, no cache simulation; the process and its "
        f"extraction process summed), deterministic where CPU time on this shared VM is not. Per page: each of the "
        f"{meta['distinct']} distinct pages once, less a one-page run (what every run pays once cancels); per worker: "
        f"the one-page run's extra over the bare engine's (the extraction process's start-up); at {args.pages} "
        f"pages: both together. Copies by `rep movsb` (the page file) count one instruction per byte, so they weigh "
        f"more here than in time.",
        "",
        md_table(["engine", "mode", "M instructions/page", "per page vs bare", "M instructions once per worker",
                  f"overhead at {args.pages} pages"], instr_rows),
    ]
    text = "\n".join([
        "## Extraction overhead: the extract block against the bare engine call",
        "",
        f"`.venv/bin/python benchmarks/extraction_overhead.py --pages {args.pages} --engines "
        f"{' '.join(args.engines)} --repeats {args.repeats}"
        + (f" --engine-repeats {' '.join(args.engine_repeats)}" if args.engine_repeats else "")
        + (f" --pin {args.pin}" if args.pin != "auto" else "")
        + (f" --instructions {' '.join(args.instructions)}" if args.instructions else "")
        + f"` — {meta['pages']} pages ({meta['distinct']} distinct "
        f"HTML pages of shared/data in {meta['shards']} shards, Arrow batches of 256), the three modes by turns on "
        "every batch in one process per round (median of the rounds); CPU time of the process and its extraction "
        "process. "
        + ("All three modes on one CPU (`--pin`: the process and the extraction process it starts), so that the "
           "worker, its extraction process and the bare engine run on the same core: left to the scheduler, the "
           "extraction process moves between cores and took 3 to 7 more points of CPU time in earlier runs, which "
           "no instruction count shows. " if pin is not None else "Not pinned: the scheduler places the processes. ")
        + "Goal: overhead under 5%.",
        info.line(),
        "",
        table,
        "",
        "Where the rest goes (each step timed alone on the same pages, in the worker unless said):",
        "",
        parts_table,
        *instr_text,
        "",
        "<!-- figures " + json.dumps({"overhead_percent": figures, "instructions_overhead_percent": instr_figures},
                                     sort_keys=True) + " -->",
    ])
    print(text)
    write_section("extraction_overhead", text)


if __name__ == "__main__":
    main()
