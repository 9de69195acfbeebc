"""Exact budget thresholds over per-shard row caches, on any executor's ``map`` (passes 2 and 3).

Shared by the ``rehydrate`` block's budgets and by ``curate tokenize``'s mixture: given, per
language, the scale factor ``target / weighted size`` and the target, it finds the sampling
threshold whose extra copies land closest to the target (within one document; see
:mod:`curate.rehydrate.sampling`). ``caches`` are Parquet files with at least the columns ``lang``,
``weight``, ``units`` and ``hash`` (:data:`curate.rehydrate.measure.CACHE_SCHEMA`), one per shard;
only a histogram per shard and the rows of one histogram bin ever reach the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from curate.rehydrate.measure import boundary_shard, histogram_shard
from curate.rehydrate.sampling import KEY_BINS, NONE_SELECTED, Threshold, choose_threshold, crossing_bin

Map = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


def _merged_histograms(map_fn: Map, caches: list[str], factors: dict[str, float]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {
        lang: {"floor_units": 0, "floor_documents": 0, "zero_floor": 0, "units": {}, "documents": {},
               "zero_documents": {}} for lang in factors}
    for result in map_fn(histogram_shard, [(c, factors) for c in caches]):
        for lang, h in result.items():
            m = merged[lang]
            for key in ("floor_units", "floor_documents", "zero_floor"):
                m[key] += h[key]
            for key in ("units", "documents", "zero_documents"):
                for b, v in h[key].items():
                    m[key][b] = m[key].get(b, 0) + v
    return merged


def sample_budgets(map_fn: Map, caches: list[str], plans: dict[str, dict[str, Any]]) -> dict[str, Threshold]:
    """The threshold of every language of ``plans`` (each with ``factor`` and ``target``); each plan gets
    ``after`` (units after sampling), ``documents_after`` and ``documents_dropped`` filled in."""
    merged = _merged_histograms(map_fn, caches, {lang: p["factor"] for lang, p in plans.items()})
    boundary: dict[str, tuple[float, int]] = {}
    crossing: dict[str, tuple[int, int, float]] = {}
    for lang, plan in plans.items():
        m = merged[lang]
        need = plan["target"] - m["floor_units"]
        beta, before = crossing_bin(m["units"], need)
        crossing[lang] = (beta, before, need)
        if need > 0 and beta < KEY_BINS:
            boundary[lang] = (plan["factor"], beta)
    rows: dict[str, list[dict[str, np.ndarray]]] = {lang: [] for lang in boundary}
    if boundary:
        for result in map_fn(boundary_shard, [(c, boundary) for c in caches]):
            for lang, part in result.items():
                rows[lang].append(part)
    thresholds: dict[str, Threshold] = {}
    for lang, plan in plans.items():
        m = merged[lang]
        beta, before, need = crossing[lang]
        below = [b for b in m["units"] if b < beta]
        sel_units = before
        sel_docs = sum(m["documents"][b] for b in below)
        sel_zero = sum(m["zero_documents"].get(b, 0) for b in below)
        if lang in boundary:
            parts = rows[lang]
            cat = {k: np.concatenate([p[k] for p in parts]) for k in ("keys", "hashes", "units", "zero")}
            threshold, chosen = choose_threshold(beta, before, cat["keys"], cat["hashes"], cat["units"], need)
            sel_units += int(cat["units"][chosen].sum())
            sel_docs += int(chosen.sum())
            sel_zero += int(cat["zero"][chosen].sum())
        elif need > 0:  # every candidate is selected (and still short of the target)
            threshold = (KEY_BINS, float("-inf"), 0)
            sel_units = sum(m["units"].values())
            sel_docs = sum(m["documents"].values())
            sel_zero = sum(m["zero_documents"].values())
        else:
            threshold, sel_units, sel_docs, sel_zero = NONE_SELECTED, 0, 0, 0
        thresholds[lang] = threshold
        plan.update(after=m["floor_units"] + sel_units,
                    documents_after=m["floor_documents"] + sel_docs,
                    documents_dropped=m["zero_floor"] - sel_zero)
    return thresholds
