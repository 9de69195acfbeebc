"""Distributed connected components (large-star / small-star tasks) against scipy's answer.

Random graphs over documents of several shards are written as the edges phase writes them; the component
tasks run (serially, or in a real process pool) over a workdir; each node's cluster size, kept flag and
cluster id are compared with scipy.sparse.csgraph.connected_components plus the keep rule applied to
scipy's labels. The adversarial families of the star-contraction literature (long paths, complete binary
trees, stars, random graphs with a giant component) converge to scipy's components within the
O(log^2 n) round bound, and with one component holding half of the documents no task reads more than a
fixed multiple of N/P rows.
"""

from __future__ import annotations

import multiprocessing
import uuid

import numpy as np
import pyarrow as pa
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curate.dedup.components import (
    ROW_BITS,
    build_clusters,
    read_piece,
    read_results,
    write_docs,
    write_edges,
)
from curate.dedup.row_ranges import RowRanges
from curate.dedup.star_contraction import (
    apply_large,
    apply_small,
    combine,
    edge_partition,
    orient,
    partials,
    unique_rows,
)
from curate.dedup.star_rounds import LABEL_SCHEMA, max_rounds
from curate.dedup.star_rounds import connected_components as distributed_components
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.workdir import Workdir


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
    # as the edges phase writes them: one run per edges task, (big, small) rows by edge partition
    runs = []
    for p in range(partitions):
        sel = np.arange(len(a)) % partitions == p
        runs.append(write_edges(wd, p, a[sel], b[sel], partitions))
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


def simulate(a: np.ndarray, b: np.ndarray, partitions: int) -> tuple[dict[int, int], int]:
    """The kernels alone, partition by partition in one process, as the tasks run them: leaf -> root of
    the star forest, and the rounds (large-star operations) it took."""
    big, small = orient(a, b)
    where = edge_partition(big, small, partitions)
    parts = [unique_rows(big[where == e], small[where == e]) for e in range(partitions)]
    op = 0
    while True:
        rows = [partials(*p) for p in parts]
        nodes, m, unsettled, _ = combine(*(np.concatenate([r[i] for r in rows]) for i in range(4)))
        if op % 2 == 0 and unsettled.sum() == 0:
            break
        apply = apply_large if op % 2 == 0 else apply_small
        new = [apply(bg, sm, nodes, m) for bg, sm in parts]
        assert sum(len(x[0]) for x in new) <= sum(len(x[0]) for x in parts)  # an edge maps to <= 1 edge
        assert all(len(n[0]) <= len(o[0]) for n, o in zip(new, parts, strict=True))  # and stays in its partition
        parts = new
        op += 1
        assert op < 400
    root: dict[int, int] = {}
    for bg, sm in parts:
        for x, y in zip(bg.tolist(), sm.tolist(), strict=True):
            assert root.setdefault(x, y) == y  # a forest: one root per leaf
    return root, op // 2 + 1


def test_star_kernels_converge_to_scipy_on_1000_random_graphs():
    """The two operations on partitioned edges: every node's root is the smallest node of its scipy
    component, whatever the partition count."""
    rng = np.random.default_rng(12)
    for g in range(1000):
        sizes, ids, a, b = random_graph(rng)
        root, _ = simulate(a, b, 1 + g % 5)
        want = expected(sizes, ids, a, b, "first_index")  # first_index: the kept node is the component minimum
        assert set(root) | set(root.values()) == set(want)
        for d in want:
            members = [x for x in want if root.get(x, x) == root.get(d, d)]
            assert root.get(d, d) == min(members) and len(members) == want[d][1]


def test_distributed_components_equal_scipy_on_250_random_graphs():
    rng = np.random.default_rng(7)
    for g in range(250):
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
    a, b = edges.column("big").to_numpy(), edges.column("small").to_numpy()
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
    for phase in ("labels", "join", "combine", "apply", "results"):
        rows = reads[phase]
        assert len(rows) == partitions and sum(rows) <= 3 * n, phase
        assert max(rows) <= 1.5 * sum(rows) / partitions, (phase, rows)  # no task holds the shard
    assert max(reads["join"]) <= 1.5 * 2 * n / partitions  # its nodes plus its documents, ~2N/P
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


