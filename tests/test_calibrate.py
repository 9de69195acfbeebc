"""``curate calibrate``: thresholds derived from reference text, checked against FineWeb2's own configs.

Reference text: the lingua-rs test sentences (../shared/data/langid/lingua_sentences.jsonl) grouped into
documents of 10-30 sentences; the tests skip when the shared data is absent.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest
from ruamel.yaml import YAML

from curate.blocks.base import BlockContext
from curate.cli.calibrate_command import register_calibrate_command
from curate.filters.fineweb_quality import FineWebQualityFilter
from curate.filters.gopher_quality import GopherQualityFilter
from curate.filters.gopher_repetition import GopherRepetitionFilter
from curate.langid.calibrate import (
    CalibrationError,
    CalibrationResult,
    calibrate,
    documents_from_sentences,
    format_yaml,
    iter_reference_documents,
)
from curate.languages.table import load_language_table

LANGS = {"por_Latn": "pt", "deu_Latn": "de", "fra_Latn": "fr"}


@pytest.fixture(scope="module")
def sentences(shared_data: Path) -> dict[str, list[str]]:
    by: dict[str, list[str]] = defaultdict(list)
    with open(shared_data / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            by[rec["iso639_1"]].append(rec["text"])
    return by


@pytest.fixture(scope="module")
def results(sentences: dict[str, list[str]]) -> dict[str, CalibrationResult]:
    return {key: calibrate(key, documents_from_sentences(sentences[code], seed=1, documents=300))
            for key, code in LANGS.items()}


@pytest.mark.parametrize("key", sorted(LANGS))
def test_stopwords_overlap_fineweb2(results: dict[str, CalibrationResult], key: str) -> None:
    ours = results[key].values["stopwords"]
    theirs = load_language_table().get(key).stopwords
    assert 8 <= len(ours) <= 63
    assert len(set(ours) & set(theirs)) >= 0.5 * len(theirs), (ours, theirs)
    assert not any(ch.isdigit() for w in ours for ch in w)


@pytest.mark.parametrize("key", sorted(LANGS))
def test_values_in_fineweb2_range(results: dict[str, CalibrationResult], key: str) -> None:
    v = results[key].values
    fw = load_language_table().get(key)
    assert abs(v["max_avg_word_length"] - fw.max_avg_word_length) <= 2
    if fw.min_avg_word_length > 0:  # deu_Latn has the rule off (0); ours is on
        assert abs(v["min_avg_word_length"] - fw.min_avg_word_length) <= 2
    assert v["min_avg_word_length"] < v["max_avg_word_length"]
    for fld in ("dup_line_frac", "new_line_ratio", "max_non_alpha_words_ratio"):
        assert 0 < v[fld] < 1, fld
    assert abs(v["max_non_alpha_words_ratio"] - fw.max_non_alpha_words_ratio) <= 0.1
    assert v["line_punct_thr"] == -1 or 0 < v["line_punct_thr"] < 1
    assert 0.3 <= v["language_score"] <= 0.9
    for fld in ("top_n_grams", "dup_n_grams"):
        ns = [n for n, _ in v[fld]]
        fracs = [f for _, f in v[fld]]
        assert ns == [n for n, _ in getattr(fw, fld)]
        assert all(0 < f < 1 for f in fracs)
        assert fracs == sorted(fracs, reverse=True), (fld, fracs)  # non-increasing in n, as FineWeb2's
        for ours, (_, theirs) in zip(fracs, getattr(fw, fld), strict=True):
            assert theirs / 2.5 <= ours <= theirs * 2.5, (fld, fracs, getattr(fw, fld))


def test_yaml_loads_into_table_and_filters_use_it(results: dict[str, CalibrationResult]) -> None:
    res = results["por_Latn"]
    loaded = YAML(typ="safe").load(format_yaml(res, ["report line"]))
    assert loaded == json.loads(json.dumps(res.overrides()))
    table = load_language_table().with_overrides(loaded)
    cfg = table.get("por_Latn")
    assert cfg.stopwords == tuple(res.values["stopwords"])
    assert cfg.top_n_grams == tuple(tuple(p) for p in res.values["top_n_grams"])
    assert cfg.source["stopwords"] == "override:yaml"
    p = GopherQualityFilter().params(cfg)
    assert p.stop_words == frozenset(res.values["stopwords"])
    assert p.max_avg_word_length == res.values["max_avg_word_length"]
    assert GopherRepetitionFilter().params(cfg).dup_n_grams == cfg.dup_n_grams
    assert FineWebQualityFilter().params(cfg).new_line_ratio == res.values["new_line_ratio"]


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="curate")
    register_calibrate_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_made_up_language_end_to_end(sentences: dict[str, list[str]], tmp_path: Path, capsys) -> None:
    # Swahili text under a key no table row or lid.176 label has: thresholds from the text alone
    docs = documents_from_sentences(sentences["sw"], seed=2, documents=120)
    ref = tmp_path / "ref.txt"
    ref.write_text("\n\n".join(docs) + "\n", encoding="utf-8")
    assert list(iter_reference_documents([str(ref)])) == docs  # blank-line separated blocks round-trip
    out = tmp_path / "xyz.yml"
    assert _run_cli(["calibrate", "--lang", "xyz_Latn", "--reference", str(ref), "--out", str(out)]) == 0
    report = capsys.readouterr().out
    assert "120 reference documents" in report and "language_score: table value kept" in report
    overrides = YAML(typ="safe").load(out.read_text(encoding="utf-8"))
    assert list(overrides) == ["xyz_Latn"]
    table = load_language_table().with_overrides(overrides)
    cfg = table.get("xyz_Latn")
    assert cfg.stopwords and cfg.language_score == load_language_table().get("xyz_Latn").language_score
    held_out = "\n".join(sentences["sw"][-40:])  # sentences the reference sample may not have used
    junk = "\n".join(["kitu cha kawaida bila maneno ya kawaida"] * 3 + ["zzz qqq " * 30])
    batch = pa.table({"text": [held_out, junk], "lang": ["xyz_Latn", "xyz_Latn"]})
    ctx = BlockContext(languages=table)
    keep_q, reasons_q = GopherQualityFilter().filter(batch, ctx)
    keep_r, reasons_r = GopherRepetitionFilter().filter(batch, ctx)
    assert keep_q[0] and keep_r[0], (reasons_q, reasons_r)
    assert not (keep_q[1] and keep_r[1])


def test_cli_stdout_and_errors(sentences: dict[str, list[str]], tmp_path: Path, capsys) -> None:
    ref = tmp_path / "ref.jsonl"
    docs = documents_from_sentences(sentences["it"], seed=3, documents=40)
    ref.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs), encoding="utf-8")
    assert _run_cli(["calibrate", "--lang", "it", "--reference", str(ref), "--no-language-score"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# calibrated ita_Latn from 40 reference documents")
    assert "ita_Latn" in YAML(typ="safe").load(text)
    assert _run_cli(["calibrate", "--lang", "it", "--reference", str(tmp_path / "missing.txt")]) == 1
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(CalibrationError, match="at least"):
        calibrate("ita_Latn", docs[:5])


def test_english_reference_anchor(sentences: dict[str, list[str]]) -> None:
    en = documents_from_sentences(sentences["en"], seed=0, documents=400)
    res = calibrate("por_Latn", documents_from_sentences(sentences["pt"], seed=1, documents=100), english=en,
                    language_score=False)
    assert "scale" in res.how["top_2_gram"] and res.values["language_score"] == 0.799
