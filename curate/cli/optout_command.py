"""``curate optout build``: robots.txt captures -> the per-host opt-out table (:mod:`curate.optout.robots_table`).

Inputs, in any mix:

- web archives (WARC, WACZ, ARC; any compression curate reads; local or fsspec URLs, globs, folders of them):
  read by curate's own readers in capture mode (every response whatever its status: a 404 or a redirect says
  something). Common Crawl's ``robotstxt/`` WARCs hold the robots.txt responses of each crawl, and the pages
  their redirects led to;
- folders of robots.txt files, each named by its host (``example.com``, ``example.com_443`` for https);
  ``--date`` gives them a capture date (else they have none and lose to any dated capture);
- opt-out tables built before (``.parquet``, the same agents): their rows compete as captures, so a table can
  grow dump by dump, the newest capture winning.

Each input is parsed in a worker process (``--workers``) into a capture file (a local temporary folder); the
driver reads back only what it chooses by (host, URL, date, status, redirect: ~150 bytes per capture, not the
~3 KB of verdicts), picks the newest capture per host, then writes the table a capture file at a time. Wiring:
``register_optout_commands(sub)`` in ``curate/cli/main.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.blocks.columns import DATE, HTML, HTTP_LOCATION, HTTP_STATUS, SOURCE, URL
from curate.errors import CurateError
from curate.io.input_files import READERS, expand_paths
from curate.io.read_counts import ReadCounts
from curate.optout.agent_lists import list_version, resolve_agents
from curate.optout.robots_table import (
    CAPTURE_SCHEMA,
    COMPACT_COLUMNS,
    TABLE_SCHEMA,
    CaptureParser,
    OptoutTableError,
    Policy,
    choose_newest,
    decode_robots,
    gather,
    read_metadata,
    table_metadata,
    unknown_agents,
)
from curate.optout.url_hosts import url_hosts
from curate.storage.atomic import TMP_SUFFIX, publish

ARCHIVE_FORMATS = ("warc", "wacz", "arc")
FOLDER_CHUNK = 500  # robots.txt files per task of a folder
ROW_GROUP = 50_000  # hosts per row group of the table (the optout step streams it a row group at a time)
_ORDER_BITS = 36  # order = input number << 36 | position in the input


class OptoutBuildError(CurateError, ValueError):
    """An input of ``curate optout build`` cannot be used."""


@dataclass(frozen=True)
class BuildTask:
    """One unit of parsing: an archive, a chunk of a robots.txt folder, or a table built before."""

    kind: str  # "archive" | "files" | "table"
    index: int
    paths: tuple[str, ...]
    fmt: str
    agents: tuple[str, ...]
    policy: Policy
    date: str | None = None
    work: str = ""  # the folder of the capture files (a local temporary folder)


def _host_from_name(name: str) -> tuple[str, str]:
    """``example.com_443`` -> (``example.com``, ``https``): protego's test-data naming."""
    host, _, port = name.rpartition("_")
    if host and port.isdigit():
        return host.lower().rstrip("."), "https" if port == "443" else "http"
    return name.lower().rstrip("."), "http"


def run_task(task: BuildTask) -> tuple[str, dict[str, Any]]:
    """Parse one input into a capture file (:data:`CAPTURE_SCHEMA` rows) and its counts; never raises on bad data.
    The file is what the driver reads back: it holds the verdicts, the driver only what it chooses by."""
    table, stats = _captures(task)
    path = f"{task.work}/captures-{task.index:06d}.parquet"
    pq.write_table(table, path, compression="zstd")
    return path, stats


def _captures(task: BuildTask) -> tuple[pa.Table, dict[str, Any]]:
    parser = CaptureParser(list(task.agents), task.policy)
    rows: list[dict[str, Any]] = []
    stats: Counter[str] = Counter()
    messages: list[str] = []
    base = task.index << _ORDER_BITS
    if task.kind == "files":
        for position, path in enumerate(task.paths):
            host, scheme = _host_from_name(path.rstrip("/").rsplit("/", 1)[-1])
            with fsspec.open(path, "rb") as handle:
                raw = handle.read()
            text = decode_robots(raw)
            rows.append(parser.row(host, f"{scheme}://{host}/robots.txt", task.date, base + position, path, None,
                                   None, text))
            stats["files"] += 1
    elif task.kind == "table":
        return _table_rows(task), {"tables": 1}
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
                rows.append(parser.row(host, url, date, base + position, source, status, location, body))
        stats.update({"records": counts.records, "read_errors": sum(counts.errored.values())})
        stats.update({f"skipped:{k}": v for k, v in counts.skipped.items()})
        messages.extend(counts.messages[:5])
    table = pa.Table.from_pylist(rows, schema=CAPTURE_SCHEMA)
    return table, {**stats, "captures": len(rows), "messages": messages}


