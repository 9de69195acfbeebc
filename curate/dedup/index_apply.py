"""The clusters phases of a run against a dedup index: earlier clusters as nodes, and what the run changes.

``join`` (:mod:`.components`) reads, beside the partition's new documents, the earlier clusters the lookup
sent there (:mod:`.index_lookup`): one row each, carrying its size as a count and its kept document as its id
(its node number, ``cid - SUPER``, orders it as its kept document: before every new one, as ``first_index``
wants; ``first_id`` orders by id). Cluster sizes are then sums of counts, the kept document the best of the
new documents and the earlier kept ones, exactly as in one run over everything (a cluster's kept document is
the best of its members, so the best of an earlier cluster is its kept document).

``apply`` then records, per partition, what the index's next version must say (:func:`record`):

- ``ix/labels``: each new document that is not kept -> its cluster (the kept document's number);
- ``ix/clusters``: each earlier cluster the run touched: its new size, or, when a new document or another
  earlier cluster's kept document now wins (a bridge merged them, or ``first_id`` met a smaller id), a
  forward to the winner (the row keeps its kept document's outcome, for a later rebuild);
- ``ix/updates``: per earlier dump, the rows of its output the run changes (keyed by document id: new
  cluster size, or no longer kept and whose duplicate it now is), so old Parquet is never rewritten;
- the change in the corpus' counts: cluster sizes per language, and the filters' outcome per language and
  cluster size (rehydration reads them for the whole corpus).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from curate.blocks import columns as C
from curate.dedup.cluster_tables import DOCS_SCHEMA, ClusterTask
from curate.dedup.index_tables import (
    CLUSTER_SCHEMA,
    LABEL_SCHEMA,
    SUPER,
    SUPER_SCHEMA,
    UPDATE_SCHEMA,
    counted_lang,
    global_cid,
)
from curate.dedup.star_contraction import node_partition
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.workdir import Workdir

MEMBER_EXTRA = [("count", pa.int64()), ("filtered", pa.bool_()), ("known", pa.bool_())]


def with_supers(wd: Workdir, task: ClusterTask, docs: pa.Table) -> pa.Table:
    """The partition's new documents (count 1) and the earlier clusters sent to it, sorted by node."""
    assert task.supers is not None
    supers = shuffle.read(wd, task.supers, task.partition, SUPER_SCHEMA)
    n = docs.num_rows
    new = pa.table([*docs.columns, pa.array(np.ones(n, np.int64)), pa.nulls(n, pa.bool_()),
                    pa.array(np.ones(n, bool))], schema=SUPER_SCHEMA)
    both = pa.concat_tables([new, supers])
    order = np.argsort(both.column("node").to_numpy(), kind="stable")
    return both.take(pa.array(order))


def member_columns(docs: pa.Table) -> list[pa.ChunkedArray]:
    """The extra member columns of an index run (count, filtered, known), from :func:`with_supers`' rows."""
    return [docs.column(name) for name, _ in MEMBER_EXTRA]


def member_schema(base: pa.Schema) -> pa.Schema:
    return pa.schema([*base, *MEMBER_EXTRA])


def docs_only(docs: pa.Table) -> pa.Table:
    return docs.select(DOCS_SCHEMA.names)


def _add(into: dict[str, dict[str, int]], lang: str, size: int, n: int) -> None:
    entry = into.setdefault(lang, {})
    entry[str(size)] = entry.get(str(size), 0) + n


def record(wd: Workdir, task: ClusterTask, members: pa.Table, keep: np.ndarray, sizes: np.ndarray,
           kept_ids: pa.Array, kept_node: np.ndarray) -> dict[str, Any]:
    """Write this partition's runs of ``ix/labels``, ``ix/clusters`` and ``ix/updates`` (see the module doc)."""
    parts = task.partitions
    node = members.column("node").to_numpy()
    new = node >= 0
    cid = global_cid(kept_node)
    label = new & ~keep
    labels = pa.table([pa.array(node[label]), pa.array(cid[label])], schema=LABEL_SCHEMA)
    label_bytes = shuffle.write(wd, "ix/labels", task.partition, labels, node_partition(node[label], parts), parts)

    at = np.flatnonzero(~new)
    old = node[at] + np.int64(SUPER)
    won = keep[at]
    count = members.column("count").to_numpy()[at]
    take = pa.array(at)
    ids, langs = members.column(C.ID).take(take), members.column(C.LANG).take(take)
    filtered = members.column("filtered").take(take)
    known = members.column("known").take(take)
    new_size = sizes[at]
    clusters = pa.table([pa.array(old), pa.array(np.where(won, new_size, count)), ids, langs, filtered, known,
                         pa.array(np.where(won, -1, cid[at]))], schema=CLUSTER_SCHEMA)
    cluster_bytes = shuffle.write(wd, "ix/clusters", task.partition, clusters, node_partition(old, parts), parts)

    firsts = np.asarray(task.dump_firsts, dtype=np.int64)
    dump = np.searchsorted(firsts, old, side="right") - 1
    updates = pa.table([ids, langs, pa.array(won), pa.array(new_size), kept_ids.take(take), filtered,
                        pa.array(np.full(len(at), task.index_version, np.int64))], schema=UPDATE_SCHEMA)
    update_bytes = shuffle.write(wd, "ix/updates", task.partition, updates, dump, max(len(firsts), 1))

    # the corpus' counts: the touched clusters leave their old (size, outcome); those still kept where they
    # were come back at their new size (new clusters are counted by the combine tasks and by the commit)
    dist: dict[str, dict[str, int]] = {}
    rehydrate: dict[str, dict[str, dict[str, int]]] = {}
    for lang, c in zip(langs.to_pylist(), count.tolist(), strict=True):
        _add(dist, lang, c, -1)
    for lang, c, size, w, f in zip(counted_lang(langs).to_pylist(), count.tolist(), new_size.tolist(),
                                   won.tolist(), filtered.to_pylist(), strict=True):
        bucket = rehydrate.setdefault(lang, {"kept": {}, "removed": {}})["removed" if f else "kept"]
        bucket[str(c)] = bucket.get(str(c), 0) - 1
        if w:
            bucket[str(size)] = bucket.get(str(size), 0) + 1
    return {"label_bytes": label_bytes, "cluster_bytes": cluster_bytes, "update_bytes": update_bytes,
            "touched": int(len(at)), "retracted": int((~won).sum()), "labels": int(label.sum()),
            "dist": dist, "rehydrate": rehydrate,
            "touched_by_dump": dict(Counter(str(d) for d in dump.tolist()))}
