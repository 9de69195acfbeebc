"""Deduplication: global MinHash near-duplicate removal and exact dedup (FineWeb2 recipe).

One module per concern: :mod:`.normalize` (text simplification), :mod:`.tokenize` (word tokenizer hook),
:mod:`.shingles` (word n-grams -> 64-bit xxhash), :mod:`.minhash` (vectorised signatures), :mod:`.lsh`
(band keys), :mod:`.shuffle` (disk-partitioned keys -> candidate edges, through the generic
:mod:`curate.shuffle.partitioned_shuffle`), :mod:`.star_contraction` (large-star / small-star),
:mod:`.components` (distributed connected components, kept document), :mod:`.step` (phases + resume),
and the blocks :mod:`.minhash_block` (``minhash``) and :mod:`.exact_block` (``exact_dedup``).
"""

from curate.dedup.exact_block import ContentHashKeyer, ExactDedup
from curate.dedup.lsh import BandHasher, merge_probability
from curate.dedup.minhash import MinHasher
from curate.dedup.minhash_block import MinHashDedup, MinHashKeyer
from curate.dedup.normalize import TextNormalizer, normalize_text
from curate.dedup.shingles import Shingler
from curate.dedup.step import ClusterDedupStep
from curate.dedup.tokenize import language_tokenizer, resolve_tokenizer, whitespace_tokenize

__all__ = [
    "BandHasher",
    "ClusterDedupStep",
    "ContentHashKeyer",
    "ExactDedup",
    "MinHashDedup",
    "MinHashKeyer",
    "MinHasher",
    "Shingler",
    "TextNormalizer",
    "language_tokenizer",
    "merge_probability",
    "normalize_text",
    "resolve_tokenizer",
    "whitespace_tokenize",
]
