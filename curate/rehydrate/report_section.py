"""Text section of ``curate report`` for the ``rehydrate`` step: the table and budget per language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_TABLE_CHARS = 40


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}f}"
    n = int(value)
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**4)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}" if unit != "k" else f"{n / 1000:.0f}k"
    return str(n)


def _table(table: Mapping[str, int]) -> str:
    text = " ".join(f"{k}:{v}" for k, v in table.items())
    return text if len(text) <= MAX_TABLE_CHARS else text[: MAX_TABLE_CHARS - 1].rsplit(" ", 1)[0] + " …"


def _budget(plan: Mapping[str, Any] | None) -> str:
    if not plan:
        return ""
    factor = plan.get("factor")
    scale = f" (x{factor:.3g})" if factor is not None else " (not scalable)"
    return (f"{_num(plan.get('before'))} -> {_num(plan.get('after'))} of {_num(plan.get('target'))}{scale}; "
            f"docs {_num(plan.get('documents_before'))} -> {_num(plan.get('documents_after'))}")


def rehydration_steps(stats_global: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``(index:name, stats)`` entries of ``stats["global"]`` written by a ``rehydrate`` step."""
    return [(key, value) for key, value in stats_global.items()
            if isinstance(value, Mapping) and key.rsplit(":", 1)[-1] == "rehydrate" and "languages" in value]


def format_rehydration(stats_global: Mapping[str, Any]) -> str:
    """A short text table per rehydrate step: per language the repetition table (size:copies at the
    sizes where it changes), where it came from, R and r_min (% removed by the filters), the tail
    threshold, kept documents before / after weighting and the budget plan. "" if no such step."""
    blocks = []
    for key, step in rehydration_steps(stats_global):
        budget = step.get("budget") or {}
        head = f"rehydrate [{key}]: method {step.get('method')}, max_reps {step.get('max_reps')}"
        if step.get("materialize"):
            head += ", materialized"
        if budget:
            head += (f"; budget in {budget.get('unit')} (seed {budget.get('seed')}): "
                     f"{_num(budget.get('grand_total_before'))} -> {_num(budget.get('grand_total_after'))}")
        rows = [("lang", "source", "R%", "r_min%", "tail", "table (size:copies)", "docs", "weighted", "budget")]
        for lang, info in step["languages"].items():
            rows.append((
                lang, str(info.get("source", "")), _num(info.get("R")), _num(info.get("r_min")),
                _num(info.get("tail_threshold")), _table(info.get("table", {})), _num(info.get("documents")),
                _num(info.get("weighted_documents")), _budget(info.get("budget")),
            ))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [head] + ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                          for r in rows]
        if len(rows) == 1:
            lines.append("  (no documents)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
