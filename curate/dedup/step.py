"""Shared driver of the global dedup steps: phases, markers, resume, and applying the result per shard.

``prepare`` (once, at the barrier) only orchestrates: every phase is a ``job.map`` of tasks with O(1)
arguments, each skipped when its marker exists (markers are found with one listing per phase):

1. keys   — over shards: document keys, hash-partitioned into one file per shard (:mod:`.shuffle`);
2. edges  — over partitions: candidate edges from documents sharing a key;
3. clusters — over partitions, in rounds: distributed connected components, kept document per cluster,
   per-shard result pieces and the cluster-size statistics (:mod:`.components`).

The driver never loads keys, edges or doc tables; the partition count comes from the row counts of the
stage before the barrier (``job.previous_stage["shard_rows"]``) or, lacking those, from a task per shard.
``process`` (per shard, on any worker) reads that shard's result pieces once each, one after the other
(cached in the task's context, so memory stays at about a piece of N/partitions rows), alongside the batches: rows in a cluster of size > 1 get their decision, every other
row is a kept singleton. A ``manifest.json`` pins settings and inputs: a workdir left by a different
configuration or input list is cleared instead of being reused.
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
from curate.dedup import index_lookup
from curate.dedup.components import (
    KEEP_RULES,
    RESULT_SCHEMA,
    KeepRule,
    build_clusters,
    part_name,
    piece_name,
    read_piece,
    read_results,
    shard_name,
    summarize,
)
from curate.dedup.index_run import (
    IndexRun,
    check_run,
    commit,
    corpus_counts,
    dump_name,
    index_setting,
    index_summary,
    open_run,
    run_id,
)
from curate.dedup.index_store import DedupIndex, DedupIndexError
from curate.dedup.shuffle import (
    LinkTask,
    PartitionEdgesTask,
    ShardKeysTask,
    link_task,
    partition_edges_task,
    shard_keys_task,
)
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShuffleRef
from curate.shuffle.workdir import Workdir

log = logging.getLogger(__name__)
MANIFEST_VERSION = 5  # 5: components by edge partition, partial aggregates; node partitions apart from keys
REASON_PREFIX = "duplicate_of:"
# settings that change requests, memory or reports, never which documents are kept: not part of an index's identity
NOT_INDEX_SETTINGS = frozenset({"batch_size", "partitions", "shuffle_read", "merge_memory", "largest_clusters",
                                "index"})


class ClusterDedupStep(GlobalStep):
    """Base of the ``minhash`` and ``exact_dedup`` blocks; subclasses define the document keys.

    Subclasses implement :meth:`make_keyer` and set ``keys_per_doc`` (for the automatic partition
    count), ``size_column`` and ``id_column`` (output columns; None = not written).

    Shuffle settings (they change requests and memory, never the output; :mod:`curate.shuffle.partitioned_shuffle`):
    ``shuffle_read`` bytes a reader should get per ranged read of a merged group file [1 MiB], and
    ``merge_memory`` bytes of decoded batches a merge task may hold (one per run it merges) [1 GiB].
    ``partitions`` (when set) is used for the keys and for the components; unset, the keys get ~4M keys per
    partition and the components ~2M documents per partition. ``largest_clusters``: list that many of each
    language's largest clusters (size, kept document's url, a few members' urls) in the step's statistics
    [0: none, and the statistics stay those of earlier versions byte for byte].
    """

    keys_per_doc: ClassVar[int] = 1
    size_column: ClassVar[str | None] = None
    id_column: ClassVar[str | None] = None
    similarity_column: ClassVar[str | None] = None  # written when clusters are verified
    # keys per partition when ``partitions`` is not set: ~24 B per key on disk, ~100 B in the edges task
    target_keys_per_partition: ClassVar[int] = 4_000_000
    # documents per node partition of the components (ids, labels, partial aggregates: ~200 B a document)
    target_docs_per_partition: ClassVar[int] = 2_000_000

    def __init__(
        self, partitions: int | None = None, keep: KeepRule = "first_id", batch_size: int = 2048,
        shuffle_read: int = shuffle.TARGET_READ, merge_memory: int = shuffle.MERGE_MEMORY,
        largest_clusters: int = 0, index: str | dict[str, Any] | None = None,
    ) -> None:
        if keep not in KEEP_RULES:
            raise ValueError(f"keep must be one of {KEEP_RULES}, not {keep!r}")
        if partitions is not None and partitions < 1:
            raise ValueError("partitions must be >= 1")
        if shuffle_read < 1 or merge_memory < 1:
            raise ValueError("shuffle_read and merge_memory must be >= 1 byte")
        if largest_clusters < 0:
            raise ValueError("largest_clusters must be >= 0")
        self.partitions = partitions
        self.keep = keep
        self.batch_size = batch_size
        self.shuffle_read = shuffle_read
        self.merge_memory = merge_memory
        self.largest_clusters = largest_clusters
        self.index = index
        self._index = index_setting(index)  # {"url", "dump"}: a persistent dedup index (:mod:`.index_run`)
        self._workdir: str | None = None  # set by prepare(); all process() needs (O(1) in the shards)

    def keys_per_document(self) -> int:
        """Keys each document emits (for the automatic partition count)."""
        return self.keys_per_doc

    def verify_threshold(self) -> float:
        """Similarity a member must reach to be removed (:mod:`.cluster_verify`); 0: clusters not verified."""
        return 0.0

    def signature_width(self) -> int:
        """Bytes of a document's signature, when clusters are verified."""
        return 0

    def shuffle_plan(self) -> shuffle.ShufflePlan:
        return shuffle.ShufflePlan(target_read=self.shuffle_read, merge_memory=self.merge_memory)

    # -- to implement -------------------------------------------------------------------------------
    def make_keyer(self, languages: Any = None) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- prepare --------------------------------------------------------------------------------------
    def _shard_rows(self, job: GlobalJob, shards: list[tuple[str, str]]) -> list[int]:
        rows = job.previous_stage.get("shard_rows")
        if rows is None or len(rows) != len(shards):  # prepare() called without the runner: ask the workers
            rows = job.map(count_rows, [path for _, path in shards])
        return [int(r) for r in rows]

    def _n_partitions(self, job: GlobalJob, shards: list[tuple[str, str]]) -> tuple[int, int]:
        """Partitions of the keys and of the components (node partitions)."""
        if self.partitions is not None:
            return self.partitions, self.partitions
        total = sum(self._shard_rows(job, shards))
        return (max(1, math.ceil(total * self.keys_per_document() / self.target_keys_per_partition)),
                max(1, math.ceil(total / self.target_docs_per_partition)))

    def _manifest(self, shards: list[tuple[str, str]]) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "block": self.name,
            "settings": {k: _jsonable(v) for k, v in sorted(self.describe().items()) if k != "batch_size"},
            "shards": [list(s) for s in shards],
        }

    def index_settings(self) -> dict[str, Any]:
        """The settings a dedup index is bound to: what makes keys and kept documents (not the shuffle's sizes)."""
        return {k: _jsonable(v) for k, v in sorted(self.describe().items()) if k not in NOT_INDEX_SETTINGS}

    def preflight(self) -> None:
        if self._index is not None and self.verify_threshold():
            raise DedupIndexError(f"{self.name}: verify and index cannot be combined yet; drop one of them")

    def preflight_output(self, out_dir: str) -> None:
        """Against an index, before any work (found when the step prepares, they would come after a whole
        extraction pass): other settings, a dump already in the index, its lock held by another run."""
        if self._index is not None:
            check_run(self._index, self.name, self.index_settings(), out_dir)

    def _open_index(self, job: GlobalJob, shards: list[tuple[str, str]]) -> IndexRun | None:
        if self._index is None:
            return None
        if self.verify_threshold():
            raise DedupIndexError(f"{self.name}: verify and index cannot be combined yet; drop one of them")
        return open_run(self._index, self.name, self.index_settings(), job.out_dir or job.workdir,
                        self._shard_rows(job, shards), self._n_partitions(job, shards))

    def prepare(self, job: GlobalJob) -> None:
        wd = Workdir(job.workdir)
        shards = list(job.shards)
        ix = self._open_index(job, shards)
        manifest = self._manifest(shards)
        if ix is not None:
            manifest["index"] = ix.record()
        if wd.exists("manifest.json"):
            old = wd.read_json("manifest.json")
            if {k: v for k, v in old.items() if k not in ("partitions", "node_partitions")} != manifest:
                log.warning(
                    "%s: workdir %s holds another configuration; starting over", self.name, job.workdir
                )
                for name in wd.listdir():
                    wd.remove(name)
        if wd.exists("manifest.json"):
            record = wd.read_json("manifest.json")
            partitions, nodes = int(record["partitions"]), int(record.get("node_partitions", record["partitions"]))
        else:
            partitions, nodes = (ix.partitions, ix.node_partitions) if ix else self._n_partitions(job, shards)
            wd.write_json({**manifest, "partitions": partitions, "node_partitions": nodes}, "manifest.json")

        if not wd.exists("clusters.done"):
            if wd.exists("shuffle.done") and not (wd.exists("edges", shuffle.INDEX)
                                                  and wd.exists("docs", shuffle.INDEX)):
                # the scratch of a finished run was cleaned: every phase from the keys on starts over
                for folder in ("shuffle.done", "keys", "docs", "edges", "cc", "cl", "clustered", "results", "ix"):
                    wd.remove(folder)
            if not wd.exists("shuffle.done"):
                self._shuffle(job, wd, shards, partitions, nodes, ix)
            done = wd.read_json("shuffle.done")
            report: dict[str, Any] = {}
            refs = done["refs"]
            indexed: dict[str, Any] = {}
            if ix is not None:
                base = ix.base()
                indexed = {"first_node": ix.first_node, "supers": ShuffleRef(**refs["supers"]),
                           "dump_firsts": tuple(int(d["first_node"]) for d in base["dumps"]) if base else (),
                           "index_version": ix.version}
            stats = build_clusters(job.map, wd, [sid for sid, _ in shards], done["shard_rows"], nodes,
                                   done["langs"], self.keep, edges=ShuffleRef(**refs["edges"]),
                                   docs=ShuffleRef(**refs["docs"]), plan=self.shuffle_plan(),
                                   report=report, largest=self.largest_clusters, verify=self.verify_threshold(),
                                   sigs=ShuffleRef(**refs["sigs"]) if "sigs" in refs else None,
                                   sig_width=self.signature_width(), **indexed)
            extra: dict[str, Any] = {}
            if ix is not None:
                extra = {"index": report.pop("index"), "refs": refs}
                extra["corpus"], extra["rehydrate_base"] = corpus_counts(ix.base(), extra["index"], stats)
            wd.write_json(
                {"stats": {lang: {str(s): c for s, c in d.items()} for lang, d in stats.items()},
                 "components": {k: v for k, v in report.items() if k not in ("largest", "verify")},
                 "largest": report.get("largest", []), "verify": report.get("verify"),
                 **{k: v for k, v in done.items() if k not in ("langs", "shard_rows", "refs")}, **extra},
                "clusters.done",
            )
        # scratch of the finished phases (a run against an index keeps its keys and docs for the commit)
        for folder in ("edges", "cc", "cl", "clustered", "sigs", *(() if ix else ("docs",))):
            wd.remove(folder)
        record = wd.read_json("clusters.done")
        stats = {lang: {int(s): c for s, c in d.items()} for lang, d in record["stats"].items()}
        if ix is not None:  # the statistics of the whole corpus, as one run over every dump would give them
            stats = {lang: {int(s): c for s, c in d.items()} for lang, d in record["corpus"].items()}
        self._workdir = job.workdir
        job.stats[self.name] = stats
        summary: dict[str, Any] = {
            "languages": summarize(stats),
            "partitions": partitions,
            "edges": record["edges"],
            "keys_seconds": record["keys_seconds"],
            "edges_seconds": record["edges_seconds"],
            # rounds, node partitions, the largest task input: deterministic, but kept beside the timings so
            # that stats.json stays what it was (timing.json carries them)
            "timing": {**record["timing"], "components": {**record["components"], "node_partitions": nodes}},
        }
        if self.largest_clusters:
            summary["largest_clusters"] = record["largest"]
        if record.get("verify"):
            summary["verify"] = record["verify"]
        job.stats[f"{self.name}_summary"] = summary
        if ix is not None:
            job.stats[f"{self.name}_index"] = index_summary(ix, record)

    def _shuffle(self, job: GlobalJob, wd: Workdir, shards: list[tuple[str, str]], partitions: int,
                 nodes: int, ix: IndexRun | None = None) -> None:
        """Phases keys and edges (and, against an index, its lookup); their summary goes to ``shuffle.done``
        and the keys are deleted (against an index they are kept: the commit copies them into it)."""
        keyer = self.make_keyer(job.languages)
        verify = self.verify_threshold() > 0
        starts = ix.starts() if ix else []
        tasks = [ShardKeysTask(i, path, job.workdir, partitions, keyer, self.batch_size, nodes,
                               self.largest_clusters > 0, verify,
                               **({"first_node": starts[i], "rows": ix.shard_rows[i]} if ix else {}))
                 for i, (_, path) in enumerate(shards)]
        shard_info = _run(job, shard_keys_task, tasks, wd, "keys", [shard_name(i) for i in range(len(shards))])
        plan = self.shuffle_plan()
        keys = shuffle.merge(job.map, wd, "keys", partitions, [int(i["runs"]["keys"]) for i in shard_info], plan)
        docs = shuffle.merge(job.map, wd, "docs", nodes, [int(i["runs"]["docs"]) for i in shard_info], plan)
        refs = {"docs": docs.__dict__}
        if verify:
            refs["sigs"] = shuffle.merge(job.map, wd, "sigs", nodes, [int(i["runs"]["sigs"]) for i in shard_info],
                                         plan).__dict__
        part_tasks = [PartitionEdgesTask(p, partitions, keys, job.workdir, nodes) for p in range(partitions)]
        names = [part_name(p) for p in range(partitions)]
        edge_info = _run(job, partition_edges_task, part_tasks, wd, "edges", names)
        edge_runs = [int(i["run_bytes"]) for i in edge_info]
        if sum(int(i["links"]) for i in edge_info):  # some key was salted: link its pieces at its home
            links = shuffle.merge(job.map, wd, "links", partitions, [int(i["link_bytes"]) for i in edge_info], plan)
            link_info = _run(job, link_task, [LinkTask(p, partitions, links, job.workdir, nodes)
                                              for p in range(partitions)], wd, "links", names)
            edge_runs += [int(i["run_bytes"]) for i in link_info]
            edge_info = edge_info + link_info
        lookup_summary: dict[str, Any] = {}
        if ix is not None:
            refs["keys"] = keys.__dict__
            base = ix.base()
            if base is not None:  # the documents of earlier dumps these keys meet: their clusters join the graph
                more, supers, lookup_summary = index_lookup.lookup(job.map, wd, keys, base, ix.url, len(edge_runs),
                                                                   plan)
                edge_runs += more
            else:
                supers = ShuffleRef("ix/supers", nodes, 0)  # an empty index: no earlier cluster
            refs["supers"] = supers.__dict__
        edges = shuffle.merge(job.map, wd, "edges", nodes, edge_runs, plan)
        langs: dict[str, int] = {}
        timing: dict[str, float] = {}
        for info in shard_info:
            for lang, n in info["langs"].items():
                langs[lang] = langs.get(lang, 0) + n
            for k, v in info["timing"].items():
                timing[k] = timing.get(k, 0.0) + v
        wd.write_json(
            {"langs": langs, "timing": timing, "shard_rows": [int(i["rows"]) for i in shard_info], "keys_seconds": sum(i["seconds"] for i in shard_info),
             "edges_seconds": sum(i["seconds"] for i in edge_info), "edges": sum(i["edges"] for i in edge_info),
             "refs": {**refs, "edges": edges.__dict__}, **({"lookup": lookup_summary} if ix else {})},
            "shuffle.done",
        )
        # the partitioned keys are the bulk of the workdir (24 B per key): not needed once edges exist
        if ix is None:
            wd.remove("keys")
        wd.remove("links")

    # -- finish -------------------------------------------------------------------------------------------
    def finish(self, job: GlobalJob) -> None:
        """Against an index: commit the run's version (:func:`.index_run.commit`) once its stage is done."""
        if self._index is None:
            return
        wd = Workdir(job.workdir)
        if not wd.exists("clusters.done"):
            index = DedupIndex(self._index["url"])
            latest = index.manifest()
            out_dir = job.out_dir or job.workdir
            run = run_id(index.url, dump_name(self._index, out_dir), out_dir)
            if latest is not None and any(d.get("run") == run for d in latest["dumps"]):
                return  # committed by the run that finished these stages
            raise DedupIndexError(f"{self.name}: {job.workdir} holds no finished dedup step to commit to "
                                  f"{index.url}; rerun with --overwrite")
        record = wd.read_json("clusters.done")
        ix = IndexRun(**wd.read_json("manifest.json")["index"])
        commit(job.map, wd, ix, self.name, self.index_settings(), list(job.shards), job.outputs, record,
               job.earlier, self.shuffle_plan())

    # -- process --------------------------------------------------------------------------------------
    def _shard_result(self, ctx: BlockContext) -> _ShardResult:
        """This shard's result pieces, walked once per shard task (``ctx.cache`` lives as long as the task)."""
        key = f"dedup-result:{self._workdir}"
        state = ctx.cache.get(key)
        if state is None or state.shard != ctx.shard:
            assert self._workdir is not None
            state = _ShardResult(ctx.shard, Workdir(self._workdir))
            ctx.cache[key] = state
        return state

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        if self._workdir is None:
            raise RuntimeError(f"{self.name}: process() called before prepare()")
        state = self._shard_result(ctx)
        n = table.num_rows
        if n and state.pieces == 0:
            raise KeyError(f"{self.name}: shard {ctx.shard!r} was not among the shards given to prepare() "
                           f"(no {state.wd.path('results', piece_name(ctx.shard, 0))})")
        ids = table.column(C.ID).cast(pa.string()).combine_chunks()
        res = state.window(state.offset, state.offset + n)
        pos = res.column("row").to_numpy() - state.offset
        if len(pos) and not ids.take(pa.array(pos)).equals(res.column(C.ID).combine_chunks()):
            # the batches are not the shard as prepared, in order: match rows by document id instead
            res = state.full()
            found = pc.index_in(res.column(C.ID), value_set=ids)
            res = res.filter(found.is_valid())
            pos = found.drop_null().to_numpy().astype(np.int64)
        state.offset += n
        keep = np.ones(n, dtype=bool)
        keep[pos] = res.column("keep").to_numpy(zero_copy_only=False)
        reasons: list[str | None] = [None] * n
        for p, d in zip(pos.tolist(), res.column("duplicate_of").to_pylist(), strict=True):
            if d is not None:
                reasons[p] = REASON_PREFIX + d
        if self.size_column:
            size = np.ones(n, dtype=np.int64)
            size[pos] = res.column("cluster_size").to_numpy()
            table = _set_column(table, self.size_column, pa.array(size, pa.int64()))
        if self.id_column:
            # a row outside any multi-document cluster is its own cluster, named by its own id
            cid = np.array(ids.to_pylist(), dtype=object)
            cid[pos] = np.array(res.column("cluster_id").to_pylist(), dtype=object)
            table = _set_column(table, self.id_column, pa.array(cid.tolist(), pa.string()))
        if self.similarity_column and self.verify_threshold():
            # the evidence: each member's estimated similarity to its cluster's kept document
            sim = np.full(n, np.nan)
            sim[pos] = res.column("similarity").to_numpy(zero_copy_only=False)
            table = _set_column(table, self.similarity_column, pa.array(sim, pa.float64(), from_pandas=True))
        return BlockOutput(table=table, keep=keep, reasons=reasons)


