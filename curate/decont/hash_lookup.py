"""Exact membership of uint64 hashes in a sorted array, with a bitmap filter in front.

Almost every n-gram of a document is absent from an index of evaluation sets, so the common case must be cheap.
In front of the sorted array sits a blocked bitmap (one 64-bit word per hash, addressed by the hash's top bits,
three bits set in it from three other 6-bit fields of the hash; 22 to 45 bits of bitmap per distinct hash): one
memory access answers "absent" for all but ~0.2% of absent hashes (Putze, Sanders & Singler, "Cache-, hash- and
space-efficient Bloom filters", WEA 2007). The few that get through are looked up with ``np.searchsorted``. The
bitmap only filters in front of that exact lookup: nothing is reported that the sorted array does not hold, and a
hash hit is still checked against the evaluation text (:mod:`curate.decont.matcher`).
"""

from __future__ import annotations

import numpy as np

BITS_PER_HASH = 32
MIN_WORDS_LOG2, MAX_WORDS_LOG2 = 10, 30
_SIX = np.uint64(63)
_SECOND, _THIRD = np.uint64(6), np.uint64(12)


def bitmap_words_log2(distinct: int) -> int:
    """log2 of the bitmap's number of 64-bit words for ``distinct`` hashes (the nearest power of two)."""
    want = max(1, distinct) * BITS_PER_HASH / 64
    return int(min(MAX_WORDS_LOG2, max(MIN_WORDS_LOG2, round(float(np.log2(want))))))


def _bits(hashes: np.ndarray) -> np.ndarray:
    one = np.uint64(1)
    return (one << (hashes & _SIX)) | (one << ((hashes >> _SECOND) & _SIX)) | (one << ((hashes >> _THIRD) & _SIX))


def build_bitmap(hashes: np.ndarray, words_log2: int, step: int = 1 << 22) -> np.ndarray:
    """The bitmap (uint64, 2**words_log2 words) of sorted ``hashes`` (in slices: little memory beside it)."""
    bitmap = np.zeros(1 << words_log2, dtype=np.uint64)
    for start in range(0, hashes.size, step):
        part = hashes[start:start + step]
        word = (part >> np.uint64(64 - words_log2)).astype(np.int64)  # sorted, since hashes are
        first = np.flatnonzero(np.concatenate([[True], word[1:] != word[:-1]]))
        bitmap[word[first]] |= np.bitwise_or.reduceat(_bits(part), first)  # a word cut by a slice: OR both halves
    return bitmap


class HashLookup:
    """Sorted ``hashes`` (duplicates allowed) and their bitmap; read-only, memory-mapped arrays are fine."""

    def __init__(self, hashes: np.ndarray, bitmap: np.ndarray) -> None:
        self.hashes = hashes
        self.bitmap = bitmap
        words_log2 = int(bitmap.size).bit_length() - 1
        if bitmap.size != 1 << words_log2:
            raise ValueError("the bitmap must have a power of two words")
        self._shift = np.uint64(64 - words_log2)

    @classmethod
    def build(cls, hashes: np.ndarray) -> HashLookup:
        distinct = int(np.count_nonzero(hashes[1:] != hashes[:-1])) + 1 if hashes.size else 0
        return cls(hashes, build_bitmap(hashes, bitmap_words_log2(distinct)))

    def find(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows of ``query`` found, first and one-past-last index of their equal hashes)."""
        empty = np.empty(0, dtype=np.int64)
        if not query.size or not self.hashes.size:
            return empty, empty, empty
        words = self.bitmap[(query >> self._shift).astype(np.intp)]
        want = _bits(query)
        rows = np.flatnonzero((words & want) == want)
        if not rows.size:
            return empty, empty, empty
        wanted = query[rows]
        lo = np.searchsorted(self.hashes, wanted, side="left")
        lo_ok = np.minimum(lo, self.hashes.size - 1)
        hit = self.hashes[lo_ok] == wanted
        rows, lo, wanted = rows[hit], lo[hit], wanted[hit]
        hi = np.searchsorted(self.hashes, wanted, side="right")  # only for hashes that are there
        return rows, lo, hi

    def contains(self, query: np.ndarray) -> np.ndarray:
        found = np.zeros(query.size, dtype=bool)
        found[self.find(query)[0]] = True
        return found
