"""The root of every error a user can act on.

Each subclass's message names the file, record, key or node involved and says what to do; the CLI
prints a :class:`CurateError` as one line, without a traceback. Subclasses keep a second, built-in
base (``ValueError``, ``FileNotFoundError``, ...) where callers already catch that.
"""

from __future__ import annotations


class CurateError(Exception):
    """Base of curate's actionable errors."""
