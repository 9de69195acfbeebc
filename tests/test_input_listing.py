"""What input folders and globs hold but curate does not read is said, never dropped silently (issue 23).

A 0-byte input is one counted error naming it; a folder named like a WARC, Common Crawl's WAT
metadata files and files of no known format are listed in ``stats.json`` and the run's report,
each with the reason; a glob matching a folder does not take it for a file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pipeline_helpers import write_pipeline

from curate import run
from curate.config.pipeline_config import load_pipeline
from curate.io.input_files import InputError, SkippedInput, expand_paths
from curate.stats.report_table import format_report


@pytest.fixture
def crawl_folder(tmp_path: Path, shared_data: Path) -> Path:
    warc = shared_data / "warc"
    folder = tmp_path / "crawl"
    (folder / "x.warc.gz").mkdir(parents=True)  # an empty folder named like a WARC
    (folder / "y.warc.gz").mkdir()
    shutil.copy(warc / "cc-single-response.warc.gz", folder / "y.warc.gz" / "inner.warc.gz")
    shutil.copy(warc / "cc-main-2020-34-multilingual.warc.gz", folder)
    shutil.copy(warc / "cc-main-2024-22-whirlwind.warc.wat.gz", folder)
    (folder / "empty.warc.gz").write_bytes(b"")
    (folder / "MD5SUMS").write_text("0 cc-main-2020-34-multilingual.warc.gz\n")
    return folder


def test_a_folder_listing_names_what_it_does_not_read(crawl_folder: Path) -> None:
    skipped: list[SkippedInput] = []
    shards = expand_paths([str(crawl_folder)], skipped=skipped)
    assert [Path(s.path).relative_to(crawl_folder).as_posix() for s in shards] == [
        "cc-main-2020-34-multilingual.warc.gz", "empty.warc.gz", "y.warc.gz/inner.warc.gz"]
    assert sorted((Path(s.path).name, s.reason) for s in skipped) == [
        ("MD5SUMS", "unknown_format"), ("cc-main-2024-22-whirlwind.warc.wat.gz", "wat_metadata"),
        ("x.warc.gz", "folder"), ("y.warc.gz", "folder")]
    globbed: list[SkippedInput] = []
    shards = expand_paths([f"{crawl_folder}/*.warc.gz", str(crawl_folder / "empty.warc.gz")], skipped=globbed)
    assert sorted(Path(s.path).name for s in shards) == ["cc-main-2020-34-multilingual.warc.gz", "empty.warc.gz"]
    assert sorted((Path(s.path).name, s.reason) for s in globbed) == [
        ("empty.warc.gz", "listed_twice"), ("x.warc.gz", "folder"), ("y.warc.gz", "folder")]


def test_a_folder_of_wat_files_only_says_why_nothing_is_read(tmp_path: Path, shared_data: Path) -> None:
    (tmp_path / "wat").mkdir()
    shutil.copy(shared_data / "warc" / "cc-main-2024-22-whirlwind.warc.wat.gz", tmp_path / "wat")
    with pytest.raises(InputError, match="1 wat_metadata .*whirlwind.warc.wat.gz: WAT metadata"):
        expand_paths([str(tmp_path / "wat")])


def test_a_run_counts_the_empty_file_and_reports_what_was_not_read(crawl_folder: Path, tmp_path: Path) -> None:
    cfg = write_pipeline(tmp_path / "p.yaml", [str(crawl_folder)], tmp_path / "out",
                         [{"extract": {"engine": "resiliparse"}}], executor={"type": "local", "workers": 1})
    result = run(load_pipeline(str(cfg)))
    stats = json.loads((tmp_path / "out" / "_stats" / "stats.json").read_text())
    read = stats["read"]
    assert read["errored"] == {"empty_file": 1}
    assert any(str(crawl_folder / "empty.warc.gz") in m and "0 bytes" in m for m in read["messages"])
    assert read["records"] == read["emitted"] + sum(read["skipped"].values()) + 1
    assert {k: v["count"] for k, v in stats["inputs_skipped"].items()} == {
        "folder": 2, "unknown_format": 1, "wat_metadata": 1}
    assert stats["inputs_skipped"]["wat_metadata"]["paths"] == [
        str(crawl_folder / "cc-main-2024-22-whirlwind.warc.wat.gz")]
    report = format_report(result.stats)
    assert "errored: empty_file 1" in report
    assert f"input not read (wat_metadata): 1: {crawl_folder}/cc-main-2024-22-whirlwind.warc.wat.gz" in report
