"""Word tokenizers for every language of the language table.

``get_word_tokenizer(spec)`` returns one cached, lazily loaded tokenizer per spec and process.
Specs are the ``tokenizer`` field of :class:`curate.languages.language_config.LanguageConfig`:

==============================  ===============================================================
spec                            tokenizer
==============================  ===============================================================
``spacy:<code>``                spaCy rule-based tokenizer of that language, memoised per chunk
                                (``spacy:zh`` -> chinese, ``spacy:ja`` -> japanese,
                                ``spacy:ko`` -> korean, ``spacy:th`` -> thai; ``spacy:vi`` uses
                                pyvi when installed, like spaCy)
``chinese`` / ``jieba``         jieba
``japanese`` / ``sudachi``      SudachiPy mode A
``korean`` / ``kiwi``           Kiwi
``thai``, ``khmer``, ``lao``    PyThaiNLP newmm-safe, khmer-nltk, LaoNLP
``burmese``, ``tibetan``        regex syllable segmenters (no offline dictionary exists)
``indicnlp:<code>``             IndicNLP trivial tokenizer (re-implemented, no dependency)
``stanza:<code>``               Stanza needs downloaded models, impossible offline: spaCy's class
                                for ``<code>`` when spaCy has one, else spaCy ``xx``
``whitespace`` / ``xx``         spaCy ``xx`` (multi-language rules), as datatrove's fallback
==============================  ===============================================================

The mapping mirrors datatrove's tokenizer assignment used by FineWeb2 so that the per-language
thresholds of FineWeb2 keep their meaning (they were computed on these token counts).
"""

from __future__ import annotations

import functools
import threading

from curate.tokenizers import segmenters as seg
from curate.tokenizers.base import WordTokenizer, strip_tokens
from curate.tokenizers.cache import cached_words, clear_word_cache
from curate.tokenizers.spacy_tokenizer import SpacyWordTokenizer, VietnameseTokenizer

__all__ = [
    "WordTokenizer",
    "cached_words",
    "clear_word_cache",
    "get_word_tokenizer",
    "normalize_spec",
    "reset_caches",
    "strip_tokens",
]

_ALIASES = {
    "jieba": "chinese",
    "zh": "chinese",
    "spacy:zh": "chinese",
    "sudachi": "japanese",
    "ja": "japanese",
    "spacy:ja": "japanese",
    "kiwi": "korean",
    "ko": "korean",
    "spacy:ko": "korean",
    "spacy:th": "thai",
    "pythainlp": "thai",
    "khmernltk": "khmer",
    "laonlp": "lao",
    "myanmar": "burmese",
    "botok": "tibetan",
    "whitespace": "spacy:xx",
    "xx": "spacy:xx",
    "": "spacy:xx",
}
_lock = threading.Lock()


@functools.cache
def _spacy_has(code: str) -> bool:
    try:
        # heavy (hundreds of ms): loaded only for languages whose tokenizer is spaCy
        from spacy.util import get_lang_class

        get_lang_class(code)
        return True
    except Exception:
        return False


def normalize_spec(spec: str | None) -> str:
    """Canonical spec: aliases resolved, Stanza mapped to its offline fallback."""
    spec = (spec or "").strip()
    low = spec.lower()
    if low in _ALIASES:
        return _ALIASES[low]
    kind, _, code = low.partition(":")
    if kind == "stanza":
        # Stanza downloads its models on first use; spaCy's rules for the language (or xx) instead
        return f"spacy:{code}" if code and _spacy_has(code) else "spacy:xx"
    if kind == "spacy":
        return _ALIASES.get(low, f"spacy:{code or 'xx'}")
    if kind in ("indicnlp", "indic"):
        return f"indicnlp:{code or 'hi'}"
    return low


_built: dict[str, WordTokenizer] = {}


def _build(spec: str) -> WordTokenizer:
    tok = _built.get(spec)
    if tok is None:
        tok = _built[spec] = _make(spec)
    return tok


def _make(spec: str) -> WordTokenizer:
    kind, _, code = spec.partition(":")
    simple: dict[str, type[WordTokenizer]] = {
        "chinese": seg.ChineseTokenizer,
        "japanese": seg.JapaneseTokenizer,
        "korean": seg.KoreanTokenizer,
        "thai": seg.ThaiTokenizer,
        "khmer": seg.KhmerTokenizer,
        "lao": seg.LaoTokenizer,
        "burmese": seg.BurmeseTokenizer,
        "tibetan": seg.TibetanTokenizer,
    }
    if spec in simple:
        return simple[spec]()
    if kind == "indicnlp":
        return seg.IndicTokenizer(code)
    if kind == "spacy":
        if not _spacy_has(code):
            code = "xx"
        if code == "vi":
            return VietnameseTokenizer(code)  # pyvi segments using context
        return SpacyWordTokenizer(code)
    raise ValueError(
        f"unknown word tokenizer {spec!r}; expected spacy:<code>, indicnlp:<code>, stanza:<code>, "
        "chinese, japanese, korean, thai, khmer, lao, burmese, tibetan or whitespace"
    )


def get_word_tokenizer(spec: str | None) -> WordTokenizer:
    """The process-wide tokenizer for ``spec`` (created on first use, models loaded lazily)."""
    with _lock:
        return _build(normalize_spec(spec))


def reset_caches() -> None:
    """Forget every memoised chunk and cached document (benchmarks, tests; models stay loaded)."""
    clear_word_cache()
    for tok in list(_built.values()):
        memo = getattr(tok, "_memo", None)
        if memo is not None:
            memo.clear()
