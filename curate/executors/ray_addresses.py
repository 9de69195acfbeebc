"""Cluster addresses: the GCS address the executor connects to (``host:6379``) and the dashboard URL the
Jobs API uses (``http://host:8265``), plus keeping a single-machine cluster on loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlparse

from curate.executors.cluster_errors import ClusterUnreachableError

DEFAULT_JOBS_ADDRESS = "http://127.0.0.1:8265"
DEFAULT_GCS_PORT = 6379
# Ray turns 127.0.0.1 into the machine's outward IP (so other nodes can reach it) unless it believes
# multi-node clusters are off; this variable is that switch. With it, a single-machine cluster and
# its drivers talk over loopback only.
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
START_HEAD_HINT = (
    "start a head first, e.g. `ray start --head --port=6379 --dashboard-host=127.0.0.1` (on one machine, "
    f"add `{LOOPBACK_ENV}=0` and `--node-ip-address=127.0.0.1` to keep it on loopback), "
    "or set RAY_ADDRESS to a running cluster"
)


def split_host_port(address: str, default_port: int | None = None) -> tuple[str, int | None]:
    """``host:port``, ``[v6]:port`` or a URL -> (host, port)."""
    parsed = urlparse(address if "://" in address else f"//{address}")
    try:
        port = parsed.port
    except ValueError:  # not a number
        port = None
    return parsed.hostname or "", port if port is not None else default_port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def keep_loopback_node_ip() -> None:
    """Make Ray in this process (and the processes it starts) use 127.0.0.1 as the node address.

    Ray reads the variable when it is imported; a process that imported Ray before (with the variable
    unset) keeps Ray's choice: set it in the environment before starting curate in that case."""
    os.environ[LOOPBACK_ENV] = "0"


def check_reachable(host: str, port: int, what: str, hint: str = START_HEAD_HINT, timeout: float = 5.0) -> None:
    """Fail fast with a clear message instead of Ray's long retry loop when nothing listens."""
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=timeout):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClusterUnreachableError(f"cannot reach the {what} at {host}:{port} ({reason}); {hint}") from None


def jobs_address(address: str | None) -> str:
    """The Jobs API (dashboard) URL: the argument, else RAY_API_SERVER_ADDRESS, else an http RAY_ADDRESS,
    else http://127.0.0.1:8265. A bare ``host:port`` gets ``http://``."""
    if not address:
        address = os.environ.get("RAY_API_SERVER_ADDRESS") or ""
    if not address and os.environ.get("RAY_ADDRESS", "").startswith(("http://", "https://")):
        address = os.environ["RAY_ADDRESS"]
    address = (address or DEFAULT_JOBS_ADDRESS).rstrip("/")
    if "://" not in address:
        address = f"http://{address}"
    if not address.startswith(("http://", "https://")):
        raise ClusterUnreachableError(
            f"{address!r} is not a Jobs API address; give the dashboard URL of the head, "
            f"e.g. --address {DEFAULT_JOBS_ADDRESS}"
        )
    return address
