"""The word-tokenizer interface shared by every segmenter.

A tokenizer turns a document into the list of "words" the quality filters count. The contract
follows datatrove's ``WordTokenizer`` (huggingface/datatrove ``utils/word_tokenizers.py``), which
the FineWeb2 filters were calibrated with: every token is stripped of surrounding whitespace and
empty tokens are dropped, punctuation tokens are kept (they count as words).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable

# Terminal punctuation used by the fallback sentence splitter (Latin, CJK, Indic, Arabic, Ethiopic, ...).
_SENT_END = re.compile(r"(?<=[.!?。！？।॥؟۔።፧።\u104A\u104B\u0F0D\u17D4\u17D5])\s+|\n+")


def strip_tokens(tokens: Iterable[str]) -> list[str]:
    """Strip every token and drop the empty ones (datatrove's ``strip_strings``)."""
    out = []
    for tok in tokens:
        tok = tok.strip()
        if tok:
            out.append(tok)
    return out


class WordTokenizer(ABC):
    """Splits text into words (and sentences). Implementations load their model lazily."""

    spec: str = ""

    @abstractmethod
    def words(self, text: str) -> list[str]:
        """Words of ``text``: stripped, non-empty tokens, punctuation included."""

    def sentences(self, text: str) -> list[str]:
        """Sentences of ``text``; a regex on terminal punctuation unless the segmenter has its own."""
        return strip_tokens(_SENT_END.split(text))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # pickled by spec: the receiving process gets (or lazily builds) its own cached instance,
        # so bound methods like ``tok.words`` can be shipped to worker processes
        return (_by_spec, (self.spec,))


def _by_spec(spec: str) -> WordTokenizer:
    from curate.tokenizers import get_word_tokenizer

    return get_word_tokenizer(spec)
