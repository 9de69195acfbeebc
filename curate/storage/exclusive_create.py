"""Create a small file whole, only if no file of that name exists: the one primitive of curate's locks.

Locally a complete temporary file is hard-linked to the name (``link(2)`` fails if the name exists), so the
file appears whole or not at all; on a filesystem without hard links, ``open(path, "xb")``. On S3-compatible
stores one PUT with ``If-None-Match: *`` (fsspec mode ``"xb"``) carrying the whole body. Used by the output
lock (:mod:`curate.pipeline.output_lock`) and the dedup index lock (:mod:`curate.dedup.index_lock`).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from curate.storage.atomic import TMP_SUFFIX


def create_exclusive(fs: Any, path: str, payload: bytes, read: Any = None) -> bool:
    """Create ``path`` holding ``payload`` whole, only if it does not exist; whether this call did.

    ``read(path)`` (optional) returns the bytes now at ``path`` or None: a filesystem without exclusive
    create is written, then read back to see whose payload is there."""
    if isinstance(fs, LocalFileSystem):
        return _link_new(path, payload)
    try:
        with fs.open(path, "xb") as handle:  # one PUT with If-None-Match: * (the body in it)
            handle.write(payload)
        return True
    except FileExistsError:
        return False
    except (ValueError, NotImplementedError):
        # a filesystem without exclusive create: write, then read back whose payload is there
        if fs.exists(path):
            return False
        with fs.open(path, "wb") as handle:
            handle.write(payload)
        there = read(path) if read is not None else fs.cat_file(path)
        return there == payload
    except OSError as exc:
        # S3-compatible stores other than AWS refuse If-None-Match with a 412 that s3fs reports as
        # EINVAL, not FileExistsError: S3's message for a 412, or the object being there, says which
        # it was (the object may be gone again since: a takeover claim is short-lived)
        fs.invalidate_cache(path)
        if "pre-conditions you specified did not hold" in str(exc) or fs.exists(path):
            return False
        raise


def _link_new(path: str, payload: bytes) -> bool:
    """Locally: a complete temporary file, hard-linked to ``path`` (fails if ``path`` exists)."""
    tmp = f"{path}.{uuid.uuid4().hex}{TMP_SUFFIX}"
    with open(tmp, "wb") as handle:
        handle.write(payload)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some network or FAT filesystems): exclusive create, then write
        try:
            with open(path, "xb") as handle:
                handle.write(payload)
            return True
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
