"""The ``minhash`` block: near-duplicate removal with FineWeb2's MinHash settings.

FineWeb2 (Penedo et al., 2025; paper section "Deduplication", run with datatrove's four MinHash stages)
deduplicates each language globally, across all dumps, with MinHash LSH: word 5-grams from the language's
word tokenizer, 64-bit hashes, 112 hash functions in 14 buckets (bands) of 8, and keeps one document per
cluster of duplicates, recording the cluster size so that rehydration can later upsample by it.
Defaults here are those settings; see :mod:`curate.dedup.step` for the phases and resume logic.

Output: removed duplicates get reason ``duplicate_of:<kept document id>``; every row gets
``minhash_cluster_size`` (int64, 1 for a unique document) and ``minhash_cluster_id`` (string: the ``id`` of
the cluster's kept document, so a singleton's cluster id is its own id). ``job.stats["minhash"]`` holds,
per language, ``{cluster size: number of clusters}``.

Opt-in verification (``verify: {threshold: 0.75}`` or ``verify: true``; :mod:`curate.dedup.cluster_verify`):
LSH candidates chain (A~B~C), so a cluster can hold documents far from the one kept; with ``verify`` each
member is compared with its cluster's kept document on the signature (estimated Jaccard similarity of
their 5-gram sets) and removed only at or above the threshold; the others are kept as clusters of one.
Every row then also gets ``minhash_similarity`` (float: to the kept document; 1.0 for a kept document, null
outside clusters). The default, no verification, is FineWeb2's behaviour and output byte for byte.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np

from curate.blocks import columns as C
from curate.dedup.components import KeepRule
from curate.dedup.lsh import BandHasher
from curate.dedup.minhash import MinHasher
from curate.dedup.normalize import normalize_text
from curate.dedup.shingles import Shingler
from curate.dedup.step import ClusterDedupStep
from curate.dedup.tokenize import Tokenize, resolve_tokenizer
from curate.shuffle.partitioned_shuffle import MERGE_MEMORY, TARGET_READ

# verification threshold on the estimated Jaccard similarity to the kept document: the point where the
# 14 x 8 bands merge a pair with probability ~0.84 (0.72 is the 50% point); chosen on planted pairs of one
# half of the shared articles, reported on the other (benchmarks/dedup_verify.py)
VERIFY_THRESHOLD = 0.75
VERIFY_KEYS = ("threshold",)


class MinHashKeyer:
    """Texts of one language -> LSH band keys (normalise, shingle, sign, band). Picklable."""

    def __init__(
        self,
        num_perm: int = 112,
        bands: int = 14,
        rows: int = 8,
        ngram: int = 5,
        seed: int = 1,
        tokenizer: str | Tokenize = "language",
        languages: Any = None,
    ) -> None:
        self.ngram = ngram
        self.tokenizer = tokenizer
        self.languages = languages  # the pipeline's language table (None: the shipped one)
        self.hasher = MinHasher(num_perm=num_perm, seed=seed)
        self.bander = BandHasher(bands=bands, rows=rows)

    def shingler(self, lang: str) -> Shingler:
        return Shingler(
            n=self.ngram,
            tokenize=resolve_tokenizer(self.tokenizer, lang, self.languages),
            normalize=normalize_text,
        )

    def signatures(self, texts: list[str], lang: str) -> np.ndarray:
        """(len(texts), num_perm) signatures; rows of documents without shingles are all ``EMPTY``."""
        shingle = self.shingler(lang)
        return self.hasher.signatures([shingle(t) for t in texts])

    def __call__(
        self, texts: list[str], lang: str, timing: dict[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        which, keys, _, _ = self.keys_and_signatures(texts, lang, timing)
        return which, keys

    def keys_and_signatures(
        self, texts: list[str], lang: str, timing: dict[str, float]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Band keys as ``__call__`` returns them, plus the positions of the documents with shingles and
        their signatures cut to the low 16 bits of each value (b-bit minwise hashing, Li & Koenig, WWW 2010:
        two values agree by chance with probability 2^-16, so the share of equal values still estimates the
        Jaccard similarity), for the verification of clusters."""
        t0 = time.perf_counter()
        shingle = self.shingler(lang)
        hashes = [shingle(t) for t in texts]
        t1 = time.perf_counter()
        sig = self.hasher.signatures(hashes)
        t2 = time.perf_counter()
        has = np.flatnonzero(np.fromiter((len(h) > 0 for h in hashes), dtype=bool, count=len(hashes)))
        keys = self.bander(sig[has], lang)  # (docs, bands, 2)
        t3 = time.perf_counter()
        timing["shingle"] = timing.get("shingle", 0.0) + (t1 - t0)
        timing["signature"] = timing.get("signature", 0.0) + (t2 - t1)
        timing["bands"] = timing.get("bands", 0.0) + (t3 - t2)
        timing["docs"] = timing.get("docs", 0.0) + len(texts)
        timing["shingles"] = timing.get("shingles", 0.0) + sum(len(h) for h in hashes)
        low = (sig[has] & np.uint64(0xFFFF)).astype("<u2")
        return np.repeat(has, self.bander.bands), keys.reshape(-1, 2), has, low


