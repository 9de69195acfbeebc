"""The ``rehydrate`` block: tables from the run's counts, weights, materialisation, budgets; then end to end."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.blocks.base import BlockContext, GlobalJob
from curate.rehydrate import FINEWEB2_FIXED_TABLE, compute_repetitions, load_weight_tables
from curate.rehydrate.budget import Budget
from curate.rehydrate.rehydrate_block import BUDGET_REASON, Rehydrate
from curate.rehydrate.report_section import format_rehydration
from curate.rehydrate.sampling import KEY_BINS, budget_copies, choose_threshold, crossing_bin

# Three cluster sizes, no smoothing (fewer bins than the window): removal rates 50 %, 10 %, 30 %,
# R = 90 / 300 = 30 %, r_min = 10 %: size 1 -> 1 (r >= R), size 2 -> M, size 3 -> 1 (r == R).
ENG_KEPT, ENG_REMOVED = {1: 50, 2: 90, 3: 70}, {1: 50, 2: 10, 3: 30}
# removal falls with the size (40 %, 20 %, 4 %; R = 26 %): 1 -> 1, 2 -> 1 + 9 * (20 - 26) / (4 - 26) = 3.45 -> 3,
# 3 -> 10; with M = 3: 2 -> 1 + 2 * 0.27 = 1.55 -> 2, 3 -> 3
FRA_KEPT, FRA_REMOVED = {1: 60, 2: 40, 3: 48}, {1: 40, 2: 10, 3: 2}


def counts(**langs: tuple[dict[int, int], dict[int, int]]) -> dict:
    """``previous_stage["cluster_sizes"]`` as the runner records it (string keys)."""
    return {lang: {"kept": {str(k): v for k, v in kept.items()}, "removed": {str(k): v for k, v in removed.items()}}
            for lang, (kept, removed) in langs.items()}


def write_shard(path: Path, rows: list[dict]) -> str:
    cols = {"id": pa.string(), "text": pa.string(), "lang": pa.string(), "minhash_cluster_size": pa.int64()}
    table = pa.table({c: pa.array([r.get(c) for r in rows], t) for c, t in cols.items()})
    pq.write_table(table, path)
    return str(path)


def make_job(tmp: Path, shards: list[list[dict]], cluster_sizes: dict | None = None) -> GlobalJob:
    tmp.mkdir(parents=True, exist_ok=True)
    paths = [(f"s{i}", write_shard(tmp / f"shard{i}.parquet", rows) if rows else "") for i, rows in enumerate(shards)]
    return GlobalJob(shards=paths, workdir=str(tmp / "work"), map=lambda fn, items: list(map(fn, items)),
                     previous_stage={"cluster_sizes": cluster_sizes or {}})


def run(block: Rehydrate, job: GlobalJob, batch_size: int | None = None) -> tuple[pa.Table, pa.Table]:
    """prepare, then process every shard (in batches): (kept rows, removed rows with reasons)."""
    block.prepare(job)
    kept, removed = [], []
    for shard_id, path in job.shards:
        if not path:
            continue
        table = pq.read_table(path)
        step = batch_size or table.num_rows
        for start in range(0, table.num_rows, step):
            out = block.process(table.slice(start, step), BlockContext(shard=shard_id))
            keep = np.ones(out.table.num_rows, bool) if out.keep is None else out.keep
            kept.append(out.table.filter(pa.array(keep)))
            dropped = out.table.filter(pa.array(~keep))
            reasons = [r for r, k in zip(out.reasons or [None] * len(keep), keep, strict=True) if not k]
            removed.append(dropped.append_column("reason", pa.array(reasons, pa.string())))
    return pa.concat_tables(kept), pa.concat_tables(removed)


def docs(lang: str, sizes: list[int | None], words: int | list[int] = 5, prefix: str = "") -> list[dict]:
    lengths = [words] * len(sizes) if isinstance(words, int) else words
    return [{"id": f"{prefix}{lang}-{i}", "text": " ".join(["w"] * n), "lang": lang, "minhash_cluster_size": s}
            for i, (s, n) in enumerate(zip(sizes, lengths, strict=True))]


# ---------------------------------------------------------------------------------------------------
# tables and weights
# ---------------------------------------------------------------------------------------------------

def test_table_per_language_comes_from_this_runs_counts(tmp_path: Path) -> None:
    job = make_job(tmp_path, [], counts(eng_Latn=(ENG_KEPT, ENG_REMOVED), fra_Latn=(FRA_KEPT, FRA_REMOVED)))
    Rehydrate().prepare(job)
    eng, fra = job.stats["languages"]["eng_Latn"], job.stats["languages"]["fra_Latn"]
    assert eng["table"] == {"1": 1, "2": 10, "3": 1}
    assert fra["table"] == {"1": 1, "2": 3, "3": 10}
    assert fra["table"] == {str(k): v for k, v in compute_repetitions(FRA_KEPT, FRA_REMOVED, 10).items()}
    assert eng["R"] == pytest.approx(30.0) and eng["r_min"] == pytest.approx(10.0)
    assert fra["R"] == pytest.approx(52 / 200 * 100) and fra["r_min"] == pytest.approx(2 / 50 * 100)
    assert eng["source"] == "rates" and eng["max_reps"] == 10 and eng["tail_threshold"] == 3
    assert eng["documents"] == 210 and eng["weighted_documents"] == 50 + 90 * 10 + 70
    assert json.loads(json.dumps(job.stats)) == job.stats  # goes into stats.json as is


def test_max_reps_per_language_and_per_tier(tmp_path: Path) -> None:
    job = make_job(tmp_path, [], counts(eng_Latn=(ENG_KEPT, ENG_REMOVED), fra_Latn=(FRA_KEPT, FRA_REMOVED)))
    from curate.languages.table import load_language_table

    job.languages = load_language_table()
    tier = job.languages.get("fra_Latn").tier
    Rehydrate(max_reps=6, max_reps_by_lang={"eng_Latn": 4, tier: 3}).prepare(job)
    assert job.stats["languages"]["eng_Latn"]["table"] == {"1": 1, "2": 4, "3": 1}
    assert job.stats["languages"]["eng_Latn"]["max_reps"] == 4
    assert job.stats["languages"]["fra_Latn"]["table"] == {"1": 1, "2": 2, "3": 3}  # by its tier
    assert job.stats["languages"]["fra_Latn"]["max_reps"] == 3


def test_weights_per_cluster_size_for_each_method(tmp_path: Path) -> None:
    sizes = [1, 2, 3, 7, None, 0]
    shard = docs("eng_Latn", sizes) + docs("fra_Latn", sizes)
    job = make_job(tmp_path, [shard], counts(eng_Latn=(ENG_KEPT, ENG_REMOVED), fra_Latn=(FRA_KEPT, FRA_REMOVED)))
    kept, removed = run(Rehydrate(), job)
    assert removed.num_rows == 0
    w = dict(zip(kept.column("id").to_pylist(), kept.column("weight").to_pylist(), strict=True))
    assert kept.schema.field("weight").type == pa.int64()
    # eng {1: 1, 2: 10, 3: 1}: 7 -> 1 (largest key <= 7); missing / 0 -> size 1
    assert [w[f"eng_Latn-{i}"] for i in range(6)] == [1, 10, 1, 1, 1, 1]
    assert [w[f"fra_Latn-{i}"] for i in range(6)] == [1, 3, 10, 10, 1, 1]

    fixed_sizes = [1, 2, 3, 4, 5, 99, 100, 999, 1000, 5000]
    job = make_job(tmp_path / "fixed", [docs("eng_Latn", fixed_sizes)])
    kept, _ = run(Rehydrate(method="fixed"), job)
    assert kept.column("weight").to_pylist() == [1, 2, 3, 3, 5, 5, 8, 8, 1, 1]
    assert dict(FINEWEB2_FIXED_TABLE) == {1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}
    assert job.stats["default_table"] == {str(k): v for k, v in FINEWEB2_FIXED_TABLE.items()}


def test_user_tables_global_and_per_language(tmp_path: Path) -> None:
    shard = docs("eng_Latn", [1, 2, 4, 50]) + docs("deu_Latn", [1, 2, 4, 50])
    job = make_job(tmp_path, [shard], counts(eng_Latn=(ENG_KEPT, ENG_REMOVED)))
    block = Rehydrate(method="table", table={2: 4, 10: 2}, tables={"de": {1: 2, 3: 6}})
    kept, _ = run(block, job)
    w = dict(zip(kept.column("id").to_pylist(), kept.column("weight").to_pylist(), strict=True))
    assert [w[f"eng_Latn-{i}"] for i in range(4)] == [1, 4, 4, 2]
    assert [w[f"deu_Latn-{i}"] for i in range(4)] == [2, 2, 6, 6]  # "de" normalised to deu_Latn
    assert job.stats["languages"]["eng_Latn"]["source"] == "table"
    # per-language tables also win over the computed ones
    job = make_job(tmp_path, [shard], counts(eng_Latn=(ENG_KEPT, ENG_REMOVED)))
    kept, _ = run(Rehydrate(tables={"eng_Latn": {1: 3}}), job)
    assert set(kept.filter(pa.compute.equal(kept.column("lang"), "eng_Latn")).column("weight").to_pylist()) == {3}


def test_fineweb2_published_weights_file_as_tables(tmp_path: Path, shared_data: Path) -> None:
    path = shared_data / "fineweb2" / "rehydration" / "weights" / "up_to_05_reps.json"
    published = load_weight_tables(path)
    sizes = [1, 2, 3, 5, 8, 13, 40, 120, 700, 4000]
    job = make_job(tmp_path, [docs("fra_Latn", sizes)])
    kept, _ = run(Rehydrate(tables=str(path)), job)
    from curate.rehydrate import repetitions_for_sizes

    assert kept.column("weight").to_pylist() == repetitions_for_sizes(published["fra_Latn"], sizes).tolist()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="method 'table' needs"):
        Rehydrate(method="table")
    with pytest.raises(ValueError, match="per-language tables go in `tables`"):
        Rehydrate(table={1: 2})
    with pytest.raises(ValueError, match="max_reps"):
        Rehydrate(max_reps_by_lang={"eng_Latn": 0})
    with pytest.raises(ValueError, match="repetitions must be >= 1"):
        Rehydrate(tables={"eng_Latn": {1: 0}})
    with pytest.raises(ValueError, match="odd"):
        Rehydrate(window=4)
    with pytest.raises(ValueError, match="`targets` or `share`"):
        Rehydrate(budget={"unit": "documents"})
    with pytest.raises(ValueError, match="add up to"):
        Budget(share={"eng_Latn": 0.7, "fra_Latn": 0.6})
    with pytest.raises(ValueError):
        Budget(unit="pages", targets={"eng_Latn": 1})


# ---------------------------------------------------------------------------------------------------
# materialisation
# ---------------------------------------------------------------------------------------------------

def test_materialize_repeats_rows_weight_times_with_unique_ids(tmp_path: Path) -> None:
    sizes = [1, 2, 3, 7, 2, None]
    shard = docs("eng_Latn", sizes) + docs("fra_Latn", sizes)
    cs = counts(eng_Latn=(ENG_KEPT, ENG_REMOVED), fra_Latn=(FRA_KEPT, FRA_REMOVED))
    weighted, _ = run(Rehydrate(), make_job(tmp_path / "a", [shard], cs))
    block = Rehydrate(materialize=True)
    block.prepare(make_job(tmp_path / "b", [shard], cs))
    out = block.process(pq.read_table(tmp_path / "b" / "shard0.parquet"), BlockContext())
    table = out.table
    assert table.num_rows == sum(weighted.column("weight").to_pylist()) == len(out.origin)
    assert set(table.column("weight").to_pylist()) == {1}
    ids = table.column("id").to_pylist()
    assert len(set(ids)) == len(ids)
    for rid, w in zip(weighted.column("id").to_pylist(), weighted.column("weight").to_pylist(), strict=True):
        copies = [i for i in ids if i == rid or i.startswith(rid + "#")]
        assert sorted(copies) == sorted([rid] + [f"{rid}#{k}" for k in range(1, w)])
    first = table.filter(pa.compute.equal(table.column("copy_index"), 0))
    assert first.column("id").to_pylist() == weighted.column("id").to_pylist()
    assert np.all(np.diff(out.origin) >= 0)


# ---------------------------------------------------------------------------------------------------
# budgets
# ---------------------------------------------------------------------------------------------------

def corpus(n: int = 600, seed: int = 7) -> list[dict]:
    """Two languages, cluster sizes 1..3 (weights 1 / 10 / 1 for eng, 1 / 3 / 10 for fra), varied lengths."""
    rng = random.Random(seed)
    rows = []
    for lang in ("eng_Latn", "fra_Latn"):
        sizes = [rng.choice([1, 1, 1, 2, 3]) for _ in range(n)]
        rows += docs(lang, sizes, [rng.randint(1, 60) for _ in range(n)])
    return rows


CS = counts(eng_Latn=(ENG_KEPT, ENG_REMOVED), fra_Latn=(FRA_KEPT, FRA_REMOVED))


def weights_by_id(kept: pa.Table) -> dict[str, int]:
    return dict(zip(kept.column("id").to_pylist(), kept.column("weight").to_pylist(), strict=True))


@pytest.mark.parametrize("target", [250, 1000, 4321, 20000])
def test_document_budget_is_met_exactly_up_and_down(tmp_path: Path, target: int) -> None:
    rows = corpus()
    job = make_job(tmp_path, [rows], CS)
    before, _ = run(Rehydrate(), make_job(tmp_path / "plain", [rows], CS))
    kept, removed = run(Rehydrate(budget={"unit": "documents", "targets": {"eng_Latn": target}}), job)
    w = weights_by_id(kept)
    eng = sum(v for k, v in w.items() if k.startswith("eng"))
    assert eng == target  # documents: exactly (within one document is the promise)
    plan = job.stats["languages"]["eng_Latn"]["budget"]
    assert plan["target"] == target and plan["after"] == eng
    assert plan["before"] == sum(v for k, v in weights_by_id(before).items() if k.startswith("eng"))
    assert plan["documents_dropped"] == removed.num_rows
    # fra has no budget: untouched
    assert {k: v for k, v in w.items() if k.startswith("fra")} == {
        k: v for k, v in weights_by_id(before).items() if k.startswith("fra")}
    # nothing lost silently: every dropped row is removed with the budget reason
    assert kept.num_rows + removed.num_rows == len(rows)
    assert set(removed.column("reason").to_pylist()) <= {BUDGET_REASON}
    assert (removed.num_rows > 0) == (plan["factor"] < 1)  # weight-1 documents exist
    assert min(w.values()) >= 1


def test_budget_respects_the_weights(tmp_path: Path) -> None:
    """Halving: weight-10 documents keep 5 copies each, weight-1 ones survive about half the time."""
    rows = docs("eng_Latn", [2] * 100 + [1] * 2000)
    job = make_job(tmp_path, [rows], CS)
    before = 100 * 10 + 2000
    kept, removed = run(Rehydrate(budget={"unit": "documents", "targets": {"eng_Latn": before / 2}}), job)
    w = weights_by_id(kept)
    assert all(w[f"eng_Latn-{i}"] == 5 for i in range(100))
    survivors = sum(1 for i in range(100, 2100) if f"eng_Latn-{i}" in w)
    assert survivors == before / 2 - 500 == 1000  # exact total, and the survivors are a hash-chosen half
    assert removed.num_rows == 1000


@pytest.mark.parametrize("unit", ["words", "tokens", "bytes"])
def test_size_budget_within_one_document(tmp_path: Path, unit: str) -> None:
    rows = corpus()
    size = {r["id"]: (len(r["text"].encode()) if unit == "bytes" else len(r["text"].split())) for r in rows}
    for target in (3000.0, 50_000.0):
        job = make_job(tmp_path / f"{unit}{target}", [rows], CS)
        kept, _ = run(Rehydrate(budget={"unit": unit, "targets": {"fra_Latn": target}}), job)
        total = sum(v * size[k] for k, v in weights_by_id(kept).items() if k.startswith("fra"))
        assert abs(total - target) <= max(size.values())
        assert job.stats["languages"]["fra_Latn"]["budget"]["after"] == total


def test_share_of_the_total(tmp_path: Path) -> None:
    rows = corpus()
    job = make_job(tmp_path, [rows], CS)
    kept, _ = run(Rehydrate(budget={"unit": "documents", "share": {"eng_Latn": 0.5, "fra_Latn": 0.5}}), job)
    total = job.stats["budget"]["grand_total_before"]
    w = weights_by_id(kept)
    for lang in ("eng", "fra"):
        assert abs(sum(v for k, v in w.items() if k.startswith(lang)) - total / 2) <= 1
    assert abs(job.stats["budget"]["grand_total_after"] - total) <= 2


def test_budget_is_deterministic_across_shards_batches_and_order(tmp_path: Path) -> None:
    rows = corpus()
    settings = {"unit": "words", "targets": {"eng_Latn": 9000, "*": 2500}, "seed": 3}
    one, _ = run(Rehydrate(budget=settings), make_job(tmp_path / "one", [rows], CS))
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    three = [shuffled[0::3], shuffled[1::3], shuffled[2::3], []]  # and an empty shard
    job3 = make_job(tmp_path / "three", three, CS)
    split, _ = run(Rehydrate(budget=settings), job3, batch_size=37)
    assert weights_by_id(one) == weights_by_id(split)
    # another seed picks other documents for the same total
    other, _ = run(Rehydrate(budget={**settings, "seed": 4}), make_job(tmp_path / "seed4", [rows], CS))
    assert weights_by_id(other) != weights_by_id(one)
    # a rerun of prepare in the same workdir (resume) reuses the measurements and gives the same plan
    stats_before = json.dumps(job3.stats["languages"], sort_keys=True)
    assert list((tmp_path / "three" / "work").glob("budget-*/*.parquet.json"))
    again = Rehydrate(budget=settings)
    again.prepare(job3)
    assert json.dumps(job3.stats["languages"], sort_keys=True) == stats_before


def test_budget_zero_drops_a_language_with_a_reason(tmp_path: Path) -> None:
    rows = corpus(50)
    kept, removed = run(Rehydrate(budget={"unit": "documents", "targets": {"fra_Latn": 0}}),
                        make_job(tmp_path, [rows], CS))
    assert set(kept.column("lang").to_pylist()) == {"eng_Latn"}
    assert removed.num_rows == 50 and set(removed.column("reason").to_pylist()) == {BUDGET_REASON}
    assert set(removed.column("weight").to_pylist()) == {0}


def test_budget_for_an_absent_language_is_reported(tmp_path: Path) -> None:
    job = make_job(tmp_path, [corpus(20)], CS)
    kept, _ = run(Rehydrate(budget={"unit": "documents", "targets": {"spa_Latn": 10}}), job)
    assert kept.num_rows == 40
    plan = job.stats["languages"]["spa_Latn"]["budget"]
    assert plan["after"] == 0 and "no documents" in plan["note"]


def test_tokenizer_needs_the_tokenizers_package(tmp_path: Path) -> None:
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="tokenizers"):
            Budget(unit="tokens", targets={"eng_Latn": 10}, tokenizer=str(tmp_path / "tokenizer.json"))
        return
    with pytest.raises(ValueError, match="only used with unit: tokens"):
        Budget(unit="words", targets={"eng_Latn": 10}, tokenizer=str(tmp_path / "tokenizer.json"))


def test_tokenizer_file_counts_its_tokens(tmp_path: Path) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    rows = [{"id": f"d{i}", "text": f"alpha beta, gamma{i % 7}! delta-{i}", "lang": "eng_Latn",
             "minhash_cluster_size": 1} for i in range(200)]
    tok.train_from_iterator([r["text"] for r in rows], trainers.WordPieceTrainer(vocab_size=40,
                                                                                 special_tokens=["[UNK]"]))
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    n_tokens = {r["id"]: len(tok.encode(r["text"], add_special_tokens=False).ids) for r in rows}
    job = make_job(tmp_path, [rows])
    kept, _ = run(Rehydrate(budget={"unit": "tokens", "targets": {"eng_Latn": 1500}, "tokenizer": str(path)}), job)
    total = sum(w * n_tokens[i] for i, w in weights_by_id(kept).items())
    assert job.stats["languages"]["eng_Latn"]["budget"]["before"] == sum(n_tokens.values())
    assert abs(total - 1500) <= max(n_tokens.values())


# ---------------------------------------------------------------------------------------------------
# sampling primitives and report
# ---------------------------------------------------------------------------------------------------

def test_threshold_picks_the_closest_prefix() -> None:
    keys = np.array([0.3, 0.1, 0.2, 0.4])
    hashes = np.arange(4, dtype=np.uint64)
    units = np.array([5, 5, 5, 5])
    assert crossing_bin({3: 10, 7: 20}, 15) == (7, 10)
    assert crossing_bin({3: 10}, 0) == (0, 0) and crossing_bin({3: 10}, 11) == (KEY_BINS, 10)
    threshold, chosen = choose_threshold(7, 10, keys, hashes, units, need=21)
    assert chosen.tolist() == [False, True, True, False]  # 10 + 5 + 5 = 20 is closest to 21
    assert threshold == (7, 0.2, 2)
    copies = budget_copies(np.full(1000, 3), np.arange(1000, dtype=np.uint64) * np.uint64(2654435761),
                           1.0, (0, float("-inf"), 0))
    assert set(copies.tolist()) == {3}  # factor 1: weights unchanged


def test_report_section_shows_tables_and_budgets(tmp_path: Path) -> None:
    rows = corpus(100)
    job = make_job(tmp_path, [rows], CS)
    run(Rehydrate(budget={"unit": "documents", "targets": {"eng_Latn": 300}}), job)
    text = format_rehydration({"0:minhash": {"minhash": {}}, "3:rehydrate": job.stats})
    assert "rehydrate [3:rehydrate]: method rates" in text
    lines = {line.split()[0]: line for line in text.splitlines()[2:]}
    assert "1:1 2:10 3:1" in lines["eng_Latn"] and "of 300" in lines["eng_Latn"]
    assert "1:1 2:3 3:10" in lines["fra_Latn"]
    assert format_rehydration({}) == ""


# ---------------------------------------------------------------------------------------------------
# end to end: langid -> minhash -> a custom filter -> rehydrate, on real text, through the real runner
# ---------------------------------------------------------------------------------------------------

def _near_copy(text: str, k: int, rng: random.Random) -> str:
    """A small edit: one word replaced and a short trailer, as syndicated copies of a page have."""
    words = text.split(" ")
    i = rng.randrange(len(words))
    words[i] = f"edited{k}"
    return " ".join(words) + f"\n\nRead more (copy {k})."


def duplicated_corpus(shared_data: Path, path: Path) -> dict[str, int]:
    """JSONL of real articles (English, AEB gold) and German documents (lingua sentences), some of
    them repeated 2-6 times with small edits so that MinHash clusters exist. Returns id -> copies made."""
    rng = random.Random(2506)
    eng = [json.loads(line)["articleBody"] for line in
           (shared_data / "extraction" / "scrapinghub_aeb_gold.jsonl").read_text(encoding="utf-8").splitlines()]
    sentences = [s["text"] for line in (shared_data / "langid" / "lingua_sentences.jsonl").open(encoding="utf-8")
                 if (s := json.loads(line))["iso639_1"] == "de"]
    deu, start = [], 0
    while len(deu) < 90 and start < len(sentences):
        n = rng.randint(6, 30)
        deu.append(" ".join(sentences[start:start + n]))
        start += n
    docs_out, copies = [], {}
    for lang, texts in (("eng", eng), ("deu", deu)):
        for i, text in enumerate(t for t in texts if t and t.strip()):
            doc_id = f"{lang}-{i:04d}"
            docs_out.append({"id": doc_id, "text": text})
            long = len(text.split()) >= 300
            # longer documents are the ones copied more often (mirrors FineWeb2's observation that
            # mid-sized clusters survive the filters best)
            if rng.random() < (0.35 if long else 0.1):
                copies[doc_id] = rng.randint(1, 5)
                for k in range(1, copies[doc_id] + 1):
                    docs_out.append({"id": f"{doc_id}-dup{k}", "text": _near_copy(text, k, rng)})
    rng.shuffle(docs_out)
    half = len(docs_out) // 2
    for name, part in (("a.jsonl", docs_out[:half]), ("b.jsonl", docs_out[half:])):
        with (path / name).open("w", encoding="utf-8") as fh:
            for d in part:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return copies


E2E_BUDGET = {"unit": "words", "targets": {"eng_Latn": 150_000}, "seed": 11}


def _e2e_run(tmp: Path, inputs: list[str], materialize: bool):
    from curate import run
    from curate.config.pipeline_config import parse_pipeline

    steps = [{"langid": {}}, {"minhash": {}}, {"custom_blocks:min_words": {"minimum": 200}},
             {"rehydrate": {"materialize": materialize, "budget": E2E_BUDGET}}]
    doc = {"name": "rehydrate-e2e", "input": {"paths": inputs, "batch_size": 64}, "output": str(tmp),
           "executor": {"type": "local", "workers": 2}, "pipeline": steps}
    return run(parse_pipeline(json.dumps(doc), "rehydrate-e2e.yaml"))


@pytest.fixture(scope="module")
def e2e(tmp_path_factory, shared_data: Path):
    tmp = tmp_path_factory.mktemp("rehydrate_e2e")
    copies = duplicated_corpus(shared_data, tmp)
    inputs = [str(tmp / "a.jsonl"), str(tmp / "b.jsonl")]
    weighted = _e2e_run(tmp / "weighted", inputs, materialize=False)
    return tmp, inputs, copies, weighted


def _rehydrate_stats(stats: dict) -> dict:
    (step,) = [v for k, v in stats["global"].items() if k.endswith(":rehydrate")]
    return step


@pytest.mark.slow
def test_e2e_tables_come_from_the_runs_own_removal_rates(e2e) -> None:
    import polars as pl

    tmp, _, copies, result = e2e
    stats = result.stats
    step = _rehydrate_stats(stats)
    sizes = stats["cluster_sizes"]["stage1"]  # langid | minhash + filter | rehydrate
    assert {"eng_Latn", "deu_Latn"} <= set(step["languages"])
    for lang in ("eng_Latn", "deu_Latn"):
        kept = {int(k): v for k, v in sizes[lang]["kept"].items()}
        removed = {int(k): v for k, v in sizes[lang]["removed"].items()}
        assert max(kept) > 1 and sum(removed.values()) > 0  # clusters exist, the filter removed some
        expected = compute_repetitions(kept, removed, 10)
        assert step["languages"][lang]["table"] == {str(k): v for k, v in expected.items()}
        assert step["languages"][lang]["source"] == "rates"
    assert max(step["languages"]["eng_Latn"]["table"].values()) > 1  # some cluster sizes are upsampled
    # the output carries the weights: every kept row of a language without a budget has its table's value
    from curate.rehydrate import repetitions_for_sizes

    deu = pl.read_parquet(tmp / "weighted" / "deu_Latn" / "*.parquet")
    table = {int(k): v for k, v in step["languages"]["deu_Latn"]["table"].items()}
    assert deu["weight"].to_list() == repetitions_for_sizes(table, deu["minhash_cluster_size"].to_numpy()).tolist()
    assert deu["weight"].sum() == step["languages"]["deu_Latn"]["weighted_documents"]
    # and the report section shows them
    text = format_rehydration(stats["global"])
    assert "eng_Latn" in text and "deu_Latn" in text and "rates" in text


@pytest.mark.slow
def test_e2e_budget_met_within_one_document_and_drops_are_recorded(e2e) -> None:
    import polars as pl

    tmp, _, _, result = e2e
    out = tmp / "weighted"
    eng = pl.read_parquet(out / "eng_Latn" / "*.parquet")
    words = pl.Series([len(t.split()) for t in eng["text"].to_list()])
    plan = _rehydrate_stats(result.stats)["languages"]["eng_Latn"]["budget"]
    total = int((eng["weight"] * words).sum())
    assert plan["after"] == total
    assert abs(total - E2E_BUDGET["targets"]["eng_Latn"]) <= int(words.max())
    assert (eng["weight"] >= 1).all()
    # removed rows of each stage have that stage's columns: read the files one by one
    removed = pl.concat([pl.read_parquet(p) for p in sorted((out / "_removed").rglob("*.parquet"))],
                        how="diagonal_relaxed")
    dropped = removed.filter(pl.col("drop_reason") == "rehydrate:budget_downsampled")
    assert dropped.height == plan["documents_dropped"] == result.stats["languages"]["eng_Latn"]["removed_by"].get(
        "rehydrate:budget_downsampled", 0)
    assert (dropped["weight"] == 0).all()


@pytest.mark.slow
def test_e2e_materialized_rows_equal_the_weights(e2e) -> None:
    import polars as pl

    tmp, inputs, _, weighted = e2e
    result = _e2e_run(tmp / "materialized", inputs, materialize=True)
    assert _rehydrate_stats(result.stats)["languages"] == _rehydrate_stats(weighted.stats)["languages"]
    for lang in weighted.stats["output"]:
        w = pl.read_parquet(tmp / "weighted" / lang / "*.parquet")
        m = pl.read_parquet(tmp / "materialized" / lang / "*.parquet")
        assert m.height == w["weight"].sum() == result.stats["output"][lang]["documents"]
        assert m["id"].n_unique() == m.height and (m["weight"] == 1).all()
        originals = m.filter(pl.col("copy_index") == 0).sort("id")
        assert originals["id"].to_list() == w.sort("id")["id"].to_list()
        per_doc = m.group_by("minhash_cluster_id", "copy_index").len()["len"]
        assert per_doc.max() >= 1
        assert sorted(m.group_by(pl.col("id").str.replace(r"#\d+$", "")).len()["len"].to_list()) == sorted(
            w["weight"].to_list())
    # accounting: every input document is kept, removed or errored once; copies are counted apart
    langs = result.stats["languages"]
    assert sum(e["in"] for e in langs.values()) == result.stats["read"]["emitted"]
    assert langs["eng_Latn"]["copies"] == result.stats["output"]["eng_Latn"]["documents"] - \
        weighted.stats["output"]["eng_Latn"]["documents"]
