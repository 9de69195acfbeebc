"""Tokens of normalised texts: words where a script is written with spaces, a segmenter's words where it is not.

:func:`split_runs` is the vectorised cut of a whole batch: a token is a maximal run of non-separator
characters of one class, so words of spaced scripts come out as they are ("punctuation folded": separators never
belong to a token), and a run of Han, Thai, ... characters comes out whole. :func:`refine` then cuts such runs
into words with the language's segmenter (:mod:`curate.decont.run_segmenter`); that is the tokenisation both
evaluation texts and documents are hashed with. Documents only pay for it when a run could matter
(:mod:`curate.decont.matcher`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.decont.char_table import CJ, SEP
from curate.decont.normalizer import NormalBatch, normalize_texts
from curate.decont.run_segmenter import RunSegmenter


@dataclass
class Tokens:
    """Token spans over a :class:`NormalBatch`: text ``i`` has tokens ``offsets[i]:offsets[i + 1]``."""

    starts: np.ndarray  # int64 positions in the batch's code points
    ends: np.ndarray
    offsets: np.ndarray  # int64, one more than texts

    def count(self, i: int) -> int:
        return int(self.offsets[i + 1] - self.offsets[i])


def split_runs(batch: NormalBatch) -> Tokens:
    """Maximal runs of same-class non-separator characters, never across texts."""
    cls = batch.cls
    n = cls.size
    brk = np.ones(n + 1, dtype=bool)  # brk[i]: a run starts at i (and one ends before it)
    np.not_equal(cls[1:], cls[:-1], out=brk[1:n])
    brk[batch.offsets] = True
    inside = cls != SEP
    starts = np.flatnonzero(brk[:n] & inside)
    ends = np.flatnonzero(brk[1:] & inside) + 1
    return Tokens(starts, ends, np.searchsorted(starts, batch.offsets))


def run_texts(batch: NormalBatch, tokens: Tokens) -> np.ndarray:
    """Indices of the texts that have at least one run of a script written without spaces."""
    has = np.zeros(tokens.starts.size + 1, dtype=np.int64)
    np.cumsum(batch.cls[tokens.starts] >= CJ, out=has[1:])
    return np.flatnonzero(has[tokens.offsets[1:]] > has[tokens.offsets[:-1]])


def refine(batch: NormalBatch, tokens: Tokens, text: int, segmenter: RunSegmenter, lang: str
           ) -> tuple[np.ndarray, np.ndarray]:
    """Token (starts, ends) of one text with its runs cut into words by ``segmenter`` for ``lang``."""
    lo, hi = int(tokens.offsets[text]), int(tokens.offsets[text + 1])
    starts, ends = tokens.starts[lo:hi], tokens.ends[lo:hi]
    classes = batch.cls[starts]
    if not (classes >= CJ).any():
        return starts, ends
    out_s: list[np.ndarray] = []
    out_e: list[np.ndarray] = []
    done = 0
    for k in np.flatnonzero(classes >= CJ).tolist():
        out_s.append(starts[done:k])
        out_e.append(ends[done:k])
        s, e = int(starts[k]), int(ends[k])
        lengths = segmenter.cut(batch.text(s, e), int(classes[k]), lang)
        bounds = s + np.cumsum(np.asarray(lengths, dtype=np.int64))
        out_s.append(np.concatenate([[s], bounds[:-1]]).astype(np.int64))
        out_e.append(bounds)
        done = k + 1
    out_s.append(starts[done:])
    out_e.append(ends[done:])
    return np.concatenate(out_s), np.concatenate(out_e)


def refined_tokens(batch: NormalBatch, tokens: Tokens, which: np.ndarray, langs: list[str],
                   segmenter: RunSegmenter) -> Tokens:
    """``tokens`` with the runs of the texts ``which`` cut into words (the others keep their runs whole)."""
    if not which.size:
        return tokens
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    counts = np.diff(tokens.offsets)
    done = 0
    for text in which.tolist():
        lo, hi = int(tokens.offsets[done]), int(tokens.offsets[text])
        starts.append(tokens.starts[lo:hi])
        ends.append(tokens.ends[lo:hi])
        s, e = refine(batch, tokens, text, segmenter, langs[text])
        starts.append(s)
        ends.append(e)
        counts[text] = s.size
        done = text + 1
    lo = int(tokens.offsets[done])
    starts.append(tokens.starts[lo:])
    ends.append(tokens.ends[lo:])
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return Tokens(np.concatenate(starts), np.concatenate(ends), offsets)


def tokenize(texts: list[str], langs: list[str], segmenter: RunSegmenter) -> tuple[NormalBatch, Tokens]:
    """Normal form and words of ``texts``, every run cut by its segmenter: how evaluation texts are read."""
    batch = normalize_texts(texts)
    tokens = split_runs(batch)
    return batch, refined_tokens(batch, tokens, run_texts(batch, tokens), langs, segmenter)
