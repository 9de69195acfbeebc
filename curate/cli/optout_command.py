"""``curate optout build``: robots.txt captures -> the per-host opt-out table (:mod:`curate.optout.robots_table`).

The arguments and the summary; the build itself, partitioned and resumable, is :mod:`curate.cli.optout_build`.
Wiring: ``register_optout_commands(sub)`` in ``curate/cli/main.py``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from curate.cli.optout_build import OptoutBuildError, build_table
from curate.executors.factory import build_executor
from curate.optout.robots_table import OptoutTableError, Policy

__all__ = ["build_table", "format_summary", "register_optout_commands"]


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
    rounds = summary.get("redirect_rounds", 0)
    lines.append(f"  {summary['partitions']} partition(s), {rounds} redirect round(s); "
                 + (f"resumed: {summary['tasks_skipped']} tasks already done, " if summary["tasks_skipped"] else "")
                 + f"{summary['tasks_run']} tasks run")
    return "\n".join(lines)


def _cmd_build(args: argparse.Namespace) -> int:
    executor = build_executor(args.executor, args.workers, args.address)
    try:
        summary = build_table(args.inputs, args.agents, args.out, policy=Policy(unreachable=args.unreachable,
                                                                                unparsable=args.unparsable),
                              date=args.date, fmt=args.format, partitions=args.partitions, work=args.work,
                              executor=executor)
    except (OptoutBuildError, OptoutTableError) as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 1
    finally:
        executor.close()
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
    build.add_argument("--workers", "-w", type=int, default=1, help="parallel tasks (default 1)")
    build.add_argument("--executor", choices=["local", "ray"], default="local")
    build.add_argument("--address", help="Ray cluster address (with --executor ray; default: a private local Ray)")
    build.add_argument("--partitions", type=int, help="host partitions (default: ~33,000 captures each with the ai "
                       "list, from the input sizes; a task holds one partition; the table is the same whatever the "
                       "number)")
    build.add_argument("--work", help="work folder of the passes, kept until the table is written; a rerun of "
                       "the same command resumes from it (default: OUT.work; an fsspec URL on a cluster)")
    build.add_argument("--date", help="capture date of robots.txt files read from folders (ISO 8601, e.g. "
                       "2025-06-01T00:00:00Z); default none: any dated capture of the host wins over them")
    build.add_argument("--unreachable", choices=["disallow", "allow"], default="disallow",
                       help="a 5xx/429 capture without an earlier answer: disallow all (RFC 9309, default) or allow")
    build.add_argument("--unparsable", choices=["allow", "disallow"], default="allow",
                       help="a capture that is not text: allow all (RFC 9309, default) or disallow")
    build.add_argument("--format", default="auto", help="input format of the archives (default: from the names)")
    build.set_defaults(func=_cmd_build)
