"""The decontamination section of ``curate report OUT`` and of ``report.html``: per ``decontaminate`` step,
documents found per set and language, from the run's statistics (``contaminated:<set>`` counters; ``curate decont
report`` lists the items)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

PREFIX = "contaminated:"


def decontamination_steps(stats: Mapping[str, Any]) -> list[tuple[int, int, dict[str, dict[str, int]]]]:
    """Per decontaminate step: (step index, documents checked, {set: {language: documents found}})."""
    out = []
    for step in stats.get("steps", []):
        if step.get("name") != "decontaminate":
            continue
        per_set: dict[str, dict[str, int]] = {}
        checked = 0
        for lang, counts in step.get("langs", {}).items():
            checked += counts.get("in", 0)
            for key, value in counts.get("extra", {}).items():
                if key.startswith(PREFIX):
                    per_set.setdefault(key[len(PREFIX):], {})[lang] = value
        out.append((int(step["index"]), checked, dict(sorted(per_set.items()))))
    return out


def _ranked(langs: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))


def format_decontamination(stats: Mapping[str, Any]) -> str:
    """A short text block per ``decontaminate`` step, "" when the run has none."""
    blocks = []
    for index, checked, per_set in decontamination_steps(stats):
        head = f"decontaminate [{index}]: {checked} documents checked"
        if not per_set:
            blocks.append(head + ", none holds an evaluation text")
            continue
        lines = [head + "; documents holding evaluation text, per set and language:"]
        for name, langs in per_set.items():
            lines.append(f"  {name}: {sum(langs.values())}  " + ", ".join(f"{lang} {n}" for lang, n in _ranked(langs)))
        lines.append("  (items found: curate decont report OUT)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def decontamination_html(stats: Mapping[str, Any]) -> str:
    """The same as an HTML table per step, "" when the run has none."""
    parts = []
    for index, checked, per_set in decontamination_steps(stats):
        rows = "".join(
            f"<tr><td>{escape(name)}</td><td>{sum(langs.values()):,}</td><td style='text-align:left'>"
            + ", ".join(f"{escape(lang)} {n:,}" for lang, n in _ranked(langs)) + "</td></tr>"
            for name, langs in per_set.items())
        parts.append(f"<p>Step {index}: {checked:,} documents checked; documents holding evaluation text "
                     "(items found: <code>curate decont report OUT</code>).</p>"
                     + (f"<table><tr><th>set</th><th>documents</th><th>per language</th></tr>{rows}</table>"
                        if rows else "<p class='empty'>none found</p>"))
    return "".join(parts)