def _table_rows(task: BuildTask) -> pa.Table:
    path = task.paths[0]
    with fsspec.open(path, "rb") as handle:
        table = pq.read_table(handle)
    meta = read_metadata(table.schema, path)
    missing = unknown_agents(task.agents, meta["agents"])
    if missing or len(meta["agents"]) != len(task.agents):
        raise OptoutBuildError(f"{path} was built for other agents ({meta.get('agent_spec')}); rebuild it with the "
                               f"same --agents, or leave it out (missing: {', '.join(missing) or 'none'})")
    n = table.num_rows
    order = pa.array([(task.index << _ORDER_BITS) + i for i in range(n)], pa.int64())
    table = table.replace_schema_metadata(None).append_column("order", order)
    return table.append_column("location", pa.nulls(n, pa.string())).cast(CAPTURE_SCHEMA)


def plan_tasks(inputs: list[str], agents: list[str], policy: Policy, date: str | None,
               fmt: str = "auto") -> list[BuildTask]:
    """Inputs in a fixed order: archives and tables one task each, robots.txt folders in chunks."""
    tasks: list[BuildTask] = []
    common = {"agents": tuple(agents), "policy": policy}
    for item in inputs:
        fs, fs_path = fsspec.core.url_to_fs(item)
        if not any(c in fs_path for c in "*?[") and fs.isdir(fs_path):
            listed = sorted(p for p in fs.find(fs_path) if not p.rsplit("/", 1)[-1].startswith("."))
            archives = [p for p in listed if p.lower().endswith(tuple(s for f in ARCHIVE_FORMATS
                                                                     for s in READERS[f].suffixes))]
            if not archives:  # a folder of robots.txt files named by host
                protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
                prefix = "" if protocol in ("file", "local") else f"{protocol}://"
                names = [p if p.startswith(prefix) else prefix + p for p in listed]
                for i in range(0, len(names), FOLDER_CHUNK):
                    tasks.append(BuildTask("files", len(tasks), tuple(names[i:i + FOLDER_CHUNK]), "", date=date,
                                           **common))
                continue
        for shard in expand_paths([item], fmt):
            if shard.format == "parquet":
                tasks.append(BuildTask("table", len(tasks), (shard.path,), "parquet", **common))
            elif shard.format in ARCHIVE_FORMATS:
                tasks.append(BuildTask("archive", len(tasks), (shard.path,), shard.format, **common))
            else:
                raise OptoutBuildError(f"{shard.path}: a {shard.format} file holds no robots.txt captures; give "
                                       "WARC/WACZ/ARC files, folders of robots.txt files or opt-out tables")
    if not tasks:
        raise OptoutBuildError(f"no input in {inputs}")
    return tasks


def build_table(inputs: list[str], agent_spec: str, out: str, workers: int = 1, policy: Policy | None = None,
                date: str | None = None, fmt: str = "auto") -> dict[str, Any]:
    """Build the table into ``out``; returns the summary ``curate optout build`` prints."""
    policy = policy or Policy()
    agents = resolve_agents(agent_spec)
    tasks = plan_tasks(inputs, agents, policy, date, fmt)
    started = time.process_time()
    with tempfile.TemporaryDirectory(prefix="curate-optout-") as work:
        tasks = [replace(t, work=work) for t in tasks]
        if workers > 1 and len(tasks) > 1:
            with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
                results = list(pool.map(run_task, tasks))
        else:
            results = [run_task(t) for t in tasks]
        totals: Counter[str] = Counter()
        messages: list[str] = []
        files = []
        compact_parts = []
        for f, (path, stats) in enumerate(results):
            messages.extend(stats.pop("messages", []))
            totals.update(stats)
            files.append(path)
            part = pq.read_table(path, columns=list(COMPACT_COLUMNS))
            compact_parts.append(part.append_column("file", pa.array(np.full(part.num_rows, f, dtype=np.int32)))
                                 .append_column("row", pa.array(np.arange(part.num_rows, dtype=np.int64))))
        compact = pa.concat_tables(compact_parts)
        winners = choose_newest(compact)
        metadata = table_metadata(agents, agent_spec, list_version(), policy, len(tasks), compact.num_rows)
        local = f"{work}/optout.parquet"
        status: Counter[str] = Counter()
        disallowed: Counter[str] = Counter()
        unparsable: list[str] = []
        with pq.ParquetWriter(local, TABLE_SCHEMA.with_metadata(metadata), compression="zstd") as writer:
            for rows in gather(winners, compact, files):
                writer.write_table(rows, row_group_size=ROW_GROUP)
                status.update(rows.column("status").to_pylist())
                disallowed.update(a for row in rows.column("disallowed").to_pylist() for a in row)
                unparsable.extend(h for h, s in zip(rows.column("host").to_pylist(), rows.column("status").to_pylist(),
                                                    strict=True) if s == "unparsable")
        _publish(local, out)
    return {
        "out": out, "inputs": len(tasks), "captures": compact.num_rows, "hosts": winners.num_rows,
        "agents": len(agents), "status": dict(status.most_common()), "unparsable": sorted(unparsable)[:10],
        "hosts_disallowing": dict(disallowed.most_common()), "counts": dict(totals), "messages": messages[:10],
        "driver_cpu_seconds": round(time.process_time() - started, 3),
    }


