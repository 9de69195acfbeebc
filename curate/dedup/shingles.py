"""Word n-gram shingles hashed to 64 bits (FineWeb2: word 5-grams, 64-bit hashes).

datatrove's ``MinhashDedupSignature`` as configured for FineWeb2 (``MinhashConfig(n_grams=5,
hash_config=HashConfig(precision=64))``) hashes each word 5-gram of the normalised text; we hash the
UTF-8 bytes of the n-gram's words joined by one space with xxh64.
"""

from __future__ import annotations

import numpy as np
import xxhash

from curate.dedup.normalize import TextNormalizer, normalize_text
from curate.dedup.tokenize import Tokenize, whitespace_tokenize


class Shingler:
    """Callable ``text -> uint64 array`` of the xxh64 hashes of its word n-grams (one per position).

    A document with fewer than ``n`` words gives one shingle of all its words, so short identical
    documents still match; an empty normalised text gives no shingle (it is never a near-duplicate).
    Duplicate shingles are kept: the minimum over them is the same.
    """

    def __init__(
        self,
        n: int = 5,
        tokenize: Tokenize = whitespace_tokenize,
        normalize: TextNormalizer = normalize_text,
        seed: int = 0,
    ) -> None:
        if n < 1:
            raise ValueError("n-gram size must be >= 1")
        self.n = n
        self.tokenize = tokenize
        self.normalize = normalize
        self.seed = seed

    def words(self, text: str) -> list[str]:
        return self.tokenize(self.normalize(text))

    def __call__(self, text: str) -> np.ndarray:
        # xxhash wants bytes: encode each word once rather than each n-gram
        words = [w.encode() for w in self.words(text) if w and not w.isspace()]
        n = self.n
        if not words:
            return np.empty(0, dtype=np.uint64)
        if len(words) <= n:
            grams = [b" ".join(words)]
        elif n == 1:
            grams = words
        else:
            # zip of shifted lists builds every n-gram in C; one join per n-gram is the only Python work.
            grams = [b" ".join(g) for g in zip(*(words[i:] for i in range(n)), strict=False)]
        h = xxhash.xxh64_intdigest
        seed = self.seed
        return np.fromiter((h(g, seed) for g in grams), dtype=np.uint64, count=len(grams))
