"""The ``domain_cap`` step: at most ``max_docs`` documents per host or registered domain (per language).

A web crawl over-represents a few large sites (forums, shops, news archives); capping each site's documents
is the usual remedy for domain diversity (e.g. Gopher, Rae et al. 2021, MassiveWeb sampling; DCLM and
FineWeb-Edu report per-domain concentration). Which documents stay must not depend on how the input is
sharded or how many workers run, so the choice is a global one, made at a barrier like dedup's:

1. ``ranks`` (a task per shard): every document gets a rank, the 128-bit xxh3 hash of its ``id``, and its key
   (``lang`` + host or registered domain); per key, the ``max_docs + 1`` smallest ranks of the shard are
   written to one file per shard, sorted by key partition (one row group per partition);
2. ``groups`` (when shards are many and small: a task per group of shards of ~``group_rows`` documents): the
   same per key over the group's files, written as one file per group (a combiner);
3. ``thresholds`` (a task per partition): the partition's row group of every shard or group file, merged a
   bounded buffer at a time; a key with more than ``max_docs`` ranks is over the cap, and its ``max_docs``-th
   smallest rank is its threshold; the driver gathers them into one file (few keys: at most documents /
   ``max_docs``);
4. ``process`` (per shard, any worker, the thresholds read once per worker): a document of an over-cap key is
   kept when its rank is at most the threshold. Exactly ``max_docs`` documents per key remain, the same ones
   whatever the sharding (two documents with the same id share a rank: both stay or both go).

Each task keeps at most ``max_docs + 1`` ranks per key it sees, so a partition's memory is bounded by its keys,
not by the documents of its largest site. Files: one per shard, group and partition; the thresholds tasks read
groups x partitions row groups, not shards x partitions. Registered domains
follow the Public Suffix List bundled with tldextract (offline; :mod:`curate.optout.url_hosts`). Documents
without a host (no URL) are never capped. Removal reason: ``over_cap:<domain>``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Literal

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from curate.blocks.base import BlockContext, BlockOutput, GlobalJob, GlobalStep
from curate.blocks.columns import ID, LANG, UNKNOWN_LANG, URL
from curate.optout.removal_stats import removal_stats
from curate.optout.url_hosts import registered_domains, url_hosts
from curate.storage.atomic import write_bytes_atomic

log = logging.getLogger(__name__)
MANIFEST_VERSION = 1
SEP = "\x1f"  # between language and domain in a key
RANK_SCHEMA = pa.schema([("part", pa.uint32()), ("key", pa.string()), ("hi", pa.uint64()), ("lo", pa.uint64())])
THRESHOLD_SCHEMA = pa.schema([("key", pa.string()), ("hi", pa.uint64()), ("lo", pa.uint64())])
_MASK = (1 << 64) - 1


def doc_keys(table: pa.Table, by: str, per_language: bool) -> pa.Array:
    """The cap's key of each row: ``lang<US>domain`` (or the domain alone); null when the URL has no host."""
    n = table.num_rows
    hosts = url_hosts(table.column(URL)) if URL in table.column_names else pa.nulls(n, pa.string())
    domains = registered_domains(hosts) if by == "registered_domain" else hosts
    if not per_language:
        return domains
    if LANG in table.column_names:
        langs = pc.fill_null(table.column(LANG).combine_chunks().cast(pa.string()), UNKNOWN_LANG)
        langs = pc.if_else(pc.equal(langs, ""), UNKNOWN_LANG, langs)
    else:
        langs = pa.repeat(pa.scalar(UNKNOWN_LANG), n)
    return pc.binary_join_element_wise(langs, domains, SEP)  # null domain -> null key


