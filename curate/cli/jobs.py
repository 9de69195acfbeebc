"""Run a pipeline as a Ray job (Ray Jobs API) and follow it: submit, status, logs, stop.

The job's driver runs ``python -m curate.cli run pipeline.yaml --executor ray`` on the head node; it
joins the cluster (Ray sets ``RAY_ADDRESS`` for it) and runs every shard as a Ray task. The pipeline
file travels as the job's ``working_dir`` (a folder holding only that file, uploaded through the Jobs
API), with relative local paths made absolute first: the driver runs in an unpacked copy of that
folder, where a relative path would point nowhere. Local paths must therefore exist on the cluster's
nodes (shared storage); URLs (s3://, gs://, hf://) work as they are.

Resume: submitting the same file again (same output) skips every shard a previous job finished.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shlex
import tempfile
import time
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any, TextIO

from ruamel.yaml import YAML

from curate.config.pipeline_config import load_pipeline
from curate.executors.cluster_errors import (
    ClusterAuthError,
    ClusterError,
    ClusterUnreachableError,
    JobNotFoundError,
)
from curate.executors.ray_addresses import check_reachable, jobs_address, split_host_port
from curate.executors.ray_auth import TOKEN_HINT, auth_headers, resolve_token

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
PIPELINE_FILE = "pipeline.yaml"
HEAD_HINT = ("start a head with `ray start --head --dashboard-host=127.0.0.1 --dashboard-port=8265` "
             "(the Jobs API is served by its dashboard), or pass --address http://HEAD:8265")


@dataclass
class SubmitRequest:
    pipeline: str
    output: str | None = None
    workers: int | None = None
    overwrite: bool = False
    python: str = "python"
    env: dict[str, str] = field(default_factory=dict)
    py_modules: list[str] = field(default_factory=list)
    job_id: str | None = None
    entrypoint_num_cpus: float = 0.0  # the driver mostly waits; it should not hold a shard task's CPU


def _absolute(path: str, base: Path) -> str:
    """A local relative path -> absolute from ``base``; URLs and ``curate://`` samples stay as they are."""
    if "://" in path:
        return path
    expanded = os.path.expanduser(path)
    return expanded if os.path.isabs(expanded) else str((base / expanded).resolve())


def shipped_pipeline(pipeline: str, folder: Path, output: str | None = None, base: Path | None = None) -> tuple[Path, Any]:
    """Validate ``pipeline`` here (errors name file and line before anything is sent) and write the copy
    the job runs to ``folder/pipeline.yaml``, local paths made absolute. Returns (path, config)."""


    config = load_pipeline(pipeline)  # raises PipelineConfigError with file:line
    base = base or Path.cwd()
    yaml = YAML(typ="rt")
    doc = yaml.load(Path(pipeline).read_text(encoding="utf-8"))
    paths = doc["input"]["paths"]
    if isinstance(paths, str):
        doc["input"]["paths"] = _absolute(paths, base)
    else:
        for i, path in enumerate(paths):
            paths[i] = _absolute(str(path), base)
    doc["output"] = _absolute(str(output or doc["output"]), base)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PIPELINE_FILE
    with target.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)
    return target, config


def entrypoint(request: SubmitRequest, output: str | None) -> str:
    args = [request.python, "-m", "curate.cli", "run", PIPELINE_FILE, "--executor", "ray"]
    if output:
        args += ["--output", output]
    if request.workers:
        args += ["--workers", str(request.workers)]
    if request.overwrite:
        args.append("--overwrite")
    return shlex.join(args)


