"""Merge per-shard results into the run's statistics and write ``OUT/_stats``.

Markers hold each shard's counts, so a resumed run reports the whole run, not its last part.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pyarrow as pa

from curate.errors import CurateError
from curate.stats.run_record import SCHEMA_VERSION
from curate.stats.step_counts import merge_step_dicts
from curate.storage.atomic import write_text_atomic
from curate.storage.parquet_file import write_parquet_atomic


class AccountingError(CurateError, AssertionError):
    """A step's counts do not add up: documents in != out + removed + errored (a bug: report it)."""


def _merge_read(results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"records": 0, "emitted": 0, "skipped": Counter(), "errored": Counter(), "messages": [],
                           "counters": Counter()}
    for r in results:
        read = r["read"]
        out["records"] += read["records"]
        out["emitted"] += read["emitted"]
        out["skipped"].update(read["skipped"])
        out["errored"].update(read["errored"])
        out["counters"].update(read.get("counters", {}))  # reader notes (charset fallbacks, resyncs)
        out["messages"].extend(read["messages"][: max(0, 100 - len(out["messages"]))])
    out["skipped"] = dict(sorted(out["skipped"].items()))
    out["errored"] = dict(sorted(out["errored"].items()))
    out["counters"] = dict(sorted(out["counters"].items()))
    return out


def merge_cluster_sizes(results: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    merged: dict[str, dict[str, Counter[str]]] = {}
    for r in results:
        for lang, c in r.get("cluster_sizes", {}).items():
            entry = merged.setdefault(lang, {"kept": Counter(), "removed": Counter()})
            for what in ("kept", "removed"):
                entry[what].update(c.get(what, {}))
    return {lang: {what: dict(sorted(v.items(), key=lambda kv: int(kv[0]))) for what, v in c.items()}
            for lang, c in sorted(merged.items())}


def is_timing_key(key: str) -> bool:
    return key in ("seconds", "timing") or key.endswith("_seconds")


def split_timing(value: Any, path: str = "") -> tuple[Any, dict[str, Any]]:
    """``value`` without its wall-clock entries (keys ``seconds``, ``*_seconds`` and ``timing`` at any depth),
    and those entries by dotted path: ``stats.json`` must be the same bytes for the same input and
    config, so timings go to ``timing.json`` only."""
    if not isinstance(value, dict):
        return value, {}
    clean: dict[str, Any] = {}
    timing: dict[str, Any] = {}
    for key, item in value.items():
        where = f"{path}.{key}" if path else str(key)
        if is_timing_key(str(key)):
            timing[where] = item
            continue
        clean[key], inner = split_timing(item, where)
        timing.update(inner)
    return clean, timing


def merge_stage_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """What a global step may want to know of the stage before it."""
    return {"cluster_sizes": merge_cluster_sizes(results)}


def merge_run_stats(config: Any, digest: str, shards: list[Any], stages: list[Any], names: list[str],
                    stage_results: list[list[dict[str, Any]]], global_stats: dict[str, Any]) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    for stage, results in zip(stages, stage_results, strict=True):
        for index, _block in stage.blocks:
            merged: dict[str, Any] = {}
            for r in results:
                merged = merge_step_dicts(merged, r["steps"].get(str(index), {}))
            steps.append({"index": index, "name": names[index], "stage": stage.index, "langs": merged})
    output: dict[str, dict[str, int]] = {}
    for r in stage_results[-1]:
        for lang, s in r["output"].items():
            entry = output.setdefault(lang, {"documents": 0, "bytes": 0, "words": 0})
            for key, value in s.items():
                entry[key] = entry.get(key, 0) + value
    removed_rows: Counter[str] = Counter()
    for results in stage_results:
        for r in results:
            removed_rows.update(r["removed_rows"])
    stats: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "pipeline": config.name,
        "config_hash": digest,
        "shards": [{"id": s.name, "path": s.path} for s in shards],
        "read": _merge_read(stage_results[0]),
        "steps": steps,
        "output": {k: output[k] for k in sorted(output)},
        "removed_rows": dict(sorted(removed_rows.items())),
        "global": global_stats,
        "cluster_sizes": {f"stage{i}": merge_cluster_sizes(results) for i, results in enumerate(stage_results)
                          if any(r.get("cluster_sizes") for r in results)},
    }
    stats["languages"] = language_summary(stats)
    check_accounting(stats)
    return stats


