"""The ``langid`` block's second opinion (CLD2 by default) for rows fastText lid.176 is unsure about."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import REPO, write_pipeline

from curate import run
from curate.blocks.base import BlockContext
from curate.config.pipeline_config import PipelineConfigError, load_pipeline
from curate.extract.extract_block import Extract
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader
from curate.langid.cld2_model import Cld2Model
from curate.langid.fasttext_model import ModelNotFoundError, packaged_lid176_path
from curate.langid.langid_block import LANG_MODEL, LanguageId
from curate.langid.script import dominant_script
from curate.langid.second_opinion import (
    BACKENDS,
    key_for,
    load_second_opinion,
    names_language,
)
from curate.languages.labels import lid176_labels, normalize_label
from curate.languages.table import load_language_table

OLD_COLUMNS = ["lang", "lang_score", "lang_topk"]


@lru_cache(maxsize=1)
def _quickstart() -> tuple[pa.Table, tuple[str, ...]]:
    """The sample crawl's 55 article pages as extracted text, and their gold language (from the build sources)."""
    gold = {p["url"]: p["lang"] for p in json.loads((REPO / "scripts" / "quickstart_texts.json").read_text())["pages"]}
    path = str(files("curate") / "samples" / "quickstart.warc.gz")
    table = pa.concat_tables(list(WarcReader().read(path, ReadCounts())))
    text = Extract(engine="trafilatura").process(table, BlockContext()).table
    text = text.filter(pa.array([u in gold for u in text.column("url").to_pylist()]))
    return text.select(["url", "text"]), tuple(gold[u] for u in text.column("url").to_pylist())


def _rows(out: pa.Table, langs: tuple[str, ...], code: str) -> list[dict]:
    return [row for row, lang in zip(out.to_pylist(), langs, strict=True) if lang == code]


def test_quickstart_maori_and_swahili_pages_get_their_language() -> None:
    pages, langs = _quickstart()
    assert langs.count("mi") == 3 and langs.count("sw") == 3
    out = LanguageId().process(pages, BlockContext()).table
    table = load_language_table()
    for row in _rows(out, langs, "mi"):  # lid.176 has no Māori: fastText says lvs_Latn at ~0.2
        assert row["lang"] == "mri_Latn" and row[LANG_MODEL] == "cld2", row["url"]
        assert row["lang_score"] >= table.get("mri_Latn").language_score  # survives the language_score filter
        assert row["lang_topk"][0]["lang"] == "lvs_Latn"  # lang_topk stays fastText's
    for row in _rows(out, langs, "sw"):  # fastText ~0.65: asked, CLD2 agrees, so fastText's answer stands
        assert row["lang"] == "swh_Latn" and row[LANG_MODEL] == "fasttext", row["url"]
        assert row["lang_score"] >= table.get("swh_Latn").language_score
    # every article page of the sample now has its gold language
    got = [lang.split("_")[0] for lang in out.column("lang").to_pylist()]
    assert got == [normalize_label(code).split("_")[0] for code in langs]


def test_confident_fasttext_answers_are_untouched() -> None:
    pages, langs = _quickstart()
    plain = LanguageId(second_opinion="none").process(pages, BlockContext()).table
    out = LanguageId().process(pages, BlockContext()).table
    assert LanguageId().second_opinion_below == 0.7
    confident = [i for i, s in enumerate(plain.column("lang_score").to_pylist()) if s >= 0.7]
    changed = [i for i in range(pages.num_rows) if out.column(LANG_MODEL)[i].as_py() != "fasttext"]
    assert len(confident) >= len(langs) - 6 and not set(confident) & set(changed)
    assert [langs[i] for i in changed] == ["mi"] * 3  # asked rows where CLD2 agrees keep fastText's answer too
    for name in OLD_COLUMNS:
        kept = [i for i in range(pages.num_rows) if i not in changed]
        assert [out.column(name)[i].as_py() for i in kept] == [plain.column(name)[i].as_py() for i in kept]
    for code, key in (("de", "deu_Latn"), ("ja", "jpn_Jpan")):
        rows = _rows(out, langs, code)
        assert rows and all(r["lang"] == key and r[LANG_MODEL] == "fasttext" and r["lang_score"] > 0.9 for r in rows)


