"""Shared pieces of the dedup benchmarks: real-text sources and word edits (RESULTS.md writer: _results)."""

from __future__ import annotations

import json
import random
import re
import sys

from _results import REPO, SHARED, WORK, write_section

sys.path.insert(0, str(REPO / "tests"))  # the runner stand-in shared with the tests (dedup_harness)
__all__ = ["SHARED", "WORK", "write_section"]


def gold_articles() -> list[str]:
    with open(SHARED / "extraction" / "scrapinghub_aeb_gold.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["articleBody"] for line in f]


def lingua_sentences() -> dict[str, list[str]]:
    """ISO 639-1 code -> its ~1000 real sentences."""
    out: dict[str, list[str]] = {}
    with open(SHARED / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            out.setdefault(rec["iso639_1"], []).append(rec["text"])
    return out


def english_sentences() -> list[str]:
    """Real English sentences: lingua's plus the gold articles split at sentence ends (~8k in all)."""
    sents = list(lingua_sentences()["en"])
    for art in gold_articles():
        sents.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", art) if len(s.split()) >= 4)
    return sents


def edit_words(text: str, rate: float, rng: random.Random) -> str:
    """Substitute each word with a fresh token with probability ``rate``."""
    return " ".join(w if rng.random() >= rate else f"x{rng.randrange(10**9)}" for w in text.split())


def rate_for_jaccard(target: float, n: int = 5) -> float:
    """Word substitution rate giving word-n-gram Jaccard ~target: kept share q=(1-r)^n, J=q/(2-q)."""
    q = 2 * target / (1 + target)
    return 1 - q ** (1 / n)
