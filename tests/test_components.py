"""Distributed connected components (large-star / small-star tasks) against scipy's answer.

Random graphs over documents of several shards are written as the edges phase writes them; the component
tasks run (serially, or in a real process pool) over a workdir; each node's cluster size, kept flag and
cluster id are compared with scipy.sparse.csgraph.connected_components plus the keep rule applied to
scipy's labels.
"""

from __future__ import annotations

import multiprocessing
import uuid

import numpy as np
import pyarrow as pa
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curate.dedup import partitioned_shuffle as shuffle
from curate.dedup.components import (
    ROW_BITS,
    build_clusters,
    edge_rows,
    read_piece,
    read_results,
    write_docs,
    write_edge_rows,
)
from curate.dedup.row_ranges import RowRanges
from curate.dedup.star_contraction import large_star, small_star
from curate.dedup.workdir import Workdir


def serial_map(fn, items):
    return [fn(x) for x in items]


def random_graph(rng: np.random.Generator):
    """Shard sizes, doc ids (random, so first_id differs from first_index), and undirected edges."""
    shards = int(rng.integers(1, 5))
    sizes = rng.integers(1, 25, shards)
    docs = np.concatenate([(s << ROW_BITS) + np.arange(n) for s, n in enumerate(sizes)])
    n_edges = int(rng.integers(0, 2 * len(docs) + 1))
    shape = rng.choice(["random", "path", "star"])
    if shape == "path":  # long paths: the worst case for label propagation, many rounds
        perm = rng.permutation(docs)
        a, b = perm[:-1], perm[1:]
    elif shape == "star":
        a = np.full(len(docs) - 1, docs[int(rng.integers(len(docs)))])
        b = docs[docs != a[0]] if len(a) else a
    else:
        a, b = rng.choice(docs, n_edges), rng.choice(docs, n_edges)
    ids = {int(d): uuid.UUID(int=int(rng.integers(0, 2**62))).hex[: int(rng.integers(1, 6))] for d in docs}
    return sizes, ids, a.astype(np.int64), b.astype(np.int64)


def expected(sizes, ids, a, b, keep: str) -> dict[int, tuple[bool, int, str]]:
    """Per node in a cluster of size > 1: (kept, size, cluster id), from scipy's components."""
    docs = np.array(sorted(ids))
    index = {int(d): i for i, d in enumerate(docs)}
    u = np.array([index[int(x)] for x in a], dtype=np.int64)
    v = np.array([index[int(x)] for x in b], dtype=np.int64)
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(len(docs), len(docs)))
    _, labels = connected_components(graph, directed=False)
    out = {}
    for label in np.unique(labels):
        members = [int(d) for d in docs[labels == label]]
        if len(members) < 2:
            continue
        rule = (lambda d: (ids[d], d)) if keep == "first_id" else (lambda d: d)
        kept = min(members, key=rule)
        for d in members:
            out[d] = (d == kept, len(members), ids[kept])
    return out


def run_components(url: str, sizes, ids, a, b, partitions: int, keep: str, map_fn=serial_map):
    wd = Workdir(url)
    shard_ids = [f"s{i}" for i in range(len(sizes))]
    docs = []
    for s, n in enumerate(sizes):
        rows = [ids[(s << ROW_BITS) + r] for r in range(n)]
        docs.append(write_docs(wd, s, pa.array(rows, pa.string()), pa.array(["en"] * n, pa.string()), partitions))
    # as the edges phase writes them: one run per edges task, rows both directions by node partition
    runs = []
    for p in range(partitions):
        sel = np.arange(len(a)) % partitions == p
        runs.append(write_edge_rows(wd, "edges", p, *edge_rows(a[sel], b[sel]), partitions))
    stats = build_clusters(map_fn, wd, shard_ids, [int(n) for n in sizes], partitions, {"en": int(sum(sizes))}, keep,
                           edges=shuffle.merge(map_fn, wd, "edges", partitions, runs),
                           docs=shuffle.merge(map_fn, wd, "docs", partitions, docs))
    got = {}
    for s, sid in enumerate(shard_ids):
        t = read_results(wd, sid).to_pylist()
        for r in t:
            got[(s << ROW_BITS) + r["row"]] = (r["keep"], r["cluster_size"], r["cluster_id"])
            assert r["duplicate_of"] == (None if r["keep"] else r["cluster_id"])
            assert r["id"] == ids[(s << ROW_BITS) + r["row"]]
    return got, stats


