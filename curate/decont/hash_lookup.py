"""Exact membership of uint64 hashes in a sorted array, with a bitmap in front.

Almost every n-gram of a document is absent from an index of evaluation sets, so the common case must be cheap:
one bit of a bitmap addressed by the hash's top bits (16 bits of bitmap per distinct hash, so about 6% of absent
hashes get through) answers most queries with one memory access; the rest are looked up in the sorted array with
``np.searchsorted``, which gives the exact range of equal hashes. The bitmap is a filter in front of an exact
lookup, not a Bloom filter deciding on its own: nothing is reported that the sorted array does not hold, and a
hash hit is still checked against the evaluation text (:mod:`curate.decont.matcher`).
"""

from __future__ import annotations

import numpy as np

BITS_PER_HASH = 16
MIN_BITS, MAX_BITS = 16, 32


def bitmap_bits(distinct: int) -> int:
    """log2 of the bitmap's size in bits for ``distinct`` hashes."""
    want = max(1, distinct) * BITS_PER_HASH
    return int(min(MAX_BITS, max(MIN_BITS, int(np.ceil(np.log2(want))))))


def build_bitmap(hashes: np.ndarray, bits: int) -> np.ndarray:
    """The bitmap (uint8, 2**bits / 8 bytes) of sorted ``hashes``."""
    bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
    if not hashes.size:
        return bitmap
    slot = hashes >> np.uint64(64 - bits)  # sorted, since hashes are
    byte = (slot >> np.uint64(3)).astype(np.int64)
    bit = (np.uint8(1) << (slot & np.uint64(7)).astype(np.uint8)).astype(np.uint8)
    first = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
    bitmap[byte[first]] = np.bitwise_or.reduceat(bit, first)
    return bitmap


class HashLookup:
    """Sorted ``hashes`` (duplicates allowed) and their bitmap; read-only, memory-mapped arrays are fine."""

    def __init__(self, hashes: np.ndarray, bitmap: np.ndarray) -> None:
        self.hashes = hashes
        self.bitmap = bitmap
        self.bits = int(bitmap.size * 8).bit_length() - 1
        if bitmap.size * 8 != 1 << self.bits:
            raise ValueError("bitmap size must be a power of two bits")
        self._shift = np.uint64(64 - self.bits)

    @classmethod
    def build(cls, hashes: np.ndarray) -> HashLookup:
        distinct = int(np.count_nonzero(hashes[1:] != hashes[:-1])) + 1 if hashes.size else 0
        return cls(hashes, build_bitmap(hashes, bitmap_bits(distinct)))

    def find(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows of ``query`` found, first and one-past-last index of their equal hashes)."""
        if not query.size or not self.hashes.size:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        slot = query >> self._shift
        bits = self.bitmap[(slot >> np.uint64(3)).astype(np.intp)] >> (slot & np.uint64(7)).astype(np.uint8)
        rows = np.flatnonzero(bits & 1)
        if not rows.size:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        wanted = query[rows]
        lo = np.searchsorted(self.hashes, wanted, side="left")
        hi = np.searchsorted(self.hashes, wanted, side="right")
        hit = hi > lo
        return rows[hit], lo[hit], hi[hit]

    def contains(self, query: np.ndarray) -> np.ndarray:
        found = np.zeros(query.size, dtype=bool)
        found[self.find(query)[0]] = True
        return found
