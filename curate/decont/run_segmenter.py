"""Cut a run of a script written without spaces into words: the segmenter of the language table.

The word tokenizers are curate's own (:mod:`curate.tokenizers`, the ones FineWeb2 assigns per language): jieba
for Han (Sudachi when the run has kana or the text's language is Japanese), PyThaiNLP newmm-safe for Thai, LaoNLP,
khmer-nltk, syllables for Myanmar and Tibetan; scripts without a segmenter (Yi, Javanese, Balinese, ...) give one
token per character. The run is in the normal form, where Thai and Lao SARA AM stay whole as the segmenters'
dictionaries hold them (:mod:`curate.decont.char_table`). Segmenting is memoised per run (boilerplate repeats) and
must give back every character: when it does not, the run falls back to characters.
"""

from __future__ import annotations

import re
from typing import Any

from curate.decont.char_table import CHARS, CJ, KHMER, LAO, MYANMAR, THAI, TIBETAN
from curate.languages.table import load_language_table
from curate.tokenizers import get_word_tokenizer, normalize_spec

_BY_CLASS = {THAI: "thai", LAO: "lao", KHMER: "khmer", MYANMAR: "burmese", TIBETAN: "tibetan"}
_KANA = re.compile("[\u3040-\u30fa\u30fc-\u30ff\u31f0-\u31ff\U0001b000-\U0001b16f]")
MAX_MEMO = 200_000


def segmenter_spec(cls: int, run: str, japanese: bool) -> str | None:
    """The tokenizer spec for a run of class ``cls`` (None: one token per character)."""
    if cls == CJ:
        return "japanese" if japanese or _KANA.search(run) else "chinese"
    return _BY_CLASS.get(cls)


class RunSegmenter:
    """Callable per process; ``languages`` is the pipeline's language table (None: the packaged one)."""

    def __init__(self, languages: Any = None) -> None:
        self.languages = languages
        self._japanese: dict[str, bool] = {}
        self._memo: dict[tuple[str, str], tuple[int, ...]] = {}

    def is_japanese(self, lang: str) -> bool:
        known = self._japanese.get(lang)
        if known is None:
            table = self.languages if self.languages is not None else load_language_table()
            known = self._japanese[lang] = normalize_spec(table.get(lang or "und").tokenizer) == "japanese"
        return known

    def cut(self, run: str, cls: int, lang: str) -> tuple[int, ...]:
        """Lengths (in code points of the normal form) of the words of ``run``; they add up to ``len(run)``."""
        if cls == CHARS or len(run) == 1:
            return (1,) * len(run)
        spec = segmenter_spec(cls, run, self.is_japanese(lang))
        if spec is None:
            return (1,) * len(run)
        key = (spec, run)
        memo = self._memo
        got = memo.get(key)
        if got is None:
            got = self._segment(run, spec)
            if len(memo) >= MAX_MEMO:
                memo.clear()
            memo[key] = got
        return got

    @staticmethod
    def _segment(run: str, spec: str) -> tuple[int, ...]:
        words = get_word_tokenizer(spec).words(run)
        if "".join(words) != run:  # a segmenter that drops or changes characters: characters instead
            return (1,) * len(run)
        return tuple(len(w) for w in words)