def _publish(local: str, out: str) -> None:
    """Move the finished table to ``out`` (any fsspec URL) so that readers never see half of it."""
    fs, path = fsspec.core.url_to_fs(out)
    tmp = f"{path}.{uuid.uuid4().hex}{TMP_SUFFIX}"
    parent = path.rpartition("/")[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    fs.put_file(local, tmp)
    try:
        publish(fs, tmp, path)
    except BaseException:
        if fs.exists(tmp):
            fs.rm(tmp)
        raise


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"wrote {summary['out']}: {summary['hosts']} hosts from {summary['captures']} captures "
             f"({summary['inputs']} inputs), {summary['agents']} agents",
             "  status: " + ", ".join(f"{k} {v}" for k, v in summary["status"].items())]
    blocked = summary["hosts_disallowing"]
    if blocked:
        top = list(blocked.items())[:8]
        lines.append("  hosts disallowing the site root: " + ", ".join(f"{a} {n}" for a, n in top)
                     + (" ..." if len(blocked) > len(top) else ""))
    skipped = {k: v for k, v in summary["counts"].items()
               if v and (k.startswith("skipped:") or k in ("read_errors", "no_host"))}
    if skipped:
        lines.append("  not captures: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    if summary["unparsable"]:
        lines.append("  unparsable (not text; counted as --unparsable says): " + ", ".join(summary["unparsable"])
                     + (" ..." if summary["status"].get("unparsable", 0) > len(summary["unparsable"]) else ""))
    lines.extend(f"  ! {m}" for m in summary["messages"])
    return "\n".join(lines)


def _cmd_build(args: argparse.Namespace) -> int:
    try:
        summary = build_table(args.inputs, args.agents, args.out, workers=args.workers,
                              policy=Policy(unreachable=args.unreachable, unparsable=args.unparsable),
                              date=args.date, fmt=args.format)
    except (OptoutBuildError, OptoutTableError) as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    return 0


def register_optout_commands(sub: Any) -> None:
    optout = sub.add_parser("optout", help="opt-out tables from robots.txt captures (see the optout step)")
    commands = optout.add_subparsers(dest="optout_command", required=True)
    build = commands.add_parser("build", help="robots.txt captures (WARC/WACZ/ARC, folders of robots.txt files, "
                                "earlier tables) -> per-host table; the newest capture wins")
    build.add_argument("inputs", nargs="+", help="files, globs, folders or fsspec URLs")
    build.add_argument("--agents", default="ai", help="a packaged list (ai, ai-all) and/or agents, comma-separated "
                       "(default: ai)")
    build.add_argument("--out", required=True, help="the table to write (.parquet)")
    build.add_argument("--workers", "-w", type=int, default=1, help="parallel parsing processes (default 1)")
    build.add_argument("--date", help="capture date of robots.txt files read from folders (ISO 8601, e.g. "
                       "2025-06-01T00:00:00Z); default none: any dated capture of the host wins over them")
    build.add_argument("--unreachable", choices=["disallow", "allow"], default="disallow",
                       help="a 5xx/429 capture without an earlier answer: disallow all (RFC 9309, default) or allow")
    build.add_argument("--unparsable", choices=["allow", "disallow"], default="allow",
                       help="a capture that is not text: allow all (RFC 9309, default) or disallow")
    build.add_argument("--format", default="auto", help="input format of the archives (default: from the names)")
    build.set_defaults(func=_cmd_build)
