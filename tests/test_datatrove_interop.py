"""datatrove interop: its filters inside curate pipelines, its writers' outputs as curate inputs.

Reference decisions come from datatrove itself: its LocalPipelineExecutor, its JsonlReader, filters with
exclusion writers and its JsonlWriter/ParquetWriter, over the same real documents.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import write_pipeline

pytest.importorskip("datatrove", reason="datatrove is not installed (pip install 'curate-corpus[datatrove]')")

from datatrove.data import Document  # noqa: E402
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.filters import (  # noqa: E402
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LambdaFilter,
)
from datatrove.pipeline.formatters import PIIFormatter  # noqa: E402
from datatrove.pipeline.readers import JsonlReader as DtJsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter  # noqa: E402

import curate  # noqa: E402
from curate import run  # noqa: E402
from curate.blocks.base import BlockContext  # noqa: E402
from curate.blocks.registry import BUILTIN_BLOCKS  # noqa: E402
from curate.config.pipeline_config import load_pipeline  # noqa: E402
from curate.interop.datatrove_block import (  # noqa: E402
    DatatroveMissingError,
    DatatroveStep,
    DatatroveStepError,
    default_reason,
)
from curate.io.datatrove_readers import DatatroveJsonlReader, DatatroveParquetReader  # noqa: E402
from curate.io.read_counts import ReadCounts  # noqa: E402
from curate.languages.table import load_language_table  # noqa: E402

# the YAML name of the block: "datatrove" once registered, its import path until then
BLOCK = "datatrove" if "datatrove" in BUILTIN_BLOCKS else "curate.interop.datatrove_block:DatatroveStep"
MIN_WORDS = 30  # the native curate filter of the mixed pipeline (tests/custom_blocks.py:min_words)
PER_LANGUAGE = {
    "stop_words": {"field": "stopwords", "if_empty": {"min_stop_words": None}},
    "min_avg_word_length": "min_avg_word_length",
    "max_avg_word_length": "max_avg_word_length",
    "max_non_alpha_words_ratio": "max_non_alpha_words_ratio",
    "language": "datatrove_language",
}


# --- documents: real articles plus low-quality text made from them -------------------------------------------

def _low_quality(texts: list[str], shared_data: Path) -> list[str]:
    """Typical web junk, built from real text: what Gopher / FineWeb / C4 rules exist for."""
    out = [(shared_data / "dedup" / "cs336_fixtures" / "low_quality_cc.txt").read_text()]
    for path in sorted((shared_data / "dedup" / "cs336_fixtures" / "documents_with_line_duplicates").iterdir()):
        out.append(path.read_text())
    for text in texts[:12]:
        paras = [p for p in text.split("\n") if p.strip()]
        words = text.split()
        out += [
            "\n".join([paras[0]] * 12),  # one paragraph over and over
            "\n".join(f"- {' '.join(p.split()[:4])}" for p in paras * 3),  # bullet-list menu
            "\n".join(" ".join(p.split()[:7]) + "..." for p in paras * 2),  # teaser lines cut with ellipses
            " ".join(f"#{w}" for w in words[:150]),  # hashtag spam
            " ".join(words[:20]),  # too short
            "\n".join(" ".join(str(len(w) * 7919 % 10007) for w in p.split()) for p in paras),  # numbers only
            text.replace(" ", "  ").upper(),  # shouting
            " ".join(words[:120]) + " lorem ipsum dolor sit amet",  # one long line, no line breaks
        ]
    return out


@pytest.fixture(scope="module")
def english_docs(shared_data: Path) -> list[dict[str, Any]]:
    gold = [json.loads(line) for line in (shared_data / "extraction" / "scrapinghub_aeb_gold.jsonl").open()]
    docs = [{"id": g["id"], "text": g["articleBody"], "url": g["url"]} for g in gold if g["articleBody"].strip()]
    junk = _low_quality([d["text"] for d in docs], shared_data)
    docs += [{"id": f"junk-{i}", "text": t, "url": f"https://junk.example/{i}"} for i, t in enumerate(junk)]
    return docs


@pytest.fixture(scope="module")
def multilingual_docs(shared_data: Path, english_docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Documents of whole sentences in several languages (lingua test data), long and short ones."""
    wanted = {"de": [], "fr": [], "pt": [], "es": [], "ru": [], "pl": []}
    with (shared_data / "langid" / "lingua_sentences.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            if row["iso639_1"] in wanted and len(wanted[row["iso639_1"]]) < 160:
                wanted[row["iso639_1"]].append(row["text"])
    docs = []
    for code, sentences in wanted.items():
        for k in range(8):  # 20 sentences in 4 paragraphs
            chunk = sentences[k * 20:(k + 1) * 20]
            text = "\n".join(" ".join(chunk[j:j + 5]) for j in range(0, 20, 5))
            docs.append({"id": f"{code}-{k}", "text": text if k != 7 else " ".join(chunk[:3]), "url": None})
    return docs + english_docs[:10]


def _write_jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for d in docs:
            handle.write(json.dumps(d) + "\n")
    return path


# --- running both systems --------------------------------------------------------------------------------------

def _run_datatrove(tmp: Path, input_dir: Path, filters: list[Any]) -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
    """datatrove's own executor: kept {id: text}, removed {id: (filter index, reason)}."""
    for k, f in enumerate(filters):
        f.exclusion_writer = JsonlWriter(str(tmp / "dt_removed" / str(k)), compression=None)
    pipeline = [DtJsonlReader(str(input_dir)), *filters, JsonlWriter(str(tmp / "dt_kept"), compression=None)]
    LocalPipelineExecutor(pipeline=pipeline, tasks=1, workers=1, logging_dir=str(tmp / "dt_logs")).run()
    kept = {r["id"]: r["text"] for r in _jsonl_rows(tmp / "dt_kept")}
    removed = {}
    for k, f in enumerate(filters):
        for r in _jsonl_rows(tmp / "dt_removed" / str(k)):
            removed[r["id"]] = (k, r.get("metadata", {}).get("filter_reason") or default_reason(type(f)))
    return kept, removed


def _jsonl_rows(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for p in sorted(folder.glob("*.jsonl")) for line in p.open() if line.strip()]


def _read_parquets(paths: list[Path]) -> pa.Table | None:
    tables = [pq.read_table(p) for p in paths]
    return pa.concat_tables(tables, promote_options="default") if tables else None


def _curate_outputs(out: Path) -> tuple[pa.Table, pa.Table]:
    kept = _read_parquets([p for p in sorted(out.glob("*/part-*.parquet")) if not p.parent.name.startswith("_")])
    removed = _read_parquets(sorted((out / "_removed").glob("*/*.parquet")))
    assert kept is not None and removed is not None
    return kept, removed


def _assert_accounted(out: Path) -> None:
    stats = json.loads((out / "_stats" / "stats.json").read_text())
    for step in stats["steps"]:
        for lang, c in step["langs"].items():
            assert c["in"] == c["out"] + sum(c["removed"].values()) + sum(c["errored"].values()), (step, lang)


# --- (a) mixed pipeline = datatrove's own decisions -----------------------------------------------------------

@pytest.mark.slow
def test_mixed_pipeline_matches_datatrove_executor(tmp_path: Path, english_docs: list[dict[str, Any]]) -> None:
    src = _write_jsonl(tmp_path / "in" / "docs.jsonl", english_docs)
    steps = [
        {"custom_blocks:min_words": {"minimum": MIN_WORDS}},
        {BLOCK: {"step": "GopherRepetitionFilter"}},
        {BLOCK: {"step": "datatrove.pipeline.filters.FineWebQualityFilter"}},
        {BLOCK: {"step": "datatrove.pipeline.filters.C4QualityFilter", "args": {"filter_no_terminal_punct": False}}},
        {BLOCK: {"step": "datatrove.pipeline.filters:GopherQualityFilter", "args": {"min_doc_words": 50}}},
    ]
    cfg = write_pipeline(tmp_path / "p.yaml", [str(src)], tmp_path / "out", steps,
                         executor={"type": "local", "workers": 1}, input={"paths": [str(src)], "batch_size": 64})
    run(load_pipeline(str(cfg)))
    kept, removed = _curate_outputs(tmp_path / "out")
    _assert_accounted(tmp_path / "out")

    def min_words(doc: Document) -> bool | tuple[bool, str]:
        return len(doc.text.split()) >= MIN_WORDS or (False, f"under_{MIN_WORDS}_words")

    dt_kept, dt_removed = _run_datatrove(tmp_path, src.parent, [
        LambdaFilter(min_words), GopherRepetitionFilter(), FineWebQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False), GopherQualityFilter(min_doc_words=50),
    ])
    assert len(dt_kept) + len(dt_removed) == len(english_docs)
    # same documents kept, with the same text (C4's filter also edits lines: it drops the blank ones)
    assert dict(zip(kept["id"].to_pylist(), kept["text"].to_pylist(), strict=True)) == dt_kept
    source = {d["id"]: d["text"] for d in english_docs}
    assert sum(text != source[i] for i, text in dt_kept.items()) > 0
    # same documents removed, by the same step, for the same reason
    names = ["custom_blocks:min_words"] + [BLOCK] * 4
    expected = {doc_id: f"{names[k]}:{reason}" for doc_id, (k, reason) in dt_removed.items()}
    got = dict(zip(removed["id"].to_pylist(), removed["drop_reason"].to_pylist(), strict=True))
    assert got == expected
    reasons = {r.split(":", 2)[-1] for r in got.values()}
    assert len(reasons) >= 6, reasons  # the junk trips many different rules
    assert len(dt_kept) >= 80  # most real articles pass
    assert removed["url"].null_count == 0  # the row travels whole into _removed


