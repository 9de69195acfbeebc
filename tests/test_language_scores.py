"""Per-model language_score thresholds: FineWeb2's rule, the shipped lid.176 set, the pipeline's choice, and
``curate calibrate langid`` on a real run's output."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from pipeline_helpers import REPO, run_cli, write_pipeline

from curate.langid.langid_block import LanguageId
from curate.langid.language_scores import language_overrides, load_score_set
from curate.langid.score_calibration import ScoreHistogram, fineweb2_threshold
from curate.languages.labels import lid176_labels, model_keys, normalize_label
from curate.languages.table import load_language_table


def test_fineweb2_rule_and_histogram_match_numpy() -> None:
    rng = np.random.default_rng(3)
    sure, spread = rng.beta(20, 2, 2000), rng.uniform(0, 1, 400)
    hist = ScoreHistogram()
    langs = ["deu_Latn"] * 2000 + ["hrv_Latn"] * 400 + ["xyz_Latn"] * 5
    hist.add(langs[:1000], sure[:1000])
    hist.add(langs[1000:], np.concatenate([sure[1000:], spread, [0.5] * 5]))
    got = {s.key: s for s in hist.stats(min_documents=30)}
    assert set(got) == {"deu_Latn", "hrv_Latn"}  # 5 documents are too few
    for key, values in (("deu_Latn", sure), ("hrv_Latn", spread)):
        assert got[key].documents == len(values)
        assert got[key].median == pytest.approx(np.median(values), abs=0.002)
        assert got[key].std == pytest.approx(values.std(), abs=1e-4)
        assert got[key].threshold == pytest.approx(max(0.3, min(0.9, np.median(values) - values.std())), abs=0.002)
    assert fineweb2_threshold(0.99, 0.01) == 0.9 and fineweb2_threshold(0.5, 0.4) == 0.3


def test_lid176_set_covers_what_lid176_can_emit() -> None:
    lid = load_score_set("lid176")
    emitted = model_keys(lid176_labels())
    assert {"srp_Latn", "srp_Cyrl", "uzn_Cyrl", "ckb_Arab", "pnb_Arab"} <= set(emitted)
    assert set(emitted) <= set(lid.scores)
    assert all(0.3 <= v <= 0.9 for v in lid.scores.values())
    # lid.176 is less sure than GlotLID between close relatives: lower bars there than FineWeb2's
    table = load_language_table()
    assert lid.scores["hrv_Latn"] < table.get("hrv_Latn").language_score
    assert lid.scores[normalize_label("de")] != table.get("deu_Latn").language_score


def test_pipeline_uses_the_set_of_its_model(tmp_path: Path) -> None:
    lid = load_score_set("lid176")
    assert language_overrides([LanguageId()], {})["srp_Latn"] == {"language_score": lid.scores["srp_Latn"]}
    assert language_overrides([LanguageId(model=str(tmp_path / "glotlid.bin"))], {}) == {}  # FineWeb2's own
    assert language_overrides([LanguageId(language_scores="fineweb2")], {}) == {}
    mine = language_overrides([LanguageId()], {"srp_Latn": {"language_score": 0.42, "dup_line_frac": 0.2}})
    assert mine["srp_Latn"] == {"language_score": 0.42, "dup_line_frac": 0.2}  # the user's overrides win
    assert language_overrides([], {"x_Latn": {"stopwords": []}}) == {"x_Latn": {"stopwords": []}}
    with pytest.raises(ValueError, match="language_scores"):
        LanguageId(language_scores="glotlid-v9")


def _scores_of(out: Path) -> list[tuple[str, float, str, str]]:
    """(lang, lang_score, lang_model, drop_reason) of every scored row, kept and removed, read back."""
    rows = []
    for path in sorted(out.rglob("*.parquet")):
        if {"_markers", "_stats", "_work"} & set(path.relative_to(out).parts):
            continue
        table = pq.read_table(path)
        if "lang_score" not in table.column_names:
            continue
        n = table.num_rows
        model = table.column("lang_model").to_pylist() if "lang_model" in table.column_names else ["fasttext"] * n
        reasons = table.column("drop_reason").to_pylist() if "drop_reason" in table.column_names else [""] * n
        rows += list(zip(table.column("lang").to_pylist(), table.column("lang_score").to_pylist(), model,
                         [r or "" for r in reasons], strict=True))
    return rows


@pytest.mark.slow
def test_run_applies_the_thresholds_of_its_model_and_calibrate_reads_them_back(tmp_path: Path) -> None:
    table = load_language_table()
    runs = {}
    for name in ("lid176", "fineweb2"):
        steps = [{"extract": {"engine": "trafilatura"}}, {"langid": {"language_scores": name}}, {"language_score": {}}]
        cfg = write_pipeline(tmp_path / f"{name}.yaml", ["curate://samples/quickstart.warc.gz"], tmp_path / name,
                             steps, executor={"type": "local", "workers": 1})
        done = run_cli("run", str(cfg))  # own process: trafilatura's duplicate cache is per process
        assert done.returncode == 0, done.stderr[-2000:]
        scores = load_score_set(name)
        rows = _scores_of(tmp_path / name)
        kept = [r for r in rows if not r[3]]
        dropped = [r for r in rows if "language_score" in r[3]]
        assert kept and all(s >= scores.threshold(lang, table.get(lang).language_score) for lang, s, _, _ in kept)
        assert all(s < scores.threshold(lang, table.get(lang).language_score) for lang, s, _, _ in dropped)
        runs[name] = (kept, dropped)
    # lid.176's English scores spread more than GlotLID's: its bar is lower, so a page FineWeb2's bar drops stays
    assert len(runs["lid176"][1]) < len(runs["fineweb2"][1])
    assert any(lang == "eng_Latn" for lang, *_ in runs["fineweb2"][1])

    done = run_cli("calibrate", "langid", str(tmp_path / "fineweb2"), "--min-documents", "3",
                   "--out", str(tmp_path / "scores.yml"))
    assert done.returncode == 0, done.stderr
    derived = yaml.safe_load((tmp_path / "scores.yml").read_text())
    by_lang: dict[str, list[float]] = {}
    for lang, score, model, _ in runs["fineweb2"][0] + runs["fineweb2"][1]:  # removed rows count too
        if model == "fasttext":
            by_lang.setdefault(lang, []).append(score)
    expected = {k: max(0.3, min(0.9, float(np.median(v)) - float(np.std(v)))) for k, v in by_lang.items()
                if len(v) >= 3 and not k.startswith("und")}
    assert expected and set(derived) == set(expected)
    for key, value in expected.items():
        assert derived[key]["language_score"] == pytest.approx(value, abs=0.003), key
    bad = run_cli("calibrate", "langid", str(tmp_path / "nothing-here"))
    assert bad.returncode == 1 and "not a folder" in bad.stderr


def test_langs_model_lists_reachable_and_unreachable_keys() -> None:
    done = run_cli("langs", "--model", "lid176")
    assert done.returncode == 0, done.stderr
    head, _, tail = done.stdout.partition("\ncannot reach ")
    emitted = {line.split()[0] for line in head.splitlines()[4:] if line.strip()}
    unreachable = set(" ".join(tail.splitlines()[1:]).split())
    assert {"srp_Latn", "srp_Cyrl", "uzn_Cyrl", "ckb_Arab", "pnb_Arab", "deu_Latn"} <= emitted
    assert "mri_Latn" in unreachable and "zul_Latn" in unreachable  # lid.176 has no Māori, no Zulu
    assert not emitted & unreachable
    assert emitted | unreachable >= set(load_language_table().keys())
    assert tail.startswith(f"{len(unreachable)} table keys")


@pytest.mark.slow
def test_shipped_lid176_set_matches_a_fresh_derivation(shared_data: Path) -> None:
    script = REPO / "scripts" / "build_lid176_scores.py"
    spec = importlib.util.spec_from_file_location("build_lid176_scores", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.derive(shared_data)
    shipped = json.loads((REPO / "curate" / "langid" / "data" / "language_scores_lid176.json").read_text())
    assert fresh == shipped, "language_scores_lid176.json is stale: run scripts/build_lid176_scores.py"
