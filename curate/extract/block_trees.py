"""A gradient-boosted tree ensemble as flat numpy arrays: every block descends every tree at once.

The block model's stages as tree ensembles, tried for issue 24 (benchmarks/extraction_block_variants.py; the
shipped stages are logistic). They are trained with LightGBM (Ke et al., *LightGBM: A Highly Efficient Gradient
Boosting Decision Tree*, NeurIPS 2017) by :mod:`block_training`, which converts LightGBM's public
``Booster.dump_model()`` with :func:`flatten` into the model's JSON. Inference needs numpy alone: one vectorised
step per tree level, all trees and all blocks of a page together.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.errors import CurateError


class TreeModelError(CurateError, ValueError):
    """A tree ensemble this evaluator does not implement (train it with ``block_training.train_block_model``,
    ``kind="trees"``)."""


def flatten(dump: dict[str, Any]) -> dict[str, Any]:
    """LightGBM's ``dump_model()`` of a binary model on numeric features as flat node lists: a leaf is a node
    whose children are itself, so that every block can take ``depth`` steps in every tree."""
    if dump.get("objective", "").split(" ")[0] != "binary" or dump.get("num_tree_per_iteration") != 1:
        raise TreeModelError(f"only binary LightGBM models are supported, not {dump.get('objective')!r}")
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    roots: list[int] = []
    depth = 0

    def add(node: dict[str, Any], level: int) -> int:
        nonlocal depth
        at = len(feature)
        feature.append(0)
        threshold.append(0.0)
        left.append(at)
        right.append(at)
        value.append(0.0)
        if "leaf_value" in node:
            value[at] = float(node["leaf_value"])
            depth = max(depth, level)
            return at
        if node.get("decision_type") != "<=" or node.get("missing_type") not in ("None", None):
            raise TreeModelError(f"unsupported split {node.get('decision_type')!r}/{node.get('missing_type')!r}: "
                                 "the block features are numeric and never missing")
        feature[at] = int(node["split_feature"])
        threshold[at] = float(node["threshold"])
        left[at] = add(node["left_child"], level + 1)
        right[at] = add(node["right_child"], level + 1)
        return at

    for tree in dump["tree_info"]:
        roots.append(add(tree["tree_structure"], 0))
    return {"kind": "trees", "feature": feature, "threshold": threshold, "left": left, "right": right,
            "value": value, "roots": roots, "depth": depth}


class TreeStage:
    """``stage(x) -> probabilities``: sigmoid of the sum of the trees' leaf values, as LightGBM's binary model.

    Layout for speed (a few numpy operations per tree level, whatever the number of trees): the split nodes are
    numbered first, so one comparison per (block, split node) is made up front; a node ``j`` is carried as ``2j``,
    and ``step[2j + went_left]`` is the next node's ``2j``, so that a level is one addition and two lookups."""

    def __init__(self, spec: dict[str, Any]) -> None:
        left = np.asarray(spec["left"], dtype=np.intp)
        right = np.asarray(spec["right"], dtype=np.intp)
        n = len(left)
        split = left != np.arange(n)
        order = np.concatenate([np.flatnonzero(split), np.flatnonzero(~split)])
        renumbered = np.empty(n, dtype=np.intp)
        renumbered[order] = np.arange(n)
        self.splits = int(split.sum())
        self.leaves = n - self.splits
        self.feature = np.asarray(spec["feature"], dtype=np.intp)[order][:self.splits]
        self.threshold = np.asarray(spec["threshold"], dtype=np.float64)[order][:self.splits]
        self.step = np.empty(2 * n, dtype=np.intp)
        self.step[0::2] = 2 * renumbered[right[order]]
        self.step[1::2] = 2 * renumbered[left[order]]
        self.value = np.zeros(2 * n)
        self.value[0::2] = np.asarray(spec["value"], dtype=np.float64)[order]
        self.roots = 2 * renumbered[np.asarray(spec["roots"], dtype=np.intp)]
        self.depth = int(spec["depth"])

    def raw(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        went_left = np.zeros(2 * self.splits * n + 2 * self.leaves, dtype=np.uint8)
        # block b's answer at split j sits at 2 * (b * splits + j); a leaf reads some answer and goes to itself
        went_left[:2 * self.splits * n:2] = (x[:, self.feature] <= self.threshold).ravel()
        base = (2 * self.splits) * np.arange(n)
        node = np.repeat(self.roots[:, None], n, axis=1)  # trees x blocks, as 2j
        for _ in range(self.depth):
            node = self.step[node + went_left[node + base]]
        return self.value[node].sum(axis=0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.raw(x), -30, 30)))
