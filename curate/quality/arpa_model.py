"""A pure-Python ARPA back-off n-gram scorer: the fallback when the ``kenlm`` package is missing.

Implements the scoring that KenLM's ``Model.score(sentence, bos=True, eos=True)`` does on an ARPA
file: words split on whitespace, unknown words scored as ``<unk>``, and

    log10 p(w | h) = log10 p(h, w)                      if the n-gram (h, w) is in the model
                   = backoff(h) + log10 p(w | h[1:])     otherwise (backoff(h) = 0 if h is absent)

summed over the words and ``</s>``, with ``<s>`` as the first context. The model lives in Python
dicts, so this is meant for small models (tests, demos, models built with ``arpa_builder``); for
CCNet's models install ``kenlm`` (``pip install kenlm``), which also reads KenLM binary files.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator

from curate.errors import CurateError

UNK = "<unk>"
BOS = "<s>"
EOS = "</s>"
UNK_LOG10 = -100.0  # what KenLM substitutes when an ARPA file has no <unk>


class ArpaFormatError(CurateError, ValueError):
    """The file is not a valid ARPA back-off model."""


def _lines(path: str) -> Iterator[str]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        for line in fh:
            yield line.rstrip("\n")


def is_arpa(path: str) -> bool:
    """True when the file starts (after blank lines) with ARPA's ``\\data\\`` header."""
    try:
        for line in _lines(path):
            if line.strip():
                return line.strip() == "\\data\\"
    except (UnicodeDecodeError, OSError, EOFError):
        return False
    return False


class ArpaModel:
    """An ARPA model in memory; ``score`` matches ``kenlm.Model.score`` (log10, natural word split)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.probs: dict[tuple[str, ...], float] = {}
        self.backoffs: dict[tuple[str, ...], float] = {}
        counts: dict[int, int] = {}
        section = 0  # 0 = before \data\, -1 = in \data\, n = in \n-grams:
        seen: dict[int, int] = {}
        for raw in _lines(path):
            line = raw.strip()
            if not line:
                continue
            if line == "\\data\\":
                section = -1
                continue
            if line == "\\end\\":
                break
            if line.startswith("\\") and line.endswith("-grams:"):
                try:
                    section = int(line[1:-len("-grams:")])
                except ValueError as exc:
                    raise ArpaFormatError(f"{path}: bad section header {line!r}") from exc
                continue
            if section == -1:
                if line.startswith("ngram ") and "=" in line:
                    n, _, c = line[6:].partition("=")
                    counts[int(n)] = int(c)
                continue
            if section <= 0:
                continue
            parts = line.split()
            if len(parts) < section + 1:
                raise ArpaFormatError(f"{path}: {section}-gram line {raw!r} has too few fields")
            key = tuple(parts[1:section + 1])
            self.probs[key] = float(parts[0])
            if len(parts) > section + 1:
                self.backoffs[key] = float(parts[section + 1])
            seen[section] = seen.get(section, 0) + 1
        if not counts:
            raise ArpaFormatError(f"{path}: no \\data\\ header with 'ngram N=count' lines; not an ARPA file")
        for n, c in counts.items():
            if seen.get(n, 0) != c:
                raise ArpaFormatError(f"{path}: header says {c} {n}-grams, the file has {seen.get(n, 0)}")
        self.order = max(counts)
        self.unk_log10 = self.probs.get((UNK,), UNK_LOG10)

    def __contains__(self, word: str) -> bool:
        return (word,) in self.probs

    def _word_log10(self, context: tuple[str, ...], word: str) -> float:
        """log10 p(word | context), backing off; ``context`` holds at most order-1 words."""
        total = 0.0
        for start in range(len(context) + 1):
            ctx = context[start:]
            p = self.probs.get((*ctx, word))
            if p is not None:
                return total + p
            total += self.backoffs.get(ctx, 0.0) if ctx else 0.0
        return total + self.unk_log10  # word itself unknown: p(<unk>)

    def score(self, sentence: str, bos: bool = True, eos: bool = True) -> float:
        """Total log10 probability of the whitespace-separated words (and ``</s>`` when ``eos``)."""
        words = [w if (w,) in self.probs else UNK for w in sentence.split()]
        if eos:
            words.append(EOS)
        history: list[str] = [BOS] if bos else []
        keep = self.order - 1
        total = 0.0
        for word in words:
            total += self._word_log10(tuple(history[-keep:]) if keep else (), word)
            history.append(word)
        return total
