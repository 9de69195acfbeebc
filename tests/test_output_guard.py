"""One run per output folder, --overwrite only for curate outputs, no orphan workers (issue 13)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipeline_helpers import REPO, parquet_digests, run_cli, write_pipeline

from curate.pipeline.output_lock import LOCK_FILE, OutputLock, OutputLockedError

STEPS = [{"extract": {"engine": "trafilatura"}}, {"langid": {}}, {"exact_dedup": {}}]


def _pipeline(tmp: Path, shared: Path, out: Path, workers: int = 1) -> Path:
    extraction = shared / "extraction"
    inputs = [str(extraction / "mozilla_readability_testpages.warc.gz"),
              str(extraction / "scrapinghub_aeb_pages.warc.gz")]
    return write_pipeline(tmp / "p.yaml", inputs, out, STEPS, executor={"type": "local", "workers": workers})


def _wait_for(path: Path, proc: subprocess.Popen, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), "the first run never took its lock"


def test_second_run_into_the_same_output_is_refused_naming_the_first(tmp_path: Path, shared_data: Path) -> None:
    inputs = [str(shared_data / "extraction" / "mozilla_readability_testpages.warc.gz")]
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, tmp_path / "out", STEPS,
                         executor={"type": "local", "workers": 1})
    first = subprocess.Popen([sys.executable, "-m", "curate.cli", "run", str(cfg)], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _wait_for(tmp_path / "out" / LOCK_FILE, first)
        # the first run is held (SIGSTOP, its whole process group) while the others try: alive and holding its
        # lock, it cannot finish before them however loaded the machine, so its input need not be long
        os.killpg(first.pid, signal.SIGSTOP)
        try:
            second = run_cli("run", str(cfg))
            assert second.returncode == 1
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
            assert "in use by another curate run" in lines[0]
            assert f"pid {first.pid}" in lines[0] and socket.gethostname() in lines[0]
            # --overwrite does not get past the lock either
            assert run_cli("run", str(cfg), "--overwrite").returncode == 1
        finally:
            os.killpg(first.pid, signal.SIGCONT)
        _, err = first.communicate(timeout=600)
        assert first.returncode == 0, err
    finally:
        first.kill()
    assert not (tmp_path / "out" / LOCK_FILE).exists()  # released at the end
    straight = run_cli("run", str(cfg), "--output", str(tmp_path / "straight"))
    assert straight.returncode == 0, straight.stderr
    assert parquet_digests(tmp_path / "out") == parquet_digests(tmp_path / "straight")


def test_lock_of_a_dead_or_silent_owner_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = {"host": socket.gethostname(), "pid": dead.pid, "started": "2026-01-01T00:00:00+00:00",
            "heartbeat": "2099-01-01T00:00:00+00:00", "token": "x"}
    (out / LOCK_FILE).write_text(json.dumps(lock))
    with OutputLock(str(out)) as held:  # same host, pid gone: at once, whatever the heartbeat says
        assert json.loads((out / LOCK_FILE).read_text())["token"] == held.owner["token"]
    other_host = {**lock, "host": "elsewhere", "pid": 1, "heartbeat": "2020-01-01T00:00:00+00:00"}
    (out / LOCK_FILE).write_text(json.dumps(other_host))
    with OutputLock(str(out), stale_seconds=60):  # another host, heartbeat long stale
        pass
    fresh = {**other_host, "heartbeat": "2099-01-01T00:00:00+00:00"}
    (out / LOCK_FILE).write_text(json.dumps(fresh))
    with pytest.raises(OutputLockedError, match="host elsewhere, pid 1, started 2026-01-01"):
        OutputLock(str(out)).acquire()


def test_overwrite_refuses_a_folder_that_is_not_a_curate_output(tmp_path: Path, shared_data: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    cfg = write_pipeline(tmp_path / "p.yaml", [str(shared_data / "warc" / "cc-single-response.warc.gz")],
                         precious, [{"extract": {"engine": "resiliparse"}}])
    proc = run_cli("run", str(cfg), "--overwrite")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "not a curate output" in proc.stderr, proc.stderr
    assert (precious / "chapter1.tex").read_text() == "years of work"
    assert sorted(p.name for p in precious.iterdir()) == ["chapter1.tex"]

    out = tmp_path / "out"
    cfg = write_pipeline(tmp_path / "q.yaml", [str(shared_data / "warc" / "cc-single-response.warc.gz")],
                         out, [{"extract": {"engine": "resiliparse"}}])
    assert run_cli("run", str(cfg)).returncode == 0
    (out / "leftover.txt").write_text("from before")
    again = run_cli("run", str(cfg), "--overwrite")
    assert again.returncode == 0, again.stderr
    assert not (out / "leftover.txt").exists() and (out / "_run.json").exists()


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds worker processes through /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_cli_ends_its_pool_workers(tmp_path: Path, shared_data: Path, sig: signal.Signals) -> None:
    cfg = _pipeline(tmp_path, shared_data, tmp_path / "out", workers=2)
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", "run", str(cfg)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    extractors: list[int] = []
    # wait until both workers are inside their shard: each has started its extraction process
    while len(extractors) < 2 and proc.poll() is None and time.monotonic() < deadline:
        workers = [p for p in _children(proc.pid) if "multiprocessing" in _cmdline(p)]
        extractors = [k for w in workers for k in _children(w)]
        time.sleep(0.05)
    assert len(extractors) >= 2, "the workers did not start extracting"
    markers = tmp_path / "out" / "_markers"
    assert not list(markers.rglob("*.json"))
    os.kill(proc.pid, sig)
    proc.wait()
    descendants = workers + extractors
    deadline = time.monotonic() + 60
    while any(_alive(p) for p in descendants) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in descendants if _alive(p)]
    # orphaned workers would have finished their shards and written them out; these ended at once
    assert not list(markers.rglob("*.json"))
    assert not list((tmp_path / "out").rglob("part-*.parquet"))
