"""Training of the block classifier (:mod:`block_classifier`) on pages with gold main text.

A block is labelled main text when its text (NFKC, lowercased, whitespace removed) occurs in the gold text and is
either at least 20 characters long or a whole gold line (a short block such as "Share" must match a gold line,
not just any substring of the gold). Each block is weighted by the log of its length. Stage 2 is fitted on
out-of-fold stage-1 probabilities (k folds over pages), so that it learns how much to trust stage 1 on pages
stage 1 has not seen.

The shipped stages are L2-regularised logistic regressions fitted with L-BFGS on standardised features; a block
is kept when its stage-2 probability is at least 0.5, the logistic model's own decision boundary: no threshold is
tuned (thresholds chosen on the training pages' out-of-fold scores did not carry over from the article pages to
the readability pages and back; see benchmarks/RESULTS.md). Experiments (benchmarks/extraction_block_variants.py)
train ``kind="trees"`` stages instead: gradient-boosted trees, LightGBM (Ke et al., NeurIPS 2017; the ``dev``
extra), 200 trees of at most 7 leaves, learning rate 0.05, at least 100 blocks per leaf, L2 1.0.

Deterministic (fixed folds, no random start, LightGBM's deterministic mode on one thread): the same pages give
the same file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from curate.extract.block_classifier import CONTEXT_NAMES, BlockClassifier, context, stage_of
from curate.extract.block_features import NAMES, BlockFeatures
from curate.extract.block_trees import flatten
from curate.extract.minimal_html_blocks import Blocks

_SPACE = re.compile(r"\s+")
MIN_CHARS = 20  # shorter blocks must match a whole gold line
FOLDS = 5
THRESHOLD = 0.5


def normalise(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).lower())


def label_blocks(texts: Sequence[str], gold: str) -> np.ndarray:
    """1.0 for the blocks that are main text by the rule of the module docstring, else 0.0."""
    whole = normalise(gold)
    lines = {normalise(line) for line in gold.splitlines()}
    out = np.zeros(len(texts))
    for i, text in enumerate(texts):
        n = normalise(text)
        out[i] = bool(n) and n in whole and (len(n) >= MIN_CHARS or n in lines)
    return out


@dataclass
class PageData:
    """One training page: its blocks, their features, labels and weights."""

    blocks: Blocks
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray


def page_data(blocks: Blocks, gold: str) -> PageData:
    x = BlockFeatures()(blocks)
    return PageData(blocks, x, label_blocks(blocks.texts, gold), x[:, NAMES.index("log_length")].copy())


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float = 1.0) -> dict[str, Any]:
    """Weighted L2 logistic regression (loss = sum w * log-loss / sum w + ||coef||^2 / (2 c n))."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    w = w / w.sum()
    lam = 1.0 / (2 * c * len(y))
    sign = 2 * y - 1

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        coef, b = theta[:-1], theta[-1]
        margin = sign * (z @ coef + b)
        value = float(w @ np.logaddexp(0, -margin) + lam * coef @ coef)
        g = -w * sign * (1 - 1 / (1 + np.exp(-np.clip(margin, -30, 30))))
        return value, np.concatenate([z.T @ g + 2 * lam * coef, [g.sum()]])

    res = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B",
                   options={"maxiter": 2000, "gtol": 1e-8})
    return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": res.x[:-1].tolist(),
            "intercept": float(res.x[-1])}


TREES = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.05, "n_estimators": 200,
         "min_child_samples": 100, "reg_lambda": 1.0, "deterministic": True, "force_row_wise": True, "n_jobs": 1,
         "random_state": 0, "verbose": -1}


def fit_trees(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float = 1.0) -> dict[str, Any]:
    """A tree ensemble stage (``c`` is the logistic stages' and unused here)."""
    # experiments only (the dev extra): the shipped model is logistic, and inference reads trees with numpy
    import lightgbm

    booster = lightgbm.LGBMClassifier(**TREES).fit(x, y, sample_weight=w).booster_
    return flatten(booster.dump_model())


FITS = {"logistic": fit_logistic, "trees": fit_trees}


def _folds(n: int, k: int) -> list[np.ndarray]:
    order = np.random.default_rng(0).permutation(n)
    return [order[i::k] for i in range(k)]


def _stack(pages: Sequence[PageData], extra: Sequence[np.ndarray] | None = None) -> tuple[np.ndarray, ...]:
    xs = [p.x if extra is None else np.hstack([p.x, e]) for p, e in zip(pages, extra or [None] * len(pages),
                                                                          strict=True)]
    return (np.vstack(xs), np.concatenate([p.y for p in pages]), np.concatenate([p.w for p in pages]))


def train_block_model(pages: Sequence[PageData], trained_on: str, c: float = 1.0, folds: int = FOLDS,
                      names: tuple[str, ...] = NAMES, kind: str = "logistic",
                      threshold: float = THRESHOLD) -> dict[str, Any]:
    """A block model (the JSON structure :class:`BlockClassifier` reads) trained on ``pages``, whose ``x`` columns
    are ``names``; ``kind``: ``logistic`` or ``trees``; ``threshold``: the keep threshold."""
    fit = FITS[kind]
    pages = [p for p in pages if len(p.y)]
    split = _folds(len(pages), folds)
    oof1: list[np.ndarray] = [np.zeros(0)] * len(pages)
    for held in split:
        out = set(held.tolist())
        train = [pages[i] for i in range(len(pages)) if i not in out]
        f = stage_of(fit(*_stack(train), c=c))
        for i in held:
            oof1[i] = f(pages[i].x)
    stage1 = fit(*_stack(pages), c=c)
    ctx = [context(p) for p in oof1]
    stage2 = fit(*_stack(pages, ctx), c=c)
    model = {"features": list(names), "context": list(CONTEXT_NAMES), "kind": kind, "stage1": stage1,
             "stage2": stage2, "threshold": threshold, "c": c, "folds": folds,
             "trained_on": trained_on, "training_pages": len(pages),
             "training_blocks": int(sum(len(p.y) for p in pages))}
    BlockClassifier(model, names)  # fails here, not at run time, if the structure does not fit
    return model


def out_of_fold(pages: Sequence[PageData], applied: Sequence[PageData], kind: str = "logistic",
                folds: int = FOLDS) -> list[np.ndarray]:
    """Each training page's keep probabilities from a model trained on the other folds' ``pages``, computed on
    its ``applied`` blocks (the same page's blocks as the engine makes them); pages without blocks get none."""
    split = _folds(len(pages), folds)
    out: list[np.ndarray] = [np.zeros(0)] * len(pages)
    for held in split:
        skip = set(held.tolist())
        model = BlockClassifier(train_block_model([pages[i] for i in range(len(pages)) if i not in skip],
                                                  trained_on="fold", folds=folds, kind=kind))
        for i in held:
            out[i] = model.probabilities(applied[i].x)
    return out
