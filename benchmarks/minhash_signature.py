"""MinHash signature cost per document, curate against datatrove, on real distinct text; the spaCy memo's gain.

    .venv/bin/python benchmarks/minhash_signature.py [--repeats 5]

Text: every sentence of shared/data/langid/lingua_sentences.jsonl used once (75 languages, grouped 10 per
document) plus the scrapinghub gold article bodies: no sentence repeats, so neither tool gains from
repetition. Shingles: curate's word 5-grams (normalised, whitespace tokens, xxh64) computed once; then, on
the *same* uint64 arrays, in the same process and interleaved (``--repeats`` rounds, median):

- datatrove: ``MinhashDedupSignature.get_signature`` (FineWeb2 config: 14 x 8 = 112 hashes, 64-bit), one call
  per document, as its signature stage does (datatrove is installed in curate's venv by the ``datatrove`` extra);
- curate: ``MinHasher.signatures`` over the step's 2048-document batches.

Both give the same 112 values per document (checked here on every document). Second table, English only
(gold articles + lingua's English sentences, 10 per document): CPU ms per document of curate's
``tokenizer: language`` shingling (spaCy English) with its per-chunk memo as a stage runs it (warm after the
first documents), against the memo emptied before every document (``curate.tokenizers.reset_caches``).
(datatrove's own shingling is timed by dedup_speed.py in its venv: in curate's venv its xxhash call fails on
xxhash 4, which wants bytes.) CPU time (``time.process_time``) throughout: the
machine may be shared; the load average is recorded.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from importlib.metadata import version

import numpy as np
from _dedup_common import gold_articles, lingua_sentences
from _results import figures_comment, machine_line, md_table, median, write_section

from curate.dedup.minhash import MinHasher
from curate.dedup.minhash_block import MinHashKeyer
from curate.dedup.shingles import Shingler
from curate.tokenizers import reset_caches

BATCH = 2048  # MinHashDedup(batch_size=2048)


def distinct_texts(langs: set[str] | None = None) -> list[str]:
    texts = list(gold_articles())
    for lang, sents in lingua_sentences().items():
        if langs is None or lang in langs:
            texts += [" ".join(sents[i:i + 10]) for i in range(0, len(sents), 10)]
    return texts


def cpu(fn) -> float:  # noqa: ANN001 - any zero-argument callable
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.utils.hashing import HashConfig

    load = [os.getloadavg()[0]]
    texts = distinct_texts()
    hashes = [h for h in map(Shingler(), texts) if len(h)]
    n, shingles = len(hashes), sum(len(h) for h in hashes)
    column = [h.reshape(-1, 1) for h in hashes]  # datatrove's shingle layout (N, 1)
    tmp = tempfile.mkdtemp(prefix="minhash-signature-")
    dt = MinhashDedupSignature(tmp, config=MinhashConfig(hash_config=HashConfig(precision=64)))
    mh = MinHasher(num_perm=112, seed=1)
    ours = mh.signatures(hashes)
    for row, h in zip(ours, column, strict=True):
        assert (np.array(dt.get_signature(h), dtype=np.uint64).reshape(-1) == row).all()

    dt_s: list[float] = []
    cu_s: list[float] = []
    for _ in range(args.repeats):
        dt_s.append(cpu(lambda: [dt.get_signature(h) for h in column]))
        cu_s.append(cpu(lambda: [mh.signatures(hashes[i:i + BATCH]) for i in range(0, n, BATCH)]))
    load.append(os.getloadavg()[0])
    dt_ms, cu_ms = median(dt_s) / n * 1e3, median(cu_s) / n * 1e3
    sig_table = md_table(
        ["tool", "documents", "shingles/doc", "CPU ms/doc", "CPU ns/shingle", "vs datatrove"],
        [["datatrove `get_signature` (per document)", f"{n:,}", f"{shingles / n:.0f}", f"{dt_ms:.4f}",
          f"{median(dt_s) / shingles * 1e9:.0f}", "1.0x"],
         [f"curate `MinHasher.signatures` ({BATCH}-doc batches)", f"{n:,}", f"{shingles / n:.0f}",
          f"{cu_ms:.4f}", f"{median(cu_s) / shingles * 1e9:.0f}", f"{dt_ms / cu_ms:.1f}x"]])

    # the spaCy memo, English only
    en = distinct_texts({"en"})
    keyer = MinHashKeyer(num_perm=112, bands=14, rows=8, ngram=5, seed=1, tokenizer="language")
    shingle = keyer.shingler("eng_Latn")
    shingle(en[0])  # loads spaCy English and the normalisation table

    def cold() -> None:
        for t in en:
            reset_caches()
            shingle(t)

    def warm() -> None:
        reset_caches()
        for t in en:
            shingle(t)

    sh: dict[str, list[float]] = {"warm": [], "cold": []}
    for _ in range(args.repeats):
        sh["warm"].append(cpu(warm))
        sh["cold"].append(cpu(cold))
    load.append(os.getloadavg()[0])
    ms = {k: median(v) / len(en) * 1e3 for k, v in sh.items()}
    memo_table = md_table(
        ["shingling (normalise + words + xxh64 5-grams), spaCy English", "documents", "CPU ms/doc"],
        [["curate `tokenizer: language`, memo emptied before every document", len(en), f"{ms['cold']:.3f}"],
         ["curate `tokenizer: language`, memo kept (as in a stage)", len(en), f"{ms['warm']:.3f}"],
         ["memo's gain", "", f"{ms['cold'] / ms['warm']:.2f}x"]])
    print(sig_table, memo_table, sep="\n\n")
    write_section("minhash_signature", "\n".join([
        "## MinHash signature per document: curate vs datatrove, real distinct text",
        "",
        "`.venv/bin/python benchmarks/minhash_signature.py` — every lingua sentence used once (75 languages, 10 "
        "per document) plus the scrapinghub gold article bodies: no repeated sentence. The same uint64 shingle "
        "arrays go to both tools, in one process, interleaved, median of "
        f"{args.repeats} rounds; both give the same 112 values for every document (checked in the run).",
        f"Versions: datatrove {version('datatrove')}, numpy {version('numpy')} (one venv for both), "
        f"spaCy {version('spacy')}; 1-min load average {min(load):.2f}-{max(load):.2f}; {machine_line()}.",
        "",
        sig_table,
        "",
        "Both compute FineWeb2's permutations `((a*x + b) mod 2^64) mod (2^61 - 1)` with datatrove's parameters "
        "(`np.random.RandomState(1)`); datatrove with numpy's `%` (a 64-bit division per value) on one "
        "document at a time, curate with a Mersenne fold (shift, mask, add, one conditional subtract) on "
        "256-shingle chunks across documents, then `np.minimum.reduceat` per document.",
        "",
        "The spaCy memo's gain, English documents only (the gold articles and lingua's English sentences, "
        "10 per document):",
        "",
        memo_table,
        "",
        "CPU time (`time.process_time`) throughout, since the machine may be shared. datatrove's shingling "
        "(spaCy per document, no memo) is in the dedup_speed section, run in its own venv. The memo keeps spaCy's "
        "tokens per whitespace chunk (`curate/tokenizers/spacy_tokenizer.py`): on distinct text it can only "
        "gain from words recurring across documents (the last row: ~1x means no measurable gain); it pays on "
        "repeated text, such as dedup_speed's corpus of recombined sentences.",
        "",
        figures_comment({"signature_speed": round(dt_ms / cu_ms, 1), "datatrove_ms": round(dt_ms, 4),
                         "curate_ms": round(cu_ms, 4), "memo_gain": round(ms["cold"] / ms["warm"], 2)}),
    ]))


if __name__ == "__main__":
    main()
