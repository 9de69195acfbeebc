"""Build a small back-off n-gram model from tokenised sentences and write it as an ARPA file.

``kenlm`` on PyPI can query models but not estimate them (``lmplz`` is a separate C++ build), so
this module lets tests, benchmarks and users of languages without a CCNet model make a model from
reference text with nothing but Python. Estimation: absolute discounting with Katz-style
normalised back-off (Ney, Essen & Kneser 1994), discount per order ``D = n1 / (n1 + 2 n2)``
(clipped to [0.1, 0.9]); unigrams by maximum likelihood with the Good-Turing unseen mass
``n1 / N`` given to ``<unk>``. Every conditional distribution sums to one, so perplexities are
comparable across documents. It is not Kneser-Ney: use KenLM's ``lmplz`` for large, serious models.

Sentences must be tokenised exactly as they will be scored (see
:meth:`curate.quality.perplexity_scorer.PerplexityScorer.token_lines`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from curate.quality.arpa_model import BOS, EOS, UNK

_NEVER = -99.0  # log10 "probability" ARPA files give <s>, which is never predicted


def _discount(counts: Counter[tuple[str, ...]]) -> float:
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    d = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
    return min(0.9, max(0.1, d))


def build_arpa(sentences: Iterable[list[str]], order: int = 3) -> str:
    """The ARPA text of an ``order``-gram model of ``sentences`` (lists of tokens, without <s>/</s>)."""
    if order < 1:
        raise ValueError("order must be >= 1")
    counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order + 1)]
    n_sent = 0
    for tokens in sentences:
        words = [BOS, *[t for t in tokens if t and not t.isspace()], EOS]
        n_sent += 1
        for n in range(1, order + 1):
            for i in range(len(words) - n + 1):
                counts[n][tuple(words[i:i + n])] += 1
    if n_sent == 0:
        raise ValueError("no sentences to build a language model from")

    # unigrams: ML over the real words and </s>, Good-Turing unseen mass to <unk>
    uni = {k: c for k, c in counts[1].items() if k != (BOS,)}
    total = sum(uni.values())
    singletons = sum(1 for c in uni.values() if c == 1)
    unseen = max(singletons, 1) / (total + max(singletons, 1))
    prob: list[dict[tuple[str, ...], float]] = [{} for _ in range(order + 1)]
    backoff: list[dict[tuple[str, ...], float]] = [{} for _ in range(order + 1)]
    for k, c in uni.items():
        prob[1][k] = (1.0 - unseen) * c / total
    prob[1][(UNK,)] = unseen

    def p_backed_off(n: int, context: tuple[str, ...], word: str) -> float:
        """p(word | context) of the model of order ``n`` (context length n-1) built so far."""
        if n == 1:
            return prob[1].get((word,), prob[1][(UNK,)])
        p = prob[n].get((*context, word))
        if p is not None:
            return p
        return backoff[n - 1].get(context, 1.0) * p_backed_off(n - 1, context[1:], word)

    for n in range(2, order + 1):
        d = _discount(counts[n])
        followers: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
        for gram, c in counts[n].items():
            followers[gram[:-1]].append((gram[-1], c))
        for context, items in followers.items():
            ctx_total = sum(c for _, c in items)
            for word, c in items:
                prob[n][(*context, word)] = (c - d) / ctx_total
            left = d * len(items) / ctx_total
            lower_seen = sum(p_backed_off(n - 1, context[1:], word) for word, _ in items)
            backoff[n - 1][context] = left / max(1.0 - lower_seen, 1e-12)

    lines = ["", "\\data\\"]
    sizes = [len(prob[1]) + 1] + [len(prob[n]) for n in range(2, order + 1)]  # +1: <s>
    lines += [f"ngram {n}={size}" for n, size in enumerate(sizes, start=1)]

    def fmt_bow(n: int, gram: tuple[str, ...]) -> str:
        if n == order:
            return ""
        b = backoff[n].get(gram)
        return f"\t{math.log10(b):.6f}" if b is not None and b > 0 else "\t0"

    lines += ["", "\\1-grams:", f"{_NEVER:.6f}\t{BOS}{fmt_bow(1, (BOS,))}"]
    for gram in sorted(prob[1]):
        lines.append(f"{math.log10(prob[1][gram]):.6f}\t{gram[0]}{fmt_bow(1, gram)}")
    for n in range(2, order + 1):
        lines += ["", f"\\{n}-grams:"]
        for gram in sorted(prob[n]):
            lines.append(f"{math.log10(prob[n][gram]):.6f}\t{' '.join(gram)}{fmt_bow(n, gram)}")
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)