def doc_ranks(ids: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """(high, low) 64-bit halves of xxh3-128 of each id: a uniform, sharding-free order of documents."""
    values = [xxhash.xxh3_128_intdigest((i or "").encode("utf-8", "surrogatepass")) for i in ids]
    return (np.fromiter((v >> 64 for v in values), dtype=np.uint64, count=len(values)),
            np.fromiter((v & _MASK for v in values), dtype=np.uint64, count=len(values)))


def _smallest(keys: np.ndarray, hi: np.ndarray, lo: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the ``limit`` smallest (hi, lo) per key code, sorted by (key, hi, lo)."""
    order = np.lexsort((lo, hi, keys))
    k = keys[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.zeros(0, dtype=np.int64)
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(k)]))
    return order[np.arange(len(k)) - group_start < limit]


@dataclass(frozen=True)
class RankTask:
    index: int
    path: str
    workdir: str
    partitions: int
    max_docs: int
    by: str
    per_language: bool
    batch_size: int = 65_536


def _shard_name(i: int) -> str:
    return f"shard-{i:06d}"


def _group_name(i: int) -> str:
    return f"group-{i:05d}"


def _part_name(p: int) -> str:
    return f"part-{p:05d}"


def _done(workdir: str, phase: str, name: str) -> str | None:
    """The payload of a finished task's marker, None when it has not finished."""
    fs, root = fsspec.core.url_to_fs(workdir)
    path = f"{root}/{phase}/{name}.done"
    if not fs.exists(path):
        return None
    with fs.open(path, "rb") as f:
        return f.read().decode()


def _write_marker(workdir: str, phase: str, name: str, payload: str) -> None:
    write_bytes_atomic(f"{workdir}/{phase}/{name}.done", payload.encode())


def _write_by_part(table: pa.Table, path: str) -> None:
    """Rows sorted by ``part``, one row group per partition (a reader of partition p reads only its row group,
    found by the row groups' statistics), in one atomic write."""
    order = np.argsort(table.column("part").to_numpy(), kind="stable")
    table = table.take(pa.array(order))
    part = table.column("part").to_numpy()
    bounds = np.flatnonzero(np.r_[True, part[1:] != part[:-1], True]) if len(part) else np.zeros(1, dtype=np.int64)
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, RANK_SCHEMA, compression="zstd") as writer:
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            writer.write_table(table.slice(a, b - a), row_group_size=b - a)
    write_bytes_atomic(path, sink.getvalue().to_pybytes())


def rank_task(task: RankTask) -> int:
    """Phase ``ranks`` for one shard: per key its ``max_docs + 1`` smallest ranks; returns the shard's rows."""
    keys: list[pa.Array] = []
    ids: list[str | None] = []
    rows = 0
    if task.path:
        with fsspec.open(task.path, "rb") as handle:
            pfile = pq.ParquetFile(handle)
            columns = [c for c in (ID, URL, LANG) if c in pfile.schema_arrow.names]
            for batch in pfile.iter_batches(batch_size=task.batch_size, columns=columns):
                table = pa.Table.from_batches([batch])
                key = doc_keys(table, task.by, task.per_language)
                valid = pc.is_valid(key)
                keys.append(key.filter(valid))
                if ID in table.column_names:
                    ids.extend(table.column(ID).filter(valid).to_pylist())
                else:
                    ids.extend([None] * pc.sum(valid.cast(pa.int64())).as_py())
                rows += table.num_rows
    key = pa.concat_arrays(keys) if keys else pa.array([], pa.string())
    encoded = pc.dictionary_encode(key)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    hi, lo = doc_ranks(ids)
    pick = _smallest(codes, hi, lo, task.max_docs + 1)
    names = encoded.dictionary.to_pylist()
    parts = np.array([xxhash.xxh64_intdigest(k.encode("utf-8")) % task.partitions for k in names], dtype=np.uint32)
    table = pa.table({"part": pa.array(parts[codes[pick]], pa.uint32()), "key": key.take(pa.array(pick)),
                      "hi": pa.array(hi[pick], pa.uint64()), "lo": pa.array(lo[pick], pa.uint64())},
                     schema=RANK_SCHEMA)
    _write_by_part(table, f"{task.workdir}/ranks/{_shard_name(task.index)}.parquet")
    _write_marker(task.workdir, "ranks", _shard_name(task.index), str(rows))
    return rows


def _compact(tables: list[pa.Table], limit: int) -> pa.Table:
    """The ``limit`` smallest ranks per key of all ``tables``, sorted by key (its text) then rank."""
    table = pa.concat_tables(tables)
    if table.num_rows == 0:
        return table
    encoded = pc.dictionary_encode(table.column("key").combine_chunks())
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    # by the key's text, not its dictionary code: the same order whatever order the rows were read in
    text_rank = np.argsort(np.argsort(np.array(encoded.dictionary.to_pylist(), dtype=object)))
    pick = _smallest(text_rank[codes], table.column("hi").to_numpy(), table.column("lo").to_numpy(), limit)
    return table.take(pa.array(pick))


@dataclass(frozen=True)
class GroupTask:
    """Combine the rank files of a group of shards (a combiner): what the thresholds tasks then read is one file
    per group, not one per shard, so their requests grow with groups x partitions, not shards x partitions."""

    index: int
    sources: tuple[str, ...]
    workdir: str
    max_docs: int
    buffer_rows: int


def group_task(task: GroupTask) -> int:
    kept: list[pa.Table] = []
    buffered = 0
    for source in task.sources:
        with fsspec.open(source, "rb") as handle:
            table = pq.read_table(handle)
        kept.append(table)
        buffered += table.num_rows
        if buffered > task.buffer_rows:
            kept = [_compact(kept, task.max_docs + 1)]
            buffered = kept[0].num_rows
    merged = _compact(kept, task.max_docs + 1) if kept else RANK_SCHEMA.empty_table()
    _write_by_part(merged.cast(RANK_SCHEMA), f"{task.workdir}/groups/{_group_name(task.index)}.parquet")
    _write_marker(task.workdir, "groups", _group_name(task.index), str(merged.num_rows))
    return merged.num_rows


@dataclass(frozen=True)
class ThresholdTask:
    part: int
    sources: tuple[str, ...]
    workdir: str
    max_docs: int
    buffer_rows: int = 2_000_000


def threshold_task(task: ThresholdTask) -> dict[str, int]:
    """Phase ``thresholds`` for one partition; returns over-cap keys per language."""
    kept: list[pa.Table] = []
    buffered = 0
    for source in task.sources:
        with fsspec.open(source, "rb") as handle:
            pfile = pq.ParquetFile(handle)
            for g in range(pfile.metadata.num_row_groups):
                stats = pfile.metadata.row_group(g).column(0).statistics
                if stats is not None and stats.has_min_max and not stats.min <= task.part <= stats.max:
                    continue  # the row group of another partition: not read
                group = pfile.read_row_group(g)
                group = group.filter(pc.equal(group.column("part"), task.part)).select(["key", "hi", "lo"])
                kept.append(group)
                buffered += group.num_rows
        if buffered > task.buffer_rows:  # bounded memory: keep only what can still be among the smallest
            kept = [_compact(kept, task.max_docs + 1)]
            buffered = kept[0].num_rows
    merged = _compact(kept, task.max_docs + 1) if kept else THRESHOLD_SCHEMA.empty_table()
    out = THRESHOLD_SCHEMA.empty_table()
    capped: dict[str, int] = {}
    if merged.num_rows:
        keys = merged.column("key").to_pylist()  # sorted by key, then rank
        starts = [0] + [j for j in range(1, len(keys)) if keys[j] != keys[j - 1]]
        ends = starts[1:] + [len(keys)]
        take = [s + task.max_docs - 1 for s, e in zip(starts, ends, strict=True) if e - s > task.max_docs]
        out = merged.take(pa.array(take, pa.int64())).cast(THRESHOLD_SCHEMA) if take else out
        for t in take:
            lang = keys[t].split(SEP, 1)[0] if SEP in keys[t] else "*"
            capped[lang] = capped.get(lang, 0) + 1
    sink = pa.BufferOutputStream()
    pq.write_table(out, sink, compression="zstd")
    write_bytes_atomic(f"{task.workdir}/thresholds/{_part_name(task.part)}.parquet", sink.getvalue().to_pybytes())
    _write_marker(task.workdir, "thresholds", _part_name(task.part), json.dumps(capped, sort_keys=True))
    return capped


class _Thresholds:
    """Every over-cap key with its threshold rank (few: at most documents / max_docs keys), from one file."""

    def __init__(self, path: str) -> None:
        with fsspec.open(path, "rb") as handle:
            table = pq.read_table(handle)
        self.keys = table.column("key").combine_chunks()
        self.hi = table.column("hi").to_numpy()
        self.lo = table.column("lo").to_numpy()


@lru_cache(maxsize=4)
def _thresholds(path: str, identity: str) -> _Thresholds:
    """Read once per worker process and computation (``identity``: a digest of the settings and input shards,
    which decide the thresholds)."""
    return _Thresholds(path)


class DomainCap(GlobalStep):
    name: ClassVar[str] = "domain_cap"
    target_rows_per_partition: ClassVar[int] = 4_000_000
    buffer_rows: int = 2_000_000  # ranks a groups or thresholds task holds before it compacts them (memory bound)
    group_rows: int = 4_000_000  # documents whose shards one groups task combines (none when shards are this big)

    def __init__(self, max_docs: int = 10_000, by: Literal["host", "registered_domain"] = "registered_domain",
                 per_language: bool = True, partitions: int | None = None, report_domains: bool = True) -> None:
        if max_docs < 1:
            raise ValueError("max_docs must be >= 1")
        if by not in ("host", "registered_domain"):
            raise ValueError(f"by must be 'host' or 'registered_domain', not {by!r}")
        if partitions is not None and partitions < 1:
            raise ValueError("partitions must be >= 1")
        self.max_docs = max_docs
        self.by = by
        self.per_language = per_language
        self.partitions = partitions
        self.report_domains = report_domains
        self._workdir: str | None = None
        self._partitions = 0
        self._identity = ""
        self._stats: tuple[int, dict[str, dict[str, int]]] | None = None

    def describe(self) -> dict[str, Any]:
        return {"max_docs": self.max_docs, "by": self.by, "per_language": self.per_language,
                "partitions": self.partitions, "report_domains": self.report_domains}

    def prepare(self, job: GlobalJob) -> None:
        wd = job.workdir.rstrip("/")
        fs, root = fsspec.core.url_to_fs(wd)
        settings = {k: v for k, v in self.describe().items() if k != "report_domains"}
        manifest = {"version": MANIFEST_VERSION, "settings": settings, "shards": [list(s) for s in job.shards]}
        old = _read_json(fs, f"{root}/manifest.json")
        if old is not None and {k: v for k, v in old.items() if k != "partitions"} != manifest:
            log.warning("domain_cap: workdir %s holds another configuration; starting over", wd)
            fs.rm(root, recursive=True)
            old = None
        if old is not None:
            partitions = int(old["partitions"])
        else:
            partitions = self.partitions or self._auto_partitions(job)
            write_bytes_atomic(f"{wd}/manifest.json", json.dumps({**manifest, "partitions": partitions}).encode())
        capped = _read_json(fs, f"{root}/capped.json")
        if capped is None:
            capped = self._phases(job, wd, partitions)
        self._workdir, self._partitions = wd, partitions
        self._identity = hashlib.sha256(json.dumps([manifest, partitions], sort_keys=True).encode()).hexdigest()
        job.stats[self.name] = {"max_docs": self.max_docs, "by": self.by, "per_language": self.per_language,
                                "capped_keys": dict(sorted(capped.items())), "partitions": partitions}

    def _phases(self, job: GlobalJob, wd: str, partitions: int) -> dict[str, int]:
        """ranks (per shard) -> groups (per group of shards, when there are many) -> thresholds (per partition);
        each task skipped when its marker exists; the thresholds end in one file that every worker reads once."""
        n = len(job.shards)
        todo = [RankTask(i, path, wd, partitions, self.max_docs, self.by, self.per_language)
                for i, (_, path) in enumerate(job.shards) if _done(wd, "ranks", _shard_name(i)) is None]
        if todo:
            job.map(rank_task, todo)
        rows = [int(_done(wd, "ranks", _shard_name(i)) or 0) for i in range(n)]
        sources = [f"{wd}/ranks/{_shard_name(i)}.parquet" for i in range(n)]
        per_group = max(1, self.group_rows // max(1, sum(rows) // max(1, n)))
        if n > per_group > 1:
            groups = [tuple(sources[i:i + per_group]) for i in range(0, n, per_group)]
            todo = [GroupTask(g, members, wd, self.max_docs, self.buffer_rows) for g, members in enumerate(groups)
                    if _done(wd, "groups", _group_name(g)) is None]
            if todo:
                job.map(group_task, todo)
            sources = [f"{wd}/groups/{_group_name(g)}.parquet" for g in range(len(groups))]
        todo = [ThresholdTask(p, tuple(sources), wd, self.max_docs, self.buffer_rows) for p in range(partitions)
                if _done(wd, "thresholds", _part_name(p)) is None]
        if todo:
            job.map(threshold_task, todo)
        capped: dict[str, int] = {}
        tables = []
        for p in range(partitions):
            for lang, k in json.loads(_done(wd, "thresholds", _part_name(p)) or "{}").items():
                capped[lang] = capped.get(lang, 0) + k
            with fsspec.open(f"{wd}/thresholds/{_part_name(p)}.parquet", "rb") as handle:
                tables.append(pq.read_table(handle))
        sink = pa.BufferOutputStream()
        pq.write_table(pa.concat_tables(tables) if tables else THRESHOLD_SCHEMA.empty_table(), sink,
                       compression="zstd")
        write_bytes_atomic(f"{wd}/thresholds.parquet", sink.getvalue().to_pybytes())
        write_bytes_atomic(f"{wd}/capped.json", json.dumps(capped, sort_keys=True).encode())  # the phases' end
        return capped

    def _auto_partitions(self, job: GlobalJob) -> int:
        rows = job.previous_stage.get("shard_rows")
        if rows is None or len(rows) != len(job.shards):
            rows = job.map(_count_rows, [path for _, path in job.shards])
        return max(1, math.ceil(sum(int(r) for r in rows) / self.target_rows_per_partition))

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        if self._workdir is None:
            raise RuntimeError("domain_cap: process() called before prepare()")
        self._stats = None  # never another batch's counters, even when this one fails
        n = table.num_rows
        keep = np.ones(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        limits = _thresholds(f"{self._workdir}/thresholds.parquet", self._identity)
        if n and len(limits.keys):
            keys = doc_keys(table, self.by, self.per_language)
            found = pc.index_in(keys, value_set=limits.keys)
            rows = np.flatnonzero(pc.is_valid(found).to_numpy(zero_copy_only=False))
            if len(rows):
                at = pc.take(found, pa.array(rows)).to_numpy().astype(np.int64)
                ids = pc.take(table.column(ID), pa.array(rows)).to_pylist() if ID in table.column_names \
                    else [None] * len(rows)
                hi, lo = doc_ranks(ids)
                th_hi, th_lo = limits.hi[at], limits.lo[at]
                over = (hi > th_hi) | ((hi == th_hi) & (lo > th_lo))
                names = pc.take(keys, pa.array(rows)).to_pylist()
                for r, is_over, name in zip(rows.tolist(), over.tolist(), names, strict=True):
                    if is_over:
                        keep[r] = False
                        reasons[r] = "over_cap:" + name.rsplit(SEP, 1)[-1]
        self._stats = (id(table), removal_stats(table, keep, self.report_domains, ctx.tokenizer))
        return BlockOutput(table=table, keep=keep, reasons=reasons)

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        if self._stats is None or self._stats[0] != id(table):
            return {}
        return self._stats[1]


def _read_json(fs: Any, path: str) -> Any:
    if not fs.exists(path):
        return None
    with fs.open(path, "rb") as f:
        return json.loads(f.read())


def _count_rows(path: str) -> int:
    if not path:
        return 0
    with fsspec.open(path, "rb") as f:
        return int(pq.ParquetFile(f).metadata.num_rows)
