"""The lock of a dedup index: one writer at a time, held by a *run*, not by a process.

``INDEX/_lock.json`` is created whole and only if absent (:func:`curate.storage.exclusive_create`, the
mechanism of the output lock, :mod:`curate.pipeline.output_lock`). Unlike the output lock it names a run
(its output folder and dump), not a process, and it is not taken over when the process dies: a run that
was killed between its dedup step and its commit must be able to finish (rerun it: the same run takes its
own lock back), and no other writer may commit on top of its half-done work meanwhile. A run given up for
good is unlocked by hand (``curate index unlock URL``), which says whose lock it removes.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from typing import Any

from curate.errors import CurateError
from curate.shuffle.workdir import Workdir
from curate.storage.atomic import write_bytes_atomic
from curate.storage.exclusive_create import create_exclusive

LOCK = "_lock.json"


class IndexLockedError(CurateError):
    """Another run is writing the dedup index."""


def describe(holder: dict[str, Any]) -> str:
    what = holder.get("operation", "run")
    return (f"{what} of dump {holder.get('dump')!r} from {holder.get('out_dir') or '?'} (host {holder.get('host')}, "
            f"pid {holder.get('pid')}, since {holder.get('started')})")


class IndexLock:
    """``IndexLock(wd, run, ...).acquire()`` makes ``run`` the index's one writer until :meth:`release`."""

    def __init__(self, wd: Workdir, run: str, operation: str, dump: str, out_dir: str = "") -> None:
        self.wd = wd
        self.run = run
        self.holder = {"run": run, "operation": operation, "dump": dump, "out_dir": out_dir,
                       "host": socket.gethostname(), "pid": os.getpid(),
                       "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self.held = False

    def read(self) -> dict[str, Any] | None:
        try:
            data = self.wd.fs.cat_file(self.wd.path(LOCK))
        except FileNotFoundError:
            return None
        try:
            holder = json.loads(data)
        except ValueError:
            return {"run": None}
        return holder if isinstance(holder, dict) else {"run": None}

    def acquire(self) -> IndexLock:
        if self.held:
            return self
        self.wd.makedirs()
        payload = json.dumps(self.holder, sort_keys=True).encode()
        for _ in range(3):  # a lock released between our create and our read: try again
            if create_exclusive(self.wd.fs, self.wd.path(LOCK), payload):
                self.held = True
                return self
            other = self.read()
            if other is None:
                continue
            if other.get("run") == self.run:  # this run, resumed: its lock is its own
                write_bytes_atomic(self.wd.path(LOCK), payload, fs=self.wd.fs)
                self.held = True
                return self
            raise self._locked(other)
        raise IndexLockedError(f"dedup index {self.wd.url}: its lock keeps changing hands; try again")

    def refuse_if_held_by_another(self) -> None:
        """Raise now what :meth:`acquire` would (a check before any work; the lock is taken later)."""
        other = self.read()
        if other is not None and other.get("run") != self.run:
            raise self._locked(other)

    def _locked(self, other: dict[str, Any]) -> IndexLockedError:
        return IndexLockedError(
            f"dedup index {self.wd.url} is being written by another {describe(other)}; wait for it to end "
            f"(or rerun that run to finish it); if it is gone for good, `curate index unlock {self.wd.url}`")

    def release(self) -> None:
        if not self.held:
            return
        other = self.read()
        if other is not None and other.get("run") == self.run:
            self.wd.remove(LOCK)
        self.held = False


def unlock(wd: Workdir) -> dict[str, Any] | None:
    """Remove the index's lock whoever holds it; returns the holder it removed (None: it was not locked)."""
    holder = IndexLock(wd, "", "unlock", "").read()
    if holder is not None:
        wd.remove(LOCK)
    return holder