@pytest.mark.slow
def test_per_language_arguments_route_each_document(tmp_path: Path,
                                                    multilingual_docs: list[dict[str, Any]]) -> None:
    half = len(multilingual_docs) // 2  # two shards: worker processes rebuild the datatrove instances
    inputs = [str(_write_jsonl(tmp_path / "in" / "a.jsonl", multilingual_docs[:half])),
              str(_write_jsonl(tmp_path / "in" / "b.jsonl", multilingual_docs[half:]))]
    steps = [{"langid": {}}, {BLOCK: {"step": "GopherQualityFilter", "per_language": PER_LANGUAGE}}]
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, tmp_path / "out", steps,
                         executor={"type": "local", "workers": 2})
    run(load_pipeline(str(cfg)))
    kept, removed = _curate_outputs(tmp_path / "out")
    _assert_accounted(tmp_path / "out")
    rows = kept.select(["id", "lang"]).to_pylist() + removed.select(["id", "lang"]).to_pylist()
    lang_of = {r["id"]: r["lang"] for r in rows}
    assert {"deu_Latn", "fra_Latn", "por_Latn", "spa_Latn", "rus_Cyrl", "pol_Latn", "eng_Latn"} <= set(
        lang_of.values())

    # reference: datatrove's executor once per language, with that language's FineWeb2 settings
    table = load_language_table()
    expected: dict[str, str | None] = {}
    for lang in sorted(set(lang_of.values())):
        cfg_l = table.get(lang)
        docs = [d for d in multilingual_docs if lang_of[d["id"]] == lang]
        src = _write_jsonl(tmp_path / "ref" / lang / "in" / "docs.jsonl", docs)
        block = DatatroveStep(GopherQualityFilter, per_language=PER_LANGUAGE)
        language = block.instance_for(lang).language  # what datatrove_language resolved to
        assert language == lang  # FineWeb2 keys are datatrove's tokenizer keys
        kwargs: dict[str, Any] = dict(
            stop_words=list(cfg_l.stopwords), min_avg_word_length=cfg_l.min_avg_word_length,
            max_avg_word_length=cfg_l.max_avg_word_length,
            max_non_alpha_words_ratio=cfg_l.max_non_alpha_words_ratio, language=language)
        if not cfg_l.stopwords:
            kwargs["min_stop_words"] = None
        dt_kept, dt_removed = _run_datatrove(tmp_path / "ref" / lang, src.parent, [GopherQualityFilter(**kwargs)])
        expected.update(dict.fromkeys(dt_kept))
        expected.update({i: f"{BLOCK}:{reason}" for i, (_, reason) in dt_removed.items()})
    got = dict.fromkeys(kept["id"].to_pylist()) | dict(
        zip(removed["id"].to_pylist(), removed["drop_reason"].to_pylist(), strict=True))
    assert got == expected
    # the routing matters: English stop words would have removed the kept non-English documents
    english = GopherQualityFilter()
    foreign_kept = [d for d in multilingual_docs if got[d["id"]] is None and not lang_of[d["id"]].startswith("eng")]
    assert len(foreign_kept) >= 20
    assert sum(english.filter(Document(text=d["text"], id=d["id"])) is not True for d in foreign_kept) >= 10


