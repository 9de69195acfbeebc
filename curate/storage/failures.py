"""Storage faults told apart from bugs: a store that is down or frozen, a disk that is full.

Such a fault surfaces as whatever the storage library raises (botocore's ``EndpointConnectionError`` or
``ReadTimeoutError``, aiohttp's connection errors, ``OSError(ENOSPC)``), often in a worker process and wrapped
by the executor. :func:`storage_failure` finds it anywhere in an exception's chain (``__cause__``,
``__context__``, Ray's ``cause``) and returns the one-line, actionable :class:`~curate.errors.CurateError` the
runner raises instead: which store or path, what happened, what to do (the run resumes where it stopped).
Classes are recognised by name so that this module imports none of the optional storage libraries.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import fsspec.config

from curate.errors import CurateError

# exception classes (by name, anywhere in the MRO) that mean "the store did not answer"
UNREACHABLE = frozenset({"EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError",
                         "ServerDisconnectedError", "ConnectionClosedError"})
NO_ANSWER = frozenset({"ReadTimeoutError", "FSTimeoutError", "ServerTimeoutError"})
FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
RESUME = "then rerun the same command: finished shards are kept and the run resumes"
WAITS = "waits and retries per request: storage.s3.config_kwargs connect_timeout, read_timeout, retries"


class StorageUnavailableError(CurateError, ConnectionError):
    """The object store (or remote filesystem) did not answer, after the configured retries."""


class StorageFullError(CurateError, OSError):
    """No space left on the device (or quota) of a file the run writes."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "cause", None), e.__cause__, e.__context__]


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url


def _endpoint(exc: BaseException, out_dir: str) -> str:
    """Where the failed request went: the error's own endpoint URL (botocore), host and port (aiohttp), else
    the configured endpoint of the output's protocol, else the output URL itself."""
    kwargs = getattr(exc, "kwargs", None)
    if isinstance(kwargs, dict) and kwargs.get("endpoint_url"):
        return _origin(str(kwargs["endpoint_url"]))
    host, port = getattr(exc, "host", None), getattr(exc, "port", None)
    if isinstance(host, str) and host:
        return f"{host}:{port}" if port else host
    protocol = out_dir.split("://", 1)[0] if "://" in out_dir else ""
    conf = fsspec.config.conf.get(protocol, {})
    configured = conf.get("endpoint_url") or (conf.get("client_kwargs") or {}).get("endpoint_url")
    if protocol in ("s3", "s3a"):
        configured = configured or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return _origin(str(configured)) if configured else out_dir


def _text(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}"[:300] if message else type(exc).__name__


def storage_failure(exc: BaseException, out_dir: str) -> CurateError | None:
    """The storage fault behind ``exc`` as a one-line error, or None when ``exc`` is no storage fault."""
    chain = list(_chain(exc))
    full = [e for e in chain if isinstance(e, OSError) and e.errno in FULL]
    full.sort(key=lambda e: e.filename is None)  # the one that names its file, when cleaning up failed again
    for e in chain:
        if isinstance(e, (StorageUnavailableError, StorageFullError)):
            return e
        if any(e is f for f in full):
            named = full[0]
            where = named.filename or f"a file under {out_dir}"
            return StorageFullError(
                f"no space left on the device of {where} ({os.strerror(named.errno)}): nothing half-written is left "
                f"under a final name; free space there, or choose another --output, {RESUME}")
        names = _names(e)
        if names & (UNREACHABLE | NO_ANSWER):
            what = "cannot be reached" if names & UNREACHABLE else "did not answer in time"
            return StorageUnavailableError(
                f"the object store at {_endpoint(e, out_dir)} {what}, after its retries ({_text(e)}); the run "
                f"stopped. Check that the store is running and reachable from every worker, {RESUME} ({WAITS})")
    return None


def name_path(exc: OSError, path: str) -> OSError:
    """``exc`` naming ``path`` when it names no file (a failed ``write`` does not): a full disk must say where."""
    if exc.filename is None and exc.errno is not None:
        exc.filename = path
    return exc


def is_unavailable(exc: BaseException) -> bool:
    """Whether the store itself is gone (cleaning up on it would wait again, for nothing)."""
    return isinstance(exc, StorageUnavailableError)
