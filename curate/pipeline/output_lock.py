"""An exclusive lock on an output folder, on local disk and on object storage.

The lock is one small JSON object, ``OUT/_lock.json``, that names its owner (host, pid, start) and
carries a heartbeat the owner rewrites every ``heartbeat_seconds``. It appears whole or not at all,
created only if absent: locally a complete temporary file hard-linked to the lock's name (``link``
fails if the name exists: POSIX ``link(2)``); on S3-compatible stores one PUT with ``If-None-Match: *``
(fsspec mode ``"xb"``), which carries the whole body. A second run finds it and stops with a one-line
message naming the first. A lock file still empty or cut (written by an older curate, or on a
filesystem without hard links) is one being created, never a stale one, until it is ``stale_seconds``
old.

A lock whose owner is gone is taken over: at once when the owner ran on this host and its pid is
dead, otherwise when its heartbeat is older than ``stale_seconds`` (a message says so). Of several
runs that find the same stale lock, one takes it: each first creates ``_lock.json.<token>.takeover.tmp``
only if absent (the same create-if-absent), and the one that did replaces the lock in one atomic step
(a rename locally, one PUT on object storage); the others then find a live lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import fsspec

from curate.errors import CurateError
from curate.storage.atomic import TMP_SUFFIX, write_bytes_atomic
from curate.storage.exclusive_create import create_exclusive

LOCK_FILE = "_lock.json"
_PARTIAL: dict[str, Any] = {"partial": True}  # a lock file that is empty or cut: being created
_PATIENCE = 10.0  # seconds a contender waits for a lock being created (or taken over) to show its owner


class OutputLockedError(CurateError, RuntimeError):
    """Another run holds the output folder."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _age_seconds(stamp: str) -> float:
    try:
        return (datetime.now(timezone.utc) - datetime.fromisoformat(stamp)).total_seconds()
    except (TypeError, ValueError):
        return float("inf")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


class OutputLock:
    """``with OutputLock(out_dir):`` holds ``out_dir`` for this run."""

    def __init__(self, out_dir: str, heartbeat_seconds: float = 30.0, stale_seconds: float = 300.0,
                 patience_seconds: float = _PATIENCE) -> None:
        self.out_dir = out_dir.rstrip("/")
        self.fs, root = fsspec.core.url_to_fs(self.out_dir)
        self.path = f"{root}/{LOCK_FILE}"
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_seconds = stale_seconds
        self.patience_seconds = patience_seconds  # waiting for a lock being created to show its owner
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": _now(),
                      "token": uuid.uuid4().hex}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _payload(self) -> bytes:
        return json.dumps({**self.owner, "heartbeat": _now()}, sort_keys=True).encode()

    def _create(self, path: str, payload: bytes) -> bool:
        """Create ``path`` holding ``payload`` whole, only if it does not exist; whether this call did."""
        return create_exclusive(self.fs, path, payload)

    def _read(self, path: str | None = None) -> dict[str, Any] | None:
        """The lock's owner; ``None`` when there is no lock; ``_PARTIAL`` when it is empty or cut."""
        try:
            # one GET: an open object store file would check its ETag, which a takeover changes
            data = self.fs.cat_file(path or self.path)
        except FileNotFoundError:
            return None
        try:
            owner = json.loads(data)
        except ValueError:
            return _PARTIAL
        return owner if isinstance(owner, dict) and owner.get("token") else _PARTIAL

    def _file_age(self, path: str) -> float:
        """Seconds since ``path`` was last written (0 when the filesystem does not say)."""
        try:
            modified = self.fs.modified(path)
        except (FileNotFoundError, NotImplementedError, OSError, ValueError):
            return 0.0
        if modified.tzinfo is None:
            modified = modified.astimezone()
        return max(0.0, (datetime.now(timezone.utc) - modified).total_seconds())

    def _stale_reason(self, other: dict[str, Any]) -> str | None:
        if other is _PARTIAL:
            age = self._file_age(self.path)
            if age > self.stale_seconds:
                return f"its lock file is empty or cut and {age:.0f}s old (over {self.stale_seconds:.0f}s)"
            return None
        if other.get("host") == self.owner["host"] and isinstance(other.get("pid"), int):
            if not _pid_alive(other["pid"]):
                return f"its process {other['pid']} on this host is gone"
        age = _age_seconds(str(other.get("heartbeat")))
        if age > self.stale_seconds:
            return f"its last heartbeat is {age:.0f}s old (over {self.stale_seconds:.0f}s)"
        return None

    def acquire(self) -> OutputLock:
        self.fs.makedirs(self.path.rsplit("/", 1)[0], exist_ok=True)
        deadline = time.monotonic() + self.patience_seconds
        pause = 0.005
        while True:
            if self._create(self.path, self._payload()):
                break
            other = self._read()
            if other is None and time.monotonic() < deadline:
                continue  # released meanwhile
            other = other or _PARTIAL
            reason = self._stale_reason(other)
            if reason is not None and self._take_over(other, reason):
                break
            if reason is None and other is not _PARTIAL:
                raise OutputLockedError(
                    f"{self.out_dir} is in use by another curate run (host {other.get('host')}, pid "
                    f"{other.get('pid')}, started {other.get('started')}); wait for it to end or choose another "
                    f"--output"
                )
            if time.monotonic() > deadline:  # a lock being created (or taken over) for that long
                raise OutputLockedError(
                    f"{self.out_dir}: its lock {self.path} is being created or taken over by another curate run "
                    f"(for over {self.patience_seconds:.0f}s); wait for that run to end or choose another --output")
            time.sleep(pause)  # a run is writing it: look again
            pause = min(pause * 2, 0.5)
        self._thread = threading.Thread(target=self._beat, name="curate-output-lock", daemon=True)
        self._thread.start()
        return self

    def _take_over(self, other: dict[str, Any], reason: str) -> bool:
        """Replace the stale lock ``other`` with ours, unless another run is doing so (or did)."""
        token = str(other.get("token") or "partial")
        claim = f"{self.path}.{token}.takeover{TMP_SUFFIX}"
        if not self._create(claim, self.owner["token"].encode()):
            if self._file_age(claim) > self.stale_seconds:  # a run died taking it over: let the next one try
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm(claim)
            return False
        try:
            current = self._read()
            if current is None or str(current.get("token") or "partial") != token:
                return False  # replaced or released since we looked: start again
            print(f"curate: taking over the lock of {self.out_dir} from host {other.get('host')} pid "
                  f"{other.get('pid')} (started {other.get('started')}): {reason}", file=sys.stderr)
            write_bytes_atomic(self.path, self._payload(), fs=self.fs)  # a rename locally, one PUT on S3
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(claim)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                other = self._read()
                if other is not None and other.get("token") != self.owner["token"]:
                    return  # taken over: never overwrite another run's lock
                write_bytes_atomic(self.path, self._payload(), fs=self.fs)  # readers never see it half-written
            except Exception:  # noqa: BLE001 - storage gone: the run's own requests fail and say so, once
                return

    def abandon(self) -> None:
        """Stop the heartbeat and leave the lock where it is, without waiting on storage that no longer answers
        (a store that is down): the next run takes it over, this process being gone."""
        self._stop.set()
        self._thread = None

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        other = self._read()
        if other is not None and other.get("token") == self.owner["token"]:
            self.fs.rm(self.path)

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