def test_star_operations_converge_to_scipy_on_1000_random_graphs():
    """The two operations alone, on the whole edge set: the roots are scipy's component minima."""
    rng = np.random.default_rng(12)
    for _ in range(1000):
        sizes, ids, a, b = random_graph(rng)
        node, nbr = edge_rows(a, b)
        for _round in range(100):
            v, m, unsettled = large_star(node, nbr)
            if unsettled == 0:
                break
            node, nbr = edge_rows(*small_star(v, m))
        else:
            pytest.fail("large-star/small-star did not converge")
        root = {int(x): int(y) for x, y in zip(v, m, strict=True)}  # leaf -> root of the star forest
        want = expected(sizes, ids, a, b, "first_index")  # first_index: the kept node is the component minimum
        assert set(root) | set(root.values()) == set(want)
        for d in want:  # every node's root is the smallest node of its scipy component
            members = [x for x in want if root.get(x, x) == root.get(d, d)]
            assert root.get(d, d) == min(members) and len(members) == want[d][1]


def test_distributed_components_equal_scipy_on_1000_random_graphs():
    rng = np.random.default_rng(7)
    for g in range(1000):
        sizes, ids, a, b = random_graph(rng)
        keep = "first_id" if g % 2 else "first_index"
        partitions = int(rng.integers(1, 5))
        got, stats = run_components(f"memory://cc-{g}", sizes, ids, a, b, partitions, keep)
        want = expected(sizes, ids, a, b, keep)
        assert got == want, (g, partitions, keep)
        sizes_dist: dict[int, int] = {}
        for kept, size, _ in want.values():
            if kept:
                sizes_dist[size] = sizes_dist.get(size, 0) + 1
        singles = int(sum(sizes)) - len(want)
        if singles:
            sizes_dist[1] = singles
        assert stats == {"en": dict(sorted(sizes_dist.items()))}
        Workdir(f"memory://cc-{g}").remove()


def test_process_pool_and_partition_count_do_not_change_the_answer(tmp_path):
    rng = np.random.default_rng(3)
    sizes = np.array([300, 200, 500])
    docs = np.concatenate([(s << ROW_BITS) + np.arange(n) for s, n in enumerate(sizes)])
    ids = {int(d): f"{rng.integers(0, 10**6):06d}" for d in docs}
    a, b = rng.choice(docs, 900), rng.choice(docs, 900)
    want = expected(sizes, ids, a, b, "first_id")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pooled, _ = run_components(str(tmp_path / "w1"), sizes, ids, a, b, 5, "first_id", pool.map)
    serial, _ = run_components(str(tmp_path / "w2"), sizes, ids, a, b, 2, "first_id")
    assert pooled == serial == want
    # the same result rows per shard, whatever ran them and however many pieces hold them
    for sid in ("s0", "s1", "s2"):
        assert read_results(Workdir(str(tmp_path / "w1")), sid).equals(read_results(Workdir(str(tmp_path / "w2")), sid))


def _fixture_corpus(shared_data) -> pa.Table:
    """The cs336 dedup fixtures plus real articles with near and exact copies (clusters of 2-4)."""
    import json
    import random

    rows = []
    root = shared_data / "dedup" / "cs336_fixtures"
    for folder in ("documents_with_fuzzy_duplicates", "documents_with_line_duplicates"):
        for f in sorted((root / folder).iterdir()):
            rows.append({"id": f"{folder}/{f.name}", "text": f.read_text(encoding="utf-8"), "lang": "eng_Latn"})
    rng = random.Random(11)
    with open(shared_data / "extraction" / "scrapinghub_aeb_gold.jsonl", encoding="utf-8") as f:
        arts = [json.loads(line)["articleBody"] for line in f][:120]
    for i, text in enumerate(arts):
        rows.append({"id": f"z{i:03d}", "text": text, "lang": "eng_Latn"})
        for c in range(i % 4):  # 0-3 copies, some with a few words changed
            words = text.split()
            for _ in range(c):
                if words:
                    words[rng.randrange(len(words))] = f"edit{rng.randrange(10**6)}"
            rows.append({"id": f"c{i:03d}-{c}-{rng.randrange(100)}", "text": " ".join(words), "lang": "eng_Latn"})
    rng.shuffle(rows)
    return pa.Table.from_pylist(rows)


