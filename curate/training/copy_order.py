"""How many copies of each document go into the shards, and where each copy lands in the shuffled order.

Copies: a language with a target gets ``floor(weight * factor)`` copies per document plus one extra copy
for the documents the seeded sequential Poisson sampling picks (:func:`curate.rehydrate.sampling.budget_copies`,
the ``rehydrate`` budget's rule); a language without one keeps its ``weight``; a language left out gets 0.

Order: document ``d`` with ``c`` copies draws ``u`` in [0, 1) from a hash of its id and the seed (a
SplitMix64 finaliser over the sampling hash, so where a copy lands is independent of whether it was
picked), and its copy ``k`` gets the key ``(u + k) / c``: copies sit in different ``1/c``-wide strata of the
whole order, so the ``c`` copies of a document are spread evenly across the dataset (as epochs would be)
and, with every document's key uniform, the order is a uniform shuffle. Shard ``j`` of ``N`` takes the keys
in ``[j/N, (j+1)/N)``; ties are broken by (hash, file, row, copy), so the order depends on the documents
and the seed only, never on how they were grouped into tasks or how many workers ran them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.rehydrate.sampling import Threshold, budget_copies, uniforms

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class LanguagePlan:
    """``mode``: ``"budget"`` (``factor`` and ``threshold`` from the mixture), ``"weights"`` or ``"drop"``."""

    mode: str
    factor: float | None = None
    threshold: Threshold | None = None


def copies_per_document(langs: list[str], weights: np.ndarray, hashes: np.ndarray,
                        plans: dict[str, LanguagePlan]) -> np.ndarray:
    out = np.zeros(len(langs), dtype=np.int64)
    names = np.asarray(langs, dtype=object)
    for lang in sorted(set(langs)):
        idx = np.flatnonzero(names == lang)
        plan = plans.get(lang, LanguagePlan("drop"))
        if plan.mode == "weights":
            out[idx] = weights[idx]
        elif plan.mode == "budget":
            assert plan.factor is not None and plan.threshold is not None
            out[idx] = budget_copies(weights[idx], hashes[idx], plan.factor, plan.threshold)
    return out


def splitmix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea and Flood 2014) on uint64s: a fresh, well-mixed hash of each."""
    z = np.asarray(values, dtype=np.uint64) + _GOLDEN
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def copy_keys(hashes: np.ndarray, copies: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document index, copy index, key in [0, 1)) of every copy."""
    copies = np.asarray(copies, dtype=np.int64)
    doc = np.repeat(np.arange(copies.size, dtype=np.int64), copies)
    k = np.arange(doc.size, dtype=np.int64) - np.repeat(np.cumsum(copies) - copies, copies)
    u = uniforms(splitmix64(hashes))
    key = (u[doc] + k) / copies[doc]
    return doc, k, key


def shard_of(keys: np.ndarray, n_shards: int) -> np.ndarray:
    return np.minimum((np.asarray(keys) * n_shards).astype(np.int64), n_shards - 1)


def spread_adjacent(docs: np.ndarray) -> np.ndarray:
    """A permutation of positions so that no two neighbours are copies of one document, moving as little as
    possible: where a copy follows itself, the next different document is brought forward to sit between.
    Impossible only when one document is more than half of what is left; those stay as they are."""
    order = np.arange(docs.size, dtype=np.int64)
    current = np.asarray(docs).copy()
    i = 1
    while True:
        clash = np.flatnonzero(current[i:] == current[i - 1:-1]) if i < current.size else np.empty(0, np.int64)
        if clash.size == 0:
            return order
        i += int(clash[0])
        others = np.flatnonzero(current[i:] != current[i])
        if others.size == 0:
            return order
        j = i + int(others[0])
        # rotate position j to i: the documents in between move one place back, in order
        current[i:j + 1] = np.roll(current[i:j + 1], 1)
        order[i:j + 1] = np.roll(order[i:j + 1], 1)
        i += 1
