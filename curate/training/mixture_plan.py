"""Pass 2 of ``curate tokenize``: from every group's per-language token counts to each language's plan.

A language the mixture gives a target (``targets``, ``share`` or ``"*"``) is scaled by ``target / weighted
tokens`` and its rounding threshold found by :func:`curate.rehydrate.budget_plan.sample_budgets` over the
groups' document tables, so it lands within one document of its target. Other languages keep their
rehydration weights (``others: keep``, or no targets at all) or are left out (``others: drop``).
"""

from __future__ import annotations

from typing import Any

from curate.config.mixture_config import Mixture
from curate.rehydrate.budget_plan import Map, sample_budgets
from curate.training.copy_order import LanguagePlan


def plan_languages(totals: dict[str, dict[str, Any]], mixture: Mixture, seed: int, map_fn: Map,
                   docs_paths: list[str]) -> tuple[dict[str, LanguagePlan], dict[str, dict[str, Any]]]:
    """(plan per language, summary per language: target, before and after in tokens and documents)."""
    budget = mixture.budget(seed)
    grand = sum(t["weighted_tokens"] for t in totals.values())
    plans: dict[str, LanguagePlan] = {}
    summary: dict[str, dict[str, Any]] = {}
    budgeted: dict[str, dict[str, Any]] = {}
    for lang in sorted(totals):
        t = totals[lang]
        entry: dict[str, Any] = {"documents_in": t["documents"], "tokens_in": t["tokens"],
                                 "weighted_documents": t["weighted_documents"], "weighted_tokens": t["weighted_tokens"]}
        target = budget.target_for(lang, grand) if budget is not None else None
        if target is not None and t["weighted_tokens"] > 0:
            budgeted[lang] = {"target": target, "factor": target / t["weighted_tokens"]}
            entry.update(mode="target", target=target, factor=budgeted[lang]["factor"])
        elif mixture.includes(lang):
            plans[lang] = LanguagePlan("weights")
            entry.update(mode="weights", tokens_out=t["weighted_tokens"], documents_out=t["weighted_documents"])
        else:
            plans[lang] = LanguagePlan("drop")
            entry.update(mode="dropped", tokens_out=0, documents_out=0)
        summary[lang] = entry
    if budgeted:
        thresholds = sample_budgets(map_fn, docs_paths, budgeted)
        for lang, plan in budgeted.items():
            plans[lang] = LanguagePlan("budget", plan["factor"], thresholds[lang])
            summary[lang].update(tokens_out=plan["after"], documents_out=plan["documents_after"],
                                 documents_dropped=plan["documents_dropped"])
    return plans, summary
