"""Errors of the model cache."""

from __future__ import annotations

from curate.errors import CurateError


class ModelUnavailableError(CurateError, FileNotFoundError):
    """A model file cannot be had: not on disk, not in the cache while offline, or its checksum is wrong."""


class ModelNotFoundError(ModelUnavailableError):
    """A configured model (language ID, a second opinion's package, a quality model) cannot be had."""
