"""Regenerate the figures README.md quotes from benchmarks/RESULTS.md: its performance table and every figure in
its text (run last by ``make bench``; ``make test`` checks them, tests/test_readme_figures.py).

    .venv/bin/python benchmarks/readme_table.py [--check] [--readme README.md] [--results benchmarks/RESULTS.md]

Every figure in the table is read from a RESULTS.md section that a benchmark script wrote: from its
``<!-- figures {...} -->`` line (fineweb2_end_to_end, extraction_quality, extraction_overhead,
minhash_signature) or from the summary
line of the section (filters_parity, dedup_quality, rehydration_parity, langid_second_opinion). A section that is
missing or has no such figure gives a row saying which script to run, never an old number. The table goes
between ``<!-- perf-table -->`` and ``<!-- /perf-table -->`` in README.md. A figure in the README's text is
written ``<!-- fig NAME -->value<!-- /fig -->`` (the comments do not render); NAME is one of :data:`FIGURES`,
each read from its RESULTS.md section, so the text is regenerated with the table and never typed. ``--check``
exits 1, naming what differs, when README.md is not up to date with RESULTS.md (nothing is written).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from _results import REPO, RESULTS, md_table

README = REPO / "README.md"
START, END = "<!-- perf-table -->", "<!-- /perf-table -->"
Row = list[str]


def section(text: str, name: str) -> str | None:
    """The body of RESULTS.md's ``name`` section (closed by its end marker or by a second start marker)."""
    start = f"<!-- {name} -->"
    if start not in text:
        return None
    rest = text.split(start, 1)[1]
    for end in (f"<!-- /{name} -->", start):
        if end in rest:
            return rest.split(end, 1)[0]
    return rest


def figures(body: str | None) -> dict | None:
    m = re.search(r"<!-- figures (\{.*\}) -->", body or "")
    return json.loads(m.group(1)) if m else None


def e2e_rows(body: str | None) -> list[Row]:
    f = figures(body)
    if f is None:
        return [_missing("FineWeb2 recipe end to end", "fineweb2_end_to_end")]
    dt, same, shipped = (f[k] for k in ("datatrove", "curate (same trafilatura)", "curate (shipped)"))
    balanced = f.get("curate (balanced)")
    return [
        ["FineWeb2 recipe end to end (WARC → filters → MinHash → Parquet), docs/s per CPU core",
         f"{same['vs_datatrove']:.2f}x ({same['docs_per_cpu_s']} vs {dt['docs_per_cpu_s']})",
         f"curate vs datatrove, both with trafilatura {dt['trafilatura']}",
         "fineweb2_end_to_end"],
        ["… everything outside extraction, CPU per document",
         f"{same['outside_extraction_vs_datatrove']:.1f}x less", "same run, same trafilatura",
         "fineweb2_end_to_end"],
        ["… curate with its shipped trafilatura",
         f"{shipped['vs_datatrove']:.2f}x ({shipped['docs_per_cpu_s']} docs/s/core)",
         f"curate (trafilatura {shipped['trafilatura']}) vs datatrove (trafilatura {dt['trafilatura']})",
         "fineweb2_end_to_end"],
    ] + ([] if balanced is None else [
        ["… curate with `extract: {engine: balanced}`",
         f"{balanced['vs_datatrove']:.2f}x ({balanced['docs_per_cpu_s']} docs/s/core)",
         f"curate (balanced engine) vs datatrove (trafilatura {dt['trafilatura']}): different extractors",
         "fineweb2_end_to_end"],
    ]) + ([] if "extract_ms_per_doc" not in same else [
        ["… the extract step alone, CPU per document", f"{same['extract_ms_per_doc']} vs {dt['extract_ms_per_doc']} ms",
         f"curate vs datatrove, same trafilatura {dt['trafilatura']}, each with its extraction child process",
         "fineweb2_end_to_end"],
    ])


def extraction_rows(body: str | None) -> list[Row]:
    f = figures(body)
    if f is None or "balanced" not in f:
        return [_missing("extraction engines vs trafilatura", "extraction_quality")]
    t = f["trafilatura (FineWeb settings)"]
    rows = []
    for name in ("balanced", "resiliparse"):
        e = f[name]
        rows.append([f"`{name}` engine: extraction CPU per page; gold snippets found / boilerplate snippets absent, "
                     "token F1, out of sample",
                     f"{e['speed']:.1f}x faster; {e['found']:.3f} / {e['absent']:.3f}, F1 {e['f1']:.3f}",
                     f"vs trafilatura (FineWeb settings): {t['found']:.3f} / {t['absent']:.3f}, F1 {t['f1']:.3f}; "
                     f"{e['pages']} gold pages, "
                     + ("none scored by a model trained on it; the engine's hand-made choices and how far they move "
                        "it: `extraction_discard`" if name == "balanced" else "nothing tuned on them"),
                     "extraction_quality"])
    return rows


