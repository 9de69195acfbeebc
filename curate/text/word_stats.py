"""Character classes and vectorised per-document word statistics, shared by the quality filters, the
symbol-line formatter and the language-ID calibration.

The character sets reproduce the ones datatrove's filters use (huggingface/datatrove
``utils/text.py``), because FineWeb2's thresholds were fitted with them:

* ``TERMINAL_PUNCTUATION``: the Unicode 15 ``Sentence_Terminal`` property plus the Khmer signs
  U+17D6, U+17D9, U+17DA; a line "ends with punctuation" when its last character is one of them.
* ``PUNCTUATION``: ASCII punctuation, common typographic and CJK full-width marks, C0/C1 control
  characters except TAB and LF, and the terminal punctuation. A word made only of these is a
  "symbol word" for the Gopher quality rules.

Word statistics are computed on arrays: the words of a document are concatenated and decoded to
code points once; per-word flags come from lookup tables and ``reduceat``; n-gram identities are
double polynomial hashes (two 31-bit primes, 62-bit keys) of the n-gram's characters, so
counting duplicates is a sort instead of building millions of Python strings.
"""

from __future__ import annotations

import string
import threading
from typing import Any

import numpy as np

from curate.tokenizers.cache import TokenizedDoc

_TERMINAL_RANGES = (
    0x0021, 0x002E, 0x003F, 0x0589, (0x061D, 0x061F), 0x06D4, (0x0700, 0x0702), 0x07F9, 0x0837,
    0x0839, (0x083D, 0x083E), (0x0964, 0x0965), (0x104A, 0x104B), 0x1362, (0x1367, 0x1368),
    0x166E, (0x1735, 0x1736), (0x17D4, 0x17D6), (0x17D9, 0x17DA), 0x1803, 0x1809,
    (0x1944, 0x1945), (0x1AA8, 0x1AAB), (0x1B5A, 0x1B5B), (0x1B5E, 0x1B5F), (0x1B7D, 0x1B7E),
    (0x1C3B, 0x1C3C), (0x1C7E, 0x1C7F), (0x203C, 0x203D), (0x2047, 0x2049), 0x2E2E, 0x2E3C,
    (0x2E53, 0x2E54), 0x3002, 0xA4FF, (0xA60E, 0xA60F), 0xA6F3, 0xA6F7, (0xA876, 0xA877),
    (0xA8CE, 0xA8CF), 0xA92F, (0xA9C8, 0xA9C9), (0xAA5D, 0xAA5F), (0xAAF0, 0xAAF1), 0xABEB,
    0xFE52, (0xFE56, 0xFE57), 0xFF01, 0xFF0E, 0xFF1F, 0xFF61, (0x10A56, 0x10A57),
    (0x10F55, 0x10F59), (0x10F86, 0x10F89), (0x11047, 0x11048), (0x110BE, 0x110C1),
    (0x11141, 0x11143), (0x111C5, 0x111C6), 0x111CD, (0x111DE, 0x111DF), (0x11238, 0x11239),
    (0x1123B, 0x1123C), 0x112A9, (0x1144B, 0x1144C), (0x115C2, 0x115C3), (0x115C9, 0x115D7),
    (0x11641, 0x11642), (0x1173C, 0x1173E), 0x11944, 0x11946, (0x11A42, 0x11A43),
    (0x11A9B, 0x11A9C), (0x11C41, 0x11C42), (0x11EF7, 0x11EF8), (0x11F43, 0x11F44),
    (0x16A6E, 0x16A6F), 0x16AF5, (0x16B37, 0x16B38), 0x16B44, 0x16E98, 0x1BC9F, 0x1DA88,
)


def _expand(ranges: tuple[Any, ...]) -> frozenset[str]:
    out = set()
    for r in ranges:
        lo, hi = r if isinstance(r, tuple) else (r, r)
        out.update(chr(c) for c in range(lo, hi + 1))
    return frozenset(out)


TERMINAL_PUNCTUATION: frozenset[str] = _expand(_TERMINAL_RANGES)
_TYPOGRAPHIC = "«´»–—’“”„…∶━►、。〈〉《》「」【】！％（），．１：；？～"
_CONTROLS = "".join(chr(c) for c in (*range(0, 9), *range(11, 32), *range(127, 160)))
PUNCTUATION: frozenset[str] = frozenset(string.punctuation + _TYPOGRAPHIC + _CONTROLS) | TERMINAL_PUNCTUATION

