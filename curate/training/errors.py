"""Errors of ``curate tokenize``: each names the file or setting and what to do."""

from __future__ import annotations

from curate.errors import CurateError


class TokenizeError(CurateError, RuntimeError):
    """The corpus, the destination or a setting does not allow tokenizing."""


class TokenizerLoadError(TokenizeError):
    """The tokenizer file cannot be had or is not a Hugging Face ``tokenizer.json``."""
