"""``curate report OUT``: the per-language table a data team reads after a run."""

from __future__ import annotations

from typing import Any

from curate.decont.report_section import format_decontamination
from curate.optout.report_section import optout_summary
from curate.rehydrate.report_section import format_rehydration
from curate.stats.run_record import minhash_largest_clusters
from curate.stats.token_section import format_token_section

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
                     # sorted here: stats.json (sort_keys) holds them by name, not by count
                     "top_reasons": ", ".join(f"{r} {n}" for r, n in sorted(e["removed_by"].items(),
                                                                            key=lambda kv: (-kv[1], kv[0]))[:3])})
    reverse = sort != "lang"
    return sorted(rows, key=lambda r: (r[sort], r["lang"]) if sort != "lang" else r["lang"], reverse=reverse)


def format_optout(stats: dict[str, Any]) -> str:
    """Per opt-out step (``optout``, ``domain_cap``) and language: documents, bytes, words and (when the run
    counts tokens) tokens removed, by reason, and the top domains they came from; "" when the run has no such
    step."""
    blocks = []
    for step, langs in optout_summary(stats).items():
        tokens = any(e["tokens"] is not None for e in langs.values())
        lines = [f"opt-outs [{step}]: removed per language (documents, bytes, words{', tokens' if tokens else ''}; "
                 "top domains)"]
        if not langs:
            lines.append("  (nothing removed)")
        for lang, e in sorted(langs.items(), key=lambda kv: (-kv[1]["documents"], kv[0])):
            pct = 100.0 * e["documents"] / e["in"] if e["in"] else 0.0
            reasons = ", ".join(f"{r} {n}" for r, n in sorted(e["reasons"].items(), key=lambda kv: -kv[1]))
            more = e["domains"] - len(e["top_domains"])
            lines.append(f"  {lang:<10} {e['documents']:>8} docs ({pct:.1f}%) {_human(e['bytes']):>7}B "
                         f"{_human(e['words']):>7} words"
                         + (f" {_human(e['tokens'] or 0):>7} tokens" if tokens else "") + f"  {reasons}")
            if e["top_domains"]:
                lines.append(f"  {'':<10} from " + ", ".join(f"{d} {n}" for d, n in e["top_domains"].items())
                             + (f" (+{more} more)" if more > 0 else ""))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


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
    for reason, entry in stats.get("inputs_skipped", {}).items():  # what input folders held but curate does not read
        shown = ", ".join(entry["paths"][:3]) + (", ..." if entry["count"] > 3 else "")
        lines.append(f"  input not read ({reason}): {entry['count']}: {shown}")
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
    optout = format_optout(stats)
    if optout:
        lines += ["", optout]
    rehydration = format_rehydration(stats.get("global", {}))
    if rehydration:
        lines += ["", rehydration]
    tokens = format_token_section(stats)
    if tokens:  # after `curate tokenize`
        lines += ["", tokens]
    clusters = format_largest_clusters(stats)
    if clusters:
        lines += ["", clusters]
    decontamination = format_decontamination(stats)
    if decontamination:
        lines += ["", decontamination]
    return "\n".join(lines)


def format_largest_clusters(stats: dict[str, Any]) -> str:
    """The MinHash step's largest clusters per language, when it listed them (``largest_clusters``)."""
    largest, verify = minhash_largest_clusters(stats)
    if not largest:
        return ""
    lines = ["largest MinHash clusters (size, kept document, first members)"]
    if verify:
        lines[0] += (f"; verified at similarity >= {verify.get('threshold')}: {verify.get('removed', 0):,} of "
                     f"{verify.get('candidates', 0):,} members removed")
    for c in largest:
        sim = c.get("similarity") or {}
        verified = (f"  removed {c.get('removed', 0):,}, similarity {sim.get('min', '-')}/{sim.get('median', '-')}/"
                    f"{sim.get('max', '-')} (min/median/max)") if "removed" in c else ""
        lines.append(f"  {c['lang']:<10} {c['size']:>9,}  kept {c.get('kept_url') or c.get('kept_id')}{verified}")
        for member in c.get("members", []):
            lines.append(f"  {'':<10} {'':>9}    {member}")
    return "\n".join(lines)


def format_comparison(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str] = ("A", "B"),
                      langs: list[str] | None = None) -> str:
    """Two runs side by side, language by language (e.g. two configurations on the same input)."""
    la, lb = a["languages"], b["languages"]
    keys = sorted(set(la) | set(lb), key=lambda k: -max(la.get(k, {}).get("in", 0), lb.get(k, {}).get("in", 0)))
    if langs:
        keys = [k for k in keys if k in langs]
    na, nb = "A", "B"
    header = (f"{'lang':<10} {'in ' + na:>9} {'in ' + nb:>9} {'kept ' + na:>9} {'kept ' + nb:>9} {'Δkept':>7} "
              f"{'kept% ' + na:>8} {'kept% ' + nb:>8}  biggest change in removal reasons")
    lines = [f"A = {names[0]}: {a['pipeline']} ({a['config_hash']})",
             f"B = {names[1]}: {b['pipeline']} ({b['config_hash']})", "",
             header, "-" * len(header)]
    for lang in keys:
        ea = la.get(lang, {"in": 0, "kept": 0, "removed_by": {}})
        eb = lb.get(lang, {"in": 0, "kept": 0, "removed_by": {}})
        pa_ = 100.0 * ea["kept"] / ea["in"] if ea["in"] else 0.0
        pb_ = 100.0 * eb["kept"] / eb["in"] if eb["in"] else 0.0
        reasons = set(ea["removed_by"]) | set(eb["removed_by"])
        deltas = sorted(((eb["removed_by"].get(r, 0) - ea["removed_by"].get(r, 0), r) for r in reasons),
                        key=lambda dr: -abs(dr[0]))
        change = ", ".join(f"{r} {d:+d}" for d, r in deltas[:2] if d)
        lines.append(f"{lang:<10} {ea['in']:>9} {eb['in']:>9} {ea['kept']:>9} {eb['kept']:>9} "
                     f"{eb['kept'] - ea['kept']:>+7d} {pa_:>7.1f}% {pb_:>7.1f}%  {change}")
    return "\n".join(lines)