def test_users_own_filter_by_import_path_adds_typed_columns(tmp_path: Path,
                                                            english_docs: list[dict[str, Any]]) -> None:
    docs = english_docs[:60] + english_docs[-40:]
    docs[5] = {**docs[5], "text": docs[5]["text"] + " xyzzy"}
    src = _write_jsonl(tmp_path / "in" / "docs.jsonl", docs)
    steps = [{BLOCK: {"step": "datatrove_user_steps:ShoutingFilter", "args": {"max_upper_ratio": 0.5}}}]
    cfg = write_pipeline(tmp_path / "p.yaml", [str(src)], tmp_path / "out", steps,
                         executor={"type": "local", "workers": 1}, input={"paths": [str(src)], "batch_size": 16})
    run(load_pipeline(str(cfg)))
    kept, removed = _curate_outputs(tmp_path / "out")
    _assert_accounted(tmp_path / "out")
    for t in (kept, removed):
        assert t.schema.field("upper_ratio").type == pa.float64()
        assert t.schema.field("n_lines").type == pa.int64()
        assert t.schema.field("has_digits").type == pa.bool_()
        assert t["upper_ratio"].null_count == 0
    reasons = dict(zip(removed["id"].to_pylist(), removed["drop_reason"].to_pylist(), strict=True))
    assert reasons[docs[5]["id"]] == f"{BLOCK}:shouting_filter"  # plain False: named after the class
    assert f"{BLOCK}:too_loud" in reasons.values()
    assert kept.num_rows + removed.num_rows == len(docs)


