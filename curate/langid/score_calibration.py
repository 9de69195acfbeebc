"""FineWeb2's per-language ``language_score`` threshold, from the distribution of a model's confidence.

FineWeb2 (Penedo et al. 2025, arXiv:2506.20920, language-identification part of the pipeline section) sets each
language's threshold from the confidence scores X of the documents the language-ID model assigns to it:
``tau = max(0.3, min(0.9, Med(X) - sigma(X)))``. A language the model is sure of keeps only its confident
documents; one whose scores are spread (a low-resource or close-relative language) gets a lower bar, never
below 0.3 nor above 0.9.

:class:`ScoreHistogram` accumulates the scores per language in 1,000 bins of 0.001 plus exact sums, so memory
stays bounded whatever the corpus size (the median is exact to the bin width, the standard deviation exact),
and batches are added with one ``numpy.bincount``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FLOOR, CAP = 0.3, 0.9  # FineWeb2's clamp
BINS = 1000
MIN_DOCUMENTS = 30  # fewer scores than this give no threshold (median and spread too noisy)


def fineweb2_threshold(median: float, std: float) -> float:
    """``max(0.3, min(0.9, median - std))``, rounded to 4 decimals as FineWeb2's configs."""
    return round(max(FLOOR, min(CAP, median - std)), 4)


@dataclass(frozen=True)
class LanguageScoreStats:
    key: str
    documents: int
    median: float
    std: float
    threshold: float


class ScoreHistogram:
    """Per-language histograms of confidence scores in [0, 1]."""

    def __init__(self) -> None:
        self._keys: dict[str, int] = {}
        self._counts = np.zeros((0, BINS), dtype=np.int64)
        self._sums = np.zeros((0, 2), dtype=np.float64)  # sum, sum of squares

    def add(self, langs: Sequence[str], scores: np.ndarray | Sequence[float]) -> None:
        values = np.clip(np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0), 0.0, 1.0)
        for key in dict.fromkeys(langs):
            if key not in self._keys:
                self._keys[key] = len(self._keys)
        if len(self._keys) > self._counts.shape[0]:
            grow = len(self._keys) - self._counts.shape[0]
            self._counts = np.vstack([self._counts, np.zeros((grow, BINS), dtype=np.int64)])
            self._sums = np.vstack([self._sums, np.zeros((grow, 2))])
        rows = np.fromiter((self._keys[k] for k in langs), dtype=np.int64, count=len(langs))
        bins = np.minimum((values * BINS).astype(np.int64), BINS - 1)
        flat = np.bincount(rows * BINS + bins, minlength=self._counts.size)
        self._counts += flat.reshape(self._counts.shape)
        np.add.at(self._sums, rows, np.stack([values, values * values], axis=1))

    def stats(self, min_documents: int = MIN_DOCUMENTS) -> list[LanguageScoreStats]:
        """One entry per language with at least ``min_documents`` scores, sorted by key."""
        out = []
        for key, row in sorted(self._keys.items()):
            counts = self._counts[row]
            n = int(counts.sum())
            if n < min_documents:
                continue
            cum = np.cumsum(counts)
            median = (int(np.searchsorted(cum, (n + 1) / 2)) + 0.5) / BINS  # bin centre
            total, squares = self._sums[row]
            std = float(np.sqrt(max(squares / n - (total / n) ** 2, 0.0)))
            out.append(LanguageScoreStats(key, n, round(median, 4), round(std, 4), fineweb2_threshold(median, std)))
        return out
