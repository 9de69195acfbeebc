"""One run per output, also when runs start at the same moment (issue 23).

Four processes race for the lock of a fresh output folder, 1,000 times, and for the stale lock of a
dead run; exactly one holds it each time. A lock file that is still empty (being written by a run that
just created it) is never taken for a stale one; an empty one left long ago is.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate.pipeline.output_lock import LOCK_FILE, OutputLock, OutputLockedError

CONTENDERS = 4
RACES = 1_000


def _contender(folders: list[str], barrier, results) -> None:
    """Tries each folder's lock at the same moment as the others; holds it until all have tried."""
    won, failures = [], []
    for i, folder in enumerate(folders):
        barrier.wait(timeout=60)
        lock: OutputLock | None = OutputLock(folder, heartbeat_seconds=3600)
        try:
            lock.acquire()
            won.append(i)
        except OutputLockedError:
            lock = None
        except Exception as exc:  # noqa: BLE001 - anything but a clean refusal is a failure of the lock
            failures.append(f"race {i}: {type(exc).__name__}: {exc}")
            lock = None
        barrier.wait(timeout=60)  # every contender has tried: the holder may let go
        if lock is not None:
            lock.release()
    results.put((won, failures))


def dead_lock() -> bytes:
    """The lock of a run of this host whose process is gone."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return json.dumps({"host": socket.gethostname(), "pid": dead.pid, "token": "old",
                       "started": "2026-01-01T00:00:00+00:00", "heartbeat": "2026-01-01T00:00:00+00:00"}).encode()


def race(folders: list[str], start: str = "fork") -> list[int]:
    """CONTENDERS processes race for each folder's lock in turn; the number of holders of each."""
    ctx = multiprocessing.get_context(start)
    barrier, results = ctx.Barrier(CONTENDERS), ctx.Queue()
    procs = [ctx.Process(target=_contender, args=(folders, barrier, results)) for _ in range(CONTENDERS)]
    for proc in procs:
        proc.start()
    wins = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    holders = [0] * len(folders)
    for won, failures in wins:
        assert failures == [], failures[:5]
        for i in won:
            holders[i] += 1
    return holders


def _folders(tmp_path: Path, stale: bool) -> list[str]:
    folders = []
    lock = dead_lock()
    for i in range(RACES // 2):
        folder = tmp_path / f"{'stale' if stale else 'fresh'}-{i}"
        folder.mkdir()
        if stale:
            (folder / LOCK_FILE).write_bytes(lock)
        folders.append(str(folder))
    return folders


@pytest.mark.timeout(600)
def test_a_thousand_lock_races_have_one_holder_each(tmp_path: Path) -> None:
    fresh = race(_folders(tmp_path, stale=False))
    stale = race(_folders(tmp_path, stale=True))
    assert len(fresh) + len(stale) == RACES
    assert [i for i, n in enumerate(fresh) if n != 1] == [], "fresh folders without exactly one holder"
    assert [i for i, n in enumerate(stale) if n != 1] == [], "stale locks without exactly one holder"
    leftovers = [p.name for p in tmp_path.rglob("*") if p.is_file() and p.name != LOCK_FILE]
    assert leftovers == []  # no temporary or takeover file left behind


def test_an_empty_lock_is_being_created_not_stale(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).write_bytes(b"")  # what a run that has just created its lock may still show
    with pytest.raises(OutputLockedError, match="being created"):
        OutputLock(str(tmp_path), stale_seconds=300, patience_seconds=0.5).acquire()
    assert (tmp_path / LOCK_FILE).read_bytes() == b""
    old = time.time() - 3600  # left empty an hour ago: a run that died while creating it
    os.utime(tmp_path / LOCK_FILE, (old, old))
    with OutputLock(str(tmp_path), stale_seconds=300) as held:
        assert json.loads((tmp_path / LOCK_FILE).read_text())["token"] == held.owner["token"]
