"""Extraction engines and language ID on real pages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from curate.blocks.base import BlockContext
from curate.blocks.columns import READER_SCHEMA
from curate.extract.extract_block import Extract
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader
from curate.langid.fasttext_model import ModelNotFoundError, packaged_lid176_path
from curate.langid.langid_block import LanguageId
from curate.languages.labels import normalize_label


def _pages(shared: Path, n: int = 20) -> pa.Table:
    tables = list(WarcReader(batch_size=n).read(str(shared / "extraction" / "scrapinghub_aeb_pages.warc.gz"),
                                                ReadCounts()))
    return tables[0]


def _gold(shared: Path) -> dict[str, str]:
    gold = {}
    for line in (shared / "extraction" / "scrapinghub_aeb_gold.jsonl").read_text().splitlines():
        row = json.loads(line)
        gold[row["url"]] = row["articleBody"]
    return gold


@pytest.mark.parametrize("engine", ["trafilatura", "resiliparse"])
def test_engines_recover_the_article_body(shared_data: Path, engine: str) -> None:
    table = _pages(shared_data)
    out = Extract(engine=engine).process(table, BlockContext())
    gold = _gold(shared_data)
    recalls = []
    for url, text in zip(out.table.column("url").to_pylist(), out.table.column("text").to_pylist(), strict=True):
        gold_words = set(gold[url].lower().split())
        got = set((text or "").lower().split())
        recalls.append(len(gold_words & got) / max(1, len(gold_words)))
    assert out.table.column("html").null_count == table.num_rows  # HTML freed once text exists
    assert sum(recalls) / len(recalls) > 0.7


def test_empty_extraction_is_a_removal_and_timeout_an_error(shared_data: Path) -> None:
    rows = {name: [None, None] for name in READER_SCHEMA.names}
    rows["id"] = ["a", "b"]
    rows["html"] = ["<html><head><script>var x = 1;</script></head><body></body></html>", None]
    rows["text"] = [None, "already text from a WET record"]
    out = Extract(engine="trafilatura").process(pa.table(rows, schema=READER_SCHEMA), BlockContext())
    assert list(out.keep) == [False, True] and out.reasons[0] == "empty_extraction"
    assert out.table.column("text")[1].as_py() == "already text from a WET record"

    big = _pages(shared_data, 5)
    # each page's body repeated: far more CPU than the budget, whatever the kernel's accounting tick
    heavy = big.set_column(big.schema.get_field_index("html"), "html", pa.array(
        [h.replace("</body>", h * 8 + "</body>") for h in big.column("html").to_pylist()], pa.string()))
    slow = Extract(engine="trafilatura", timeout=0.005).process(heavy, BlockContext())
    assert all(e is not None and e.startswith("timeout") for e in slow.errors)
    # the worker is fine afterwards: the next batch extracts normally
    assert Extract(engine="trafilatura").process(big, BlockContext()).errors == [None] * big.num_rows


def test_label_normalisation() -> None:
    assert normalize_label("__label__pt") == "por_Latn"
    assert normalize_label("pt") == "por_Latn"
    assert normalize_label("__label__zh") == "cmn_Hani"
    assert normalize_label("__label__por_Latn") == "por_Latn"  # GlotLID / OpenLID
    assert normalize_label("__label__de") == "deu_Latn"


def test_langid_columns_on_real_multilingual_crawl(shared_data: Path) -> None:
    table = pa.concat_tables(WarcReader().read(str(shared_data / "warc" / "cc-main-2020-34-multilingual.warc.gz"),
                                               ReadCounts()))
    text = Extract(engine="resiliparse").process(table, BlockContext()).table
    out = LanguageId().process(text, BlockContext()).table
    langs = out.column("lang").to_pylist()
    assert {"deu_Latn", "rus_Cyrl", "nld_Latn", "cmn_Hani", "eng_Latn"} <= set(langs)
    scores = out.column("lang_score").to_pylist()
    assert all(0.0 <= s <= 1.0 for s in scores)
    topk = out.column("lang_topk").to_pylist()
    assert all(len(t) <= 3 and t[0]["lang"] == lang for t, lang in zip(topk, langs, strict=True) if t)


def test_user_model_path_and_missing_model(tmp_path: Path) -> None:
    copy = tmp_path / "my-lid.ftz"
    shutil.copy(packaged_lid176_path(), copy)
    table = pa.table({"text": ["Esta é uma frase escrita em português, sobre o tempo e o mar."]})
    out = LanguageId(model=str(copy)).process(table, BlockContext()).table
    assert out.column("lang")[0].as_py() == "por_Latn"
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        LanguageId(model=str(tmp_path / "nope.bin")).process(table, BlockContext())
