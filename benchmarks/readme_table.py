"""Regenerate the performance table of README.md from benchmarks/RESULTS.md (run last by ``make bench``).

    .venv/bin/python benchmarks/readme_table.py [--check]

Every figure in the table is read from a RESULTS.md section that a benchmark script wrote: from its
``<!-- figures {...} -->`` line (fineweb2_end_to_end, extraction_quality, extraction_overhead,
minhash_signature) or from the summary
line of the section (filters_parity, dedup_quality, rehydration_parity, langid_second_opinion). A section that is
missing or has no such figure gives a row saying which script to run, never an old number. The table goes
between ``<!-- perf-table -->`` and ``<!-- /perf-table -->`` in README.md. ``--check`` exits 1 when README.md
is not up to date with RESULTS.md (nothing is written).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable

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
                     f"{e['pages']} gold pages, none used to train or tune what is measured", "extraction_quality"])
    return rows


def overhead_rows(body: str | None) -> list[Row]:
    f = figures(body)
    if f is None:
        return [_missing("extraction overhead", "extraction_overhead")]
    cells = ", ".join(f"{engine} {value:+.1f}%" for engine, value in sorted(f["overhead_percent"].items()))
    return [["`extract` block (CPU limit, size and depth checks, extraction process) over the bare engine call",
             cells, "same pages, 10,000+ per run", "extraction_overhead"]]


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


def _missing(what: str, script: str) -> Row:
    return [what, "not measured", f"run `benchmarks/{script}.py`", script]


BUILDERS: list[tuple[str, Callable[[str | None], list[Row]]]] = [
    ("fineweb2_end_to_end", e2e_rows), ("extraction_quality", extraction_rows),
    ("extraction_overhead", overhead_rows),
    ("minhash_signature", signature_rows), ("filters_parity", filters_rows),
    ("dedup_quality", dedup_quality_rows), ("rehydration_parity", rehydration_rows),
    ("langid_second_opinion", langid_rows),
]


def table(results: str) -> str:
    rows: list[Row] = []
    for name, build in BUILDERS:
        for row in build(section(results, name)):
            rows.append([*row[:3], f"[{row[3]}](benchmarks/RESULTS.md)"])
    return md_table(["what", "measured", "compared with", "section"], rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    args = ap.parse_args()
    readme = README.read_text(encoding="utf-8")
    if START not in readme or END not in readme:
        sys.exit(f"{README}: no {START} ... {END} markers (put them where the table goes)")
    head, rest = readme.split(START, 1)
    new = f"{head}{START}\n{table(RESULTS.read_text(encoding='utf-8'))}\n{END}{rest.split(END, 1)[1]}"
    if args.check:
        return 0 if new == readme else 1
    if new != readme:
        README.write_text(new, encoding="utf-8")
    print(new.split(START, 1)[1].split(END, 1)[0].strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
