"""Which ``language_score`` thresholds go with which language-ID model.

FineWeb2's thresholds (the language table's ``language_score``, ``fineweb2:configs/<key>.yml``) were fitted
on GlotLID's confidence scores. lid.176's scores are distributed differently, so curate ships a second set,
``lid176``, derived the way FineWeb2 derived its own (:mod:`curate.langid.score_calibration`:
``max(0.3, min(0.9, median - std))`` of the scores of the documents lid.176 assigns to each language), built
by ``scripts/build_lid176_scores.py`` into ``data/language_scores_lid176.json``; keys lid.176 assigned too few
documents to get the median of the derived thresholds (``default``).

The ``langid`` block's ``language_scores`` setting names the set: ``auto`` (the default) is ``lid176`` with the
packaged lid.176 and ``fineweb2`` with a ``model:`` of your own (GlotLID, FineWeb2's model). For another model,
``curate calibrate langid RUN_OUTPUT`` derives the thresholds from a run's ``lang_score`` values and prints them
as ``overrides:``. The pipeline runner applies the set of the pipeline's ``langid`` step
(:func:`language_overrides`) below the pipeline's own ``overrides:``, which always win.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from curate.languages.labels import lid176_labels, model_keys

SETS = ("fineweb2", "lid176")


@dataclass(frozen=True)
class ScoreSet:
    name: str
    scores: Mapping[str, float]  # key -> threshold
    default: float | None  # for keys without a threshold of their own; None = keep the table's
    source: str

    def threshold(self, key: str, table_value: float) -> float:
        value = self.scores.get(key, self.default)
        return table_value if value is None else value


@lru_cache(maxsize=4)
def load_score_set(name: str) -> ScoreSet:
    if name not in SETS:
        raise ValueError(f"unknown language_scores {name!r}; choose one of: auto, {', '.join(SETS)}")
    if name == "fineweb2":
        return ScoreSet(name, {}, None, "fineweb2:configs/<key>.yml (fitted on GlotLID scores)")
    data = json.loads((files("curate.langid") / "data" / f"language_scores_{name}.json").read_text(encoding="utf-8"))
    # every key lid.176 can emit gets a value: its own, else the set's default
    scores = {key: data["scores"].get(key, data["default"]) for key in model_keys(lid176_labels())}
    scores.update(data["scores"])
    return ScoreSet(name, scores, data["default"], data["source"])


def language_overrides(blocks: Iterable[Any], overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pipeline's ``overrides`` with the ``language_score`` of its langid model's set underneath.

    ``blocks`` are the pipeline's built steps; the first with a ``score_set()`` method (the ``langid`` block)
    decides. FineWeb2's set adds nothing (it is the table's own); a user's ``overrides`` win per field.
    """
    chooser = next((b for b in blocks if callable(getattr(b, "score_set", None))), None)
    out: dict[str, dict[str, Any]] = {}
    if chooser is not None:
        scores = load_score_set(chooser.score_set())
        out = {key: {"language_score": value} for key, value in sorted(scores.scores.items())}
    for key, values in overrides.items():
        out[key] = {**out.get(key, {}), **dict(values)}
    return out
