"""MinHash and exact dedup: components, blocks, sharding independence, resume after a kill."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.blocks.base import BlockContext
from curate.dedup import (
    BandHasher,
    ExactDedup,
    MinHashDedup,
    MinHasher,
    Shingler,
    TextNormalizer,
    merge_probability,
    normalize_text,
)
from curate.dedup.components import read_piece
from curate.dedup.minhash import EMPTY, MERSENNE_61
from curate.dedup.shuffle import group_edges
from curate.shuffle.workdir import Workdir

sys.path.insert(0, str(Path(__file__).parent))
from dedup_harness import decisions, run_step, split_table, write_shards  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


# -- corpus helpers ---------------------------------------------------------------------------------------
def articles(shared_data: Path) -> list[dict]:
    with open(shared_data / "extraction" / "scrapinghub_aeb_gold.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def mutate(text: str, rate: float, rng: random.Random) -> str:
    """Substitute, delete or insert words at ``rate`` per word (a controlled edit rate)."""
    out = []
    for w in text.split():
        r = rng.random()
        if r < rate / 3:
            out.append(f"edit{rng.randrange(10**6)}")
        elif r < 2 * rate / 3:
            continue
        elif r < rate:
            out.extend([w, f"ins{rng.randrange(10**6)}"])
        else:
            out.append(w)
    return " ".join(out)


def jaccard(a: str, b: str) -> float:
    sh = Shingler()
    x, y = set(sh(a).tolist()), set(sh(b).tolist())
    return len(x & y) / len(x | y) if x | y else 1.0


def table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(
        rows, schema=pa.schema([("id", pa.string()), ("text", pa.string()), ("lang", pa.string())])
    )


def fork_map(fn, items):  # a real process pool, as the local executor uses
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return pool.map(fn, items)


# -- units ------------------------------------------------------------------------------------------------
def test_normalizer_fineweb_steps():
    assert normalize_text("Héllo,  WORLD!! 2024 — Ça va?\n\tÜber") == "hello world 0000 ca va uber"
    assert normalize_text("١٢٣ ٤") == "000 0"  # digits of any script
    assert normalize_text("東京、日本。") == "東京 日本"
    assert normalize_text("") == ""
    assert TextNormalizer(digits=False)("a1") == "a1"
    assert TextNormalizer(accents=False)("é") == "é"


def test_shingles_are_word_5grams():
    sh = Shingler()
    assert len(sh("a b c d e f g")) == 3
    assert len(sh("a b")) == 1  # short document: one shingle of all its words
    assert len(sh("  ,;  ")) == 0
    assert (sh("A, b. C d E f!") == sh("a b c d e f")).all()  # normalised first
    sh2 = Shingler(tokenize=lambda s: list(s.replace(" ", "")))  # the tokenizer hook
    assert len(sh2("abcdefg")) == 3


def test_minhash_is_fineweb2s_permutation_family():
    """((a*x + b) mod 2**64) mod p with datatrove's parameters, checked in Python integers on edge values."""
    m = MinHasher(num_perm=112, seed=1)
    rng = np.random.default_rng(0)
    edge = np.array([0, 1, MERSENNE_61 - 1, MERSENNE_61, MERSENNE_61 + 1, 2**64 - 1], dtype=np.uint64)
    docs = [rng.integers(0, 2**64 - 1, size=k, dtype=np.uint64) for k in (1, 7, 600, 2000)] + [edge]
    docs.append(np.empty(0, np.uint64))
    sig = m.signatures(docs)
    assert sig.shape == (len(docs), 112)
    for d, row in zip(docs, sig, strict=True):
        if len(d) == 0:
            assert (row == EMPTY).all()
            continue
        for j in (0, 55, 111):
            a, b = int(m.a[j]), int(m.b[j])
            assert int(row[j]) == min(((a * int(x) + b) % 2**64) % MERSENNE_61 for x in d.tolist())
    # batching across documents changes nothing
    assert (np.stack([m.signature(d) for d in docs]) == sig).all()
    assert (MinHasher(seed=1).a == m.a).all() and not (MinHasher(seed=2).a == m.a).all()