class MinHashDedup(ClusterDedupStep):
    """Global MinHash near-duplicate removal per language (FineWeb2 defaults).

    Settings (FineWeb2 value in brackets): ``num_perm`` hash functions [112], ``bands`` [14] x ``rows`` [8],
    ``ngram`` word n-gram size [5], ``seed`` of the permutations [1], ``tokenizer`` [``"language"``: the
    language's word tokenizer from the language table], ``"fast"`` (whitespace for languages written with
    spaces), ``"whitespace"`` or a picklable callable (see :mod:`curate.dedup.tokenize`); ``partitions`` of the key shuffle (default: ~4M keys each), ``keep``
    ``"first_id"`` (smallest document id, shard-split independent) or ``"first_index"``; ``shuffle_read``
    and ``merge_memory`` size the shuffle's reads and merge tasks (:class:`~curate.dedup.step.ClusterDedupStep`);
    ``verify`` [off]: ``true`` or ``{threshold: t}`` [0.75] removes only members whose estimated Jaccard
    similarity to the kept document is at least ``t``; ``largest_clusters`` [10 with ``verify``, else 0]:
    each language's largest clusters listed in the statistics; ``index`` [off]: a URL (or ``{url: URL, dump:
    NAME}``) of a persistent dedup index: this run's documents are deduplicated against every dump already in
    it and added to it as dump ``NAME`` (default: the output folder's name), cluster sizes and ids being those
    of the whole corpus (:mod:`curate.dedup.index_run`).
    """

    name: ClassVar[str] = "minhash"
    size_column: ClassVar[str | None] = C.CLUSTER_SIZE
    id_column: ClassVar[str | None] = C.CLUSTER_ID
    keys_per_doc: ClassVar[int] = 14
    similarity_column: ClassVar[str | None] = C.SIMILARITY

    def __init__(
        self,
        num_perm: int = 112,
        bands: int = 14,
        rows: int = 8,
        ngram: int = 5,
        seed: int = 1,
        partitions: int | None = None,
        keep: KeepRule = "first_id",
        tokenizer: str | Tokenize = "language",
        batch_size: int = 2048,
        shuffle_read: int = TARGET_READ,
        merge_memory: int = MERGE_MEMORY,
        largest_clusters: int | None = None,
        verify: bool | dict[str, float] | None = None,
        index: str | dict[str, str] | None = None,
    ) -> None:
        threshold = _verify_threshold(verify)
        super().__init__(partitions=partitions, keep=keep, batch_size=batch_size, shuffle_read=shuffle_read,
                         merge_memory=merge_memory,
                         largest_clusters=(10 if threshold else 0) if largest_clusters is None else largest_clusters,
                         index=index)
        self.verify = verify
        if bands * rows > num_perm:
            raise ValueError(f"bands x rows = {bands * rows} exceeds num_perm = {num_perm}")
        if ngram < 1:
            raise ValueError("ngram must be >= 1")
        self.num_perm = num_perm
        self.bands = bands
        self.rows = rows
        self.ngram = ngram
        self.seed = seed
        self.tokenizer = tokenizer

    def keys_per_document(self) -> int:
        return self.bands

    def verify_threshold(self) -> float:
        return _verify_threshold(self.verify)

    def signature_width(self) -> int:
        return 2 * self.num_perm  # 16 bits a value

    def make_keyer(self, languages: Any = None) -> MinHashKeyer:
        return MinHashKeyer(
            self.num_perm, self.bands, self.rows, self.ngram, self.seed, self.tokenizer, languages
        )


def _verify_threshold(verify: bool | dict[str, float] | None) -> float:
    """The threshold a ``verify`` setting asks for (0.0: no verification)."""
    if verify is None or verify is False:
        return 0.0
    if verify is True:
        return VERIFY_THRESHOLD
    unknown = sorted(set(verify) - set(VERIFY_KEYS))
    if unknown:
        raise ValueError(f"minhash verify: unknown key(s) {unknown}; allowed: {list(VERIFY_KEYS)}")
    threshold = float(verify.get("threshold", VERIFY_THRESHOLD))
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"minhash verify: threshold must be in (0, 1], not {threshold}")
    return threshold
