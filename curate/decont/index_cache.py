"""An index built from ``sets:`` named in a pipeline, once per machine, in a local cache folder.

``decontaminate: {sets: [...]}`` needs no separate ``curate decont index`` step: the first process of a machine
that needs the index builds it into ``$CURATE_DECONT_CACHE`` (else ``~/.cache/curate/decont``) under a file lock
while the others wait, then every process maps it read-only. The folder is named by a digest of what determines
the index: the set settings, each set file's path, size and version (ETag or modification time), n, the common
n-gram rule and the hash scheme; a changed file gives a new index. Builds are deterministic, so the machines of a
cluster build the same bytes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import fsspec

from curate.decont.decont_index import NORMAL_FORM, DecontIndex, open_index
from curate.decont.index_builder import build_index
from curate.decont.index_files import MANIFEST
from curate.decont.ngram_hash import HASH_SCHEME
from curate.decont.set_loader import set_files
from curate.decont.set_spec import parse_set_specs
from curate.version import __version__


def cache_root() -> Path:
    return Path(os.environ.get("CURATE_DECONT_CACHE") or Path.home() / ".cache" / "curate" / "decont")


def _file_identity(url: str) -> list[Any]:
    fs, path = fsspec.core.url_to_fs(url)
    info = fs.info(path)
    version = info.get("ETag") or info.get("etag") or info.get("generation") or info.get("mtime") or \
        info.get("LastModified") or info.get("last_modified")
    return [url, info.get("size"), str(version)]


def index_key(sets: Any, n: int, common_texts: int | None) -> str:
    specs = parse_set_specs(sets)
    identity = {
        "sets": [spec.describe() for spec in specs],
        "files": [_file_identity(f) for spec in specs for f in set_files(spec)],
        "n": n, "common_texts": common_texts, "hash": HASH_SCHEME, "normal_form": NORMAL_FORM,
        "curate": __version__,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:24]


def cached_index(sets: Any, n: int, common_texts: int | None) -> DecontIndex:
    """The index of ``sets``, built here if this machine has none yet."""
    root = cache_root()
    final = root / index_key(sets, n, common_texts)
    if not (final / MANIFEST).exists():
        root.mkdir(parents=True, exist_ok=True)
        with open(root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (final / MANIFEST).exists():
                tmp = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
                try:
                    build_index(sets, str(tmp), n=n, common_texts=common_texts)
                    if final.exists():
                        shutil.rmtree(final)
                    os.replace(tmp, final)
                finally:
                    if tmp.exists():
                        shutil.rmtree(tmp)
    return open_index(str(final))