# -- adversarial graphs and skew -----------------------------------------------------------------------------
def as_documents(perm: np.ndarray, shards: int = 3) -> np.ndarray:
    """Node i of a family -> a document number, spread over ``shards`` shards in a random order."""
    return ((perm % shards) << ROW_BITS) | (perm // shards)


def family(name: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(all nodes, edge ends a, b) of an adversarial family with about ``n`` nodes, randomly labelled."""
    if name == "path":  # the longest diameter: the worst case of label propagation
        a, b = np.arange(n - 1), np.arange(1, n)
    elif name == "binary_tree":  # complete binary tree: depth log n, every inner node of degree 3
        n = 2 ** int(np.log2(n + 1)) - 1
        child = np.arange(1, n)
        a, b = child, (child - 1) // 2
    elif name == "star":  # one hub holding every other node
        a, b = np.zeros(n - 1, np.int64), np.arange(1, n)
    else:  # random graph of mean degree 3: a giant component of ~94% of the nodes, and small ones
        a, b = rng.integers(0, n, 3 * n // 2), rng.integers(0, n, 3 * n // 2)
    label = as_documents(rng.permutation(n))
    return label, label[a], label[b]


def scipy_roots(nodes: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[int, int]:
    """Node -> smallest node of its component, for nodes in a component of 2 or more."""
    order = np.sort(nodes)
    u, v = np.searchsorted(order, a), np.searchsorted(order, b)
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(len(order), len(order)))
    _, labels = connected_components(graph, directed=False)
    smallest = np.full(labels.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(smallest, labels, order)
    counts = np.bincount(labels)
    keep = counts[labels] > 1
    return dict(zip(order[keep].tolist(), smallest[labels[keep]].tolist(), strict=True))


def components_of(url: str, a: np.ndarray, b: np.ndarray, partitions: int, nodes: int):
    wd = Workdir(url)
    runs = [write_edges(wd, p, a[p::partitions], b[p::partitions], partitions) for p in range(partitions)]
    edges = shuffle.merge(serial_map, wd, "edges", partitions, runs)
    labels, summary = distributed_components(serial_map, wd, edges, partitions, nodes)
    got: dict[int, int] = {}
    for p in range(partitions):
        t = shuffle.read(wd, labels, p, LABEL_SCHEMA)
        for x, r in zip(t.column("node").to_pylist(), t.column("root").to_pylist(), strict=True):
            assert got.setdefault(x, r) == r
    return got, summary


@pytest.mark.parametrize("name", ["path", "binary_tree", "star", "giant"])
def test_adversarial_families_converge_to_scipy_within_the_round_bound(name):
    rng = np.random.default_rng(len(name))
    n = 20_000
    nodes, a, b = family(name, n, rng)
    got, summary = components_of(f"memory://family-{name}", a, b, 4, len(nodes))
    assert got == scipy_roots(nodes, a, b)
    assert summary["rounds"] <= max_rounds(len(nodes)) and summary["operations"] == 2 * summary["rounds"] - 1
    if name in ("star", "binary_tree"):
        assert summary["rounds"] <= 3 if name == "star" else summary["rounds"] <= 2 * np.log2(n)
    Workdir(f"memory://family-{name}").remove()


@pytest.mark.slow
def test_a_path_of_300_000_nodes_converges_to_scipy(tmp_path):
    rng = np.random.default_rng(1)
    nodes, a, b = family("path", 300_000, rng)
    got, summary = components_of(str(tmp_path / "w"), a, b, 4, len(nodes))
    assert got == scipy_roots(nodes, a, b)
    assert summary["rounds"] <= max_rounds(len(nodes))


def test_the_round_bound_fails_loudly_with_the_graph_size(monkeypatch):
    from curate.dedup import star_rounds

    monkeypatch.setattr(star_rounds, "max_rounds", lambda nodes: 2)
    rng = np.random.default_rng(3)
    nodes, a, b = family("path", 3_000, rng)
    with pytest.raises(star_rounds.ComponentsError, match=r"did not converge in 2 rounds.*3,000 nodes"):
        components_of("memory://bound", a, b, 2, len(nodes))
    Workdir("memory://bound").remove()


@pytest.mark.parametrize("shape", ["star", "giant"])
def test_one_component_with_half_the_documents_leaves_every_task_near_n_over_p(shape):
    """12,000 documents in 3 shards, 8 partitions; one component holds 6,000 of them (a star around one hub
    document, or a random graph's giant component), the rest are pairs and singletons. Every task of every
    phase reads at most 1.5 (N + E)/P rows plus one row per partition for the big cluster, and its
    Python-visible peak memory (numpy, tracked by tracemalloc) stays within a fixed multiple of that."""
    import tracemalloc

    rng = np.random.default_rng(5)
    n, partitions, shards = 12_000, 8, 3
    perm = rng.permutation(n)
    docs = as_documents(perm, shards)
    big = docs[: n // 2]
    if shape == "star":
        a, b = np.full(len(big) - 1, big[0]), big[1:]
    else:
        k = len(big)
        a, b = big[rng.integers(0, k, 2 * k)], big[rng.integers(0, k, 2 * k)]
        a, b = np.r_[a, big[:-1]], np.r_[b, big[1:]]  # and a path through it: one component
    pairs = docs[n // 2: n // 2 + n // 4]
    a, b = np.r_[a, pairs[0::2]], np.r_[b, pairs[1::2]]
    sizes = np.bincount(perm % shards, minlength=shards)
    ids = {int(d): f"{rng.integers(0, 10**9):09d}" for d in docs}
    tasks: list[tuple[str, int, int]] = []

    def measuring_map(fn, items):
        out = []
        for item in items:
            tracemalloc.start()
            info = fn(item)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            out.append(info)
            if isinstance(info, dict) and "rows_read" in info:
                tasks.append((getattr(item, "phase", fn.__name__), int(info["rows_read"]), peak))
        return out

    got, stats = run_components(f"memory://skew-{shape}", sizes, ids, a, b, partitions, "first_id", measuring_map)
    assert got == expected(sizes, ids, a, b, "first_id")
    assert max(stats["en"]) == n // 2
    per_partition = (n + len(a)) / partitions  # documents and edges of a partition
    assert {p for p, _, _ in tasks} >= {"large_star", "large_star_min", "labels", "join", "combine", "apply",
                                        "results"}
    for phase, rows, peak in tasks:  # the hub's partition alone would hold 6,000 edge rows: 2.5x this
        assert rows <= 1.5 * per_partition + partitions, (phase, rows)
        assert peak <= 100 * per_partition + 2**16, (phase, peak)  # bytes: a few int64 columns per row
    Workdir(f"memory://skew-{shape}").remove()
