"""The Ray executor and the Ray job commands against a real Ray head on loopback.

One head per module (:func:`tests/ray_local_head.py: start_local_head`): ``ray start --head --block``
in its own session, 2 CPUs, token auth on, loopback only. It is stopped with SIGTERM to that process and
SIGKILL to anything left in its session: `ray stop` would kill every Ray on the machine, not just this one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from pipeline_helpers import REPO, parquet_digests, write_pipeline
from ray_local_head import LocalHead, free_port, session_pids, start_local_head

pytestmark = [pytest.mark.ray, pytest.mark.slow]

SMALL_WARCS = ("cc-main-2020-34-multilingual.warc.gz", "wget-crawl-sample-0000.warc.gz",
               "wget-crawl-sample-0001.warc.gz", "cc-main-2015-11-single-gzip-member.warc.gz",
               "cc-main-2020-34-clipped-record.warc.gz")


def _env(head: LocalHead, **extra: str) -> dict[str, str]:
    """Environment of a driver of this cluster (token from the environment, as users would)."""
    return head.driver_env(PYTHONPATH=str(REPO / "tests"), **extra)


@pytest.fixture(scope="module")
def ray_head():
    if not Path(sys.executable).with_name("ray").exists():
        pytest.skip(f"no ray CLI next to {sys.executable} (pip install 'curate-corpus[ray]')")
    head = start_local_head(num_cpus=2)
    try:
        yield head
    finally:
        head.stop()


def _run(args: list[str], env: dict[str, str], cwd: Path = REPO, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def _curate(head: LocalHead, *args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return _run(["-m", "curate.cli", *args], env or _env(head), cwd)


def _jobs_cli(head: LocalHead, *args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return _run(["-m", "curate.cli", *args], env or _env(head), cwd)


def _local_run(cfg: Path, out: Path, workers: int = 1) -> dict[str, str]:
    from curate import run
    from curate.config.pipeline_config import load_pipeline
    from curate.executors.local import LocalExecutor

    # in this process (workers=1): models stay loaded between tests; and whatever the file's executor says
    executor = LocalExecutor(workers=workers, progress=False)
    try:
        run(load_pipeline(str(cfg)), output=str(out), executor=executor)
    finally:
        executor.close()
    return parquet_digests(out)


STEPS = {
    "extract-langid": [{"extract": {"engine": "resiliparse"}}, {"langid": {}}],
    "extract-langid-minhash": [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"minhash": {}}],
}


@pytest.mark.parametrize("steps", list(STEPS))
def test_ray_output_is_byte_identical_to_local(ray_head: LocalHead, shared_data: Path, tmp_path: Path, steps: str) -> None:
    # every file, including the clipped-record one whose stage-0 output is empty (a shard with no file
    # at the dedup barrier)
    inputs = [str(shared_data / "warc" / n) for n in SMALL_WARCS]
    extra = {"executor": {"type": "ray", "address": ray_head.gcs}} if "minhash" in steps else {}
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, tmp_path / "local", STEPS[steps], **extra)
    local = _local_run(cfg, tmp_path / "local")
    assert local, "the local run wrote no Parquet"
    # from the YAML's executor block, or --executor ray with RAY_ADDRESS
    args = ["run", str(cfg), "--output", str(tmp_path / "ray")] + ([] if extra else ["--executor", "ray"])
    ray = _curate(ray_head, *args)
    assert ray.returncode == 0, ray.stderr[-3000:]
    assert "stage 0:" in ray.stderr  # the progress line
    assert parquet_digests(tmp_path / "ray") == local


def test_task_exception_surfaces_once_and_results_keep_order(ray_head: LocalHead, tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import time
        from curate.executors.ray_executor import RayExecutor

        def square(x):
            time.sleep(0.01 * (x % 3))  # finish out of order
            return x * x

        def boom(x):
            with open({str(tmp_path / 'attempts')!r}, "a") as f:
                f.write("attempt\\n")
            raise ValueError(f"bad item {{x}}")

        ex = RayExecutor(workers=3, retries=3, progress=False)  # address from RAY_ADDRESS
        assert ex.map(square, list(range(25))) == [x * x for x in range(25)]
        try:
            ex.map(boom, [7])
        except ValueError as exc:
            print("caught:", type(exc).__name__, "bad item 7" in str(exc))
        ex.close()
    """)
    result = _run(["-c", script], _env(ray_head))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "caught: " in result.stdout and "True" in result.stdout
    assert (tmp_path / "attempts").read_text().count("attempt") == 1  # not retried