def overhead_rows(body: str | None) -> list[Row]:
    f = figures(body)
    if f is None:
        return [_missing("extraction overhead", "extraction_overhead")]
    cells = ", ".join(f"{engine} {value:+.1f}%" for engine, value in sorted(f["overhead_percent"].items()))
    instructions = f.get("instructions_overhead_percent", {})
    if instructions:
        cells += "; in instructions executed (valgrind): " + ", ".join(
            f"{engine} {modes['process']:+.1f}%" for engine, modes in sorted(instructions.items()))
    return [["`extract` block (CPU limit, size and depth checks, extraction process) over the bare engine call",
             f"CPU time: {cells}", "same pages, 10,000+ per run" + (
                 "; CPU time with the worker and its extraction process on one core"
                 if body and "All three modes on one CPU" in body else ""), "extraction_overhead"]]


def signature_rows(body: str | None) -> list[Row]:
    f = figures(body)
    if f is None:
        return [_missing("MinHash signature per document", "minhash_signature")]
    return [["MinHash signature (112 permutations) per document",
             f"{f['signature_speed']:.1f}x faster ({f['curate_ms']} vs {f['datatrove_ms']} ms)",
             "curate vs datatrove on the same shingles of distinct real text; identical signatures",
             "minhash_signature"]]


def filters_rows(body: str | None) -> list[Row]:
    m = re.search(r"\*\*(\d+) documents, (\d+) languages.*?FineWeb2 pipeline decision ([\d.]+)%.*?"
                  r"datatrove ([\d.]+) ms/doc, curate ([\d.]+) ms/doc: ([\d.]+)x", body or "")
    if m is None:
        return [_missing("FineWeb2 quality filters", "filters_parity")]
    return [["FineWeb2's three quality filters: keep/remove agreement, speed",
             f"{m.group(3)}% agree; {m.group(6)}x faster",
             f"vs datatrove's filters, {m.group(1)} documents in {m.group(2)} languages", "filters_parity"]]


def dedup_quality_rows(body: str | None) -> list[Row]:
    m = re.search(r"recall of pairs with Jaccard >= 0.8 \((\d+) pairs\) \| ([\d.]+)", body or "")
    if m is None:
        return [_missing("MinHash recall", "dedup_quality")]
    return [["MinHash near-duplicate recall at Jaccard ≥ 0.8", m.group(2),
             f"planted pairs ({m.group(1)}), FineWeb2 settings (14×8)", "dedup_quality"]]


def rehydration_rows(body: str | None) -> list[Row]:
    m = re.search(r"\| default \| 10 \| (\d+) \| (\d+) \|", body or "")
    if m is None:
        return [_missing("rehydration weights", "rehydration_parity")]
    return [["Rehydration weights (up to 10 repetitions)", f"{m.group(2)} of {m.group(1)} languages exact",
             "vs FineWeb2's published tables", "rehydration_parity"]]


def langid_rows(body: str | None) -> list[Row]:
    rows = re.findall(r"\| `(none|cld2)` \| ([\d.]+) \|", (body or "").split("### documents")[0])
    acc = dict(rows)
    if "none" not in acc or "cld2" not in acc:
        return [_missing("language ID second opinion", "langid_second_opinion")]
    return [["Language ID accuracy on 75 languages' sentences", f"{acc['none']} → {acc['cld2']}",
             "lid.176 alone → with CLD2 as second opinion", "langid_second_opinion"]]


def tokenize_rows(body: str | None) -> list[Row]:
    f = figures(body)
    if f is None:
        return [_missing("curate tokenize tokens/s per core", "tokenize_throughput")]
    return [["`curate tokenize` (encode + shuffled shards), tokens/s per core: weight-1 / weight-2 corpus",
             f"{f['tokenize_speedup']:.2f}x / {f['tokenize_speedup_weight2']:.2f}x "
             f"({f['tokenize_tokens_per_s_core'] / 1e3:,.0f}k tokens/s)",
             "vs datatrove DocumentTokenizer, same documents, tokenizer and .ds output", "tokenize_throughput"]]


def dedup_requests_rows(body: str | None) -> list[Row]:
    cells = table_rows(body, "| shards x partitions | requests before").get("256 x 64")
    if not cells:
        return [_missing("dedup object-store requests", "dedup_requests")]
    return [["MinHash dedup, object-store requests of every phase (256 shards x 64 partitions)",
             f"{cells[1]} (was {cells[0]})", "the same corpus with every reader opening every writer's file",
             "dedup_requests"]]


