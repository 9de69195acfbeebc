"""MinHash signatures, vectorised with numpy (FineWeb2: 112 permutations over 64-bit shingle hashes).

Each permutation is FineWeb2's: datatrove's ``MinhashDedupSignature`` computes ``(a*x + b) % p`` in numpy
uint64, with ``p = 2**61 - 1`` and ``a, b`` drawn by ``np.random.RandomState(seed)``, so ``a*x + b`` wraps
modulo 2**64 before the ``mod``. We use the same parameters and the same function, so a document's
signature equals datatrove's for the same shingle hashes, bit for bit. The ``mod p`` is done without a
division: ``y = hi * 2**61 + lo`` gives ``y = hi + lo (mod p)`` (a Mersenne fold) and one conditional
subtract. The signature of a document is the per-permutation minimum over its shingles.
"""

from __future__ import annotations

import numpy as np

MERSENNE_61 = (1 << 61) - 1
_P = np.uint64(MERSENNE_61)
_S61 = np.uint64(61)
EMPTY = np.uint64(np.iinfo(np.uint64).max)  # signature value of a document without shingles


class MinHasher:
    """``num_perm`` seeded permutations; :meth:`signatures` maps shingle-hash arrays to a (docs, num_perm) array.

    Work is done in chunks of ``chunk`` shingles across documents (so short documents share numpy calls and
    the temporaries stay in the CPU cache); there is no Python loop per shingle or per document.
    """

    def __init__(self, num_perm: int = 112, seed: int = 1, chunk: int = 256) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self.chunk = chunk
        # datatrove's draw (MinhashDedupSignature.parameters): a in [1, p), then b in [0, p)
        gen = np.random.RandomState(seed)
        self.a = gen.randint(1, MERSENNE_61, dtype=np.uint64, size=num_perm)
        self.b = gen.randint(0, MERSENNE_61, dtype=np.uint64, size=num_perm)

    def permute(self, x: np.ndarray) -> np.ndarray:
        """((a*x + b) mod 2**64) mod p for every x (1-D uint64) and permutation: shape (len(x), num_perm)."""
        out = np.empty((len(x), self.num_perm), dtype=np.uint64)
        self._permute_into(np.ascontiguousarray(x, dtype=np.uint64), out, np.empty_like(out))
        return out

    def _permute_into(self, x: np.ndarray, s: np.ndarray, t: np.ndarray) -> None:
        np.multiply(x[:, None], self.a, out=s)  # wraps modulo 2**64, as in datatrove
        s += self.b  # wraps too
        np.right_shift(s, _S61, out=t)  # y mod p = (y >> 61) + (y & p) (mod p); the sum is < p + 8
        s &= _P
        s += t
        np.subtract(s, _P, out=t)  # wraps to a huge value unless s >= p
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
        bufs = [np.empty((c, self.num_perm), dtype=np.uint64) for _ in range(2)]
        for lo in range(0, len(x), c):
            hi = min(lo + c, len(x))
            s, t = (b[: hi - lo] for b in bufs)
            self._permute_into(x[lo:hi], s, t)
            # documents overlapping [lo, hi): the last one starting at or before lo, to the last starting before hi
            first = int(np.searchsorted(starts, lo, side="right")) - 1
            last = int(np.searchsorted(starts, hi, side="left"))
            seg = np.maximum(starts[first:last], lo) - lo
            mins = np.minimum.reduceat(s, seg, axis=0)
            np.minimum(out[first:last], mins, out=out[first:last])
        sig[nonempty] = out
        return sig
