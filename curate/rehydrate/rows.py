"""Column helpers of the ``rehydrate`` block, vectorised over an Arrow table.

The same functions run in ``prepare`` (budget totals over every shard) and in ``process`` (per
shard), so both see the same language, cluster size, weight, size and hash for every row.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from curate.blocks.columns import CLUSTER_SIZE, ID, LANG, TEXT, UNKNOWN_LANG
from curate.rehydrate.tables import RepetitionTable, repetitions_for_sizes
from curate.tokenizers.subword import load_tokenizer

_U64 = (1 << 64) - 1


def lang_column(table: pa.Table) -> pa.ChunkedArray:
    """``lang`` with null / empty as ``und``, like the runner's per-language counters."""
    if LANG not in table.column_names:
        return pa.chunked_array([pa.array([UNKNOWN_LANG] * table.num_rows, pa.string())])
    col = pc.fill_null(table.column(LANG).cast(pa.string()), UNKNOWN_LANG)
    return pc.if_else(pc.equal(col, ""), UNKNOWN_LANG, col)


def cluster_sizes(table: pa.Table) -> np.ndarray:
    """``minhash_cluster_size`` as int64; missing column, null or < 1 count as 1 (a unique document)."""
    if CLUSTER_SIZE not in table.column_names:
        return np.ones(table.num_rows, dtype=np.int64)
    sizes = pc.fill_null(table.column(CLUSTER_SIZE).cast(pa.int64()), 1).to_numpy()
    return np.maximum(sizes, 1)


def groups(langs: pa.ChunkedArray | pa.Array) -> dict[str, np.ndarray]:
    """Row indices per language (ascending within each language)."""
    encoded = pc.dictionary_encode(langs).combine_chunks() if isinstance(langs, pa.ChunkedArray) else \
        pc.dictionary_encode(langs)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    names = encoded.dictionary.to_pylist()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return {names[int(codes[part[0]])]: part for part in np.split(order, bounds) if part.size}


def row_weights(
    table: pa.Table, tables: Mapping[str, RepetitionTable], default: RepetitionTable,
    by_lang: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Repetitions (int64, >= 1) per row: its language's table at its cluster size."""
    sizes = cluster_sizes(table)
    out = np.ones(table.num_rows, dtype=np.int64)
    for lang, idx in (by_lang if by_lang is not None else groups(lang_column(table))).items():
        out[idx] = repetitions_for_sizes(tables.get(lang, default), sizes[idx])
    return out


def _text(table: pa.Table) -> pa.ChunkedArray:
    if TEXT not in table.column_names:
        return pa.chunked_array([pa.array([""] * table.num_rows, pa.string())])
    return pc.fill_null(table.column(TEXT).cast(pa.string()), "")


def word_counts(text: pa.ChunkedArray) -> np.ndarray:
    """Whitespace-separated words per text (Unicode whitespace), like ``len(str.split())``.

    ``utf8_split_whitespace`` alone also counts the empty strings before leading / after trailing
    whitespace (" a b " -> 4, "" -> 1); trimming first removes them.
    """
    trimmed = pc.utf8_trim_whitespace(text)
    counts = pc.list_value_length(pc.utf8_split_whitespace(trimmed))
    return pc.if_else(pc.equal(pc.utf8_length(trimmed), 0), 0, counts).to_numpy().astype(np.int64)


def row_units(table: pa.Table, unit: str, tokenizer: str | None = None) -> np.ndarray:
    """Size of each row in ``unit`` (int64): documents 1, UTF-8 bytes, whitespace words, or tokens.

    ``words``: :func:`word_counts`; ``tokens`` without a tokenizer is the same count.
    """
    n = table.num_rows
    if unit == "documents":
        return np.ones(n, dtype=np.int64)
    text = _text(table)
    if unit == "bytes":
        return pc.binary_length(text.cast(pa.binary())).to_numpy().astype(np.int64)
    if unit == "tokens" and tokenizer:
        tok = load_tokenizer(tokenizer)
        encoded = tok.encode_batch(text.to_pylist(), add_special_tokens=False)
        return np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=n)
    if unit in ("words", "tokens"):
        return word_counts(text)
    raise ValueError(f"unknown budget unit {unit!r}")


def row_hashes(table: pa.Table, seed: int) -> np.ndarray:
    """64-bit xxh3 of each row's ``id`` (its text when the id is missing) under ``seed``, as uint64.

    Depends on nothing but the document and the seed: not on the shard, the batch or the row order.
    """
    if ID in table.column_names:
        keys = pc.coalesce(table.column(ID).cast(pa.string()), _text(table))
    else:
        keys = _text(table)
    s = seed & _U64
    return np.fromiter((xxhash.xxh3_64_intdigest(k, seed=s) for k in keys.cast(pa.binary()).to_pylist()),
                       dtype=np.uint64, count=table.num_rows)
