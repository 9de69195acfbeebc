"""Completion markers of one run's stages, keyed by input file identity, read from one listing.

A stage-0 marker is named by its shard's id (a digest of path, size and version, see
:class:`curate.io.input_files.Shard`): an unchanged file keeps its marker whatever files are
added or removed around it, a changed file gets a new one. Stages after a global step (dedup)
depend on every shard, so their markers and the global steps' live in a folder named by the
whole input set: any change to the set runs them again, and their workdir manifests (keyed by the
shard list) start over with them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import fsspec

from curate.io.input_files import Shard


class StageMarkers:
    def __init__(self, marker_dir: str, shards: list[Shard]) -> None:
        self.marker_dir = marker_dir.rstrip("/")
        self.shards = shards
        ids = "\n".join(sorted(s.shard_id for s in shards))
        self.set_key = hashlib.sha256(ids.encode()).hexdigest()[:16]
        self.barrier_dir = f"{self.marker_dir}/set-{self.set_key}"
        self.fs, self.root = fsspec.core.url_to_fs(self.marker_dir)
        self.listed = self._list()

    def _list(self) -> set[str]:
        """Every marker's path relative to the marker folder: one listing, not one ``exists`` per shard."""
        if not self.fs.exists(self.root):
            return set()
        prefix = self.root.rstrip("/") + "/"
        return {p[len(prefix):] for p in self.fs.find(self.root) if p.startswith(prefix)}

    def name(self, stage: int, shard_id: str) -> str:
        if stage == 0:
            return f"stage0-{shard_id}.json"
        return f"set-{self.set_key}/stage{stage}-{shard_id}.json"

    def path(self, stage: int, shard_id: str) -> str:
        return f"{self.marker_dir}/{self.name(stage, shard_id)}"

    def complete(self, stage: int) -> bool:
        return all(self.name(stage, s.shard_id) in self.listed for s in self.shards)

    def _read(self, name: str) -> dict[str, Any] | None:
        try:
            with self.fs.open(f"{self.root}/{name}", "r") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None

    def done(self, stage: int, check_next_input: bool) -> dict[str, dict[str, Any]]:
        """Shard id -> result of the shards this stage already did. With ``check_next_input``, a
        marker counts only while the intermediate file it points to still exists (a finished run
        deletes them; a later stage that must run again then needs this one again too)."""
        results: dict[str, dict[str, Any]] = {}
        present: dict[str, set[str]] = {}  # folder -> file names, one listing per folder
        for shard in self.shards:
            name = self.name(stage, shard.shard_id)
            if name not in self.listed:
                continue
            result = self._read(name)
            if result is None:
                continue
            target = result.get("next_input") or ""
            if check_next_input and target:
                folder, _, base = target.rpartition("/")
                if folder not in present:
                    fs, fs_folder = fsspec.core.url_to_fs(folder)
                    listed = fs.ls(fs_folder, detail=False) if fs.exists(fs_folder) else []
                    present[folder] = {p.rstrip("/").rsplit("/", 1)[-1] for p in listed}
                if base not in present[folder]:
                    continue
            results[shard.shard_id] = result
        return results

    def prune(self, n_stages: int) -> int:
        """Delete markers of files no longer in the input and of other input sets: a file added back
        later must not find a marker whose outputs were swept."""
        keep = {self.name(k, s.shard_id) for k in range(n_stages) for s in self.shards}
        stale = [name for name in self._list()
                 if name not in keep and not (name.startswith(f"set-{self.set_key}/global-"))]
        for name in stale:
            self.fs.rm(f"{self.root}/{name}")
        for path in self.fs.ls(self.root, detail=True) if self.fs.exists(self.root) else []:
            base = path["name"].rstrip("/").rsplit("/", 1)[-1]
            if path["type"] == "directory" and base != f"set-{self.set_key}":
                self.fs.rm(path["name"], recursive=True)
        return len(stale)