def test_minhash_signatures_equal_datatroves(tmp_path, shared_data):
    """Same shingle hashes -> the same 112 values as datatrove's MinhashDedupSignature (FineWeb2 settings)."""
    pytest.importorskip("datatrove")
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.utils.hashing import HashConfig

    reference = MinhashDedupSignature(str(tmp_path), config=MinhashConfig(hash_config=HashConfig(precision=64)))
    shingle = Shingler()
    texts = [a["articleBody"] for a in articles(shared_data)[:40]]
    hashes = [shingle(t) for t in texts]
    sig = MinHasher(num_perm=112, seed=1).signatures(hashes)
    for h, row in zip(hashes, sig, strict=True):
        want = np.array(reference.get_signature(h.reshape(-1, 1)), dtype=np.uint64).reshape(-1)
        assert (want == row).all()


def test_band_keys_depend_on_language_and_band():
    sig = MinHasher().signatures([Shingler()("the same text in two languages here")])
    bh = BandHasher()
    k_en, k_fr = bh(sig, "eng_Latn"), bh(sig, "fra_Latn")
    assert k_en.shape == (1, 14, 2)
    assert not (k_en == k_fr).all(axis=-1).any()
    assert len({tuple(k) for k in k_en[0].tolist()}) == 14


def test_group_edges_stars():
    k1 = np.array([5, 5, 5, 7, 7, 9], dtype=np.uint64)
    k2 = np.array([1, 1, 1, 1, 2, 0], dtype=np.uint64)
    doc = np.array([30, 10, 20, 1, 2, 3], dtype=np.int64)
    src, dst = group_edges(k1, k2, doc)
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == [(10, 20), (10, 30)]


def test_theoretical_curve():
    assert merge_probability(0.8) == pytest.approx(0.924, abs=1e-3)
    assert merge_probability(0.5) < 0.06


# -- block behaviour ------------------------------------------------------------------------------------
def test_cs336_fuzzy_and_exact_fixtures(shared_data, tmp_path):
    root = shared_data / "dedup" / "cs336_fixtures"
    rows = []
    for folder in ("documents_with_fuzzy_duplicates", "documents_with_line_duplicates"):
        for f in sorted((root / folder).iterdir()):
            rows.append(
                {"id": f"{folder}/{f.name}", "text": f.read_text(encoding="utf-8"), "lang": "eng_Latn"}
            )
    shards = write_shards([table(rows)], tmp_path / "in")
    out, stats = run_step(MinHashDedup(), shards, tmp_path / "work")
    d = decisions(out)
    fuzzy = "documents_with_fuzzy_duplicates/"
    react, rails = d[fuzzy + "react_mit_license.txt"], d[fuzzy + "rails_mit_license.txt"]
    assert {react[0], rails[0]} == {True, False}  # the two MIT licences (Jaccard 0.92) are one cluster
    assert react[2] == rails[2] == 2 and react[3] == rails[3] == fuzzy + "rails_mit_license.txt"
    assert d[fuzzy + "pytorch_license.txt"][:3] == (True, None, 1)
    assert rails[0] and react[1] == "duplicate_of:" + fuzzy + "rails_mit_license.txt"  # smallest id kept
    line = "documents_with_line_duplicates/"
    assert d[line + "doc1.txt"][0] and d[line + "doc2.txt"][1] == "duplicate_of:" + line + "doc1.txt"
    assert sum(s * c for s, c in stats["minhash"]["eng_Latn"].items()) == len(rows)

    out, stats = run_step(ExactDedup(), shards, tmp_path / "work-exact")
    d = decisions(out, cluster_col=None)
    assert not d[line + "doc2.txt"][0] and d[line + "doc1.txt"][2] == 2
    assert d[fuzzy + "react_mit_license.txt"][0]  # near but not exact duplicates stay
    assert stats["exact_dedup"]["eng_Latn"] == {1: 6, 2: 1}


