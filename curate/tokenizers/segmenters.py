"""Word segmenters for scripts written without spaces, all offline (no download at run time).

Each wraps the same library and call as datatrove's tokenizer for that language
(huggingface/datatrove ``utils/word_tokenizers.py``), so FineWeb2's per-language thresholds
keep their meaning. Models load lazily, once per process.

=========  ===============================================  ==========================================
spec       library / call                                   note
=========  ===============================================  ==========================================
chinese    ``jieba.cut(text)`` (HMM on)                     = spaCy ``zh`` with the jieba segmenter
japanese   SudachiPy, split mode A, ``sudachidict_core``    = spaCy ``ja``; text cut into <40 kB pieces
korean     ``kiwipiepy.Kiwi().tokenize`` (surface spans)    sbg model when installed, else default
thai       ``pythainlp.word_tokenize(engine="newmm-safe")``
khmer      ``khmernltk.word_tokenize``
lao        ``laonlp.word_tokenize``
burmese    syllable segmentation by regex (this module)     datatrove uses pyidaungsu's CRF words;
                                                            pyidaungsu-numpy2 pulls
                                                            fasttext-numpy2-wheel, whose `fasttext`
                                                            module collides with fasttext-predict's
tibetan    syllables split on tsheg/shad (this module)      botok downloads its dictionary at first
                                                            use, which cannot work offline
indicnlp   IndicNLP ``trivial_tokenize`` re-implemented     punctuation split, numbers kept whole
=========  ===============================================  ==========================================
"""

from __future__ import annotations

import logging
import re
import string
import threading
import warnings
from typing import Any

from curate.tokenizers.base import WordTokenizer, strip_tokens

_load_lock = threading.Lock()


class ChineseTokenizer(WordTokenizer):
    """jieba, precise mode with HMM (what spaCy's Chinese class runs with ``segmenter: jieba``)."""

    spec = "chinese"

    def __init__(self) -> None:
        self._jieba: Any = None

    @property
    def jieba(self) -> Any:
        if self._jieba is None:
            with _load_lock:
                # word segmenter with a large dictionary: loaded only for Chinese
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                self._jieba = jieba
        return self._jieba

    def words(self, text: str) -> list[str]:
        if not text:
            return []
        return strip_tokens(self.jieba.cut(text, cut_all=False))