class _ShardResult:
    """One shard's dedup decisions, read piece by piece (each about N/partitions rows at most) as the
    batches walk through the shard, and how far they have walked."""

    def __init__(self, shard: str, wd: Workdir) -> None:
        self.shard = shard
        self.wd = wd
        first = read_piece(wd, shard, 0)
        self.pieces = 0 if first is None else first[1]
        self.buffer = RESULT_SCHEMA.empty_table() if first is None else first[0]
        self.next_piece = 1
        self.offset = 0

    def window(self, lo: int, hi: int) -> pa.Table:
        """Result rows with ``lo <= row < hi``; rows before ``lo`` are dropped (batches move forward)."""
        while self.next_piece < self.pieces and (
            self.buffer.num_rows == 0 or self.buffer.column("row")[-1].as_py() < hi
        ):
            piece = read_piece(self.wd, self.shard, self.next_piece)
            if piece is None:
                raise KeyError(f"{self.wd.path('results', piece_name(self.shard, self.next_piece))} is missing; "
                               "rerun the dedup step")
            self.buffer = pa.concat_tables([self.buffer, piece[0]])
            self.next_piece += 1
        rows = self.buffer.column("row").to_numpy()
        a, b = np.searchsorted(rows, [lo, hi])
        out = self.buffer.slice(int(a), int(b - a))
        self.buffer = self.buffer.slice(int(a))
        return out

    def full(self) -> pa.Table:
        """Every result row of the shard (only for batches that do not follow the shard's order)."""
        return read_results(self.wd, self.shard)


def _run(job: GlobalJob, fn: Any, tasks: list[Any], wd: Workdir, phase: str, names: list[str]) -> list[Any]:
    """Run the tasks whose marker is missing (one listing of the phase folder); read the others' markers."""
    done = set(wd.listdir(phase))
    todo = [i for i, name in enumerate(names) if name + ".done" not in done]
    results: list[Any] = [None] * len(tasks)
    if todo:
        for i, res in zip(todo, job.map(fn, [tasks[i] for i in todo]), strict=True):
            results[i] = res
    for i, name in enumerate(names):
        if results[i] is None:
            results[i] = wd.read_json(phase, name + ".done")
    return results


def count_rows(path: str) -> int:
    """Rows of one shard's Parquet file (its footer); 0 for a shard whose earlier stage kept nothing."""
    if not path:
        return 0
    with fsspec.open(path, "rb") as f:
        return int(pq.ParquetFile(f).metadata.num_rows)


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
