"""Parquet output: one file per language (or one file), written to a temporary name and renamed.

Row groups are cut at a fixed row count, so the same rows give the same bytes whatever the
batch boundaries were upstream; nothing is visible under the final name until it is complete.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks.columns import HTML, LANG, TEXT, UNKNOWN_LANG

TMP_SUFFIX = ".tmp"


def lang_values(table: pa.Table) -> list[str]:
    if LANG not in table.column_names:
        return [UNKNOWN_LANG] * table.num_rows
    return [v if v else UNKNOWN_LANG for v in table.column(LANG).to_pylist()]


def split_by_lang(table: pa.Table) -> dict[str, pa.Table]:
    """Rows per language, in their original order."""
    if table.num_rows == 0:
        return {}
    langs = lang_values(table)
    if len(set(langs)) == 1:
        return {langs[0]: table}
    arr = pa.array(langs)
    return {lang: table.filter(pc.equal(arr, lang)) for lang in sorted(set(langs))}


def text_stats(table: pa.Table, tokenizer: str | None = None) -> dict[str, int]:
    """Documents, UTF-8 bytes and whitespace-separated words of the text column; with a
    tokenizer.json (Hugging Face ``tokenizers``), also tokens."""
    if table.num_rows == 0 or TEXT not in table.column_names:
        return {"documents": table.num_rows, "bytes": 0, "words": 0, **({"tokens": 0} if tokenizer else {})}
    text = pc.fill_null(table.column(TEXT), "")
    nbytes = pc.sum(pc.binary_length(text.cast(pa.binary()))).as_py() or 0
    # trim first: splitting " a b " gives empty words at the ends, and "" splits into [""]
    trimmed = pc.utf8_trim_whitespace(text)
    pieces = pc.sum(pc.list_value_length(pc.utf8_split_whitespace(trimmed))).as_py() or 0
    empty = pc.sum(pc.equal(pc.utf8_length(trimmed), 0).cast(pa.int64())).as_py() or 0
    words = pieces - empty
    stats = {"documents": table.num_rows, "bytes": int(nbytes), "words": int(words)}
    if tokenizer:
        from curate.rehydrate.rows import load_tokenizer

        encoded = load_tokenizer(tokenizer).encode_batch(text.to_pylist(), add_special_tokens=False)
        stats["tokens"] = sum(len(e.ids) for e in encoded)
    return stats


class ParquetOutput:
    """Buffers rows and writes ``<root>/<lang>/<name>`` (``partition_by_lang``) or ``<root>/<name>``."""

    def __init__(self, root: str, name: str, partition_by_lang: bool, compression: str = "zstd",
                 compression_level: int | None = 3, row_group_rows: int = 20_000,
                 tokenizer: str | None = None) -> None:
        self.root = root
        self.tokenizer = tokenizer
        self.name = name
        self.partition_by_lang = partition_by_lang
        self.compression = None if compression == "none" else compression
        self.compression_level = compression_level if compression == "zstd" else None
        self.row_group_rows = row_group_rows
        self._buffers: dict[str, list[pa.Table]] = defaultdict(list)

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if HTML in table.column_names:
            table = table.drop_columns([HTML])
        if self.partition_by_lang:
            for lang, part in split_by_lang(table).items():
                self._buffers[lang].append(part)
        else:
            self._buffers[""].append(table)

    def path_for(self, lang: str) -> str:
        return f"{self.root}/{lang}/{self.name}" if lang else f"{self.root}/{self.name}"

    def close(self) -> dict[str, dict[str, Any]]:
        """Write every buffered partition; returns per-language stats with the file written."""
        written: dict[str, dict[str, Any]] = {}
        for lang in sorted(self._buffers):
            parts = self._buffers[lang]
            table = pa.concat_tables(parts, promote_options="default") if len(parts) > 1 else parts[0]
            path = self.path_for(lang)
            write_parquet_atomic(table, path, self.compression, self.compression_level, self.row_group_rows)
            written[lang or "_all"] = {**text_stats(table, self.tokenizer), "file": path}
        self._buffers.clear()
        return written


def write_parquet_atomic(table: pa.Table, path: str, compression: str | None = "zstd",
                         compression_level: int | None = 3, row_group_rows: int = 20_000) -> None:
    fs, fs_path = fsspec.core.url_to_fs(path)
    fs.makedirs(os.path.dirname(fs_path), exist_ok=True)
    tmp = fs_path + TMP_SUFFIX
    with fs.open(tmp, "wb") as handle:
        pq.write_table(table, handle, compression=compression, compression_level=compression_level,
                       row_group_size=row_group_rows, write_statistics=True)
    fs.mv(tmp, fs_path)