# --- the block on its own ------------------------------------------------------------------------------------

def _table(texts: list[str], **columns: list[Any]) -> pa.Table:
    return pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts, **columns})


def test_formatter_edits_text_and_metadata_round_trips() -> None:
    table = _table(["write to jane.doe@example.org today", "nothing to hide"],
                   url=["https://a.example/1", None], lang=["eng_Latn", "eng_Latn"], lang_score=[0.9, 0.8],
                   weight=pa.array([1.5, 2.0], pa.float32()))
    out = curate.DatatroveStep(PIIFormatter).process(table, BlockContext())
    assert out.keep is None or out.keep.all()
    assert "jane.doe" not in out.table["text"][0].as_py()
    assert out.table.schema == table.schema  # nothing added, types kept (float32 stays float32)
    assert out.table.drop_columns(["text"]).equals(table.drop_columns(["text"]))


def test_metadata_seen_by_datatrove_and_new_keys_with_fixed_types() -> None:
    seen: list[dict[str, Any]] = []

    def enrich(doc: Document) -> bool:
        seen.append(dict(doc.metadata))
        doc.metadata["score"] = len(doc.text) if doc.id != "d3" else "n/a"  # int, then a str that cannot fit
        doc.metadata["lang"] = doc.metadata["lang"].upper() if doc.id == "d0" else doc.metadata["lang"]
        return True

    block = DatatroveStep(LambdaFilter(enrich))
    first = block.process(_table(["a", "bb"], lang=["eng_Latn", None], lang_score=[0.5, 0.1]), BlockContext())
    assert seen[0] == {"lang": "eng_Latn", "lang_score": 0.5, "language": "eng_Latn", "language_score": 0.5}
    assert first.table["score"].type == pa.int64() and first.table["lang"].to_pylist() == ["ENG_LATN", None]
    second = block.process(_table(["ccc", "dddd", "eeeee", "ffffff"], lang=["eng_Latn"] * 4, lang_score=[1.0] * 4),
                           BlockContext())
    assert second.table["score"].type == pa.int64()
    assert second.errors is not None and second.errors[3] is not None and "score" in second.errors[3]
    assert [e is None for e in second.errors] == [True, True, True, False]
    assert second.table["score"].to_pylist() == [3, 4, 5, None]


