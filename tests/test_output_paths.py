"""Nothing is written outside OUT, whatever the data says, and no run writes into a user's folder (issue 23).

A block may set ``lang`` to anything (``../../escape_kept``, ``/../../x``, ``..``, ``_stats``) and
give drop reasons with slashes: every row is still written, under OUT, in a folder of its own,
counted under its key, and survives a rerun's stale-output sweep. A plain ``curate run`` into a
non-empty folder curate did not write refuses with one line and leaves every byte of it alone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pipeline_helpers import parquet_digests, run_cli, write_pipeline

from curate import run
from curate.config.pipeline_config import load_pipeline
from curate.io.partition_dir import partition_dir

HOSTILE = ["../../escape_kept", "/../../x", "..", ".", "_stats", "_work", "a/b", "", "en-US", "eng_Latn",
           "x" * 100, "ü", "@x", "C:\\temp"]


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_partition_dir_keeps_plain_keys_and_makes_every_other_key_one_safe_name() -> None:
    for plain in ("eng_Latn", "und", "en-US", "zxx_Zyyy", "x" * 64):
        assert partition_dir(plain) == plain
    names = [partition_dir(v) for v in [*HOSTILE, "../../escape_kept2", "x" * 65]]
    assert len(set(names)) == len(names)
    for name in names:
        assert "/" not in name and "\\" not in name and name not in ("", ".", "..")
        assert not name.startswith(("_", ".")), name  # never curate's folders, never hidden from datasets
    assert partition_dir("../../escape_kept").startswith("@")


def test_hostile_lang_values_stay_inside_out_and_every_row_is_written(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "a" / "b" / "c" / "out"
    warc = shared_data / "warc"
    cfg = write_pipeline(tmp_path / "p.yaml", [str(warc / "cc-main-2020-34-multilingual.warc.gz"),
                                               str(warc / "wget-crawl-sample-0000.warc.gz")], out,
                         [{"extract": {"engine": "resiliparse"}}, {"custom_blocks:HostileLang": {"values": HOSTILE}}],
                         executor={"type": "local", "workers": 1})
    result = run(load_pipeline(str(cfg)))
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and out not in p.parents and p != cfg]
    assert outside == []
    assert not list(out.glob("*.parquet")), "rows at OUT's root: the stale sweep deletes them"
    assert not [p for p in out.rglob("part-*") if p.parts[len(out.parts)] in ("_stats", "_work", "_markers")]
    rows, removed, reasons = 0, 0, set()
    for path in [p for p in out.rglob("*.parquet") if p.parts[len(out.parts)] != "_stats"]:
        table = pq.read_table(path)
        langs = {v or "und" for v in table.column("lang").to_pylist()}
        assert len(langs) == 1 and partition_dir(langs.pop()) == path.parent.name, path
        if "_removed" in path.parts:
            removed += table.num_rows
            reasons.update(table.column("drop_reason").to_pylist())
        rows += table.num_rows
    assert "custom_blocks:HostileLang:../../reason/with/slashes" in reasons
    stats = result.stats
    assert rows == stats["read"]["emitted"] >= 2 * len(HOSTILE) and removed == sum(stats["removed_rows"].values())
    assert {k for k in stats["output"]} <= {v or "und" for v in HOSTILE}
    assert stats["output"]["../../escape_kept"]["documents"] == pq.read_table(
        out / partition_dir("../../escape_kept")).num_rows
    before = parquet_digests(out)
    again = run(load_pipeline(str(cfg)))  # a rerun's stale-output sweep keeps every row
    assert again.ran_tasks == 0 and parquet_digests(out) == before


def test_a_plain_run_into_a_folder_curate_did_not_write_refuses_and_deletes_nothing(tmp_path: Path,
                                                                                     shared_data: Path) -> None:
    folder = tmp_path / "mine"
    (folder / "eng_Latn").mkdir(parents=True)
    pq.write_table(pa.table({"text": ["years of work"], "lang": ["eng_Latn"]}), folder / "eng_Latn" / "part-mine.parquet")
    (folder / "notes.txt").write_text("mine")
    before = _tree(folder)
    inputs = [str(shared_data / "warc" / "cc-single-response.warc.gz")]
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, folder, [{"extract": {"engine": "resiliparse"}}])
    for extra in ((), ("--overwrite",)):
        proc = run_cli("run", str(cfg), *extra)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.count("\n") == 1 and "not a curate output" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert _tree(folder) == before and sorted(p.name for p in folder.iterdir()) == ["eng_Latn", "notes.txt"]
    file_out = tmp_path / "a-file"
    file_out.write_text("x")
    proc = run_cli("run", str(cfg), "--output", str(file_out))
    assert proc.returncode == 1 and "is a file, not a folder" in proc.stderr and file_out.read_text() == "x"


def test_empty_folders_and_curate_outputs_are_written_as_before(tmp_path: Path, shared_data: Path) -> None:
    inputs = [str(shared_data / "warc" / "cc-single-response.warc.gz")]
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, empty, [{"extract": {"engine": "resiliparse"}}])
    assert run_cli("run", str(cfg)).returncode == 0
    assert run_cli("run", str(cfg)).returncode == 0  # its own output: resumes
    stopped = tmp_path / "stopped"  # a run stopped after taking its lock, before its run record
    stopped.mkdir()
    (stopped / "_lock.json").write_text(json.dumps({"host": "elsewhere", "pid": 1, "token": "t",
                                                    "heartbeat": "2020-01-01T00:00:00+00:00"}))
    proc = run_cli("run", str(cfg), "--output", str(stopped))
    assert proc.returncode == 0, proc.stderr
    assert (stopped / "_run.json").exists()
