"""Shared helpers of the benchmark scripts: data location, Markdown tables, and the RESULTS.md section writer."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
SHARED = Path(os.environ.get("CURATE_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()
WORK = BENCH / "_work"  # scratch outputs (gitignored)
DT_PYTHON = BENCH / ".venv-datatrove" / "bin" / "python"


def require_shared(*parts: str) -> Path:
    """A path under the shared data folder, or exit with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        sys.exit(f"{path} not found: set CURATE_SHARED_DATA to the shared data folder (see shared/data/README.md)")
    return path


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table; floats are printed as given (format them before)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine_line() -> str:
    """One line naming the machine the numbers come from."""
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def package_versions(python: str | Path, packages: Sequence[str]) -> str:
    """``name version`` of each installed package in the venv of ``python`` ("missing" when absent)."""
    code = ("import importlib.metadata as m, sys\n"
            "def v(p):\n    try:\n        return m.version(p)\n    except m.PackageNotFoundError:\n"
            "        return 'missing'\n"
            "print(', '.join(f'{p} {v(p)}' for p in sys.argv[1:]))")
    proc = subprocess.run([str(python), "-c", code, *packages], capture_output=True, text=True)
    return proc.stdout.strip() or f"(could not run {python})"


class RunInfo:
    """The load average from the start of a benchmark to its end, and the versions it ran with, as one line.

    ``curate`` packages are looked up in this venv, ``reference`` ones in benchmarks/.venv-datatrove.
    """

    def __init__(self, curate: Sequence[str], reference: Sequence[str] = ()) -> None:
        self.curate, self.reference = list(curate), list(reference)
        self.loads = [os.getloadavg()[0]]

    def sample(self) -> None:
        self.loads.append(os.getloadavg()[0])

    def line(self) -> str:
        self.sample()
        parts = [f"Versions: curate venv: {package_versions(sys.executable, self.curate)}"]
        if self.reference:
            parts.append(f"datatrove venv: {package_versions(DT_PYTHON, self.reference)}")
        return ("; ".join(parts) + f". 1-min load average {min(self.loads):.2f}–{max(self.loads):.2f} during the "
                f"run (the machine may be shared: CPU times stretch far less than wall times); {machine_line()}.")


def figures_comment(figures: dict[str, object]) -> str:
    """The headline figures of a section as one HTML comment line, read back by readme_table.py."""
    return f"<!-- figures {json.dumps(figures, sort_keys=True)} -->"


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the ``<!-- name -->`` ... ``<!-- /name -->`` section of RESULTS.md.

    Other benchmark scripts write their own sections concurrently: the read-modify-write runs under an
    exclusive lock on ``_work/RESULTS.md.lock`` and reads the file right before writing it; everything outside
    this section is kept byte for byte.
    """
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    WORK.mkdir(parents=True, exist_ok=True)
    lock_path = WORK / "RESULTS.md.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
            head, found, rest = text.partition(start)
            if found and end in rest:
                text = head + block + rest.split(end, 1)[1]
            elif found and start in rest:  # an older section closed by a second copy of the start marker
                text = head + block + rest.split(start, 1)[1]
            else:
                text = text.rstrip("\n") + "\n\n" + block + "\n"
            tmp = RESULTS.with_name(f".{RESULTS.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, RESULTS)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
