"""spaCy rule-based tokenization, memoised per whitespace-delimited chunk.

FineWeb2 (via datatrove's ``SpaCyTokenizer``) counts words with ``spacy.blank(lang)``. spaCy's
tokenizer splits the text on whitespace first and then tokenizes every non-space chunk on its
own (prefixes, suffixes, infixes, special cases; ``spacy/tokenizer.pyx::_tokenize_affixes``), so
the tokens of a chunk do not depend on its neighbours. We therefore run spaCy once per distinct
chunk, keep the result in a per-process memo and assemble documents from it: same tokens as
calling spaCy on the whole text, 10-40x faster on warm chunks (no ``Doc``/``Token`` objects).
New chunks that contain none of the characters able to trigger the language's affix rules
(``curate.tokenizers._affix``; about 70% of new chunks in most languages) and are no special
case are single tokens and skip spaCy altogether; spaCy's lexical attributes (``like_num``,
shape, ...) are switched off, they do not influence tokenization.

Two spaCy behaviours cross chunk boundaries and are handled explicitly:

* special cases that contain a space (``"и др."`` in Russian/Bulgarian, ``"EE. UU."`` in
  Spanish, 514 Scottish Gaelic phrases): spaCy merges their tokens after tokenizing the chunks.
  When a document's words contain every token of such a phrase (``и``, ``др``, ``.``), the
  document is tokenized by spaCy as a whole (exact, just slower; set lookups decide, no regex scan);
* affix-split special cases re-merged by spaCy's phrase matcher across a single space
  (``"Jan ."`` -> ``"Jan."``): not reproduced; it needs a space before a period after an
  abbreviation and changes the word count by one.
"""

from __future__ import annotations

import threading
from itertools import chain
from typing import Any

from curate.tokenizers._affix import spacy_trigger_chars
from curate.tokenizers.base import WordTokenizer, strip_tokens

# Memo bound per language: past it the memo is cleared (web text is Zipfian, it refills fast).
MAX_MEMO_CHUNKS = 1_000_000
# spaCy refuses texts longer than nlp.max_length; we raise it per call like datatrove does.
_FILL_BATCH_CHARS = 200_000


def _load_spacy(lang: str, config: dict[str, Any] | None = None) -> Any:
    # heavy (hundreds of ms): loaded only for languages whose tokenizer is spaCy
    import spacy

    try:
        return spacy.blank(lang, config=config or {})
    except ImportError:
        # e.g. Vietnamese without pyvi: fall back to spaCy's whitespace mode for that language
        if lang == "vi":
            return spacy.blank("vi", config={"nlp": {"tokenizer": {"use_pyvi": False}}})
        raise


def _multi_chunk_anchors(nlp: Any) -> dict[str, list[frozenset[str]]] | None:
    """For every special case containing a space, the tokens spaCy's phrase matcher looks for (the
    phrase tokenized by the affix rules alone), indexed by the longest one: a document whose words
    do not contain all tokens of some phrase cannot be changed by that phrase."""
    specials = [s for s in (nlp.Defaults.tokenizer_exceptions or {}) if not s.isspace() and
                any(c.isspace() for c in s)]
    if not specials:
        return None
    # heavy (hundreds of ms): loaded only for languages whose tokenizer is spaCy
    from spacy.tokenizer import Tokenizer

    tok = nlp.tokenizer
    plain = Tokenizer(nlp.vocab, rules={}, prefix_search=tok.prefix_search, suffix_search=tok.suffix_search,
                      infix_finditer=tok.infix_finditer, token_match=tok.token_match, url_match=tok.url_match)
    anchors: dict[str, list[frozenset[str]]] = {}
    with nlp.memory_zone():
        for special in specials:
            parts = frozenset(t.text for t in plain(special) if not t.is_space)
            anchors.setdefault(max(parts, key=len), []).append(parts)
    return anchors


