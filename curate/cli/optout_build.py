"""The driver of ``curate optout build``: robots.txt captures -> the per-host opt-out table, partitioned.

Inputs, in any mix:

- web archives (WARC, WACZ, ARC; any compression curate reads; local or fsspec URLs, globs, folders of them):
  read by curate's own readers in capture mode (every response whatever its status: a 404 or a redirect says
  something). Common Crawl's ``robotstxt/`` WARCs hold the robots.txt responses of each crawl, and the pages
  their redirects led to;
- folders of robots.txt files, each named by its host (``example.com``, ``example.com_443`` for https);
  ``--date`` gives them a capture date (else they have none and lose to any dated capture);
- opt-out tables built before (``.parquet``, the same agents): their rows compete as captures, so a table can
  grow dump by dump, the newest capture winning.

Passes, each a list of tasks on the executor (``--workers``, ``--executor ray``), each task leaving a marker in
the work folder (``--work``, default ``OUT.work/``; a rerun of the same command skips what is done and writes
the same bytes):

1. *captures*: each input (an archive, 500 files of a folder, a table) is parsed (:class:`.CaptureParser`)
   and its rows, verdicts included, scattered by a hash of the host into ``P`` partitions through the
   partitioned shuffle (:mod:`curate.shuffle.partitioned_shuffle`); redirects of robots.txt also become hops
   of round 1;
2. *redirect rounds* (only when captures redirect; :mod:`curate.optout.redirect_round`): each hop is looked up
   in its target's partition, answers go back to the origin's;
3. *table parts* (:mod:`curate.optout.table_part`): each partition picks its hosts' newest captures;
4. the driver streams the parts, in partition order, a row group at a time, into the table file, and removes
   the work folder.

The driver holds task results (counts, run sizes: a few numbers per input file and partition), never a
capture: its memory does not grow with the captures. ``P`` follows from the input sizes and the agents
(:data:`PARTITION_BYTES` of decoded captures per partition, or ``--partitions``); the table's rows are in the order of a hash of the host, so
its bytes depend neither on ``P`` nor on the workers.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from curate.blocks.columns import DATE, HTML, HTTP_LOCATION, HTTP_STATUS, SOURCE, URL
from curate.errors import CurateError
from curate.executors.local import LocalExecutor
from curate.io.input_files import READERS, expand_paths
from curate.io.read_counts import ReadCounts
from curate.optout.agent_lists import list_version, resolve_agents
from curate.optout.host_partition import host_partitions
from curate.optout.redirect_round import (
    RoundTask,
    answers_folder,
    first_hops,
    hop_partitions,
    hops_folder,
    round_task,
)
from curate.optout.robots_table import (
    CAPTURE_SCHEMA,
    MAX_REDIRECTS,
    TABLE_SCHEMA,
    CaptureParser,
    Policy,
    decode_robots,
    read_metadata,
    robots_urls,
    table_metadata,
    unknown_agents,
)
from curate.optout.table_part import ROW_GROUP, PartTask, part_name, part_task
from curate.optout.url_hosts import url_hosts
from curate.pipeline.executor import Executor
from curate.pipeline.run_state import config_hash
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.workdir import Workdir

ARCHIVE_FORMATS = ("warc", "wacz", "arc")
FOLDER_CHUNK = 500  # robots.txt files per task of a folder
# decoded capture rows per partition: a partition task holds its hosts' captures with their verdicts and the
# rules that apply (on the 4,231 real files: ~2.5 KB + ~27 bytes per agent, ~3.9 KB with the 50 agents of
# `ai`, so ~33,000 captures), a few times that at peak
PARTITION_BYTES = 128 << 20
ROW_BYTES, AGENT_BYTES = 2500, 30
# captures per input byte, to plan partitions before reading: a gzipped WARC record of a robots.txt is ~800 bytes
# (Common Crawl's carry more headers: fewer captures per byte, so more partitions than needed, never fewer)
WARC_BYTES_PER_CAPTURE = 800
TABLE_BYTES_PER_HOST = 250  # a table built before (zstd Parquet, ~270 bytes per host with `ai`)
CAPTURES = "shuffles/captures"
ROWS_CHUNK = 2048  # capture rows converted to Arrow at a time
_ORDER_BITS = 36  # order = input number << 36 | position in the input


class OptoutBuildError(CurateError, ValueError):
    """An input of ``curate optout build`` cannot be used."""


@dataclass(frozen=True)
class CaptureTask:
    """One unit of parsing: an archive, a chunk of a robots.txt folder, or a table built before."""

    kind: str  # "archive" | "files" | "table"
    index: int
    paths: tuple[str, ...]
    fmt: str
    agents: tuple[str, ...]
    policy: Policy
    date: str | None = None
    captures: int = 0  # about (partitions are planned from it)
    version: str = ""  # sizes and modification times of the inputs (part of the work folder's identity)
    workdir: str = ""
    partitions: int = 1


def _host_from_name(name: str) -> tuple[str, str]:
    """``example.com_443`` -> (``example.com``, ``https``): protego's test-data naming."""
    host, _, port = name.rpartition("_")
    if host and port.isdigit():
        return host.lower().rstrip("."), "https" if port == "443" else "http"
    return name.lower().rstrip("."), "http"