def test_minhash_step_on_the_fixtures_equals_scipy_over_its_own_edges(shared_data, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from dedup_harness import decisions, run_step, split_table, write_shards

    from curate.dedup import MinHashDedup
    from curate.dedup.shuffle import partition_edges_task

    tbl = _fixture_corpus(shared_data)
    tables = split_table(tbl, 5)
    shards = write_shards(tables, tmp_path / "in")
    work = tmp_path / "work"
    captured: list[pa.Table] = []

    def capturing_map(fn, items):
        out = serial_map(fn, items)
        if fn is partition_edges_task:  # the candidate edges, before the components consume them
            captured.extend(pa.ipc.open_stream(p.read_bytes()).read_all()
                            for p in sorted((work / "edges" / "runs").glob("*.arrow")))
        return out

    outputs, _ = run_step(MinHashDedup(partitions=3), shards, work, capturing_map)
    got = {k: (v[0], v[2], v[3]) for k, v in decisions(outputs).items()}
    edges = pa.concat_tables(captured)
    a, b = edges.column("node").to_numpy(), edges.column("nbr").to_numpy()
    assert len(a) > 50
    ids = {(s << ROW_BITS) + r: doc_id for s, t in enumerate(tables) for r, doc_id in enumerate(t.column("id").to_pylist())}
    sizes = np.array([t.num_rows for t in tables])
    want = expected(sizes, ids, a, b, "first_id")
    for doc_number, doc_id in ids.items():
        kept, size, cluster = want.get(doc_number, (True, 1, doc_id))
        assert got[doc_id] == (kept, size, cluster), doc_id
    assert sum(1 for v in want.values() if not v[0]) > 20  # a real number of duplicates was removed


def test_one_big_shard_every_phase_task_reads_about_n_over_partitions(tmp_path):
    """1 shard of 6,000 documents, 8 partitions: every labels, join, clusters and results task reads about
    N/8 rows (counted by the task itself), not the whole shard; the answer is still scipy's."""
    rng = np.random.default_rng(21)
    n, partitions = 6000, 8
    sizes = np.array([n])
    docs = np.arange(n, dtype=np.int64)
    ids = {int(d): f"{rng.integers(0, 10**9):09d}" for d in docs}
    a, b = rng.choice(docs, n // 2), rng.choice(docs, n // 2)  # most documents end up in a cluster
    reads: dict[str, list[int]] = {}

    def recording_map(fn, items):
        out = serial_map(fn, items)
        name = getattr(items[0], "phase", fn.__name__)
        reads.setdefault(name, []).extend(info["rows_read"] for info in out if "rows_read" in info)
        return out

    got, _ = run_components(str(tmp_path / "w"), sizes, ids, a, b, partitions, "first_id", recording_map)
    assert got == expected(sizes, ids, a, b, "first_id")
    for phase in ("labels", "join", "clusters", "results_task"):
        rows = reads[phase]
        assert len(rows) == partitions and sum(rows) <= 3 * n, phase
        assert max(rows) <= 1.5 * sum(rows) / partitions, (phase, rows)  # no task holds the shard
    assert max(reads["join"]) <= 1.5 * 2 * n / partitions  # its nodes plus its docs row group, ~2N/P
    # the shard's results: one piece per range, each at most ceil(N/P) rows
    wd = Workdir(str(tmp_path / "w"))
    first = read_piece(wd, "s0", 0)
    assert first is not None and first[1] == partitions
    pieces = [read_piece(wd, "s0", k)[0] for k in range(partitions)]
    assert all(p.num_rows <= -(-n // partitions) for p in pieces)
    assert pa.concat_tables(pieces).equals(read_results(wd, "s0"))


def test_row_ranges_cut_the_shards_into_contiguous_ranges_of_at_most_ceil_n_over_p():
    """Every document lands in the range q with q*N//P <= its position < (q+1)*N//P, by the boundaries the
    clusters tasks use, and each shard has one piece per range it meets (shards of 0 rows included)."""
    rng = np.random.default_rng(5)
    for _ in range(300):
        rows = [int(x) for x in rng.integers(0, 12, int(rng.integers(0, 6)))]
        partitions = int(rng.integers(1, 9))
        ranges = RowRanges(rows, partitions, ROW_BITS)
        total = sum(rows)
        boundaries = np.asarray(ranges.boundaries(), dtype=np.int64)
        pieces = ranges.pieces()
        assert sum(len(p) for p in pieces) <= len(rows) + partitions - 1
        g = 0
        for s, n in enumerate(rows):
            met = sorted(q for q, ps in enumerate(pieces) for (shard, _, _) in ps if shard == s)
            for r in range(n):
                q = int(np.searchsorted(boundaries, (s << ROW_BITS) | r, side="right"))
                assert q * total // partitions <= g < (q + 1) * total // partitions
                assert q in met
                g += 1
            numbered = [(k, c) for ps in pieces for (shard, k, c) in ps if shard == s]
            assert numbered == [(k, len(met)) for k in range(len(met))]
            assert (n == 0) == (not met)
