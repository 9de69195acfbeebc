"""The ``exact_dedup`` block: remove documents whose (normalised or raw) text is identical.

A cheap complement to MinHash (DESIGN "Dedup"; FineWeb2 itself relies on MinHash only): one 128-bit
xxh3 content hash per document, then the same partitioned shuffle, components and deterministic keep
rule as ``minhash``. Scope is per language by default (the language is part of the hash).

Output: removed rows get reason ``duplicate_of:<kept document id>``; every row gets
``exact_cluster_size`` (int64: identical copies including itself). ``job.stats["exact_dedup"]``
holds, per language, ``{copies: number of distinct texts}``.
"""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
import xxhash

from curate.dedup.components import KeepRule
from curate.dedup.normalize import normalize_text
from curate.dedup.step import ClusterDedupStep
from curate.shuffle.partitioned_shuffle import MERGE_MEMORY, TARGET_READ

EXACT_CLUSTER_SIZE = "exact_cluster_size"


class ContentHashKeyer:
    """Texts of one language -> one 128-bit content hash each. Picklable."""

    def __init__(self, normalize: bool = False, per_language: bool = True) -> None:
        self.normalize = normalize
        self.per_language = per_language

    def __call__(
        self, texts: list[str], lang: str, timing: dict[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        t0 = time.perf_counter()
        seed = xxhash.xxh64_intdigest(lang.encode()) if self.per_language else 0
        norm = normalize_text if self.normalize else None
        digest = xxhash.xxh3_128_digest
        raw = b"".join(digest((norm(t) if norm else t).encode("utf-8", "surrogatepass"), seed) for t in texts)
        keys = np.frombuffer(raw, dtype="<u8").reshape(len(texts), 2).astype(np.uint64, copy=False)
        timing["hash"] = timing.get("hash", 0.0) + time.perf_counter() - t0
        timing["docs"] = timing.get("docs", 0.0) + len(texts)
        return np.arange(len(texts), dtype=np.int64), keys


class ExactDedup(ClusterDedupStep):
    """Exact-duplicate removal. Settings: ``normalize`` (hash the MinHash-normalised text instead of the raw
    text) [False], ``per_language`` [True], ``partitions``, ``keep``, ``index`` (as for ``minhash``)."""

    name: ClassVar[str] = "exact_dedup"
    size_column: ClassVar[str | None] = EXACT_CLUSTER_SIZE
    id_column: ClassVar[str | None] = None
    keys_per_doc: ClassVar[int] = 1

    def __init__(
        self,
        normalize: bool = False,
        per_language: bool = True,
        partitions: int | None = None,
        keep: KeepRule = "first_id",
        batch_size: int = 2048,
        shuffle_read: int = TARGET_READ,
        merge_memory: int = MERGE_MEMORY,
        largest_clusters: int = 0,
        index: str | dict[str, str] | None = None,
    ) -> None:
        super().__init__(partitions=partitions, keep=keep, batch_size=batch_size, shuffle_read=shuffle_read,
                         merge_memory=merge_memory, largest_clusters=largest_clusters, index=index)
        self.normalize = normalize
        self.per_language = per_language

    def make_keyer(self, languages: object = None) -> ContentHashKeyer:
        return ContentHashKeyer(self.normalize, self.per_language)
