"""The decontamination section of ``curate report OUT``: per ``decontaminate`` step, documents found per set and
language, from the run's statistics (``contaminated:<set>`` counters; ``curate decont report`` lists the items)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "contaminated:"


def format_decontamination(stats: Mapping[str, Any]) -> str:
    """A short text block per ``decontaminate`` step, "" when the run has none."""
    blocks = []
    for step in stats.get("steps", []):
        if step.get("name") != "decontaminate":
            continue
        per_set: dict[str, dict[str, int]] = {}
        total_in = 0
        for lang, counts in step.get("langs", {}).items():
            total_in += counts.get("in", 0)
            for key, value in counts.get("extra", {}).items():
                if key.startswith(PREFIX):
                    per_set.setdefault(key[len(PREFIX):], {})[lang] = value
        head = f"decontaminate [{step['index']}]: {total_in} documents checked"
        if not per_set:
            blocks.append(head + ", none holds an evaluation text")
            continue
        lines = [head + "; documents holding evaluation text, per set and language:"]
        for name, langs in sorted(per_set.items()):
            ranked = sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))
            lines.append(f"  {name}: {sum(langs.values())}  " + ", ".join(f"{lang} {n}" for lang, n in ranked))
        lines.append("  (items found: curate decont report OUT)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
