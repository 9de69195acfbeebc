"""LSH banding: signature -> one 128-bit key per band (FineWeb2: 14 bands x 8 rows).

Two documents become duplicate candidates when all ``rows`` values of any band agree; the probability
for Jaccard similarity ``s`` is ``1 - (1 - s**rows)**bands`` (FineWeb2's 14x8 puts the 50% point near
s = 0.72 and merges s >= 0.8 with probability ~0.92). The key hashes the band's values together with the
band index and the document's language, so keys never collide across bands or languages and the
dedup scope "per language, global across all shards" falls out of grouping by key alone.
"""

from __future__ import annotations

import numpy as np
import xxhash


def merge_probability(s: float | np.ndarray, bands: int = 14, rows: int = 8) -> float | np.ndarray:
    """Theoretical probability that two documents of Jaccard similarity ``s`` share at least one band."""
    return 1.0 - (1.0 - np.asarray(s, dtype=float) ** rows) ** bands


class BandHasher:
    """Callable ``(signatures (n, >= bands*rows), lang) -> keys (n, bands, 2) uint64`` (128-bit keys)."""

    def __init__(self, bands: int = 14, rows: int = 8) -> None:
        self.bands = bands
        self.rows = rows

    def __call__(self, signatures: np.ndarray, lang: str) -> np.ndarray:
        n = len(signatures)
        width = self.bands * self.rows
        if signatures.shape[1] < width:
            raise ValueError(f"signatures have {signatures.shape[1]} values, bands x rows needs {width}")
        sig = np.ascontiguousarray(signatures[:, :width], dtype="<u8")
        raw = memoryview(sig.tobytes())
        step = self.rows * 8
        lang_seed = xxhash.xxh64_intdigest(lang.encode())
        seeds = [(lang_seed + b) & 0xFFFFFFFFFFFFFFFF for b in range(self.bands)]
        digest = xxhash.xxh3_128_digest
        # 14 hash calls per document: negligible next to the signature, and a real 128-bit hash.
        out = b"".join(
            digest(raw[off + b * step : off + (b + 1) * step], seeds[b])
            for off in range(0, n * width * 8, width * 8)
            for b in range(self.bands)
        )
        return np.frombuffer(out, dtype="<u8").reshape(n, self.bands, 2).astype(np.uint64, copy=False)
