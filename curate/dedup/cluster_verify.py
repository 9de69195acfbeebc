"""Verified clusters: a member is removed only when it is close to the document kept in its place.

LSH candidates are joined transitively (A~B~C puts C in A's cluster even when C is far from A): at 100B
tokens, marin measured a median 76% of each source removed and 63.6% semantic false positives among
disagreements on a manual review (marin-community/marin #6854). Verification compares every member with
its cluster's kept document on their signatures: the share of equal min-hash values estimates the Jaccard
similarity of their shingle sets (Broder, "On the resemblance and containment of documents", 1997); the
signatures are cut to their low 16 bits (b-bit minwise hashing, Li & Koenig, WWW 2010: a chance agreement
has probability 2^-16, negligible). A member at or above the threshold is removed as a duplicate of the
kept document; the others are kept, each as its own cluster of one; the cluster size is then the kept
document plus the members removed for it.

No task holds a cluster or fetches a signature per member:

1. ``combine`` (:mod:`.components`) sends, for each (cluster, partition holding members of it), one request
   for the kept document's signature to the kept document's home partition;
2. ``lookup`` — per node partition: its documents' signatures for the requests it got, sent back to the
   asking partitions (a cluster of ten million members asks at most once per partition);
3. ``verify`` — per node partition: each member's similarity to its kept document, the decision, and per
   cluster the number removed here (to the cluster's home);
4. ``recount`` — per root partition: verified cluster sizes and statistics, sent back;
5. ``apply`` (:func:`apply_verified`) — the decided members with their sizes, similarity as evidence.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from curate.blocks import columns as C
from curate.dedup.cluster_tables import (
    CLUSTERED_SCHEMA,
    COUNT_SCHEMA,
    DECISION_SCHEMA,
    REPLY_SCHEMA,
    REQUEST_SCHEMA,
    SIZE_SCHEMA,
    ClusterTask,
    group_starts,
    sample_members,
    sig_matrix,
    sig_schema,
    write_clustered,
)
from curate.dedup.star_contraction import node_partition
from curate.dedup.star_rounds import ComponentsError, part_name
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.workdir import Workdir

BINS = 20  # similarity histogram: bins of 0.05


def _signatures(wd: Workdir, task: ClusterTask, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted nodes, their signature matrix) for the ``want`` nodes among this partition's documents, read
    batch by batch so that only the wanted signatures are held."""
    assert task.sigs is not None
    nodes: list[np.ndarray] = []
    sigs: list[np.ndarray] = []
    want = np.unique(want)
    for batch in shuffle.read_batches(wd, task.sigs, task.partition):
        node = batch.column(0).to_numpy()
        hit = np.isin(node, want)
        if hit.any():
            nodes.append(node[hit])
            sigs.append(sig_matrix(batch.column(1).filter(pa.array(hit)), task.sig_width).copy())
    node = np.concatenate(nodes) if nodes else np.empty(0, np.int64)
    matrix = np.concatenate(sigs) if sigs else np.empty((0, task.sig_width // 2), "<u2")
    order = np.argsort(node, kind="stable")
    return node[order], matrix[order]


def _positions(keys: np.ndarray, want: np.ndarray, what: str, wd: Workdir) -> np.ndarray:
    pos = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
    if len(want) and (len(keys) == 0 or not np.array_equal(keys[pos], want)):
        raise ComponentsError(f"verification found no {what} for some documents in {wd.url}; delete it and rerun")
    return pos


def _lookup(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    requests = shuffle.read(wd, task.source, task.partition, REQUEST_SCHEMA)
    want = requests.column("node").to_numpy()
    node, matrix = _signatures(wd, task, want)
    pos = _positions(node, want, "signature", wd)
    flat = np.ascontiguousarray(matrix[pos]).tobytes()
    data = pa.FixedSizeBinaryArray.from_buffers(pa.binary(task.sig_width), len(want), [None, pa.py_buffer(flat)])
    table = pa.table([pa.array(want, pa.int64()), data], schema=sig_schema(task.sig_width))
    size = shuffle.write(wd, "cl/kept", task.partition, table, requests.column("src").to_numpy(), task.partitions)
    return {"rows_read": requests.num_rows + len(node), "run_bytes": size}


def _verify(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    members = wd.read_arrow("cl", "members", part_name(task.partition) + ".arrow")
    replies = shuffle.read(wd, task.source, task.partition, REPLY_SCHEMA)
    assert task.kept is not None
    kept_sigs = shuffle.read(wd, task.kept, task.partition, sig_schema(task.sig_width))
    root = members.column("root").to_numpy()
    node = members.column("node").to_numpy()
    r_root, first = np.unique(replies.column("root").to_numpy(), return_index=True)
    at = first[_positions(r_root, root, "cluster answer", wd)]
    kept_node = replies.column("kept_node").to_numpy()[at]
    k_node, k_first = np.unique(kept_sigs.column("node").to_numpy(), return_index=True)
    kept_matrix = sig_matrix(kept_sigs.column("sig"), task.sig_width)[k_first]
    own_node, own_matrix = _signatures(wd, task, node)
    own = own_matrix[_positions(own_node, node, "signature", wd)]
    theirs = kept_matrix[_positions(k_node, kept_node, "kept signature", wd)]
    similarity = (own == theirs).mean(axis=1) if len(node) else np.empty(0)
    is_kept = node == kept_node
    similarity[is_kept] = 1.0
    removed = ~is_kept & (similarity >= task.verify)
    keep = ~removed
    kept_id = replies.column("kept_id").take(pa.array(at))
    decisions = pa.table([pa.array(root), pa.array(node), members.column(C.ID), pa.array(keep), pa.array(similarity),
                          kept_id, pa.array(is_kept)], schema=DECISION_SCHEMA)
    wd.write_arrow(decisions, "cl", "decisions", part_name(task.partition) + ".arrow")
    # per cluster: members removed here, to the cluster's home (which knows the kept document's language)
    order = np.argsort(root, kind="stable")
    starts = group_starts(root[order])
    counts = np.add.reduceat(removed[order].astype(np.int64), starts) if len(starts) else np.empty(0, np.int64)
    kept_lang = replies.column("kept_lang").take(pa.array(at[order][starts])) if len(starts) else pa.array([], pa.string())
    groups = root[order][starts]
    table = pa.table([pa.array(groups), pa.array(counts), kept_lang,
                      pa.array(np.full(len(groups), task.partition, np.int64))], schema=COUNT_SCHEMA)
    size = shuffle.write(wd, "cl/counts", task.partition, table, node_partition(groups, task.partitions),
                         task.partitions)
    candidates = ~is_kept
    langs = members.column(C.LANG).to_pylist()
    rejected = Counter(langs[i] for i in np.flatnonzero(candidates & keep).tolist())
    hist = np.bincount(np.minimum((similarity[candidates] * BINS).astype(np.int64), BINS - 1), minlength=BINS)
    samples: dict[str, dict[str, Any]] = {}
    sample_members(samples, root, node, keep, members.column(C.URL).to_pylist(), members.column(C.ID).to_pylist(),
                   task.top, similarity)
    return {"rows_read": members.num_rows + replies.num_rows + kept_sigs.num_rows + len(own_node),
            "run_bytes": size, "candidates": int(candidates.sum()), "removed": int(removed.sum()),
            "rejected": dict(sorted(rejected.items())), "histogram": hist.tolist(), "samples": samples}


def _recount(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    t = shuffle.read(wd, task.source, task.partition, COUNT_SCHEMA)
    root = t.column("root").to_numpy()
    order = np.argsort(root, kind="stable")
    starts = group_starts(root[order])
    sizes = 1 + (np.add.reduceat(t.column("removed").to_numpy()[order], starts) if len(starts) else np.empty(0, np.int64))
    langs = t.column("kept_lang").take(pa.array(order[starts])).to_pylist() if len(starts) else []
    dist: dict[str, Counter[int]] = {}
    for lang, n in zip(langs, sizes.tolist(), strict=True):
        dist.setdefault(lang, Counter())[n] += 1
    group = np.empty(len(root), dtype=np.int64)
    if len(root):
        group[order] = np.cumsum(np.r_[True, root[order][1:] != root[order][:-1]]) - 1
    table = pa.table([pa.array(root), pa.array(sizes[group] if len(root) else np.empty(0, np.int64))],
                     schema=SIZE_SCHEMA)
    size = shuffle.write(wd, "cl/sizes", task.partition, table, t.column("src").to_numpy(), task.partitions)
    return {"rows_read": t.num_rows, "run_bytes": size,
            "clusters": {lang: {str(s): c for s, c in sorted(d.items())} for lang, d in sorted(dist.items())}}


def apply_verified(wd: Workdir, task: ClusterTask) -> dict[str, Any]:
    """The members' rows: removed ones carry their kept document's id and the verified size; kept documents
    the size; members kept by verification are clusters of one."""
    decisions = wd.read_arrow("cl", "decisions", part_name(task.partition) + ".arrow")
    sizes = shuffle.read(wd, task.source, task.partition, SIZE_SCHEMA)
    root = decisions.column("root").to_numpy()
    s_root, first = np.unique(sizes.column("root").to_numpy(), return_index=True)
    size_of = sizes.column("size").to_numpy()[first][_positions(s_root, root, "verified size", wd)]
    keep = decisions.column("keep").to_numpy(zero_copy_only=False)
    is_kept = decisions.column("kept_doc").to_numpy(zero_copy_only=False)
    alone = keep & ~is_kept  # kept by verification: its own cluster
    cluster_size = np.where(alone, 1, size_of)
    ids = decisions.column(C.ID)
    cluster_id = pa.array(np.where(alone, np.array(ids.to_pylist(), dtype=object),
                                   np.array(decisions.column("kept_id").to_pylist(), dtype=object)).tolist(), pa.string())
    table = pa.table([decisions.column("node"), ids, pa.array(keep), pa.array(cluster_size), cluster_id,
                      decisions.column("similarity")], schema=CLUSTERED_SCHEMA)
    return {"rows_read": decisions.num_rows + sizes.num_rows, "run_bytes": write_clustered(wd, task, table),
            "samples": {}}


PHASES = {"lookup": _lookup, "verify": _verify, "recount": _recount}
