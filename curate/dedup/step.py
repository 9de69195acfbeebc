"""Shared driver of the global dedup steps: phases, markers, resume, and applying the result per shard.

``prepare`` (once, at the barrier) runs three phases, each skipped when its markers exist:

1. keys   — ``job.map`` over shards: document keys, hash-partitioned to Parquet (:mod:`.shuffle`);
2. edges  — ``job.map`` over partitions: candidate edges from documents sharing a key;
3. clusters — on the driver: connected components per language, kept document per cluster, per-shard
   result files and the cluster-size statistics (:mod:`.components`); then the keys are deleted.

``process`` (per shard, on any worker) reads that shard's result file: rows in a cluster of size > 1 get
their decision, every other row is a kept singleton. A ``manifest.json`` pins settings and inputs: a workdir
left by a different configuration or input list is cleared instead of being reused.
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks import columns as C
from curate.blocks.base import BlockContext, BlockOutput, GlobalJob, GlobalStep
from curate.dedup.components import KEEP_RULES, KeepRule, build_clusters, summarize
from curate.dedup.shuffle import (
    PartitionEdgesTask,
    ShardKeysTask,
    partition_edges_task,
    shard_keys_task,
    shard_name,
)
from curate.dedup.workdir import Workdir

log = logging.getLogger(__name__)
MANIFEST_VERSION = 1
REASON_PREFIX = "duplicate_of:"


class ClusterDedupStep(GlobalStep):
    """Base of the ``minhash`` and ``exact_dedup`` blocks; subclasses define the document keys.

    Subclasses implement :meth:`make_keyer` and set ``keys_per_doc`` (for the automatic partition
    count), ``size_column`` and ``id_column`` (output columns; None = not written).
    """

    keys_per_doc: ClassVar[int] = 1
    size_column: ClassVar[str | None] = None
    id_column: ClassVar[str | None] = None
    # keys per partition when ``partitions`` is not set: ~24 B per key on disk, ~100 B in the edges task
    target_keys_per_partition: ClassVar[int] = 4_000_000

    def __init__(
        self, partitions: int | None = None, keep: KeepRule = "first_id", batch_size: int = 2048
    ) -> None:
        if keep not in KEEP_RULES:
            raise ValueError(f"keep must be one of {KEEP_RULES}, not {keep!r}")
        if partitions is not None and partitions < 1:
            raise ValueError("partitions must be >= 1")
        self.partitions = partitions
        self.keep = keep
        self.batch_size = batch_size
        self._workdir: str | None = None
        self._shards: dict[str, tuple[int, int]] = {}  # shard id -> (index, rows)

    def keys_per_document(self) -> int:
        """Keys each document emits (for the automatic partition count)."""
        return self.keys_per_doc

    @property
    def per_language_scope(self) -> bool:
        """Whether clusters stay within one language (always for MinHash)."""
        return True

    # -- to implement -------------------------------------------------------------------------------
    def make_keyer(self, languages: Any = None) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- prepare --------------------------------------------------------------------------------------
    def _n_partitions(self, shards: list[tuple[str, str]]) -> int:
        if self.partitions is not None:
            return self.partitions
        rows = 0
        for _, path in shards:  # footers only
            if not path:  # the shard's earlier stage kept nothing
                continue
            with fsspec.open(path, "rb") as f:
                rows += pq.ParquetFile(f).metadata.num_rows
        return max(1, math.ceil(rows * self.keys_per_document() / self.target_keys_per_partition))

    def _manifest(self, shards: list[tuple[str, str]]) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "block": self.name,
            "settings": {k: _jsonable(v) for k, v in sorted(self.describe().items()) if k != "batch_size"},
            "shards": [list(s) for s in shards],
        }

    def prepare(self, job: GlobalJob) -> None:
        wd = Workdir(job.workdir)
        shards = list(job.shards)
        manifest = self._manifest(shards)
        if wd.exists("manifest.json"):
            old = wd.read_json("manifest.json")
            if {k: v for k, v in old.items() if k != "partitions"} != manifest:
                log.warning(
                    "%s: workdir %s holds another configuration; starting over", self.name, job.workdir
                )
                for name in wd.listdir():
                    wd.remove(name)
        if wd.exists("manifest.json"):
            partitions = int(wd.read_json("manifest.json")["partitions"])
        else:
            partitions = self._n_partitions(shards)
            wd.write_json({**manifest, "partitions": partitions}, "manifest.json")

        done = wd.exists("clusters.done")
        if not done:
            keyer = self.make_keyer(job.languages)
            tasks = [
                ShardKeysTask(i, path, job.workdir, partitions, keyer, self.batch_size)
                for i, (_, path) in enumerate(shards)
            ]
            shard_info = self._run(
                job, shard_keys_task, tasks, wd, "keys", [shard_name(i) for i in range(len(shards))]
            )
            part_tasks = [PartitionEdgesTask(p, len(shards), job.workdir) for p in range(partitions)]
            edge_info = self._run(
                job,
                partition_edges_task,
                part_tasks,
                wd,
                "edges",
                [f"part-{p:05d}" for p in range(partitions)],
            )
            lang_totals: dict[str, int] = {}
            for info in shard_info:
                for lang, n in info["langs"].items():
                    lang_totals[lang] = lang_totals.get(lang, 0) + n
            stats = build_clusters(
                wd, len(shards), partitions, lang_totals, self.keep, self.per_language_scope
            )
            timing: dict[str, float] = {}
            for info in shard_info:
                for k, v in info["timing"].items():
                    timing[k] = timing.get(k, 0.0) + v
            wd.write_json(
                {
                    "stats": {lang: {str(s): c for s, c in d.items()} for lang, d in stats.items()},
                    "rows": [info["rows"] for info in shard_info],
                    "keys_seconds": sum(info["seconds"] for info in shard_info),
                    "edges_seconds": sum(info["seconds"] for info in edge_info),
                    "edges": sum(info["edges"] for info in edge_info),
                    "timing": timing,
                },
                "clusters.done",
            )
            # the partitioned keys are the bulk of the workdir (24 B per key) and no longer needed; their
            # markers go with them, so a run that later loses clusters.done recomputes them
            wd.remove("keys")
        record = wd.read_json("clusters.done")
        stats = {lang: {int(s): c for s, c in d.items()} for lang, d in record["stats"].items()}
        self._workdir = job.workdir
        self._shards = {
            sid: (i, rows) for i, ((sid, _), rows) in enumerate(zip(shards, record["rows"], strict=True))
        }
        job.stats[self.name] = stats
        job.stats[f"{self.name}_summary"] = {
            "languages": summarize(stats),
            "partitions": partitions,
            "edges": record["edges"],
            "keys_seconds": record["keys_seconds"],
            "edges_seconds": record["edges_seconds"],
            "timing": record["timing"],
        }

    @staticmethod
    def _run(
        job: GlobalJob, fn: Any, tasks: list[Any], wd: Workdir, phase: str, names: list[str]
    ) -> list[Any]:
        """Run the tasks whose marker is missing; read the others' markers (resume)."""
        todo = [i for i, name in enumerate(names) if not wd.exists(phase, name + ".done")]
        results: list[Any] = [None] * len(tasks)
        if todo:
            for i, res in zip(todo, job.map(fn, [tasks[i] for i in todo]), strict=True):
                results[i] = res
        for i, name in enumerate(names):
            if results[i] is None:
                results[i] = wd.read_json(phase, name + ".done")
        return results

    # -- process --------------------------------------------------------------------------------------
    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        if self._workdir is None:
            raise RuntimeError(f"{self.name}: process() called before prepare()")
        if ctx.shard not in self._shards:
            raise KeyError(f"{self.name}: shard {ctx.shard!r} was not among the shards given to prepare()")
        index, rows = self._shards[ctx.shard]
        res = Workdir(self._workdir).read_parquet("results", shard_name(index) + ".parquet")
        n = table.num_rows
        ids = table.column(C.ID).cast(pa.string())
        res_rows = res.column("row").to_numpy()
        res_ids = res.column(C.ID)
        if n == rows and (
            len(res_rows) == 0
            or ids.take(pa.array(res_rows)).combine_chunks().equals(res_ids.combine_chunks())
        ):
            pos, sel = res_rows, np.ones(len(res_rows), dtype=bool)
        else:
            # the table is not the shard as prepared (e.g. a sub-batch): match rows by document id
            found = pc.index_in(res_ids, value_set=ids.combine_chunks())
            sel = found.is_valid().to_numpy(zero_copy_only=False)
            pos = found.drop_null().to_numpy().astype(np.int64)
        keep = np.ones(n, dtype=bool)
        keep[pos] = res.column("keep").to_numpy(zero_copy_only=False)[sel]
        reasons: list[str | None] = [None] * n
        dup_of = np.array(res.column("duplicate_of").to_pylist(), dtype=object)[sel]
        for p, d in zip(pos.tolist(), dup_of.tolist(), strict=True):
            if d is not None:
                reasons[p] = REASON_PREFIX + d
        if self.size_column:
            size = np.ones(n, dtype=np.int64)
            size[pos] = res.column("cluster_size").to_numpy()[sel]
            table = _set_column(table, self.size_column, pa.array(size, pa.int64()))
        if self.id_column:
            # a row outside any multi-document cluster is its own cluster, named by its own id
            cid = np.array(ids.to_pylist(), dtype=object)
            cid[pos] = np.array(res.column("cluster_id").to_pylist(), dtype=object)[sel]
            table = _set_column(table, self.id_column, pa.array(cid.tolist(), pa.string()))
        return BlockOutput(table=table, keep=keep, reasons=reasons)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if callable(value):  # e.g. a tokenizer function: identify it by its import path
        return f"{getattr(value, '__module__', '?')}:{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def _set_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    if i >= 0:
        return table.set_column(i, name, values)
    return table.append_column(name, values)
