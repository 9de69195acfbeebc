"""Per-code-point tables for the decontamination normaliser: one array lookup per character.

The normal form of a text (:mod:`curate.decont.normalizer`) is Unicode NFKC, then every character lower-cased
by itself (``c.lower()``, its first character for U+0130, final sigma folded to sigma), format characters
(``Cf``: soft hyphen, ZWJ/ZWNJ, BOM, bidi marks) removed. Each character then has a class: a separator
(punctuation, symbols, spaces, controls, unassigned: "punctuation folded"), a word character of a script written
with spaces, or a character of a script written without them (Han and kana, Thai, Lao, Khmer, Myanmar, Tibetan,
and "characters only" scripts such as Yi, where no segmenter exists).

NFKC is mostly a per-character mapping (NBSP -> space, fullwidth -> ASCII, ligatures, ``™`` -> ``TM``, Thai
SARA AM -> NIKHAHIT + SARA AA); only canonical composition and reordering look at neighbours. So ``MAIN[c]``
holds the character's mapped form (one code point, or an index into ``EXPANSIONS`` when it maps to several or
to none), its class, and flags that say when a neighbour could matter (a "composition second" such as U+0301, a
combining mark). A text without a flag that needs its neighbours is normalised by the table exactly;
the others go through ``unicodedata.normalize`` (:func:`needs_full_nfkc`). ``tests/test_decont_normalizer.py``
checks table and reference agree on real pages of every XQuAD language and on the hard cases.

The table follows the Unicode version of the running Python (``unicodedata.unidata_version``); the index records
it and refuses to be used under another one.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import numpy as np

N_CODEPOINTS = 0x110000

# classes (MAIN bits 24-27)
SEP = 0  # punctuation, symbols, separators, controls, unassigned, private use
WORD = 1  # letters, marks, numbers of scripts written with spaces (Latin, Cyrillic, Arabic, Devanagari, Hangul, ...)
IGNORE = 2  # format characters: removed
CJ = 3  # Han, kana, bopomofo: segmented (jieba, or Sudachi when the run has kana or the language is Japanese)
THAI = 4
LAO = 5
KHMER = 6
MYANMAR = 7
TIBETAN = 8
CHARS = 9  # written without spaces and no segmenter: every character is a token
RUN_CLASSES = (CJ, THAI, LAO, KHMER, MYANMAR, TIBETAN, CHARS)
CLASS_NAMES = {SEP: "sep", WORD: "word", IGNORE: "ignore", CJ: "han/kana", THAI: "thai", LAO: "lao",
               KHMER: "khmer", MYANMAR: "myanmar", TIBETAN: "tibetan", CHARS: "chars"}

CP_MASK = (1 << 21) - 1
CLASS_SHIFT = 24  # the class: bits 24-27
VALUE_MASK = CP_MASK | 15 << CLASS_SHIFT  # code point and class: what tokens are hashed over
EXPAND = 1 << 21  # maps to 0 or >= 2 code points (EXP_START / EXP_LEN)
HARD = 1 << 22  # always needs unicodedata (conjoining jamo, a mapping to a mark that may compose)
SECOND = 1 << 23  # can compose with the character before it (NFC quick check "maybe")
MARK = 1 << 28  # canonical combining class != 0 (may be reordered)
PAIR_ONLY = 1 << 29  # a SECOND only for the Thai/Lao AM recomposition: only its pair matters
FLAGS = EXPAND | HARD | SECOND | MARK | PAIR_ONLY
NEIGHBOUR_FLAGS = HARD | SECOND | MARK  # a text with none of these is normalised by the table alone
# A character is "mapped" (its normal form is not itself) when its entry's code point differs from it or it
# expands; that is computed where needed rather than stored, so that an ordinary character's entry is exactly
# its hashed value (code point | class).

# scripts written without spaces, by block (letters, marks and numbers in them; their punctuation stays SEP)
_RUN_RANGES: tuple[tuple[int, int, int], ...] = (
    (0x2E80, 0x2FDF, CJ), (0x3005, 0x3007, CJ), (0x3021, 0x3029, CJ), (0x3031, 0x3035, CJ), (0x3038, 0x303C, CJ),
    (0x3040, 0x30FF, CJ), (0x3100, 0x312F, CJ), (0x31A0, 0x31BF, CJ), (0x31F0, 0x31FF, CJ), (0x3400, 0x4DBF, CJ),
    (0x4E00, 0x9FFF, CJ), (0xF900, 0xFAFF, CJ), (0xFF66, 0xFF9F, CJ), (0x1B000, 0x1B16F, CJ),
    (0x20000, 0x323AF, CJ),
    (0x0E00, 0x0E7F, THAI), (0x0E80, 0x0EFF, LAO), (0x1780, 0x17FF, KHMER), (0x19E0, 0x19FF, KHMER),
    (0x1000, 0x109F, MYANMAR), (0xA9E0, 0xA9FF, MYANMAR), (0xAA60, 0xAA7F, MYANMAR), (0x0F00, 0x0FFF, TIBETAN),
    # Yi, Javanese, Balinese, Tai Tham, Tai Viet, New Tai Lue, Tai Le, Buginese: no offline segmenter
    (0xA000, 0xA4CF, CHARS), (0xA980, 0xA9DF, CHARS), (0x1B00, 0x1B7F, CHARS), (0x1A20, 0x1AAF, CHARS),
    (0xAA80, 0xAADF, CHARS), (0x1980, 0x19DF, CHARS), (0x1950, 0x197F, CHARS), (0x1A00, 0x1A1F, CHARS),
)
_FINAL_SIGMA = 0x03C2
# NFKC splits Thai and Lao SARA AM into NIKHAHIT + SARA AA; the normal form keeps them whole, as they are written
# and as the segmenters' dictionaries hold them
_AM = {0x0E33: (0x0E4D, 0x0E32), 0x0EB3: (0x0ECD, 0x0EB2)}


@dataclass(frozen=True)
class CharTable:
    """The arrays the normaliser gathers from (built once per process, ~1 s)."""

    main: np.ndarray  # uint32 per code point: mapped code point (or expansion index) | class << 24 | flags
    exp_start: np.ndarray  # int32 per code point: start in ``expansions`` (EXPAND characters)
    exp_len: np.ndarray  # uint8 per code point: number of code points it maps to (1 unless EXPAND)
    expansions: np.ndarray  # uint32: mapped code points of the EXPAND characters, back to back
    expansion_classes: np.ndarray  # uint8: the class of each of them
    expansion_values: np.ndarray  # uint32: code point | class << 24 of each of them
    ccc: np.ndarray  # uint8 per code point: canonical combining class
    pairs: np.ndarray  # sorted uint64 ``first << 21 | second`` of pairs that NFC composes
    unidata_version: str

    def lower_map(self) -> dict[int, str]:
        """Per-character lower-casing as a ``str.translate`` table (for already NFKC-normal text)."""
        return _lower_translate()


def _lower1(ch: str) -> str:
    low = ch.lower()
    low = low[0] if len(low) > 1 else low  # U+0130 -> "i" (its simple lower-case mapping)
    return "\u03c3" if low == chr(_FINAL_SIGMA) else low


def char_class(cp: int, cat: str) -> int:
    if cat == "Cf":
        return IGNORE
    if cat[0] not in "LMN":
        return SEP
    for lo, hi, cls in _RUN_RANGES:
        if lo <= cp <= hi:
            return cls
    return WORD


def _composition_pairs() -> tuple[set[int], set[int]]:
    """(pair keys that NFC composes, their second characters)."""
    pairs: set[int] = set()
    seconds: set[int] = set()
    for cp in range(N_CODEPOINTS):
        dec = unicodedata.decomposition(chr(cp))
        if not dec or dec.startswith("<"):
            continue
        parts = [int(p, 16) for p in dec.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(cp):
            pairs.add(parts[0] << 21 | parts[1])
            seconds.add(parts[1])
    return pairs, seconds


@functools.lru_cache(maxsize=1)
def char_table() -> CharTable:
    main = np.zeros(N_CODEPOINTS, dtype=np.uint32)
    exp_start = np.zeros(N_CODEPOINTS, dtype=np.int32)
    exp_len = np.ones(N_CODEPOINTS, dtype=np.uint8)
    ccc = np.zeros(N_CODEPOINTS, dtype=np.uint8)
    expansions: list[int] = []
    exp_cls: list[int] = []
    pairs, seconds = _composition_pairs()
    pair_only = {second for _, second in _AM.values()}
    pairs |= {first << 21 | second for first, second in _AM.values()}
    for cp in range(N_CODEPOINTS):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat in ("Cn", "Co", "Cs"):
            main[cp] = cp | SEP << CLASS_SHIFT
            continue
        flags = 0
        comb = unicodedata.combining(ch)
        if comb:
            ccc[cp] = comb
            flags |= MARK
        if cp in pair_only:
            flags |= SECOND | PAIR_ONLY
        if cp in seconds or 0x1161 <= cp <= 0x1175 or 0x11A8 <= cp <= 0x11C2:
            flags |= SECOND
        if 0x1100 <= cp <= 0x11FF:  # conjoining jamo compose algorithmically (no decomposition entry)
            flags |= HARD
        nf = ch if cp in _AM else unicodedata.normalize("NFKC", ch)
        out = [_lower1(c) for c in nf if unicodedata.category(c) != "Cf"]
        classes = [char_class(ord(c), unicodedata.category(c)) for c in out]
        if out and out != [ch] and (unicodedata.combining(out[0]) or ord(out[0]) in seconds):
            flags |= HARD  # maps to a mark that composes or reorders with the character before (U+0340, U+0344)
        if len(out) == 1:
            main[cp] = ord(out[0]) | classes[0] << CLASS_SHIFT | flags
        elif not out:  # a format character: removed
            main[cp] = IGNORE << CLASS_SHIFT | flags | EXPAND
            exp_len[cp] = 0
        elif set(classes) == {SEP}:  # "..." and the like: one separator
            main[cp] = 0x20 | SEP << CLASS_SHIFT | flags
        else:  # "ﬁ" -> "fi", "™" -> "tm", "½" -> "1⁄2" (two tokens)
            main[cp] = len(expansions) | classes[0] << CLASS_SHIFT | flags | EXPAND
            exp_start[cp] = len(expansions)
            exp_len[cp] = len(out)
            expansions.extend(ord(c) for c in out)
            exp_cls.extend(classes)
    return CharTable(main=main, exp_start=exp_start, exp_len=exp_len,
                     expansions=np.asarray(expansions, dtype=np.uint32),
                     expansion_classes=np.asarray(exp_cls, dtype=np.uint8),
                     expansion_values=np.asarray([c | k << CLASS_SHIFT for c, k in zip(expansions, exp_cls,
                                                                                       strict=True)], dtype=np.uint32),
                     ccc=ccc,
                     pairs=np.asarray(sorted(pairs), dtype=np.uint64), unidata_version=unicodedata.unidata_version)


@functools.lru_cache(maxsize=1)
def _lower_translate() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(N_CODEPOINTS):
        ch = chr(cp)
        if unicodedata.category(ch) == "Cf":
            table[cp] = ""
        else:
            low = _lower1(ch)
            if low != ch:
                table[cp] = low
    return table


def nfkc(text: str) -> str:
    """Unicode NFKC, with Thai and Lao SARA AM put back together."""
    text = unicodedata.normalize("NFKC", text)
    for am, (first, second) in _AM.items():
        pair = chr(first) + chr(second)
        if pair in text:
            text = text.replace(pair, chr(am))
    return text


def reference_normal_form(text: str) -> str:
    """The normal form, computed with ``unicodedata`` (slow; the definition that the table-driven normaliser
    reproduces, and its path for texts it cannot do alone)."""
    return nfkc(text).translate(_lower_translate())
