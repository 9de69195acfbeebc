"""The tables of a persistent dedup index (:mod:`.index_store`) and how a run's graph meets them.

Every document of the index has a *global number*: the dumps are numbered one after the other, densely, in
the order they were added (shard then row inside a dump), so that "earlier in the index" is "smaller
number", as ``first_index`` wants. A cluster is named by its kept document's number, its ``cid``.

Tables (each a partitioned shuffle, :mod:`.partitioned_shuffle`, stored under the index's ``data/``):

- ``keys`` (one per dump, by key partition): ``(k1, k2, doc, salted)`` of every document: the dump's own
  keys shuffle, kept;
- ``docs`` (one per dump, by node partition): ``(node, id, lang, url)`` of every document;
- ``labels`` (one segment per version, by node partition): ``(node, cid)`` of every document that is not its
  cluster's kept document, written when the document is added (or when a drop rebuilds the clusters);
- ``clusters`` (one segment per version, by node partition of ``cid``; the newest row of a ``cid`` wins):
  ``(cid, size, kept_id, lang, filtered, known, forward)``: the cluster's size, its kept document's id and
  language, whether the filters after the dedup step removed that document (``known`` false: it never went
  through them), and ``forward``: -1 for a live cluster, else the ``cid`` of the cluster it was merged into
  (a label names the cluster a document joined; a merge later forwards that cluster, so labels are never
  rewritten). The row of a forwarded cluster keeps its former kept document's outcome.

A run's components see an earlier cluster as ONE node, ``cid - SUPER`` (negative: before every new document,
ordered as the clusters' kept documents), carrying its size as a count (the partial aggregates of
:mod:`.components` add counts instead of members): a cluster of ten million documents costs one row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.blocks import columns as C

SUPER = 1 << 62  # an earlier cluster ``cid`` is the node ``cid - SUPER`` of a run's graph
HIT_SCHEMA = pa.schema([("new", pa.int64()), ("old", pa.int64())])
LABEL_SCHEMA = pa.schema([("node", pa.int64()), ("cid", pa.int64())])
CLUSTER_SCHEMA = pa.schema([("cid", pa.int64()), ("size", pa.int64()), ("kept_id", pa.string()),
                            ("lang", pa.string()), ("filtered", pa.bool_()), ("known", pa.bool_()),
                            ("forward", pa.int64())])
# an earlier cluster as a document of a run's components (its kept document's id and language)
SUPER_SCHEMA = pa.schema([("node", pa.int64()), (C.ID, pa.string()), (C.LANG, pa.string()), (C.URL, pa.string()),
                          ("count", pa.int64()), ("filtered", pa.bool_()), ("known", pa.bool_())])
# what a later version says of a document of an earlier dump's output (newest version wins, by id)
UPDATE_SCHEMA = pa.schema([(C.ID, pa.string()), (C.LANG, pa.string()), ("keep", pa.bool_()),
                           ("cluster_size", pa.int64()), ("cluster_id", pa.string()), ("filtered", pa.bool_()),
                           ("version", pa.int64())])


def super_node(cid: np.ndarray) -> np.ndarray:
    return np.asarray(cid, dtype=np.int64) - np.int64(SUPER)


def global_cid(node: np.ndarray) -> np.ndarray:
    """The cid of a node of a run's graph: an earlier cluster's, or a new document's own number."""
    node = np.asarray(node, dtype=np.int64)
    return np.where(node < 0, node + np.int64(SUPER), node)


def counted_lang(langs: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Languages as the runner counts them (null or empty: ``und``), so index counts meet the stage's."""
    col = langs.combine_chunks() if isinstance(langs, pa.ChunkedArray) else langs
    col = col.cast(pa.string())
    return pc.fill_null(pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col), C.UNKNOWN_LANG)


def match_keys(run_k1: np.ndarray, run_k2: np.ndarray, k1: np.ndarray, k2: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) with ``(run_k1[i], run_k2[i]) == (k1[j], k2[j])``; the run's keys sorted by (k1, k2) and
    distinct. Vectorised: one binary search per row, one pass per run key sharing its first half (rare)."""
    lo = np.searchsorted(run_k1, k1, side="left")
    hi = np.searchsorted(run_k1, k1, side="right")
    rows = np.flatnonzero(hi > lo)
    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    step = 0
    while len(rows):
        pos = lo[rows] + step
        inside = pos < hi[rows]
        rows, pos = rows[inside], pos[inside]
        equal = run_k2[pos] == k2[rows]
        found_i.append(pos[equal])
        found_j.append(rows[equal])
        step += 1
    if not found_i:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(found_i).astype(np.int64), np.concatenate(found_j).astype(np.int64)


def newest_rows(table: pa.Table, column: str, want: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``table`` whose ``column`` is among the sorted distinct ``want`` not ``found`` yet: (positions in
    ``want``, row indices); marks them found (segments are read newest first, so the first row seen wins)."""
    values = table.column(column).to_numpy()
    pos = np.searchsorted(want, values)
    pos = np.minimum(pos, max(len(want) - 1, 0))
    if not len(want):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    hit = (want[pos] == values) & ~found[pos]
    rows = np.flatnonzero(hit)
    at = pos[rows]
    # a segment holds a cid at most once; keep the first anyway
    at, first = np.unique(at, return_index=True)
    found[at] = True
    return at, rows[first]