def new_job_id(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "pipeline"
    return f"curate-{slug}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


class JobsClient:
    """The Ray Jobs API of one cluster, with curate's errors and defaults."""

    def __init__(self, address: str | None = None, token: str | None = None, token_file: str | None = None,
                 check: bool = True) -> None:
        self.address = jobs_address(address)
        self.token = resolve_token(token, token_file)
        host, port = split_host_port(self.address, 443 if self.address.startswith("https") else 80)
        if check and port is not None:
            check_reachable(host, port, "Ray Jobs API (dashboard)", HEAD_HINT)
        try:
            # optional extra (curate-corpus[ray]): imported only when a Ray run starts
            from ray.job_submission import JobSubmissionClient
        except ImportError as exc:  # pragma: no cover - ray is an optional extra
            raise ClusterError("the Ray Jobs client is missing: pip install 'curate-corpus[ray]'") from exc
        try:
            self._client = self._call(JobSubmissionClient, self.address, headers=auth_headers(self.token))
        except ConnectionError:
            raise ClusterUnreachableError(f"no Ray Jobs API answers at {self.address}; {HEAD_HINT}") from None

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Ray's client errors -> ours, with what to do."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if type(exc).__name__ == "AuthenticationError":
                why = "a token is required" if "required" in str(exc) else "the token was rejected"
                raise ClusterAuthError(f"the Ray cluster at {self.address} uses token authentication and "
                                       f"{why}; {TOKEN_HINT}") from None
            if isinstance(exc, RuntimeError) and "status code 404" in str(exc):
                raise JobNotFoundError(f"no job {args[0] if args else ''!s} on {self.address}; list the jobs "
                                       f"with `curate status --address {self.address}`") from None
            raise

    # -- submit -------------------------------------------------------------------------------------
    def submit(self, request: SubmitRequest) -> str:
        with tempfile.TemporaryDirectory(prefix="curate-submit-") as tmp:
            _, config = shipped_pipeline(request.pipeline, Path(tmp), request.output)
            output = _absolute(request.output, Path.cwd()) if request.output else None
            runtime_env: dict[str, Any] = {"working_dir": tmp}
            if request.env:
                runtime_env["env_vars"] = dict(request.env)
            if request.py_modules:
                runtime_env["py_modules"] = [_absolute(p, Path.cwd()) for p in request.py_modules]
            job_id = request.job_id or new_job_id(config.name)
            metadata = {"curate_pipeline": config.name, "curate_output": output or _absolute(config.output, Path.cwd()),
                        "curate_source": str(Path(request.pipeline).resolve())}
            return self._call(self._client.submit_job, entrypoint=entrypoint(request, output),
                              submission_id=job_id, runtime_env=runtime_env, metadata=metadata,
                              entrypoint_num_cpus=request.entrypoint_num_cpus)

    # -- follow -------------------------------------------------------------------------------------
    def info(self, job_id: str) -> Any:
        return self._call(self._client.get_job_info, job_id)

    def status(self, job_id: str) -> str:
        return str(self._call(self._client.get_job_status, job_id).value)

    def list(self) -> list[Any]:
        jobs = self._call(self._client.list_jobs)
        return sorted(jobs, key=lambda j: j.start_time or 0)

    def logs(self, job_id: str) -> str:
        return self._call(self._client.get_job_logs, job_id)

    def follow(self, job_id: str, out: TextIO) -> str:
        """Stream the job's logs to ``out`` until it ends; returns the final status."""
        self.info(job_id)  # a clear error for an unknown id before the websocket opens

        async def tail() -> None:
            async for chunk in self._client.tail_job_logs(job_id):
                out.write(chunk)
                out.flush()

        try:
            asyncio.run(tail())
        except Exception as exc:  # the stream can drop (head restarted): report it, fall back to polling
            out.write(f"\n[curate] log stream ended ({type(exc).__name__}: {exc}); waiting for the job to end\n")
        return self.wait(job_id)

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 1.0) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status(job_id)
            if status in TERMINAL or (deadline is not None and time.monotonic() > deadline):
                return status
            time.sleep(poll)

    def stop(self, job_id: str, wait: bool = True, timeout: float = 60.0) -> str:
        """Ask the job to stop (its driver gets SIGTERM, then SIGKILL); returns the status after."""
        status = self.status(job_id)
        if status in TERMINAL:
            return status
        self._call(self._client.stop_job, job_id)
        return self.wait(job_id, timeout=timeout) if wait else self.status(job_id)


def format_job(info: Any) -> str:
    """Several lines describing one job."""
    meta = info.metadata or {}
    status = str(getattr(info.status, "value", info.status))
    lines = [f"{info.submission_id or info.job_id}: {status}"]
    if meta.get("curate_pipeline"):
        lines.append(f"  pipeline  {meta['curate_pipeline']} ({meta.get('curate_source', '?')})")
    if meta.get("curate_output"):
        lines.append(f"  output    {meta['curate_output']}")
    lines.append(f"  command   {info.entrypoint}")
    if info.start_time:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.start_time / 1000))
        end = info.end_time or time.time() * 1000
        lines.append(f"  started   {started} ({(end - info.start_time) / 1000:.1f} s"
                     f"{'' if info.end_time else ' so far'})")
    if info.message:
        message = info.message.strip().splitlines()
        lines.append(f"  message   {message[0]}" + (" [...]" if len(message) > 1 else ""))
    if status == "FAILED" and "No module named 'curate'" in (info.message or ""):
        lines.append("  hint      the cluster's Python cannot import curate: install it where Ray runs (every node) "
                     "and start Ray from that environment, or pass --python /path/to/venv/bin/python")
    elif status == "FAILED" and info.message and "exit code 127" in info.message:
        lines.append("  hint      the job's python command was not found on the head: pass --python")
    return "\n".join(lines)


def format_job_table(jobs: list[Any]) -> str:
    if not jobs:
        return "no jobs"
    rows = [("JOB", "STATUS", "PIPELINE", "STARTED")]
    for job in jobs:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.start_time / 1000)) if job.start_time else "-"
        rows.append((job.submission_id or job.job_id or "?", str(getattr(job.status, "value", job.status)),
                     (job.metadata or {}).get("curate_pipeline", "-"), started))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    buf = StringIO()
    for row in rows:
        buf.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    return buf.getvalue().rstrip("\n")
