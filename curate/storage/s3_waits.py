"""Bounded waits on S3-compatible stores: a store that is down or frozen ends the run, it never hangs it.

Two things make an s3fs request wait for ever or nearly so:

* botocore's and s3fs's retries multiply: s3fs retries a timed-out request 5 times (its ``S3FileSystem.retries``,
  with backoff), botocore each of those ``max_attempts`` times (legacy mode: 5), each waiting ``read_timeout``;
* every PUT carries ``Expect: 100-continue``, and aiohttp waits for the server's "100 Continue" with no timeout
  at all: a store that accepts the connection and then stops answering (SIGSTOP, a hung gateway) holds the
  writer for ever. :class:`curate.storage.s3_session.NoContinueSession` sends requests without it, and
  ``read_timeout`` bounds the wait for the answer.

Defaults (:data:`S3_DEFAULTS`, under ``storage: {s3: {config_kwargs: ...}}``, every key overridable there):
``connect_timeout`` 10 s, ``read_timeout`` 15 s (s3fs's own), botocore ``retries: {mode: standard,
total_max_attempts: 3}`` (three attempts with jittered exponential backoff, botocore's recommended mode). A
request to a store that does not answer thus fails after about 5 x 3 x 15 s, under 4 minutes (an operation such
as creating a folder may make two or three requests); one that refuses connections (stopped) after seconds of
backoff. Either ends the run with one line naming the store (:mod:`curate.storage.failures`).

The options travel to workers as JSON in ``FSSPEC_S3`` (:mod:`curate.storage.options`); the session class cannot,
so :func:`install_session` is run in every process that opens files: the driver when options are applied, local
pool workers at start, Ray workers through the ``worker_process_setup_hook`` of the runtime environment.
"""

from __future__ import annotations

import copy
from typing import Any

import fsspec.config

S3_PROTOCOLS = ("s3", "s3a")
S3_DEFAULTS: dict[str, Any] = {
    "config_kwargs": {"connect_timeout": 10, "read_timeout": 15,
                      "retries": {"mode": "standard", "total_max_attempts": 3}},
}
ATTEMPT_KEYS = ("max_attempts", "total_max_attempts")  # botocore: retries after the first / attempts in all


def with_s3_defaults(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` (one protocol's ``storage:`` entry) over :data:`S3_DEFAULTS`: the user's keys win, also inside
    ``config_kwargs`` and its ``retries``."""
    merged = copy.deepcopy(S3_DEFAULTS)
    for key, value in options.items():
        if key == "config_kwargs" and isinstance(value, dict):
            config = merged["config_kwargs"]
            for k, v in value.items():
                if k == "retries" and isinstance(v, dict):
                    # the user's count of attempts, in either of botocore's two keys, replaces the default's
                    default = {a: b for a, b in config["retries"].items()
                               if not (a in ATTEMPT_KEYS and any(c in v for c in ATTEMPT_KEYS))}
                    config[k] = {**default, **v}
                else:
                    config[k] = v
        else:
            merged[key] = value
    return merged


def no_continue_session() -> type | None:
    """:class:`curate.storage.s3_session.NoContinueSession`, or None without the s3 extra."""
    try:
        from curate.storage.s3_session import NoContinueSession  # imports aiobotocore (the s3 extra)
    except ImportError:
        return None
    return NoContinueSession


def install_session() -> None:
    """Make this process's s3 filesystems use :func:`no_continue_session` (unless the options name another
    ``http_session_cls``) and :data:`S3_DEFAULTS` where the configuration has no value of its own."""
    session = no_continue_session()
    fsspec.config.conf.setdefault("s3", {})
    # only the protocols configured: fsspec applies the entries of s3 and s3a in turn, the later one winning
    for protocol in [p for p in S3_PROTOCOLS if p in fsspec.config.conf]:
        conf = fsspec.config.conf[protocol]
        merged = with_s3_defaults(conf)
        if session is not None:
            merged["config_kwargs"].setdefault("http_session_cls", session)
        conf.update(merged)