class SpacyWordTokenizer(WordTokenizer):
    """``spacy.blank(lang)`` tokens (rule-based languages), memoised per whitespace chunk."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.spec = f"spacy:{lang}"
        self._nlp: Any = None
        self._sent_nlp: Any = None
        self._memo: dict[str, tuple[str, ...]] = {}
        self._anchors: dict[str, list[frozenset[str]]] | None = None  # multi-chunk special cases
        self._triggers: frozenset[str] | None = None  # None: every new chunk goes to spaCy
        self._rules: Any = {}
        self._lock = threading.Lock()

    @property
    def nlp(self) -> Any:
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    nlp = _load_spacy(self.lang)
                    nlp.vocab.lex_attr_getters = {}  # unused attributes, half of spaCy's cost
                    tok = nlp.tokenizer
                    if hasattr(tok, "rules") and hasattr(tok, "prefix_search"):
                        self._triggers = spacy_trigger_chars(tok)
                        self._rules = tok.rules
                    self._anchors = _multi_chunk_anchors(nlp)
                    self._nlp = nlp
        return self._nlp

    def _spacy_words(self, text: str) -> list[str]:
        nlp = self.nlp
        nlp.max_length = len(text) + 10
        with nlp.memory_zone():
            return strip_tokens([t.text for t in nlp.tokenizer(text)])

    def _fill(self, missing: list[str]) -> None:
        """Tokenize unseen chunks in one spaCy call; a newline between chunks keeps them apart
        (a whitespace token blocks spaCy's cross-token special-case matcher)."""
        nlp = self.nlp
        memo = self._memo
        if len(memo) + len(missing) > MAX_MEMO_CHUNKS:
            memo.clear()
        triggers, rules = self._triggers, self._rules
        if triggers is not None:
            rest = []
            for chunk in missing:
                if triggers.isdisjoint(chunk) and chunk not in rules:
                    memo[chunk] = (chunk,)  # no affix rule can fire: one token
                else:
                    rest.append(chunk)
            missing = rest
        start = 0
        while start < len(missing):
            # bound the joined text so a huge document does not build one giant Doc
            end, size = start, 0
            while end < len(missing) and (size < _FILL_BATCH_CHARS or end == start):
                size += len(missing[end]) + 1
                end += 1
            batch = missing[start:end]
            joined = "\n".join(batch)
            nlp.max_length = len(joined) + 10
            bounds = []
            pos = 0
            for chunk in batch:
                pos += len(chunk) + 1
                bounds.append(pos)  # first offset past this chunk (and its separator)
            per_chunk: list[list[str]] = [[] for _ in batch]
            with nlp.memory_zone():
                i = 0
                for tok in nlp.tokenizer(joined):
                    idx = tok.idx
                    while idx >= bounds[i]:
                        i += 1
                    text = tok.text
                    if not text.isspace():
                        per_chunk[i].append(text.strip())
            for chunk, toks in zip(batch, per_chunk, strict=True):
                memo[chunk] = tuple(toks)
            start = end

    def words(self, text: str) -> list[str]:
        if not text:
            return []
        if self._nlp is None:
            self.nlp  # noqa: B018 - loads the model, the affix analysis and the anchors
        chunks = text.split()
        memo = self._memo
        missing = [c for c in dict.fromkeys(chunks) if c not in memo]
        if missing:
            with self._lock:
                self._fill(missing)
        try:
            words = list(chain.from_iterable(map(memo.__getitem__, chunks)))
        except KeyError:  # memo was cleared while filling a very large document
            return self._spacy_words(text)
        if self._anchors and not self._anchors.keys().isdisjoint(words):
            present = set(words)
            for anchor in self._anchors.keys() & present:
                if any(parts <= present for parts in self._anchors[anchor]):
                    # a phrase special case may span chunks: spaCy decides, on the whole text
                    return self._spacy_words(text)
        return words

    def sentences(self, text: str) -> list[str]:
        # spaCy's rule-based sentencizer, as datatrove's SpaCyTokenizer.sent_tokenize
        if self._sent_nlp is None:
            nlp = _load_spacy(self.lang)
            nlp.add_pipe("sentencizer")
            self._sent_nlp = nlp
        nlp = self._sent_nlp
        nlp.max_length = len(text) + 10
        with nlp.memory_zone():
            return strip_tokens([s.text for s in nlp(text).sents])


class VietnameseTokenizer(SpacyWordTokenizer):
    """spaCy ``vi``: pyvi's CRF joins syllables into words using context, so no per-chunk memo.

    We call the tokenizer's ``pyvi_tokenize`` directly (the words spaCy would put in its ``Doc``,
    without building it); without pyvi installed, spaCy ``vi`` splits on whitespace, and so do we.
    """

    def words(self, text: str) -> list[str]:
        if not text:
            return []
        tok = self.nlp.tokenizer
        if getattr(tok, "use_pyvi", False):
            return strip_tokens(tok.pyvi_tokenize(text))
        return text.split()
