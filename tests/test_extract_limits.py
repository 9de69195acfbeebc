"""Extraction limits that hold for C code and on a loaded machine (issue 13)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from pipeline_helpers import parquet_digests, write_pipeline

from curate import run
from curate.blocks.base import BlockContext
from curate.blocks.columns import READER_SCHEMA
from curate.config.pipeline_config import load_pipeline
from curate.extract.extract_block import Extract
from curate.extract.extraction_process import ExtractionProcess, extraction_process
from curate.extract.html_limits import (
    limit_reason,
    nesting_depth,
    opening_tags_bound,
    running_bound,
    tag_starts_bound,
)
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader

NESTED = ("<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>").encode()


def _real_pages(shared: Path, n: int) -> list[bytes]:
    table = next(iter(WarcReader(batch_size=n).read(str(shared / "extraction" / "scrapinghub_aeb_pages.warc.gz"),
                                                    ReadCounts())))
    return table.column("html").cast(pa.binary()).to_pylist()


def _table(htmls: list[bytes]) -> pa.Table:
    rows = {name: [None] * len(htmls) for name in READER_SCHEMA.names}
    rows["id"] = [f"doc{i}" for i in range(len(htmls))]
    rows["html"] = [h.decode() for h in htmls]
    return pa.table(rows, schema=READER_SCHEMA)


def test_nested_divs_page_is_removed_before_parsing(shared_data: Path) -> None:
    real = _real_pages(shared_data, 3)
    assert max(nesting_depth(h) for h in real) < 300
    out = Extract(engine="resiliparse").process(_table([real[0], NESTED, real[1]]), BlockContext())
    assert list(out.keep) == [True, False, True]
    assert out.reasons[1] == "html_too_deep:100000_levels"
    assert out.errors == [None, None, None]
    assert all(out.table.column("text")[i].as_py() for i in (0, 2))


def test_the_cheap_bound_never_hides_a_deep_page(shared_data: Path) -> None:
    pages = _real_pages(shared_data, 181)
    assert all(opening_tags_bound(h) >= nesting_depth(h) for h in pages)  # a true upper bound on real pages
    assert all(tag_starts_bound(h) >= opening_tags_bound(h) for h in pages)  # the first, loosest bound
    assert sum(opening_tags_bound(h) <= 2000 for h in pages) > 0.9 * len(pages)  # and it spares most the scan
    for html in (NESTED, NESTED.upper(), b"<DiV class=x>" * 3000, b"<a>" * 2500 + b"</a>" * 2500):
        assert tag_starts_bound(html) >= opening_tags_bound(html) >= nesting_depth(html) > 2000
        assert limit_reason(html, None, 2000) == f"html_too_deep:{nesting_depth(html)}_levels"
    assert opening_tags_bound(b"<p><li><img><br></p>" * 5000) == 0  # tags that never nest do not count


def test_the_running_bound_clears_long_pages_and_never_hides_a_deep_one(shared_data: Path) -> None:
    pages = _real_pages(shared_data, 181)
    long_page = b"".join(pages[:40])  # real markup, too many opening tags for the first bound, not deep
    assert opening_tags_bound(long_page) > 2000 >= running_bound(long_page) >= nesting_depth(long_page)
    assert limit_reason(long_page, None, 2000) is None
    assert all(running_bound(h) >= nesting_depth(h) for h in pages)
    flat = b"<div><span>x</span><a href=y>z</a></div>" * 5000  # 15,000 opening tags, depth 2
    assert opening_tags_bound(flat) > 2000 and running_bound(flat) == nesting_depth(flat) == 2
    assert limit_reason(flat, None, 2000) is None
    for html in (NESTED, NESTED.upper(), b"<DiV class=x>" * 3000, b"<div></dialog>" * 3000,  # not an end of a div
                 b"<div>" * 3000 + b"</div >" * 3000,  # ends the bound does not know: it stays an upper bound
                 b"<span>" * 2001 + b"</span"):  # an end tag cut off by the end of the page
        assert running_bound(html) >= nesting_depth(html) > 2000
        assert limit_reason(html, None, 2000) == f"html_too_deep:{nesting_depth(html)}_levels"


def test_runaway_c_parser_is_stopped_by_its_cpu_budget_and_the_batch_goes_on(shared_data: Path) -> None:
    real = _real_pages(shared_data, 2)
    block = Extract(engine="resiliparse", timeout=1.0, max_depth=0)  # no up-front check: the parser runs
    process = extraction_process("resiliparse", 1.0)
    restarts = process.restarts
    out = block.process(_table([real[0], NESTED, real[1]]), BlockContext())
    assert out.errors[0] is None and out.errors[2] is None
    assert out.errors[1] is not None and out.errors[1].startswith("timeout: extraction used over 1s of CPU time")
    assert process.restarts == restarts + 1
    assert out.table.column("text")[2].as_py()  # the page after the runaway one, in a fresh process
    expected = Extract(engine="resiliparse", timeout=0).process(_table([real[0], real[1]]), BlockContext())
    assert [out.table.column("text")[i].as_py() for i in (0, 2)] == expected.table.column("text").to_pylist()


def test_oversize_html_is_a_counted_removal() -> None:
    page = b"<html><body><p>" + b"word " * 1000 + b"</p></body></html>"
    out = Extract(engine="resiliparse", max_html_bytes=1000).process(_table([page]), BlockContext())
    assert list(out.keep) == [False] and out.reasons[0].startswith("html_too_large:")


def _burners(n: int) -> list[subprocess.Popen]:
    # CPU-bound processes, each ending by itself after 180 s at the latest
    code = "import time\nend = time.time() + 180\nwhile time.time() < end:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


@pytest.mark.slow
def test_run_beside_cpu_bound_processes_equals_a_quiet_run(tmp_path: Path, shared_data: Path) -> None:
    # the slowest of these pages takes ~0.3 s of CPU on a quiet machine (CPU time itself grows a little
    # under contention, so the limit leaves 5x): beside 6 CPU-bound processes on 2 cores a 1.5 s wall-clock
    # limit times it out, a 1.5 s CPU limit does not
    steps = [{"extract": {"engine": "trafilatura", "timeout": 1.5}}, {"langid": {}}]
    inputs = [str(shared_data / "extraction" / "mozilla_readability_testpages.warc.gz")]
    quiet = write_pipeline(tmp_path / "quiet.yaml", inputs, tmp_path / "quiet", steps,
                           executor={"type": "local", "workers": 1})
    run(load_pipeline(str(quiet)))
    burners = _burners(6)
    try:
        run(load_pipeline(str(quiet)), output=str(tmp_path / "loaded"))
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()
    assert parquet_digests(tmp_path / "quiet") == parquet_digests(tmp_path / "loaded")
    quiet_stats = (tmp_path / "quiet" / "_stats" / "stats.json").read_bytes()
    assert quiet_stats == (tmp_path / "loaded" / "_stats" / "stats.json").read_bytes()
    assert json.loads(quiet_stats)["languages"]["eng_Latn"]["errored"] == 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="watches the extraction process through /proc")
def test_a_parser_crash_costs_only_its_page(shared_data: Path) -> None:
    real = _real_pages(shared_data, 2)
    process = ExtractionProcess("resiliparse", 60.0)
    process.start()
    pid = process.pid
    assert pid is not None

    def cpu_ticks() -> int:  # utime + stime of the extraction process
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    started = cpu_ticks()  # start-up and warm-up done

    def crash_when_busy() -> None:  # a segfault in the parser, mid-page: the runaway nested page
        while cpu_ticks() < started + 30:  # real pages take milliseconds; the nested one minutes
            time.sleep(0.01)
        os.kill(pid, signal.SIGSEGV)

    watcher = threading.Thread(target=crash_when_busy)
    watcher.start()
    try:
        results = process.run([(0, real[0]), (1, NESTED), (2, real[1])], scope="crash-test")
    finally:
        watcher.join()
        process.close()
    assert results[0][0] == results[2][0] == "text" and results[0][1] and results[2][1]
    assert results[1] == ("error", "crash: the resiliparse extraction process died (signal SIGSEGV) on this page")
    assert process.restarts == 1


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts the extraction process's threads in /proc")
def test_the_extraction_process_runs_on_one_thread(shared_data: Path) -> None:
    # one extraction process per worker: BLAS threads per core in each would put workers x cores threads on the
    # machine (numpy's OpenBLAS starts one per core at import unless told otherwise)
    real = _real_pages(shared_data, 1)
    process = ExtractionProcess("balanced", 60.0)
    try:
        results = process.run([(0, real[0])], scope="threads")  # the block model's numpy has run
        assert results[0][0] == "text" and results[0][1]
        assert sorted(os.listdir(f"/proc/{process.pid}/task")) == [str(process.pid)]
    finally:
        process.close()
