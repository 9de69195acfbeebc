"""64-bit hashes of tokens and of token n-grams, computed with numpy over whole batches.

A token's hash is a polynomial over its code points (with their class; mod 2^32, from one prefix sum over the batch), widened with
the token's length and mixed with splitmix64 (Steele et al., "Fast splittable pseudorandom number generators",
OOPSLA 2014). An n-gram's hash is a polynomial over its tokens' hashes (mod 2^64, again one prefix sum: a rolling
hash, Karp & Rabin 1987), mixed the same way. Both are pure integer arithmetic, so the same text gives the same
hashes on every machine and numpy version. Collisions cost a verification, never a false match: a hit is checked
against the evaluation text itself (:mod:`curate.decont.matcher`).
"""

from __future__ import annotations

import numpy as np

HASH_SCHEME = "poly32-codepoint|class+len/splitmix64; poly64-tokens/splitmix64; v2"
_BASE32 = np.uint32(0x01000193)  # FNV-1a's prime, odd: invertible mod 2^32
_BASE64 = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime, odd: invertible mod 2^64
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)


class _Powers:
    """Powers of a base and of its inverse, grown on demand (process-wide)."""

    def __init__(self, base: np.unsignedinteger, dtype: type) -> None:
        self.base = base
        self.dtype = dtype
        bits = np.dtype(dtype).itemsize * 8
        self.inverse = dtype(pow(int(base), -1, 1 << bits))
        self.pow = np.ones(1, dtype=dtype)
        self.inv = np.ones(1, dtype=dtype)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if n > self.pow.size:
            size = max(n, 2 * self.pow.size, 1 << 16)
            with np.errstate(over="ignore"):
                self.pow = np.concatenate([[self.dtype(1)], np.cumprod(np.full(size - 1, self.base, self.dtype), dtype=self.dtype)])
                self.inv = np.concatenate([[self.dtype(1)],
                                           np.cumprod(np.full(size - 1, self.inverse, self.dtype), dtype=self.dtype)])
        return self.pow[:n], self.inv[:n]


_P32 = _Powers(_BASE32, np.uint32)
_P64 = _Powers(_BASE64, np.uint64)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place on a fresh uint64 array (returned)."""
    x ^= x >> _S30
    x *= _C1
    x ^= x >> _S27
    x *= _C2
    x ^= x >> _S31
    return x


def _window_sums(values: np.ndarray, powers: _Powers, starts: np.ndarray | slice, ends: np.ndarray | slice
                 ) -> np.ndarray:
    """sum(values[i] * base**(i - start)) over every window [start, end): one prefix sum, then differences."""
    pw, inv = powers.get(values.size)
    prefix = np.empty(values.size + 1, dtype=powers.dtype)
    prefix[0] = 0
    with np.errstate(over="ignore"):
        np.cumsum(values * pw, dtype=powers.dtype, out=prefix[1:])
        return (prefix[ends] - prefix[starts]) * inv[starts]


def token_hashes(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """uint64 hash of each token ``values[starts[i]:ends[i]]`` (code point | class of the normal form)."""
    if not starts.size:
        return np.empty(0, dtype=np.uint64)
    poly = _window_sums(values, _P32, starts, ends)
    return mix64(poly.astype(np.uint64) | ((ends - starts).astype(np.uint64) << _S32))


def ngram_hashes(tok: np.ndarray, n: int) -> np.ndarray:
    """uint64 hash of every run of ``n`` consecutive token hashes (``tok.size - n + 1`` of them)."""
    m = tok.size - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    return mix64(_window_sums(tok, _P64, slice(0, m), slice(n, n + m)))
