"""The FineWeb2 recipe end to end, WARC to deduplicated Parquet: curate against datatrove, same inputs, same run.

    bash benchmarks/setup_reference_env.sh           # once: datatrove in benchmarks/.venv-datatrove
    .venv/bin/python benchmarks/fineweb2_end_to_end.py [--repeats 2]

Recipe (huggingface/fineweb-2 ``fineweb-2-pipeline.py``): read WARC -> trafilatura (favour precision) -> language
ID (lid.176.ftz on both sides) -> per language: language_score threshold, Gopher repetition, FineWeb quality,
Gopher quality (each with the language's FineWeb2 config) -> MinHash (5-grams, 14 x 8, per language, four stages
in datatrove) -> Parquet. Tools, each a fresh process per run, one core:

- **datatrove** (``_datatrove_fineweb2.py`` in benchmarks/.venv-datatrove, which pins trafilatura<1.12);
- **curate, same trafilatura**: curate in its own venv with the reference venv's trafilatura version put first on
  ``PYTHONPATH`` (``pip install --target _work/fineweb2_e2e/trafilatura-X --no-deps trafilatura==X``; its
  dependencies courlan, htmldate, jusText, lxml are the same versions in both venvs, checked and reported);
- **curate, shipped**: curate's venv as installed (its trafilatura);
- **curate, balanced**: curate's venv with ``extract: {engine: balanced}`` (resiliparse + a learned block model).

Rounds of all tools, the order rotated each round (the machine's load changes), ``--repeats`` rounds after one
untimed warm-up run (curate, which also finds the languages present; datatrove too when its model cache is
empty); medians. CPU time (user + system of the process and its children) is the measure, since
the machine may be shared; wall time and the load average are reported. Inputs: throughput.py's (the real WARCs of
shared/data/warc and the extraction pages, with ``WARC-Identified-Payload-Type`` set as Common Crawl has it).
Writes the ``fineweb2_end_to_end`` section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from _results import BENCH, REPO, WORK, figures_comment, machine_line, md_table, median, write_section
from filters_parity import fineweb2_config
from throughput import EXCLUDED, dt_model_path, prepare_inputs

from curate.languages.labels import lid176_labels, normalize_label
from curate.languages.table import load_language_table

DT_PYTHON = BENCH / ".venv-datatrove" / "bin" / "python"
E2E = WORK / "fineweb2_e2e"
TOOLS = ("datatrove", "curate (same trafilatura)", "curate (shipped)", "curate (balanced)")
STEPS = ["read", "extract", "langid", "language_score", "gopher_repetition", "fineweb_quality", "gopher_quality",
         "minhash", "write", "runner"]
SHARED_DEPS = ("courlan", "htmldate", "jusText", "lxml", "numpy")


def version_in(python: Path, *packages: str) -> dict[str, str]:
    code = "import importlib.metadata as m, json, sys; print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    proc = subprocess.run([str(python), "-c", code, *packages], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def same_trafilatura_path(version: str) -> Path:
    """A folder holding trafilatura==version alone, to put in front of curate's venv."""
    target = E2E / f"trafilatura-{version}"
    if not (target / "trafilatura").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                        f"trafilatura=={version}"], check=True)
    return target


def configs_json() -> tuple[Path, dict[str, str]]:
    """lid.176 label -> {FineWeb2 key, its config}, for datatrove's side; and the labels left out, with why."""
    table = load_language_table()
    out, skipped = {}, {}
    for label in lid176_labels():
        key = normalize_label(label)
        cfg = fineweb2_config(key)
        if cfg is None:
            skipped[label] = "no FineWeb2 config"
        elif str(table.get(key).tokenizer).startswith("stanza:"):
            skipped[label] = f"{key}: Stanza tokenizer (downloads models)"
        else:
            out[label] = {"key": key, "config": cfg}
    path = E2E / "configs.json"
    path.write_text(json.dumps(out), encoding="utf-8")
    return path, skipped


