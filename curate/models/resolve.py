"""``model:`` settings -> a local file: a path as it is, a URL through the cache (:mod:`curate.models.cache`).

A setting with ``://`` (``hf://cis-lmu/glotlid/model_v3.bin``, ``s3://bucket/lid.bin``, ``https://...``;
``file://`` too) is a URL: it is taken from the cache when there, else fetched into it, unless curate runs
offline (``curate --offline``, or ``CURATE_OFFLINE=1`` in the environment of every worker and cluster node),
where a model that is not cached is an error saying how to get it. An optional ``sha256`` pins the file's
content: a cached or local file with another checksum is refused.
"""

from __future__ import annotations

import os
from functools import lru_cache

from curate.models.cache import ModelCache, sha256_of
from curate.models.errors import ModelUnavailableError
from curate.models.offline import OFFLINE_ENV, offline

__all__ = ["OFFLINE_ENV", "is_url", "offline", "resolve_model"]

def is_url(spec: str) -> bool:
    return "://" in spec


def resolve_model(spec: str, sha256: str | None = None, what: str = "model") -> str:
    """The local path of model ``spec``; fetches a URL into the cache when online. Raises
    :class:`ModelUnavailableError` with what to do when it cannot be had."""
    return _resolve(spec, (sha256 or "").lower() or None, what, offline(), os.environ.get("CURATE_MODEL_CACHE", ""))


@lru_cache(maxsize=32)  # once per process per setting: workers resolve on their first batch
def _resolve(spec: str, sha256: str | None, what: str, is_offline: bool, cache_root: str) -> str:
    if not is_url(spec):
        if not os.path.exists(spec):
            raise ModelUnavailableError(f"{what} {spec!r} does not exist; give an existing file or a URL")
        if sha256 and sha256_of(spec) != sha256:
            raise ModelUnavailableError(f"{what} {spec} does not have the pinned sha256 {sha256}")
        return spec
    cache = ModelCache(cache_root or None)
    entry = cache.lookup(spec)
    if entry is not None and (sha256 is None or entry.sha256 == sha256):
        return entry.path
    if is_offline and not spec.startswith("file://"):  # file:// is a local file, not the network
        state = "is not in" if entry is None else f"is in with another sha256 ({entry.sha256}) than pinned in"
        raise ModelUnavailableError(
            f"{what} {spec} {state} the model cache {cache.root}, and curate runs offline (--offline / "
            f"{OFFLINE_ENV}=1): run `curate models fetch {spec}` (or `curate models fetch --pipeline "
            "PIPELINE.yaml` for all of a pipeline's models) where the network is reachable, with "
            "CURATE_MODEL_CACHE pointing at the cache this machine uses (or copy that folder here)"
        )
    return cache.fetch(spec, sha256).path
