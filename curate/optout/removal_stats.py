"""Per-language counters of what an opt-out step removed, beyond the runner's documents and bytes.

``words_removed`` (whitespace-separated words of the removed texts, as the output's ``words`` are counted),
``tokens_removed`` when the run counts tokens (``writer: {tokenizer: tokenizer.json}``: the same tokenizer and
count as the output's ``tokens``, :func:`curate.io.parquet_output.text_stats`) and
``removed_domain:<registered domain>`` (documents removed per domain, for the report's top domains). Returned
by the steps' ``batch_stats`` and summed over batches and shards like every extra counter.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.blocks.columns import LANG, TEXT, UNKNOWN_LANG, URL
from curate.optout.url_hosts import registered_domains, url_hosts
from curate.tokenizers.subword import load_tokenizer

DOMAIN_PREFIX = "removed_domain:"
WORDS = "words_removed"
TOKENS = "tokens_removed"


def _langs(table: pa.Table) -> list[str]:
    if LANG not in table.column_names:
        return [UNKNOWN_LANG] * table.num_rows
    return [v or UNKNOWN_LANG for v in table.column(LANG).to_pylist()]


def _words(texts: pa.ChunkedArray | pa.Array) -> np.ndarray:
    trimmed = pc.utf8_trim_whitespace(pc.fill_null(texts, ""))
    pieces = pc.list_value_length(pc.utf8_split_whitespace(trimmed)).to_numpy(zero_copy_only=False)
    empty = pc.equal(pc.utf8_length(trimmed), 0).to_numpy(zero_copy_only=False)
    return pieces.astype(np.int64) - empty.astype(np.int64)


def _tokens(texts: pa.ChunkedArray | pa.Array, tokenizer: str) -> list[int]:
    encoded = load_tokenizer(tokenizer).encode_batch(pc.fill_null(texts, "").to_pylist(), add_special_tokens=False)
    return [len(e.ids) for e in encoded]


def removal_stats(table: pa.Table, keep: np.ndarray, domains: bool = True,
                  tokenizer: str | None = None) -> dict[str, dict[str, int]]:
    """``{lang: {counter: n}}`` over the rows not kept (tokens with ``tokenizer``, a tokenizer.json)."""
    removed = np.flatnonzero(~keep)
    if not len(removed):
        return {}
    rows = table.take(pa.array(removed))
    langs = _langs(rows)
    out: dict[str, Counter[str]] = {}
    words = _words(rows.column(TEXT)) if TEXT in rows.column_names else np.zeros(len(removed), dtype=np.int64)
    if domains and URL in rows.column_names:
        names = registered_domains(url_hosts(rows.column(URL))).to_pylist()
    else:
        names = [None] * len(removed)
    tokens = _tokens(rows.column(TEXT), tokenizer) if tokenizer and TEXT in rows.column_names else None
    for i, (lang, n_words, domain) in enumerate(zip(langs, words.tolist(), names, strict=True)):
        entry = out.setdefault(lang, Counter())
        entry[WORDS] += n_words
        if tokenizer:
            entry[TOKENS] += tokens[i] if tokens is not None else 0
        if domain is not None:
            entry[DOMAIN_PREFIX + domain] += 1
    return {lang: dict(c) for lang, c in out.items()}
