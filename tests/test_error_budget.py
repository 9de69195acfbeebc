"""Error budget, preflight refusals and executor settings that need no cluster (fast, local)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pipeline_helpers import run_cli, write_pipeline

from curate import run
from curate.config.pipeline_config import PipelineConfigError, parse_pipeline
from curate.executors.factory import make_executor
from curate.executors.local import LocalExecutor
from curate.pipeline.error_budget import ErrorBudgetExceeded, check_error_budget
from curate.storage.atomic import write_bytes_atomic
from curate.storage.options import apply_storage_options
from curate.storage.probe import StorageProbeError
from curate.storage.s3_waits import S3_DEFAULTS, with_s3_defaults

WARC = "cc-main-2020-34-multilingual.warc.gz"


def _run(cfg: Path, out: Path | str, workers: int = 1):
    from curate.config.pipeline_config import load_pipeline

    executor = LocalExecutor(workers=workers, progress=False)
    try:
        return run(load_pipeline(str(cfg)), output=str(out), executor=executor)
    finally:
        executor.close()


def _shard(index: str, docs_in: int, errored: int, shard: str = "s0", message: str = "ValueError: x") -> dict:
    step = {"en": {"in": docs_in, "out": docs_in - errored, "errored": {"ValueError": errored} if errored else {}}}
    return {"shard": shard, "steps": {index: step}, "first_errors": {index: message} if errored else {}}


def test_budget_rule_floor_rate_and_all_errored():
    names = ["extract", "langid"]
    # one error in a 10-document shard: under the floor, the run goes on
    check_error_budget([_shard("1", 10, 1)], names, 0.01, 10)
    # 1,000 documents, 10 errors (1%): at the rate, fine; 25 errors: over it in that shard
    check_error_budget([_shard("1", 1000, 10)], names, 0.01, 10)
    with pytest.raises(ErrorBudgetExceeded, match=r"step 1 \(langid\): 25 of 1000 .* shard s3: ValueError: boom"):
        check_error_budget([_shard("1", 1000, 25, "s3", "ValueError: boom")], names, 0.01, 10)
    # every shard under budget, but over the run: 8 shards x 10 errors of 100 documents = 10% > 1%
    shards = [_shard("0", 100, 10, f"s{i}") for i in range(8)]
    with pytest.raises(ErrorBudgetExceeded, match="over the run"):
        check_error_budget(shards, names, 0.01, 10)
    # a step whose every document errored fails whatever the floor
    with pytest.raises(ErrorBudgetExceeded, match="3 of 3"):
        check_error_budget([_shard("0", 3, 3)], names, 0.01, 10)


def test_step_whose_every_document_raises_fails_the_run(shared_data: Path, tmp_path: Path):
    steps = [{"extract": {"engine": "resiliparse"}}, {"failing_blocks:AlwaysRaises": {}}]
    cfg = write_pipeline(tmp_path / "p.yaml", [str(shared_data / "warc" / WARC)], tmp_path / "out", steps)
    proc = run_cli("run", str(cfg))
    assert proc.returncode != 0
    err = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert "step 1 (failing_blocks:AlwaysRaises)" in err[-1] and "documents errored" in err[-1]
    assert "model weights at /nonexistent/model.bin" in err[-1] and "max_error_rate" in err[-1]
    # errors are still counted and the rows kept in _removed with their message
    removed = list((tmp_path / "out" / "_removed").rglob("*.parquet"))
    assert removed


def test_errors_within_budget_let_the_run_finish_and_stay_counted(shared_data: Path, tmp_path: Path):
    steps = [{"extract": {"engine": "resiliparse"}}, {"failing_blocks:FailsEveryNth": {"every": 50}}]
    cfg = write_pipeline(tmp_path / "p.yaml", [str(shared_data / "warc" / WARC)], tmp_path / "out", steps)
    result = _run(cfg, tmp_path / "out")
    step = next(s for s in result.stats["steps"] if s["index"] == 1)
    errored = sum(sum(v["errored"].values()) for v in step["langs"].values())
    docs_in = sum(v["in"] for v in step["langs"].values())
    assert 0 < errored <= 10 < docs_in
    # with a zero budget the same run fails
    strict = write_pipeline(tmp_path / "q.yaml", [str(shared_data / "warc" / WARC)], tmp_path / "out2", steps,
                            max_error_rate=0.0, min_errors=0)
    with pytest.raises(ErrorBudgetExceeded):
        _run(strict, tmp_path / "out2")


def test_memory_output_with_worker_processes_is_refused_before_work(shared_data: Path, tmp_path: Path):
    cfg = write_pipeline(tmp_path / "p.yaml", [str(shared_data / "warc" / WARC)], "memory://curate-run",
                         [{"extract": {"engine": "resiliparse"}}])
    with pytest.raises(StorageProbeError, match="memory:// lives in one process"):
        _run(cfg, "memory://curate-run", workers=2)
    import fsspec

    assert not fsspec.filesystem("memory").exists("/curate-run")


def test_storage_options_validated_and_applied(monkeypatch: pytest.MonkeyPatch):
    base = "input: {paths: [x.warc.gz]}\noutput: out\npipeline: [extract]\n"
    with pytest.raises(PipelineConfigError, match="storage.*unknown filesystem protocol 'nosuch'"):
        parse_pipeline(base + "storage: {nosuch: {a: 1}}\n", "p.yaml")
    cfg = parse_pipeline(base + "storage: {s3: {endpoint_url: 'http://127.0.0.1:1', anon: true}}\n", "p.yaml")
    monkeypatch.delenv("FSSPEC_S3", raising=False)
    import fsspec.config

    monkeypatch.setitem(fsspec.config.conf, "s3", {})
    apply_storage_options(cfg.storage)
    # the file's options over curate's bounded waits (curate/storage/s3_waits.py)
    assert json.loads(os.environ["FSSPEC_S3"]) == with_s3_defaults({"anon": True, "endpoint_url": "http://127.0.0.1:1"})
    assert fsspec.config.conf["s3"]["endpoint_url"] == "http://127.0.0.1:1"
    assert fsspec.config.conf["s3"]["config_kwargs"]["read_timeout"] == S3_DEFAULTS["config_kwargs"]["read_timeout"]
    monkeypatch.delenv("FSSPEC_S3")


def test_atomic_write_leaves_no_temporary_and_replaces(tmp_path: Path):
    target = tmp_path / "a" / "b.json"
    write_bytes_atomic(str(target), b"one")
    write_bytes_atomic(str(target), b"two")
    assert target.read_bytes() == b"two" and [p.name for p in target.parent.iterdir()] == ["b.json"]


def test_ray_executor_settings_without_a_cluster(monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("ray")
    from curate.executors.cluster_errors import ClusterUnreachableError
    from curate.executors.ray_executor import RayExecutor, forwarded_env

    # the file's workers do not cap a cluster run; they size a private local Ray only
    cfg = parse_pipeline("input: {paths: [x.warc.gz]}\noutput: out\npipeline: [extract]\n"
                         "executor: {type: ray, workers: 2}\n", "p.yaml")
    ex = make_executor(cfg)
    assert isinstance(ex, RayExecutor) and ex.workers is None and ex.local_cpus == 2
    assert make_executor(cfg, workers=5).workers == 5
    # an http:// RAY_ADDRESS is the dashboard: a clear error, no private Ray started instead
    monkeypatch.setenv("RAY_ADDRESS", "http://127.0.0.1:8265")
    with pytest.raises(ClusterUnreachableError, match="dashboard / Jobs API address.*curate submit"):
        RayExecutor()._resolve_target()
    env = forwarded_env({"AWS_ENDPOINT_URL": "e", "FSSPEC_S3": "{}", "CURATE_OFFLINE": "1", "HOME": "/root"})
    assert env == {"AWS_ENDPOINT_URL": "e", "CURATE_OFFLINE": "1", "FSSPEC_S3": "{}"}
