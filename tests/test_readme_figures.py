"""README figures are generated from benchmarks/RESULTS.md, never typed (issue 23): `make test` fails when they
drift. benchmarks/readme_table.py writes the performance table and every ``<!-- fig NAME -->`` span of the text;
here its ``--check`` runs on the repository, on a README with one figure changed, and every paragraph that cites
a benchmark or RESULTS.md is searched for measured figures outside such spans."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pipeline_helpers import REPO

SCRIPT = REPO / "benchmarks" / "readme_table.py"
FIG = re.compile(r"<!-- fig (\S+) -->(.*?)<!-- /fig -->", re.S)
# a measured-looking figure: a decimal, a thousands-separated count, "N of M", a ratio "N.Nx"
MEASURED = re.compile(r"(?<![\w.§/-])(\d+\.\d+x?|\d{1,3}(?:,\d{3})+|\d+ of \d+)(?![\w.])")


def _check(readme: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--check", "--readme", str(readme)], capture_output=True,
                          text=True, timeout=60, cwd=REPO)


def test_readme_figures_match_results() -> None:
    done = _check(REPO / "README.md")
    assert done.returncode == 0, done.stderr


def test_a_typed_figure_is_caught(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    spans = FIG.findall(readme)
    assert len(spans) >= 10
    name, value = spans[0]  # any generated figure, typed over by hand
    typed = "0.37" if value != "0.37" else "0.38"
    drifted = readme.replace(f"<!-- fig {name} -->{value}<!-- /fig -->", f"<!-- fig {name} -->{typed}<!-- /fig -->")
    (tmp_path / "README.md").write_text(drifted, encoding="utf-8")
    done = _check(tmp_path / "README.md")
    assert done.returncode == 1 and f"{name}: README says '{typed}'" in done.stderr, done.stderr


def _paragraphs(text: str) -> list[str]:
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks: commands and settings, no measurements
    text = re.sub(r"<!-- perf-table -->.*?<!-- /perf-table -->", "", text, flags=re.S)
    return [p for p in re.split(r"\n\s*\n|\n(?=\s*[-*] )|\n(?=\|)", text) if p.strip()]


def test_every_quoted_benchmark_figure_is_generated() -> None:
    """A paragraph (list item, table row) that cites a benchmark script or RESULTS.md quotes its measurements
    inside fig spans only; settings and defaults there are written without decimals, or allowed below."""
    # an arXiv id; relatives_margin and the BCMS margin towards Serbian (settings); the nesting of a hostile page (an input)
    allowed = {"2506.20920", "0.4", "0.3", "100,000"}
    typed = []
    for paragraph in _paragraphs((REPO / "README.md").read_text(encoding="utf-8")):
        if not re.search(r"benchmarks/\w+\.py|RESULTS\.md", paragraph):
            continue
        for number in MEASURED.findall(FIG.sub("", paragraph)):
            if number not in allowed:
                typed.append(f"{number!r} in: {paragraph.strip()[:120]}...")
    assert not typed, "\n".join(typed)
