"""Tokenize each document once per process, whichever filters ask for its words.

FineWeb2 runs three word-based filters in a row (gopher_repetition, fineweb_quality,
gopher_quality) on the same documents. They run as separate blocks over the same batch, so the
words (and per-document statistics derived from them) are kept in a small FIFO cache keyed by
(tokenizer spec, text): the second and third filter find them there. Python caches a str's hash,
and equal keys are compared with memcmp, so a lookup costs a few microseconds per document.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from curate.tokenizers.base import WordTokenizer

# Bounds: enough for a few batches of documents between the first and the last word filter.
MAX_DOCS = 8192
MAX_CHARS = 256 * 1024 * 1024


@dataclass
class TokenizedDoc:
    """Words of one document plus lazily computed, filter-shared statistics (``extra``)."""

    words: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


_cache: dict[tuple[str, str], TokenizedDoc] = {}
_chars = 0
_lock = threading.Lock()


def tokenized(tokenizer: WordTokenizer, text: str) -> TokenizedDoc:
    """The cached :class:`TokenizedDoc` of ``text`` under ``tokenizer`` (tokenizing on a miss)."""
    global _chars
    key = (tokenizer.spec, text)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    doc = TokenizedDoc(tokenizer.words(text))
    with _lock:
        if len(_cache) >= MAX_DOCS or _chars + len(text) > MAX_CHARS:
            # FIFO eviction of the oldest half: batches flow through the filters in order
            for old in list(_cache)[: len(_cache) // 2 + 1]:
                _chars -= len(old[1])
                del _cache[old]
        if key not in _cache:
            _cache[key] = doc
            _chars += len(text)
    return doc


def cached_words(tokenizer: WordTokenizer, text: str) -> list[str]:
    """``tokenizer.words(text)``, computed once per process for recently seen documents."""
    return tokenized(tokenizer, text).words


def clear_word_cache() -> None:
    global _chars
    with _lock:
        _cache.clear()
        _chars = 0
