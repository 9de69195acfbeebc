"""fsspec storage options from the pipeline file, made visible to this process and to every worker.

``storage: {s3: {endpoint_url: http://127.0.0.1:8333, anon: false}}`` in YAML becomes fsspec's own
per-protocol defaults (``fsspec.config.conf``, applied whenever a filesystem is created) *and* the
environment variable fsspec reads at import (``FSSPEC_S3='{"endpoint_url": ...}'``). Local pool workers
inherit the environment; the Ray executor forwards ``FSSPEC_*``, ``AWS_*`` and ``CURATE_*`` to its tasks
(``runtime_env``), so one setting reaches every process without code in the blocks. Secrets are better
left to the standard variables (``AWS_ACCESS_KEY_ID`` ...) or each node's own credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import fsspec
import fsspec.config
from fsspec.registry import known_implementations, registry

from curate.errors import CurateError

# what the Ray executor forwards to workers: storage credentials/endpoints and curate's own settings
FORWARDED_ENV_PREFIXES = ("AWS_", "FSSPEC_", "CURATE_", "GOOGLE_", "AZURE_", "HF_")


class StorageOptionsError(CurateError):
    """A ``storage:`` entry names an unknown protocol or carries options that are not plain values."""


def _check(protocol: str, options: Any) -> None:
    if protocol not in known_implementations and protocol not in registry:
        raise StorageOptionsError(
            f"storage: unknown filesystem protocol {protocol!r}; use one fsspec knows, e.g. s3, gs, az, file"
        )
    if not isinstance(options, Mapping):
        raise StorageOptionsError(f"storage.{protocol}: expected a mapping of options, got {options!r}")
    try:
        json.dumps(dict(options))
    except TypeError as exc:
        raise StorageOptionsError(f"storage.{protocol}: options must be plain YAML values ({exc})") from None


def validate_storage_options(storage: Mapping[str, Any]) -> None:
    for protocol, options in storage.items():
        _check(str(protocol), options)


def storage_env(storage: Mapping[str, Any]) -> dict[str, str]:
    """The ``FSSPEC_<PROTOCOL>`` variables that carry ``storage`` to other processes."""
    validate_storage_options(storage)
    return {f"FSSPEC_{p.upper()}": json.dumps(dict(o), sort_keys=True) for p, o in sorted(storage.items())}


def apply_storage_options(storage: Mapping[str, Any]) -> None:
    """Make ``storage`` the fsspec defaults here and in every worker started afterwards.

    Options already set in this process's environment for the same protocol are kept unless the file
    sets the same key (the file wins, as it is the more specific place)."""
    for key, value in storage_env(storage).items():
        merged = {**_json_env(key), **json.loads(value)}
        os.environ[key] = json.dumps(merged, sort_keys=True)
        protocol = key[len("FSSPEC_"):].lower()
        fsspec.config.conf.setdefault(protocol, {}).update(merged)
    for protocol in storage:  # instances cached before the options were known must not be reused
        try:
            fsspec.get_filesystem_class(protocol).clear_instance_cache()
        except ImportError as exc:
            raise StorageOptionsError(f"storage.{protocol}: {exc} (for s3: pip install 'curate-corpus[s3]')") from None


def _json_env(key: str) -> dict[str, Any]:
    try:
        value = json.loads(os.environ.get(key, "{}"))
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
