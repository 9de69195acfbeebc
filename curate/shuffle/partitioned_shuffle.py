"""A partitioned shuffle on any fsspec storage whose requests grow with the bytes moved, not writers x readers.

``W`` writer tasks each scatter rows to ``P`` destination partitions; ``P`` reader tasks each gather one
partition. Reading every writer's file from every reader costs ``W x P`` requests of ``bytes/(W x P)`` each:
at one Common Crawl dump (``W`` = 90,000 shards, ``P`` = 10,000) that is 9e8 reads of ~1 KB (DESIGN, "Dedup at
one dump"). Instead, three levels, each cited:

1. **runs** — each writer writes ONE partition-sorted run (:mod:`.partfile`; MapReduce's map-output spill
   file with its index, Dean & Ghemawat 2004, section 3.1): ``W`` PUTs;
2. **merge** — a merge task fetches a *group* of ``g`` consecutive runs whole (one GET each, into one
   local spill file: Hadoop's and Spark's shuffle spills to local disk too), then reads them front to back
   together (one decoded batch of each in memory) and writes one partition-sorted *group file*: for every
   partition, the rows of its ``g`` runs in writer order, as one block. This is Riffle's merge of map outputs into larger files (Zhang et al., "Riffle: Optimized Shuffle
   Service for Large-Scale Data Analytics", EuroSys 2018, section 4) and the pull-side half of Spark's
   push-based shuffle, Magnet (Shen et al., VLDB 2020, section 3), whose merged per-partition files turn
   many small reads into few large ones; here the merge is done by tasks that *read*, since object stores
   cannot append;
3. **index** — one small table, partition-major: row ``p`` holds where partition ``p`` starts in each of
   the ``G = W/g`` group files (a transposed MapReduce index file). A reader of ``p`` does ONE ranged read
   of ``2 x G`` offsets and ONE ranged read per group file (all at once: ``cat_ranges``): no listing, no
   footer of O(P), no list of destinations.

Per shuffle: ``W`` + ``G`` writes (a group file is a multipart upload: one request per 64 MiB part), ``W``
merge reads (whole runs), ``G`` offset reads, ``P x (1 + G)`` reader reads. The group size is chosen from
the bytes (:func:`plan_groups`): large enough that a reader's read of one group file (``group bytes / P``)
is at least :data:`TARGET_READ`, small enough that a merge task spills at most :data:`MERGE_DISK` and holds
at most :data:`MERGE_MEMORY` of decoded batches. At one dump's keys shuffle (~1 TB, 90,000 runs of ~11 MB,
P = 10,000) that gives g ~ 900 runs per group and G ~ 100 groups: 90,000 whole-run reads and ~1M reader
reads of ~1 MiB, i.e. ~1.3M requests instead of ~9e8 (``benchmarks/dedup_requests.py`` measures and
models it).

Every level is deterministic (rows of a partition arrive in writer order, whatever the grouping) and
resumable: a run, a group file and its offsets, and the index are each written atomically, and a level
whose outputs exist is skipped. The primitive knows nothing of dedup or opt-outs: rows, destinations, a folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pyarrow as pa

from curate.shuffle.partfile import RUN_BATCH_BYTES, RunReader, decode_block, encode_block, write_run
from curate.shuffle.workdir import Workdir

TARGET_READ = 1 << 20  # bytes a reader should get per ranged read of a group file
MERGE_DISK = 32 << 30  # local spill of one merge task: its group's runs
MERGE_MEMORY = 1 << 30  # decoded batches of one merge task: at most MERGE_MEMORY / RUN_BATCH_BYTES runs per group
INDEX = "partitions.index"
MapFn = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


@dataclass(frozen=True)
class ShufflePlan:
    """How runs are grouped (:func:`plan_groups`) and read by merge tasks."""

    target_read: int = TARGET_READ
    merge_disk: int = MERGE_DISK
    merge_memory: int = MERGE_MEMORY


@dataclass(frozen=True)
class ShuffleRef:
    """What a reader needs: the shuffle's folder (relative to the work folder), partitions, groups."""

    folder: str
    partitions: int
    groups: int


