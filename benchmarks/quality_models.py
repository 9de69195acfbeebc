"""Model-based quality blocks: held-out quality of a trained fastText classifier, and throughput of both blocks.

    .venv/bin/python benchmarks/quality_models.py [--repeats 3] [--seeds 5]

Data (shared/data/extraction): the 181 scrapinghub article-extraction-benchmark pages. Positives: the gold
``articleBody``; negatives: the boilerplate of the same pages (lines of resiliparse's full-page text,
``main_content=False``, that are not in the article; list markers stripped), as in tests/test_quality_models.py.
The classifier is trained with ``curate.quality.fasttext_training`` (one thread, seeded, 20% of each class held
out) and evaluated at score >= 0.5. Throughput: the blocks over these 362 English documents (repeated to
``--docs``), batches of 256, median of ``--repeats`` timed runs after a warm-up; the KenLM model is a trigram
ARPA built with ``curate.quality.arpa_builder`` from 900 English lingua sentences (shared/data/langid).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from _results import RunInfo, md_table, median, require_shared, write_section

from curate.blocks.base import BlockContext
from curate.quality.arpa_builder import build_arpa
from curate.quality.ccnet_normalize import normalize
from curate.quality.fasttext_build import fasttext_build, installed_fasttext_distributions
from curate.quality.fasttext_quality import FastTextQualityFilter
from curate.quality.kenlm_model import kenlm_available
from curate.quality.kenlm_perplexity import KenLMPerplexity
from curate.quality.perplexity_scorer import PerplexityScorer

MARKERS = re.compile(r"^[\s•·\-–—*|>»›]+")
SMALL_DATA = {"epoch": 25, "lr": 0.5, "bucket": 100_000}
BATCH = 256


def article_pairs() -> tuple[list[str], list[str]]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    from resiliparse.parse.html import HTMLTree

    gold = {}
    with open(require_shared("extraction", "scrapinghub_aeb_gold.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            gold[rec["record_id"]] = rec["articleBody"]
    positives, negatives = [], []
    with open(require_shared("extraction", "scrapinghub_aeb_pages.warc.gz"), "rb") as fh:
        for rec in ArchiveIterator(fh, record_types=WarcRecordType.response):
            article = gold.get(rec.record_id)
            if article is None:
                continue
            body = rec.reader.read()
            if body.startswith(b"HTTP/"):
                body = body[body.find(b"\r\n\r\n") + 4:]
            full = extract_plain_text(HTMLTree.parse(bytes_to_str(body, detect_encoding(body))), main_content=False)
            flat_article = " ".join(article.split())
            article_lines = {" ".join(x.split()) for x in article.splitlines() if x.strip()}
            boiler = [MARKERS.sub("", line) for line in full.splitlines()
                      if " ".join(line.split()) and " ".join(line.split()) not in article_lines
                      and " ".join(line.split()) not in flat_article]
            positives.append(article)
            negatives.append("\n".join(b for b in boiler if b.strip()))
    return positives, [n for n in negatives if n.strip()]


def english_sentences() -> list[str]:
    with open(require_shared("langid", "lingua_sentences.jsonl"), encoding="utf-8") as fh:
        return [rec["text"] for rec in map(json.loads, fh) if rec["iso639_1"] == "en"][:1000]


def timed_docs_per_s(block, table: pa.Table, repeats: int) -> float:
    ctx = BlockContext()
    batches = [table.slice(i, BATCH) for i in range(0, table.num_rows, BATCH)]
    block.process(batches[0], ctx)  # warm-up: model and tokenizer loading
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for batch in batches:
            block.process(batch, ctx)
        times.append(time.perf_counter() - t0)
    return table.num_rows / median(times)


def classifier_section(pos: list[str], neg: list[str], seeds: int, workdir: str) -> tuple[str, str | None]:
    from curate.quality.fasttext_training import train_quality_classifier

    rows = []
    results = []
    model_path = None
    for seed in range(1, seeds + 1):
        out = os.path.join(workdir, f"clf_seed{seed}.bin")
        r = train_quality_classifier(pos, neg, out, "eng_Latn", seed=seed, valid_fraction=0.2, **SMALL_DATA)
        results.append(r)
        model_path = model_path or out
        rows.append([seed, f"{r.precision:.3f}", f"{r.recall:.3f}", f"{r.f1:.3f}", f"{r.accuracy:.3f}",
                     f"{r.auc:.3f}", f"{r.seconds:.1f}"])
    mean = [statistics.mean(getattr(r, k) for r in results) for k in ("precision", "recall", "f1", "accuracy", "auc")]
    rows.append(["mean", *(f"{m:.3f}" for m in mean), ""])
    dclm = train_quality_classifier(pos, neg, os.path.join(workdir, "clf_dclm.bin"), "eng_Latn", seed=1,
                                    valid_fraction=0.2, bucket=100_000)
    rows.append(["DCLM defaults (seed 1)", f"{dclm.precision:.3f}", f"{dclm.recall:.3f}", f"{dclm.f1:.3f}",
                 f"{dclm.accuracy:.3f}", f"{dclm.auc:.3f}", f"{dclm.seconds:.1f}"])
    held = results[0].heldout_counts
    text = "\n".join([
        f"Held-out split: {held['positive']} articles + {held['negative']} boilerplate pages per seed (20% of each "
        f"class); training on the other {results[0].train_counts['positive']} + {results[0].train_counts['negative']}. "
        f"Settings: wordNgrams 2, dim 100, minCount 1 (DCLM) with epoch 25, lr 0.5, bucket 100k; one thread. "
        "Chance: F1 0.5, AUC 0.5 (all-positive: F1 0.67).",
        "",
        md_table(["seed", "precision", "recall", "F1", "accuracy", "ROC AUC", "train s"], rows),
        "",
        f"DCLM's own defaults (epoch 5, lr 0.1) are made for ~200k documents per class: here the held-out scores "
        f"stay at 0.5 (std {dclm.heldout_score_std:.3f}) and `train-quality` prints its undertraining warning.",
    ])
    return text, model_path


def kenlm_section(docs: pa.Table, repeats: int, workdir: str) -> str:
    sents = english_sentences()
    tok = PerplexityScorer("unused", tokenizer="spacy:en")
    arpa = os.path.join(workdir, "en3.arpa")
    Path(arpa).write_text(build_arpa([line.split() for s in sents[:900] for line in tok.token_lines(s)], 3),
                          encoding="utf-8")
    configs = []
    if kenlm_available():
        configs += [("kenlm, tokenizer spacy:en (default: language table)", {"backend": "kenlm"}),
                    ("kenlm, tokenizer none (whitespace)", {"backend": "kenlm", "tokenizer": "none"}),
                    ("kenlm, whole document (per_line: false)", {"backend": "kenlm", "per_line": False})]
    configs.append(("pure-Python ARPA scorer, spacy:en", {"backend": "python"}))
    rows = []
    for name, kw in configs:
        block = KenLMPerplexity(models={"eng_Latn": arpa}, **kw)
        rows.append([name, f"{timed_docs_per_s(block, docs, repeats):,.0f}"])
    # where the time goes (default configuration), one pass over the documents
    texts = docs.column("text").to_pylist()
    scorer = PerplexityScorer(arpa, tokenizer="spacy:en", backend="kenlm" if kenlm_available() else "python")
    t0 = time.perf_counter()
    normed = [[normalize(line) for line in t.splitlines()] for t in texts]
    t1 = time.perf_counter()
    lines = [scorer.token_lines(t) for t in texts]
    t2 = time.perf_counter()
    model = scorer.model
    for doc in lines:
        for line in doc:
            model.score(line)
    t3 = time.perf_counter()
    n = len(texts)
    del normed
    breakdown = (f"Per document (default configuration): CCNet normalisation {1e3 * (t1 - t0) / n:.2f} ms, "
                 f"normalisation + spaCy tokenisation {1e3 * (t2 - t1) / n:.2f} ms, KenLM scoring "
                 f"{1e3 * (t3 - t2) / n:.3f} ms.")
    return "\n".join([md_table(["kenlm_perplexity configuration", "docs/s"], rows), "", breakdown])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--docs", type=int, default=2000, help="documents per throughput run (the 362 repeated)")
    args = parser.parse_args()
    info = RunInfo(["fasttext-numpy2-wheel", "fasttext-predict", "kenlm", "numpy", "pyarrow"])

    pos, neg = article_pairs()
    base = pos + neg
    texts = (base * (args.docs // len(base) + 1))[: args.docs]
    docs = pa.table({"text": texts, "lang": ["eng_Latn"] * len(texts)})
    words = statistics.median(len(t.split()) for t in base)
    build = fasttext_build()
    parts = [
        f"{info.line()} fastText: {build} build "
        f"({', '.join(f'{k} {v}' for k, v in installed_fasttext_distributions().items())}); kenlm "
        f"{'installed' if kenlm_available() else 'not installed'}. Documents: {len(pos)} articles + {len(neg)} "
        f"boilerplate pages (median {words:.0f} words), {len(texts)} per throughput run, one process.",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="quality-bench-") as workdir:
        parts.append("### fastText quality classifier (train-quality, held out)")
        if build == "full":
            text, model = classifier_section(pos, neg, args.seeds, workdir)
            parts += [text, "", "### fasttext_quality block throughput"]
            rows = []
            for mode in ("filter", "bucket"):
                block = FastTextQualityFilter(models={"eng_Latn": model}, mode=mode)
                rows.append([mode, f"{timed_docs_per_s(block, docs, args.repeats):,.0f}"])
            parts += [md_table(["mode", "docs/s"], rows), "",
                      "One C++ `predict` call per document (k = all labels), grouped by language; the model "
                      "(100k buckets x dim 100, 40 MB) is loaded once per process."]
        else:
            parts.append("Skipped: `import fasttext` is the predict-only build; install the full build "
                         "(`pip install --no-deps --force-reinstall fasttext-numpy2-wheel`) to train.")
        parts += ["", "### kenlm_perplexity block throughput", kenlm_section(docs, args.repeats, workdir)]
    markdown = "## Model-based quality (fastText classifier, KenLM perplexity)\n\n" + "\n".join(parts)
    write_section("quality_models", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
