"""Parquet output: one file per language (or one file), written to a temporary name and renamed.

Rows are written in row groups as they come (memory bounded by a row group, not the shard); row
groups are cut at fixed row positions, so the same rows give the same bytes whatever the batch
boundaries were upstream; nothing is visible under the final name until it is complete.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from curate.blocks.columns import HTML, LANG, TEXT, UNKNOWN_LANG
from curate.io.partition_dir import partition_dir
from curate.io.row_group_writer import RowGroupWriter
from curate.tokenizers.subword import load_tokenizer


def lang_values(table: pa.Table) -> list[str]:
    if LANG not in table.column_names:
        return [UNKNOWN_LANG] * table.num_rows
    return [str(v) if v else UNKNOWN_LANG for v in table.column(LANG).to_pylist()]


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
        encoded = load_tokenizer(tokenizer).encode_batch(text.to_pylist(), add_special_tokens=False)
        stats["tokens"] = sum(len(e.ids) for e in encoded)
    return stats


class ParquetOutput:
    """Writes ``<root>/<lang>/<name>`` (``partition_by_lang``; ``<lang>`` made a safe folder name by
    :func:`~curate.io.partition_dir.partition_dir`) or ``<root>/<name>`` as rows come, one
    :class:`~curate.io.row_group_writer.RowGroupWriter` per language: a worker holds at most one
    row group per language, whatever the shard's size."""

    def __init__(self, root: str, name: str, partition_by_lang: bool, compression: str = "zstd",
                 compression_level: int | None = 3, row_group_rows: int = 20_000,
                 row_group_bytes: int = 8 * 2**20, tokenizer: str | None = None) -> None:
        self.root = root
        self.tokenizer = tokenizer
        self.name = name
        self.partition_by_lang = partition_by_lang
        self.compression = None if compression == "none" else compression
        self.compression_level = compression_level if compression == "zstd" else None
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes
        self._writers: dict[str, RowGroupWriter] = {}
        self._stats: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if HTML in table.column_names:
            table = table.drop_columns([HTML])
        parts = split_by_lang(table) if self.partition_by_lang else {"": table}
        for lang, part in parts.items():
            if lang not in self._writers:
                self._writers[lang] = RowGroupWriter(self.path_for(lang), self.compression, self.compression_level,
                                                     self.row_group_rows, self.row_group_bytes)
            self._writers[lang].add(part)
            self._stats[lang].update(text_stats(part, self.tokenizer))

    def path_for(self, lang: str) -> str:
        """``<root>/<lang>/<name>``: the language's folder made safe (:func:`partition_dir`) whatever the data says."""
        return f"{self.root}/{partition_dir(lang)}/{self.name}" if self.partition_by_lang else f"{self.root}/{self.name}"

    def close(self) -> dict[str, dict[str, Any]]:
        """Finish every partition; returns per-language stats with the file written."""
        written: dict[str, dict[str, Any]] = {}
        try:
            for lang in sorted(self._writers):
                self._writers[lang].close()
                written[lang or "_all"] = {**dict(self._stats[lang]), "file": self.path_for(lang)}
        except BaseException:
            self.abort()
            raise
        self._writers.clear()
        self._stats.clear()
        return written

    def abort(self) -> None:
        """Drop what was written so far (temporary files only; nothing final exists yet)."""
        for writer in self._writers.values():
            writer.abort()
        self._writers.clear()


