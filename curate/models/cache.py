"""The local model cache: model files fetched from fsspec URLs, content-addressed by sha256.

Where: ``$CURATE_MODEL_CACHE``, else ``~/.cache/curate/models``. Layout: ``<sha256>/<file name>`` plus
``index.json`` (URL -> sha256, file, size), written atomically under a lock so that workers fetching at once
do not lose each other's entries. Nothing in it depends on the time of the fetch, so two caches filled from
the same URLs are identical. ``curate models fetch|list|verify`` (:mod:`curate.cli.models_commands`) fill and
check it; :func:`curate.models.resolve.resolve_model` reads it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec

from curate.models.errors import ModelUnavailableError
from curate.models.offline import OFFLINE_ENV, offline

_CHUNK = 1 << 20


@dataclass(frozen=True)
class CachedModel:
    url: str
    sha256: str
    path: str
    size: int


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ModelCache:
    """One cache folder; cheap to construct (reads nothing until asked)."""

    def __init__(self, root: str | None = None) -> None:
        self.root = Path(root or os.environ.get("CURATE_MODEL_CACHE") or Path.home() / ".cache" / "curate" / "models")

    @property
    def index_path(self) -> Path:
        return self.root / "index.json"

    def _read_index(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise ModelUnavailableError(
                f"model cache index {self.index_path} is damaged ({exc}); delete it and `curate models fetch` again"
            ) from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def entries(self) -> list[CachedModel]:
        return [CachedModel(url, e["sha256"], str(self.root / e["file"]), e["size"])
                for url, e in sorted(self._read_index().items())]

    def lookup(self, url: str) -> CachedModel | None:
        entry = self._read_index().get(url)
        if entry is None or not (self.root / entry["file"]).exists():
            return None
        return CachedModel(url, entry["sha256"], str(self.root / entry["file"]), entry["size"])

    def fetch(self, url: str, sha256: str | None = None) -> CachedModel:
        """Download ``url`` (any fsspec URL) into the cache, checking ``sha256`` when pinned; returns the entry.
        Offline (``CURATE_OFFLINE=1``) only ``file://`` URLs are read: nothing else touches the network."""
        if offline() and not url.startswith("file://"):
            raise ModelUnavailableError(
                f"cannot fetch {url}: curate runs offline (--offline / {OFFLINE_ENV}=1); fetch it where the network "
                "is reachable, with CURATE_MODEL_CACHE pointing at the cache to fill"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".fetch-")
        try:
            try:
                with os.fdopen(fd, "wb") as out, fsspec.open(url, "rb") as src:
                    for chunk in iter(lambda: src.read(_CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            except Exception as exc:  # any fsspec backend's own errors (aiohttp, httpx, botocore, ...)
                raise ModelUnavailableError(
                    f"cannot fetch model {url}: {type(exc).__name__}: {exc}; check the URL and the network, or "
                    f"copy the file to a local path and give that as the model"
                ) from exc
            got = digest.hexdigest()
            if sha256 and got != sha256.lower():
                raise ModelUnavailableError(
                    f"model {url} has sha256 {got}, but the pipeline pins {sha256}; the file changed upstream or "
                    "the pin is wrong: fix model_sha256 (or remove it) after checking the file"
                )
            name = os.path.basename(url.rstrip("/").split("?")[0]) or "model.bin"
            final = self.root / got / name
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        with self._locked():
            index = self._read_index()
            index[url] = {"sha256": got, "file": f"{got}/{name}", "size": size}
            self._write_index(index)
        return CachedModel(url, got, str(final), size)

    def _write_index(self, index: dict[str, dict[str, Any]]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".index-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(index, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.index_path)

    def verify(self) -> list[tuple[CachedModel, str]]:
        """Every entry with ``"ok"``, ``"missing"`` or ``"sha256 mismatch: <actual>"``."""
        out = []
        for entry in self.entries():
            if not os.path.exists(entry.path):
                out.append((entry, "missing"))
                continue
            got = sha256_of(entry.path)
            out.append((entry, "ok" if got == entry.sha256 else f"sha256 mismatch: {got}"))
        return out
