"""Parity of our rehydration weights with FineWeb2's published tables.

For every language of FineWeb2's ``misc/rehydration/distributions/{lang}.json`` (huggingface/fineweb-2,
Apache-2.0) compute the repetition table for M = 3..10 and compare it with the published
``weights/up_to_{MM}_reps.json``, in two modes: our default (a series shorter than the smoothing
window stays unsmoothed) and ``fineweb2_short_series=True`` (replays FineWeb2's np.convolve artefact).
Also rebuilds each language's counts and checks that the counts path gives the distribution back.

Prints a table and writes it into the ``rehydration_parity`` section of benchmarks/RESULTS.md
(``_results.write_section``: only that section is replaced). Usage: ``.venv/bin/python benchmarks/rehydration_parity.py``
(data folder from ``CURATE_SHARED_DATA``, default ``../shared/data`` beside the repo).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from _results import RunInfo, write_section

from curate.rehydrate import removal_distribution
from curate.rehydrate.parity import (
    HALF_TIE,
    SHORT_SERIES,
    counts_from_distribution,
    half_ties,
    load_published,
    parity,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "benchmarks" / "RESULTS.md"
REASONS = {
    SHORT_SERIES: "fewer bins than the 5-wide window: we keep them unsmoothed, FineWeb2's "
    'np.convolve(mode="same") shifted values (run with fineweb2_short_series=True to replay it)',
    HALF_TIE: "5-wide average exactly k + 0.5: the rounding follows the last bit of float summation",
}


def data_dir() -> Path:
    return Path(os.environ.get("CURATE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


def _reason_cell(by_reason: dict[str, list[str]]) -> str:
    if not by_reason:
        return "-"
    return "; ".join(f"{len(langs)} {reason}: {', '.join(langs)}" for reason, langs in by_reason.items())


def run() -> str:
    root = data_dir() / "fineweb2" / "rehydration"
    if not (root / "distributions").is_dir():
        sys.exit(f"FineWeb2 rehydration data not found under {root} (set CURATE_SHARED_DATA)")
    dists, tables = load_published(root)

    lines = [
        "| mode | M | languages | exact matches | mismatches | reason |",
        "|---|---|---|---|---|---|",
    ]
    seen_reasons: set[str] = set()
    started = time.perf_counter()
    for mode, compat in (("default", False), ("fineweb2_short_series", True)):
        for m in sorted(tables):
            row = parity(dists, tables[m], m, fineweb2_short_series=compat)
            seen_reasons.update(row.by_reason)
            lines.append(
                f"| {mode} | {m} | {row.languages} | {row.exact} | {row.languages - row.exact} "
                f"| {_reason_cell(row.by_reason)} |"
            )
    elapsed = time.perf_counter() - started
    n_tables = 2 * len(tables) * len(dists)

    ties = sum(half_ties(d, m, fineweb2_short_series=True) for m in tables for d in dists.values())
    rebuilt = sum(removal_distribution(*counts_from_distribution(d)) == d for d in dists.values())

    out = [
        "## Rehydration weights vs FineWeb2's published tables",
        "",
        "`benchmarks/rehydration_parity.py`: `curate.rehydrate` on FineWeb2's "
        "`misc/rehydration/distributions/*.json`, compared table for table with their "
        "`weights/up_to_{03..10}_reps.json` (huggingface/fineweb-2, Apache-2.0).",
        "",
        *lines,
        "",
    ]
    for reason in sorted(seen_reasons):
        out.append(f"- *{reason}*: {REASONS.get(reason, 'see curate/rehydrate/parity.py')}")
    out += [
        f"- Float ties: {ties} bins over all {len(tables) * len(dists)} tables average to exactly k + 0.5; "
        "their rounding follows the last bit of numpy's convolution (BLAS/CPU dependent). Here every one "
        "rounds as published; elsewhere some may flip, which the test tolerates and reports as *.5 tie*.",
        f"- Counts path: per-size kept/removed counts rebuilt from each file give the file back through "
        f"`removal_distribution` (tail threshold chosen by us, rates bit for bit) for {rebuilt} of "
        f"{len(dists)} languages.",
        f"- {n_tables} tables in {elapsed:.1f} s ({1e3 * elapsed / n_tables:.2f} ms each, "
        f"mismatch diagnosis included); numpy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}.",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    info = RunInfo(["numpy"])
    report = run() + "\n- " + info.line()
    print(report)
    write_section("rehydration_parity", report)
    print(f"\nwritten to {RESULTS.relative_to(REPO_ROOT)}")
