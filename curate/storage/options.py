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
from curate.storage.s3_waits import S3_PROTOCOLS, install_session, with_s3_defaults

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
    sets the same key (the file wins, as it is the more specific place); under both, s3 gets curate's bounded
    timeouts and retries (:data:`curate.storage.s3_waits.S3_DEFAULTS`), whether or not the file names s3."""
    validate_storage_options(storage)
    protocols = sorted({*storage, "s3"})  # s3 always: its bounded waits apply to every s3:// path
    for protocol in protocols:
        key = f"FSSPEC_{protocol.upper()}"
        merged = _deep_merge(_json_env(key), dict(storage.get(protocol, {})))
        if protocol in S3_PROTOCOLS:
            merged = with_s3_defaults(merged)
        os.environ[key] = json.dumps(merged, sort_keys=True)
        fsspec.config.conf.setdefault(protocol, {}).update(merged)
    install_session()
    for protocol in protocols:  # instances cached before the options were known must not be reused
        try:
            fsspec.get_filesystem_class(protocol).clear_instance_cache()
        except ImportError as exc:
            if protocol in storage:
                raise StorageOptionsError(f"storage.{protocol}: {exc} (for s3: pip install 'curate-corpus[s3]')") from None


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _json_env(key: str) -> dict[str, Any]:
    try:
        value = json.loads(os.environ.get(key, "{}"))
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
