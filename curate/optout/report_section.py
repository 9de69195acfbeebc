"""Text section of ``curate report`` for the ``optout`` and ``domain_cap`` steps: what they removed, per language.

Per language: documents removed by reason (``robots``, ``noai``, ``tdm_reservation``, ``over_cap``), their bytes
and words, and the registered domains most of them came from (the steps' ``removed_domain:`` counters).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from curate.optout.removal_stats import DOMAIN_PREFIX, WORDS

STEPS = ("optout", "domain_cap")
TOP_DOMAINS = 5


def _human(n: float) -> str:
    for unit in ("", "K", "M", "G", "T"):
        if abs(n) < 1000:
            return f"{n:.0f}{unit}" if unit == "" else f"{n:.1f}{unit}"
        n /= 1000
    return f"{n:.1f}P"


def optout_summary(stats: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{step: {lang: {documents, bytes, words, reasons, top_domains}}}`` for the opt-out steps of a run."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for step in stats.get("steps", []):
        if step["name"] not in STEPS:
            continue
        langs = out.setdefault(f"{step['index']}:{step['name']}", {})
        for lang, c in step["langs"].items():
            removed = sum(c["removed"].values())
            if not removed:
                continue
            extra = c.get("extra", {})
            domains = Counter({k[len(DOMAIN_PREFIX):]: v for k, v in extra.items() if k.startswith(DOMAIN_PREFIX)})
            langs[lang] = {"documents": removed, "in": c["in"], "bytes": sum(c["bytes_removed"].values()),
                           "words": extra.get(WORDS, 0), "reasons": dict(c["removed"]),
                           "domains": len(domains),
                           "top_domains": dict(sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DOMAINS])}
    return out


def format_optout(stats: Mapping[str, Any]) -> str:
    """A table per opt-out step; "" when the run has none."""
    blocks = []
    for step, langs in optout_summary(stats).items():
        lines = [f"opt-outs [{step}]: removed per language (documents, bytes, words; top domains)"]
        if not langs:
            lines.append("  (nothing removed)")
        for lang, e in sorted(langs.items(), key=lambda kv: (-kv[1]["documents"], kv[0])):
            pct = 100.0 * e["documents"] / e["in"] if e["in"] else 0.0
            reasons = ", ".join(f"{r} {n}" for r, n in sorted(e["reasons"].items(), key=lambda kv: -kv[1]))
            top = ", ".join(f"{d} {n}" for d, n in e["top_domains"].items())
            more = f" (+{e['domains'] - len(e['top_domains'])} more)" if e["domains"] > len(e["top_domains"]) else ""
            lines.append(f"  {lang:<10} {e['documents']:>8} docs ({pct:.1f}%) {_human(e['bytes']):>7}B "
                         f"{_human(e['words']):>7} words  {reasons}")
            if top:
                lines.append(f"  {'':<10} from {top}{more}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
