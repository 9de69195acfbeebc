"""``_stats/stats.json`` is the same bytes however the run got there (issue 23).

The input makes MinHash clusters of 2 and of 12 copies (a cluster size of two digits: read back from
JSON with string keys, "12" sorts before "2"). The same pipeline, two global steps with a block that
kills its process (``os._exit``) right after each, is run straight through, rerun once finished, and
killed past the first and past the second barrier then rerun: stats.json, stats.parquet, report.html
and every Parquet output are the same bytes in all four.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_helpers import REPO, parquet_digests, write_pipeline

from curate.stats.report_table import format_report

# whitespace shingles: the clusters are of exact copies, and loading spaCy would be most of each of the six runs
STEPS = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"minhash": {"tokenizer": "whitespace"}},
         {"failing_blocks:DiesOnce": {"mark": "a"}}, {"exact_dedup": {}}, {"failing_blocks:DiesOnce": {"mark": "b"}}]


def _curate_run(cfg: Path, out: Path, die: str = "", flag: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests"), "CURATE_TEST_DIE": die,
           "CURATE_TEST_DIE_FLAG": str(flag or "")}
    return subprocess.run([sys.executable, "-m", "curate.cli", "run", str(cfg), "--output", str(out)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


def _stats(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
            for name in ("_stats/stats.json", "_stats/stats.parquet", "report.html")}


@pytest.mark.slow
def test_stats_bytes_equal_straight_rerun_and_resumed_past_each_barrier(tmp_path: Path, shared_data: Path) -> None:
    warc = shared_data / "warc"
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for i in range(12):  # one page in 12 files: a MinHash cluster of 12
        (inputs / f"single-{i:02d}.warc.gz").symlink_to(warc / "cc-single-response.warc.gz")
    for i in range(2):  # 22 pages twice: clusters of 2
        (inputs / f"wget-{i}.warc.gz").symlink_to(warc / "wget-crawl-sample-0000.warc.gz")
    cfg = write_pipeline(tmp_path / "p.yaml", [str(inputs)], tmp_path / "unused", STEPS,
                         executor={"type": "local", "workers": 1})
    straight = tmp_path / "straight"
    first = _curate_run(cfg, straight)
    assert first.returncode == 0, first.stderr
    sizes = (straight / "_stats" / "stats.json").read_text()
    assert '"12": 1' in sizes and '"2": ' in sizes  # clusters of 12 and of 2 in the global step's stats
    expected, outputs = _stats(straight), parquet_digests(straight)
    assert _curate_run(cfg, straight).returncode == 0  # a rerun of the finished output
    assert _stats(straight) == expected
    for mark in ("a", "b"):
        out, flag = tmp_path / f"killed-{mark}", tmp_path / f"died-{mark}"
        killed = _curate_run(cfg, out, die=mark, flag=flag)
        assert killed.returncode != 0 and flag.exists(), killed.stderr
        assert not (out / "_stats" / "stats.json").exists()
        assert sorted(p.name for p in (out / "_markers").rglob("global-*.json"))[-1] == (
            "global-2.json" if mark == "a" else "global-4.json")  # killed past this barrier
        resumed = _curate_run(cfg, out)
        assert resumed.returncode == 0, resumed.stderr
        assert _stats(out) == expected, mark
        assert parquet_digests(out) == outputs, mark


def test_the_report_ranks_removal_reasons_by_count_also_read_back_from_stats_json() -> None:
    entry = {"in": 20, "kept": 9, "removed": 11, "errored": 0, "bytes": 10, "words": 2,
             "removed_by": {"gopher_quality:min_words": 7, "url_filter:blocked": 3, "c4:javascript": 1},
             "errored_by": {}}
    stats = {"pipeline": "p", "config_hash": "h", "shards": [], "steps": [], "languages": {"eng_Latn": entry},
             "read": {"records": 20, "emitted": 20, "skipped": {}, "errored": {}}}
    from_file = json.loads(json.dumps(stats, sort_keys=True))  # as `curate report` reads it: by name
    assert list(from_file["languages"]["eng_Latn"]["removed_by"])[0] == "c4:javascript"
    for s in (stats, from_file):
        assert "gopher_quality:min_words 7, url_filter:blocked 3, c4:javascript 1" in format_report(s)
