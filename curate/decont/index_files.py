"""The files of a decontamination index and their manifest, on any fsspec store.

An index is a folder::

    manifest.json     format, n, normal form, hash scheme, Unicode version, counts per set and language,
                      the common n-grams left out, and every file's sha256 and size; its own "checksum" last
    words.npy         uint64, sorted: hashes of the evaluation texts' word n-grams (one row per n-gram and text)
    refs.npy          uint32 (rows, 2): text id and token position of each row, to check a hit on the text itself
    words_bitmap.npy  uint8: the bitmap in front of words.npy (curate.decont.hash_lookup)
    chars.npy, chars_bitmap.npy   character n-grams of the texts in scripts written without spaces
    texts.arrow       text_id, lang, tokens, text, items (set, item, field) of every distinct evaluation text
    common.parquet    the n-grams left out as too common, with their counts

The arrays are ``.npy`` files and the texts an uncompressed Arrow IPC file, memory-mapped read-only: every worker
of a machine shares one copy in the page cache. Files are written to a local temporary folder first (streamed, never
held twice in memory), then moved or uploaded; the manifest goes last. A local index is used where it is; a remote one (``s3://...``) is fetched once per machine into curate's
file cache (:mod:`curate.models.cache`, content-addressed by the manifest's sha256) and mapped from there. Every
file is checked against the manifest's sha256 once per process: a damaged index is refused with one line saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from curate.decont.errors import DecontIndexError
from curate.models.cache import sha256_of
from curate.models.errors import ModelUnavailableError
from curate.models.resolve import resolve_model
from curate.storage.atomic import write_bytes_atomic

FORMAT = "curate-decont-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = ("words", "refs", "words_bitmap", "chars", "chars_bitmap")
TEXTS = "texts.arrow"
COMMON = "common.parquet"


def _checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _write_local(folder: Path, arrays: dict[str, np.ndarray], texts: pa.Table, common: pa.Table) -> list[str]:
    names = []
    for name in ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(arrays[name]), allow_pickle=False)
        names.append(f"{name}.npy")
    with pa.OSFile(str(folder / TEXTS), "wb") as sink, ipc.new_file(sink, texts.schema) as writer:
        writer.write_table(texts)
    pq.write_table(common, folder / COMMON, compression="zstd", write_statistics=False)
    return names + [TEXTS, COMMON]


def write_index(out: str, arrays: dict[str, np.ndarray], texts: pa.Table, common: pa.Table,
                manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the index files to ``out`` (any fsspec URL), the manifest last; returns the manifest."""
    fs, root = fsspec.core.url_to_fs(out)
    root = root.rstrip("/")
    old = f"{root}/{MANIFEST}"
    if fs.exists(old):
        fs.rm(old)  # a reader never pairs the old manifest with new files
    local = _is_local(out)
    if local:
        Path(root).mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".decont-index-", dir=root if local else None))
    try:
        files: dict[str, dict[str, Any]] = {}
        for name in _write_local(scratch, arrays, texts, common):
            path = scratch / name
            files[name] = {"sha256": sha256_of(str(path)), "bytes": path.stat().st_size}
            if local:
                os.replace(path, Path(root) / name)
            else:
                fs.put_file(str(path), f"{root}/{name}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **manifest, "files": files}
    manifest["checksum"] = _checksum(manifest)
    write_bytes_atomic(old, (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode(),
                       fs=fs)
    return manifest


def read_manifest(path: str) -> dict[str, Any]:
    url = f"{path.rstrip('/')}/{MANIFEST}"
    try:
        with fsspec.open(url, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DecontIndexError(f"decontamination index {path}: no {MANIFEST}; build one with "
                               "`curate decont index SETS --out INDEX`") from None
    try:
        manifest = json.loads(raw)
        ok = isinstance(manifest, dict) and manifest.get("checksum") == _checksum(manifest)
    except (json.JSONDecodeError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise DecontIndexError(f"decontamination index {path}: {MANIFEST} is damaged (checksum does not match); "
                               "rebuild the index with `curate decont index`")
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise DecontIndexError(f"decontamination index {path}: format {manifest.get('format')} "
                               f"v{manifest.get('format_version')}, this curate reads {FORMAT} v{FORMAT_VERSION}; "
                               "rebuild it with `curate decont index`")
    return manifest


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


@lru_cache(maxsize=64)
def local_file(path: str, name: str, sha256: str) -> str:
    """A local, checked copy of index file ``name`` (the file itself when the index is local)."""
    url = f"{path.rstrip('/')}/{name}"
    damaged = (f"decontamination index {path}: {name} is damaged (its sha256 differs from {MANIFEST}); rebuild "
               "the index with `curate decont index`")
    if _is_local(path):
        local = url.removeprefix("file://")
        try:
            if sha256_of(local) != sha256:
                raise DecontIndexError(damaged)
        except FileNotFoundError:
            raise DecontIndexError(f"decontamination index {path}: {name} is missing; rebuild the index with "
                                   "`curate decont index`") from None
        return local
    try:
        return resolve_model(url, sha256, what="decontamination index file")
    except ModelUnavailableError as exc:
        if "sha256" in str(exc):
            raise DecontIndexError(damaged) from None
        raise DecontIndexError(f"decontamination index {path}: {exc}") from None


def load_array(path: str, manifest: dict[str, Any], name: str) -> np.ndarray:
    meta = manifest["files"][f"{name}.npy"]
    local = local_file(path, f"{name}.npy", meta["sha256"])
    try:
        # a plain ndarray over the mapping: np.memmap's own indexing costs a Python call per lookup
        return np.asarray(np.load(local, mmap_mode="r", allow_pickle=False))
    except ValueError:
        pass  # an empty array cannot be mapped
    try:
        return np.load(local, allow_pickle=False)
    except ValueError as exc:
        raise DecontIndexError(f"decontamination index {path}: {name}.npy cannot be read ({exc})") from None


def load_texts(path: str, manifest: dict[str, Any]) -> pa.Table:
    """The evaluation texts, memory-mapped (no copy in the process)."""
    local = local_file(path, TEXTS, manifest["files"][TEXTS]["sha256"])
    return ipc.open_file(pa.memory_map(local, "r")).read_all()


def load_common(path: str, manifest: dict[str, Any]) -> pa.Table:
    """The n-grams left out as too common."""
    return pq.read_table(local_file(path, COMMON, manifest["files"][COMMON]["sha256"]))