def capture_task(task: CaptureTask) -> dict[str, Any]:
    """Parse one input and write its runs of the ``captures`` and ``hops-1`` shuffles; never raises on bad
    data. Returns (and leaves as its marker) the runs' bytes and the input's counts."""
    wd = Workdir(task.workdir)
    marker = ("markers", f"capture-{task.index:06d}.json")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    table, stats = _captures(task)
    dest = host_partitions(table.column("host").to_pylist(), task.partitions)
    hops, hop_dest = hop_partitions(first_hops(table, robots_urls(table.column("url"))), task.partitions)
    result = {**stats, "captures_bytes": shuffle.write(wd, CAPTURES, task.index, table, dest, task.partitions),
              "hops_bytes": shuffle.write(wd, hops_folder(1), task.index, hops, hop_dest, task.partitions),
              "hops": hops.num_rows}
    wd.write_json(result, *marker)
    return result


class _Rows:
    """Capture rows gathered as Arrow a few thousand at a time: a task holds its input's captures in columns
    (~2.5 KB each with 50 agents), not as Python dictionaries (several times that)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.tables: list[pa.Table] = []
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= ROWS_CHUNK:
            self.tables.append(pa.Table.from_pylist(self.rows, schema=CAPTURE_SCHEMA))
            self.rows = []

    def table(self) -> pa.Table:
        self.tables.append(pa.Table.from_pylist(self.rows, schema=CAPTURE_SCHEMA))
        return pa.concat_tables(self.tables).combine_chunks()


def _captures(task: CaptureTask) -> tuple[pa.Table, dict[str, Any]]:
    parser = CaptureParser(list(task.agents), task.policy)
    rows = _Rows()
    stats: Counter[str] = Counter()
    messages: list[str] = []
    base = task.index << _ORDER_BITS
    if task.kind == "files":
        for position, path in enumerate(task.paths):
            host, scheme = _host_from_name(path.rstrip("/").rsplit("/", 1)[-1])
            with fsspec.open(path, "rb") as handle:
                raw = handle.read()
            text = decode_robots(raw)
            rows.add(parser.row(host, f"{scheme}://{host}/robots.txt", task.date, base + position, path, None,
                                None, text))
            stats["files"] += 1
    elif task.kind == "table":
        table = _table_rows(task)
        return table, {"tables": 1, "captures": table.num_rows, "messages": []}
    else:
        counts = ReadCounts()
        reader = READERS[task.fmt](batch_size=512, html_only=False, captures=True)
        position = 0
        for batch in reader.read(task.paths[0], counts):
            hosts = url_hosts(batch.column(URL)).to_pylist()
            columns = [batch.column(c).to_pylist() for c in (URL, DATE, SOURCE, HTTP_STATUS, HTTP_LOCATION, HTML)]
            for host, (url, date, source, status, location, body) in zip(hosts, zip(*columns, strict=True), strict=True):
                position += 1
                if host is None:
                    stats["no_host"] += 1
                    continue
                rows.add(parser.row(host, url, date, base + position, source, status, location, body))
        stats.update({"records": counts.records, "read_errors": sum(counts.errored.values())})
        stats.update({f"skipped:{k}": v for k, v in counts.skipped.items()})
        messages.extend(counts.messages[:5])
    return rows.table(), {**stats, "captures": rows.count, "messages": messages}


def _table_rows(task: CaptureTask) -> pa.Table:
    path = task.paths[0]
    # checked on the footer alone: a refusal holds no Arrow table (one kept alive in a traceback until the
    # interpreter's exit outlives Arrow's thread pool and aborts the process)
    with fsspec.open(path, "rb") as handle:
        meta = read_metadata(pq.read_schema(handle), path)
    missing = unknown_agents(task.agents, meta["agents"])
    if missing or len(meta["agents"]) != len(task.agents):
        raise OptoutBuildError(f"{path} was built for other agents ({meta.get('agent_spec')}); rebuild it with the "
                               f"same --agents, or leave it out (missing: {', '.join(missing) or 'none'})")
    with fsspec.open(path, "rb") as handle:
        table = pq.read_table(handle)
    n = table.num_rows
    order = pa.array([(task.index << _ORDER_BITS) + i for i in range(n)], pa.int64())
    table = table.replace_schema_metadata(None).append_column("order", order)
    return table.append_column("location", pa.nulls(n, pa.string())).cast(CAPTURE_SCHEMA)


def plan_tasks(inputs: list[str], agents: list[str], policy: Policy, date: str | None,
               fmt: str = "auto") -> list[CaptureTask]:
    """Inputs in a fixed order: archives and tables one task each, robots.txt folders in chunks."""
    tasks: list[CaptureTask] = []
    common = {"agents": tuple(agents), "policy": policy}
    for item in inputs:
        fs, fs_path = fsspec.core.url_to_fs(item)
        if not any(c in fs_path for c in "*?[") and fs.isdir(fs_path):
            found = fs.find(fs_path, detail=True)
            listed = sorted(p for p in found if not p.rsplit("/", 1)[-1].startswith("."))
            archives = [p for p in listed if p.lower().endswith(tuple(s for f in ARCHIVE_FORMATS
                                                                     for s in READERS[f].suffixes))]
            if not archives:  # a folder of robots.txt files named by host
                protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
                prefix = "" if protocol in ("file", "local") else f"{protocol}://"
                for i in range(0, len(listed), FOLDER_CHUNK):
                    chunk = listed[i:i + FOLDER_CHUNK]
                    infos = [found[p] for p in chunk]
                    version = config_hash({"files": [[i.get("size"), i.get("mtime") or i.get("ETag")] for i in infos]})
                    tasks.append(CaptureTask("files", len(tasks), tuple(p if p.startswith(prefix) else prefix + p
                                                                        for p in chunk), "", date=date,
                                             captures=len(chunk), version=version, **common))
                continue
        for shard in expand_paths([item], fmt):
            kind = "table" if shard.format == "parquet" else "archive" if shard.format in ARCHIVE_FORMATS else ""
            if not kind:
                raise OptoutBuildError(f"{shard.path}: a {shard.format} file holds no robots.txt captures; give "
                                       "WARC/WACZ/ARC files, folders of robots.txt files or opt-out tables")
            captures = -(-(shard.size or 0) // (TABLE_BYTES_PER_HOST if kind == "table" else WARC_BYTES_PER_CAPTURE))
            tasks.append(CaptureTask(kind, len(tasks), (shard.path,), shard.format, captures=captures,
                                     version=f"{shard.size}:{shard.version}", **common))
    if not tasks:
        raise OptoutBuildError(f"no input in {inputs}")
    return tasks


def plan_partitions(tasks: list[CaptureTask], agents: int) -> int:
    """From the inputs' sizes and the agents alone (never the workers): the table does not depend on it, a
    task's memory does."""
    return max(1, math.ceil(sum(t.captures for t in tasks) * (ROW_BYTES + AGENT_BYTES * agents) / PARTITION_BYTES))


