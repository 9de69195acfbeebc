"""Accuracy and throughput of curate's language-ID block (fastText lid.176.ftz, labels normalised to xxx_Scrp).

    .venv/bin/python benchmarks/langid_accuracy.py [--repeats 3] [--batch-size 1000]

Data (shared/data/langid):
- ``lingua_sentences.jsonl``: 74,141 sentences of 75 languages (lingua-rs test data, Leipzig corpora), gold ISO 639-1;
- ``cld2_unittest_strings.jsonl``: 201 short strings of ~165 languages from CLD2's unit tests (second table).

Two configurations of the ``langid`` block: lid.176 alone (``second_opinion: none``) and the block's defaults
(lid.176, with the rows it scores below ``second_opinion_below`` shown to CLD2), when the block has that setting.

Like with like: the gold code goes through the same ``normalize_label`` as the model's labels (``ms`` and
lid.176's ``ms`` both become ``zsm_Latn``, ``nb`` and lid.176's ``no`` both ``nob_Latn``, ``fa`` -> ``fas_Arab``,
``zh`` -> ``cmn_Hani``, ...). A prediction is correct when its ISO 639-3 part equals the gold's (the script part
is ignored: a Serbian sentence in Latin script predicted ``srp_Cyrl`` counts as right). Languages lid.176 cannot
output at all (its 176 labels normalised) are listed and also reported apart ("covered").
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from collections import Counter, defaultdict
from typing import Any

import pyarrow as pa
from _results import machine_line, md_table, median, require_shared, write_section

from curate.blocks.base import BlockContext
from curate.langid.fasttext_model import load_fasttext, packaged_lid176_path
from curate.langid.langid_block import LanguageId
from curate.languages.labels import lid176_labels, normalize_label

# lid.176 labels that stay a macrolanguage after normalisation, with the member languages lingua/CLD2 use
MACRO_MEMBERS: dict[str, set[str]] = {"hbs": {"bos", "hrv", "srp", "cnr"}}


def configurations() -> dict[str, dict[str, Any]]:
    """Block settings to evaluate: lid.176 alone, and the defaults when they differ from it."""
    if "second_opinion" not in inspect.signature(LanguageId).parameters:
        return {"lid.176": {}}
    default = LanguageId().second_opinion  # resolved ("auto" -> the backend it picks)
    if default == "none":
        return {"lid.176 (default)": {}}
    below = inspect.signature(LanguageId).parameters["second_opinion_below"].default
    return {"lid.176 only": {"second_opinion": "none"},
            f"default: lid.176 + {default} below {below}": {}}


def iso3(key: str) -> str:
    return key.split("_", 1)[0]


def macro_ok(pred: str, gold: str) -> bool:
    """Right, or the macrolanguage that contains the gold language (lid.176's ``sh`` for a Croatian sentence)."""
    return iso3(pred) == iso3(gold) or iso3(gold) in MACRO_MEMBERS.get(iso3(pred), ())


def covered_codes() -> set[str]:
    """ISO 639-3 codes lid.176 can predict, after normalisation."""
    return {iso3(normalize_label(label)) for label in lid176_labels()}


def predict(texts: list[str], batch_size: int, settings: dict[str, Any]) -> list[str]:
    """Run the ``langid`` block over ``texts`` in batches, as the pipeline does; returns the ``lang`` keys."""
    block = LanguageId(**settings)
    ctx = BlockContext()
    out: list[str] = []
    for i in range(0, len(texts), batch_size):
        table = pa.table({"text": pa.array(texts[i:i + batch_size], pa.string())})
        out.extend(block.process(table, ctx).table.column("lang").to_pylist())
    return out


def timed_predict(texts: list[str], batch_size: int, settings: dict[str, Any],
                  repeats: int) -> tuple[list[str], float]:
    """Predictions and the median CPU seconds of ``repeats`` passes (after an untimed pass that loads models)."""
    preds = predict(texts, batch_size, settings)
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        predict(texts, batch_size, settings)
        times.append(time.process_time() - t0)
    return preds, median(times)


def time_raw_model(texts: list[str], repeats: int) -> float:
    """Floor: the bare C++ predict call per line (top-3), no Arrow, no label normalisation."""
    model = load_fasttext(packaged_lid176_path())
    lines = [" ".join(t.split()) + "\n" for t in texts]
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        for line in lines:
            model.predict(line, 3, 0.0, "replace")
        times.append(time.process_time() - t0)
    return median(times)


def lingua_section(batch_size: int, repeats: int) -> str:
    with open(require_shared("langid", "lingua_sentences.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    texts = [r["text"] for r in rows]
    golds = [normalize_label(r["iso639_1"]) for r in rows]
    code_of = {g: r["iso639_1"] for g, r in zip(golds, rows, strict=True)}
    covered = covered_codes()
    n = len(rows)
    chars = sum(len(t) for t in texts)

    summary_rows: list[list[object]] = []
    speed_rows: list[list[object]] = []
    per_lang_acc: dict[str, dict[str, float]] = defaultdict(dict)
    confusions: dict[str, Counter[str]] = defaultdict(Counter)
    configs = configurations()
    last = list(configs)[-1]
    for name, settings in configs.items():
        preds, seconds = timed_predict(texts, batch_size, settings, repeats)
        per_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # gold key -> [correct, total]
        lenient = 0
        for gold, pred in zip(golds, preds, strict=True):
            ok = iso3(pred) == iso3(gold)
            per_lang[gold][0] += ok
            per_lang[gold][1] += 1
            lenient += macro_ok(pred, gold)
            if not ok and name == last:
                confusions[gold][pred] += 1
        correct = sum(c for c, _ in per_lang.values())
        cov = {g: ct for g, ct in per_lang.items() if iso3(g) in covered}
        cov_correct, cov_total = sum(c for c, _ in cov.values()), sum(t for _, t in cov.values())
        unc = {g: ct for g, ct in per_lang.items() if iso3(g) not in covered}
        unc_correct, unc_total = sum(c for c, _ in unc.values()), sum(t for _, t in unc.values())
        summary_rows.append([
            name, f"{correct / n:.4f}", f"{sum(c / t for c, t in per_lang.values()) / len(per_lang):.4f}",
            f"{lenient / n:.4f}", f"{cov_correct / cov_total:.4f}",
            f"{sum(c / t for c, t in cov.values()) / len(cov):.4f}",
            f"{unc_correct / unc_total:.4f}" if unc_total else "-",
        ])
        for g, (c, t) in per_lang.items():
            per_lang_acc[g][name] = c / t
        speed_rows.append([f"`langid` block, {name} (batches of {batch_size}, top-3, labels normalised, Arrow)",
                           f"{n / seconds:,.0f}", f"{seconds / n * 1e6:.1f}", f"{chars / seconds:,.0f}"])
    t_raw = time_raw_model(texts, repeats)
    speed_rows.append(["bare fastText predict per line (floor)", f"{n / t_raw:,.0f}", f"{t_raw / n * 1e6:.1f}",
                       f"{chars / t_raw:,.0f}"])

    uncovered = sorted(code_of[g] for g in per_lang_acc if iso3(g) not in covered)
    table_rows = []
    for gold, accs in sorted(per_lang_acc.items(), key=lambda kv: (kv[1][last], kv[0])):
        top_wrong = ", ".join(f"{k} {v}" for k, v in confusions[gold].most_common(3))
        note = "" if iso3(gold) in covered else "no lid.176 label"
        table_rows.append([code_of[gold], gold] + [f"{accs[c]:.3f}" for c in configs] + [top_wrong or "-", note])
    per_lang_table = md_table(["gold", "key", *configs, f"top confusions ({last})", "note"], table_rows)
    summary = md_table(["configuration", "accuracy, all 75 (micro)", "all 75 (macro)", "all 75, hbs = bs/hr/sr",
                        f"{len(covered & {iso3(g) for g in golds})} lid.176 languages (micro)",
                        "lid.176 languages (macro)", f"{len(uncovered)} others (micro)"], summary_rows)
    speed = md_table(["what", "sentences/s", "µs/sentence", "chars/s"], speed_rows)
    print(summary, speed, sep="\n\n")
    return "\n".join([
        f"### lingua sentences ({n:,} sentences, {len(per_lang_acc)} languages)",
        "",
        summary,
        "",
        f"Languages lid.176 has no label for: {', '.join(uncovered)}. *hbs = bs/hr/sr*: lid.176's `sh` "
        "(Serbo-Croatian, kept as the macrolanguage `hbs_Latn`) also counted right for Bosnian, Croatian and "
        "Serbian sentences.",
        "",
        speed,
        "",
        f"Mean sentence length {chars / n:.0f} chars (short: real documents score higher and fewer of them go to "
        f"a second opinion); CPU time of one thread (= wall time on an idle core), median of {repeats} passes "
        f"after one untimed pass; {machine_line()}.",
        "",
        "<details><summary>Per language, worst first</summary>",
        "",
        per_lang_table,
        "",
        "</details>",
    ])


def cld2_section(batch_size: int) -> str:
    with open(require_shared("langid", "cld2_unittest_strings.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    covered = covered_codes()
    golds = [normalize_label(r["cld2_code"], r.get("script")) for r in rows]
    table_rows = []
    misses_last: list[str] = []
    configs = configurations()
    for name, settings in configs.items():
        preds = predict([r["text"] for r in rows], batch_size, settings)
        n_cov = ok_cov = n_unc = ok_unc = 0
        misses: list[str] = []
        for r, gold, pred in zip(rows, golds, preds, strict=True):
            ok = iso3(pred) == iso3(gold)
            if iso3(gold) in covered:
                n_cov += 1
                ok_cov += ok
                if not ok:
                    misses.append(f"{r['cld2_code']}/{r.get('script')}→{pred}")
            elif not gold.startswith("und"):
                n_unc += 1
                ok_unc += ok
        table_rows.append([name, len(rows), f"{ok_cov}/{n_cov} = {ok_cov / n_cov:.3f}",
                           f"{ok_unc}/{n_unc} = {ok_unc / n_unc:.3f}"])
        misses_last = misses
    summary = md_table(["configuration", "strings", "lid.176 languages: correct", "other languages: correct"],
                       table_rows)
    print(summary)
    return "\n".join([
        "### CLD2 unit-test strings (201 short strings, ~165 languages)",
        "",
        "Gold = `normalize_label(cld2_code, script)`; strings whose gold does not normalise to a language (`und`) "
        "are left out. These strings come from CLD2's own tests: CLD2 as second opinion is favoured here.",
        "",
        summary,
        "",
        f"Misses on lid.176 languages ({list(configs)[-1]}; gold code/script → prediction): "
        f"{', '.join(misses_last) or 'none'}.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timing passes (median)")
    parser.add_argument("--batch-size", type=int, default=1000, help="rows per Arrow batch given to the block")
    args = parser.parse_args()
    load_fasttext(packaged_lid176_path())  # load once, outside the timings
    body = "\n".join([
        "## Language ID accuracy (lid.176.ftz through curate's `langid` block)",
        "",
        "`.venv/bin/python benchmarks/langid_accuracy.py` — gold ISO 639-1 codes and the predicted labels both go "
        "through `curate.languages.labels.normalize_label`; a prediction is right when the ISO 639-3 part of the "
        "two keys is equal (script ignored), so macrolanguage choices (ms/zsm, fa/fas, sw/swh, et/ekk, lv/lvs, "
        "nb+no/nob, zh/cmn, ar/arb, mn/khk, az/azj) compare like with like. Top-1, no score threshold.",
        "",
        lingua_section(args.batch_size, args.repeats),
        "",
        cld2_section(args.batch_size),
    ])
    write_section("langid_accuracy", body)


if __name__ == "__main__":
    main()
