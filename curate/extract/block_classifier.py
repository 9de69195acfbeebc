"""Main text or boilerplate, per block: two stacked models over :mod:`block_features`.

Stage 1 scores each block from its own and its neighbours' shallow features. Stage 2 sees the same features plus
the stage-1 probabilities of the blocks around it (three on each side, the highest before and after, the page
mean): boilerplate comes in runs and main text is contiguous, which a block-by-block model cannot see (the
stacking replaces the hand-set context rule of jusText). The shipped stages are logistic regressions; experiments
train gradient-boosted tree ensembles instead (:mod:`block_trees`). Inference is a few numpy operations per page;
the model is a small JSON file in the package, trained by ``scripts/train_extraction_model.py``
(:mod:`curate.extract.block_training`), which records in the file which gold pages it was trained on.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from curate.errors import CurateError
from curate.extract.block_features import NAMES
from curate.extract.block_trees import TreeStage

CONTEXT_NAMES: tuple[str, ...] = ("p_prev3", "p_prev2", "p_prev1", "p_next1", "p_next2", "p_next3",
                                  "p_max_before", "p_max_after", "p_self", "p_page_mean")
MODEL_FILE = "block_model.json"


class BlockModelError(CurateError, ValueError):
    """The block model file does not fit this version of the block features."""


def context(p: np.ndarray) -> np.ndarray:
    """Stage-2 inputs from the stage-1 probabilities of a page's blocks, in reading order."""
    n = len(p)
    padded = np.concatenate([np.zeros(3), p, np.zeros(3)])
    shifted = [padded[3 + k:3 + k + n] for k in (-3, -2, -1, 1, 2, 3)]
    return np.column_stack([*shifted, np.maximum.accumulate(p), np.maximum.accumulate(p[::-1])[::-1], p,
                            np.full(n, p.mean())])


class LogisticStage:
    """One logistic regression on standardised inputs, as the model file stores it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.mean = np.asarray(spec["mean"], dtype=np.float64)
        self.scale = np.asarray(spec["scale"], dtype=np.float64)
        self.coef = np.asarray(spec["coef"], dtype=np.float64)
        self.intercept = float(spec["intercept"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


Stage = LogisticStage | TreeStage


def stage_of(spec: dict[str, Any]) -> Stage:
    """The stage a model file describes: ``"kind": "trees"`` or a logistic regression."""
    return TreeStage(spec) if spec.get("kind") == "trees" else LogisticStage(spec)


class BlockClassifier:
    """``keep(features)``: a boolean mask of the blocks that are main text. ``names``: the feature columns the
    model must have been trained on (:data:`block_features.NAMES`; an experiment with more columns names them)."""

    def __init__(self, model: dict[str, Any], names: tuple[str, ...] = NAMES) -> None:
        if tuple(model.get("features", ())) != names or tuple(model.get("context", ())) != CONTEXT_NAMES:
            raise BlockModelError(
                "the block model was trained on other features than curate.extract.block_features computes; "
                "retrain it with scripts/train_extraction_model.py")
        self.stage1 = stage_of(model["stage1"])
        self.stage2 = stage_of(model["stage2"])
        self.threshold = float(model["threshold"])
        self.model = model

    @classmethod
    def from_json(cls, text: str) -> BlockClassifier:
        return cls(json.loads(text))

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        p1 = self.stage1(x)
        return self.stage2(np.hstack([x, context(p1)]))

    def keep(self, x: np.ndarray) -> np.ndarray:
        return self.probabilities(x) >= self.threshold


@cache
def shipped_classifier() -> BlockClassifier:
    """The model shipped in ``curate/extract/data``."""
    return BlockClassifier.from_json(files("curate.extract").joinpath("data", MODEL_FILE).read_text("utf-8"))
