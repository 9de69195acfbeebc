"""Duplication-aware upsampling ("rehydration") weights, FineWeb2's per-language scheme.

Global MinHash deduplication keeps one document per cluster and records the cluster size. FineWeb2
observed that documents with very few or very many duplicates are removed by the quality filters
more often than those "in the middle", and upsamples by cluster size accordingly. Per language:

* ``r(s)``: share (in percent) of the kept cluster representatives of size ``s`` that the filters
  removed; sizes from the tail threshold up share one bin, keyed by the threshold;
* ``R``: overall removal rate, weighted by counts (all removed / all representatives, tail included);
* ``r_min``: lowest ``r(s)`` over all bins, tail included; ``M``: maximum repetitions (default 10);
* ``reps(s) = 1`` if ``r(s) >= R``, else ``1 + (M - 1) * (r(s) - R) / (r_min - R)``;
* a 5-wide moving average over the bins *in ascending size order* (the bin index, not the integer
  size: a gap in observed sizes is not a gap for the window), the first and last 2 bins unsmoothed
  (so a language with fewer than 5 bins is not smoothed at all; FineWeb2's code shifted values there,
  ``fineweb2_short_series=True`` replays that to reproduce their tables);
* round half to even (``np.rint``, as ``np.round``), then keep only the sizes where the value
  changes (see :mod:`curate.rehydrate.tables` for the lookup rule).

The tail threshold is not chosen in FineWeb2's published snippet; their distribution files are
consistent, for all 1,856 languages, with the 99.9th percentile of cluster sizes over the
representatives before filtering: the smallest observed size ``t`` with at most 0.1% of clusters
strictly larger (:func:`choose_tail_threshold`).

Source: FineWeb2 (huggingface/fineweb-2, Apache-2.0) ``misc/rehydration/README.md``, "Computing
your own weights", and the paper, Penedo et al., "FineWeb2: One Pipeline to Scale Them All",
arXiv:2506.20920, rehydration section. This is an independent implementation; from FineWeb2's
published distributions it reproduces their published ``up_to_{03..10}_reps.json`` tables (see
``benchmarks/rehydration_parity.py`` for the counts and the reasons for the few differences).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from curate.rehydrate.tables import (
    FINEWEB2_FIXED_TABLE,
    RepetitionTable,
    compress_repetitions,
    normalize_table,
)

DEFAULT_MAX_REPS = 10
DEFAULT_WINDOW = 5
DEFAULT_TAIL_FRACTION = 0.001

#: Keys of a FineWeb2 ``misc/rehydration/distributions/{lang}.json`` file (rates in percent).
DISTRIBUTION_KEYS = (
    "cluster_sizes",
    "cluster_removal_rates",
    "cluster_post_filtering_doc_counts",
    "tail_threshold",
    "tail_removal_rate",
    "tail_post_filtering_doc_counts",
    "global_removal_rate",
)


def _check_int(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_window(window: int) -> int:
    window = _check_int(window, "window", 1)
    if window % 2 == 0:
        raise ValueError(f"window must be odd so that it is centred, got {window}")
    return window


# ----------------------------------------------------------------------------------------------
# Counts -> distribution (the published per-language format)
# ----------------------------------------------------------------------------------------------

def choose_tail_threshold(
    sizes: ArrayLike, clusters: ArrayLike, tail_fraction: float = DEFAULT_TAIL_FRACTION
) -> int:
    """Smallest observed size ``t`` such that at most ``tail_fraction`` of clusters are larger than ``t``.

    That is the ``1 - tail_fraction`` quantile of the cluster-size distribution (inverted-CDF
    definition); with the default it is the 99.9th percentile, so the tail bin (sizes >= t) holds at
    least 0.1% of the clusters. ``sizes`` must be ascending, ``clusters`` the number of cluster
    representatives (kept + removed) per size. ``tail_fraction=0`` makes the tail just the largest size.
    """
    s = np.asarray(sizes, dtype=np.int64)
    c = np.asarray(clusters, dtype=np.int64)
    if s.ndim != 1 or s.shape != c.shape or s.size == 0:
        raise ValueError("sizes and clusters must be non-empty 1-D arrays of the same length")
    if not 0.0 <= tail_fraction < 1.0:
        raise ValueError(f"tail_fraction must be in [0, 1), got {tail_fraction}")
    total = int(c.sum())
    # integer "clusters strictly larger than s" avoids float error in the cumulative share
    larger = total - np.cumsum(c)
    return int(s[np.flatnonzero(larger <= tail_fraction * total)[0]])


def _counts_arrays(
    kept_by_size: Mapping[int, int], removed_by_size: Mapping[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys: set[int] = set()
    for name, mapping in (("kept_by_size", kept_by_size), ("removed_by_size", removed_by_size)):
        for size, count in mapping.items():
            _check_int(size, f"{name}: cluster size", 1)
            _check_int(count, f"{name}[{size}]", 0)
            keys.add(int(size))
    sizes = np.array(sorted(keys), dtype=np.int64)
    kept = np.array([int(kept_by_size.get(s, 0)) for s in sizes.tolist()], dtype=np.int64)
    removed = np.array([int(removed_by_size.get(s, 0)) for s in sizes.tolist()], dtype=np.int64)
    seen = (kept + removed) > 0  # a size with no documents has no removal rate: leave it out
    return sizes[seen], kept[seen], removed[seen]


def removal_distribution(
    kept_by_size: Mapping[int, int],
    removed_by_size: Mapping[int, int],
    *,
    tail_fraction: float = DEFAULT_TAIL_FRACTION,
    tail_threshold: int | None = None,
) -> dict[str, Any]:
    """Per-size removal rates in FineWeb2's ``distributions/{lang}.json`` format, from counts.

    ``kept_by_size[s]`` / ``removed_by_size[s]``: cluster representatives (the one document kept
    per MinHash cluster) of cluster size ``s`` that passed / failed the quality filters. Rates are
    in percent, computed as ``removed / total * 100`` like FineWeb2's files (bit for bit). Sizes
    ``>= tail_threshold`` (default: :func:`choose_tail_threshold`) are merged into the tail bin; with
    an explicit threshold above every observed size there is no tail and its fields are ``None``.
    """
    sizes, kept, removed = _counts_arrays(kept_by_size, removed_by_size)
    if sizes.size == 0:
        raise ValueError("no documents: cannot compute removal rates")
    total = kept + removed
    if tail_threshold is None:
        tail_threshold = choose_tail_threshold(sizes, total, tail_fraction)
    tail_threshold = _check_int(tail_threshold, "tail_threshold", 1)
    head = sizes < tail_threshold
    tail = ~head
    tail_kept, tail_removed = int(kept[tail].sum()), int(removed[tail].sum())
    has_tail = bool(tail.any())
    return {
        "cluster_sizes": sizes[head].tolist(),
        "cluster_removal_rates": (removed[head] / total[head] * 100).tolist(),
        "cluster_post_filtering_doc_counts": kept[head].tolist(),
        "tail_threshold": tail_threshold if has_tail else None,
        "tail_removal_rate": tail_removed / (tail_kept + tail_removed) * 100 if has_tail else None,
        "tail_post_filtering_doc_counts": tail_kept if has_tail else None,
        "global_removal_rate": int(removed.sum()) / int(total.sum()) * 100,
    }


def load_distribution(path: str | PathLike[str]) -> dict[str, Any]:
    """Read one FineWeb2 ``distributions/{lang}.json`` file (or one written from ours)."""
    with Path(path).open(encoding="utf-8") as fh:
        dist = json.load(fh)
    missing = [k for k in DISTRIBUTION_KEYS if k not in dist]
    if missing:
        raise ValueError(f"{path}: not a rehydration distribution, missing {missing}")
    return dist


def distribution_bins(dist: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sizes, removal rates in percent, post-filtering counts) per bin, the tail bin last."""
    sizes = list(dist["cluster_sizes"])
    rates = list(dist["cluster_removal_rates"])
    kept = list(dist["cluster_post_filtering_doc_counts"])
    if not len(sizes) == len(rates) == len(kept):
        raise ValueError("cluster_sizes, cluster_removal_rates and post-filtering counts differ in length")
    if dist.get("tail_threshold") is not None:
        if sizes and dist["tail_threshold"] <= sizes[-1]:
            raise ValueError("tail_threshold must be above every listed cluster size")
        sizes.append(dist["tail_threshold"])
        rates.append(dist["tail_removal_rate"])
        kept.append(dist["tail_post_filtering_doc_counts"])
    return np.asarray(sizes, dtype=np.int64), np.asarray(rates, dtype=np.float64), np.asarray(kept, np.int64)