def test_errors_stay_on_their_row_and_bad_steps_fail_early(monkeypatch: pytest.MonkeyPatch) -> None:
    def picky(doc: Document) -> bool:
        if doc.text == "boom":
            raise RuntimeError("cannot read this")
        return doc.text != "drop"

    out = DatatroveStep(LambdaFilter(picky)).process(_table(["fine", "boom", "drop"]), BlockContext())
    assert list(out.keep) == [True, False, False]
    assert out.errors == [None, "RuntimeError: cannot read this", None]
    assert out.reasons[2] == "lambda_filter"

    with pytest.raises(DatatroveStepError, match="min_doc_wordz"):
        DatatroveStep("GopherQualityFilter", args={"min_doc_wordz": 3})
    with pytest.raises(DatatroveStepError, match="unknown language-table field"):
        DatatroveStep("GopherQualityFilter", per_language={"stop_words": "stopword"})
    with pytest.raises(DatatroveStepError, match="reader"):
        DatatroveStep("datatrove.pipeline.readers.JsonlReader")
    with pytest.raises(DatatroveStepError, match="writer"):
        DatatroveStep("datatrove.pipeline.writers.JsonlWriter")
    if importlib.util.find_spec("fasteners") is None:  # datatrove's LanguageFilter needs more than curate has
        with pytest.raises(DatatroveStepError, match="pip install .*fasteners"):
            DatatroveStep("LanguageFilter")
    with pytest.raises(DatatroveStepError, match="not found"):
        DatatroveStep("NoSuchFilter")
    with pytest.raises(DatatroveStepError, match="ready datatrove instance"):
        DatatroveStep(GopherQualityFilter(), per_language={"stop_words": "stopwords"})

    class Splitter(GopherQualityFilter):
        def run(self, data, rank=0, world_size=1):  # noqa: ANN001, ANN201
            for doc in data:
                yield Document(text=doc.text[:3], id=doc.id + "-a")

    with pytest.raises(ValueError, match="split, merge or create"):
        DatatroveStep(Splitter()).process(_table(["abcdef"]), BlockContext())

    monkeypatch.setitem(sys.modules, "datatrove", None)  # as if it were not installed
    with pytest.raises(DatatroveMissingError, match=r"pip install 'curate-corpus\[datatrove\]'"):
        DatatroveStep("GopherQualityFilter")


def test_block_pickles_and_rebuilds_per_language_instances() -> None:
    block = DatatroveStep("GopherQualityFilter", per_language=PER_LANGUAGE)
    table = _table(["Der Hund und die Katze sind nicht im Haus. " * 20, "The dog and the cat are in the house. " * 20,
                    "Ein kurzer Text."], lang=["deu_Latn", "eng_Latn", "deu_Latn"])
    before = block.process(table, BlockContext())
    assert len(block._by_args) == 2  # one datatrove instance per language, shared by its rows
    again = pickle.loads(pickle.dumps(block))
    after = again.process(table, BlockContext())
    assert list(before.keep) == list(after.keep) == [True, True, False]
    assert after.reasons[2] == "gopher_short_doc"


# --- (b) datatrove's writers -> curate's readers --------------------------------------------------------------

def _datatrove_written(tmp: Path) -> tuple[list[Document], Path, Path]:
    def metadata(i: int) -> dict[str, Any]:
        return {"url": f"https://site.example/{i}", "date": "2024-05-01T10:00:00Z", "dump": "CC-MAIN-2024-22",
                "file_path": "s3://commoncrawl/x.warc.gz", "language": ["en", "pt", "de"][i % 3],
                "language_score": 0.5 + i / 100, "token_count": 10 + i, "minhash_cluster_size": 1 + i % 4,
                "tags": ["a", str(i)]}

    docs = [Document(text=f"This is document number {i} of the sample.\nIts second line has a few more words in it.",
                     id=f"doc-{i:03d}", metadata=metadata(i)) for i in range(40)]
    pipeline = [docs, JsonlWriter(str(tmp / "dt_jsonl"), output_filename="${rank}.jsonl.gz"),
                ParquetWriter(str(tmp / "dt_parquet"))]
    LocalPipelineExecutor(pipeline=pipeline, tasks=1, workers=1, logging_dir=str(tmp / "logs")).run()
    return docs, tmp / "dt_jsonl", tmp / "dt_parquet"


