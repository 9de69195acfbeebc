"""The dominant writing system (ISO 15924) of a text: a script histogram of its letters.

Used where a language-ID label leaves the script open (lid.176's ``sr`` is Serbian in Cyrillic *or* Latin;
see :mod:`curate.languages.labels`). Each code point's Unicode ``Script`` property comes from the ``regex``
package (``\\p{Script=...}``; a dependency of trafilatura's date parser, declared by curate too), turned once
per process into a lookup array, so a document costs one ``numpy`` gather and ``bincount`` over the first
``sample`` characters instead of a Python loop. Common/Inherited characters (digits, punctuation, spaces,
combining marks) and unassigned ones count for no script.

:func:`scripts_among` picks, for a language written in several scripts, which of them a text is in (Latin
only with a two-thirds majority: other scripts' web pages carry Latin boilerplate); :func:`dominant_script`
is the plain majority.

Folding, as FineWeb2's keys do: Hiragana/Katakana -> ``Jpan`` (Japanese text mixes them with Han; any kana
makes the text ``Jpan``), Han stays ``Hani``, Hangul ``Hang``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import regex

# ISO 15924 code -> Unicode Script property value; the scripts FineWeb2's keys use, plus a few neighbours
_SCRIPTS: dict[str, str] = {
    "Latn": "Latin", "Cyrl": "Cyrillic", "Arab": "Arabic", "Grek": "Greek", "Armn": "Armenian",
    "Hebr": "Hebrew", "Deva": "Devanagari", "Beng": "Bengali", "Guru": "Gurmukhi", "Gujr": "Gujarati",
    "Orya": "Oriya", "Taml": "Tamil", "Telu": "Telugu", "Knda": "Kannada", "Mlym": "Malayalam",
    "Sinh": "Sinhala", "Thai": "Thai", "Laoo": "Lao", "Tibt": "Tibetan", "Mymr": "Myanmar", "Geor": "Georgian",
    "Hang": "Hangul", "Ethi": "Ethiopic", "Cher": "Cherokee", "Cans": "Canadian_Aboriginal", "Khmr": "Khmer",
    "Mong": "Mongolian", "Hira": "Hiragana", "Kana": "Katakana", "Hani": "Han", "Thaa": "Thaana",
    "Syrc": "Syriac", "Tfng": "Tifinagh", "Nkoo": "Nko", "Olck": "Ol_Chiki", "Java": "Javanese",
    "Kali": "Kayah_Li", "Limb": "Limbu", "Lisu": "Lisu", "Mtei": "Meetei_Mayek", "Wara": "Warang_Citi",
    "Copt": "Coptic", "Goth": "Gothic", "Tale": "Tai_Le", "Bali": "Balinese", "Bugi": "Buginese",
    "Vaii": "Vai", "Adlm": "Adlam", "Yiii": "Yi", "Samr": "Samaritan", "Tavt": "Tai_Viet",
}
_FOLD = {"Hira": "Jpan", "Kana": "Jpan"}
_CODES: tuple[str, ...] = ("", *_SCRIPTS)  # index 0 = no script
_MAX_CODE_POINT = 0x32000  # past the CJK extension planes nothing of interest; higher code points count as none


@lru_cache(maxsize=1)
def _lookup() -> np.ndarray:
    """code point -> index into ``_CODES`` (uint8), built once per process from regex's Script tables."""
    table = np.zeros(_MAX_CODE_POINT, dtype=np.uint8)
    every = "".join(map(chr, range(_MAX_CODE_POINT)))  # lone surrogates included: they match no script
    for index, (_, name) in enumerate(_SCRIPTS.items(), start=1):
        for run in regex.finditer(rf"\p{{Script={name}}}+", every):
            table[run.start():run.end()] = index
    return table


