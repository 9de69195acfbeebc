"""Evaluation set loaders (issue 26): SQuAD JSON, JSONL / JSON / Parquet / Arrow rows, Hugging Face style folders;
fields named or detected; languages from the set, the file name or a row field; one-line errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from curate.decont.errors import EvalSetError
from curate.decont.index_builder import build_index
from curate.decont.matcher import Matcher
from curate.decont.set_loader import load_set
from curate.decont.set_spec import SetSpec, parse_set_specs

QUESTION = ("Which of the following rivers flows through the most countries on its way from the Black Forest to "
            "the Black Sea?")
CHOICES = ["The Rhine, which ends in the North Sea", "The Danube, through ten countries", "The Elbe", "The Oder"]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_squad_layout_gives_one_item_per_question_with_language_from_the_file_name(shared_data: Path) -> None:
    name, items = load_set(SetSpec(str(shared_data / "evalsets" / "xquad" / "xquad.th.json")))
    assert name == "xquad" and len(items) == 1190
    first = items[0]
    assert first.lang == "tha_Thai" and first.item == "56beb4343aeaaa14008c925b"
    assert [f for f, _ in first.fields] == ["question", "answers", "context"]
    assert dict(first.fields)["answers"] == "308"


def test_jsonl_fields_named_or_detected_and_language_from_set_or_row(tmp_path: Path) -> None:
    rows = [{"id": "q1", "question": QUESTION, "choices": CHOICES, "answer": "B", "subject": "geography",
             "label": 1, "url": "https://example.org/q1", "lang": "en"},
            {"id": "q2", "question": "Wie viele Länder durchfließt die Donau?", "choices": ["zehn", "drei"],
             "answer": "zehn", "lang": "de"}]
    path = _jsonl(tmp_path / "mmlu_like.jsonl", rows)
    name, items = load_set(SetSpec(str(path)))
    assert name == "mmlu_like"
    fields = [f for f, _ in items[0].fields]
    assert fields == ["question", "choices", "choices", "choices", "choices", "answer", "subject"]
    assert [i.lang for i in items] == ["eng_Latn", "deu_Latn"]  # detected "lang" field
    _, named = load_set(SetSpec(str(path), name="mmlu", lang="fr", fields=("question", "answer")))
    assert [f for f, _ in named[0].fields] == ["question", "answer"] and named[0].set == "mmlu"
    assert {i.lang for i in named} == {"fra_Latn"}  # the set's language wins


def test_json_list_parquet_and_arrow_rows(tmp_path: Path) -> None:
    rows = [{"uid": "a", "passage": "A passage that is long enough to hold a few words of text.",
             "answers": {"text": ["few words"], "answer_start": [30]}}]
    (tmp_path / "list.es.json").write_text(json.dumps(rows), encoding="utf-8")
    _, items = load_set(SetSpec(str(tmp_path / "list.es.json")))
    assert items[0].lang == "spa_Latn" and items[0].item == "a"
    assert [f for f, _ in items[0].fields] == ["passage", "answers.text"]  # answer_start is a number field
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")
    _, items = load_set(SetSpec(str(tmp_path / "rows.parquet"), fields=("answers.text",)))
    assert items[0].fields == (("answers.text", "few words"),)
    table = pa.Table.from_pylist(rows)
    with pa.OSFile(str(tmp_path / "data-00000-of-00001.arrow"), "wb") as sink, \
            ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    _, items = load_set(SetSpec(str(tmp_path / "data-00000-of-00001.arrow")))
    assert items[0].item == "a"


def test_hugging_face_folder_leaves_train_out_unless_named(tmp_path: Path) -> None:
    folder = tmp_path / "belebele_like"
    (folder / "data").mkdir(parents=True)
    for split in ("train", "test", "validation"):
        rows = [{"id": f"{split}-{i}", "flores_passage": f"{split} passage number {i} with some words in it",
                 "question": f"what is in {split} {i}?", "lang_code": "deu_Latn"} for i in range(3)]
        pq.write_table(pa.Table.from_pylist(rows), folder / "data" / f"{split}-00000-of-00001.parquet")
    (folder / "README.md").write_text("a dataset card", encoding="utf-8")
    name, items = load_set(SetSpec(str(folder)))
    assert name == "belebele_like"
    assert {i.item.split("-")[0] for i in items} == {"test", "validation"}
    assert {i.lang for i in items} == {"deu_Latn"}  # the lang_code field
    _, items = load_set(SetSpec(str(folder), splits=("train",)))
    assert {i.item.split("-")[0] for i in items} == {"train"}


def test_bad_sets_fail_with_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"question": "fine"}\n{"question": oops}\n', encoding="utf-8")
    with pytest.raises(EvalSetError, match=r"broken\.jsonl, line 2: not JSON"):
        load_set(SetSpec(str(bad)))
    with pytest.raises(EvalSetError, match="no such file or folder"):
        load_set(SetSpec(str(tmp_path / "missing.jsonl")))
    numbers = _jsonl(tmp_path / "numbers.jsonl", [{"id": 1, "label": 3}])
    with pytest.raises(EvalSetError, match="no item with a text field"):
        load_set(SetSpec(str(numbers)))
    with pytest.raises(EvalSetError, match="unknown key 'feilds'"):
        parse_set_specs([{"path": "x.jsonl", "feilds": ["question"]}])


def test_index_of_row_sets_finds_a_question_with_its_choices(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "mc.jsonl", [{"id": "q1", "question": QUESTION, "choices": CHOICES, "answer": "B"}])
    _, index = build_index([{"path": str(path), "lang": "en"}], None, n=13)
    page = ("Quiz night! Question 7: which of the following rivers flows through the most countries on its way "
            "from the Black Forest to the Black Sea? Answer below.")
    short = "Which of the following rivers flows through the most countries on its"  # 12 tokens of 13
    found = Matcher(index).match([page, short], ["eng_Latn", "eng_Latn"])
    assert [m.overlap for m in found[0]] == [21] and found[1] == []
    assert index.info(found[0][0].text_id).items == [{"set": "mc", "item": "q1", "field": "question"}]
