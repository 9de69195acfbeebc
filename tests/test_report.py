"""The statistics report: counts equal rows on disk; report.html renders in headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image
from pipeline_helpers import run_cli, write_pipeline

from curate import run
from curate.config.pipeline_config import load_pipeline
from curate.stats.run_record import SCHEMA_VERSION, read_run_stats

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report_run(tmp_path_factory, shared_data: Path):
    tmp = tmp_path_factory.mktemp("report")
    warc = shared_data / "warc"
    inputs = [str(warc / "cc-main-2020-34-multilingual.warc.gz"), str(warc / "wget-crawl-sample-0001.warc.gz"),
              str(shared_data / "extraction" / "mozilla_readability_testpages.warc.gz")]
    steps = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"custom_blocks:min_words": {"minimum": 80}}]
    cfg = write_pipeline(tmp / "p.yaml", inputs, tmp / "out", steps, executor={"type": "local", "workers": 2})
    run(load_pipeline(str(cfg)))
    return tmp


def test_report_counts_equal_rows_written_per_language(report_run: Path) -> None:
    out = report_run / "out"
    stats = json.loads((out / "_stats" / "stats.json").read_text())
    removed = pl.read_parquet(out / "_removed" / "**" / "*.parquet", hive_partitioning=False,
                              missing_columns="insert")
    removed_by_lang = dict(removed.group_by("lang").len().iter_rows())
    for lang, e in stats["languages"].items():
        kept_files = list((out / lang).glob("*.parquet")) if (out / lang).exists() else []
        kept = pl.read_parquet(kept_files).height if kept_files else 0
        assert e["kept"] == kept, lang
        assert e["removed"] + e["errored"] == removed_by_lang.get(lang, 0), lang
    tidy = pl.read_parquet(out / "_stats" / "stats.parquet")
    assert set(tidy.columns) == {"lang", "step", "metric", "value"}
    eng_out = tidy.filter((pl.col("lang") == "eng_Latn") & (pl.col("step") == "output") & (pl.col("metric") == "documents"))
    assert eng_out["value"][0] == stats["languages"]["eng_Latn"]["kept"]
    proc = run_cli("report", str(out), "--sort", "kept", "--lang", "eng_Latn")
    assert proc.returncode == 0 and "eng_Latn" in proc.stdout and "deu_Latn" not in proc.stdout.split("per step")[0]


def test_report_compares_two_runs(report_run: Path, tmp_path: Path) -> None:
    text = (report_run / "p.yaml").read_text().replace("minimum: 80", "minimum: 300")
    cfg = tmp_path / "q.yaml"
    cfg.write_text(text)
    run(load_pipeline(str(cfg)), output=str(tmp_path / "b"))
    proc = run_cli("report", str(report_run / "out"), str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("eng_Latn"))
    assert "custom_blocks:min_words:under_300_words +" in line


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make test installs it: apt-get install chromium)")
def test_report_html_renders_in_headless_chromium(report_run: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = report_run / "out" / "report.html"
    assert html.exists()
    messages: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
        page.goto(html.as_uri())
        charts = page.locator("svg")
        assert charts.count() >= 5
        box = charts.first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert messages == []
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.std() > 10 and (pixels < 200).mean() > 0.01  # not a blank page: bars and text drawn


def test_final_tokens_with_a_local_tokenizer_file(report_run: Path, tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    out = report_run / "out"
    texts = pl.read_parquet(out / "eng_Latn" / "*.parquet")["text"].to_list()
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"]))
    tok_path = tmp_path / "tokenizer.json"
    tok.save(str(tok_path))
    doc = (report_run / "p.yaml").read_text() + f"writer: {{tokenizer: {tok_path}}}\n"
    (tmp_path / "p.yaml").write_text(doc)
    result = run(load_pipeline(str(tmp_path / "p.yaml")), output=str(tmp_path / "out"))
    eng = result.stats["output"]["eng_Latn"]
    expected = sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False))
    assert eng["tokens"] == expected > eng["words"]  # a 400-piece vocabulary splits words
    assert result.stats["languages"]["eng_Latn"]["tokens"] == expected
    assert "tokens share" in (tmp_path / "out" / "report.html").read_text()


def test_stats_carry_a_schema_version_and_a_newer_one_is_refused(report_run: Path, tmp_path: Path) -> None:
    out = report_run / "out"
    stats = json.loads((out / "_stats" / "stats.json").read_text())
    assert stats["schema_version"] == SCHEMA_VERSION >= 1
    assert read_run_stats(str(out)) == stats
    newer = tmp_path / "newer"
    shutil.copytree(out / "_stats", newer / "_stats")
    (newer / "_stats" / "stats.json").write_text(json.dumps({**stats, "schema_version": SCHEMA_VERSION + 1}))
    proc = run_cli("report", str(newer))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"schema_version {SCHEMA_VERSION + 1}" in proc.stderr and "stats.json" in proc.stderr, proc.stderr
