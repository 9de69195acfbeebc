"""``curate report OUT``: the per-language table a data team reads after a run."""

from __future__ import annotations

from typing import Any

SORT_KEYS = ("in", "kept", "removed", "errored", "bytes", "words", "lang", "kept_pct")


def _human(n: float) -> str:
    for unit in ("", "K", "M", "G", "T"):
        if abs(n) < 1000:
            return f"{n:.0f}{unit}" if unit == "" else f"{n:.1f}{unit}"
        n /= 1000
    return f"{n:.1f}P"


def report_rows(stats: dict[str, Any], langs: list[str] | None = None, sort: str = "in") -> list[dict[str, Any]]:
    rows = []
    for lang, e in stats["languages"].items():
        if langs and lang not in langs:
            continue
        rows.append({"lang": lang, **{k: e[k] for k in ("in", "kept", "removed", "errored", "bytes", "words")},
                     "kept_pct": 100.0 * e["kept"] / e["in"] if e["in"] else 0.0,
                     "top_reasons": ", ".join(f"{r} {n}" for r, n in list(e["removed_by"].items())[:3])})
    reverse = sort != "lang"
    return sorted(rows, key=lambda r: (r[sort], r["lang"]) if sort != "lang" else r["lang"], reverse=reverse)


def format_report(stats: dict[str, Any], langs: list[str] | None = None, sort: str = "in") -> str:
    read = stats["read"]
    lines = [
        f"pipeline {stats['pipeline']}  config {stats['config_hash']}  shards {len(stats['shards'])}",
        f"records read {read['records']}: emitted {read['emitted']}, skipped {sum(read['skipped'].values())}, "
        f"errored {sum(read['errored'].values())}",
    ]
    if read["skipped"]:
        lines.append("  skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(read["skipped"].items(),
                                                                           key=lambda kv: -kv[1])[:8]))
    if read["errored"]:
        lines.append("  errored: " + ", ".join(f"{k} {v}" for k, v in read["errored"].items()))
    header = f"{'lang':<10} {'in':>8} {'kept':>8} {'kept%':>6} {'removed':>8} {'errored':>7} {'bytes':>8} {'words':>8}  top removal reasons"
    lines += ["", header, "-" * len(header)]
    total = {"in": 0, "kept": 0, "removed": 0, "errored": 0, "bytes": 0, "words": 0}
    for r in report_rows(stats, langs, sort):
        for k in total:
            total[k] += r[k]
        lines.append(
            f"{r['lang']:<10} {r['in']:>8} {r['kept']:>8} {r['kept_pct']:>5.1f}% {r['removed']:>8} {r['errored']:>7} "
            f"{_human(r['bytes']):>8} {_human(r['words']):>8}  {r['top_reasons']}"
        )
    pct = 100.0 * total["kept"] / total["in"] if total["in"] else 0.0
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<10} {total['in']:>8} {total['kept']:>8} {pct:>5.1f}% {total['removed']:>8} {total['errored']:>7} "
        f"{_human(total['bytes']):>8} {_human(total['words']):>8}"
    )
    lines.append("")
    lines.append("per step (all languages): in -> out, removed, errored")
    for step in stats["steps"]:
        c = {"in": 0, "out": 0, "removed": 0, "errored": 0}
        for v in step["langs"].values():
            c["in"] += v["in"]
            c["out"] += v["out"]
            c["removed"] += sum(v["removed"].values())
            c["errored"] += sum(v["errored"].values())
        lines.append(f"  {step['index']:>2} {step['name']:<20} {c['in']:>8} -> {c['out']:>8}  removed {c['removed']:>7}"
                     f"  errored {c['errored']:>5}")
    return "\n".join(lines)
