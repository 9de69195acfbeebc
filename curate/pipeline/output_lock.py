"""An exclusive lock on an output folder, on local disk and on object storage.

The lock is one small JSON object, ``OUT/_lock.json``, created with an atomic create-if-absent
(fsspec mode ``"xb"``: ``O_EXCL`` locally, ``If-None-Match: *`` on S3-compatible stores) that
names its owner (host, pid, start) and carries a heartbeat the owner rewrites every
``heartbeat_seconds``. A second run finds it and stops with a one-line message naming the first.
A lock whose owner is gone is taken over: at once when the owner ran on this host and its pid is
dead, otherwise when its heartbeat is older than ``stale_seconds`` (a message says so).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

import fsspec

from curate.errors import CurateError

LOCK_FILE = "_lock.json"


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

    def __init__(self, out_dir: str, heartbeat_seconds: float = 30.0, stale_seconds: float = 300.0) -> None:
        self.out_dir = out_dir.rstrip("/")
        self.fs, root = fsspec.core.url_to_fs(self.out_dir)
        self.path = f"{root}/{LOCK_FILE}"
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_seconds = stale_seconds
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": _now(),
                      "token": uuid.uuid4().hex}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _payload(self) -> bytes:
        return json.dumps({**self.owner, "heartbeat": _now()}, sort_keys=True).encode()

    def _create(self) -> bool:
        payload = self._payload()
        try:
            with self.fs.open(self.path, "xb") as handle:
                handle.write(payload)
            return True
        except FileExistsError:
            return False
        except (ValueError, NotImplementedError):
            # a filesystem without exclusive create: write, then read back whose token is there
            if self.fs.exists(self.path):
                return False
            with self.fs.open(self.path, "wb") as handle:
                handle.write(payload)
            other = self._read()
            return other is not None and other.get("token") == self.owner["token"]
        except OSError:
            # S3-compatible stores other than AWS refuse If-None-Match with a 412 that s3fs reports as
            # EINVAL, not FileExistsError: the object being there says which it was
            if self.fs.exists(self.path):
                return False
            raise

    def _read(self) -> dict[str, Any] | None:
        try:
            with self.fs.open(self.path, "rb") as handle:
                return json.loads(handle.read() or b"{}")
        except FileNotFoundError:
            return None
        except ValueError:  # a torn write: treat as an owner of unknown age
            return {}

    def _stale_reason(self, other: dict[str, Any]) -> str | None:
        if other.get("host") == self.owner["host"] and isinstance(other.get("pid"), int):
            if not _pid_alive(other["pid"]):
                return f"its process {other['pid']} on this host is gone"
        age = _age_seconds(str(other.get("heartbeat")))
        if age > self.stale_seconds:
            return f"its last heartbeat is {age:.0f}s old (over {self.stale_seconds:.0f}s)"
        return None

    def acquire(self) -> OutputLock:
        self.fs.makedirs(self.path.rsplit("/", 1)[0], exist_ok=True)
        for _ in range(3):
            if self._create():
                break
            other = self._read()
            if other is None:
                continue  # released meanwhile
            reason = self._stale_reason(other)
            if reason is None:
                raise OutputLockedError(
                    f"{self.out_dir} is in use by another curate run (host {other.get('host')}, pid "
                    f"{other.get('pid')}, started {other.get('started')}); wait for it to end or choose another "
                    f"--output"
                )
            print(f"curate: taking over the lock of {self.out_dir} from host {other.get('host')} pid "
                  f"{other.get('pid')} (started {other.get('started')}): {reason}", file=sys.stderr)
            self.fs.rm(self.path)
        else:
            raise OutputLockedError(f"{self.out_dir}: could not take the output lock {self.path}; retry")
        self._thread = threading.Thread(target=self._beat, name="curate-output-lock", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                other = self._read()
                if other is not None and other.get("token") != self.owner["token"]:
                    return  # taken over: never overwrite another run's lock
                with self.fs.open(self.path, "wb") as handle:
                    handle.write(self._payload())
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