def dedup_index_rows(body: str | None) -> list[Row]:
    f = figures(body)
    if f is None:
        return [_missing("adding a dump to a dedup index", "dedup_index_growth")]
    return [[f"Adding a dump to a dedup index {f['ratio']}x its size, task CPU",
             f"{f['rebuild_over_add_cpu']}x less; {f['index_bytes_read_per_index_doc']} bytes of index read per "
             "earlier document", "one run over the new and every earlier dump", "dedup_index_growth"]]


def decont_rows(body: str | None) -> list[Row]:
    short = _search(body, r"\*\*([\d.]+) µs per document\*\*")
    chars = _search(body, r"mean ([\d,]+) characters\), XQuAD")
    page_chars = _search(body, r"mean \*\*([\d,]+) characters\*\*")
    pages = table_rows(body).get("XQuAD, 12 languages")
    cells = table_rows(body, "| tool | CPU µs / document").get("curate decontaminate (English index)")
    if short is None or chars is None or page_chars is None or not pages or not cells:
        return [_missing("decontamination CPU per document", "decont_speed")]
    return [["Decontamination, 13-gram exact match, CPU per document (XQuAD, 12 languages)",
             f"{short} µs at {chars} characters, {pages[4]} µs at {page_chars}; {cells[1]} faster",
             "datatrove NGramsDecontFilter (English)", "decont_speed"]]


def optout_rows(body: str | None) -> list[Row]:
    f = figures(body)
    if f is None:
        return [_missing("optout + domain_cap CPU", "optout_cost")]
    return [["`optout` + `domain_cap` inside the FineWeb2 recipe, CPU", f"{f['optout_domain_cap_pct']}% "
             f"({f['at_scale_pct']}% at scale)", "the recipe's CPU outside extraction", "optout_cost"]]


def _missing(what: str, script: str) -> Row:
    return [what, "not measured", f"run `benchmarks/{script}.py`", script]


BUILDERS: list[tuple[str, Callable[[str | None], list[Row]]]] = [
    ("fineweb2_end_to_end", e2e_rows), ("extraction_quality", extraction_rows),
    ("extraction_overhead", overhead_rows),
    ("minhash_signature", signature_rows), ("filters_parity", filters_rows),
    ("dedup_quality", dedup_quality_rows), ("rehydration_parity", rehydration_rows),
    ("langid_second_opinion", langid_rows), ("tokenize_throughput", tokenize_rows),
    ("dedup_requests", dedup_requests_rows), ("dedup_index_growth", dedup_index_rows),
    ("decont_speed", decont_rows), ("optout_cost", optout_rows),
]


def table(results: str) -> str:
    rows: list[Row] = []
    for name, build in BUILDERS:
        for row in build(section(results, name)):
            rows.append([*row[:3], f"[{row[3]}](benchmarks/RESULTS.md)"])
    return md_table(["what", "measured", "compared with", "section"], rows)


def table_rows(body: str | None, heading: str = "") -> dict[str, list[str]]:
    """Rows of the first Markdown table after the line starting with ``heading`` (the body's first table when
    empty), keyed by their first cell."""
    text = body or ""
    if heading:
        at = text.find("\n" + heading)
        if at < 0:
            return {}
        text = text[at + 1:]
    rows: dict[str, list[str]] = {}
    started = False
    for line in text.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set(cells[0]) <= set("-: "):
                rows.setdefault(cells[0], cells[1:])
        elif started:
            break
    return rows


def _cell(body: str | None, heading: str, row: str, column: int) -> str | None:
    cells = table_rows(body, heading).get(row)
    return cells[column] if cells and len(cells) > column else None


def _search(body: str | None, pattern: str) -> str | None:
    m = re.search(pattern, body or "")
    return m.group(1) if m else None


def _memory(row: str, code: str) -> Callable[[str | None], str | None]:
    def read(body: str | None) -> str | None:
        for line in (body or "").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) > 2 and cells[0] == row and cells[1] == code:
                return f"{int(cells[2]):,}"
        return None
    return read


def _resiliparse_overhead(body: str | None) -> str | None:
    rows = table_rows(body)
    alone = next((c for k, c in rows.items() if k == "resiliparse" and c[0].startswith("in the worker")), None)
    limited = [c for line in (body or "").splitlines() if line.startswith("| resiliparse | extraction process")
               for c in [[x.strip() for x in line.strip().strip("|").split("|")][1:]]]
    if alone is None or not limited:
        return None
    return f"{float(limited[0][4]) - float(alone[4]):+.2f}"


def _serbian(row: str) -> Callable[[str | None], str | None]:
    def read(body: str | None) -> str | None:
        cell = _cell(body, "### Serbian in both scripts", row, 1)
        return cell.replace("/", " of ") if cell else None
    return read


