"""The tables of the clusters phases (:mod:`.components`, :mod:`.cluster_verify`): their schemas, the writers
of the shuffles the keys phase fills for them (documents, signatures, edges), and the task they run as.

Every document is a *node* ``shard << 40 | row``; the ``docs`` and ``sigs`` shuffles carry one row per
document to its node partition (:func:`.star_contraction.node_partition`), the ``edges`` shuffle one row
per undirected edge, ``(big, small)``, to a partition drawn from both ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.blocks import columns as C
from curate.dedup.star_contraction import edge_partition, node_partition, orient
from curate.dedup.star_rounds import EDGE_SCHEMA
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShuffleRef
from curate.shuffle.workdir import Workdir

KeepRule = Literal["first_id", "first_index"]
KEEP_RULES: tuple[str, ...] = get_args(KeepRule)
ROW_BITS = 40
ROW_MASK = (1 << ROW_BITS) - 1
RESULT_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        (C.ID, pa.string()),
        ("keep", pa.bool_()),
        ("duplicate_of", pa.string()),
        ("cluster_size", pa.int64()),
        ("cluster_id", pa.string()),
        ("similarity", pa.float64()),  # to the kept document, when clusters are verified (else null)
    ]
)
DOCS_SCHEMA = pa.schema([("node", pa.int64()), (C.ID, pa.string()), (C.LANG, pa.string()), (C.URL, pa.string())])
MEMBER_SCHEMA = pa.schema([("root", pa.int64()), ("node", pa.int64()), (C.ID, pa.string()), (C.LANG, pa.string()),
                           (C.URL, pa.string())])
PARTIAL_SCHEMA = pa.schema([("root", pa.int64()), ("count", pa.int64()), ("best_node", pa.int64()),
                            ("best_id", pa.string()), ("best_lang", pa.string()), ("src", pa.int64())])
REPLY_SCHEMA = pa.schema([("root", pa.int64()), ("size", pa.int64()), ("kept_node", pa.int64()),
                          ("kept_id", pa.string()), ("kept_lang", pa.string())])
CLUSTERED_SCHEMA = pa.schema(
    [("node", pa.int64()), (C.ID, pa.string()), ("keep", pa.bool_()), ("cluster_size", pa.int64()),
     ("cluster_id", pa.string()), ("similarity", pa.float64())]
)
# verification: kept documents' signatures asked for and sent back, members' decisions, verified sizes
REQUEST_SCHEMA = pa.schema([("node", pa.int64()), ("src", pa.int64())])
DECISION_SCHEMA = pa.schema([("root", pa.int64()), ("node", pa.int64()), (C.ID, pa.string()), ("keep", pa.bool_()),
                             ("similarity", pa.float64()), ("kept_id", pa.string()), ("kept_doc", pa.bool_())])
COUNT_SCHEMA = pa.schema([("root", pa.int64()), ("removed", pa.int64()), ("kept_lang", pa.string()),
                          ("src", pa.int64())])
SIZE_SCHEMA = pa.schema([("root", pa.int64()), ("size", pa.int64())])
PIECES_KEY = b"curate.pieces"
RANGES = ("cl", "ranges.json")  # the result ranges' first document numbers, for the apply tasks
SAMPLES = 3  # members' urls listed per largest cluster
MapFn = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


def shard_name(index: int) -> str:
    return f"shard-{index:06d}"


def first_node_of(index: int, first_node: int = -1) -> int:
    """Number of the first document of shard ``index``: ``index << ROW_BITS`` (a run on its own), or
    ``first_node`` when the step numbers documents densely across runs (a dedup index, :mod:`.index_run`)."""
    return first_node if first_node >= 0 else index << ROW_BITS


def write_docs(wd: Workdir, index: int, ids: pa.Array, langs: pa.Array, partitions: int,
               urls: pa.Array | None = None, first_node: int = -1) -> int:
    """Shard ``index``'s run of the ``docs`` shuffle: (node, id, lang, url) of every row, to its node
    partition, so the join task of a partition reads only its own documents. Returns the run's bytes."""
    node = first_node_of(index, first_node) + np.arange(len(ids), dtype=np.int64)
    urls = pa.nulls(len(ids), pa.string()) if urls is None else urls
    table = pa.table([pa.array(node), ids, langs, urls], schema=DOCS_SCHEMA)
    return shuffle.write(wd, "docs", index, table, node_partition(node, partitions), partitions)


def write_edges(wd: Workdir, writer: int, a: np.ndarray, b: np.ndarray, partitions: int,
                folder: str = "edges") -> int:
    """Writer ``writer``'s run of undirected edges, as distinct (big, small) rows by edge partition."""
    big, small = orient(np.asarray(a, np.int64), np.asarray(b, np.int64))
    table = pa.table([pa.array(big), pa.array(small)], schema=EDGE_SCHEMA)
    return shuffle.write(wd, folder, writer, table, edge_partition(big, small, partitions), partitions)


