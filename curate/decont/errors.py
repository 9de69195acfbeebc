"""Errors of decontamination that a user can act on (one line each, naming the file and what to do)."""

from __future__ import annotations

from curate.errors import CurateError


class EvalSetError(CurateError, ValueError):
    """An evaluation set that cannot be read: missing, unknown layout, no text fields."""


class DecontIndexError(CurateError, ValueError):
    """A decontamination index that cannot be used: missing, damaged, or built for another setting."""