def script_counts(text: str, sample: int = 1000) -> dict[str, int]:
    """Letters per ISO 15924 script among the first ``sample`` characters (kana folded into ``Jpan``)."""
    points = np.frombuffer(text[:sample].encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    points = points[points < _MAX_CODE_POINT]
    counts = np.bincount(_lookup()[points], minlength=len(_CODES))
    out: dict[str, int] = {}
    for index in np.flatnonzero(counts[1:]) + 1:
        script = _CODES[index]
        script = _FOLD.get(script, script)
        out[script] = out.get(script, 0) + int(counts[index])
    return out


# columns of the per-text counts: Jpan first (kana, plus Han when there is kana), then the others in order
_COLUMNS: tuple[str, ...] = ("Jpan", *(c for c in _SCRIPTS if c not in _FOLD))
_TO_COLUMN = np.array([0] + [_COLUMNS.index(_FOLD.get(c, c)) for c in _SCRIPTS], dtype=np.int64)  # LUT index -> column
_NONE = -1
LATIN_SHARE = 2 / 3  # Latin must hold this share of a multi-script language's letters to be its script
_HANI = _COLUMNS.index("Hani")


def _count_matrix(texts: list[str], sample: int) -> np.ndarray:
    """Letters per script column (``_COLUMNS``) for each text: one gather and one ``bincount`` over the batch."""
    heads = [t[:sample] for t in texts]
    points = np.frombuffer("".join(heads).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    rows = np.repeat(np.arange(len(heads), dtype=np.int64), np.fromiter(map(len, heads), np.int64, len(heads)))
    inside = points < _MAX_CODE_POINT
    index = _lookup()[points[inside]].astype(np.int64)
    letters = index > 0
    cols = _TO_COLUMN[index[letters]]
    width = len(_COLUMNS)
    counts = np.bincount(rows[inside][letters] * width + cols, minlength=len(heads) * width).reshape(-1, width)
    kana = counts[:, 0] > 0
    counts[kana, 0] += counts[kana, _HANI]  # Japanese: Han characters count for Jpan when there is kana
    counts[kana, _HANI] = 0
    return counts


def dominant_scripts(texts: list[str], sample: int = 1000) -> list[str | None]:
    """:func:`dominant_script` of many texts at once."""
    counts = _count_matrix(texts, sample)
    best = np.where(counts.max(axis=1) > 0, counts.argmax(axis=1), _NONE)  # argmax: first column wins ties
    return [None if b == _NONE else _COLUMNS[b] for b in best.tolist()]


def scripts_among(texts: list[str], candidates: list[tuple[str, ...]], sample: int = 1000) -> list[str | None]:
    """Per text, which of its ``candidates`` scripts it is written in, or None when it has no letter in any.

    For a language written in several scripts (the candidates), web text in a non-Latin script is often
    interleaved with Latin-script boilerplate (English menus, "Share to Twitter", URLs, brand names), so Latin
    is chosen only when it holds at least :data:`LATIN_SHARE` of the candidate scripts' letters; otherwise the
    candidate with most letters (ties: the first candidate). benchmarks/langid_relatives.py counts the keys
    whose script is not the gold's: 3 of the 74,141 lingua sentences with the default block (Urdu sentences
    under an English header were ``urd_Latn`` with the plain majority).
    """
    counts = _count_matrix(texts, sample)
    out: list[str | None] = []
    for row, cands in zip(counts, candidates, strict=True):
        have = {c: int(row[_COLUMNS.index(c)]) for c in cands if c in _COLUMNS}
        total = sum(have.values())
        if not total:
            out.append(None)
            continue
        if have.get("Latn", 0) >= LATIN_SHARE * total:
            out.append("Latn")
            continue
        others = {c: n for c, n in have.items() if c != "Latn"}
        out.append(max(others, key=lambda c: (others[c], -cands.index(c))) if any(others.values()) else "Latn")
    return out


def dominant_script(text: str, sample: int = 1000) -> str | None:
    """The ISO 15924 code most letters of ``text`` (its first ``sample`` characters) are written in, or None.

    Japanese: any kana among Han makes the text ``Jpan`` (Han characters count for it too). Ties go to the
    script listed first in this module (Latin before Cyrillic before Arabic ...), so the answer is stable.
    """
    return dominant_scripts([text], sample)[0]