def run(tool: str, inputs: Path, ctx: dict[str, Any], warm: str) -> dict[str, Any]:
    out = E2E / ("out-" + tool.replace(" ", "-").replace("(", "").replace(")", ""))
    if out.exists():
        shutil.rmtree(out)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if tool == "datatrove":
        cmd = [str(DT_PYTHON), "_datatrove_fineweb2.py", "--input-dir", str(inputs), "--work-dir", str(out),
               "--model", ctx["model"], "--assets-cache", str(E2E / "hf_assets"), "--configs",
               str(ctx["configs"]), "--warm-langs", warm]
        env.pop("PYTHONPATH")
        cwd = BENCH
    else:
        engine = "balanced" if "balanced" in tool else "trafilatura"
        cmd = [sys.executable, str(BENCH / "_curate_fineweb2.py"), "--engine", engine, "--input-dir", str(inputs),
               "--output-dir", str(out), "--warm-langs", warm]
        if "same" in tool:
            env["PYTHONPATH"] = f"{ctx['same_trafilatura']}{os.pathsep}{REPO}"
        cwd = REPO
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["kept"] = json.loads((out / "kept.json").read_text(encoding="utf-8"))
    if tool == "datatrove":
        res["phases_cpu"]["runner"] = res.pop("stage1_other_cpu_s")
    return res


