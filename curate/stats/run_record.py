"""The run's statistics record (``OUT/_stats/stats.json``): its typed layout, its schema version, and the one
reader every consumer (``curate report``, the HTML report, resume) goes through.

``schema_version`` is written by :func:`curate.stats.run_stats.merge_run_stats`; a file without it was written
before the field existed and has the same layout (version 0). A newer version than this curate knows is
refused with a message rather than misread.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict, cast

import fsspec

from curate.errors import CurateError

SCHEMA_VERSION = 1


class ReadRecord(TypedDict):
    records: int
    emitted: int
    skipped: dict[str, int]
    errored: dict[str, int]
    messages: list[str]
    counters: dict[str, int]


class StepLangRecord(TypedDict, total=False):
    # documents in = out + removed + errored, per step and language (checked when the run ends)
    bytes_in: int
    bytes_out: int
    bytes_removed: int
    extra: dict[str, Any]
    errored: dict[str, int]
    removed: dict[str, int]
    out: int


class StepRecord(TypedDict):
    index: int
    name: str
    stage: int
    langs: dict[str, StepLangRecord]


class LanguageRecord(TypedDict, total=False):
    # in = kept - copies + removed + errored; removed_by / errored_by keyed ``step:reason``, most first
    kept: int
    removed: int
    errored: int
    bytes: int
    words: int
    tokens: int
    copies: int
    removed_by: dict[str, int]
    errored_by: dict[str, int]


class ShardRecord(TypedDict):
    id: str
    path: str


# the functional form: one key is "global", a Python keyword
RunStats = TypedDict("RunStats", {
    "schema_version": int,
    "pipeline": str,
    "config_hash": str,
    "shards": list[ShardRecord],
    "read": ReadRecord,
    "steps": list[StepRecord],
    "output": dict[str, dict[str, int]],  # per language: documents, bytes, words (+ tokens)
    "removed_rows": dict[str, int],
    "global": dict[str, Any],  # per global step "<index>:<name>": that step's own statistics
    "cluster_sizes": dict[str, dict[str, dict[str, dict[str, int]]]],  # stage -> lang -> kept/removed -> size -> n
    "languages": dict[str, LanguageRecord],
    "tokenize": dict[str, dict[str, Any]],  # per token destination: curate tokenize's counts per language
}, total=False)


class StatsSchemaError(CurateError):
    """stats.json of a schema this curate cannot read."""


def stats_path(out_dir: str) -> str:
    return f"{out_dir.rstrip('/')}/_stats/stats.json"


def parse_run_stats(text: str, where: str = "stats.json") -> RunStats:
    stats = json.loads(text)
    version = stats.get("schema_version", 0) if isinstance(stats, dict) else None
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise StatsSchemaError(f"{where}: statistics schema_version {version!r}, this curate reads up to "
                               f"{SCHEMA_VERSION}; upgrade curate (pip install -U curate-corpus) to read it")
    return cast(RunStats, stats)


def read_run_stats(out_dir: str) -> RunStats:
    """The statistics of the finished run in ``out_dir``; FileNotFoundError when there is none."""
    path = stats_path(out_dir)
    with fsspec.open(path, "r", encoding="utf-8") as handle:
        return parse_run_stats(handle.read(), path)


def global_steps(stats: RunStats, step: str) -> list[dict[str, Any]]:
    """The statistics of every global step named ``step`` (keys ``<index>:<name>``), in step order."""
    entries = stats.get("global", {})
    return [value for key, value in entries.items() if key.rpartition(":")[2] == step and isinstance(value, dict)]


def minhash_cluster_sizes(stats: RunStats) -> dict[str, dict[str, int]]:
    """Per language {cluster size: clusters} of the first MinHash step, {} without one."""
    for value in global_steps(stats, "minhash"):
        return {lang: {str(k): int(n) for k, n in sizes.items()} for lang, sizes in value.get("minhash", {}).items()}
    return {}


def minhash_largest_clusters(stats: RunStats) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The largest clusters the first MinHash step listed (``largest_clusters``: size, kept document's url, a
    few members' urls, with verification the members removed and the similarity spread) and its verification
    summary; empty without them."""
    for value in global_steps(stats, "minhash"):
        summary = value.get("minhash_summary", {})
        return list(summary.get("largest_clusters", [])), dict(summary.get("verify") or {})
    return [], {}


def rehydration_tables(stats: RunStats) -> dict[str, dict[str, float]]:
    """Per language {cluster size: repetitions} of the first rehydration step that has tables, {} without one."""
    for value in global_steps(stats, "rehydrate"):
        tables = {lang: entry["table"] for lang, entry in value.get("languages", {}).items()
                  if isinstance(entry, dict) and entry.get("table")}
        if tables:
            return tables
    return {}
