"""The n-grams of a batch of tokenised texts, as flat arrays (never across two texts).

``word_ngrams``: one row per n consecutive tokens of a text: its hash, the text, and the position of its first
token (in the text and in the batch). ``char_ngrams``: the same over characters, separators left out, for the texts
that have runs of scripts written without spaces; n words are at least n characters, so a document that shares no
character n-gram with any such evaluation text cannot share a word n-gram that involves those scripts, and is not
segmented at all (:mod:`curate.decont.matcher`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.decont.char_table import SEP
from curate.decont.ngram_hash import ngram_hashes, token_hashes
from curate.decont.normalizer import NormalBatch
from curate.decont.tokens import Tokens


@dataclass
class NgramRows:
    hashes: np.ndarray  # uint64
    text: np.ndarray  # int64: index of the text in the batch
    first: np.ndarray  # int64: index of the n-gram's first token in the batch (Tokens.starts)

    def position(self, tokens: Tokens) -> np.ndarray:
        """The first token's position within its own text."""
        return self.first - tokens.offsets[self.text]


def _rows(unit_hashes: np.ndarray, offsets: np.ndarray, n: int) -> NgramRows:
    counts = np.diff(offsets)
    text_of = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    grams = ngram_hashes(unit_hashes, n)
    if not grams.size:
        empty = np.empty(0, dtype=np.int64)
        return NgramRows(np.empty(0, dtype=np.uint64), empty, empty)
    first = np.flatnonzero(text_of[: grams.size] == text_of[n - 1:])
    return NgramRows(grams[first], text_of[first], first)


def word_ngrams(batch: NormalBatch, tokens: Tokens, n: int) -> NgramRows:
    return _rows(token_hashes(batch.cp, tokens.starts, tokens.ends), tokens.offsets, n)


def char_ngrams(batch: NormalBatch, texts: np.ndarray, n: int) -> NgramRows:
    """Character n-grams of the texts ``texts`` (indices into the batch), separators left out; ``text`` holds
    indices into the batch, ``first`` positions in the compacted characters (not needed by callers)."""
    if not texts.size:
        empty = np.empty(0, dtype=np.int64)
        return NgramRows(np.empty(0, dtype=np.uint64), empty, empty)
    offsets = batch.offsets
    spans = [np.arange(offsets[t], offsets[t + 1], dtype=np.int64) for t in texts.tolist()]
    at = np.concatenate(spans)
    keep = batch.cls[at] != SEP
    at = at[keep]
    per_text = np.add.reduceat(keep.astype(np.int64), np.concatenate([[0], np.cumsum([s.size for s in spans])[:-1]]))
    per_text[[s.size == 0 for s in spans]] = 0
    char_offsets = np.zeros(texts.size + 1, dtype=np.int64)
    np.cumsum(per_text, out=char_offsets[1:])
    rows = _rows(token_hashes(batch.cp, at, at + 1), char_offsets, n)
    rows.text = texts[rows.text]
    return rows