@pytest.fixture(scope="module")
def variant_corpus(shared_data):
    """Real articles + variants at controlled edit rates, with their measured Jaccard to the original."""
    rng = random.Random(7)
    rows, pairs = [], []
    arts = [a for a in articles(shared_data) if len(a["articleBody"].split()) >= 150]
    for i, a in enumerate(arts):
        base = a["articleBody"]
        rows.append({"id": f"a{i:03d}", "text": base, "lang": "eng_Latn"})
        rate = [0.005, 0.01, 0.02, 0.4][i % 4]  # near (J >= ~0.85) ... clearly different (J ~0.1)
        variant = mutate(base, rate, rng)
        rows.append({"id": f"a{i:03d}-v", "text": variant, "lang": "eng_Latn"})
        pairs.append((f"a{i:03d}", f"a{i:03d}-v", jaccard(base, variant)))
    rng.shuffle(rows)  # duplicates land in different shards
    return table(rows), pairs


def test_near_duplicates_found_distinct_kept(variant_corpus, tmp_path):
    tbl, pairs = variant_corpus
    out, stats = run_step(
        MinHashDedup(), write_shards(split_table(tbl, 3), tmp_path / "in"), tmp_path / "work"
    )
    d = decisions(out)
    high = [(a, b) for a, b, j in pairs if j >= 0.9]
    low = [(a, b) for a, b, j in pairs if j < 0.5]
    assert len(high) > 60 and len(low) > 30
    for a, b in high:
        assert d[a][3] == d[b][3], (a, b)
        assert d[a][0] and d[b][1] == f"duplicate_of:{a}"
    for a, b in low:
        assert d[a][3] != d[b][3], (a, b)
    # distinct originals are never merged with each other
    originals = {k: v for k, v in d.items() if not k.endswith("-v")}
    assert all(v[0] for v in originals.values())
    assert len({v[3] for v in originals.values()}) == len(originals)
    # cluster sizes: column and stats agree; the invariant "in = kept + removed" holds
    kept = sum(v[0] for v in d.values())
    dist = stats["minhash"]["eng_Latn"]
    assert sum(dist.values()) == kept and sum(s * c for s, c in dist.items()) == tbl.num_rows
    assert stats["minhash_summary"]["languages"]["eng_Latn"]["removed"] == tbl.num_rows - kept


def test_same_text_in_other_language_is_never_merged(shared_data, tmp_path):
    arts = articles(shared_data)[:20]
    rows = []
    for i, a in enumerate(arts):
        rows.append({"id": f"en{i}", "text": a["articleBody"], "lang": "eng_Latn"})
        rows.append({"id": f"fr{i}", "text": a["articleBody"], "lang": "fra_Latn"})
        rows.append({"id": f"xx{i}", "text": a["articleBody"], "lang": None})  # unidentified -> "und"
        rows.append({"id": f"en{i}-copy", "text": a["articleBody"], "lang": "eng_Latn"})
    out, stats = run_step(
        MinHashDedup(), write_shards(split_table(table(rows), 2), tmp_path / "in"), tmp_path / "w"
    )
    d = decisions(out)
    for i in range(len(arts)):
        assert d[f"en{i}"][0] and d[f"fr{i}"][0] and d[f"xx{i}"][0]
        assert d[f"en{i}-copy"][1] == f"duplicate_of:en{i}"
    assert set(stats["minhash"]) == {"eng_Latn", "fra_Latn", "und"}
    assert stats["minhash"]["fra_Latn"] == {1: len(arts)}
    assert stats["minhash"]["eng_Latn"] == {2: len(arts)}


def test_one_shard_or_seven_same_result(variant_corpus, tmp_path):
    tbl, _ = variant_corpus
    one, s1 = run_step(MinHashDedup(), write_shards([tbl], tmp_path / "in1"), tmp_path / "w1")
    seven, s7 = run_step(
        MinHashDedup(partitions=3),
        write_shards(split_table(tbl, 7), tmp_path / "in7"),
        tmp_path / "w7",
        fork_map,
    )
    assert len(seven) == 7
    assert decisions(one) == decisions(seven)
    assert s1["minhash"] == s7["minhash"]


def test_process_accepts_sub_batches(variant_corpus, tmp_path):
    tbl, _ = variant_corpus
    shards = write_shards([tbl], tmp_path / "in")
    step = MinHashDedup()
    whole, _ = run_step(step, shards, tmp_path / "w")
    from curate.blocks.base import BlockContext

    parts = [
        step.process(tbl.slice(a, 100), BlockContext(shard=shards[0][0])) for a in range(0, tbl.num_rows, 100)
    ]
    assert decisions({str(i): p for i, p in enumerate(parts)}) == decisions(whole)


