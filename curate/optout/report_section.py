"""What the ``optout`` and ``domain_cap`` steps removed, per language, for ``curate report`` and report.html.

Per language: documents removed by reason (``robots``, ``noai``, ``tdm_reservation``, ``over_cap``), their bytes
and words, their tokens when the run counts tokens (``writer: {tokenizer: ...}``; else ``tokens`` is None), and
the registered domains most of them came from (the steps' ``removed_domain:`` counters).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from curate.optout.removal_stats import DOMAIN_PREFIX, TOKENS, WORDS

STEPS = ("optout", "domain_cap")
TOP_DOMAINS = 5


def optout_summary(stats: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{step: {lang: {documents, bytes, words, tokens, reasons, top_domains}}}`` for the opt-out steps of a run."""
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
                           "words": extra.get(WORDS, 0), "tokens": extra.get(TOKENS), "reasons": dict(c["removed"]),
                           "domains": len(domains),
                           "top_domains": dict(sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DOMAINS])}
    return out
