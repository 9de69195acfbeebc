"""Output names and bytes depend on the input's paths and content, not on when the files were copied:
a re-downloaded file (new modification time) and the quickstart from another clone give the same bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline_helpers import REPO, parquet_digests, write_pipeline

from curate import run
from curate.config.pipeline_config import load_pipeline

STEPS = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}]


def _stats(out: Path) -> bytes:
    return (out / "_stats" / "stats.json").read_bytes()


def test_a_fresh_copy_of_the_same_file_gives_the_same_output(tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "warc" / "wget-crawl-sample-0000.warc.gz"
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    local = inputs / "crawl.warc.gz"
    shutil.copyfile(source, local)
    os.utime(local, (1_000_000_000, 1_000_000_000))
    cfg = load_pipeline(str(write_pipeline(tmp_path / "p.yaml", [str(inputs)], tmp_path / "out", STEPS,
                                           executor={"type": "local", "workers": 1})))
    first = run(cfg)
    before, stats_before = parquet_digests(tmp_path / "out"), _stats(tmp_path / "out")
    assert first.ran_tasks == 1 and before

    # the same bytes copied again: another modification time
    local.unlink()
    shutil.copyfile(source, local)
    os.utime(local, (1_700_000_000, 1_700_000_000))
    again = run(cfg)
    assert again.input_changes["changed"] == 1 and again.ran_tasks == 1  # its identity changed: rerun
    assert parquet_digests(tmp_path / "out") == before  # same file names, same bytes, nothing stale left
    assert _stats(tmp_path / "out") == stats_before

    fresh_cfg = load_pipeline(str(write_pipeline(tmp_path / "q.yaml", [str(inputs)], tmp_path / "fresh", STEPS,
                                                 executor={"type": "local", "workers": 1})))
    run(fresh_cfg)
    assert parquet_digests(tmp_path / "fresh") == before
    assert _stats(tmp_path / "fresh") == stats_before


def _quickstart(package_parent: Path, out: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    proc = subprocess.run([sys.executable, "-m", "curate.cli", "run", str(REPO / "pipelines" / "quickstart.yaml"),
                           "--output", str(out)], capture_output=True, text=True, env=env, cwd=package_parent,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {**parquet_digests(out), "stats.json": _stats(out).hex()}


def test_the_quickstart_output_does_not_depend_on_where_curate_is_installed(tmp_path: Path,
                                                                            quickstart_output: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copytree(REPO / "curate", clone / "curate", ignore=shutil.ignore_patterns("__pycache__"))
    for sample in (clone / "curate" / "samples").iterdir():
        os.utime(sample, (1_234_567_890, 1_234_567_890))  # a clone made at another time
    # here: the session's quickstart run (this checkout's curate, the file's 2 workers), shared with the tests of
    # what comes after a run; there: the CLI of the clone, run from the clone
    here = {**parquet_digests(quickstart_output), "stats.json": _stats(quickstart_output).hex()}
    there = _quickstart(clone, tmp_path / "there")
    assert here == there
    assert any(name.endswith(".parquet") and not name.startswith("_") for name in here)