def test_empty_and_tiny_documents(tmp_path):
    rows = [
        {"id": "e1", "text": "", "lang": "eng_Latn"},
        {"id": "e2", "text": "   !!! ", "lang": "eng_Latn"},
        {"id": "e3", "text": None, "lang": "eng_Latn"},
        {"id": "t1", "text": "Hello world", "lang": "eng_Latn"},
        {"id": "t2", "text": "hello, WORLD!", "lang": "eng_Latn"},
    ]
    out, stats = run_step(
        MinHashDedup(), write_shards([table(rows), table([])], tmp_path / "in"), tmp_path / "w"
    )
    d = decisions(out)
    assert d["e1"][0] and d["e2"][0] and d["e3"][0]  # nothing to compare: never a duplicate
    assert d["t1"][0] and d["t2"][1] == "duplicate_of:t1"
    assert stats["minhash"]["eng_Latn"] == {1: 3, 2: 1}


def test_settings_and_errors():
    with pytest.raises(ValueError):
        MinHashDedup(bands=20, rows=8)
    with pytest.raises(ValueError):
        MinHashDedup(keep="random")
    b = MinHashDedup()
    assert (b.num_perm, b.bands, b.rows, b.ngram, b.seed) == (112, 14, 8, 5, 1)
    assert b.describe()["keep"] == "first_id"
    with pytest.raises(RuntimeError):
        from curate.blocks.base import BlockContext

        b.process(table([]), BlockContext(shard="x"))


# -- resume -----------------------------------------------------------------------------------------------
KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from curate.blocks.base import GlobalJob
from curate.dedup import MinHashDedup

def slow_map(fn, items):
    out = []
    for x in items:
        out.append(fn(x))
        time.sleep(0.4)  # leave time to be killed between tasks
    return out

