"""Errors of the model-based quality blocks and commands; every message says what to do next.

All derive from :class:`QualityError`; the ones about missing model files also derive from
:class:`curate.models.errors.ModelNotFoundError`, which the CLI already reports as a user error.
"""

from __future__ import annotations

from curate.errors import CurateError
from curate.models.errors import ModelNotFoundError
from curate.text.sources import TextSourceError


class QualityError(CurateError):
    """Base class: a user-fixable problem with a quality model, its settings or its training data."""


class QualityModelNotFoundError(QualityError, ModelNotFoundError, ValueError):
    """A configured quality model (fastText classifier, KenLM, SentencePiece) file does not exist.

    Also a ValueError, so that pipeline validation (which instantiates blocks) reports it with file and line.
    """


class QualityConfigError(QualityError, ValueError):
    """Block settings that cannot work together (no model configured, bad thresholds or cut-offs, ...)."""


class FastTextTrainingUnavailableError(QualityError, ImportError):
    """``import fasttext`` is the predict-only build (fasttext-predict), which cannot train."""


class PositiveLabelError(QualityError, ValueError):
    """The classifier has no label with the configured positive-label name."""


class TrainingDataError(QualityError, TextSourceError):
    """Training or reference files are missing, unreadable, or hold too few documents."""


class TrainingDivergedError(QualityError, RuntimeError):
    """fastText training hit NaN (learning rate too high for this data)."""


class KenLMUnavailableError(QualityError, ImportError):
    """A KenLM binary model was configured but the ``kenlm`` package is not installed."""


class SentencePieceUnavailableError(QualityError, ImportError):
    """A SentencePiece model was configured but the ``sentencepiece`` package is not installed."""