# ----------------------------------------------------------------------------------------------
# Rates -> repetitions
# ----------------------------------------------------------------------------------------------

def _fineweb2_short_series(values: np.ndarray, window: int) -> np.ndarray:
    # FineWeb2 smoothed with np.convolve(mode="same"), whose output has max(n, window) cells, then
    # restored the first and last window//2 cells and read the first n. For n < window the restored
    # "last" cells fall beyond n: a middle cell keeps a zero-padded average and a later cell gets an
    # earlier bin's value. Replayed here only so that their published tables can be reproduced.
    n, half = values.size, window // 2
    buf = np.convolve(values, np.full(window, 1.0 / window), mode="same")
    k = min(half, n)
    buf[:k] = values[:k]
    buf[buf.size - k:] = values[n - k:]
    return buf[:n]


def smooth_edges_kept(
    values: ArrayLike, window: int = DEFAULT_WINDOW, *, fineweb2_short_series: bool = False
) -> np.ndarray:
    """Centred moving average of width ``window``; the ``window // 2`` cells at each end keep their value.

    A series shorter than the window is returned unchanged (every cell is an edge cell), unless
    ``fineweb2_short_series`` asks for FineWeb2's artefact on such series (see
    ``_fineweb2_short_series``); that flag changes nothing for series of ``window`` cells or more.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError("values must be 1-D")
    window = _check_window(window)
    if fineweb2_short_series and 0 < v.size < window:
        return _fineweb2_short_series(v, window)
    out = v.copy()
    if v.size >= window:
        half = window // 2
        # convolve with a 1/window kernel (not sum / window): the same float arithmetic as FineWeb2,
        # which decides the few averages that land exactly on .5 before rounding
        out[half:v.size - half] = np.convolve(v, np.full(window, 1.0 / window), mode="valid")
    return out


def raw_repetitions(rates: ArrayLike, global_rate: float, max_reps: int = DEFAULT_MAX_REPS) -> np.ndarray:
    """Unsmoothed, unrounded repetitions per bin: 1 at or above ``global_rate``, else linear up to ``max_reps``.

    ``1 + (max_reps - 1) * (r - R) / (r_min - R)``: 1 at ``R``, ``max_reps`` at the lowest rate.
    """
    r = np.asarray(rates, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError("rates must be 1-D")
    if not (np.all(np.isfinite(r)) and np.isfinite(global_rate)):
        raise ValueError("removal rates must be finite")
    max_reps = _check_int(max_reps, "max_reps", 1)
    raw = np.ones(r.size)
    below = r < global_rate
    if below.any():  # then r_min < global_rate, so the denominator is non-zero
        r_min = r.min()
        # fraction of the way from R down to r_min, computed first: FineWeb2's operation order,
        # which matters for the averages that end up exactly on .5
        frac = (r[below] - global_rate) / (r_min - global_rate)
        raw[below] = 1 + (max_reps - 1) * frac
    return raw


def repetitions_from_rates(
    rates: ArrayLike,
    global_rate: float,
    max_reps: int = DEFAULT_MAX_REPS,
    *,
    window: int = DEFAULT_WINDOW,
    fineweb2_short_series: bool = False,
) -> np.ndarray:
    """Integer repetitions per bin from removal rates given in ascending cluster-size order.

    ``rates`` and ``global_rate`` share one unit (FineWeb2 uses percent). Bins at or above the global
    rate get 1; below it, linear from 1 (at ``global_rate``) to ``max_reps`` (at the lowest rate);
    then :func:`smooth_edges_kept` and round half to even.
    """
    raw = raw_repetitions(rates, global_rate, max_reps)
    smoothed = smooth_edges_kept(raw, window, fineweb2_short_series=fineweb2_short_series)
    return np.rint(smoothed).astype(np.int64)


def repetitions_from_distribution(
    dist: Mapping[str, Any],
    max_reps: int = DEFAULT_MAX_REPS,
    *,
    window: int = DEFAULT_WINDOW,
    fineweb2_short_series: bool = False,
) -> RepetitionTable:
    """Repetition table from a FineWeb2-format distribution (a published ``{lang}.json`` or ours).

    ``fineweb2_short_series=True`` replays FineWeb2's smoothing artefact for languages with fewer
    bins than the window (3 or 4 bins: 9 of their 1,856 languages), matching their published tables there too.
    """
    sizes, rates, _ = distribution_bins(dist)
    if sizes.size == 0:
        return {1: 1}
    reps = repetitions_from_rates(
        rates, float(dist["global_removal_rate"]), max_reps,
        window=window, fineweb2_short_series=fineweb2_short_series,
    )
    return compress_repetitions(sizes, reps)


def compute_repetitions(
    kept_by_size: Mapping[int, int],
    removed_by_size: Mapping[int, int],
    max_reps: int = DEFAULT_MAX_REPS,
    *,
    window: int = DEFAULT_WINDOW,
    tail_fraction: float = DEFAULT_TAIL_FRACTION,
    tail_threshold: int | None = None,
    fineweb2_short_series: bool = False,
) -> RepetitionTable:
    """Per-language repetition table (cluster size -> copies) from the counts the pipeline records.

    ``kept_by_size[s]`` / ``removed_by_size[s]``: MinHash cluster representatives of size ``s`` that
    passed / failed the quality filters. Returns the change-point table (lookup: largest key <= size,
    see :func:`curate.rehydrate.tables.lookup_repetitions`); ``{1: 1}`` when there are no documents.
    """
    if not any(kept_by_size.values()) and not any(removed_by_size.values()):
        return {1: 1}
    dist = removal_distribution(
        kept_by_size, removed_by_size, tail_fraction=tail_fraction, tail_threshold=tail_threshold
    )
    return repetitions_from_distribution(
        dist, max_reps, window=window, fineweb2_short_series=fineweb2_short_series
    )


def repetition_table(
    method: str | Mapping[int, int] | Mapping[str, int] = "rates",
    kept_by_size: Mapping[int, int] | None = None,
    removed_by_size: Mapping[int, int] | None = None,
    max_reps: int = DEFAULT_MAX_REPS,
    **options: Any,
) -> RepetitionTable:
    """One entry point for the rehydration block: which table to apply.

    * ``"rates"``: FineWeb2's duplication-aware scheme, :func:`compute_repetitions` on the counts
      (``options`` go to it: ``window``, ``tail_fraction``, ``tail_threshold``, ...);
    * ``"fixed"``: FineWeb2's README table ``{1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}``;
    * a mapping: the user's own table, validated (keys are cluster sizes where the count changes).
    """
    if isinstance(method, Mapping):
        return normalize_table(method)
    if method == "fixed":
        return dict(FINEWEB2_FIXED_TABLE)
    if method == "rates":
        if kept_by_size is None or removed_by_size is None:
            raise ValueError('method "rates" needs kept_by_size and removed_by_size')
        return compute_repetitions(kept_by_size, removed_by_size, max_reps, **options)
    raise ValueError(f'unknown rehydration method {method!r}: use "rates", "fixed" or a table')
