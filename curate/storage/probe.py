"""Preflight of the output location: refuse places workers cannot share, prove every node sees OUT.

Before any work the driver writes a small probe object under ``OUT/_probe/`` (:func:`write_probe`) and a
task on every node reads it back (:func:`read_probe`); a node that cannot is named in the error, and the
run stops before anything is computed. ``memory://`` (one process's memory) is refused everywhere but in
one process; a local path on a multi-node cluster is refused unless the user says it is a shared mount.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import fsspec

from curate.errors import CurateError
from curate.storage.atomic import write_bytes_atomic

PROBE_FOLDER = "_probe"
SHARED_STORAGE_HINT = ("use object storage every node can reach (s3://bucket/run, gs://..., with credentials "
                       "or `storage:` options on every node) or a folder mounted on every node (NFS, Lustre) "
                       "and set `executor: {shared_filesystem: true}`")


class StorageProbeError(CurateError):
    """The output location is not one every worker can read and write."""


def is_local_path(url: str) -> bool:
    return "://" not in url or url.startswith(("file://", "local://"))


def check_output_location(out_dir: str, nodes: int, shared_filesystem: bool, in_process: bool) -> None:
    """Refuse outputs that workers cannot share: ``memory://`` unless everything runs in this process,
    and a node-local path when the cluster has more than one node (unless declared a shared mount)."""
    if out_dir.startswith("memory://") and not in_process:
        raise StorageProbeError(
            f"output {out_dir}: memory:// lives in one process, and the workers run in others; {SHARED_STORAGE_HINT} "
            "(or a local folder when running on this machine)"
        )
    if nodes > 1 and is_local_path(out_dir) and not shared_filesystem:
        raise StorageProbeError(
            f"output {out_dir} is a local path, but the Ray cluster has {nodes} nodes: each would write to its "
            f"own disk and the run would miss shards; {SHARED_STORAGE_HINT}"
        )


def write_probe(out_dir: str) -> dict[str, str]:
    """Write ``OUT/_probe/<token>.json``; returns what a node needs to check it (url and token)."""
    token = secrets.token_hex(8)
    url = f"{out_dir.rstrip('/')}/{PROBE_FOLDER}/{token}.json"
    try:
        write_bytes_atomic(url, json.dumps({"token": token}).encode())
    except Exception as exc:
        raise StorageProbeError(f"cannot write to the output {out_dir} ({type(exc).__name__}: {exc}); check the "
                                "path, its permissions and the storage credentials/endpoint") from exc
    return {"url": url, "token": token}


def read_probe(probe: dict[str, str], where: str = "this node") -> None:
    """On a worker: read the probe back, or raise naming the node and the object."""
    try:
        with fsspec.open(probe["url"], "rb") as f:
            data: Any = json.loads(f.read())
    except Exception as exc:
        raise StorageProbeError(
            f"{where} cannot read {probe['url']} written by the driver ({type(exc).__name__}: {exc}); "
            f"the output must be storage every node shares: {SHARED_STORAGE_HINT}"
        ) from exc
    if data.get("token") != probe["token"]:
        raise StorageProbeError(f"{where} reads another {probe['url']} than the driver wrote (a node-local "
                                f"folder of the same name?); {SHARED_STORAGE_HINT}")


def remove_probe(out_dir: str) -> None:
    fs, root = fsspec.core.url_to_fs(f"{out_dir.rstrip('/')}/{PROBE_FOLDER}")
    if fs.exists(root):
        fs.rm(root, recursive=True)