shards = {shards!r}
MinHashDedup(partitions=4).prepare(GlobalJob(shards=shards, workdir={workdir!r}, map=slow_map))
"""


def _kill_when(marker: Path, script: str, timeout: float = 120) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.time() + timeout
    try:
        while not marker.exists():
            assert proc.poll() is None, "prepare finished before the marker appeared"
            assert time.time() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()


def test_killed_and_resumed_gives_identical_output(variant_corpus, tmp_path):
    tbl, _ = variant_corpus
    shards = write_shards(split_table(tbl, 7), tmp_path / "in")
    clean, clean_stats = run_step(MinHashDedup(partitions=4), shards, tmp_path / "clean")

    work = tmp_path / "work"
    script = textwrap.dedent(KILL_SCRIPT).format(
        tests=str(Path(__file__).parent), shards=shards, workdir=str(work)
    )
    _kill_when(work / "keys" / "shard-000002.done", script)  # killed during the keys phase
    assert not (work / "keys" / "shard-000006.done").exists()
    _kill_when(work / "edges" / "part-00001.done", script)  # killed again during the edges phase
    assert not (work / "clusters.done").exists()
    resumed, stats = run_step(MinHashDedup(partitions=4), shards, work)
    assert decisions(resumed) == decisions(clean) and stats["minhash"] == clean_stats["minhash"]

    # deleting later-phase markers (and results) redoes those phases, identically
    for p in [work / "clusters.done", *(work / "edges").glob("*.done"), *(work / "results").glob("*")]:
        p.unlink()
    again, stats = run_step(MinHashDedup(partitions=4), shards, work)
    assert decisions(again) == decisions(clean) and stats["minhash"] == clean_stats["minhash"]


def test_changed_settings_restart_the_workdir(variant_corpus, tmp_path):
    tbl, _ = variant_corpus
    shards = write_shards([tbl.slice(0, 60)], tmp_path / "in")
    run_step(MinHashDedup(), shards, tmp_path / "w")
    out, _ = run_step(MinHashDedup(keep="first_index"), shards, tmp_path / "w")
    fresh, _ = run_step(MinHashDedup(keep="first_index"), shards, tmp_path / "w2")
    assert decisions(out) == decisions(fresh)


def test_tokenizer_hook_uses_the_language_segmenter():
    from curate.dedup import resolve_tokenizer, whitespace_tokenize

    zh = normalize_text("今天天气很好，我们一起去公园散步吧。明天可能会下雨。")
    words = resolve_tokenizer("language", "cmn_Hani")(zh)
    assert len(words) > len(zh.split())  # jieba segments what whitespace cannot
    assert resolve_tokenizer("fast", "cmn_Hani")(zh) == words  # "fast" keeps real segmenters
    assert resolve_tokenizer("fast", "eng_Latn") is whitespace_tokenize
    assert resolve_tokenizer("whitespace", "cmn_Hani") is whitespace_tokenize
    with pytest.raises(ValueError):
        resolve_tokenizer("nonsense", "eng_Latn")


def test_exact_dedup_normalized_and_scope(tmp_path):
    rows = [
        {"id": "a", "text": "Hello, World! 2024", "lang": "eng_Latn"},
        {"id": "b", "text": "hello world 1999", "lang": "eng_Latn"},
        {"id": "c", "text": "Hello, World! 2024", "lang": "eng_Latn"},
        {"id": "d", "text": "Hello, World! 2024", "lang": "deu_Latn"},
    ]
    shards = write_shards(split_table(table(rows), 2), tmp_path / "in")
    raw, _ = run_step(ExactDedup(), shards, tmp_path / "raw")
    d = decisions(raw, cluster_col=None)
    assert [d[k][0] for k in "abcd"] == [True, True, False, True] and d["c"][1] == "duplicate_of:a"
    norm, stats = run_step(ExactDedup(normalize=True), shards, tmp_path / "norm")
    d = decisions(norm, cluster_col=None)
    assert [d[k][0] for k in "abcd"] == [True, False, False, True] and d["a"][2] == 3
    glob, _ = run_step(ExactDedup(per_language=False), shards, tmp_path / "glob")
    assert not decisions(glob, cluster_col=None)["d"][0]


def test_no_shards_and_no_duplicates(tmp_path):
    out, stats = run_step(MinHashDedup(), [], tmp_path / "w0")
    assert out == {} and stats["minhash"] == {}
    texts = [
        "the cat sat on the mat all afternoon",
        "a completely unrelated sentence about rivers and hills",
        "stock markets fell sharply in early trading on monday",
    ]
    rows = [{"id": str(i), "text": t, "lang": "x"} for i, t in enumerate(texts)]
    out, stats = run_step(
        MinHashDedup(tokenizer="whitespace"), write_shards([table(rows)], tmp_path / "in"), tmp_path / "w"
    )
    assert all(v[0] and v[2] == 1 for v in decisions(out).values())


def test_files_grow_with_shards_plus_partitions_and_tasks_stay_small(variant_corpus, tmp_path):
    """One keys file per shard (not per shard x partition), O(partitions) files per components phase, and
    the step a shard task carries does not grow with the number of shards."""
    import pickle

    from curate.blocks.base import BlockContext

    tbl, _ = variant_corpus
    tables = split_table(tbl, 7)
    shards = write_shards(tables, tmp_path / "in")
    work = tmp_path / "work"
    peak = {"files": 0, "folders": {}}

    def counting_map(fn, items):
        out = [fn(x) for x in items]
        for folder in work.rglob("*"):
            if folder.is_dir():
                n = sum(1 for p in folder.iterdir() if p.is_file())
                peak["folders"][folder.name] = max(peak["folders"].get(folder.name, 0), n)
        peak["files"] = max(peak["files"], sum(1 for p in work.rglob("*") if p.is_file()))
        return out

    step = MinHashDedup(partitions=5)
    job_outputs, _ = run_step(step, shards, work, counting_map)
    assert peak["folders"]["keys"] == 7 + 1  # a marker per shard and the shuffle's partition index
    assert peak["folders"]["runs"] == 7  # one run per writer: a shard's (keys, docs), a partition's later
    assert peak["folders"]["groups"] == 1  # these few bytes make one merged group, whose offsets are the index
    assert all(n <= 5 + 1 for name, n in peak["folders"].items() if name.startswith(("large", "small", "part")))
    # result pieces: one per (shard, row range) that meet, at most shards + partitions - 1; a marker per range
    assert peak["folders"]["results"] <= (7 + 5 - 1) + 5
    assert peak["files"] <= 6 * (7 + 5) + 12  # markers, runs, group files and indexes of a few phases at a time
    # what a shard task pickles: the same few hundred bytes for 7 shards or 70
    few = len(pickle.dumps(step))
    many_step = MinHashDedup(partitions=5)
    many = write_shards(split_table(tbl, 70), tmp_path / "in70")
    run_step(many_step, many, tmp_path / "work70")
    assert len(pickle.dumps(many_step)) - few < 64
    # batches in order through one context (as a shard task runs them) walk the result file once
    ctx = BlockContext(shard=shards[2][0])
    t = tables[2]
    parts = [step.process(t.slice(a, 7), ctx) for a in range(0, t.num_rows, 7)]
    assert decisions({str(i): p for i, p in enumerate(parts)}) == decisions({"x": job_outputs[shards[2][0]]})


def test_one_shard_with_8_partitions_gives_the_output_of_1_partition(variant_corpus, tmp_path):
    """A single-shard corpus: the same output bytes with partitions=8 as with 1, and process() holds one
    result piece (about N/8 rows) at a time, not the shard's whole result."""
    tbl, _ = variant_corpus
    shards = write_shards([tbl], tmp_path / "in")
    written = {}
    for partitions in (1, 8):
        step = MinHashDedup(partitions=partitions)
        outputs, stats = run_step(step, shards, tmp_path / f"w{partitions}")
        out = outputs[shards[0][0]]
        t = out.table.append_column("keep", pa.array(out.keep)).append_column("reason", pa.array(out.reasons))
        sink = io.BytesIO()
        pq.write_table(t, sink)
        written[partitions] = (sink.getvalue(), stats["minhash"])
    assert written[1] == written[8]
    assert sum(1 for r in pq.read_table(io.BytesIO(written[8][0])).column("keep").to_pylist() if not r) > 30
    # batches in order: the result pieces are read one after the other, never all at once
    ctx = BlockContext(shard=shards[0][0])
    held = []
    for lo in range(0, tbl.num_rows, 16):
        step.process(tbl.slice(lo, 16), ctx)
        held.append(next(iter(ctx.cache.values())).buffer.num_rows)
    wd = Workdir(str(tmp_path / "w8"))
    pieces = [read_piece(wd, shards[0][0], k)[0].num_rows for k in range(8)]
    assert max(pieces) <= -(-tbl.num_rows // 8) and sum(pieces) > 2 * max(pieces)
    assert max(held) <= 2 * max(pieces) < sum(pieces)
    assert next(iter(ctx.cache.values())).next_piece == 8


def test_a_text_shared_by_half_the_corpus_is_salted_over_the_key_partitions(shared_data, tmp_path, monkeypatch):
    """600 copies of one boilerplate text among 1,200 documents in 3 shards, 12 key partitions: with salting,
    no edges task reads much more than the mean (the 14 hot keys are spread over every partition, their
    pieces linked at home); without it, the partitions of the hot keys hold 600 rows of each. Same decisions
    either way."""
    from curate.dedup import shuffle as key_shuffle

    arts = [a["articleBody"] for a in articles(shared_data)]
    boiler = "Accept all cookies to continue. We use cookies to personalise content and ads. " * 5
    rows = []
    for i in range(1200):
        text = boiler if i % 2 else f"{arts[(i // 2) % len(arts)]} variant {i}"
        rows.append({"id": f"d{i:04d}", "text": text, "lang": "eng_Latn"})
    shards = write_shards(split_table(table(rows), 3), tmp_path / "in")

    def edges_rows(step_dir: str, heavy: int) -> tuple[dict, list[int]]:
        monkeypatch.setattr(key_shuffle, "HEAVY_KEY", heavy)
        reads: list[int] = []

        def recording_map(fn, items):
            out = [fn(x) for x in items]
            if fn.__name__ == "partition_edges_task":
                reads.extend(int(i["rows_read"]) for i in out)
            return out

        out, _ = run_step(MinHashDedup(partitions=12, tokenizer="whitespace"), shards, tmp_path / step_dir,
                          recording_map)
        return decisions(out), reads

    salted, salted_reads = edges_rows("salted", 64)
    plain, plain_reads = edges_rows("plain", 10**9)
    assert salted == plain
    assert sum(1 for v in salted.values() if not v[0]) >= 599  # the copies are one cluster
    mean = sum(salted_reads) / len(salted_reads)
    assert max(salted_reads) <= 1.25 * mean + 64, salted_reads
    assert max(plain_reads) > 1.25 * mean + 64, plain_reads  # the test sees the skew it guards against
    # verified: the 600 copies ask for the kept document's signature once per partition, not once per member
    monkeypatch.setattr(key_shuffle, "HEAVY_KEY", 64)
    rows_read: dict[str, list[int]] = {}

    def phase_map(fn, items):
        out = [fn(x) for x in items]
        name = getattr(items[0], "phase", fn.__name__)
        rows_read.setdefault(name, []).extend(int(i["rows_read"]) for i in out if isinstance(i, dict) and "rows_read" in i)
        return out

    out, stats = run_step(MinHashDedup(partitions=12, tokenizer="whitespace", verify=True), shards,
                          tmp_path / "verified", phase_map)
    assert decisions(out) == {k: (*v[:3], v[3]) for k, v in salted.items()}  # identical copies: similarity 1
    nodes = 1200 / 12  # node partitions = partitions when set
    for phase in ("lookup", "verify", "recount", "combine"):
        # members, their answers, their signatures and the kept ones: four reads of a partition at most
        assert max(rows_read[phase]) <= 4 * nodes + 12, (phase, rows_read[phase])


# -- verified clusters ----------------------------------------------------------------------------------------
def chains(shared_data: Path, count: int = 12, length: int = 8, rate: float = 0.03) -> list[list[dict]]:
    """Planted chains: from a real article, each link edits ``rate`` of the words of the previous one
    (neighbours at Jaccard ~0.85, the ends far apart)."""
    rng = random.Random(19)
    arts = [a["articleBody"] for a in articles(shared_data) if len(a["articleBody"].split()) >= 300][:count]
    out = []
    for i, text in enumerate(arts):
        words, chain = text.split(), []
        for k in range(length):
            chain.append({"id": f"c{i:02d}-{k}", "text": " ".join(words), "lang": "eng_Latn"})
            words = [w if rng.random() >= rate else f"edit{rng.randrange(10**7)}" for w in words]
        out.append(chain)
    return out


def test_a_planted_chain_is_removed_by_default_and_verify_keeps_its_far_members(shared_data, tmp_path):
    links = chains(shared_data)
    rows = [r for chain in links for r in chain]
    texts = {r["id"]: r["text"] for r in rows}
    shards = write_shards(split_table(table(rows), 3), tmp_path / "in")
    plain, _ = run_step(MinHashDedup(partitions=3), shards, tmp_path / "plain")
    verified, stats = run_step(MinHashDedup(partitions=3, verify={"threshold": 0.75}), shards, tmp_path / "verified")
    d, v = decisions(plain), decisions(verified)
    neighbours = [jaccard(c[k]["text"], c[k + 1]["text"]) for c in links for k in range(len(c) - 1)]
    assert 0.75 < float(np.median(neighbours)) < 0.92  # each link near, ...
    assert max(jaccard(c[0]["text"], c[-1]["text"]) for c in links) < 0.5  # ... the ends far apart
    # default (FineWeb2): connected components, the chain goes whole, far members included
    far_default = [k for k, x in d.items() if not x[0] and jaccard(texts[k], texts[x[3]]) < 0.5]
    assert sum(1 for x in d.values() if not x[0]) >= 0.8 * (len(rows) - len(links)) and len(far_default) > 10
    # verify: nothing far from its kept document is removed; close members still are
    removed = {k: x for k, x in v.items() if not x[0]}
    assert removed and all(jaccard(texts[k], texts[x[3]]) >= 0.6 for k, x in removed.items())
    assert all(jaccard(texts[k], texts[x[3]]) >= 0.6 for k, x in removed.items())
    close = [k for k, x in d.items() if not x[0] and jaccard(texts[k], texts[x[3]]) >= 0.85]
    assert sum(1 for k in close if not v[k][0]) >= 0.9 * len(close)
    # the evidence: every removed row carries its estimated similarity to the kept document
    sims = {}
    for out in verified.values():
        t = out.table
        sims.update(zip(t.column("id").to_pylist(), t.column("minhash_similarity").to_pylist(), strict=True))
    assert all(sims[k] >= 0.75 for k in removed)
    assert any(s is not None and s < 0.75 for k, s in sims.items() if v[k][0])  # kept far members, with evidence
    kept_as_own = [k for k, x in v.items() if x[0] and sims[k] is not None and sims[k] < 1.0]
    assert all(v[k][2] == 1 and v[k][3] == k for k in kept_as_own)  # a kept member is its own cluster of one
    dist = stats["minhash"]["eng_Latn"]
    assert sum(s * c for s, c in dist.items()) == len(rows) and sum(dist.values()) == sum(x[0] for x in v.values())
    summary = stats["minhash_summary"]
    assert summary["verify"]["removed"] == len(removed) and summary["largest_clusters"]
    assert all("similarity" in c and c["size"] >= 2 for c in summary["largest_clusters"])


def test_verify_keeps_near_duplicate_recall_on_the_fixtures(variant_corpus, shared_data, tmp_path):
    tbl, pairs = variant_corpus
    out, _ = run_step(MinHashDedup(verify=True), write_shards(split_table(tbl, 3), tmp_path / "in"), tmp_path / "w")
    d = decisions(out)
    high = [(a, b) for a, b, j in pairs if j >= 0.8]
    found = sum(1 for a, b in high if d[b][1] == f"duplicate_of:{a}")
    assert len(high) > 60 and found / len(high) >= 0.95, (found, len(high))
    assert all(d[a][3] != d[b][3] for a, b, j in pairs if j < 0.5)
    root = shared_data / "dedup" / "cs336_fixtures" / "documents_with_fuzzy_duplicates"
    rows = [{"id": f.name, "text": f.read_text(encoding="utf-8"), "lang": "eng_Latn"} for f in sorted(root.iterdir())]
    out, _ = run_step(MinHashDedup(verify=True), write_shards([table(rows)], tmp_path / "in2"), tmp_path / "w2")
    assert decisions(out)["react_mit_license.txt"][1] == "duplicate_of:rails_mit_license.txt"


def test_verify_settings_are_checked():
    assert MinHashDedup(verify=True).verify_threshold() == 0.75
    assert MinHashDedup(verify={"threshold": 0.9}).verify_threshold() == 0.9
    assert MinHashDedup().verify_threshold() == 0.0 and MinHashDedup().largest_clusters == 0
    assert MinHashDedup(verify=True).largest_clusters == 10
    with pytest.raises(ValueError, match="threshold"):
        MinHashDedup(verify={"threshold": 1.5})
    with pytest.raises(ValueError, match="unknown key"):
        MinHashDedup(verify={"treshold": 0.8})


def test_a_verified_pipeline_reports_the_largest_clusters_and_keeps_the_evidence(shared_data, tmp_path):
    """``minhash: {verify: true}`` in a pipeline: removed rows carry their similarity to the kept document, and
    ``curate report`` and report.html list each language's largest clusters with their similarity spread."""
    from pipeline_helpers import write_pipeline

    from curate import run
    from curate.config.pipeline_config import load_pipeline
    from curate.stats.report_table import format_report

    rows = [dict(r, url=f"https://example.org/{r['id']}") for chain in chains(shared_data, count=4) for r in chain]
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps({k: r[k] for k in ("id", "text", "url")}) + "\n" for r in rows))
    cfg = write_pipeline(tmp_path / "p.yaml", [str(source)], tmp_path / "out",
                         [{"langid": {}}, {"minhash": {"verify": True}}], executor={"type": "local", "workers": 1})
    result = run(load_pipeline(str(cfg)))
    removed = pq.read_table(next((tmp_path / "out" / "_removed").rglob("*.parquet")))
    assert removed.num_rows > 0 and min(removed.column("minhash_similarity").to_pylist()) >= 0.75
    report = format_report(result.stats)
    assert "largest MinHash clusters" in report and "https://example.org/c0" in report
    assert "similarity" in report and "verified at similarity >= 0.75" in report
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Largest MinHash clusters" in html and "min / median / max" in html
