"""Repetition tables: MinHash cluster size -> how many copies of the kept document to emit.

A table is a sorted mapping whose keys are the cluster sizes where the repetition count *changes*,
the format of FineWeb2's published ``misc/rehydration/weights/up_to_{03..10}_reps.json`` (and of
its README's fixed table). Lookup rule, the one FineWeb2's ``Rehydrater`` example block applies:

    repetitions(size) = table[largest key <= size], or 1 when size is below the smallest key.

So ``{1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}`` gives size 4 -> 3, 5..99 -> 5, 100..999 -> 8 and
1000 and above -> 1; the last key covers every larger size (FineWeb2's tail bin).

FineWeb2 (huggingface/fineweb-2, Apache-2.0): README section "Deduplication" (fixed table) and
``misc/rehydration/README.md`` (per-language tables); paper: Penedo et al., "FineWeb2: One Pipeline
to Scale Them All", arXiv:2506.20920, rehydration section.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

RepetitionTable = dict[int, int]

#: The simple alternative from FineWeb2's README: no duplicates -> 1, N = 2, 3 -> N, 4 -> 3,
#: 5..99 -> 5, 100..999 -> 8, >= 1000 -> 1 (very large clusters are assumed to be low quality).
FINEWEB2_FIXED_TABLE: Mapping[int, int] = MappingProxyType({1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1})


def _as_int(value: object, what: str) -> int:
    # bool is an Integral too, and True as a cluster size or count is always a bug upstream
    if isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, str):  # JSON object keys
        try:
            return int(value)
        except ValueError:
            pass
    raise ValueError(f"{what} must be an integer, got {value!r}")


def normalize_table(table: Mapping[int, int] | Mapping[str, int]) -> RepetitionTable:
    """Validate a user (or JSON-loaded) table and return it with int keys in ascending order.

    Keys are cluster sizes >= 1 (strings such as JSON keys are accepted), values repetitions >= 1.
    """
    if not table:
        raise ValueError("a repetition table needs at least one entry")
    out: dict[int, int] = {}
    for key, value in table.items():
        size = _as_int(key, "cluster size")
        reps = _as_int(value, f"repetitions for cluster size {size}")
        if size < 1:
            raise ValueError(f"cluster sizes start at 1, got {size}")
        if reps < 1:
            raise ValueError(f"repetitions must be >= 1, got {reps} for cluster size {size}")
        if size in out:
            raise ValueError(f"cluster size {size} appears twice")
        out[size] = reps
    return dict(sorted(out.items()))


def _keys_values(table: Mapping[int, int] | Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    norm = normalize_table(table)
    return np.fromiter(norm.keys(), np.int64, len(norm)), np.fromiter(norm.values(), np.int64, len(norm))


def repetitions_for_sizes(
    table: Mapping[int, int] | Mapping[str, int], cluster_sizes: ArrayLike
) -> np.ndarray:
    """Vectorised lookup (largest key <= size; 1 below the smallest key) for an array of sizes."""
    keys, values = _keys_values(table)
    sizes = np.asarray(cluster_sizes)
    if sizes.size and sizes.min() < 1:
        raise ValueError(f"cluster sizes start at 1, got {sizes.min()}")
    idx = np.searchsorted(keys, sizes, side="right") - 1
    # index -1 means "below every key": FineWeb2's Rehydrater defaults those to one copy
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 1)


def lookup_repetitions(table: Mapping[int, int] | Mapping[str, int], cluster_size: int) -> int:
    """Repetitions for one cluster size: ``table[largest key <= cluster_size]`` (1 below all keys)."""
    return int(repetitions_for_sizes(table, np.asarray([cluster_size]))[0])


def compress_repetitions(sizes: ArrayLike, repetitions: ArrayLike) -> RepetitionTable:
    """Turn per-size repetitions into the change-point table (first size of each run of equal values).

    ``sizes`` must be ascending; sizes missing from it inherit the previous size's value on lookup,
    which is how FineWeb2's tables treat cluster sizes that never occurred.
    """
    s = np.asarray(sizes, dtype=np.int64)
    r = np.asarray(repetitions, dtype=np.int64)
    if s.shape != r.shape or s.ndim != 1:
        raise ValueError("sizes and repetitions must be 1-D arrays of the same length")
    if s.size == 0:
        return {1: 1}
    if np.any(np.diff(s) <= 0):
        raise ValueError("sizes must be strictly ascending")
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    return {int(s[i]): int(r[i]) for i in starts}


def expected_documents(
    table: Mapping[int, int] | Mapping[str, int], kept_by_size: Mapping[int, int]
) -> int:
    """Documents after rehydration: sum over sizes of kept documents x repetitions.

    With the per-language post-filtering counts this reproduces FineWeb2's
    ``weights/resulting_ds_sizes.json``; useful for token budgets before materialising anything.
    """
    if not kept_by_size:
        return 0
    sizes = np.fromiter((_as_int(k, "cluster size") for k in kept_by_size), np.int64, len(kept_by_size))
    counts = np.fromiter((_as_int(v, "document count") for v in kept_by_size.values()), np.int64,
                         len(kept_by_size))
    # Python ints: the product can exceed int64 only in theory, but the sum is cheap to do exactly
    return sum(int(c) * int(r) for c, r in zip(counts, repetitions_for_sizes(table, sizes), strict=True))


def load_weight_tables(path: str | PathLike[str]) -> dict[str, RepetitionTable]:
    """Read a FineWeb2 ``up_to_NN_reps.json`` file: language -> repetition table (int keys)."""
    with Path(path).open(encoding="utf-8") as fh:
        raw = json.load(fh)
    return {lang: normalize_table(table) for lang, table in raw.items()}