def default_work(out: str) -> str:
    return f"{out}.work"


def build_table(inputs: list[str], agent_spec: str, out: str, workers: int = 1, policy: Policy | None = None,
                date: str | None = None, fmt: str = "auto", partitions: int | None = None, work: str | None = None,
                executor: Executor | None = None) -> dict[str, Any]:
    """Build the table into ``out`` (local path or fsspec URL) on ``executor`` (default: a local pool of
    ``workers`` processes); returns the summary ``curate optout build`` prints."""
    started = time.process_time()
    policy = policy or Policy()
    out = out if "://" in out else os.path.abspath(out)
    agents = resolve_agents(agent_spec)
    tasks = plan_tasks(inputs, agents, policy, date, fmt)
    partitions = partitions or plan_partitions(tasks, len(agents))
    if partitions < 1:
        raise OptoutBuildError(f"--partitions must be at least 1, got {partitions}")
    identity = {"kind": "optout-build", "agents": agents, "policy": [policy.unreachable, policy.unparsable],
                "date": date, "partitions": partitions, "list_version": list_version(),
                "inputs": [[t.kind, t.fmt, list(t.paths), t.version] for t in tasks]}
    root = (work or default_work(out)).rstrip("/")
    root = root if "://" in root else os.path.abspath(root)
    wd = Workdir(f"{root}/{config_hash(identity)}")
    tasks = [replace(t, workdir=wd.url, partitions=partitions) for t in tasks]
    own = executor is None
    runner = executor or LocalExecutor(workers=workers, progress=False)
    try:
        summary = _build(tasks, agents, agent_spec, policy, partitions, wd, out, runner)
    finally:
        if own:
            runner.close()
    wd.remove()
    if not Workdir(root).listdir():
        Workdir(root).remove()
    summary["driver_cpu_seconds"] = round(time.process_time() - started, 3)
    return summary


