"""``curate submit / status / logs / stop``: a pipeline as a Ray job, through the Ray Jobs API.

``register_cluster_commands(subparsers)`` adds the four subcommands to the ``curate`` parser; each
sets ``func`` (parsed args -> exit code).
Exit codes: 0 done / job succeeded or running, 1 job failed or stopped, 2 usage or connection error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from curate.cli.jobs import JobsClient, SubmitRequest, format_job, format_job_table
from curate.executors.cluster_errors import ClusterError

EXIT_OK, EXIT_JOB_FAILED, EXIT_ERROR = 0, 1, 2


def _connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", "-a",
                        help="the head's Jobs API (dashboard) URL, default $RAY_API_SERVER_ADDRESS or "
                             "http://127.0.0.1:8265")
    parser.add_argument("--token", help="auth token of a cluster started with RAY_AUTH_MODE=token "
                                        "(default: $RAY_AUTH_TOKEN, $RAY_AUTH_TOKEN_PATH, or ~/.ray/auth_token "
                                        "when RAY_AUTH_MODE=token)")
    parser.add_argument("--token-file", help="read the auth token from this file")


def _client(args: argparse.Namespace):  # -> JobsClient (import kept lazy: ray is an optional extra)
    return JobsClient(args.address, token=args.token, token_file=args.token_file)


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Cluster errors are the user's to fix: print the message, no traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except ClusterError as exc:
            print(f"curate: {exc}", file=sys.stderr)
            return EXIT_ERROR

    run.__name__ = fn.__name__
    return run


def _key_values(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ClusterError(f"--env takes KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


@_guard
def cmd_submit(args: argparse.Namespace) -> int:
    client = _client(args)
    request = SubmitRequest(pipeline=args.pipeline, output=args.output, workers=args.workers,
                            overwrite=args.overwrite, python=args.python, env=_key_values(args.env),
                            py_modules=args.py_module or [], job_id=args.job_id)
    job_id = client.submit(request)
    print(job_id, flush=True)
    where = f" --address {client.address}"
    if args.no_wait:
        print(f"follow it with: curate logs {job_id} --follow{where}\n"
              f"status: curate status {job_id}{where}    stop: curate stop {job_id}{where}", file=sys.stderr)
        return EXIT_OK
    print(f"[curate] following {job_id}; Ctrl-C stops following, not the job "
          f"(`curate stop {job_id}{where}` does)", file=sys.stderr, flush=True)
    try:
        status = client.follow(job_id, sys.stdout)
    except KeyboardInterrupt:
        print(f"\n[curate] stopped following; the job goes on: curate status {job_id}{where}", file=sys.stderr)
        return EXIT_OK
    print(format_job(client.info(job_id)), file=sys.stderr)
    return EXIT_OK if status == "SUCCEEDED" else EXIT_JOB_FAILED


@_guard
def cmd_status(args: argparse.Namespace) -> int:
    client = _client(args)
    if not args.job:
        print(format_job_table(client.list()))
        return EXIT_OK
    info = client.info(args.job)
    print(format_job(info))
    return EXIT_JOB_FAILED if str(getattr(info.status, "value", info.status)) in ("FAILED", "STOPPED") else EXIT_OK


@_guard
def cmd_logs(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.follow:
        try:
            status = client.follow(args.job, sys.stdout)
        except KeyboardInterrupt:
            return EXIT_OK
        return EXIT_OK if status == "SUCCEEDED" else EXIT_JOB_FAILED
    sys.stdout.write(client.logs(args.job))
    return EXIT_OK


@_guard
def cmd_stop(args: argparse.Namespace) -> int:
    client = _client(args)
    before = client.status(args.job)
    status = client.stop(args.job, wait=not args.no_wait)
    if before in ("SUCCEEDED", "FAILED", "STOPPED"):
        print(f"{args.job} had already ended: {before}")
    else:
        print(f"{args.job}: {status}" + ("" if status in ("STOPPED", "FAILED", "SUCCEEDED") else " (stopping)"))
        print("finished shards are kept: submit the same pipeline again to resume", file=sys.stderr)
    return EXIT_OK


def register_cluster_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``submit``, ``status``, ``logs`` and ``stop`` to a ``curate`` subparsers object."""
    submit = subparsers.add_parser(
        "submit", help="run a pipeline file as a Ray job on a cluster",
        description="Run PIPELINE as a Ray job: the head runs `curate run PIPELINE --executor ray`, one Ray "
                    "task per shard. Relative local paths are made absolute here and must exist on the nodes. "
                    "Submitting the same pipeline again resumes it.")
    submit.add_argument("pipeline")
    _connection_args(submit)
    submit.add_argument("--output", "-o", help="output folder or URL every node sees (default: the file's)")
    submit.add_argument("--workers", "-w", type=int, help="shard tasks in flight (default: 2 x cluster CPUs)")
    submit.add_argument("--overwrite", action="store_true", help="delete an output of a different config first")
    submit.add_argument("--no-wait", action="store_true", help="print the job id and return at once")
    submit.add_argument("--python", default="python",
                        help="Python on the head that has curate installed (default: `python` on the PATH "
                             "Ray was started with)")
    submit.add_argument("--env", action="append", metavar="KEY=VALUE", help="environment variable for the job")
    submit.add_argument("--py-module", action="append", metavar="PATH",
                        help="ship a local package/module folder with the job (user blocks); repeatable")
    submit.add_argument("--job-id", help="job id to use (default: curate-<name>-<time>-<random>)")
    submit.set_defaults(func=cmd_submit)

    status = subparsers.add_parser("status", help="state of a Ray job (no JOB: list the cluster's jobs)")
    status.add_argument("job", nargs="?")
    _connection_args(status)
    status.set_defaults(func=cmd_status)

    logs = subparsers.add_parser("logs", help="output of a Ray job")
    logs.add_argument("job")
    _connection_args(logs)
    logs.add_argument("--follow", "-f", action="store_true", help="stream until the job ends")
    logs.set_defaults(func=cmd_logs)

    stop = subparsers.add_parser("stop", help="stop a Ray job (finished shards are kept for a resume)")
    stop.add_argument("job")
    _connection_args(stop)
    stop.add_argument("--no-wait", action="store_true", help="return without waiting for the job to stop")
    stop.set_defaults(func=cmd_stop)