def sig_schema(width: int) -> pa.Schema:
    """(node, signature): ``width`` bytes, the b-bit signature of a document."""
    return pa.schema([("node", pa.int64()), ("sig", pa.binary(width))])


def write_signatures(wd: Workdir, index: int, nodes: list[np.ndarray], sigs: list[np.ndarray],
                     partitions: int) -> int:
    """Shard ``index``'s run of the ``sigs`` shuffle: each document's signature (uint16 values), to its node
    partition. Returns the run's bytes."""
    node = np.concatenate(nodes) if nodes else np.empty(0, np.int64)
    matrix = np.ascontiguousarray(np.concatenate(sigs) if sigs else np.empty((0, 0), "<u2"))
    width = matrix.shape[1] * 2 if matrix.ndim == 2 and matrix.shape[1] else 2
    data = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(node), [None, pa.py_buffer(matrix.tobytes())])
    table = pa.table([pa.array(node, pa.int64()), data], schema=sig_schema(width))
    return shuffle.write(wd, "sigs", index, table, node_partition(node, partitions), partitions)


def sig_matrix(column: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray:
    """A fixed-size binary column of signatures as a (rows, width / 2) uint16 matrix."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(arr) == 0:
        return np.empty((0, width // 2), "<u2")
    raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8)[arr.offset * width:(arr.offset + len(arr)) * width]
    return raw.view("<u2").reshape(len(arr), width // 2)


@dataclass(frozen=True)
class ClusterTask:
    """One task of a clusters phase (``join``, ``combine``, ``apply``; with verification ``lookup``,
    ``verify``, ``recount``) for partition ``partition``."""

    phase: str
    workdir: str
    partition: int
    partitions: int
    source: ShuffleRef
    docs: ShuffleRef | None = None
    keep: str = "first_id"
    largest: int = 0
    top: tuple[int, ...] = ()  # roots of the largest clusters (their members are sampled)
    verify: float = 0.0  # the similarity threshold of verification (0: clusters are not verified)
    sigs: ShuffleRef | None = None  # every document's signature (verification)
    kept: ShuffleRef | None = None  # kept documents' signatures, sent to this partition (verification)
    sig_width: int = 0
    # a run against a dedup index (:mod:`.index_apply`): the earlier clusters sent to each partition, the
    # first document number of every earlier dump, the version the run writes
    supers: ShuffleRef | None = None
    dump_firsts: tuple[int, ...] = ()
    index_version: int = 0


def keep_order(keep: str, root: np.ndarray, ids: pa.Array, node: np.ndarray) -> np.ndarray:
    """Rows grouped by root, best member (under the keep rule) first."""
    if keep == "first_id":
        return pc.sort_indices(pa.table({"r": root, "id": ids, "n": node}),
                               sort_keys=[("r", "ascending"), ("id", "ascending"), ("n", "ascending")]).to_numpy()
    return np.lexsort((node, root))


def group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.empty(0, np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def sample_members(samples: dict[str, dict[str, Any]], root: np.ndarray, node: np.ndarray, keep: np.ndarray,
            urls: list[str | None], ids: list[str], top: tuple[int, ...],
            similarity: np.ndarray | None = None) -> None:
    """For members of the largest clusters: the kept document's url and the first members' urls (by document
    number), and (verified) a histogram of the similarities to the kept document (20 bins)."""
    if not top or len(root) == 0:
        return
    sel = np.flatnonzero(np.isin(root, np.asarray(top, dtype=np.int64)))
    for i in sel[np.argsort(node[sel], kind="stable")].tolist():
        entry = samples.setdefault(str(int(root[i])), {"members": [], "removed": 0, "histogram": [0] * 20})
        where = urls[i] or ids[i]
        if similarity is not None and similarity[i] == 1.0 and keep[i] and "kept" not in entry:
            entry["kept"] = where
            continue
        if similarity is None and keep[i]:
            entry["kept"] = where
            continue
        if len(entry["members"]) < SAMPLES:
            entry["members"].append([int(node[i]), where])
        if similarity is not None:
            entry["histogram"][min(int(similarity[i] * 20), 19)] += 1
            entry["removed"] += int(not keep[i])


def write_clustered(wd: Workdir, task: ClusterTask, table: pa.Table) -> int:
    """The decided members, regrouped by contiguous range of document numbers (one results task each)."""
    boundaries = np.asarray(wd.read_json(*RANGES), dtype=np.int64)
    dest = np.searchsorted(boundaries, table.column("node").to_numpy(), side="right")
    return shuffle.write(wd, "clustered", task.partition, table, dest, task.partitions)
