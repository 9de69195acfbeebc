"""Ray executor: one Ray task per item (shard task or dedup partition), results in input order.

Where it connects (``address``):

- inside a ``curate submit`` job: always the cluster running the job (``RAY_ADDRESS``, set by Ray);
- ``None`` / ``"auto"``: ``RAY_ADDRESS`` if set, else a private Ray started here (loopback only, no
  dashboard) and stopped again by :meth:`close`; ``"local"`` always starts one;
- ``host:port`` (GCS port, 6379 by default): that cluster; ``ray://host:10001``: Ray Client.

Retries: ``max_retries=retries`` re-runs a task whose worker process or node died (SIGKILL, OOM kill,
lost node); a Python exception raised by curate or block code is *not* retried
(``retry_exceptions=False``) and surfaces from :meth:`map` with the remote traceback. Re-running a
shard task is safe: outputs go to a temporary name and are renamed when complete.

Tasks in flight: ``workers`` when given on the command line, else twice the cluster's CPUs (re-read as the
cluster grows); a pipeline file's ``executor.workers`` sizes only a private local Ray, never a cluster.
Every task gets the driver's ``CURATE_*``, ``AWS_*``, ``FSSPEC_*`` (and GOOGLE_/AZURE_/HF_) variables
through its ``runtime_env`` (merged with a submitted job's own), so storage settings and model caches
reach every node. Task names say the phase and the item (``curate:minhash:keys:shard-000003``). A node
that leaves the cluster during a map is reported on stderr; its tasks are retried elsewhere.

Workers must import curate: install it into the Python environment that runs Ray on every node (start
Ray with that environment's ``ray``). The first :meth:`map` checks this with a probe task and says so
when it is not the case. Block code never knows which executor runs it.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

from curate.executors.cluster_errors import (
    ClusterError,
    ClusterUnreachableError,
    NodePreflightError,
    RayTaskFailedError,
    WorkerEnvironmentError,
)
from curate.executors.progress import Progress
from curate.executors.ray_addresses import (
    DEFAULT_GCS_PORT,
    LOOPBACK_ENV,
    START_HEAD_HINT,
    check_reachable,
    is_loopback,
    keep_loopback_node_ip,
    split_host_port,
)
from curate.executors.ray_auth import (
    AUTH_MODE_ENV,
    DEFAULT_TOKEN_FILE,
    IMPORTED_EARLY_HINT,
    TOKEN_ENV,
    TOKEN_HINT,
    TOKEN_PATH_ENV,
    enable_driver_token,
)
from curate.pipeline.executor import Executor
from curate.storage.options import FORWARDED_ENV_PREFIXES
from curate.storage.s3_waits import install_session
from curate.version import __version__

JOB_CONFIG_ENV = "RAY_JOB_CONFIG_JSON_ENV_VAR"  # set by Ray for the driver of a submitted job
# One token for every private local Ray of this process: Ray reads the token once per process, so a second
# private Ray with a new token would refuse the driver.
PRIVATE_RAY_TOKEN = secrets.token_hex(32)
PROBE_TIMEOUT_S = 180.0
JOB_LOG_EVERY_SECONDS = 10.0  # a progress line this often in a job's log (``curate logs``)


def _run_item(fn: Callable[[Any], Any], item: Any, cwd: str) -> Any:
    """What every Ray task runs. Relative paths in a pipeline mean the driver's folder, as they do under
    the local executor, so a worker that sees that folder works from it (Ray starts workers elsewhere)."""
    if cwd and os.getcwd() != cwd and os.path.isdir(cwd):
        os.chdir(cwd)
    install_session()  # bounded object-store waits: the HTTP session class cannot travel in runtime_env
    return fn(item)


def _probe_worker() -> dict[str, Any]:
    """Runs on a worker: proves curate imports there (unpickling this function imports it) and reports the
    environment."""
    return {"curate": __version__, "python": sys.version.split()[0], "executable": sys.executable}


def forwarded_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The driver's variables every task must see (storage endpoints and credentials, curate settings)."""
    env = os.environ if environ is None else environ
    return {k: v for k, v in sorted(env.items()) if k.startswith(FORWARDED_ENV_PREFIXES)}


def _node_check(fn: Callable[[Any], Any], item: Any, cwd: str) -> Any:
    return _run_item(fn, item, cwd)


