"""Text normalisation applied before shingling (FineWeb2 MinHash recipe).

FineWeb2 (Penedo et al., 2025, "FineWeb2: One Pipeline to Scale Them All", section on deduplication) runs
datatrove's MinHash with its default text simplification before word tokenisation: lowercase, numbers
normalised to ``0``, punctuation removed, unicode diacritics stripped and whitespace collapsed. Superficial
differences (case, quotes, page counters, accents typed or not) then no longer hide a near-duplicate.
"""

from __future__ import annotations

import sys
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=1)
def _translation_table() -> dict[int, str | None]:
    """One ``str.translate`` table for the whole normalisation, built once per process (~0.3 s).

    Unicode categories rather than a hand-written list, so every script's punctuation is covered:
    P* (punctuation) and S* (symbols) -> space, Nd (decimal digits of any script) -> "0",
    Mn (combining marks left by NFD decomposition, i.e. accents) -> removed.
    """
    table: dict[int, str | None] = {}
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        if cat[0] in "PS":
            table[cp] = " "
        elif cat == "Nd":
            table[cp] = "0"
        elif cat == "Mn":
            table[cp] = None
    return table


@lru_cache(maxsize=1)
def _ascii_table() -> dict[int, str | None]:
    # Most web text is largely ASCII; a 128-entry table keeps the common case fast.
    return {cp: v for cp, v in _translation_table().items() if cp < 128}


class TextNormalizer:
    """Callable ``text -> normalised text``.

    Steps, in order: lowercase; NFD-decompose non-ASCII text and drop combining marks (``é`` -> ``e``);
    punctuation and symbols -> space; every decimal digit -> ``0``; runs of whitespace -> one space,
    stripped. Each step can be switched off; the defaults follow FineWeb2.
    """

    def __init__(
        self,
        lowercase: bool = True,
        digits: bool = True,
        punctuation: bool = True,
        accents: bool = True,
        whitespace: bool = True,
    ) -> None:
        self.lowercase = lowercase
        self.digits = digits
        self.punctuation = punctuation
        self.accents = accents
        self.whitespace = whitespace
        self._table: dict[int, str | None] | None = None

    def _full_table(self) -> dict[int, str | None]:
        if self._table is None:
            full = _translation_table()
            keep = {" ": self.punctuation, "0": self.digits, None: self.accents}
            if all(keep.values()):
                self._table = full
            else:
                self._table = {cp: v for cp, v in full.items() if keep[v]}
        return self._table

    def __call__(self, text: str) -> str:
        if self.lowercase:
            text = text.lower()
        if text.isascii():
            table = self._full_table()
            if table is _translation_table():
                text = text.translate(_ascii_table())
            else:
                text = text.translate(table)
        else:
            if self.accents:
                text = unicodedata.normalize("NFD", text)
            text = text.translate(self._full_table())
        if self.whitespace:
            text = " ".join(text.split())
        return text

    def __getstate__(self) -> dict:
        # The table is rebuilt lazily in each worker instead of being pickled (it has ~10k entries).
        state = self.__dict__.copy()
        state["_table"] = None
        return state


normalize_text = TextNormalizer()
"""The FineWeb2 default normaliser."""