def run_path(wd: Workdir, folder: str, writer: int) -> str:
    return wd.path(folder, "runs", f"run-{writer:06d}.arrow")


def group_path(wd: Workdir, folder: str, group: int) -> str:
    return wd.path(folder, "groups", f"group-{group:05d}.arrow")


def offsets_name(group: int) -> str:
    return f"group-{group:05d}.offsets"


def write(wd: Workdir, folder: str, writer: int, table: pa.Table, dest: np.ndarray, partitions: int) -> int:
    """Writer ``writer``'s run of shuffle ``folder``; returns its bytes (the driver plans groups from them)."""
    return write_run(run_path(wd, folder, writer), table, dest, partitions, fs=wd.fs)


def plan_groups(sizes: list[int], partitions: int, plan: ShufflePlan | None = None) -> list[tuple[int, int]]:
    """Consecutive writer ranges ``[lo, hi)`` of about equal bytes, as many as the bytes allow with each group
    holding at least ``target_read x partitions`` bytes (so that a reader's share of every group file is one
    read of ``target_read`` or more), and more when a group would exceed ``merge_disk`` bytes or
    ``merge_memory / RUN_BATCH_BYTES`` runs."""
    plan = plan or ShufflePlan()
    if not sizes:
        return []
    cum = np.cumsum(np.asarray(sizes, dtype=np.int64))
    total = int(cum[-1])
    want = max(1, min(plan.target_read * partitions, plan.merge_disk))
    most = max(1, plan.merge_memory // RUN_BATCH_BYTES)
    n = max(1, total // want, -(-len(sizes) // most), -(-total // plan.merge_disk))
    cuts = [0, *sorted({int(c) for c in np.searchsorted(cum, [total * k // n for k in range(1, n)], side="left") + 1}),
            len(sizes)]
    groups = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        for start in range(lo, hi, most):  # a group of too many small runs is cut by count
            if start < min(hi, start + most):
                groups.append((start, min(hi, start + most)))
    return [g for g in groups if g[1] > g[0]]


@dataclass(frozen=True)
class MergeTask:
    """Merge runs ``lo .. hi-1`` of shuffle ``folder`` into group file ``group``."""

    workdir: str
    folder: str
    group: int
    lo: int
    sizes: tuple[int, ...]  # of runs lo, lo+1, ...
    partitions: int
    only: bool = False  # the shuffle's only group: its offsets are the index (no index task)

    @property
    def kind(self) -> str:
        return f"merge:{self.folder.split('/')[-1]}"


class _Window:
    """A run inside the merge task's spill file: a file-like view with its own position over a shared
    handle (one open file for the whole group, whatever ``g``)."""

    def __init__(self, handle: IO[bytes], start: int, size: int) -> None:
        self.handle, self.pos, self.end = handle, start, start + size
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        n = self.end - self.pos if n is None or n < 0 else min(n, self.end - self.pos)
        self.handle.seek(self.pos)
        data = self.handle.read(n)
        self.pos += len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


def merge_task(task: MergeTask) -> dict[str, Any]:
    """Fetch the group's runs whole into a local spill file, read them front to back together and write
    each partition's rows as one block of the group file."""
    wd = Workdir(task.workdir)
    # an anonymous file: the disk is given back however the task ends
    with tempfile.TemporaryFile(prefix="curate-merge-") as spill:
        windows = []
        for i in range(len(task.sizes)):
            data = wd.fs.cat_file(run_path(wd, task.folder, task.lo + i))  # one GET per run
            windows.append((spill.tell(), len(data)))
            spill.write(data)
            del data
        spill.flush()
        readers = [RunReader(_Window(spill, start, size)) for start, size in windows]
        schema = readers[0].schema
        counts = np.stack([r.counts for r in readers]) if readers else np.zeros((0, task.partitions), np.int64)
        if counts.shape[1] != task.partitions:
            raise ValueError(f"{run_path(wd, task.folder, task.lo)} has {counts.shape[1]} destinations, "
                             f"not {task.partitions}: delete {wd.url} and rerun")
        offsets = np.zeros(task.partitions + 1, dtype="<i8")
        with wd.open_stream(task.folder, "groups", f"group-{task.group:05d}.arrow") as out:
            pos = 0
            for p in range(task.partitions):
                batches = []
                for i in np.flatnonzero(counts[:, p]).tolist():
                    batches.extend(readers[i].take(int(counts[i, p])))
                if batches:
                    block = encode_block(batches, schema)
                    out.write(block)
                    pos += len(block)
                offsets[p + 1] = pos
    # a single group's offsets, (P + 1) x 1, are byte for byte the partition-major index
    wd.write_bytes(offsets.tobytes(), *((task.folder, INDEX) if task.only else
                                        (task.folder, "groups", offsets_name(task.group))))
    return {"bytes": int(offsets[-1]), "rows": int(counts.sum())}


@dataclass(frozen=True)
class IndexTask:
    workdir: str
    folder: str
    groups: int
    partitions: int

    @property
    def kind(self) -> str:
        return f"index:{self.folder.split('/')[-1]}"


def index_task(task: IndexTask) -> dict[str, Any]:
    """The partition-major index: row ``p`` = start of partition ``p`` in every group file (row ``P``: ends)."""
    wd = Workdir(task.workdir)
    table = np.zeros((task.partitions + 1, task.groups), dtype="<i8")
    for g in range(task.groups):
        raw = wd.fs.cat_file(wd.path(task.folder, "groups", offsets_name(g)))
        table[:, g] = np.frombuffer(raw, dtype="<i8")
    wd.write_bytes(table.tobytes(), task.folder, INDEX)
    return {"bytes": int(table[-1].sum())}


def merge(run: MapFn, wd: Workdir, folder: str, partitions: int, sizes: list[int],
          plan: ShufflePlan | None = None) -> ShuffleRef:
    """Levels 2 and 3 for a shuffle whose ``len(sizes)`` runs are written (``sizes``: their bytes). Resumable:
    groups with offsets and an existing index are not redone; the runs are deleted once the index exists."""
    plan = plan or ShufflePlan()
    groups = plan_groups(sizes, partitions, plan)
    ref = ShuffleRef(folder, partitions, len(groups))
    if wd.exists(folder, INDEX):
        return ref
    done = set(wd.listdir(folder, "groups"))
    only = len(groups) == 1
    tasks = [MergeTask(wd.url, folder, g, lo, tuple(sizes[lo:hi]), partitions, only)
             for g, (lo, hi) in enumerate(groups) if offsets_name(g) not in done]
    if tasks:
        run(merge_task, tasks)
    if not only:
        run(index_task, [IndexTask(wd.url, folder, len(groups), partitions)])
    wd.remove(folder, "runs")
    return ref


def read_batches(wd: Workdir, ref: ShuffleRef, partition: int) -> Iterator[pa.RecordBatch]:
    """Partition ``partition`` of a merged shuffle, batch by batch: one ranged read of the index, one per group
    file that holds rows of it (fetched together); rows in writer order."""
    g = ref.groups
    if g == 0:
        return
    raw = wd.fs.cat_file(wd.path(ref.folder, INDEX), start=partition * g * 8, end=(partition + 2) * g * 8)
    bounds = np.frombuffer(raw, dtype="<i8").reshape(2, g)
    want = [i for i in range(g) if bounds[1, i] > bounds[0, i]]
    if want:
        paths = [group_path(wd, ref.folder, i) for i in want]
        blocks = wd.fs.cat_ranges(paths, [int(bounds[0, i]) for i in want], [int(bounds[1, i]) for i in want])
        for i in range(len(blocks)):
            block, blocks[i] = blocks[i], b""  # each block let go once decoded
            yield from decode_block(block)


def read(wd: Workdir, ref: ShuffleRef, partition: int, schema: pa.Schema,
         columns: list[str] | None = None) -> pa.Table:
    """Partition ``partition`` of a merged shuffle as one table (:func:`read_batches`)."""
    batches = list(read_batches(wd, ref, partition))
    table = pa.Table.from_batches(batches, schema=schema) if batches else schema.empty_table()
    return table if columns is None else table.select(columns)

