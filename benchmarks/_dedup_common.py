"""Shared pieces of the dedup benchmarks: real-text sources and word edits (RESULTS.md writer: _results)."""

from __future__ import annotations

import gc
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from _results import REPO, SHARED, WORK, write_section

sys.path.insert(0, str(REPO / "tests"))
from dedup_harness import task_phase  # noqa: E402

from curate.storage.request_counter import difference, snapshot  # noqa: E402

  # the runner stand-in shared with the tests (dedup_harness)
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


SHARD_DOCS = 250_000
VOCAB = 5_000
# letters only: MinHash normalisation maps every digit to 0, so "w17" and "w42" would be the same word
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
WORDS = np.array(["".join(_LETTERS[np.random.default_rng(i).integers(0, 26, 3 + i % 6)]) for i in range(VOCAB)])


def short_docs_shard(n_docs: int, shard: int, seed: int) -> pa.Table:
    """Shard ``shard`` (``SHARD_DOCS`` each) of ``n_docs`` short documents (8-24 words of a 5,000-word
    vocabulary); 10% are copies and 5% near-copies (one word changed) of an earlier document anywhere."""
    rng = np.random.default_rng(seed * 1_000_003 + shard)
    lo = shard * SHARD_DOCS
    n = min(SHARD_DOCS, n_docs - lo)
    gid = np.arange(lo, lo + n)
    # each document's "source": itself, or (15%) an earlier document anywhere in the corpus
    src = gid.copy()
    kind = rng.random(n)
    copy = (kind < 0.15) & (gid > 0)
    src[copy] = (rng.random(copy.sum()) * gid[copy]).astype(np.int64)
    texts = []
    for g, s, k in zip(gid.tolist(), src.tolist(), kind.tolist(), strict=True):
        r = np.random.default_rng(s)
        words = WORDS[r.integers(0, VOCAB, int(r.integers(8, 25)))].tolist()
        if 0.10 <= k < 0.15 and g != s:  # a near-copy: one word changed
            words[int(k * 1000) % len(words)] = "zq" + "".join(_LETTERS[np.random.default_rng(g).integers(0, 26, 6)])
        texts.append(" ".join(words))
    return pa.table({"id": [f"doc-{g:010d}" for g in gid.tolist()], "text": texts, "lang": ["en"] * n})


def status_mib(key: str) -> float:
    """``VmRSS``, ``VmHWM``, ... of this process in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_task(fn: Any, item: Any) -> tuple[Any, dict[str, Any]]:
    """In a worker: ``fn(item)`` and what it cost: peak RSS (VmHWM reset before it), *growth* (that peak minus the
    RSS at the start: the task's own working set), CPU seconds and the requests it made (``counting::`` URLs)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    rest = status_mib("VmRSS")
    before = snapshot()
    cpu = time.process_time()
    result = fn(item)
    cpu = time.process_time() - cpu
    peak = status_mib("VmHWM")
    return result, {"peak": peak, "cpu": cpu, "growth": peak - rest, "requests": difference(snapshot(), before)}


def _measured(call: tuple[Any, Any]) -> tuple[Any, dict[str, Any]]:
    return measure_task(*call)


class MeasuredMap:
    """``job.map`` over a process pool that keeps each task's phase, peak and growth of memory, CPU, rows read
    (what the task reports) and bytes and GETs of its ``counting::`` URLs."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.tasks: list[dict[str, Any]] = []

    def __call__(self, fn: Any, items: list[Any]) -> list[Any]:
        out = list(self.pool.map(_measured, [(fn, item) for item in items]))
        for item, (res, cost) in zip(items, out, strict=True):
            req = cost["requests"]
            self.tasks.append({"phase": task_phase(fn, item), "peak": cost["peak"], "cpu": cost["cpu"],
                               "growth": cost["growth"], "bytes": int(req.get("get_bytes", 0)),
                               "gets": int(req.get("get", 0)),
                               "rows": int(res.get("rows_read", 0)) if isinstance(res, dict) else 0})
        return [r[0] for r in out]