_tables: dict[str, np.ndarray] = {}
_tables_lock = threading.Lock()


def _table(name: str) -> np.ndarray:
    """Lookup table over all code points (built once per process, ~0.2 s for ``alpha``)."""
    tab = _tables.get(name)
    if tab is None:
        with _tables_lock:
            tab = _tables.get(name)
            if tab is None:
                if name == "alpha":  # exactly str.isalpha (letters: Lu Ll Lt Lm Lo)
                    tab = np.fromiter((chr(c).isalpha() for c in range(0x110000)), dtype=bool, count=0x110000)
                else:  # "punct"
                    tab = np.zeros(0x110000, dtype=bool)
                    tab[[ord(c) for c in PUNCTUATION]] = True
                _tables[name] = tab
    return tab


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


# --- double polynomial hashing ------------------------------------------------------------------
_M = (np.int64(2_147_483_647), np.int64(2_147_483_629))  # primes < 2^31: products fit in int64
_B = (911_382_323, 972_663_749)
_pow: list[np.ndarray] = [np.ones(1, dtype=np.int64), np.ones(1, dtype=np.int64)]
_ipow: list[np.ndarray] = [np.ones(1, dtype=np.int64), np.ones(1, dtype=np.int64)]
_pow_lock = threading.Lock()


def _grow_powers(n: int) -> None:
    with _pow_lock:
        for k in (0, 1):
            m = int(_M[k])
            inv_b = pow(_B[k], m - 2, m)
            for table, base in ((_pow, _B[k]), (_ipow, inv_b)):
                arr = table[k]
                while len(arr) < n:
                    # doubling: base^(L+j) = base^L * base^j, all values < 2^31
                    step = np.int64(pow(base, len(arr), m))
                    arr = np.concatenate([arr, arr * step % _M[k]])
                table[k] = arr


def prefix_hashes(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H[k] = sum_{j<k} c_j B^j mod M, for both moduli (length len(cps) + 1)."""
    n = len(cps)
    if len(_pow[0]) < n + 1:
        _grow_powers(n + 1)
    c = cps.astype(np.int64)
    out = []
    for k in (0, 1):
        h = np.empty(n + 1, dtype=np.int64)
        h[0] = 0
        np.cumsum(c * _pow[k][:n] % _M[k], out=h[1:])  # terms < 2^31: sums fit for n < 2^32
        h %= _M[k]
        out.append(h)
    return out[0], out[1]


def span_keys(hashes: tuple[np.ndarray, np.ndarray], starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """62-bit key of every substring [starts[i], ends[i]) (equal substrings, equal keys)."""
    keys = None
    for k in (0, 1):
        h = hashes[k]
        if len(_ipow[k]) < len(h):
            _grow_powers(len(h))
        v = (h[ends] - h[starts]) % _M[k] * _ipow[k][starts] % _M[k]
        keys = v if keys is None else (keys << 31) | v
    assert keys is not None
    return keys


class WordArrays:
    """Array views of one document's words, cached on its :class:`TokenizedDoc`."""

    __slots__ = ("n", "lens", "offs", "_cps", "_words", "_concat", "_spaced")

    def __init__(self, words: list[str]) -> None:
        self._words = words
        self.n = len(words)
        self.lens = np.fromiter(map(len, words), dtype=np.int64, count=self.n)
        self.offs = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(self.lens, out=self.offs[1:])
        self._cps: np.ndarray | None = None
        self._concat: dict[int, np.ndarray] = {}
        self._spaced: dict[int, np.ndarray] = {}

    @classmethod
    def of(cls, doc: TokenizedDoc) -> WordArrays:
        arr = doc.extra.get("arrays")
        if arr is None:
            arr = doc.extra["arrays"] = cls(doc.words)
        return arr

    @property
    def cps(self) -> np.ndarray:
        """Code points of the words concatenated without separator."""
        if self._cps is None:
            self._cps = code_points("".join(self._words))
        return self._cps

    def _word_or(self, char_flags: np.ndarray) -> np.ndarray:
        """Per word: does any of its characters have the flag (words are never empty)."""
        if self.n == 0:
            return np.zeros(0, dtype=bool)
        return np.logical_or.reduceat(char_flags, self.offs[:-1])

    def non_symbol_words(self) -> np.ndarray:
        """Words with at least one character outside :data:`PUNCTUATION`."""
        return self._word_or(~_table("punct")[self.cps])

    def alpha_words(self) -> np.ndarray:
        """Words with at least one letter (``str.isalpha``)."""
        return self._word_or(_table("alpha")[self.cps])

    def concat_lengths(self, n: int) -> np.ndarray:
        """len("".join(words[i:i+n])) for every i."""
        m = self.n - n + 1
        return self.offs[n:n + m] - self.offs[:m]

    def spaced_lengths(self, n: int) -> np.ndarray:
        """len(" ".join(words[i:i+n])) for every i."""
        return self.concat_lengths(n) + (n - 1)

    def _keys(self, ns: tuple[int, ...], spaced: bool) -> None:
        # one hashing pass for every n of the family: numpy call overhead dominates small docs
        store = self._spaced if spaced else self._concat
        ns = tuple(n for n in ns if n not in store and self.n - n + 1 > 0)
        if not ns:
            return
        text = " ".join(self._words) if spaced else None
        hashes = prefix_hashes(code_points(text) if text is not None else self.cps)
        starts, ends, sizes = [], [], []
        for n in ns:
            m = self.n - n + 1
            start = self.offs[:m] + np.arange(m) if spaced else self.offs[:m]
            length = self.spaced_lengths(n) if spaced else self.concat_lengths(n)
            starts.append(start)
            ends.append(start + length)
            sizes.append(m)
        keys = span_keys(hashes, np.concatenate(starts), np.concatenate(ends))
        pos = 0
        for n, m in zip(ns, sizes, strict=True):
            store[n] = keys[pos:pos + m]
            pos += m

    def concat_keys(self, n: int, family: tuple[int, ...] = ()) -> np.ndarray:
        """Key of ``"".join(words[i:i+n])`` for every i (datatrove's duplicated n-gram identity)."""
        if n not in self._concat:
            self._keys((n, *family), spaced=False)
        return self._concat[n]

    def spaced_keys(self, n: int, family: tuple[int, ...] = ()) -> np.ndarray:
        """Key of ``" ".join(words[i:i+n])`` for every i (datatrove's top n-gram identity)."""
        if n not in self._spaced:
            self._keys((n, *family), spaced=True)
        return self._spaced[n]


def _sorted_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stable argsort of keys, bool "starts a new group" in sorted order)."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    new = np.empty(len(sk), dtype=bool)
    new[0] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    return order, new


