"""The cluster layer without a cluster: addresses, tokens, the shipped pipeline, the argparse commands."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest
from ray_local_head import free_port
from ruamel.yaml import YAML

from curate.cli.cluster_commands import register_cluster_commands
from curate.cli.jobs import SubmitRequest, entrypoint, shipped_pipeline
from curate.executors.cluster_errors import ClusterAuthError, ClusterUnreachableError
from curate.executors.progress import Progress
from curate.executors.ray_addresses import is_loopback, jobs_address, split_host_port
from curate.executors.ray_auth import auth_headers, resolve_token
from curate.executors.ray_executor import RayExecutor


def test_addresses() -> None:
    assert split_host_port("127.0.0.1:6379") == ("127.0.0.1", 6379)
    assert split_host_port("http://head:8265") == ("head", 8265)
    assert split_host_port("head", 6379) == ("head", 6379)
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("10.0.0.1")


def test_jobs_address_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_API_SERVER_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert jobs_address(None) == "http://127.0.0.1:8265"
    assert jobs_address("10.1.2.3:8265/") == "http://10.1.2.3:8265"
    monkeypatch.setenv("RAY_ADDRESS", "http://head:8265")
    assert jobs_address(None) == "http://head:8265"
    monkeypatch.setenv("RAY_API_SERVER_ADDRESS", "http://api:8265")
    assert jobs_address(None) == "http://api:8265"
    with pytest.raises(ClusterUnreachableError):
        jobs_address("ray://head:10001")


def test_token_sources_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("curate.executors.ray_auth.DEFAULT_TOKEN_FILE", tmp_path / "auth_token")
    assert resolve_token() is None
    (tmp_path / "auth_token").write_text("from-home\n")
    assert resolve_token() is None  # ~/.ray/auth_token only when RAY_AUTH_MODE=token, as Ray does
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    assert resolve_token() == "from-home"
    (tmp_path / "t").write_text("from-path")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "t"))
    assert resolve_token() == "from-path"
    monkeypatch.setenv("RAY_AUTH_TOKEN", "from-env")
    assert resolve_token() == "from-env"
    assert resolve_token(token_file=str(tmp_path / "t")) == "from-path"
    assert resolve_token(token="explicit") == "explicit"
    assert auth_headers("x") == {"Authorization": "Bearer x"} and auth_headers(None) == {}
    (tmp_path / "empty").write_text("")
    with pytest.raises(ClusterAuthError, match="empty"):
        resolve_token(token_file=str(tmp_path / "empty"))


def test_shipped_pipeline_makes_local_paths_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.warc.gz").write_bytes(b"")
    src = tmp_path / "p.yaml"
    src.write_text(textwrap.dedent("""
        name: demo  # a comment survives
        input:
          paths: ["data/*.warc.gz", "s3://bucket/x.warc.gz", "curate://samples/x.warc.gz"]
        output: out/demo
        pipeline:
          - extract: {}
    """))
    monkeypatch.chdir(tmp_path)
    shipped, config = shipped_pipeline(str(src), tmp_path / "ship")
    doc = YAML(typ="safe").load(shipped.read_text())
    assert config.name == "demo"
    assert doc["input"]["paths"] == [str(tmp_path / "data/*.warc.gz"), "s3://bucket/x.warc.gz",
                                     "curate://samples/x.warc.gz"]
    assert doc["output"] == str(tmp_path / "out/demo")
    assert "a comment survives" in shipped.read_text()
    shipped, _ = shipped_pipeline(str(src), tmp_path / "ship2", output="elsewhere")
    assert YAML(typ="safe").load(shipped.read_text())["output"] == str(tmp_path / "elsewhere")


def test_entrypoint_quotes_arguments() -> None:
    cmd = entrypoint(SubmitRequest(pipeline="p.yaml", workers=4, overwrite=True, python="/opt/my env/python"),
                     "/data/out dir")
    assert cmd == ("'/opt/my env/python' -m curate.cli run pipeline.yaml --executor ray "
                   "--output '/data/out dir' --workers 4 --overwrite")


def test_register_cluster_commands_adds_four_subcommands() -> None:
    parser = argparse.ArgumentParser(prog="curate")
    register_cluster_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["submit", "p.yaml", "--address", "http://h:8265", "--no-wait", "-w", "3",
                              "--env", "A=1", "--token", "t"])
    assert (args.pipeline, args.address, args.no_wait, args.workers, args.env, args.token) == (
        "p.yaml", "http://h:8265", True, 3, ["A=1"], "t")
    for argv in (["status"], ["status", "J"], ["logs", "J", "--follow"], ["stop", "J"]):
        assert callable(parser.parse_args(argv).func)


def test_job_commands_say_how_to_start_a_head(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="curate")
    register_cluster_commands(parser.add_subparsers(dest="command", required=True))
    address = f"http://127.0.0.1:{free_port()}"
    args = parser.parse_args(["status", "--address", address])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert address.removeprefix("http://") in err and "ray start --head" in err


def test_executor_rejects_a_dashboard_url_and_a_dead_address() -> None:
    with pytest.raises(ClusterUnreachableError, match="curate submit"):
        RayExecutor(address="http://127.0.0.1:8265").map(abs, [1])
    port = free_port()
    with pytest.raises(ClusterUnreachableError, match=f"127.0.0.1:{port}.*ray start --head"):
        RayExecutor(address=f"127.0.0.1:{port}").map(abs, [1])


def test_progress_line_counts_docs_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    progress = Progress(4, "stage 0", enabled=False)
    clock = iter([10.0, 12.0])
    monkeypatch.setattr("curate.executors.progress.time.monotonic", lambda: next(clock))
    progress.started = 0.0
    progress.update({"read": {"records": 300, "emitted": 100}})
    line = progress.line()
    assert line == "stage 0: 1/4 tasks, 100 docs, 10 docs/s, ETA 00:00:30"


def test_eta_hours_go_past_a_day() -> None:
    from curate.executors.progress import hms

    assert hms(31 * 3600 + 5 * 60 + 10.7) == "31:05:10"