def agreement(a: dict[str, list[str]], b: dict[str, list[str]]) -> list[list[object]]:
    """Per language (of the tool that kept the document): kept by both, only by a, only by b."""
    lang_a = {i: lang for lang, ids in a.items() for i in ids}
    lang_b = {i: lang for lang, ids in b.items() for i in ids}
    rows = []
    for lang in sorted(set(a) | set(b), key=lambda k: -(len(a.get(k, [])) + len(b.get(k, [])))):
        ia, ib = set(a.get(lang, [])), set(b.get(lang, []))
        both = len(ia & ib)
        other = len({i for i in ia - ib if i in lang_b} | {i for i in ib - ia if i in lang_a})
        union = len(ia | ib)
        rows.append([lang, len(ib), len(ia), both, len(ib - ia - set(lang_a)), len(ia - ib - set(lang_b)),
                     other, f"{both / union:.3f}" if union else "-"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--report-only", action="store_true", help="rewrite the section from _work/.../runs.json")
    args = ap.parse_args()
    saved = E2E / "runs.json"
    if args.report_only:
        s = json.loads(saved.read_text(encoding="utf-8"))
        body = report(s["runs"], [Path(f) for f in s["files"]], s["dt_versions"], s["cu_versions"], s["skipped"],
                      s["repeats"])
        print(body)
        write_section("fineweb2_end_to_end", body)
        return
    if not DT_PYTHON.exists():
        sys.exit(f"{DT_PYTHON} not found: run `bash benchmarks/setup_reference_env.sh` first")
    E2E.mkdir(parents=True, exist_ok=True)
    inputs = E2E / "inputs"
    files = prepare_inputs(inputs)
    dt_versions = version_in(DT_PYTHON, "datatrove", "trafilatura", "warcio", "fasttext-numpy2-wheel", "pyarrow",
                             "spacy", *SHARED_DEPS)
    cu_versions = version_in(Path(sys.executable), "trafilatura", "resiliparse", "fastwarc", "pyarrow", "spacy",
                             *SHARED_DEPS)
    ctx = {"model": dt_model_path(), "same_trafilatura": same_trafilatura_path(dt_versions["trafilatura"])}
    ctx["configs"], skipped = configs_json()

    # warm-up round, untimed: page cache, .pyc files, datatrove's model cache; finds the languages present, whose
    # word tokenizers each tool then loads before its timed run
    first = run("curate (shipped)", inputs, ctx, "")
    warm = ",".join(first["langs"])
    if not (E2E / "hf_assets").exists():
        run("datatrove", inputs, ctx, warm)  # fills datatrove's model cache (a copy of the local lid.176.ftz)
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in TOOLS}
    for rep in range(args.repeats):
        for tool in TOOLS[rep % len(TOOLS):] + TOOLS[:rep % len(TOOLS)]:
            r = run(tool, inputs, ctx, warm)
            runs[tool].append(r)
            print(f"round {rep} {tool} (trafilatura {r['trafilatura']}): {r['docs_in']} docs, "
                  f"{r['cpu_s']:.1f} CPU s, {r['wall_s']:.1f} wall s, load {r['load1']}", flush=True)
    saved.write_text(json.dumps({"runs": runs, "files": [str(f) for f in files], "dt_versions": dt_versions,
                                 "cu_versions": cu_versions, "skipped": skipped, "repeats": args.repeats}),
                     encoding="utf-8")
    body = report(runs, files, dt_versions, cu_versions, skipped, args.repeats)
    print(body)
    write_section("fineweb2_end_to_end", body)


def report(runs: dict[str, list[dict[str, Any]]], files: list[Path], dt_v: dict[str, str], cu_v: dict[str, str],
           skipped: dict[str, str], repeats: int) -> str:
    med = {t: {k: median([r[k] for r in rs]) for k in ("cpu_s", "wall_s", "peak_rss_mb", "warm_cpu_s")}
           for t, rs in runs.items()}
    phase = {t: {s: median([r["phases_cpu"].get(s, 0.0) for r in rs]) for s in STEPS} for t, rs in runs.items()}
    docs = {t: rs[0]["docs_in"] for t, rs in runs.items()}
    loads = [x for rs in runs.values() for r in rs for x in r["load1"]]
    outside = {t: med[t]["cpu_s"] - phase[t]["extract"] for t in TOOLS}
    per_doc_out = {t: outside[t] / docs[t] * 1e3 for t in TOOLS}
    main_rows = []
    for t in TOOLS:
        r = runs[t][0]
        main_rows.append([
            f"**{t}**", r["trafilatura"] if "balanced" not in t else "- (balanced engine)", docs[t], r["written"],
            f"{med[t]['cpu_s']:.1f}", f"{docs[t] / med[t]['cpu_s']:.1f}", f"{med[t]['wall_s']:.1f}",
            f"{per_doc_out[t]:.2f}", f"{per_doc_out['datatrove'] / per_doc_out[t]:.1f}x",
            f"{(docs[t] / med[t]['cpu_s']) / (docs['datatrove'] / med['datatrove']['cpu_s']):.2f}x",
            f"{med[t]['peak_rss_mb']:.0f}"])
    main_table = md_table(["tool", "trafilatura", "docs in", "docs written", "CPU s", "docs/s/core (CPU)",
                           "wall s", "CPU ms/doc outside extraction", "outside extraction vs datatrove",
                           "docs/s/core vs datatrove", "peak RSS MB"], main_rows)
    step_rows = [[s] + [f"{phase[t][s] / docs[t] * 1e3:.2f}" for t in TOOLS] for s in STEPS]
    step_rows.append(["**total**"] + [f"{med[t]['cpu_s'] / docs[t] * 1e3:.2f}" for t in TOOLS])
    step_rows.append(["set-up before the run: word tokenizers (not in the total)"]
                     + [f"{med[t]['warm_cpu_s']:.1f} s" for t in TOOLS])
    step_table = md_table(["step (CPU ms per input document)", *TOOLS], step_rows)
    agree = agreement(runs["datatrove"][0]["kept"], runs["curate (same trafilatura)"][0]["kept"])
    agree_table = md_table(["language", "kept by curate", "kept by datatrove", "by both", "only curate",
                            "only datatrove", "kept by both under different languages", "Jaccard"], agree)
    goal = per_doc_out["datatrove"] / per_doc_out["curate (same trafilatura)"]
    deps = ", ".join(f"{p} {dt_v[p]}" + ("" if dt_v[p] == cu_v[p] else f" (curate venv: {cu_v[p]})")
                     for p in SHARED_DEPS)
    return "\n".join([
        "## FineWeb2 recipe end to end: curate vs datatrove, WARC to deduplicated Parquet, one core",
        "",
        "`.venv/bin/python benchmarks/fineweb2_end_to_end.py` — read → trafilatura (favour precision) → language "
        "ID (lid.176.ftz) → per language: language_score, Gopher repetition, FineWeb quality, Gopher quality "
        "(the language's FineWeb2 config) → MinHash (5-grams, 14×8, per language) → Parquet, on "
        f"{len(files)} real WARCs ({', '.join(f.name for f in files)}). datatrove is built as "
        "huggingface/fineweb-2's pipeline script builds it (`benchmarks/_datatrove_fineweb2.py`), curate runs "
        "the same steps from YAML (`benchmarks/_curate_fineweb2.py`). "
        f"Median of {repeats} rounds (order rotated) after a warm-up run.",
        "",
        main_table,
        "",
        "CPU ms per input document, by step:",
        "",
        step_table,
        "",
        "Keep/remove agreement of the two outputs, datatrove vs curate with the same trafilatura, per language "
        "(documents in the final Parquet, matched by WARC-Record-ID):",
        "",
        agree_table,
        "",
        f"- Goal: everything outside extraction at least 3x cheaper than datatrove's: "
        f"**{goal:.1f}x** ({'met' if goal >= 3 else 'missed'}; CPU ms per document outside extraction, "
        "datatrove / curate with the same trafilatura).",
        f"- Versions. datatrove venv: datatrove {dt_v['datatrove']}, trafilatura {dt_v['trafilatura']}, warcio "
        f"{dt_v['warcio']}, fasttext-numpy2-wheel {dt_v['fasttext-numpy2-wheel']}, pyarrow {dt_v['pyarrow']}, "
        f"spaCy {dt_v['spacy']}. curate venv: trafilatura {cu_v['trafilatura']} (shipped), resiliparse "
        f"{cu_v['resiliparse']}, fastwarc {cu_v['fastwarc']}, pyarrow {cu_v['pyarrow']}, spaCy {cu_v['spacy']}. "
        f"*curate (same trafilatura)* = curate's venv with trafilatura {dt_v['trafilatura']} from PyPI put first "
        f"on PYTHONPATH (`benchmarks/_work/fineweb2_e2e/trafilatura-{dt_v['trafilatura']}`); trafilatura's "
        f"dependencies in the two venvs: {deps}.",
        f"- Load average (1 min) during the runs: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores; "
        "other engineers' work shared the machine, so the figures are CPU time (user + system of the tool's "
        "process and its children, `resource.getrusage`), which stretches far less than wall time. "
        f"{machine_line()}.",
        "- Per-step CPU: `time.process_time` inside each step (curate: the reader, each block's `process`, the "
        "MinHash step's `prepare`/`process`, the Parquet writer; datatrove: subclasses of its reader, "
        "LanguageFilter and writers, and around each filter call). Both extract in a child process (datatrove's "
        "sandbox, curate's CPU-limited extraction process): *extract* includes that child's CPU, its start-up "
        "included. *runner* = the rest of the pipeline call: curate's row loop, "
        "counters, stage hand-over and markers; datatrove's executor, step plumbing and the pipe to the "
        "sandbox. datatrove's *minhash* is its four stages per language, executor start-up included.",
        "- Corpus size matters for *minhash*: datatrove runs its four MinHash stages per language, each a "
        "LocalPipelineExecutor start (the buckets stage as 14 tasks), so on this small corpus most of its "
        "MinHash cost is fixed per language and stage and would amortise over a real crawl's shards; the "
        "dedup_speed section compares the MinHash stages on 30k documents of one language. The filters' cost "
        "per document does not depend on the corpus size (filters_parity measures them apart, per language).",
        "- *peak RSS*: the larger of the tool's process and its largest child (`ru_maxrss`); curate's figure "
        "includes the word tokenizers of all languages present (loaded up front on both sides).",
        "- The word tokenizers of the languages present are loaded before the timed run on both sides "
        "(last row); datatrove's MinHash signature stages load their own again inside the stage (LocalPipelineExecutor "
        "deep-copies each stage's steps, and a loaded jieba tokenizer cannot be copied), as fineweb-2's "
        "separate dedup jobs do. Language model loading is inside *langid* on both sides.",
        "- What differs: readers (curate's FastWARC-based reader emits 2xx HTML responses; datatrove's warcio "
        "reader every HTML response record, hence different *docs in*); the extraction time limit is 5 s per "
        "page on both sides (datatrove: its sandbox timeout); datatrove writes the filtered documents to JSONL "
        "between the filtering and MinHash jobs, curate to Parquet between its two stages; curate does not write "
        "removed rows here (`write_removed: false`). FineWeb2 uses GlotLID and a URL filter; both sides use "
        "lid.176.ftz and no URL filter. Languages with no FineWeb2 config or a Stanza tokenizer (model "
        f"downloads) are dropped on datatrove's side ({len(skipped)} lid.176 labels: "
        + ", ".join(sorted(skipped)) + ").",
        "- Left out of the inputs: " + "; ".join(f"`{k}` ({v})" for k, v in EXCLUDED.items()) + ".",
        "",
        figures_comment({t: {"docs_per_cpu_s": round(docs[t] / med[t]["cpu_s"], 1),
                             "vs_datatrove": round((docs[t] / med[t]["cpu_s"])
                                                   / (docs["datatrove"] / med["datatrove"]["cpu_s"]), 2),
                             "outside_extraction_vs_datatrove": round(per_doc_out["datatrove"] / per_doc_out[t], 1),
                             "extract_ms_per_doc": round(phase[t]["extract"] / docs[t] * 1e3, 2),
                             "trafilatura": runs[t][0]["trafilatura"]} for t in TOOLS}),
    ])


if __name__ == "__main__":
    main()
