"""A second Ray node on this machine, on loopback, for multi-node tests.

Ray's CLI refuses to add a node to a cluster when ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (the switch that
keeps every address on 127.0.0.1), and without it Ray swaps in the machine's outward address. So this file,
run as a script, wraps Ray's CLI entry point and, *in that CLI process only*, lets it join while resolving
every local address to 127.0.0.1; the raylet and workers it starts inherit the variable and stay on
loopback. Test code only: it touches Ray's private modules, which curate itself never does.

``start_worker_node(head)`` runs ``ray start --address=HEAD --block`` this way in its own session;
``WorkerNode.kill()`` SIGKILLs that session (a lost node), ``stop()`` ends it gracefully. Never ``ray stop``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ray_local_head import LocalHead, free_port, session_pids


@dataclass
class WorkerNode:
    folder: Path
    process: subprocess.Popen

    def kill(self) -> None:
        """SIGKILL the node's raylet and workers: what a lost machine looks like to the cluster."""
        for pid in session_pids(self.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


# the head notices a lost node within ~1 s instead of Ray's default ~30 s (tests wait for it)
FAST_FAILURE_DETECTION = {"RAY_health_check_period_ms": "300", "RAY_health_check_timeout_ms": "300",
                          "RAY_health_check_failure_threshold": "3", "RAY_health_check_initial_delay_ms": "0"}


def state_api(head: LocalHead, what: str) -> list[dict]:
    """Rows of the head's state API (``nodes``, ``tasks``), with the cluster token."""
    request = urllib.request.Request(f"{head.jobs}/api/v0/{what}?limit=10000&detail=1",
                                     headers={"Authorization": f"Bearer {head.token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = json.loads(response.read())
    except OSError:
        return []
    return data.get("data", {}).get("result", {}).get("result", [])


def alive_node_ids(head: LocalHead) -> set[str]:
    return {n["node_id"] for n in state_api(head, "nodes") if n.get("state") == "ALIVE"}


def alive_nodes(head: LocalHead) -> int:
    return len(alive_node_ids(head))


def running_task_nodes(head: LocalHead) -> set[str]:
    """Nodes on which a curate work task (not the preflight) is running now."""
    return {t["node_id"] for t in state_api(head, "tasks")
            if t.get("state") == "RUNNING" and str(t.get("name", "")).startswith("curate:")
            and "preflight" not in str(t.get("name")) and t.get("node_id")}


def wait_for_nodes(head: LocalHead, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while alive_nodes(head) != count:
        if time.monotonic() > deadline:
            # the head's own log says why (a head whose `ray start --block` exited lost one of its processes)
            raise RuntimeError(f"the Ray cluster did not reach {count} alive nodes within {timeout:.0f} s "
                               f"(head exit code: {head.process.poll()}); the head's log ends:\n{head.log_tail()}")
        time.sleep(1.0)


def start_worker_node(head: LocalHead, num_cpus: int = 1) -> WorkerNode:
    folder = Path(tempfile.mkdtemp(prefix="cw-", dir="/tmp"))  # short: Ray's socket paths are limited
    env = head.driver_env(os.environ)
    env.pop("RAY_ADDRESS", None)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    cmd = [sys.executable, __file__, "start", f"--address={head.gcs}", "--node-ip-address=127.0.0.1",
           f"--num-cpus={num_cpus}", "--block", "--disable-usage-stats", f"--temp-dir={folder / 'ray'}",
           f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}",
           f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
           f"--runtime-env-agent-port={free_port()}", f"--metrics-export-port={free_port()}",
           f"--min-worker-port={(base := free_port() // 2 * 2 % 50000 + 10000)}", f"--max-worker-port={base + 200}"]
    log = open(folder / "node.log", "wb")  # noqa: SIM115 - kept open for the node's lifetime
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return WorkerNode(folder, proc)


def _main() -> None:  # pragma: no cover - runs as the wrapper process
    import ray._private.ray_constants as constants
    import ray._private.services as services
    from ray.scripts.scripts import main

    constants.ENABLE_RAY_CLUSTER = True
    services.resolve_ip_for_localhost = lambda address: address
    services.get_node_ip_address = lambda *args, **kwargs: "127.0.0.1"
    sys.argv = ["ray", *sys.argv[1:]]
    main()


if __name__ == "__main__":
    _main()
