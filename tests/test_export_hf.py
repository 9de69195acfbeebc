"""``curate export hf`` (issue 25): the quickstart output as a Hugging Face dataset folder, loaded back offline
with ``datasets.load_dataset`` one configuration per language."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from pipeline_helpers import REPO, run_cli

from curate.config.pipeline_config import parse_pipeline
from curate.training.block_citations import BLOCK_CITATIONS
from curate.training.corpus_files import CorpusFile
from curate.training.hf_export import _chunks

LOAD = """
import json, sys
from datasets import get_dataset_config_names, load_dataset
folder = sys.argv[1]
out = {}
for name in get_dataset_config_names(folder):
    ds = load_dataset(folder, name, split="train")
    out[name] = {"rows": ds.num_rows, "texts": sorted(ds["text"]), "weights": sum(ds["weight"])}
print(json.dumps(out))
"""


def _corpus(out: Path) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for part in sorted(out.glob("[a-z]*/*.parquet")):
        table = pq.read_table(part, columns=["text", "weight"])
        entry = found.setdefault(part.parent.name, {"rows": 0, "texts": [], "weights": 0})
        entry["rows"] += table.num_rows
        entry["texts"] += table.column("text").to_pylist()
        entry["weights"] += sum(table.column("weight").to_pylist())
    return {lang: {**e, "texts": sorted(e["texts"])} for lang, e in found.items()}


def test_export_loads_with_datasets_offline_one_config_per_language(quickstart_output: Path, tmp_path: Path) -> None:
    pytest.importorskip("datasets", reason="datasets is in the dev extra")
    dest = tmp_path / "dataset"
    res = run_cli("export", "hf", str(quickstart_output), str(dest), "--workers", "1", "--name", "curate-quickstart")
    assert res.returncode == 0, res.stderr
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-c", LOAD, str(dest)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    corpus = _corpus(quickstart_output)
    assert loaded == corpus and len(loaded) == 14
    assert any(e["weights"] > e["rows"] for e in loaded.values())  # the weight column travels with the rows
    # FineWeb2's layout: data/<lang>/train-*.parquet, one config per language in the card
    assert sorted(p.relative_to(dest).as_posix() for p in dest.glob("data/*/*.parquet")) == \
        [f"data/{lang}/train-00000-of-00001.parquet" for lang in sorted(corpus)]
    card = (dest / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["license"] == "odc-by" and "swh" in front["language"] and front["pretty_name"] == "curate-quickstart"
    assert {c["config_name"]: c["data_files"] for c in front["configs"]}["swh_Latn"] == \
        [{"split": "train", "path": "data/swh_Latn/train-*"}]
    assert "| swh_Latn | 3 | 3 |" in card  # per-language statistics
    assert "Common Crawl Terms of Use" in card and "huggingface-cli upload" in card
    for step in ("minhash", "gopher_quality", "rehydrate"):  # each step with its citation
        assert f"**{step}**" in card and BLOCK_CITATIONS[step] in card
    # the pipeline file is the run's, and it is a valid pipeline again once given an output
    text = (dest / "pipeline.yaml").read_text(encoding="utf-8")
    assert text == (quickstart_output / "_stats" / "pipeline.yaml").read_text(encoding="utf-8")
    config = parse_pipeline(text + f"output: {tmp_path / 'again'}\n")
    assert [s.name for s in config.steps] == [s["name"] for s in json.loads(
        (quickstart_output / "_stats" / "stats.json").read_text())["steps"]]
    assert config.name == "quickstart" and "extract" in text and str(REPO) not in text


def test_export_rerun_keeps_finished_files_and_files_split_by_size(quickstart_output: Path,
                                                                    tmp_path: Path) -> None:
    files = [CorpusFile(i, "swh_Latn", f"p{i}", size) for i, size in enumerate((40, 70, 10, 200, 5))]
    assert [[f.index for f in c] for c in _chunks(files, 100)] == [[0], [1, 2], [3], [4]]
    dest = tmp_path / "dataset"
    first = run_cli("export", "hf", str(quickstart_output), str(dest), "-w", "1", "--max-file-bytes", "1")
    assert first.returncode == 0, first.stderr
    eng = sorted(p.name for p in (dest / "data" / "eng_Latn").glob("*.parquet"))
    n = len(list(quickstart_output.glob("eng_Latn/*.parquet")))
    assert eng == [f"train-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    stamp = {p: p.stat().st_mtime_ns for p in dest.glob("data/*/*.parquet")}
    again = run_cli("export", "hf", str(quickstart_output), str(dest), "-w", "1", "--max-file-bytes", "1")
    assert again.returncode == 0 and {p: p.stat().st_mtime_ns for p in dest.glob("data/*/*.parquet")} == stamp


def test_the_pipeline_record_round_trips_yaml_numbers() -> None:
    from curate.config.pipeline_record import pipeline_yaml

    config = parse_pipeline("name: p\ninput: {paths: [a.warc.gz]}\noutput: o\npipeline:\n"
                            "  - rehydrate: {tail_fraction: 0.002, max_reps: 5}\n")
    again = parse_pipeline(pipeline_yaml(config) + "output: o\n")
    assert again.identity() == config.identity() and again.name == "p"