def language_summary(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per language: documents in = kept + removed + errored, removals by ``step:reason``."""
    langs: dict[str, dict[str, Any]] = {}

    def entry(lang: str) -> dict[str, Any]:
        return langs.setdefault(lang, {"in": 0, "kept": 0, "removed": 0, "errored": 0, "bytes": 0, "words": 0,
                                       "removed_by": Counter(), "errored_by": Counter()})

    copies: Counter[str] = Counter()  # extra rows of row-expanding steps (rehydrate materialize)
    for step in stats["steps"]:
        for lang, c in step["langs"].items():
            e = entry(lang)
            copies[lang] += c.get("extra", {}).get("copies", 0)
            for reason, n in c["removed"].items():
                e["removed"] += n
                e["removed_by"][f"{step['name']}:{reason}"] += n
            for kind, n in c["errored"].items():
                e["errored"] += n
                e["errored_by"][f"{step['name']}:{kind}"] += n
    for lang, o in stats["output"].items():
        e = entry(lang)
        e["kept"] += o["documents"]
        e["bytes"] += o["bytes"]
        e["words"] += o["words"]
        if "tokens" in o:
            e["tokens"] = e.get("tokens", 0) + o["tokens"]
    for lang, e in langs.items():
        # "kept" counts output rows; materialised copies are rows but not input documents
        e["in"] = e["kept"] - copies[lang] + e["removed"] + e["errored"]
        if copies[lang]:
            e["copies"] = copies[lang]
        # most first, ties by name: the same order whatever order the shards' counts came in
        e["removed_by"] = dict(sorted(e["removed_by"].items(), key=lambda kv: (-kv[1], kv[0])))
        e["errored_by"] = dict(sorted(e["errored_by"].items(), key=lambda kv: (-kv[1], kv[0])))
    # steps before langid count everything under "und"; a language nothing ended in is no row
    return {k: langs[k] for k in sorted(langs) if langs[k]["in"]}


def check_accounting(stats: dict[str, Any]) -> None:
    for step in stats["steps"]:
        for lang, c in step["langs"].items():
            total = c["out"] + sum(c["removed"].values()) + sum(c["errored"].values())
            if c["in"] != total:
                raise AccountingError(f"step {step['name']} lang {lang}: in={c['in']} but out+removed+errored={total}")
    emitted = stats["read"]["emitted"]
    accounted = sum(e["in"] for e in stats["languages"].values())
    if emitted != accounted:
        raise AccountingError(f"reader emitted {emitted} documents but steps account for {accounted}")


def tidy_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per language x step x metric, for analysis with polars/duckdb."""
    rows: list[dict[str, Any]] = []
    for step in stats["steps"]:
        for lang, c in step["langs"].items():
            base = {"lang": lang, "step": f"{step['index']:02d}:{step['name']}"}
            rows.append({**base, "metric": "in", "value": c["in"]})
            rows.append({**base, "metric": "out", "value": c["out"]})
            for reason, n in c["removed"].items():
                rows.append({**base, "metric": f"removed:{reason}", "value": n})
            for kind, n in c["errored"].items():
                rows.append({**base, "metric": f"errored:{kind}", "value": n})
    for lang, o in stats["output"].items():
        for metric, value in o.items():
            rows.append({"lang": lang, "step": "output", "metric": metric, "value": value})
    return rows


def write_run_stats(out_dir: str, stats: dict[str, Any], timing: dict[str, Any]) -> None:
    for name, payload in (("stats.json", stats), ("timing.json", timing)):
        write_text_atomic(f"{out_dir.rstrip('/')}/_stats/{name}",
                          json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False))
    rows = tidy_rows(stats)
    table = pa.Table.from_pylist(rows, schema=pa.schema(
        [("lang", pa.string()), ("step", pa.string()), ("metric", pa.string()), ("value", pa.int64())]))
    write_parquet_atomic(table, f"{out_dir.rstrip('/')}/_stats/stats.parquet")
