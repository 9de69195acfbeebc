"""Per-language perplexity cut-offs for the head/middle/tail buckets of ``kenlm_perplexity``.

CCNet (Wenzek et al. 2019, Sec. 3.3) computes, per language, percentiles of the perplexities of that
language's crawled documents and cuts head / middle / tail there; cc_net's ``PerplexityBucket``
reads the 30th and 60th percentiles from its ``cutoff.csv``. ``curate calibrate-perplexity`` does
the same from reference documents: give it a sample of your crawl's documents in that language (not
the text the model was trained on), scored with the same model, tokenisation and settings as the
pipeline's ``kenlm_perplexity`` block.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from curate.quality.errors import TrainingDataError
from curate.quality.perplexity_scorer import PerplexityScorer

CCNET_PERCENTILES = (30.0, 60.0)  # cc_net perplexity.PerplexityBucket(percentile_head=30, percentile_tail=60)


def perplexity_cutoffs(
    scorer: PerplexityScorer, documents: Iterable[str], percentiles: Sequence[float] = CCNET_PERCENTILES
) -> dict[str, Any]:
    """``{"cutoffs": [...], "documents": n, "skipped": n, "quantiles": {...}}`` of the documents' perplexities."""
    if len(percentiles) != 2 or not 0 < percentiles[0] < percentiles[1] < 100:
        raise TrainingDataError(f"need two ascending percentiles in (0, 100), e.g. 30 60; got {list(percentiles)}")
    values: list[float] = []
    skipped = 0
    for doc in documents:
        ppl = scorer.perplexity(doc)
        if ppl is None or not math.isfinite(ppl):
            skipped += 1
            continue
        values.append(ppl)
    if len(values) < 10:
        raise TrainingDataError(
            f"only {len(values)} reference documents could be scored ({skipped} empty after normalisation); "
            "percentiles need many more (hundreds at least)")
    arr = np.asarray(values)
    cut = [float(np.percentile(arr, p)) for p in percentiles]
    quantiles = {f"p{q}": float(np.percentile(arr, q)) for q in (0, 10, 25, 50, 75, 90, 100)}
    return {"cutoffs": cut, "percentiles": [float(p) for p in percentiles], "documents": len(values),
            "skipped": skipped, "quantiles": quantiles}


def format_cutoffs(lang: str, result: dict[str, Any], model: str, settings: dict[str, str] | None = None) -> str:
    """A commented YAML fragment to paste into the pipeline's ``kenlm_perplexity`` step; ``settings``
    are the non-default scoring settings used (they must be the block's too)."""
    p1, p2 = (f"{p:g}" for p in result["percentiles"])
    c1, c2 = (f"{c:.1f}" for c in result["cutoffs"])
    q = result["quantiles"]
    return "\n".join([
        f"# {result['documents']} reference documents of {lang} scored with {model}"
        + (f" ({result['skipped']} empty, skipped)" if result["skipped"] else ""),
        "# perplexity min / p10 / p50 / p90 / max: "
        + " / ".join(f"{q[k]:.1f}" for k in ("p0", "p10", "p50", "p90", "p100")),
        f"# head < p{p1} = {c1} <= middle < p{p2} = {c2} <= tail",
        "- kenlm_perplexity:",
        "    models:",
        f"      {lang}: {model}",
        *[f"    {k}: {v}" for k, v in (settings or {}).items()],
        "    cutoffs:",
        f"      {lang}: [{c1}, {c2}]",
    ])
