"""Completion markers keyed by input file identity: adding, changing or removing input files
between runs processes exactly what changed, and the result equals a fresh run (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline_helpers import parquet_digests, write_pipeline

from curate import run
from curate.config.pipeline_config import load_pipeline

STEPS = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"custom_blocks:min_words": {"minimum": 20}}]
DEDUP_STEPS = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"exact_dedup": {}}]


def _link(folder: Path, name: str, target: Path) -> None:
    # an input folder of links to the shared files: "changing" a file is pointing its name elsewhere
    path = folder / name
    if path.is_symlink():
        path.unlink()
    path.symlink_to(target)


def _stats_bytes(out: Path) -> bytes:
    return (out / "_stats" / "stats.json").read_bytes()


def _fresh(tmp: Path, folder: Path, steps: list, name: str) -> Path:
    cfg = write_pipeline(tmp / f"{name}.yaml", [str(folder)], tmp / name, steps,
                         executor={"type": "local", "workers": 1})
    run(load_pipeline(str(cfg)))
    return tmp / name


def _same_as_fresh(tmp: Path, folder: Path, out: Path, steps: list, name: str) -> None:
    fresh = _fresh(tmp, folder, steps, name)
    assert parquet_digests(out) == parquet_digests(fresh)
    assert _stats_bytes(out) == _stats_bytes(fresh)


def test_added_changed_and_removed_files_process_exactly_what_changed(tmp_path: Path, shared_data: Path) -> None:
    warc = shared_data / "warc"
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _link(inputs, "b.warc.gz", warc / "cc-main-2020-34-multilingual.warc.gz")
    _link(inputs, "d.warc.gz", warc / "wget-crawl-sample-0000.warc.gz")
    cfg = load_pipeline(str(write_pipeline(tmp_path / "p.yaml", [str(inputs)], tmp_path / "out", STEPS,
                                           executor={"type": "local", "workers": 1})))
    first = run(cfg)
    assert first.ran_tasks == 2

    # a file that sorts first: by position, every old marker would now name another file
    _link(inputs, "a.warc.gz", warc / "wget-crawl-sample-0001.warc.gz")
    added = run(cfg)
    assert (added.ran_tasks, added.skipped_tasks) == (1, 2)
    assert added.input_changes["added"] == 1 and added.input_changes["added_paths"] == [str(inputs / "a.warc.gz")]
    _same_as_fresh(tmp_path, inputs, tmp_path / "out", STEPS, "fresh-added")

    _link(inputs, "d.warc.gz", warc / "cc-single-response.warc.gz")  # same name, other content
    changed = run(cfg)
    assert (changed.ran_tasks, changed.skipped_tasks) == (1, 2)
    assert changed.input_changes["changed"] == 1
    _same_as_fresh(tmp_path, inputs, tmp_path / "out", STEPS, "fresh-changed")

    (inputs / "b.warc.gz").unlink()
    removed = run(cfg)
    assert (removed.ran_tasks, removed.skipped_tasks) == (0, 2)
    assert removed.input_changes["removed"] == 1
    timing = json.loads((tmp_path / "out" / "_stats" / "timing.json").read_text())
    assert timing["inputs"]["removed"] == 1 and timing["inputs"]["stale_files_removed"] > 0
    _same_as_fresh(tmp_path, inputs, tmp_path / "out", STEPS, "fresh-removed")
    # the removed file's Chinese/Russian/... rows are gone from the output, not left behind
    assert not (tmp_path / "out" / "rus_Cyrl").exists() or not list((tmp_path / "out" / "rus_Cyrl").iterdir())


def test_a_changed_input_set_recomputes_dedup(tmp_path: Path, shared_data: Path) -> None:
    warc = shared_data / "warc"
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _link(inputs, "a.warc.gz", warc / "wget-crawl-sample-0000.warc.gz")
    cfg = load_pipeline(str(write_pipeline(tmp_path / "p.yaml", [str(inputs)], tmp_path / "out", DEDUP_STEPS,
                                           executor={"type": "local", "workers": 1})))
    first = run(cfg)
    dedup_removed = sum(e["removed_by"].get("exact_dedup:duplicate", 0) for e in first.stats["languages"].values())
    # the same content again under another name: every one of its documents is now a duplicate
    _link(inputs, "b.warc.gz", warc / "wget-crawl-sample-0000.warc.gz")
    second = run(cfg)
    removed_by = {k: v for e in second.stats["languages"].values() for k, v in e["removed_by"].items()}
    assert sum(v for k, v in removed_by.items() if k.startswith("exact_dedup")) > dedup_removed
    _same_as_fresh(tmp_path, inputs, tmp_path / "out", DEDUP_STEPS, "fresh")
    # the dedup step's seconds went to timing.json, so that stats.json is the same bytes run after run
    timing = json.loads((tmp_path / "out" / "_stats" / "timing.json").read_text())
    assert any(k.startswith("global.2:exact_dedup") and k.endswith("seconds") for k in timing)
    assert "seconds" not in _stats_bytes(tmp_path / "out").decode()
