"""A persistent, versioned dedup index on any fsspec store: what the next dump is deduplicated against.

Layout under the index URL::

    _lock.json                       the one writer (:mod:`.index_lock`)
    versions/v000003.json            version 3's manifest: written last, created only if absent = the commit
    data/v000003-<run>/...           the files version 3 added (immutable; later versions refer to them)

A manifest names every table file its version reads (:mod:`.index_tables`): per dump its ``keys`` and
``docs`` shuffles, the ``labels`` and ``clusters`` segments of every version since the last rebuild, the
``updates`` each version wrote for earlier dumps' outputs, and the corpus-wide counts (cluster sizes per
language, the filters' outcome per language and cluster size for rehydration, the rehydration tables of
the last run). Versions are never modified: a run writes its files under a new ``data/`` folder and commits
by creating the next manifest; a run killed before that leaves the previous version whole (its own files
are only unreferenced) and, rerun, writes the same files again and commits.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from curate.dedup.index_lock import IndexLock
from curate.errors import CurateError
from curate.shuffle.partitioned_shuffle import INDEX, ShuffleRef
from curate.shuffle.workdir import Workdir
from curate.storage.exclusive_create import create_exclusive

FORMAT = 1
_VERSION = re.compile(r"^v(\d{6})\.json$")


class DedupIndexError(CurateError):
    """A dedup index that cannot be used as asked (settings, dumps, versions)."""


def version_name(version: int) -> str:
    return f"v{version:06d}.json"


class DedupIndex:
    """The index at ``url``: its versions, their manifests, the commit, and copies of shuffles into it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.wd = Workdir(self.url)

    def versions(self) -> list[int]:
        return sorted(int(m.group(1)) for name in self.wd.listdir("versions") if (m := _VERSION.match(name)))

    def manifest(self, version: int | None = None) -> dict[str, Any] | None:
        """The manifest of ``version`` (default: the latest); None for an empty index."""
        if version is None:
            versions = self.versions()
            if not versions:
                return None
            version = versions[-1]
        if not self.wd.exists("versions", version_name(version)):
            raise DedupIndexError(f"dedup index {self.url} has no version {version}")
        manifest = self.wd.read_json("versions", version_name(version))
        if manifest.get("format") != FORMAT:
            raise DedupIndexError(f"dedup index {self.url} version {version} has format {manifest.get('format')}; "
                                  f"this curate reads format {FORMAT}")
        return manifest

    def commit(self, manifest: dict[str, Any]) -> None:
        """Create ``versions/v<n>.json``: the version exists from this moment on, whole."""
        self.wd.makedirs("versions")
        data = json.dumps(manifest, sort_keys=True, indent=1).encode()
        path = self.wd.path("versions", version_name(manifest["version"]))
        if not create_exclusive(self.wd.fs, path, data):
            if self.wd.fs.cat_file(path) == data:
                return  # committed already (the same run, rerun after the commit)
            raise DedupIndexError(f"dedup index {self.url} already has a version {manifest['version']} written by "
                                  "another run; rerun to deduplicate against it")

    def lock(self, run: str, operation: str, dump: str, out_dir: str = "") -> IndexLock:
        return IndexLock(self.wd, run, operation, dump, out_dir)

    def copy_shuffle(self, src: Workdir, ref: ShuffleRef, dest: str) -> ShuffleRef:
        """Copy a merged shuffle (its group files and its index) from ``src`` to ``dest`` under the index,
        streamed, a file at a time; files already there whole (a resumed commit) are not copied again."""
        files = [("groups", f"group-{g:05d}.arrow") for g in range(ref.groups)] + [(INDEX,)]
        for parts in files:
            source = src.path(ref.folder, *parts)
            if not src.fs.exists(source):
                continue  # a shuffle with no rows has no group file
            size = src.fs.size(source)
            if self.wd.exists(dest, *parts) and self.wd.fs.size(self.wd.path(dest, *parts)) == size:
                continue
            with src.fs.open(source, "rb") as fin, self.wd.open_stream(dest, *parts) as fout:
                while chunk := fin.read(16 << 20):
                    fout.write(chunk)
        return ShuffleRef(dest, ref.partitions, ref.groups)


def dump_ordinals(manifest: dict[str, Any], nodes: np.ndarray) -> np.ndarray:
    """Index in ``manifest["dumps"]`` of the dump holding each global document number."""
    firsts = np.asarray([d["first_node"] for d in manifest["dumps"]], dtype=np.int64)
    return np.searchsorted(firsts, np.asarray(nodes, dtype=np.int64), side="right") - 1


def refs(entries: list[dict[str, Any]]) -> list[ShuffleRef]:
    return [ShuffleRef(**e) for e in entries]
