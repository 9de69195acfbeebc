"""Clusters from candidate edges: connected components per language and one kept document per cluster.

Only documents that appear in an edge are loaded (everything else is a singleton), so memory follows the
number of duplicates, not the corpus. Components come from ``scipy.sparse.csgraph.connected_components``,
once per language (edges only ever join documents of one language; any edge that would cross languages,
e.g. from a hash collision, is dropped here). The kept document of a cluster is chosen deterministically:

- ``first_id`` (default): the smallest document ``id`` (ties: the earlier shard/row). Independent of how
  the input is split into shards, so 1 shard and 7 shards keep the same documents.
- ``first_index``: the earliest document in shard order, then row order (FineWeb2/datatrove keep the first
  document of a cluster in processing order).

The cluster id is the kept document's ``id`` (a string): stable, readable, and the same however the input
was sharded.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curate.blocks import columns as C
from curate.dedup.shuffle import ROW_BITS, ROW_MASK, part_name, shard_name
from curate.dedup.workdir import Workdir

KeepRule = Literal["first_id", "first_index"]
KEEP_RULES: tuple[str, ...] = get_args(KeepRule)
RESULT_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        (C.ID, pa.string()),
        ("keep", pa.bool_()),
        ("duplicate_of", pa.string()),
        ("cluster_size", pa.int64()),
        ("cluster_id", pa.string()),
    ]
)


def _load_edges(wd: Workdir, partitions: int) -> tuple[np.ndarray, np.ndarray]:
    src, dst = [], []
    for p in range(partitions):
        t = wd.read_parquet("edges", part_name(p) + ".parquet")
        src.append(t.column("src").to_numpy())
        dst.append(t.column("dst").to_numpy())
    return np.concatenate(src), np.concatenate(dst)


def _node_docs(wd: Workdir, nodes: np.ndarray, n_shards: int) -> tuple[pa.Array, pa.Array]:
    """(id, lang) of each node (sorted global doc numbers), reading one shard's doc table at a time."""
    ids, langs = [], []
    shard_of = nodes >> ROW_BITS
    bounds = np.searchsorted(shard_of, np.arange(n_shards + 1))
    for s in range(n_shards):
        lo, hi = int(bounds[s]), int(bounds[s + 1])
        if hi == lo:
            continue
        t = wd.read_parquet("docs", shard_name(s) + ".parquet")
        rows = pa.array(nodes[lo:hi] & ROW_MASK)
        ids.append(t.column(C.ID).take(rows).combine_chunks())
        langs.append(t.column(C.LANG).take(rows).combine_chunks())
    if not ids:
        return pa.array([], pa.string()), pa.array([], pa.string())
    return pa.concat_arrays(ids), pa.concat_arrays(langs)


def build_clusters(
    wd: Workdir,
    n_shards: int,
    partitions: int,
    lang_totals: dict[str, int],
    keep: str = "first_id",
    per_language: bool = True,
) -> dict[str, dict[int, int]]:
    """Write ``results/shard-*.parquet`` (rows in a cluster of size > 1) and return per-language
    cluster-size distributions ``{lang: {size: number of clusters}}`` (size 1 = unique documents).

    ``per_language=False`` (exact dedup across languages) lets clusters span languages; a cluster is
    then counted under its kept document's language."""
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {KEEP_RULES}, not {keep!r}")
    src, dst = _load_edges(wd, partitions)
    nodes, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    u, v = inverse[: len(src)], inverse[len(src) :]
    ids, langs = _node_docs(wd, nodes, n_shards)
    lang_dict = langs.dictionary_encode()
    lang_code = np.asarray(lang_dict.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    lang_names: list[str] = lang_dict.dictionary.to_pylist()
    # the scope of a cluster: one language (default), or everything
    group = lang_code if per_language else np.zeros(len(nodes), dtype=np.int64)
    n_groups = len(lang_names) if per_language else min(1, len(nodes))
    same = group[u] == group[v]
    u, v = u[same], v[same]

    # rank of each node under the keep rule: the kept document is the lowest rank of its cluster
    if keep == "first_id":
        order = pc.sort_indices(
            pa.table({"id": ids, "n": np.arange(len(nodes))}),
            sort_keys=[("id", "ascending"), ("n", "ascending")],
        ).to_numpy()
    else:
        order = np.arange(len(nodes))
    rank = np.empty(len(nodes), dtype=np.int64)
    rank[order] = np.arange(len(nodes))

    labels = np.full(len(nodes), -1, dtype=np.int64)
    next_label = 0
    stats: dict[str, dict[int, int]] = {}
    for code in range(n_groups):
        members = np.flatnonzero(group == code)
        sel = group[u] == code
        lu = np.searchsorted(members, u[sel])
        lv = np.searchsorted(members, v[sel])
        graph = coo_matrix((np.ones(len(lu), dtype=np.int8), (lu, lv)), shape=(len(members), len(members)))
        n_comp, lab = connected_components(graph, directed=False)
        labels[members] = lab + next_label
        next_label += n_comp
    sizes = np.bincount(labels, minlength=next_label)
    by_label_rank = np.lexsort((rank, labels))
    first = np.ones(len(nodes), dtype=bool)
    first[1:] = labels[by_label_rank][1:] != labels[by_label_rank][:-1]
    kept_node = np.empty(next_label, dtype=np.int64)
    kept_node[labels[by_label_rank][first]] = by_label_rank[first]
    node_kept = kept_node[labels]
    keep_mask = node_kept == np.arange(len(nodes))
    cluster_id = ids.take(pa.array(node_kept))
    duplicate_of = pc.if_else(pa.array(keep_mask), pa.scalar(None, pa.string()), cluster_id)
    node_size = sizes[labels]

    # statistics: clusters of size > 1 from the graph, every other document of the language is a singleton
    in_graph: Counter[str] = Counter()
    for code, lang in enumerate(lang_names):
        members = lang_code == code
        in_graph[lang] = int(members.sum())
        dist = Counter(node_size[members & keep_mask].tolist())
        stats[lang] = {int(s): int(c) for s, c in sorted(dist.items())}
    for lang, total in lang_totals.items():
        singles = total - in_graph.get(lang, 0)
        dist = stats.setdefault(lang, {})
        if singles:
            dist[1] = dist.get(1, 0) + singles
        stats[lang] = dict(sorted(dist.items()))

    shard_of = nodes >> ROW_BITS
    bounds = np.searchsorted(shard_of, np.arange(n_shards + 1))
    for s in range(n_shards):
        lo, hi = int(bounds[s]), int(bounds[s + 1])
        tbl = pa.table(
            [
                pa.array(nodes[lo:hi] & ROW_MASK),
                ids.slice(lo, hi - lo),
                pa.array(keep_mask[lo:hi]),
                duplicate_of.slice(lo, hi - lo),
                pa.array(node_size[lo:hi]),
                cluster_id.slice(lo, hi - lo),
            ],
            schema=RESULT_SCHEMA,
        )
        wd.write_parquet(tbl, "results", shard_name(s) + ".parquet")
    return stats


def summarize(stats: dict[str, dict[int, int]]) -> dict[str, Any]:
    """Per language: documents, clusters, removed duplicates."""
    out = {}
    for lang, dist in stats.items():
        docs = sum(s * c for s, c in dist.items())
        clusters = sum(dist.values())
        out[lang] = {"documents": docs, "clusters": clusters, "removed": docs - clusters}
    return out
