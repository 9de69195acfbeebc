"""The output folder's identity: which config wrote it, so a rerun resumes and a different config
does not silently mix its files with another's."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import fsspec

from curate.errors import CurateError
from curate.io.partition_dir import partition_dir
from curate.storage.atomic import TMP_SUFFIX, write_text_atomic
from curate.storage.probe import PROBE_FOLDER
from curate.version import __version__

RUN_FILE = "_run.json"
# the input files of the last finished run with their identities (size, ETag or mtime): kept apart from
# stats.json, whose bytes must not depend on when the files were copied
INPUTS_FILE = "_markers/inputs.json"


class OutputInUseError(CurateError, RuntimeError):
    """The output folder holds a run of a different pipeline configuration."""


class NotCurateOutputError(CurateError, RuntimeError):
    """A run (with or without ``--overwrite``) was pointed at a folder curate did not write."""


# what curate itself puts in an output folder before (or besides) its run record: the lock of a run that
# was stopped before it wrote its record, its bookkeeping folders, and temporaries of a killed run
_OWN_NAMES = frozenset({"_lock.json", "_markers", "_work", "_stats", "_removed", PROBE_FOLDER})


def _curate_owned(names: set[str], run_file: str = RUN_FILE) -> bool:
    """Whether a folder holding ``names`` (its entries) is curate's: it has the run record, or holds
    nothing but curate's own bookkeeping (an empty folder too)."""
    if run_file in names:
        return True
    return all(n in _OWN_NAMES or n.startswith("_lock.json.") or n.endswith(TMP_SUFFIX) for n in names)


def check_output_target(out_dir: str, overwrite: bool, ignore: tuple[str, ...] = (),
                        run_file: str = RUN_FILE) -> None:
    """A run writes (and ``--overwrite`` deletes) only a folder that is empty or curate's own (see
    :func:`_curate_owned`): never mixes its files into a user's folder, whose ``part-*.parquet`` its
    stale-output sweep would delete. ``run_file`` names the record (``_tokenize.json`` for token shards)."""
    fs, root = fsspec.core.url_to_fs(out_dir)
    try:
        if not fs.exists(root):
            return
        is_dir = fs.isdir(root)
    except Exception:  # noqa: BLE001 - storage unreachable: the preflight's probe next says what is wrong
        return
    if not is_dir:
        raise NotCurateOutputError(f"{out_dir} is a file, not a folder; choose another --output")
    names = {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)} - set(ignore)
    if _curate_owned(names, run_file):
        return
    shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
    if overwrite:
        raise NotCurateOutputError(
            f"--overwrite refuses to delete {out_dir}: it is not a curate output (no {run_file}; it holds "
            f"{shown}); choose another --output or empty the folder yourself")
    raise NotCurateOutputError(
        f"{out_dir} is not empty and not a curate output (no {run_file}; it holds {shown}): curate writes only "
        "into an empty folder or its own output; choose another --output or empty the folder yourself")


def config_hash(identity: dict[str, Any]) -> str:
    payload = json.dumps({"curate": __version__, **identity}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def claim_output(out_dir: str, digest: str, name: str, overwrite: bool, keep: tuple[str, ...] = (),
                 record: str = RUN_FILE) -> None:
    """Record which config writes ``out_dir`` (in ``record``); with ``overwrite``, first delete everything in it
    but ``keep`` (the output lock this run holds)."""
    fs, root = fsspec.core.url_to_fs(out_dir)
    run_file = f"{root}/{record}"
    if overwrite and fs.exists(root):  # start over, whichever config wrote it
        check_output_target(out_dir, overwrite=True, ignore=keep, run_file=record)
        for path in fs.ls(root, detail=False):
            if path.rstrip("/").rsplit("/", 1)[-1] not in keep:
                fs.rm(path, recursive=True)
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
        json.dump({"config_hash": digest, "pipeline": name, "curate": __version__}, handle, sort_keys=True)


def remove_partial_files(out_dir: str) -> int:
    """Delete temporary files a killed run left behind; they are never read."""
    fs, root = fsspec.core.url_to_fs(out_dir)
    if not fs.exists(root):
        return 0
    stale = [p for p in fs.find(root) if p.endswith(TMP_SUFFIX)]
    for path in stale:
        fs.rm(path)
    return len(stale)


def previous_shards(out_dir: str) -> list[dict[str, Any]] | None:
    """The input files of the last finished run into ``out_dir`` (``path`` and identity ``id``), if any."""
    fs, root = fsspec.core.url_to_fs(out_dir)
    try:
        with fs.open(f"{root.rstrip('/')}/{INPUTS_FILE}", "r") as handle:
            return list(json.load(handle)["shards"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def record_inputs(out_dir: str, shards: list[Any]) -> None:
    """What :func:`previous_shards` reads on the next run: written when a run finishes."""
    record = {"shards": [{"path": s.path, "id": s.shard_id} for s in shards]}
    write_text_atomic(f"{out_dir.rstrip('/')}/{INPUTS_FILE}", json.dumps(record, indent=1) + "\n")


def input_changes(previous: list[dict[str, Any]] | None, shards: list[Any], listed: int = 20) -> dict[str, Any]:
    """What changed in the input since the last finished run: counts, and the first ``listed`` paths."""
    if previous is None:
        return {"previous_run": False, "shards": len(shards)}
    before = {s["path"]: s["id"] for s in previous}
    now = {s.path: s.shard_id for s in shards}
    added = [p for p in now if p not in before]
    removed = [p for p in before if p not in now]
    changed = [p for p in now if p in before and before[p] != now[p]]
    out: dict[str, Any] = {"previous_run": True, "unchanged": len(now) - len(added) - len(changed)}
    for key, paths in (("added", added), ("changed", changed), ("removed", removed)):
        out[key] = len(paths)
        if paths:
            out[f"{key}_paths"] = paths[:listed]
    return out


def remove_stale_outputs(out_dir: str, stage_results: list[list[dict[str, Any]]]) -> int:
    """Delete output and removed-row files no shard of this run wrote: those of input files removed
    or changed since an earlier run, and languages a changed file no longer has."""
    fs, root = fsspec.core.url_to_fs(out_dir)
    root = root.rstrip("/")
    expected: set[str] = set()
    for results in stage_results:
        for r in results:
            for lang in r.get("removed_rows", {}):
                expected.add(f"_removed/{partition_dir(lang)}/part-{r['name']}-stage{r['stage']}.parquet")
    for r in stage_results[-1] if stage_results else []:
        for lang in r.get("output", {}):
            expected.add(f"{partition_dir(lang)}/part-{r['name']}.parquet")
    stale = []
    for path in fs.find(root):
        rel = path[len(root) + 1:]
        top = rel.split("/", 1)[0]
        base = rel.rsplit("/", 1)[-1]
        if top in ("_stats", "_work", "_markers") or not (base.startswith("part-") and base.endswith(".parquet")):
            continue
        if rel not in expected:
            stale.append(path)
    for path in stale:
        fs.rm(path)
    return len(stale)
