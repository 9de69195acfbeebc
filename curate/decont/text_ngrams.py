"""The n-grams of a batch of tokenised texts, as flat arrays (never across two texts).

``word_ngrams``: the hash of the n consecutive tokens starting at every token of the batch (those crossing into
the next text are dropped by the caller, see :class:`NgramRows`). ``char_ngrams``: the same over characters,
separators left out, for the texts that have runs of scripts written without spaces; n words are at least n characters, so a document that shares no
character n-gram with any such evaluation text cannot share a word n-gram that involves those scripts, and is not
segmented at all (:mod:`curate.decont.matcher`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.decont.char_table import CJ, SEP
from curate.decont.ngram_hash import ngram_hashes, token_hashes
from curate.decont.normalizer import NormalBatch
from curate.decont.tokens import Tokens


@dataclass
class NgramRows:
    """Hashes of the n-grams starting at every unit (token or character) of a batch. Those that run past the end
    of their text are computed too (cheaper than leaving them out) and dropped by :meth:`keep` / :meth:`valid`."""

    hashes: np.ndarray  # uint64, one per unit that has n - 1 units after it in the batch
    offsets: np.ndarray  # int64: text i has units offsets[i]:offsets[i + 1]
    n: int

    def text_of(self, first: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, first, side="right") - 1

    def keep(self, first: np.ndarray) -> np.ndarray:
        """Which of the n-grams starting at units ``first`` lie inside one text."""
        return first + self.n <= self.offsets[self.text_of(first) + 1]

    def valid(self) -> np.ndarray:
        """The starting units of every n-gram inside one text."""
        mask = np.ones(self.hashes.size, dtype=bool)
        for lo, hi in zip(self.offsets[:-1].tolist(), self.offsets[1:].tolist(), strict=True):
            mask[max(lo, hi - self.n + 1):hi] = False
        return np.flatnonzero(mask)


def _rows(unit_hashes: np.ndarray, offsets: np.ndarray, n: int) -> NgramRows:
    return NgramRows(ngram_hashes(unit_hashes, n), offsets, n)


def word_ngrams(batch: NormalBatch, tokens: Tokens, n: int) -> NgramRows:
    return _rows(token_hashes(batch.values, tokens.starts, tokens.ends), tokens.offsets, n)


def char_ngrams(batch: NormalBatch, texts: np.ndarray, n: int) -> tuple[NgramRows, np.ndarray]:
    """Character n-grams of the texts ``texts`` (indices into the batch), separators left out; the rows' texts
    are positions in ``texts``. Also, per row, whether its window holds a character of a script written without
    spaces: a word n-gram with such a word spans at least one such window on both sides, so only those need
    comparing (Latin runs next to Chinese ones would otherwise send pages to the segmenter for nothing)."""
    if not texts.size:
        return NgramRows(np.empty(0, dtype=np.uint64), np.zeros(1, dtype=np.int64), n), np.zeros(0, dtype=bool)
    offsets = batch.offsets
    spans = [np.arange(offsets[t], offsets[t + 1], dtype=np.int64) for t in texts.tolist()]
    at = np.concatenate(spans)
    keep = batch.cls[at] != SEP
    at = at[keep]
    sizes = np.array([s.size for s in spans])
    per_text = np.add.reduceat(keep.astype(np.int64), np.concatenate([[0], np.cumsum(sizes)[:-1]]))
    per_text[sizes == 0] = 0
    char_offsets = np.zeros(texts.size + 1, dtype=np.int64)
    np.cumsum(per_text, out=char_offsets[1:])
    rows = _rows(token_hashes(batch.values, at, at + 1), char_offsets, n)
    in_run = np.zeros(at.size + 1, dtype=np.int64)
    np.cumsum(batch.cls[at] >= CJ, out=in_run[1:])
    m = rows.hashes.size
    return rows, in_run[n:n + m] > in_run[:m]
