"""Exact, reproducible budget sampling over weighted documents (the ``budget:`` of ``rehydrate``).

For one language with rehydration weights ``w_i`` (integer copies), sizes ``u_i`` (integer units)
and a target ``B``, the scale factor is ``f = B / sum(w_i * u_i)`` and each document is expected
``e_i = w_i * f`` times. Every document gets ``floor(e_i)`` copies; the fractional parts are rounded
by *sequential Poisson sampling* (Ohlsson 1998): document ``i`` draws ``U_i`` in [0, 1) from a hash
of (seed, id), its key is ``U_i / frac(e_i)``, and the documents with the smallest keys get one
extra copy, as many as it takes to land closest to ``B``. So:

* each extra copy goes to document ``i`` with probability ~ ``frac(e_i)`` (the weights are respected,
  down- and up-sampling alike);
* the total is the target to within one document (exactly, for unit ``documents``);
* the result depends only on the documents, their weights and the seed: not on shard count, shard
  order or batch boundaries (all sums are integers, the key of a document is its own).

The threshold key is found without gathering every key: a histogram of the keys per shard
(:func:`key_bins`, merged on the driver) picks the bin where the target is crossed, and only that
bin's documents are collected and sorted (:func:`choose_threshold`). Rows are then selected by
``(bin, key, hash) <= threshold`` (:func:`extra_copies`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

KEY_BINS = 1 << 16
#: (bin, key, hash): rows with a smaller (bin, key, hash) get their extra copy.
Threshold = tuple[int, float, int]
NONE_SELECTED: Threshold = (0, -math.inf, 0)
ALL_SELECTED: Threshold = (KEY_BINS, -math.inf, 0)


def scale(weights: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """(floor, fractional part) of ``weights * factor`` per row."""
    expected = np.asarray(weights, dtype=np.float64) * float(factor)
    floor = np.floor(expected)
    return floor.astype(np.int64), expected - floor


def uniforms(hashes: np.ndarray) -> np.ndarray:
    """The top 53 bits of each hash as a float in [0, 1)."""
    return (np.asarray(hashes, dtype=np.uint64) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def sampling_keys(hashes: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """``U / frac`` per row; ``inf`` where ``frac == 0`` (such a row never gets an extra copy)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(frac > 0, uniforms(hashes) / frac, np.inf)


def key_bins(keys: np.ndarray) -> np.ndarray:
    """Histogram bin of each key (monotone in the key); ``KEY_BINS`` for ``inf`` keys."""
    k = np.asarray(keys, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        t = np.where(np.isfinite(k), k / (1.0 + k), 1.0)
    return np.minimum((t * KEY_BINS).astype(np.int64), KEY_BINS - 1) + (~np.isfinite(k))


def extra_copies(keys: np.ndarray, hashes: np.ndarray, threshold: Threshold) -> np.ndarray:
    """Bool per row: does the row get its extra copy under ``threshold``."""
    beta, theta_k, theta_h = threshold
    bins = key_bins(keys)
    at = (bins == beta) & ((keys < theta_k) | ((keys == theta_k) & (hashes <= np.uint64(theta_h))))
    return (bins < beta) | at


def budget_copies(weights: np.ndarray, hashes: np.ndarray, factor: float, threshold: Threshold) -> np.ndarray:
    """Final copies per row (int64, 0 = dropped) of one language under its plan."""
    floor, frac = scale(weights, factor)
    keys = sampling_keys(hashes, frac)
    return floor + extra_copies(keys, hashes, threshold).astype(np.int64)


def sparse_histogram(bins: np.ndarray, values: np.ndarray) -> dict[int, int]:
    """``{bin: sum of values}`` over the finite-key bins present (integer sums)."""
    finite = bins < KEY_BINS
    if not finite.any():
        return {}
    uniq, inverse = np.unique(bins[finite], return_inverse=True)
    sums = np.zeros(uniq.size, dtype=np.int64)
    np.add.at(sums, inverse, np.asarray(values, dtype=np.int64)[finite])
    return {int(k): int(v) for k, v in zip(uniq.tolist(), sums.tolist(), strict=True)}


def crossing_bin(units_by_bin: Mapping[int, int], need: float) -> tuple[int, int]:
    """(first bin whose cumulative units reach ``need``, units of all bins before it).

    ``(0, 0)`` when nothing is needed; ``(KEY_BINS, total)`` when even every candidate falls short.
    """
    if need <= 0:
        return 0, 0
    cum = 0
    for b in sorted(units_by_bin):
        if cum + units_by_bin[b] >= need:
            return b, cum
        cum += units_by_bin[b]
    return KEY_BINS, cum


def choose_threshold(
    beta: int, before: int, keys: np.ndarray, hashes: np.ndarray, units: np.ndarray, need: float
) -> tuple[Threshold, np.ndarray]:
    """Threshold inside bin ``beta`` whose selected units land closest to ``need`` (ties: fewer).

    ``keys``/``hashes``/``units``: every candidate of bin ``beta`` (any order), ``before``: units of
    the bins below it. Returns the threshold and which of the given rows it selects.
    """
    if beta >= KEY_BINS:
        return ALL_SELECTED, np.ones(len(keys), dtype=bool)
    if need <= 0:
        return NONE_SELECTED, np.zeros(len(keys), dtype=bool)
    order = np.lexsort((hashes, keys))  # by key, then hash
    k, h, u = keys[order], hashes[order], np.asarray(units, dtype=np.int64)[order]
    # prefix n (first n rows) is a valid cut only where (key, hash) changes: equal ids go together
    totals = before + np.concatenate(([0], np.cumsum(u)))
    valid = np.ones(k.size + 1, dtype=bool)
    if k.size > 1:
        valid[1:-1] = (k[1:] != k[:-1]) | (h[1:] != h[:-1])
    cuts = np.flatnonzero(valid)
    n = int(cuts[np.argmin(np.abs(totals[cuts] - need))])  # argmin: first = fewest rows on a tie
    selected = np.zeros(k.size, dtype=bool)
    selected[order[:n]] = True
    if n == 0:
        return (beta, -math.inf, 0), selected
    return (beta, float(k[n - 1]), int(h[n - 1])), selected
