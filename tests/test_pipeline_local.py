"""The streaming pipeline end to end on real WARCs, on the local executor."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import yaml
from pipeline_helpers import REPO, parquet_digests, run_cli, write_pipeline

from curate import run
from curate.config.pipeline_config import load_pipeline

STEPS = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"custom_blocks:min_words": {"minimum": 40}}]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, shared_data: Path):
    tmp = tmp_path_factory.mktemp("run")
    warc = shared_data / "warc"
    inputs = [str(warc / n) for n in ("cc-main-2020-34-multilingual.warc.gz", "wget-crawl-sample-0000.warc.gz",
                                      "cc-main-2020-34-clipped-record.warc.gz", "webrecorder-pdfs.warc.gz",
                                      "cc-main-2024-22-whirlwind.warc.wet.gz")]
    cfg = write_pipeline(tmp / "p.yaml", inputs, tmp / "out", STEPS, executor={"type": "local", "workers": 2})
    result = run(load_pipeline(str(cfg)))
    return tmp, result


def test_outputs_per_language_read_back_with_polars_and_pyarrow(small_run) -> None:
    tmp, result = small_run
    out = tmp / "out"
    langs = sorted(p.name for p in out.iterdir() if not p.name.startswith("_") and p.is_dir())
    assert {"eng_Latn", "cmn_Hani", "deu_Latn", "rus_Cyrl"} <= set(langs)
    for lang in langs:
        frame = pl.read_parquet(out / lang / "*.parquet")
        assert (frame["lang"] == lang).all()
        assert frame["text"].str.len_chars().min() > 0
        table = ds.dataset(out / lang, format="parquet").to_table()
        assert table.num_rows == frame.height == result.stats["output"][lang]["documents"]
        meta = pq.ParquetFile(next((out / lang).glob("*.parquet"))).metadata
        assert meta.row_group(0).column(0).compression == "ZSTD"
    assert not list(out.rglob("*.tmp"))


def test_every_step_and_language_adds_up_and_matches_rows_on_disk(small_run) -> None:
    tmp, result = small_run
    stats = json.loads((tmp / "out" / "_stats" / "stats.json").read_text())
    for step in stats["steps"]:
        for lang, c in step["langs"].items():
            assert c["in"] == c["out"] + sum(c["removed"].values()) + sum(c["errored"].values()), (step, lang)
    read = stats["read"]
    assert read["records"] == read["emitted"] + sum(read["skipped"].values()) + sum(read["errored"].values())
    assert read["errored"] == {"truncated_record": 1}
    removed = pl.read_parquet(tmp / "out" / "_removed" / "**" / "*.parquet", missing_columns="insert")
    assert removed.height == sum(e["removed"] + e["errored"] for e in stats["languages"].values())
    reasons = removed.group_by("drop_reason").len()
    assert "custom_blocks:min_words:under_40_words" in reasons["drop_reason"].to_list()
    kept = sum(e["kept"] for e in stats["languages"].values())
    assert kept + removed.height == read["emitted"]


def test_same_input_and_config_give_identical_bytes(small_run, tmp_path: Path) -> None:
    tmp, _ = small_run
    cfg = load_pipeline(str(tmp / "p.yaml"))
    run(cfg, output=str(tmp_path / "again"), workers=1)
    assert parquet_digests(tmp / "out") == parquet_digests(tmp_path / "again")


def test_rerun_of_a_finished_run_skips_all_work(small_run) -> None:
    tmp, first = small_run
    again = run(load_pipeline(str(tmp / "p.yaml")))
    assert again.ran_tasks == 0 and again.skipped_tasks == first.ran_tasks
    assert again.stats["languages"] == first.stats["languages"]


def _extraction_pipeline(tmp: Path, shared: Path, out: Path) -> Path:
    extraction = shared / "extraction"
    inputs = [str(extraction / "mozilla_readability_testpages.warc.gz")]  # 130 pages: trafilatura's state matters
    inputs += [str(p) for p in sorted((shared / "warc").glob("*.warc.gz"))]
    steps = [{"extract": {"engine": "trafilatura"}}, {"langid": {}}]
    return write_pipeline(tmp / "p.yaml", inputs, out, steps, executor={"type": "local", "workers": 1})


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_gives_identical_output(tmp_path: Path, shared_data: Path) -> None:
    cfg = _extraction_pipeline(tmp_path, shared_data, tmp_path / "killed")
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", "run", str(cfg)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    markers = tmp_path / "killed" / "_markers"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(markers.rglob("stage0-*.json"))) < 2:
        time.sleep(0.05)
    time.sleep(0.5)  # now inside the third shard
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(markers.rglob("stage0-*.json")))
    assert 0 < done_before < len(yaml.safe_load(cfg.read_text())["input"]["paths"]), "the kill did not land mid-run"
    resumed = run_cli("run", str(cfg))
    assert resumed.returncode == 0, resumed.stderr
    assert "already done" in resumed.stdout
    straight = run_cli("run", str(cfg), "--output", str(tmp_path / "straight"))
    assert straight.returncode == 0, straight.stderr
    assert parquet_digests(tmp_path / "killed") == parquet_digests(tmp_path / "straight")
    assert not list((tmp_path / "killed").rglob("*.tmp"))
    # the resumed run reports the whole run, not only the part it did after the kill
    resumed_stats = json.loads((tmp_path / "killed" / "_stats" / "stats.json").read_text())
    straight_stats = json.loads((tmp_path / "straight" / "_stats" / "stats.json").read_text())
    assert resumed_stats["languages"] == straight_stats["languages"]
    assert resumed_stats["read"] == straight_stats["read"]


@pytest.mark.slow
def test_ctrl_c_leaves_no_partial_files(tmp_path: Path, shared_data: Path) -> None:
    cfg = _extraction_pipeline(tmp_path, shared_data, tmp_path / "out")
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", "run", str(cfg)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "rerun the same command to resume" in err
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_wrong_key_block_and_setting_fail_before_work_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    cases = [
        ("input:\n  paths: [x.warc.gz]\n  formt: warc\noutput: o\npipeline:\n  - extract: {}\n",
         ["bad.yaml:3", "formt", "allowed here: paths, format"]),
        ("input:\n  paths: [x.warc.gz]\noutput: o\npipeline:\n  - extract: {}\n  - gopher_qualty: {}\n",
         ["bad.yaml:6", "gopher_qualty", "built-in blocks:"]),
        ("input:\n  paths: [x.warc.gz]\noutput: o\npipeline:\n  - extract:\n      engin: resiliparse\n",
         ["bad.yaml:6", "unknown setting 'engin'", "allowed: engine, timeout"]),
        ("input:\n  paths: [x.warc.gz]\noutput: o\npipeline:\n  - extract:\n      engine: lxml\n",
         ["bad.yaml:6", "engine", "trafilatura"]),
    ]
    for text, expected in cases:
        bad.write_text(text)
        proc = run_cli("run", str(bad))
        assert proc.returncode == 2, proc.stderr
        for part in expected:
            assert part in proc.stderr, (part, proc.stderr)
        assert not (tmp_path / "o").exists()


def test_plan_shows_stages_and_remote_shards_without_work(tmp_path: Path) -> None:
    cfg = write_pipeline(tmp_path / "p.yaml",
                         ["s3://commoncrawl/crawl-data/CC-MAIN-2024-22/segments/1715971057216.39/warc/"
                          "CC-MAIN-20240517233122-20240518023122-00000.warc.gz"],
                         tmp_path / "out", STEPS)
    proc = run_cli("plan", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "s3://commoncrawl/crawl-data/CC-MAIN-2024-22" in proc.stdout
    assert "stage 0" in proc.stdout and "extract" in proc.stdout and "engine='resiliparse'" in proc.stdout
    assert not (tmp_path / "out").exists()


def test_output_of_another_config_is_not_mixed(small_run, tmp_path: Path) -> None:
    tmp, _ = small_run
    other = (tmp / "p.yaml").read_text().replace("minimum: 40", "minimum: 41")
    (tmp_path / "other.yaml").write_text(other)
    proc = run_cli("run", str(tmp_path / "other.yaml"))
    assert proc.returncode == 1
    assert "different pipeline configuration" in proc.stderr and "--overwrite" in proc.stderr