def _label(item: Any, index: int) -> str:
    phase = getattr(item, "phase", None)
    if isinstance(phase, str):  # a dedup components task: phase and partition
        return f"{phase}:{getattr(item, 'partition', index):05d}"
    shard = getattr(item, "shard", None)
    shard_id = getattr(shard, "shard_id", None)
    if isinstance(shard_id, str):
        return shard_id
    if isinstance(shard, str):
        return shard
    return f"{index:05d}"


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, retries: int = 3, workers: int | None = None,
                 progress: bool = True, runtime_env: dict[str, Any] | None = None, token: str | None = None,
                 local_cpus: int | None = None) -> None:
        self.address = address
        self.retries = retries
        self.workers = workers  # tasks in flight; None = twice the cluster's CPUs
        self.local_cpus = local_cpus or workers  # CPUs of a private local Ray only
        self.progress = progress
        self.runtime_env = runtime_env
        self.token = token
        self.target = ""  # where we connected, for messages
        self._owns_connection = False
        self._task_options: dict[str, Any] | None = None
        self._remote: Any = None
        self._cpus_checked_at = 0.0
        self._cluster_cpus = 1
        self._saved_env: dict[str, str | None] = {}
        self._alive: dict[str, str] = {}  # node id -> address, to report lost nodes
        self._nodes_checked_at = 0.0

    # -- connection ---------------------------------------------------------------------------------
    def _resolve_target(self) -> str | None:
        """The address for ray.init, or None to start a private local Ray."""
        env_address = os.environ.get("RAY_ADDRESS", "")
        if os.environ.get(JOB_CONFIG_ENV) and env_address:
            return env_address  # a submitted job's driver belongs to the cluster running it
        address = (self.address or "").strip()
        if address in ("", "auto"):
            if env_address.startswith(("http://", "https://")):
                raise ClusterUnreachableError(
                    f"RAY_ADDRESS={env_address} is a dashboard / Jobs API address, not a cluster to run tasks on; "
                    f"set RAY_ADDRESS to the cluster (GCS) address, e.g. 127.0.0.1:{DEFAULT_GCS_PORT}, to run "
                    f"from here, or use `curate submit PIPELINE --address {env_address}` to run as a job; "
                    "unset RAY_ADDRESS to start a private local Ray"
                )
            address = env_address or "local"
        if address == "local":
            return None
        if address.startswith(("http://", "https://")):
            raise ClusterUnreachableError(
                f"{address} is a dashboard / Jobs API address; the ray executor needs the cluster (GCS) address, "
                f"e.g. 127.0.0.1:{DEFAULT_GCS_PORT} (printed by `ray start --head`); to run on the cluster "
                f"from here, use `curate submit PIPELINE --address {address}`"
            )
        if address.startswith("ray://"):
            return address  # Ray Client: the proxy checks it
        host, port = split_host_port(address, DEFAULT_GCS_PORT)
        if not host or port is None:
            raise ClusterUnreachableError(f"cannot parse the Ray address {address!r}; expected host:port")
        check_reachable(host, port, "Ray cluster (GCS)")
        if is_loopback(host):
            keep_loopback_node_ip()
        return f"{host}:{port}"

    def _private_token(self) -> None:
        """A new local Ray turns token auth on and, lacking a token, writes ~/.ray/auth_token; give it one
        in this process's environment instead so nothing outside the run changes."""
        mode = os.environ.get(AUTH_MODE_ENV, "").lower()
        if mode == "disabled":
            return
        if not mode:
            os.environ[AUTH_MODE_ENV] = "token"  # what Ray would choose, minus its warning
        if os.environ.get(TOKEN_ENV) or os.environ.get(TOKEN_PATH_ENV) or DEFAULT_TOKEN_FILE.exists():
            return
        os.environ[TOKEN_ENV] = PRIVATE_RAY_TOKEN

    def _save_process_state(self) -> None:
        """Connecting may set Ray's auth and loopback variables in this process; close() puts them back."""
        self._saved_env = {k: os.environ.get(k) for k in (LOOPBACK_ENV, AUTH_MODE_ENV, TOKEN_ENV)}

    def _restore_process_state(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def _connect(self) -> None:
        if self._remote is not None:
            return
        self._save_process_state()
        try:
            self._join()
        except BaseException:
            self.close()  # leave nothing half set up: shut a started Ray down, restore the environment
            raise

    def _join(self) -> None:
        target = self._resolve_target()
        if self.token:
            enable_driver_token(self.token)
        if target is None:
            keep_loopback_node_ip()
            self._private_token()
        # optional extra (curate-corpus[ray]): imported only when a Ray run starts
        import ray

        if ray.is_initialized():
            self.target = "the Ray runtime this process already joined"
        else:
            kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "runtime_env": self.runtime_env}
            if target is None:
                kwargs.update(address="local", include_dashboard=False, _node_ip_address="127.0.0.1",
                              num_cpus=self.local_cpus)
                self.target = "a private local Ray"
            else:
                kwargs["address"] = target
                self.target = target
            try:
                ray.init(**kwargs)
            except ConnectionError as exc:
                raise ClusterUnreachableError(
                    f"Ray refused the connection to {target} ({exc}). If the cluster uses token auth, {TOKEN_HINT} "
                    f"({IMPORTED_EARLY_HINT}). "
                    "If the head runs on this machine but was started without the loopback setting, connect to the "
                    f"address `ray start` printed instead of 127.0.0.1. Otherwise {START_HEAD_HINT}"
                ) from None
            self._owns_connection = True
        self._task_options = {"num_cpus": 1, "max_retries": self.retries, "retry_exceptions": False,
                              "runtime_env": {"env_vars": forwarded_env()}}
        self._remote = ray.remote(_run_item)
        self._check_workers(ray)
        self._alive = self._alive_nodes(ray)

    def _check_workers(self, ray: Any) -> None:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            raise ClusterError(f"the Ray cluster at {self.target} has no CPUs to run tasks on; start worker nodes "
                               "with `ray start --address=HEAD:6379` (or give the head --num-cpus)")
        self._cluster_cpus = cpus
        self._cpus_checked_at = time.monotonic()
        probe = ray.remote(num_cpus=0, max_retries=0)(_probe_worker)
        try:
            info = ray.get(probe.remote(), timeout=PROBE_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            raise ClusterError(f"no Ray worker started within {PROBE_TIMEOUT_S:.0f} s on {self.target}; "
                               "check the cluster with `ray status` and its logs (raylet.err)") from None
        except Exception as exc:  # the worker could not import curate, or crashed on start
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise WorkerEnvironmentError(
                f"Ray workers on {self.target} cannot run curate ({first}); install curate (pip install "
                "'curate-corpus[ray]') into the Python environment that runs Ray on every node, and start Ray with that "
                "environment's `ray` (e.g. .venv/bin/ray start ...)"
            ) from exc
        if info.get("curate") != __version__:
            print(f"curate: warning: workers run curate {info.get('curate')} ({info.get('executable')}), this "
                  f"driver {__version__}", file=sys.stderr)

    def _window(self, ray: Any) -> int:
        """Tasks in flight: ``workers`` if given, else twice the cluster's CPUs (re-read now and then, so
        an autoscaling cluster gets more), which keeps every CPU busy without queuing the whole list."""
        if self.workers:
            return self.workers
        if time.monotonic() - self._cpus_checked_at > 30:
            self._cluster_cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            self._cpus_checked_at = time.monotonic()
        return max(4, 2 * self._cluster_cpus)

    @staticmethod
    def _alive_nodes(ray: Any) -> dict[str, str]:
        """Alive nodes with CPUs (the ones tasks run on): node id -> address."""
        return {n["NodeID"]: n.get("NodeManagerAddress", "?") for n in ray.nodes()
                if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0}

    def _report_lost_nodes(self, ray: Any) -> None:
        if time.monotonic() - self._nodes_checked_at < 1.0:
            return
        self._nodes_checked_at = time.monotonic()
        alive = self._alive_nodes(ray)
        for node_id in sorted(set(self._alive) - set(alive)):
            print(f"curate: Ray node {node_id[:12]} ({self._alive[node_id]}) left the cluster; its tasks are "
                  f"retried on the other nodes (up to {self.retries} times)", file=sys.stderr, flush=True)
        for node_id in sorted(set(alive) - set(self._alive)):
            print(f"curate: Ray node {node_id[:12]} ({alive[node_id]}) joined the cluster", file=sys.stderr, flush=True)
        self._alive = alive

    def node_count(self) -> int:
        self._connect()
        # optional extra (curate-corpus[ray]): imported only when a Ray run starts
        import ray

        return len(self._alive_nodes(ray))

    def on_every_node(self, fn: Callable[[Any], Any], item: Any) -> list[tuple[str, Any]]:
        """``fn(item)`` once on each alive node (hard node affinity, Ray's public scheduling API)."""
        self._connect()
        # optional extra (curate-corpus[ray]): imported only when a Ray run starts
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        assert self._task_options is not None
        nodes = self._alive_nodes(ray)
        remote = ray.remote(_node_check)
        refs = {}
        for node_id in sorted(nodes):
            options = {"num_cpus": 0, "max_retries": 0, "runtime_env": self._task_options["runtime_env"],
                       "name": f"curate:preflight:{node_id[:12]}",
                       "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False)}
            refs[node_id] = remote.options(**options).remote(fn, item, os.getcwd())
        out = []
        for node_id, ref in refs.items():
            where = f"Ray node {node_id[:12]} ({nodes[node_id]})"
            try:
                out.append((where, ray.get(ref, timeout=PROBE_TIMEOUT_S)))
            except (ray.exceptions.NodeDiedError, ray.exceptions.WorkerCrashedError,
                    ray.exceptions.TaskUnschedulableError, ray.exceptions.LocalRayletDiedError):
                # the node left while being checked: it runs nothing of this run, so it needs no check
                print(f"curate: {where} left the cluster during the preflight; continuing without it",
                      file=sys.stderr, flush=True)
            except Exception as exc:
                cause = getattr(exc, "cause", None) or exc
                raise NodePreflightError(f"{where}: {cause}") from None
        return out

    # -- map ----------------------------------------------------------------------------------------
    def map(self, fn: Callable[[Any], Any], items: list[Any], desc: str = "") -> list[Any]:
        if not items:
            return []
        self._connect()
        # optional extra (curate-corpus[ray]): imported only when a Ray run starts
        import ray

        assert self._task_options is not None
        self._report_lost_nodes(ray)
        cwd = os.getcwd()
        prefix = "curate:" + (desc or getattr(fn, "__name__", "task")).replace(" ", "")
        results: list[Any] = [None] * len(items)
        pending: dict[Any, int] = {}
        progress = Progress(len(items), desc, self.progress, log_every=JOB_LOG_EVERY_SECONDS)
        next_index = 0
        try:
            while next_index < len(items) or pending:
                window = self._window(ray)
                while next_index < len(items) and len(pending) < window:
                    item = items[next_index]
                    options = {**self._task_options, "name": f"{prefix}:{_label(item, next_index)}"}
                    pending[self._remote.options(**options).remote(fn, item, cwd)] = next_index
                    next_index += 1
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=progress.interval)
                if ready:  # collect everything finished by now, not just the first
                    ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
                for ref in ready:
                    index = pending.pop(ref)
                    results[index] = self._result(ray, ref, items[index], index, desc)
                    progress.update(results[index])
                progress.tick()
                self._report_lost_nodes(ray)
        except BaseException:
            for ref in pending:  # stop the rest: nothing more is written for a failed run
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # already finished or gone
                    pass
            raise
        finally:
            progress.close()
        return results

    def _result(self, ray: Any, ref: Any, item: Any, index: int, desc: str) -> Any:
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError:
            raise  # our code raised: the error is also an instance of the original exception class
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.OutOfMemoryError,
                ray.exceptions.LocalRayletDiedError, ray.exceptions.ObjectLostError) as exc:
            lines = str(exc).strip().splitlines()
            raise RayTaskFailedError(
                f"{desc or 'task'} {_label(item, index)} failed {self.retries + 1} times for system reasons "
                f"(last: {type(exc).__name__}: {lines[0] if lines else ''}); check memory and the nodes "
                f"(`ray status`), then rerun: finished shards are kept"
            ) from exc

    def close(self) -> None:
        if self._owns_connection:
            # optional extra (curate-corpus[ray]): imported only when a Ray run starts
            import ray

            if ray.is_initialized():
                ray.shutdown()
            self._owns_connection = False
        if self._saved_env:
            self._restore_process_state()
        self._remote = None
        self._task_options = None
