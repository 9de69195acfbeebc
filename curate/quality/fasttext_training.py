"""Train a per-language fastText quality classifier from positive and negative documents.

Defaults are DCLM's (Li et al. 2024; ``baselines/train_fasttext_classifier.py`` of mlfoundations/dclm:
``lr 0.1, dim 100, ws 5, epoch 5, minCount 1``; its released classifier is the bigram one,
``wordNgrams 2``; labels ``__label__hq`` / ``__label__cc``), fitted on ~200k documents per class.
On a few thousand documents those settings leave the model undertrained (held-out scores stay near
0.5); the report then says so, and ``epoch 25`` / ``lr 0.5`` (the fastText tutorial's small-data
settings) are the usual fix.

Reproducible: one thread (``thread=1``) and a fixed ``seed`` give a byte-identical model (fastText's
own RNG is seeded; with several threads the update order varies) -- but only in a fresh process:
with fasttext-numpy2-wheel 0.9.2, the third ``train_supervised`` call in one process already gives
a different model for the same input and seed, and later calls often stop with "Encountered NaN"
(state left over by earlier trainings). Training therefore always runs in a fresh interpreter
(:mod:`curate.quality.fasttext_train_child`). The split is stratified: a
``valid_fraction`` of each class is held out (seeded), and precision/recall/F1 of the positive class
at score >= 0.5, accuracy and ROC AUC are measured on it. The model is written to ``out`` and its
metadata (language, labels, segmentation, hyper-parameters, metrics) to ``out + ".json"``, which the
``fasttext_quality`` block reads to segment text the same way.

Languages written without spaces (Chinese, Japanese, Thai, Khmer, Lao, Burmese, Tibetan) are
word-segmented with the language's tokenizer first (``segment="auto"``): fastText splits on
whitespace only, so unsegmented text would give one "word" per sentence.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from curate.quality import fasttext_train_child as child
from curate.quality.errors import FastTextTrainingUnavailableError, TrainingDataError, TrainingDivergedError
from curate.quality.fasttext_build import installed_fasttext_distributions, require_training_build
from curate.quality.fasttext_quality import DEFAULT_LABEL, prepare_line, segmenter_for, sidecar_path
from curate.quality.perplexity_scorer import language_tokenizer_spec
from curate.tokenizers import normalize_spec

NEGATIVE_LABEL = "__label__cc"  # DCLM's label for the (random Common Crawl) negatives
# tokenizer specs of scripts written without spaces between words
UNSPACED = frozenset({"chinese", "japanese", "thai", "khmer", "lao", "burmese", "tibetan"})
DCLM_HYPERPARAMETERS: dict[str, Any] = {"lr": 0.1, "dim": 100, "ws": 5, "epoch": 5, "minCount": 1, "wordNgrams": 2}


def auto_segment(lang: str, languages: Any = None) -> str | None:
    """The tokenizer spec to pre-segment ``lang`` with, or None for languages written with spaces."""
    spec = normalize_spec(language_tokenizer_spec(languages, lang))
    return spec if spec in UNSPACED else None


@dataclass
class QualityTrainingResult:
    """What ``train_quality_classifier`` did and how well the model separates the held-out split."""

    model_path: str
    lang: str
    positive_label: str
    negative_label: str
    segment: str | None
    seed: int
    hyperparameters: dict[str, Any]
    train_counts: dict[str, int]
    heldout_counts: dict[str, int]
    precision: float
    recall: float
    f1: float
    accuracy: float
    auc: float
    heldout_score_std: float
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        """A short human-readable report."""
        lines = [
            f"model       {self.model_path} ({self.lang}, positive {self.positive_label}, "
            f"segment {self.segment or 'none'})",
            f"train       {self.train_counts['positive']} positive, {self.train_counts['negative']} negative; "
            f"seed {self.seed}; {self.seconds:.1f}s",
            f"held out    {self.heldout_counts['positive']} positive, {self.heldout_counts['negative']} negative",
            f"precision   {self.precision:.3f}   recall {self.recall:.3f}   F1 {self.f1:.3f}   "
            f"(positive class, score >= 0.5)",
            f"accuracy    {self.accuracy:.3f}   ROC AUC {self.auc:.3f}",
        ]
        lines += [f"warning     {w}" for w in self.warnings]
        return "\n".join(lines)


def _split(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    n_val = int(round(n * fraction)) if fraction > 0 else 0
    if fraction > 0:
        n_val = min(max(n_val, 1), n - 1)
    return order[n_val:], order[:n_val]


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); NaN with one class only."""
    # heavy import: only the training report's statistics need it
    from scipy.stats import rankdata

    pos = labels.astype(bool)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def heldout_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Precision, recall, F1 (positive class at ``score >= threshold``), accuracy and ROC AUC."""
    pred = scores >= threshold
    truth = labels.astype(bool)
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = float((pred == truth).mean()) if len(truth) else float("nan")
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy, "auc": roc_auc(scores, labels)}


def _train_in_fresh_process(train_path: str, model_path: str, params: dict[str, Any]) -> None:
    """``train_supervised`` on the file in a new interpreter; the model is saved to ``model_path``."""
    proc = subprocess.run(
        [sys.executable, "-m", "curate.quality.fasttext_train_child", train_path, model_path, json.dumps(params)],
        capture_output=True, text=True, check=False,
    )
    message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit status {proc.returncode}"
    if proc.returncode == child.EXIT_DIVERGED:
        raise TrainingDivergedError(
            f"fastText training diverged ({message}) with lr={params['lr']}; lower --lr (e.g. halve it)")
    if proc.returncode == child.EXIT_NO_TRAINING_BUILD:
        raise FastTextTrainingUnavailableError(proc.stderr.strip())
    if proc.returncode != 0 or not os.path.exists(model_path):
        raise RuntimeError(f"fastText training failed: {proc.stderr.strip() or message}")


def train_quality_classifier(
    positive: list[str],
    negative: list[str],
    out: str,
    lang: str,
    seed: int = 1,
    valid_fraction: float = 0.1,
    label: str = DEFAULT_LABEL,
    negative_label: str = NEGATIVE_LABEL,
    segment: str = "auto",
    languages: Any = None,
    threads: int = 1,
    **hyperparameters: Any,
) -> QualityTrainingResult:
    """Train, evaluate on a stratified held-out split, save ``out`` (+ ``out.json``) and report.

    ``hyperparameters`` are fastText ``train_supervised`` arguments (``lr``, ``epoch``, ``dim``,
    ``wordNgrams``, ``minCount``, ``ws``, ``bucket``, ``loss``, ...) over DCLM's defaults.
    ``segment``: ``auto`` (segment languages written without spaces), ``none``, or a tokenizer spec.
    """
    require_training_build()
    started = time.time()
    if len(positive) < 2 or len(negative) < 2:
        raise TrainingDataError(
            f"need at least 2 positive and 2 negative documents; got {len(positive)} positive, {len(negative)} "
            "negative (check the files and --text-field / --lang)")
    if not 0.0 <= valid_fraction < 1.0:
        raise TrainingDataError(f"valid_fraction must be in [0, 1); got {valid_fraction}")
    for name in (label, negative_label):
        if not name.startswith("__label__") or any(c.isspace() for c in name):
            raise TrainingDataError(f"label {name!r} must start with __label__ and contain no whitespace")
    seg_spec = auto_segment(lang, languages) if segment == "auto" else (None if segment == "none" else segment)
    segmenter = segmenter_for(seg_spec)

    rng = np.random.default_rng(seed)
    pos_train, pos_val = _split(len(positive), valid_fraction, rng)
    neg_train, neg_val = _split(len(negative), valid_fraction, rng)
    train = [(label, positive[i]) for i in pos_train] + [(negative_label, negative[i]) for i in neg_train]
    train = [train[i] for i in rng.permutation(len(train))]
    heldout = [(1, positive[i]) for i in pos_val] + [(0, negative[i]) for i in neg_val]

    params = {**DCLM_HYPERPARAMETERS, **hyperparameters, "thread": int(threads), "seed": int(seed), "verbose": 0}
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fd, train_path = tempfile.mkstemp(prefix=".train-quality-", suffix=".txt", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for lab, text in train:
                fh.write(f"{lab} {prepare_line(text, segmenter)}\n")
        tmp_model = out + f".tmp{os.getpid()}"
        _train_in_fresh_process(train_path, tmp_model, params)
        os.replace(tmp_model, out)
    finally:
        os.unlink(train_path)

    # native module: loaded only where a fastText model is used
    import fasttext

    f = fasttext.load_model(out).f
    scores = np.empty(len(heldout), dtype=np.float64)
    for i, (_, text) in enumerate(heldout):
        preds = f.predict(prepare_line(text, segmenter) + "\n", -1, 0.0, "replace")
        scores[i] = min(next((float(p) for p, lab in preds if lab == label), 0.0), 1.0)
    truth = np.array([y for y, _ in heldout], dtype=np.int8)
    metrics = heldout_metrics(scores, truth) if len(heldout) else {k: math.nan for k in
                                                                    ("precision", "recall", "f1", "accuracy", "auc")}
    std = float(scores.std()) if len(scores) else math.nan
    warnings: list[str] = []
    if len(heldout) and std < 0.05:
        warnings.append(
            f"held-out scores hardly move away from 0.5 (std {std:.3f}): the model is undertrained for "
            f"{len(train)} documents; raise --epoch (e.g. 25) and/or --lr (e.g. 0.5)")
    if len(heldout) and min(len(pos_val), len(neg_val)) < 20:
        warnings.append(f"only {len(pos_val)} + {len(neg_val)} held-out documents: the metrics are noisy")
    result = QualityTrainingResult(
        model_path=out, lang=lang, positive_label=label, negative_label=negative_label, segment=seg_spec,
        seed=int(seed), hyperparameters={k: v for k, v in params.items() if k != "verbose"},
        train_counts={"positive": len(pos_train), "negative": len(neg_train)},
        heldout_counts={"positive": len(pos_val), "negative": len(neg_val)},
        precision=metrics["precision"], recall=metrics["recall"], f1=metrics["f1"],
        accuracy=metrics["accuracy"], auc=metrics["auc"], heldout_score_std=std,
        seconds=time.time() - started, warnings=warnings,
    )
    meta = {"format": "curate.fasttext_quality/1", **result.to_dict(),
            "fasttext": installed_fasttext_distributions(), "valid_fraction": valid_fraction}
    with open(sidecar_path(out), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
    return result
