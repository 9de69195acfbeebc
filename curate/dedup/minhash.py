"""MinHash signatures, vectorised with numpy (FineWeb2: 112 permutations over 64-bit shingle hashes).

Each permutation is the universal hash ``h(x) = (a*x + b) mod (2**61 - 1)`` with seeded ``a, b``, the
family datatrove uses for FineWeb2. We compute it *exactly* in uint64 arithmetic (datatrove lets
``a*x`` wrap modulo 2**64 before the ``mod``): ``a*x`` is split into 31/30-bit halves so that no partial
product overflows and ``2**61 = 1 (mod p)`` folds the high bits back. The signature of a document is
the per-permutation minimum over its shingles.
"""

from __future__ import annotations

import numpy as np

MERSENNE_61 = (1 << 61) - 1
_P = np.uint64(MERSENNE_61)
_M31 = np.uint64((1 << 31) - 1)
_M30 = np.uint64((1 << 30) - 1)
_S30, _S31, _S61 = np.uint64(30), np.uint64(31), np.uint64(61)
EMPTY = np.uint64(np.iinfo(np.uint64).max)  # signature value of a document without shingles


class MinHasher:
    """``num_perm`` seeded permutations; :meth:`signatures` maps shingle-hash arrays to a (docs, num_perm) array.

    Work is done in chunks of ``chunk`` shingles across documents (so short documents share numpy calls and
    the temporaries stay in cache); there is no Python loop per shingle.
    """

    def __init__(self, num_perm: int = 112, seed: int = 1, chunk: int = 512) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self.chunk = chunk
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, MERSENNE_61, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, MERSENNE_61, size=num_perm, dtype=np.uint64)
        self._a_hi2 = (self.a >> _S31) << np.uint64(1)  # a_hi * 2**62 = a_hi * 2 (mod p)
        self._a_hi = self.a >> _S31
        self._a_lo = self.a & _M31

    def permute(self, x: np.ndarray) -> np.ndarray:
        """(a*x + b) mod p for every x (1-D uint64) and permutation: shape (len(x), num_perm)."""
        out = np.empty((len(x), self.num_perm), dtype=np.uint64)
        self._permute_into(
            np.ascontiguousarray(x, dtype=np.uint64), out, np.empty_like(out), np.empty_like(out)
        )
        return out

    def _permute_into(self, x: np.ndarray, s: np.ndarray, mid: np.ndarray, t: np.ndarray) -> None:
        # x mod p first (x < 2**64): fold bit 61+ down, then one conditional subtract.
        x = (x & _P) + (x >> _S61)
        x = np.minimum(x, x - _P)  # x - p wraps to a huge value unless x >= p
        xh = (x >> _S31)[:, None]  # < 2**30
        xl = (x & _M31)[:, None]  # < 2**31
        np.multiply(xl, self._a_hi, out=mid)  # cross terms, each < 2**61, sum < 2**62
        np.multiply(xh, self._a_lo, out=t)
        mid += t
        np.multiply(xh, self._a_hi2, out=s)  # a_hi*x_hi*2**62 = 2*a_hi*x_hi (mod p), < 2**61
        np.multiply(xl, self._a_lo, out=t)  # < 2**62
        s += t
        np.right_shift(mid, _S30, out=t)  # mid*2**31 = (mid>>30)*2**61 + (mid&M30)*2**31 = (mid>>30) + ...
        s += t
        mid &= _M30
        mid <<= _S31
        s += mid
        s += self.b  # total < 2**63 + 2**61 + 2**32: no overflow
        np.right_shift(s, _S61, out=t)
        s &= _P
        s += t
        np.subtract(s, _P, out=t)
        np.minimum(s, t, out=s)

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """Signature of one document (num_perm,); all ``EMPTY`` when it has no shingle."""
        return self.signatures([hashes])[0]

    def signatures(self, docs: list[np.ndarray]) -> np.ndarray:
        """Signatures of many documents, shape (len(docs), num_perm), uint64."""
        sig = np.full((len(docs), self.num_perm), EMPTY, dtype=np.uint64)
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        nonempty = np.flatnonzero(lengths)
        if len(nonempty) == 0:
            return sig
        x = np.concatenate([docs[i] for i in nonempty]).astype(np.uint64, copy=False)
        starts = np.zeros(len(nonempty), dtype=np.int64)
        np.cumsum(lengths[nonempty][:-1], out=starts[1:])
        out = sig[nonempty]
        c = self.chunk
        bufs = [np.empty((c, self.num_perm), dtype=np.uint64) for _ in range(3)]
        for lo in range(0, len(x), c):
            hi = min(lo + c, len(x))
            s, mid, t = (b[: hi - lo] for b in bufs)
            self._permute_into(x[lo:hi], s, mid, t)
            # documents overlapping [lo, hi): the last one starting at or before lo, to the last starting before hi
            first = int(np.searchsorted(starts, lo, side="right")) - 1
            last = int(np.searchsorted(starts, hi, side="left"))
            seg = np.maximum(starts[first:last], lo) - lo
            mins = np.minimum.reduceat(s, seg, axis=0)
            np.minimum(out[first:last], mins, out=out[first:last])
        sig[nonempty] = out
        return sig