def test_second_opinion_none_reproduces_plain_lid176() -> None:
    pages, langs = _quickstart()
    out = LanguageId(second_opinion="none").process(pages, BlockContext()).table
    assert out.column_names == ["url", "text", *OLD_COLUMNS]  # no lang_model column
    for row in out.to_pylist():
        assert row["lang"] == row["lang_topk"][0]["lang"]
        assert row["lang_score"] == pytest.approx(row["lang_topk"][0]["score"])
    assert {r["lang"] for r in _rows(out, langs, "mi")} <= {normalize_label(label) for label in lid176_labels()}
    assert all(r["lang_score"] < 0.5 for r in _rows(out, langs, "mi"))


def test_thresholds_decide_who_is_asked_and_who_is_believed() -> None:
    pages, langs = _quickstart()
    # nobody is unsure below 0: fastText answers everywhere, but the column is there
    never = LanguageId(second_opinion_below=0.0).process(pages, BlockContext()).table
    assert set(never.column(LANG_MODEL).to_pylist()) == {"fasttext"}
    assert "mri_Latn" not in never.column("lang").to_pylist()
    # CLD2 gives the Māori pages 0.99 of their text: a demand for 1.0 keeps fastText's answer
    strict = LanguageId(second_opinion_min=1.0).process(pages, BlockContext()).table
    assert "mri_Latn" not in strict.column("lang").to_pylist()
    # everything below 1.0 is asked: still every page right, and agreeing answers keep fastText's scores
    always = LanguageId(second_opinion_below=1.0).process(pages, BlockContext()).table
    assert always.column(LANG_MODEL).to_pylist().count("cld2") == 3
    assert always.column("lang").to_pylist() == LanguageId().process(pages, BlockContext()).table.column("lang").to_pylist()


def test_auto_means_cld2_for_lid176_and_none_for_a_model_of_your_own(tmp_path: Path) -> None:
    assert LanguageId().second_opinion == "cld2"
    copy = tmp_path / "my-lid.ftz"
    copy.write_bytes(Path(packaged_lid176_path()).read_bytes())
    mine = LanguageId(model=str(copy))
    assert mine.second_opinion == "none"
    out = mine.process(pa.table({"text": ["Kei te haere ngā tamariki ki te kura ā te ata nei."]}), BlockContext())
    assert LANG_MODEL not in out.table.column_names
    assert LanguageId(model=str(copy), second_opinion="cld2").second_opinion == "cld2"


def test_rows_without_text_and_junk_keep_fasttext_or_und() -> None:
    table = pa.table({"text": [None, "", "   ", "Test", "abc 123 !!!", "\x00\x07\uffff\ufdd0"]})
    out = LanguageId().process(table, BlockContext()).table
    assert out.column("lang").to_pylist()[:3] == ["und", "und", "und"]
    assert set(out.column(LANG_MODEL).to_pylist()) == {"fasttext"}  # CLD2: too short to be reliable


def test_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown second_opinion"):
        LanguageId(second_opinion="cld9")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="between 0 and 1"):
        LanguageId(second_opinion_below=1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        LanguageId(second_opinion_min=-0.1)
    cfg = write_pipeline(tmp_path / "p.yaml", ["x.warc.gz"], tmp_path / "out",
                         [{"extract": {}}, {"langid": {"second_opinion": "cld9"}}])
    with pytest.raises(PipelineConfigError, match="second_opinion"):
        load_pipeline(str(cfg))
    ok = write_pipeline(tmp_path / "ok.yaml", ["x.warc.gz"], tmp_path / "out",
                        [{"extract": {}}, {"langid": {"second_opinion": "none", "second_opinion_below": 0.3}}])
    load_pipeline(str(ok))


def test_missing_backend_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS, "ghost", ("curate.langid.no_such_module:Ghost", "ghost-langid"))
    with pytest.raises(ModelNotFoundError, match="pip install ghost-langid"):
        load_second_opinion("ghost")
    assert load_second_opinion("cld2") is load_second_opinion("cld2")  # once per process


