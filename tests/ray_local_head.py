"""A private single-machine Ray head on loopback, for tests, benchmarks and trying ``curate submit``.

``ray start --head --block`` runs in its own session with token auth and every port on 127.0.0.1
(``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` stops Ray from swapping 127.0.0.1 for the machine's IP).
:meth:`LocalHead.stop` sends SIGTERM to that process (it drains and stops its node), then SIGKILL to
whatever is left in its session. It never runs ``ray stop``, which would stop every Ray of the user.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from curate.executors.cluster_errors import ClusterError
from curate.executors.ray_addresses import LOOPBACK_ENV
from curate.executors.ray_auth import AUTH_MODE_ENV, TOKEN_ENV


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_pids(session: int) -> list[int]:
    """Processes of a session (Linux /proc), i.e. the head and everything it started."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == session:
                    pids.append(int(entry))
            except (ProcessLookupError, PermissionError):
                pass
    return pids


def process_cpu_seconds(session: int) -> dict[int, float]:
    """User + system CPU seconds of each live process of a session."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in session_pids(session):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return out


class SessionCPU:
    """CPU seconds a session's processes use between start() and stop(), sampled every ``interval`` s:
    Ray workers exit with their job and nobody's rusage keeps their time, so it is read while they run
    (a process that ends loses at most its last interval)."""

    def __init__(self, session: int, interval: float = 0.2) -> None:
        self.session = session
        self.interval = interval
        self._base: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        self._last.update(process_cpu_seconds(self.session))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> SessionCPU:
        self._base = process_cpu_seconds(self.session)
        self._last = dict(self._base)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        return sum(v - self._base.get(pid, 0.0) for pid, v in self._last.items())


def _ray_cli() -> Path:
    ray = Path(sys.executable).with_name("ray")
    if not ray.exists():
        raise ClusterError(f"no `ray` next to {sys.executable}: pip install 'curate-corpus[ray]'")
    return ray


@dataclass
class LocalHead:
    gcs: str  # 127.0.0.1:port, for ray.init / the executor
    jobs: str  # http://127.0.0.1:port, for the Jobs API
    token: str
    folder: Path
    process: subprocess.Popen
    log: IO[bytes] = field(repr=False)

    @property
    def session(self) -> int:
        return self.process.pid  # started with start_new_session: its pid is the session id

    def driver_env(self, base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
        """Environment of a driver of this cluster: RAY_ADDRESS, the token, loopback; other RAY_* removed."""
        env = {k: v for k, v in (base if base is not None else os.environ).items() if not k.startswith("RAY_")}
        env.update({"RAY_ADDRESS": self.gcs, AUTH_MODE_ENV: "token", TOKEN_ENV: self.token, LOOPBACK_ENV: "0"})
        env.update(extra)
        return env

    def log_tail(self, chars: int = 3000) -> str:
        return (self.folder / "head.log").read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 45.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        for pid in session_pids(self.session):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalHead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _jobs_api_ready(url: str, token: str) -> bool:
    request = urllib.request.Request(f"{url}/api/jobs/", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_local_head(num_cpus: int = 2, timeout: float = 120.0, extra_env: dict[str, str] | None = None) -> LocalHead:
    """Start a head and wait until its Jobs API answers. The venv's bin goes first on the head's PATH:
    job entrypoints run ``python`` from the PATH Ray was started with. ``extra_env``: more variables for
    the head (e.g. Ray system settings such as ``RAY_health_check_period_ms``)."""
    ray = _ray_cli()
    folder = Path(tempfile.mkdtemp(prefix="cr-", dir="/tmp"))  # short: Ray's socket paths must fit 107 chars
    token = secrets.token_hex(32)
    gcs, dashboard = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update({AUTH_MODE_ENV: "token", TOKEN_ENV: token, LOOPBACK_ENV: "0", "RAY_USAGE_STATS_ENABLED": "0",
                "PATH": f"{ray.parent}{os.pathsep}{os.environ.get('PATH', '')}", **(extra_env or {})})
    cmd = [str(ray), "start", "--head", "--block", "--node-ip-address=127.0.0.1", "--dashboard-host=127.0.0.1",
           f"--num-cpus={num_cpus}", "--disable-usage-stats", f"--port={gcs}", f"--dashboard-port={dashboard}",
           f"--dashboard-agent-listen-port={free_port()}", f"--ray-client-server-port={free_port()}",
           f"--temp-dir={folder / 'ray'}"]
    log = open(folder / "head.log", "wb")  # noqa: SIM115 - closed by LocalHead.stop
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    head = LocalHead(f"127.0.0.1:{gcs}", f"http://127.0.0.1:{dashboard}", token, folder, proc, log)
    deadline = time.monotonic() + timeout
    while not _jobs_api_ready(head.jobs, token):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = head.log_tail()
            head.stop()
            raise ClusterError(f"the local Ray head did not come up within {timeout:.0f} s:\n{tail}")
        time.sleep(0.5)
    return head
