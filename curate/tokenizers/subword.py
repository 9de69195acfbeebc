"""Load a Hugging Face subword tokenizer (``tokenizer.json``) once per worker: token counts for the output
statistics and the rehydration budget."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import fsspec


@lru_cache(maxsize=4)
def load_tokenizer(path: str) -> Any:
    """A Hugging Face ``tokenizers.Tokenizer`` from a tokenizer.json, loaded once per worker process."""
    try:  # the Hugging Face `tokenizers` package is optional (budget.tokenizer / the token counts only)
        from tokenizers import Tokenizer
    except ImportError as exc:  # the Budget model checks this up front; a worker may still lack it
        raise RuntimeError("budget.tokenizer needs the `tokenizers` package on every worker") from exc
    with fsspec.open(path, "r", encoding="utf-8") as handle:
        return Tokenizer.from_str(handle.read())
