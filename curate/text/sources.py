"""Read documents for training and calibration: plain text, JSONL or Parquet, local or any fsspec URL.

* ``*.parquet``: the ``text`` column (``text_field``);
* ``*.jsonl`` / ``*.json`` / ``*.ndjson``: one JSON object per line, its ``text`` field;
* anything else: plain text, one document per line.

Compression is inferred from the name (``.gz``, ``.zst``, ``.bz2``, ``.xz``). When ``lang`` is given
and a record has a ``lang`` field (curate's output does), only records of that language are read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

import fsspec
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.languages.labels import normalize_label

_COMPRESSIONS = (".gz", ".zst", ".bz2", ".xz")



class TextSourceError(CurateError, ValueError):
    """A training or reference text file is missing, unreadable, or lacks the configured text field."""


def _base_name(path: str) -> str:
    name = path.lower()
    for ext in _COMPRESSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _open_text(path: str) -> object:
    return fsspec.open(path, "rt", encoding="utf-8", compression="infer")


def _parquet(path: str, text_field: str, lang: str | None) -> Iterator[str]:
    with fsspec.open(path, "rb") as fh:
        pf = pq.ParquetFile(fh)
        names = pf.schema_arrow.names
        if text_field not in names:
            raise TextSourceError(f"{path}: no column {text_field!r} (columns: {', '.join(names)}); "
                                    "pass --text-field")
        cols = [text_field] + (["lang"] if lang and "lang" in names else [])
        for batch in pf.iter_batches(columns=cols, batch_size=8192):
            texts = batch.column(text_field).to_pylist()
            langs = batch.column("lang").to_pylist() if len(cols) > 1 else [None] * len(texts)
            for text, row_lang in zip(texts, langs, strict=True):
                if row_lang is not None and normalize_label(row_lang) != lang:
                    continue
                if text:
                    yield text


def _jsonl(path: str, text_field: str, lang: str | None) -> Iterator[str]:
    with _open_text(path) as fh:  # type: ignore[attr-defined]
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TextSourceError(f"{path}:{lineno}: not JSON ({exc.msg}); JSONL needs one object per line") from exc
            if text_field not in rec:
                raise TextSourceError(f"{path}:{lineno}: no field {text_field!r} (fields: {', '.join(rec)}); "
                                        "pass --text-field")
            if lang and rec.get("lang") and normalize_label(str(rec["lang"])) != lang:
                continue
            if rec[text_field]:
                yield str(rec[text_field])


def _plain(path: str) -> Iterator[str]:
    with _open_text(path) as fh:  # type: ignore[attr-defined]
        for line in fh:
            line = line.strip()
            if line:
                yield line


def iter_documents(paths: Iterable[str], text_field: str = "text", lang: str | None = None,
                   plain: Callable[[str], Iterator[str]] | None = None) -> Iterator[str]:
    """Every non-empty document of ``paths``, in order. Plain text is one document per line, or
    whatever ``plain(path)`` yields (``curate calibrate`` splits on blank lines)."""
    for path in paths:
        base = _base_name(path)
        try:
            if base.endswith(".parquet"):
                yield from _parquet(path, text_field, lang)
            elif base.endswith((".jsonl", ".json", ".ndjson")):
                yield from _jsonl(path, text_field, lang)
            else:
                yield from (plain or _plain)(path)
        except FileNotFoundError as exc:
            raise TextSourceError(f"{path}: no such file") from exc
        except UnicodeDecodeError as exc:
            raise TextSourceError(f"{path}: not UTF-8 text ({exc.reason})") from exc


def read_documents(paths: Iterable[str], text_field: str = "text", lang: str | None = None,
                   limit: int | None = None) -> list[str]:
    """The documents of ``paths`` as a list (at most ``limit``)."""
    out: list[str] = []
    for doc in iter_documents(paths, text_field, lang):
        out.append(doc)
        if limit is not None and len(out) >= limit:
            break
    return out
