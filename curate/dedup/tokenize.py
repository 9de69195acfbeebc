"""Word tokenizer hook for shingling.

FineWeb2 builds MinHash shingles from the *language's* word tokenizer (spaCy, Stanza, IndicNLP, Thai, ...;
the assignment in ``fineweb2/tokenizer_assignment.csv``), so languages written without spaces still get
word n-grams. Here the language table (``curate.langid``) names the tokenizer spec of a language and
``curate.tokenizers.get_word_tokenizer(spec)`` builds it; :func:`language_tokenizer` is the one place that
joins the two. When either module is missing or fails for a language, shingling falls back to whitespace.

Modes of the ``tokenizer`` setting:

- ``"language"`` (default, FineWeb2): the language's own tokenizer, e.g. spaCy ``en`` for ``eng_Latn``.
- ``"fast"``: the real segmenter only for scripts written without spaces (zh, ja, ko, th, km, lo, my, bo);
  whitespace otherwise. The normalised text has no punctuation left, so spaCy's rules differ from a plain
  split only at a few special cases ("cannot" -> "can not"), at ~10x less time per document.
- ``"whitespace"``: always split on whitespace.
- a picklable callable ``text -> list[str]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from curate.languages.table import load_language_table
from curate.tokenizers import get_word_tokenizer

Tokenize = Callable[[str], list[str]]

log = logging.getLogger(__name__)
# tokenizer specs (with their aliases) of scripts written without spaces: these always need the segmenter
SEGMENTED = frozenset(
    {"chinese", "japanese", "korean", "thai", "khmer", "lao", "burmese", "tibetan"}
    | {"jieba", "zh", "spacy:zh", "sudachi", "ja", "spacy:ja", "kiwi", "ko", "spacy:ko", "spacy:th", "th"}
    | {"pythainlp", "khmernltk", "km", "laonlp", "lo", "myanmar", "my", "botok", "bo"}
)
_CACHE: dict[tuple[str, bool], Tokenize] = {}  # (spec, fast) -> tokenizer, per worker process, built lazily


def whitespace_tokenize(text: str) -> list[str]:
    """Split on runs of whitespace (the text is already normalised: punctuation is gone)."""
    return text.split()


def tokenizer_spec(lang: str, languages: Any = None) -> str:
    """The tokenizer spec of ``lang`` in the language table (``languages`` or the shipped one)."""
    try:
        if languages is None:
            languages = load_language_table()
        return str(languages.get(lang).tokenizer or "whitespace")
    except Exception as exc:  # no table: dedup still works, with whitespace tokens
        log.warning("no language table entry for %s (%s): whitespace tokens", lang, exc)
        return "whitespace"


def _build(spec: str, fast: bool) -> Tokenize:
    if fast and spec.strip().lower() not in SEGMENTED:
        return whitespace_tokenize
    try:
        return get_word_tokenizer(spec).words
    except Exception as exc:  # an unusable tokenizer must not stop dedup
        log.warning("word tokenizer %s unavailable (%s): whitespace tokens", spec, exc)
        return whitespace_tokenize


def language_tokenizer(lang: str, languages: Any = None, fast: bool = False) -> Tokenize:
    """The word tokenizer of ``lang`` (any label form, e.g. ``tha_Thai`` or ``th``)."""
    spec = tokenizer_spec(lang, languages)
    tok = _CACHE.get((spec, fast))
    if tok is None:
        tok = _CACHE[(spec, fast)] = _build(spec, fast)
    return tok


def resolve_tokenizer(setting: str | Tokenize, lang: str, languages: Any = None) -> Tokenize:
    """Tokenizer for one language under a ``tokenizer`` setting (see the module docstring)."""
    if callable(setting):
        return setting
    if setting == "whitespace":
        return whitespace_tokenize
    if setting in ("language", "fast"):
        return language_tokenizer(lang, languages, fast=setting == "fast")
    raise ValueError(f"tokenizer must be 'language', 'fast', 'whitespace' or a callable, not {setting!r}")