def test_submit_runs_a_job_then_status_logs_and_resume(ray_head: LocalHead, shared_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in SMALL_WARCS[:3]:
        (data / name).symlink_to(shared_data / "warc" / name)
    # relative paths: `curate submit` must resolve them here, not in the job's working_dir
    (tmp_path / "p.yaml").write_text(textwrap.dedent("""
        name: submitted
        input: {paths: ["data/*.warc.gz"]}
        output: out
        pipeline:
          - extract: {engine: resiliparse}
          - langid: {}
    """))
    env = {k: v for k, v in _env(ray_head).items() if k not in ("RAY_AUTH_TOKEN", "RAY_AUTH_MODE", "RAY_ADDRESS")}
    conn = ["--address", ray_head.jobs, "--token", ray_head.token]
    submitted = _jobs_cli(ray_head, "submit", "p.yaml", *conn, "--no-wait", cwd=tmp_path, env=env)
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    job = submitted.stdout.strip().splitlines()[-1]
    assert job.startswith("curate-submitted-")
    followed = _jobs_cli(ray_head, "logs", job, "--follow", *conn, env=env)
    assert followed.returncode == 0, followed.stdout[-3000:] + followed.stderr[-3000:]

    status = _jobs_cli(ray_head, "status", job, *conn, env=env)
    assert status.returncode == 0 and "SUCCEEDED" in status.stdout, status.stdout + status.stderr
    assert str(tmp_path / "out") in status.stdout
    logs = _jobs_cli(ray_head, "logs", job, *conn, env=env)
    assert "3 shard tasks run, 0 already done" in logs.stdout, logs.stdout[-3000:]
    assert "eng_Latn" in logs.stdout  # the run report
    stats = json.loads((tmp_path / "out" / "_stats" / "stats.json").read_text())
    assert stats["read"]["records"] > 0

    listed = _jobs_cli(ray_head, "status", *conn, env=env)
    assert job in listed.stdout

    # resume = the same submit again (token from the environment this time); waits and streams the logs
    again = _jobs_cli(ray_head, "submit", "p.yaml", "--address", ray_head.jobs, cwd=tmp_path,
                      env={**env, "RAY_AUTH_TOKEN": ray_head.token})
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "0 shard tasks run, 3 already done" in again.stdout


def test_job_commands_explain_auth_and_address_errors(ray_head: LocalHead, tmp_path: Path) -> None:
    env = {k: v for k, v in _env(ray_head).items() if not k.startswith("RAY_")}
    no_token = _jobs_cli(ray_head, "status", "--address", ray_head.jobs, env=env)
    assert no_token.returncode == 2 and "token" in no_token.stderr and "Traceback" not in no_token.stderr
    wrong = _jobs_cli(ray_head, "status", "--address", ray_head.jobs, "--token", "0" * 64, env=env)
    assert wrong.returncode == 2 and "rejected" in wrong.stderr
    nobody = f"http://127.0.0.1:{free_port()}"
    unreachable = _jobs_cli(ray_head, "status", "--address", nobody, env=env)
    assert unreachable.returncode == 2 and nobody.removeprefix("http://") in unreachable.stderr
    assert "ray start --head" in unreachable.stderr
    unknown = _jobs_cli(ray_head, "status", "no-such-job", "--address", ray_head.jobs, "--token", ray_head.token,
                        env=env)
    assert unknown.returncode == 2 and "no job no-such-job" in unknown.stderr


def _curate_workers(session: int) -> dict[int, str]:
    """Ray worker processes of this head running a curate task: pid -> task name."""
    found = {}
    for pid in session_pids(session):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("ray::curate:stage0:"):
            found[pid] = cmdline.removeprefix("ray::")
    return found


def test_worker_killed_mid_task_is_retried_and_output_is_complete(ray_head: LocalHead, shared_data: Path,
                                                                   tmp_path: Path) -> None:
    extraction = shared_data / "extraction"
    inputs = [str(extraction / "mozilla_readability_testpages.warc.gz")]  # 130 pages: ~4 s of trafilatura
    inputs += [str(shared_data / "warc" / n) for n in SMALL_WARCS[:2]]
    steps = [{"extract": {"engine": "trafilatura"}}, {"langid": {}}]  # slow enough to land a kill mid-task
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, tmp_path / "local", steps)
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", "run", str(cfg), "--executor", "ray",
                             "--workers", "2", "--output", str(tmp_path / "ray")],
                            env=_env(ray_head), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed: list[str] = []

    def kill_one() -> None:
        first_seen: dict[int, float] = {}
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            for pid, name in _curate_workers(ray_head.session).items():
                first_seen.setdefault(pid, time.time())
                if time.time() - first_seen[pid] > 1.0:  # well inside the task
                    os.kill(pid, signal.SIGKILL)
                    killed.append(name)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one)
    killer.start()
    stdout, stderr = proc.communicate(timeout=300)
    killer.join()
    assert killed, "no curate task was seen running, nothing was killed"
    assert proc.returncode == 0, stderr[-3000:]
    assert "3 shard tasks run" in stdout
    shard = killed[0].rsplit(":", 1)[-1]
    marker = next((tmp_path / "ray" / "_markers").rglob(f"stage0-{shard}.json"))
    assert json.loads(marker.read_text())["read"]["records"] > 0
    assert not list((tmp_path / "ray").rglob("*.tmp"))
    assert parquet_digests(tmp_path / "ray") == _local_run(cfg, tmp_path / "local")


def test_stop_ends_a_running_job(ray_head: LocalHead, shared_data: Path, tmp_path: Path) -> None:
    inputs = [str(shared_data / "extraction" / "mozilla_readability_testpages.warc.gz")]
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, tmp_path / "out",
                         [{"extract": {"engine": "trafilatura"}}, {"langid": {}}])
    conn = ["--address", ray_head.jobs]
    submitted = _jobs_cli(ray_head, "submit", str(cfg), *conn, "--no-wait")
    assert submitted.returncode == 0, submitted.stderr[-2000:]
    job = submitted.stdout.strip().splitlines()[-1]
    from curate.cli.jobs import JobsClient

    client = JobsClient(ray_head.jobs, token=ray_head.token)
    deadline = time.time() + 60
    while client.status(job) != "RUNNING" and time.time() < deadline:
        time.sleep(0.2)
    stopped = _jobs_cli(ray_head, "stop", job, *conn)
    assert stopped.returncode == 0 and f"{job}: STOPPED" in stopped.stdout, stopped.stdout + stopped.stderr
    status = _jobs_cli(ray_head, "status", job, *conn)
    assert status.returncode == 1 and "STOPPED" in status.stdout
    again = _jobs_cli(ray_head, "stop", job, *conn)
    assert "already ended: STOPPED" in again.stdout