@pytest.mark.parametrize("reader_cls", [DatatroveJsonlReader, DatatroveParquetReader])
def test_datatrove_outputs_read_into_curate(tmp_path: Path, reader_cls: type) -> None:
    docs, jsonl_dir, parquet_dir = _datatrove_written(tmp_path)
    folder = jsonl_dir if reader_cls is DatatroveJsonlReader else parquet_dir
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert files and all(p.name.endswith(".jsonl.gz" if folder == jsonl_dir else ".parquet") for p in files)
    counts = ReadCounts()
    table = pa.concat_tables([t for p in files for t in reader_cls(batch_size=16).read(str(p), counts)],
                             promote_options="default")
    assert counts.records == counts.emitted == len(docs) and not counts.errored
    rows = {r["id"]: r for r in table.to_pylist()}
    assert list(rows) == [d.id for d in docs]
    langs = {"en": "eng_Latn", "pt": "por_Latn", "de": "deu_Latn"}
    for d in docs:
        r = rows[d.id]
        assert r["text"] == d.text
        assert (r["url"], r["date"]) == (d.metadata["url"], d.metadata["date"])
        assert r["lang"] == langs[d.metadata["language"]] and r["lang_score"] == d.metadata["language_score"]
        extra = {k: r[k] for k in d.metadata if k not in ("url", "date")}
        assert extra == {k: v for k, v in d.metadata.items() if k not in ("url", "date")}
    assert table.schema.field("token_count").type == pa.int64()
    assert table.schema.field("tags").type == pa.list_(pa.string())

    json_mode = pa.concat_tables([t for p in files for t in reader_cls(metadata="json").read(str(p), ReadCounts())])
    first = json.loads(json_mode["metadata"][0].as_py())
    assert first == {k: v for k, v in docs[0].metadata.items() if k not in ("url", "date")}


def test_jsonl_reader_counts_lines_whose_metadata_changes_type(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [{"text": "a text", "id": "1", "metadata": {"n": 1}}, {"text": "b text", "id": "2", "metadata": {"n": 2}},
             {"text": "c text", "id": "3", "metadata": {"n": "three"}}, {"text": " ", "id": "4"}, "not json"]
    path.write_text("\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n")
    counts = ReadCounts()
    tables = list(DatatroveJsonlReader(batch_size=2).read(str(path), counts))
    assert [t["id"].to_pylist() for t in tables] == [["1", "2"]]
    assert counts.records == 5 and counts.emitted == 2
    assert counts.errored == {"metadata_type": 1, "bad_json": 1} and counts.skipped == {"empty": 1}
    assert any(":3:" in m and "'n'" in m for m in counts.messages)


def test_pipeline_reads_datatrove_outputs(tmp_path: Path) -> None:
    docs, jsonl_dir, parquet_dir = _datatrove_written(tmp_path)
    for fmt, folder in (("datatrove_jsonl", jsonl_dir), ("datatrove_parquet", parquet_dir)):
        out = tmp_path / f"out_{fmt}"
        cfg = write_pipeline(tmp_path / f"{fmt}.yaml", [str(folder)], out,
                             [{BLOCK: {"step": "GopherQualityFilter", "args": {"min_doc_words": 3}}}],
                             input={"paths": [str(folder)], "format": fmt})
        run(load_pipeline(str(cfg)))
        kept = _read_parquets([p for p in sorted(out.glob("*/part-*.parquet")) if not p.parent.name.startswith("_")])
        removed = _read_parquets(sorted((out / "_removed").glob("*/*.parquet")))
        ids = set(kept["id"].to_pylist()) | (set(removed["id"].to_pylist()) if removed is not None else set())
        assert ids == {d.id for d in docs}
        assert {p.parent.name for p in out.glob("*/part-*.parquet")} == {"eng_Latn", "por_Latn", "deu_Latn"}
        assert kept.schema.field("minhash_cluster_size").type == pa.int64()


def test_languages_without_stop_words_turn_the_rule_off() -> None:
    text = "Whakaaturanga mātauranga hauora mō ngā kaupapa whakahirahira o tēnei rohe. " * 12
    table = _table([text, text], lang=["xyz_Latn", "eng_Latn"])  # xyz_Latn: no row, no stop words in the table
    assert load_language_table().get("xyz_Latn").stopwords == ()
    with_rule_off = DatatroveStep("GopherQualityFilter", per_language=PER_LANGUAGE).process(table, BlockContext())
    assert list(with_rule_off.keep) == [True, False]
    assert with_rule_off.reasons[1] == "gopher_enough_stop_words"
    plain = {**PER_LANGUAGE, "stop_words": "stopwords"}
    without = DatatroveStep("GopherQualityFilter", per_language=plain).process(table, BlockContext())
    assert without.reasons == ["gopher_enough_stop_words", "gopher_enough_stop_words"]
