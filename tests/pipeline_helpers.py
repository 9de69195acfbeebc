"""Helpers shared by pipeline tests: write a pipeline file, read outputs back, compare bytes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import yaml  # pyyaml comes with the dev tools; the package itself reads YAML with ruamel

REPO = Path(__file__).resolve().parent.parent


def write_pipeline(path: Path, inputs: list[str], output: Path, steps: list, **extra) -> Path:
    doc = {"name": "test", "input": {"paths": inputs}, "output": str(output), "pipeline": steps, **extra}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def parquet_digests(out: Path) -> dict[str, str]:
    """sha256 of every Parquet file under ``out`` (keyed by relative path), markers excluded."""
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*.parquet"))
        if "_markers" not in p.parts
    }


def run_cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    return subprocess.run([sys.executable, "-m", "curate.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