def top_ngram_chars(arr: WordArrays, n: int, family: tuple[int, ...] = ()) -> int:
    """Characters covered by the most frequent n-gram: len(" ".join(ngram)) * count.

    Ties go to the n-gram seen first, as ``Counter.most_common`` does in the reference.
    """
    keys = arr.spaced_keys(n, family)
    order, new = _sorted_groups(keys)
    if new.all():  # every n-gram once: the first one wins
        return int(arr.spaced_lengths(n)[0])
    bounds = np.flatnonzero(new)
    counts = np.diff(np.append(bounds, len(keys)))
    top = int(counts.max())
    # stable sort: a group's first sorted element is its first occurrence
    pos = int(order[bounds[counts == top]].min())
    return int(arr.spaced_lengths(n)[pos]) * top


def duplicated_ngram_chars(arr: WordArrays, n: int, family: tuple[int, ...] = ()) -> int:
    """Characters in repeated n-grams, scanning left to right and jumping over a repeated n-gram
    (Gopher's "duplicate n-gram character fraction" as datatrove counts it; overlaps not counted
    twice). Only positions whose n-gram occurs more than once can change the scan, so the Python
    loop runs over those alone."""
    if arr.n - n + 1 <= 0:
        return 0
    keys = arr.concat_keys(n, family)
    order, new = _sorted_groups(keys)
    if new.all():
        return 0
    # group id per sorted element, then a "repeated" flag per original position
    gid = np.cumsum(new) - 1
    sizes = np.bincount(gid)
    repeated_sorted = sizes[gid] > 1
    ids = np.empty(len(keys), dtype=np.int64)
    ids[order] = gid
    cand = np.sort(order[repeated_sorted])
    cand_ids = ids[cand].tolist()
    lengths = arr.concat_lengths(n)[cand].tolist()
    seen: set[int] = set()
    nxt = 0
    total = 0
    for pos, key, length in zip(cand.tolist(), cand_ids, lengths, strict=True):
        if pos < nxt:
            continue
        if key in seen:
            total += length
            nxt = pos + n
        else:
            seen.add(key)
            nxt = pos + 1
    return total
