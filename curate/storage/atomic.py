"""One atomic write for every filesystem fsspec knows.

Readers must never see half an object. On a local or POSIX-like filesystem the bytes go to a temporary
name in the same folder, then ``os.replace`` semantics (fsspec ``mv``) publish them. Object stores (S3,
GCS, Azure) have no rename (s3fs's ``mv`` is copy + delete, not atomic), but a single PUT is atomic: the
object appears complete or not at all. So there the final object is written in one ``pipe`` call and
nothing else. Which case applies is decided by the filesystem's protocol, not guessed from the path.

Every temporary name ends in :data:`TMP_SUFFIX`, so a resumed run finds and removes what a killed one left
(``curate.pipeline.run_state.remove_partial_files``).
"""

from __future__ import annotations

import uuid
from typing import Any

import fsspec

from curate.storage.failures import name_path

# protocols whose single PUT is atomic and whose rename is a copy: write the final object directly
TMP_SUFFIX = ".tmp"  # the one temporary suffix of curate's writes: a resumed run removes files ending in it
OBJECT_STORE_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "az", "adl", "oss", "r2"})


def is_object_store(fs: Any) -> bool:
    inner = getattr(fs, "fs", None)  # a wrapper (request counter, cache) writes as what it wraps
    if isinstance(inner, fsspec.AbstractFileSystem):
        return is_object_store(inner)
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return any(p in OBJECT_STORE_PROTOCOLS for p in protocols)


def _in_memory(fs: Any) -> bool:
    """fsspec's memory filesystem: one ``pipe_file`` is atomic (it lives in one process; nothing to crash)."""
    inner = getattr(fs, "fs", None)
    if isinstance(inner, fsspec.AbstractFileSystem):
        return _in_memory(inner)
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return "memory" in protocols


def publish(fs: Any, tmp: str, path: str) -> None:
    """Make the finished temporary ``tmp`` (a name ending in :data:`TMP_SUFFIX`) the file ``path``: a rename on
    POSIX-like filesystems; on object stores a server-side copy then a delete, the object appearing whole. Used
    for files streamed in pieces (Parquet row groups), which cannot be one PUT."""
    fs.mv(tmp, path)


def write_bytes_atomic(url_or_path: str, data: bytes, fs: Any = None) -> None:
    """Write ``data`` to ``url_or_path`` so that readers see either nothing or all of it.

    ``fs`` (an fsspec filesystem) may be given with a path in that filesystem; otherwise the URL is
    resolved. Parent folders are created where the filesystem has folders."""
    if fs is None:
        fs, path = fsspec.core.url_to_fs(url_or_path)
    else:
        path = url_or_path
    if is_object_store(fs) or _in_memory(fs):
        fs.pipe_file(path, data)  # one PUT (s3fs switches to multipart only above its block size)
        return
    parent = path.rpartition("/")[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex}{TMP_SUFFIX}"  # unique: concurrent writers of one path never share a temporary
    try:
        fs.pipe_file(tmp, data)
        publish(fs, tmp, path)
    except BaseException as exc:
        if fs.exists(tmp):
            fs.rm(tmp)
        if isinstance(exc, OSError):  # a full disk names the file it could not write
            name_path(exc, url_or_path)
        raise


def write_text_atomic(url_or_path: str, text: str, fs: Any = None) -> None:
    """:func:`write_bytes_atomic` of ``text`` encoded as UTF-8."""
    write_bytes_atomic(url_or_path, text.encode("utf-8"), fs=fs)