def test_cld2_labels_scripts_and_bad_input() -> None:
    cld2 = Cld2Model()
    serbian_latin = ("Vlada Republike Srbije je danas usvojila predlog zakona o izmenama zakona o visokom "
                     "obrazovanju, a ministar prosvete je rekao da će nove odredbe stupiti na snagu od jeseni.")
    key, conf = cld2.predict_one(serbian_latin)
    assert key in ("srp_Latn", "hrv_Latn", "bos_Latn") and conf > 0.5  # Latin script, never srp_Cyrl
    assert dominant_script(serbian_latin) == "Latn" and dominant_script("Привет, мир") == "Cyrl"
    assert dominant_script("12345 !!") is None
    # CLD2 itself refuses controls, noncharacters and surrogates; they are blanked first
    nasty = "Kei te haere ngā tamariki ki te kura\x00 ā te ata nei,\ud800 ā, ka hoki mai rātou\uffff i te ahiahi."
    (key, conf), empty = cld2.predict([nasty, ""])
    assert key == "mri_Latn" and conf > 0.5 and empty == ("und", 0.0)
    # the text's script picks among the scripts FineWeb2 has for the language, only for such languages
    assert key_for("sr", serbian_latin) == "srp_Latn" and key_for("sr", "Влада Републике Србије") == "srp_Cyrl"
    assert key_for("mi", "Привет") == "mri_Latn"
    assert names_language("mri_Latn") and not names_language("und") and not names_language("und_Latn")


def test_lingua_backend_when_installed() -> None:
    pytest.importorskip("lingua", reason="the optional extra curate-corpus[lingua] is not installed")
    pages, langs = _quickstart()
    mi = pages.filter(pa.array([code == "mi" for code in langs]))
    out = LanguageId(second_opinion="lingua").process(mi, BlockContext()).table
    assert out.column("lang").to_pylist() == ["mri_Latn"] * 3
    assert set(out.column(LANG_MODEL).to_pylist()) == {"lingua"}


def test_lingua_sentences_accuracy_does_not_drop(shared_data: Path) -> None:
    """Every 10th sentence of the lingua-rs test set (7.4k, 75 languages): fastText alone vs with CLD2."""
    with open(shared_data / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for i, line in enumerate(f) if i % 10 == 0]
    table = pa.table({"text": [r["text"] for r in rows]})
    gold = [normalize_label(r["iso639_1"]).split("_")[0] for r in rows]
    plain = LanguageId(second_opinion="none").process(table, BlockContext()).table.column("lang").to_pylist()
    out = LanguageId().process(table, BlockContext()).table
    both = out.column("lang").to_pylist()
    covered = {normalize_label(label).split("_")[0] for label in lid176_labels()}
    right: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0])
    for g, p, b in zip(gold, plain, both, strict=True):
        for model, pred in (("fasttext", p), ("second", b)):
            right[(model, g in covered)][0] += pred.split("_")[0] == g
            right[(model, g in covered)][1] += 1
    acc = {k: c / n for k, (c, n) in right.items()}
    assert acc[("second", True)] >= acc[("fasttext", True)]  # lid.176's own languages: no worse
    assert acc[("fasttext", False)] == 0.0 and acc[("second", False)] > 0.8  # mi, zu, xh, st, tn, ts, sn, lg
    overall = {m: sum(right[(m, c)][0] for c in (True, False)) / len(rows) for m in ("fasttext", "second")}
    assert overall["second"] >= overall["fasttext"] + 0.1
    share = out.column(LANG_MODEL).to_pylist().count("cld2") / len(rows)
    assert 0.05 < share < 0.4  # only the unsure rows were decided by CLD2


@pytest.mark.slow
def test_quickstart_crawl_through_a_pipeline_gives_maori_output(tmp_path: Path) -> None:
    steps = [{"extract": {"engine": "trafilatura"}}, {"langid": {}}, {"language_score": {}}]
    cfg = write_pipeline(tmp_path / "p.yaml", ["curate://samples/quickstart.warc.gz"], tmp_path / "out", steps,
                         executor={"type": "local", "workers": 1})
    result = run(load_pipeline(str(cfg)))
    assert result.stats["output"]["mri_Latn"]["documents"] == 3
    assert result.stats["output"]["swh_Latn"]["documents"] == 3
    assert "lvs_Latn" not in result.stats["output"]
    mri = pq.read_table(next((tmp_path / "out" / "mri_Latn").glob("*.parquet")))
    assert set(mri.column(LANG_MODEL).to_pylist()) == {"cld2"}
