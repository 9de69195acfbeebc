"""The output folder's identity: which config wrote it, so a rerun resumes and a different config
does not silently mix its files with another's."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import fsspec

import curate
from curate.errors import CurateError

RUN_FILE = "_run.json"


class OutputInUseError(CurateError, RuntimeError):
    """The output folder holds a run of a different pipeline configuration."""


def config_hash(identity: dict[str, Any]) -> str:
    payload = json.dumps({"curate": curate.__version__, **identity}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def claim_output(out_dir: str, digest: str, name: str, overwrite: bool) -> None:
    fs, root = fsspec.core.url_to_fs(out_dir)
    run_file = f"{root}/{RUN_FILE}"
    if overwrite and fs.exists(root):  # start over, whichever config wrote it
        fs.rm(root, recursive=True)
    if fs.exists(run_file):
        with fs.open(run_file, "r") as handle:
            previous = json.load(handle).get("config_hash")
        if previous != digest:
            raise OutputInUseError(
                f"{out_dir} holds the output of a different pipeline configuration ({previous}, this one is "
                f"{digest}); choose another --output, or pass --overwrite to delete it and start again"
            )
    fs.makedirs(root, exist_ok=True)
    with fs.open(run_file, "w") as handle:
        json.dump({"config_hash": digest, "pipeline": name, "curate": curate.__version__}, handle, sort_keys=True)


def remove_partial_files(out_dir: str) -> int:
    """Delete temporary files a killed run left behind; they are never read."""
    fs, root = fsspec.core.url_to_fs(out_dir)
    if not fs.exists(root):
        return 0
    stale = [p for p in fs.find(root) if p.endswith(".tmp")]
    for path in stale:
        fs.rm(path)
    return len(stale)
