"""Which characters can trigger spaCy's prefix/suffix/infix rules: a static analysis of its regexes.

spaCy leaves a whitespace-delimited chunk whole when no special case, prefix, suffix or infix
pattern matches it (``Tokenizer._split_affixes`` / ``_attach_tokens``). Every match of a pattern
needs certain characters in the string: a literal it consumes, a character class, a character its
look-behind requires. For each top-level alternative we pick the necessary character set with the
fewest letters (e.g. the apostrophe of French elision, the digit before a unit, the period of an
abbreviation) and take the union over all alternatives: a chunk containing none of those
characters cannot match any affix rule, so it is one token, without calling spaCy.

The analysis walks the compiled patterns with Python's own regex parser. Anything it does not
understand (``\\w``, negated classes, IGNORECASE, alternatives that can match empty) makes the
language fall back to calling spaCy for every new chunk — slower, never different.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np

# Python's regex parser is only reachable through its private module (sre_parse, its old public name, is
# deprecated); any surprise from it makes the analysis give up, so a changed parser costs speed, not output.
try:  # Python >= 3.11
    import re._constants as _c
    import re._parser as _p
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

Ranges = list[tuple[int, int]]  # inclusive code point ranges
_N = 0x110000
_letters_cum: np.ndarray | None = None
_lock = threading.Lock()


def _letter_count(ranges: Ranges) -> int:
    """Letters (str.isalpha) in the ranges, via a cumulative table built once."""
    global _letters_cum
    if _letters_cum is None:
        with _lock:
            if _letters_cum is None:
                alpha = np.fromiter((chr(c).isalpha() for c in range(_N)), dtype=np.int32, count=_N)
                _letters_cum = np.concatenate([[0], np.cumsum(alpha)])
    cum = _letters_cum
    return int(sum(cum[hi + 1] - cum[lo] for lo, hi in ranges))


def _size(ranges: Ranges) -> int:
    return sum(hi - lo + 1 for lo, hi in ranges)


class _Unknown(Exception):
    """A construct the analysis does not model: be conservative."""


def _class_ranges(items: list[tuple[Any, Any]]) -> Ranges:
    out: Ranges = []
    for op, av in items:
        if op is _c.LITERAL:
            out.append((av, av))
        elif op is _c.RANGE:
            out.append((av[0], av[1]))
        elif op is _c.CATEGORY and av in (_c.CATEGORY_SPACE, _c.CATEGORY_UNI_SPACE):
            continue  # chunks never contain whitespace
        else:  # NEGATE, \w, \d (Unicode digits) ...: not modelled
            raise _Unknown(str(op))
    return out


def _pick(cands: list[Ranges]) -> Ranges | None:
    """The most selective necessary set: fewest letters, then fewest characters."""
    if not cands:
        return None
    return min(cands, key=lambda r: (_letter_count(r), _size(r)))


def _necessary(seq: Any) -> Ranges | None:
    """A character set of which every match of ``seq`` needs one character (None: no such set)."""
    cands: list[Ranges] = []
    for op, av in seq:
        if op is _c.LITERAL:
            cands.append([(av, av)])
        elif op is _c.IN:
            try:
                cands.append(_class_ranges(av))
            except _Unknown:  # e.g. \w: this item gives no candidate, others may
                pass
        elif op is _c.BRANCH:
            union: Ranges = []
            for alt in av[1]:
                r = _necessary(alt)
                if r is None:
                    break
                union += r
            else:
                cands.append(union)
        elif op is _c.SUBPATTERN:
            r = _necessary(av[-1])
            if r is not None:
                cands.append(r)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) or op is getattr(_c, "POSSESSIVE_REPEAT", None):
            if av[0] >= 1:
                r = _necessary(av[2])
                if r is not None:
                    cands.append(r)
        elif op is _c.ASSERT:  # positive look-around: what it sees is inside the searched chunk
            r = _necessary(av[1])
            if r is not None:
                cands.append(r)
        elif op in (_c.ASSERT_NOT, _c.AT):
            continue
        else:  # ANY, NOT_LITERAL, GROUPREF, ...: this item gives no candidate, others may
            continue
    return _pick(cands)


def trigger_chars(patterns: list[re.Pattern[str] | None]) -> frozenset[str] | None:
    """Characters without which none of ``patterns`` can match (None: analysis not possible)."""
    total: Ranges = []
    for pat in patterns:
        if pat is None:
            continue
        if pat.flags & re.IGNORECASE:
            return None
        try:
            parsed = list(_p.parse(pat.pattern, pat.flags))
            # spaCy joins its rules with "|": judge each alternative on its own
            alts = parsed[0][1][1] if len(parsed) == 1 and parsed[0][0] is _c.BRANCH else [parsed]
            for alt in alts:
                r = _necessary(alt)
                if r is None:
                    return None
                total += r
        except Exception:  # _Unknown, or a Python whose private parser changed shape: call spaCy instead
            return None
    chars: set[str] = set()
    for lo, hi in total:
        chars.update(map(chr, range(lo, hi + 1)))
    return frozenset(chars)


def spacy_trigger_chars(tokenizer: Any) -> frozenset[str] | None:
    """trigger_chars of a spaCy ``Tokenizer``'s prefix, suffix and infix patterns."""
    pats = []
    for attr in ("prefix_search", "suffix_search", "infix_finditer"):
        fn = getattr(tokenizer, attr, None)
        if fn is None:
            continue
        pat = getattr(fn, "__self__", None)
        if not isinstance(pat, re.Pattern):
            return None  # a custom callable: cannot analyse
        pats.append(pat)
    return trigger_chars(pats)