class _Passes:
    """Runs a pass of tasks, skipping those whose marker exists (read back instead): counts both."""

    def __init__(self, executor: Executor, wd: Workdir) -> None:
        self.executor, self.wd = executor, wd
        self.ran = self.skipped = 0

    def run(self, fn: Callable[[Any], dict[str, Any]], tasks: list[Any], markers: list[str],
            desc: str) -> list[dict[str, Any]]:
        done = set(self.wd.listdir("markers"))
        todo = [t for t, m in zip(tasks, markers, strict=True) if m not in done]
        fresh = iter(self.executor.map(fn, todo, desc=desc) if todo else [])
        self.ran += len(todo)
        self.skipped += len(tasks) - len(todo)
        return [self.wd.read_json("markers", m) if m in done else next(fresh)
                for m in markers]

    def mapper(self, desc: str) -> shuffle.MapFn:
        return lambda fn, items: self.executor.map(fn, items, desc=desc)


def _build(tasks: list[CaptureTask], agents: list[str], agent_spec: str, policy: Policy, partitions: int,
           wd: Workdir, out: str, executor: Executor) -> dict[str, Any]:
    passes = _Passes(executor, wd)
    results = passes.run(capture_task, tasks, [f"capture-{t.index:06d}.json" for t in tasks], "optout:captures")
    totals: Counter[str] = Counter()
    messages: list[str] = []
    for r in results:
        messages.extend(r.get("messages", []))
        totals.update({k: v for k, v in r.items() if k not in ("messages", "captures_bytes", "hops_bytes", "hops")})
    captures = shuffle.merge(passes.mapper("optout:merge"), wd, CAPTURES, partitions,
                             [r["captures_bytes"] for r in results])
    answers = []
    hop_sizes, hop_rows = [r["hops_bytes"] for r in results], sum(r["hops"] for r in results)
    for round_ in range(1, MAX_REDIRECTS + 1):
        if not hop_rows:
            break
        hops = shuffle.merge(passes.mapper("optout:merge"), wd, hops_folder(round_), partitions, hop_sizes)
        rounds = passes.run(round_task, [RoundTask(wd.url, round_, p, partitions, captures, hops)
                                         for p in range(partitions)],
                            [f"round{round_}-{p:05d}.json" for p in range(partitions)], f"optout:redirects-{round_}")
        answers.append(shuffle.merge(passes.mapper("optout:merge"), wd, answers_folder(round_), partitions,
                                     [r["answers_bytes"] for r in rounds]))
        hop_sizes, hop_rows = [r["hops_bytes"] for r in rounds], sum(r["hops"] for r in rounds)
    parts = passes.run(part_task, [PartTask(wd.url, p, captures, tuple(answers)) for p in range(partitions)],
                       [f"part-{p:05d}.json" for p in range(partitions)], "optout:table")
    metadata = table_metadata(agents, agent_spec, list_version(), policy, len(tasks), totals["captures"])
    _assemble(wd, partitions, out, metadata)
    status: Counter[str] = Counter()
    disallowed: Counter[str] = Counter()
    for p in parts:
        status.update(p["status"])
        disallowed.update(p["disallowed"])
    return {
        "out": out, "inputs": len(tasks), "captures": totals.pop("captures"), "hosts": sum(p["hosts"] for p in parts),
        "agents": len(agents), "status": _ranked(status), "hosts_disallowing": _ranked(disallowed),
        "unparsable": sorted(h for p in parts for h in p["unparsable"])[:10], "counts": dict(totals),
        "messages": messages[:10], "partitions": partitions, "redirect_rounds": len(answers),
        "tasks_run": passes.ran, "tasks_skipped": passes.skipped,
    }


def _ranked(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _assemble(wd: Workdir, partitions: int, out: str, metadata: dict[bytes, bytes]) -> None:
    """Stream the parts, in partition order, into ``out`` (which appears whole or not at all): row groups of
    :data:`ROW_GROUP` rows whatever the parts' sizes, so the bytes do not depend on the partitions."""
    parent, _, name = out.rstrip("/").rpartition("/")
    schema = TABLE_SCHEMA.with_metadata(metadata)
    with Workdir(parent or "/").open_stream(name) as sink, \
            pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        held: list[pa.RecordBatch] = []
        rows = 0
        for p in range(partitions):
            with wd.fs.open(wd.path("parts", part_name(p)), "rb") as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=ROW_GROUP):
                    held.append(batch)
                    rows += batch.num_rows
                    while rows >= ROW_GROUP:
                        table = pa.Table.from_batches(held, schema=TABLE_SCHEMA).combine_chunks()
                        writer.write_table(table.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
                        rest = table.slice(ROW_GROUP)
                        held, rows = rest.to_batches(), rest.num_rows
        if rows:
            writer.write_table(pa.Table.from_batches(held, schema=TABLE_SCHEMA).combine_chunks(),
                               row_group_size=ROW_GROUP)
