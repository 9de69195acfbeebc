"""``python -m curate.quality.fasttext_train_child TRAIN_FILE MODEL_OUT PARAMS_JSON``: one fastText training.

Run by :func:`curate.quality.fasttext_training.train_quality_classifier` in a fresh interpreter:
fastText (fasttext-numpy2-wheel 0.9.2) keeps state between ``train_supervised`` calls of one
process, so only a fresh process gives the same model for the same data and seed. A fresh
interpreter (not ``multiprocessing``) also keeps the caller's ``__main__`` from being re-imported.
Exit status: 0 trained, 3 training diverged (NaN), 2 the full fastText build is missing.
"""

from __future__ import annotations

import json
import sys

from curate.quality.errors import FastTextTrainingUnavailableError
from curate.quality.fasttext_build import require_training_build

EXIT_DIVERGED = 3
EXIT_NO_TRAINING_BUILD = 2


def main(argv: list[str] | None = None) -> int:
    train_path, model_path, params_json = (argv if argv is not None else sys.argv[1:])[:3]
    try:
        fasttext = require_training_build()
    except FastTextTrainingUnavailableError as exc:
        print(exc, file=sys.stderr)
        return EXIT_NO_TRAINING_BUILD
    try:
        model = fasttext.train_supervised(input=train_path, **json.loads(params_json))
    except RuntimeError as exc:
        if "nan" in str(exc).lower():
            print(exc, file=sys.stderr)
            return EXIT_DIVERGED
        raise
    model.save_model(model_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
