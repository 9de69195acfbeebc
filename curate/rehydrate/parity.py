"""Check our weights against FineWeb2's published ones, and say why any table differs.

Inputs are FineWeb2's ``misc/rehydration`` files (huggingface/fineweb-2, Apache-2.0), as kept in the
project's shared data: ``distributions/{lang}.json`` and ``weights/up_to_{03..10}_reps.json``.
Used by ``tests/test_rehydrate_weights.py`` and ``benchmarks/rehydration_parity.py``.

A mismatching language is explained bin by bin:

* ``short series``: fewer bins than the smoothing window; we keep every bin unsmoothed (all are edge
  bins) where FineWeb2's ``np.convolve(mode="same")`` produced an artefact (see
  ``weights._fineweb2_short_series``; ``fineweb2_short_series=True`` replays it);
* ``.5 tie``: the 5-wide average is exactly k + 0.5 in exact arithmetic, so the rounded value is
  decided by the last bit of floating-point summation, which differs between numpy builds/CPUs;
* ``unexplained``: anything else (none at the time of writing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from curate.rehydrate.tables import RepetitionTable, load_weight_tables, repetitions_for_sizes
from curate.rehydrate.weights import (
    DEFAULT_WINDOW,
    distribution_bins,
    raw_repetitions,
    repetitions_from_distribution,
    smooth_edges_kept,
)

SHORT_SERIES = "short series"
HALF_TIE = ".5 tie"
UNEXPLAINED = "unexplained"
PUBLISHED_MAX_REPS = tuple(range(3, 11))


@dataclass(frozen=True)
class ParityRow:
    """Outcome for one maximum-repetition setting over all languages."""

    max_reps: int
    languages: int
    exact: int
    mismatches: dict[str, str] = field(default_factory=dict)  # language -> reason

    @property
    def by_reason(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for lang, reason in sorted(self.mismatches.items()):
            out.setdefault(reason, []).append(lang)
        return out


def load_published(
    rehydration_dir: str | PathLike[str], max_reps: Iterable[int] = PUBLISHED_MAX_REPS
) -> tuple[dict[str, dict[str, Any]], dict[int, dict[str, RepetitionTable]]]:
    """(language -> distribution, max_reps -> language -> published table) from a ``rehydration/`` dir."""
    root = Path(rehydration_dir)
    dists = {}
    for path in sorted((root / "distributions").glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            dists[path.stem] = json.load(fh)
    tables = {m: load_weight_tables(root / "weights" / f"up_to_{m:02d}_reps.json") for m in max_reps}
    return dists, tables


def mismatch_reason(
    dist: Mapping[str, Any],
    published: RepetitionTable,
    max_reps: int,
    *,
    window: int = DEFAULT_WINDOW,
    fineweb2_short_series: bool = False,
) -> str | None:
    """``None`` if our table equals ``published``, else the reason(s) for the differing bins."""
    ours = repetitions_from_distribution(
        dist, max_reps, window=window, fineweb2_short_series=fineweb2_short_series
    )
    if ours == published:
        return None
    sizes, _, _ = distribution_bins(dist)
    on_half = _on_half(_smoothed(dist, max_reps, window, fineweb2_short_series))
    differs = np.flatnonzero(repetitions_for_sizes(ours, sizes) != repetitions_for_sizes(published, sizes))
    if differs.size == 0:  # same values per bin, different keys: cannot happen with change points
        return UNEXPLAINED
    reasons = set()
    for i in differs.tolist():
        if sizes.size < window and not fineweb2_short_series:
            reasons.add(SHORT_SERIES)
        elif on_half[i]:
            reasons.add(HALF_TIE)
        else:
            reasons.add(UNEXPLAINED)
    return " + ".join(sorted(reasons))


def _smoothed(dist: Mapping[str, Any], max_reps: int, window: int, fineweb2_short_series: bool) -> np.ndarray:
    _, rates, _ = distribution_bins(dist)
    return smooth_edges_kept(
        raw_repetitions(rates, float(dist["global_removal_rate"]), max_reps),
        window, fineweb2_short_series=fineweb2_short_series,
    )


def _on_half(values: np.ndarray) -> np.ndarray:
    # within float noise of k + 0.5: rounding there is decided by the last bits of the summation
    return np.abs(values - np.floor(values) - 0.5) < 1e-9


def half_ties(
    dist: Mapping[str, Any],
    max_reps: int,
    *,
    window: int = DEFAULT_WINDOW,
    fineweb2_short_series: bool = False,
) -> int:
    """How many bins of this language have a smoothed value on an exact .5 (fragile rounding)."""
    return int(_on_half(_smoothed(dist, max_reps, window, fineweb2_short_series)).sum())


def parity(
    distributions: Mapping[str, Mapping[str, Any]],
    published: Mapping[str, RepetitionTable],
    max_reps: int,
    *,
    window: int = DEFAULT_WINDOW,
    fineweb2_short_series: bool = False,
) -> ParityRow:
    """Compare every language of ``published`` (one ``up_to_NN`` file) with our computation."""
    mismatches = {}
    for lang, table in published.items():
        reason = mismatch_reason(
            distributions[lang], table, max_reps, window=window, fineweb2_short_series=fineweb2_short_series
        )
        if reason is not None:
            mismatches[lang] = reason
    return ParityRow(max_reps, len(published), len(published) - len(mismatches), mismatches)


def counts_from_distribution(dist: Mapping[str, Any]) -> tuple[dict[int, int], dict[int, int]]:
    """Per-size (kept, removed) counts consistent with a FineWeb2 distribution file.

    Bins removed below 100 % give their total back as kept / (1 - rate). Bins removed entirely
    (and a fully removed tail) only say that they exist; the global rate gives their combined
    count, spread 1 each with the rest on the last of them. Where it lands changes no rate and not
    the tail threshold, so :func:`~curate.rehydrate.weights.removal_distribution` of the result
    gives the file back, which checks the counts path end to end.
    """
    sizes, rates, kept_counts = distribution_bins(dist)
    kept: dict[int, int] = {}
    removed: dict[int, int] = {}
    fully_removed: list[int] = []
    for size, rate, k in zip(sizes.tolist(), rates.tolist(), kept_counts.tolist(), strict=True):
        kept[size] = k
        if rate < 100:
            # exact rationals: the totals are integers that the float rate only approximates
            removed[size] = round(Fraction(k) / (1 - Fraction(rate) / 100)) - k
        else:
            fully_removed.append(size)
    known_total = sum(kept.values()) + sum(removed.values())
    r = Fraction(dist["global_removal_rate"]) / 100
    hidden = round((r * known_total - sum(removed.values())) / (1 - r)) if r < 1 else len(fully_removed)
    for size in fully_removed:
        removed[size] = 1
    if fully_removed:
        removed[fully_removed[-1]] += hidden - len(fully_removed)
    return kept, removed
