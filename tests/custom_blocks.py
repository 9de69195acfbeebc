"""User-style blocks, plugged into pipelines by import path in the tests."""

from __future__ import annotations

import curate


@curate.document_filter
def min_words(text: str, lang: str, minimum: int = 50) -> bool | str:
    """Keep documents with at least ``minimum`` whitespace words."""
    return len(text.split()) >= minimum or f"under_{minimum}_words"