def _cut_utf8(text: str, max_bytes: int) -> list[str]:
    """Cut text into pieces of at most ``max_bytes`` UTF-8 bytes, preferring line breaks."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    pieces: list[str] = []
    start = 0
    while start < len(text):
        # a character is at most 4 bytes, so max_bytes // 4 characters always fit
        end = min(len(text), start + max_bytes // 4)
        while end < len(text) and len(text[start:end + 1].encode("utf-8")) <= max_bytes:
            end = min(len(text), end + max(1, (max_bytes - len(text[start:end].encode("utf-8"))) // 4))
        if end < len(text):
            nl = text.rfind("\n", start, end)
            if nl > start:
                end = nl + 1
        pieces.append(text[start:end])
        start = end
    return pieces


class JapaneseTokenizer(WordTokenizer):
    """SudachiPy split mode A with the core dictionary (spaCy ``ja``'s default mode)."""

    spec = "japanese"
    max_bytes = 40_000  # Sudachi rejects inputs near 49 kB; datatrove cuts at 40 kB too

    def __init__(self) -> None:
        self._tok: Any = None
        self._mode: Any = None

    def _load(self) -> None:
        with _load_lock:
            if self._tok is None:
                # word segmenter with a large dictionary: loaded only for Japanese
                from sudachipy import Dictionary, SplitMode

                self._mode = SplitMode.A
                dic = Dictionary(dict="core")
                # Dictionary.create() is deprecated since SudachiPy 0.6.9; same tokenizer
                make = getattr(dic, "tokenizer", None) or dic.create
                self._tok = make(mode=self._mode)

    def words(self, text: str) -> list[str]:
        if not text:
            return []
        if self._tok is None:
            self._load()
        out: list[str] = []
        for piece in _cut_utf8(text, self.max_bytes):
            out.extend(m.surface() for m in self._tok.tokenize(piece))
        return strip_tokens(out)


class KoreanTokenizer(WordTokenizer):
    """Kiwi morphemes as surface spans of the text (datatrove's ``KiwiTokenizer``)."""

    spec = "korean"
    # Kiwi misbehaves on very long digit/comma runs; datatrove deletes them first, so do we
    _long_numbers = re.compile("[0-9,]{20,}")

    def __init__(self) -> None:
        self._kiwi: Any = None

    @property
    def kiwi(self) -> Any:
        if self._kiwi is None:
            with _load_lock:
                # word segmenter with a large model: loaded only for Korean
                from kiwipiepy import Kiwi

                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        self._kiwi = Kiwi(model_type="sbg")  # datatrove's choice
                except Exception:  # sbg left kiwipiepy_model's default files in 0.22
                    self._kiwi = Kiwi()
        return self._kiwi

    def words(self, text: str) -> list[str]:
        if not text:
            return []
        text = self._long_numbers.sub("", text)
        return strip_tokens(text[t.start:t.end] for t in self.kiwi.tokenize(text))

    def sentences(self, text: str) -> list[str]:
        text = self._long_numbers.sub("", text)
        return strip_tokens(s.text for s in self.kiwi.split_into_sents(text))


class ThaiTokenizer(WordTokenizer):
    """PyThaiNLP ``newmm-safe`` (dictionary maximal matching on Thai character clusters)."""

    spec = "thai"

    def words(self, text: str) -> list[str]:
        # heavy word segmenter: loaded only for Thai
        from pythainlp.tokenize import word_tokenize

        return strip_tokens(word_tokenize(text, engine="newmm-safe", keep_whitespace=False))

    def sentences(self, text: str) -> list[str]:
        # heavy word segmenter: loaded only for Thai
        from pythainlp.tokenize import sent_tokenize

        return strip_tokens(sent_tokenize(text))


class KhmerTokenizer(WordTokenizer):
    spec = "khmer"

    def __init__(self) -> None:
        self._mod: Any = None

    @property
    def mod(self) -> Any:
        if self._mod is None:
            with _load_lock:
                # khmer-nltk logs every model load at INFO
                logging.getLogger("khmer-nltk").setLevel(logging.WARNING)
                # heavy word segmenter: loaded only for Khmer
                import khmernltk

                self._mod = khmernltk
        return self._mod

    def words(self, text: str) -> list[str]:
        if not text:
            return []
        return strip_tokens(self.mod.word_tokenize(text, return_tokens=True))

    def sentences(self, text: str) -> list[str]:
        return strip_tokens(self.mod.sentence_tokenize(text))


class LaoTokenizer(WordTokenizer):
    spec = "lao"

    def words(self, text: str) -> list[str]:
        # heavy word segmenter: loaded only for Lao
        from laonlp.tokenize import word_tokenize

        return strip_tokens(word_tokenize(text)) if text else []

    def sentences(self, text: str) -> list[str]:
        # heavy word segmenter: loaded only for Lao
        from laonlp.tokenize import sent_tokenize

        return strip_tokens(sent_tokenize(text))


# --- Burmese -----------------------------------------------------------------------------------
# Syllable breaking after Ye Kyaw Thu's "sylbreak" rules: a syllable starts at a consonant
# (U+1000-U+1021) unless that consonant is stacked (preceded by the virama U+1039) or killed
# (followed by the asat U+103A, possibly after a dot below U+1037, or by a virama), and at every
# independent vowel, digit run, section mark, or change between Myanmar and other characters.
_MY_CONS = "\u1000-\u1021"
_MY_DIGIT = "\u1040-\u1049"
_MY_BREAK = re.compile(
    "|".join(
        [
            rf"(?<!\u1039)(?=[{_MY_CONS}](?!\u1037?[\u103A\u1039]))",  # consonant opening a syllable
            r"(?=[\u1023-\u102A\u103F\u104C-\u104F])",  # independent vowels and symbols
            rf"(?<![{_MY_DIGIT}])(?=[{_MY_DIGIT}])|(?<=[{_MY_DIGIT}])(?![{_MY_DIGIT}])",  # digit runs whole
            r"(?=[\u104A\u104B])|(?<=[\u104A\u104B])",  # section marks stand alone
            r"(?<=[\u1000-\u109F])(?=[^\u1000-\u109F])|(?<=[^\u1000-\u109F])(?=[\u1000-\u109F])",  # script change
        ]
    )
)


class BurmeseTokenizer(WordTokenizer):
    """Myanmar-script syllables (regex); non-Myanmar runs split on whitespace."""

    spec = "burmese"

    def words(self, text: str) -> list[str]:
        out: list[str] = []
        for chunk in text.split():
            out.extend(_MY_BREAK.split(chunk))
        return strip_tokens(out)

    def sentences(self, text: str) -> list[str]:
        return strip_tokens(re.split(r"(?<=\u104B)\s*|\n+", text))


# --- Tibetan -----------------------------------------------------------------------------------
# Tibetan marks syllable ends with the tsheg (U+0F0B, U+0F0C non-breaking) and clause ends with the
# shad family (U+0F0D-U+0F14). A syllable (tsheg kept on it, as in botok's token text) is the
# stable unit a dictionary-free segmenter can give; shads are punctuation tokens, and shads
# separated by single spaces form one token ("། །"), as botok writes them (a FineWeb2 stopword).
# FineWeb2's other Tibetan stopwords are single syllables, so they still match.
_BO_TOKEN = re.compile(
    r"[\u0F0D-\u0F14]+(?: [\u0F0D-\u0F14]+)*|[^\s\u0F0B\u0F0C\u0F0D-\u0F14]+[\u0F0B\u0F0C]*|[\u0F0B\u0F0C]+"
)


class TibetanTokenizer(WordTokenizer):
    """Tibetan syllables split on tsheg/shad (botok needs a downloaded dictionary)."""

    spec = "tibetan"

    def words(self, text: str) -> list[str]:
        return _BO_TOKEN.findall(text)

    def sentences(self, text: str) -> list[str]:
        return strip_tokens(re.split(r"(?<=[\u0F0D\u0F0E])\s*(?![\u0F0D\u0F0E])|\n+", text))


# --- Indic (IndicNLP trivial tokenizer) ----------------------------------------------------------
# Re-implementation of IndicNLP's ``trivial_tokenize`` (anoopkunchukuttan/indic_nlp_library,
# ``indicnlp/tokenize/indic_tokenize.py``), which FineWeb2 uses for Indic languages: every ASCII
# punctuation mark and danda becomes its own token, the text is then split on single spaces
# (newlines stay inside tokens), digit groups like "10 , 000" are glued back together.
_INDIC_PUNCT = re.compile(
    "([" + re.escape(string.punctuation) + "\u0964\u0965\uAAF1\uAAF0\uABEB\uABEC\uABED\uABEE\uABEF\u1C7E\u1C7F])"
)
_URDU_PUNCT = re.compile(
    "([" + re.escape(string.punctuation) + "\u0609\u060A\u060C\u061E\u066A\u066B\u066C\u066D\u06D4])"
)
_SPACES = re.compile("[ ]+")
_NUM_SEQ = re.compile(r"([0-9]+ [,.:/] )+[0-9]+")


class IndicTokenizer(WordTokenizer):
    def __init__(self, lang: str = "hi") -> None:
        self.lang = lang
        self.spec = f"indicnlp:{lang}"
        self._punct = _URDU_PUNCT if lang == "ur" else _INDIC_PUNCT

    def _split(self, text: str) -> list[str]:
        s = _SPACES.sub(" ", self._punct.sub(r" \1 ", text.replace("\t", " "))).strip(" ")
        if self.lang != "ur":
            # glue "1 , 000" back to "1,000"; IndicNLP skips a match at the very start of the text
            parts, prev = [], 0
            for m in _NUM_SEQ.finditer(s):
                if m.start() > prev:
                    parts.append(s[prev:m.start()])
                    parts.append(m.group(0).replace(" ", ""))
                    prev = m.end()
            parts.append(s[prev:])
            s = "".join(parts)
        return s.split(" ")

    def words(self, text: str) -> list[str]:
        return strip_tokens(self._split(text))

    def sentences(self, text: str) -> list[str]:
        return strip_tokens(re.split(r"(?<=[.?!\u0964\u0965\u06D4\u061F])\s+|\n+", text))
