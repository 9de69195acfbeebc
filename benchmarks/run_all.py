"""Run every benchmark script in benchmarks/, one after the other; each writes its own section of RESULTS.md.

    .venv/bin/python benchmarks/run_all.py                # all of them (also: `make bench`)
    .venv/bin/python benchmarks/run_all.py --only throughput langid_accuracy
    .venv/bin/python benchmarks/run_all.py --skip dedup_scale

A benchmark script is any ``benchmarks/*.py`` whose name does not start with ``_``, other than this file, that
runs something when executed (has an ``if __name__ == "__main__":`` block; shared helper modules do not).
The reference environment (datatrove in ``benchmarks/.venv-datatrove``) is created first with
``setup_reference_env.sh`` when it is missing, unless ``--no-setup``. ``readme_table.py`` runs last, after the
others (it regenerates README.md's performance table from RESULTS.md). Exits non-zero if any script failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LAST = "readme_table"  # reads what the others wrote


def benchmark_scripts() -> list[Path]:
    scripts = []
    for path in sorted(BENCH.glob("*.py")):
        if path.name.startswith("_") or path.name == Path(__file__).name:
            continue
        if '__name__ == "__main__"' not in path.read_text(encoding="utf-8"):
            continue  # a helper module, not a benchmark
        scripts.append(path)
    return sorted(scripts, key=lambda p: p.stem == LAST)  # stable: the rest stay in name order


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="script names (without .py) to run")
    parser.add_argument("--skip", nargs="*", default=[], help="script names (without .py) to leave out")
    parser.add_argument("--no-setup", action="store_true", help="do not create the reference venv when missing")
    parser.add_argument("--list", action="store_true", help="only list the benchmark scripts")
    args = parser.parse_args()

    scripts = [s for s in benchmark_scripts()
               if (args.only is None or s.stem in args.only) and s.stem not in args.skip]
    if args.list:
        print("\n".join(s.stem for s in scripts))
        return 0
    if not (BENCH / ".venv-datatrove" / "bin" / "python").exists() and not args.no_setup:
        print("== creating the reference environment (benchmarks/setup_reference_env.sh)", flush=True)
        subprocess.run(["bash", str(BENCH / "setup_reference_env.sh")], cwd=REPO, check=True)

    summary: list[tuple[str, int, float]] = []
    for script in scripts:
        print(f"\n== {script.stem}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=REPO).returncode
        summary.append((script.stem, code, time.perf_counter() - t0))
    print("\n== summary")
    for name, code, seconds in summary:
        print(f"{'ok  ' if code == 0 else 'FAIL'} {name:<28} {seconds:8.1f} s" + (f"  (exit {code})" if code else ""))
    failed = [name for name, code, _ in summary if code]
    print(f"{len(summary) - len(failed)} of {len(summary)} benchmarks ran; results in benchmarks/RESULTS.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
