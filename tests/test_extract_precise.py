"""The ``precise`` extraction engine on real pages: trafilatura's precision on the gold sets, usable from YAML."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from gold_text import html_to_text

from curate.extract.edge_trim import EdgeTrim
from curate.extract.engines import ENGINES, precise_text, resiliparse_text, trafilatura_text
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader

REPO = Path(__file__).resolve().parent.parent


def _gold_pages(shared: Path) -> list[tuple[str, str]]:
    pairs = []
    for warc, gold_file, gold_of in [
        ("scrapinghub_aeb_pages.warc.gz", "scrapinghub_aeb_gold.jsonl", lambda g: g["articleBody"]),
        ("mozilla_readability_testpages.warc.gz", "mozilla_readability_gold.jsonl",
         lambda g: html_to_text(g["expected_html"])),
    ]:
        golds = [json.loads(line) for line in (shared / "extraction" / gold_file).read_text().splitlines()]
        by_id = {g["record_id"]: gold_of(g) for g in golds}
        for table in WarcReader().read(str(shared / "extraction" / warc), ReadCounts()):
            for rid, page in zip(table.column("id").to_pylist(), table.column("html").to_pylist(), strict=True):
                if rid in by_id and page:
                    pairs.append((page, by_id[rid]))
    return pairs


def _precision_recall(preds: list[str], golds: list[str]) -> tuple[float, float]:
    """Mean over pages of the token-bag precision and recall (benchmarks/extraction_quality.py's metric)."""
    ps, rs = [], []
    for pred, gold in zip(preds, golds, strict=True):
        tp, tg = Counter(pred.lower().split()), Counter(gold.lower().split())
        common = sum((tp & tg).values())
        ps.append(common / sum(tp.values()) if tp else 0.0)
        rs.append(common / sum(tg.values()) if tg else 0.0)
    return sum(ps) / len(ps), sum(rs) / len(rs)


@pytest.mark.slow  # trafilatura on 311 pages: ~6 s on an idle core
def test_precise_has_trafilaturas_precision_on_the_gold_pages(shared_data: Path) -> None:
    pairs = _gold_pages(shared_data)
    assert len(pairs) > 300
    golds = [g for _, g in pairs]
    p_ref, r_ref = _precision_recall([trafilatura_text(h) for h, _ in pairs], golds)
    p, r = _precision_recall([precise_text(h) for h, _ in pairs], golds)
    p_fast, _ = _precision_recall([resiliparse_text(h) for h, _ in pairs], golds)
    assert p >= p_ref - 0.01, (p, p_ref)  # issue 16: precision within 1 point of trafilatura's
    assert r >= r_ref - 0.02, (r, r_ref)  # recall within 2
    assert p > p_fast + 0.02  # and the trimming is what buys it over plain resiliparse


def test_edge_trim_only_drops_lines_and_keeps_the_long_ones(shared_data: Path) -> None:
    table = next(iter(WarcReader(batch_size=40).read(
        str(shared_data / "extraction" / "scrapinghub_aeb_pages.warc.gz"), ReadCounts())))
    trim = EdgeTrim()
    for page in table.column("html").to_pylist():
        full = [s.strip() for s in resiliparse_text(page).splitlines() if s.strip()]
        kept = precise_text(page).splitlines()
        it = iter(full)
        assert all(line in it for line in kept)  # an ordered subsequence of resiliparse's lines
        assert [s for s in full if trim.weight(s) >= trim.long_line] == [
            s for s in kept if trim.weight(s) >= trim.long_line]


def test_edge_trim_rules() -> None:
    long = "x" * 140
    text = "\n".join(["Menu", "Home", long, "a", "b", "c", long, "short one", long, "Share", "Comments"])
    assert EdgeTrim()(text).splitlines() == [long, long, "short one", long]  # edges and a run of 3 go
    assert EdgeTrim()("only short\nlines here") == "only short\nlines here"  # no long line: kept as is
    assert EdgeTrim.weight("中文") == 6  # a CJK character weighs 3


def test_precise_engine_from_yaml_writes_parquet(shared_data: Path, tmp_path: Path) -> None:
    assert "precise" in ENGINES
    config = tmp_path / "p.yaml"
    out = tmp_path / "out"
    config.write_text(f"""
input: {{paths: ["{shared_data / 'warc' / 'cc-main-2020-34-multilingual.warc.gz'}"]}}
output: {out}
pipeline:
  - extract: {{engine: precise}}
  - langid: {{}}
""")
    proc = subprocess.run([sys.executable, "-m", "curate.cli", "run", str(config), "--workers", "1"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = [p for p in out.glob("*/*.parquet") if not p.parent.name.startswith("_")]  # not _removed/
    texts = [t for p in files for t in pq.read_table(p).column("text").to_pylist()]
    assert len(texts) >= 10 and all(texts)
    langs = {p.parent.name for p in files}
    assert {"deu_Latn", "rus_Cyrl"} <= langs  # the multilingual CC pages keep their languages