def _json(key: str) -> Callable[[str | None], str | None]:
    """A figure of the section's ``<!-- figures {...} -->`` line, as written there."""
    def read(body: str | None) -> str | None:
        f = figures(body)
        return None if f is None or key not in f else f"{f[key]:,}"
    return read


_SETS = {"sentences": "### lingua sentences", "documents": "### documents (10 sentences)"}
_CONFIGS = {"nogroups": "+ CLD2, no groups", "default": "+ CLD2 with groups (default)"}

# name -> (RESULTS.md section, reader of the figure from the section's body)
FIGURES: dict[str, tuple[str, Callable[[str | None], str | None]]] = {
    "memory.rss_4mb": ("memory_per_shard", _memory("4 MB JSONL, url_filter", "this checkout")),
    "memory.rss_256mb": ("memory_per_shard", _memory("256 MB JSONL, url_filter", "this checkout")),
    "memory.baseline_rss_4mb": ("memory_per_shard", _memory("4 MB JSONL, url_filter", "baseline")),
    "memory.baseline_rss_256mb": ("memory_per_shard", _memory("256 MB JSONL, url_filter", "baseline")),
    "extraction_limits.pages": ("extraction_limits", lambda b: _cell(b, "", "resiliparse", 1)),
    "extraction_limits.resiliparse_overhead_ms": ("extraction_limits", _resiliparse_overhead),
    "extraction_limits.depth_scan_ms": ("extraction_limits", lambda b: _search(b, r"depth scan alone .*? takes ([\d.]+) ms")),
    **{f"index.{key}": ("dedup_index_growth", _json(key))
       for key in ("ratio", "rebuild_over_add_cpu", "index_bytes_read_per_index_doc", "largest_task_growth_mib")},
    "relatives.serbian_latin_alone": ("langid_relatives", _serbian("lid.176 alone")),
    "relatives.serbian_latin_default": ("langid_relatives", _serbian("+ CLD2 with groups (default)")),
    **{f"relatives.{what}_{s}_{c}": ("langid_relatives", (lambda h, r, i: lambda b: _cell(b, h, r, i))(heading, row, col))
       for s, heading in _SETS.items() for c, row in _CONFIGS.items()
       for what, col in (("accuracy", 0), ("broken", 3))},
    **{f"relatives.bcms_gettext_docs_{lang}_{key}": (
        "langid_relatives", (lambda r, i: lambda b: _cell(b, "#### report: gettext documents", r, i))(rule, col))
       for key, rule in (("alone", "lid.176 alone"), ("before", "any move, margin 0.4 (before issue 23)"),
                         ("firstfix", "towards Serbian only, 0.2 (first fix)"),
                         ("default", "Serbian kept, towards Serbian 0.3"))
       for lang, col in (("serbian", 0), ("croatian", 1), ("bosnian", 2))},
}
FIG = re.compile(r"<!-- fig (\S+) -->(.*?)<!-- /fig -->", re.S)


def figure(results: str, name: str) -> str:
    if name not in FIGURES:
        raise KeyError(f"README.md quotes an unknown figure {name!r}; known: {', '.join(FIGURES)}")
    where, read = FIGURES[name]
    value = read(section(results, where))
    return value if value is not None else f"(not measured: run `benchmarks/{where}.py`)"


def regenerate(readme: str, results: str) -> str:
    """README.md with its table and every ``fig`` span regenerated from ``results``."""
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md: no {START} ... {END} markers (put them where the table goes)")
    head, rest = readme.split(START, 1)
    new = f"{head}{START}\n{table(results)}\n{END}{rest.split(END, 1)[1]}"
    return FIG.sub(lambda m: f"<!-- fig {m.group(1)} -->{figure(results, m.group(1))}<!-- /fig -->", new)


def differences(old: str, new: str) -> list[str]:
    olds, news = FIG.findall(old), FIG.findall(new)
    out = [f"{name}: README says {a!r}, RESULTS.md gives {b!r}" for (name, a), (_, b) in zip(olds, news, strict=True)
           if a != b]
    if old.split(START, 1)[1].split(END, 1)[0] != new.split(START, 1)[1].split(END, 1)[0]:
        out.append("the performance table differs")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    ap.add_argument("--readme", type=Path, default=README)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    readme = args.readme.read_text(encoding="utf-8")
    new = regenerate(readme, args.results.read_text(encoding="utf-8"))
    if args.check:
        diff = differences(readme, new)
        for line in diff:
            print(f"{args.readme}: {line}; run benchmarks/readme_table.py", file=sys.stderr)
        return 1 if diff or new != readme else 0
    if new != readme:
        args.readme.write_text(new, encoding="utf-8")
    print(new.split(START, 1)[1].split(END, 1)[0].strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
