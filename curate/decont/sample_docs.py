"""A corpus sample for the common n-gram rule: (text, language) of documents from Parquet or JSONL.

Paths are files, globs or folders (any fsspec URL); a folder is read recursively, skipping curate's own
bookkeeping (``_removed``, ``_stats``, ``_markers``, ...), so a curate output folder is a sample as it is. The
``lang`` column or field is used when present (curate's output has it), else ``und``. Files are read in sorted
order, so the same paths give the same sample.
"""

from __future__ import annotations

from collections.abc import Iterator

import fsspec
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from curate.decont.errors import EvalSetError

_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".jsonl.gz", ".jsonl.zst", ".json")


def _paths(spec: str) -> list[str]:
    fs, root = fsspec.core.url_to_fs(spec)
    protocol = spec.split("://", 1)[0] + "://" if "://" in spec else ""
    if any(c in root for c in "*?["):
        found = sorted(fs.glob(root))
    elif fs.isdir(root):
        found = sorted(p for p in fs.find(root) if "/_" not in p[len(root.rstrip("/")):])
    elif fs.exists(root):
        return [spec]
    else:
        raise EvalSetError(f"corpus sample {spec}: no such file or folder")
    return [protocol + p if protocol else p for p in found if p.lower().endswith(_SUFFIXES)]


def _table(path: str) -> pa.Table:
    with fsspec.open(path, "rb", compression="infer") as fh:
        if path.lower().endswith(".parquet"):
            names = pq.ParquetFile(fh).schema_arrow.names
            fh.seek(0)
            return pq.read_table(fh, columns=[c for c in ("text", "lang") if c in names])
        try:
            return pa_json.read_json(fh)
        except pa.ArrowInvalid as exc:
            raise EvalSetError(f"corpus sample {path}: not JSON lines ({exc})") from None


def _rows(path: str) -> Iterator[tuple[str, str]]:
    table = _table(path)
    if "text" not in table.column_names:
        raise EvalSetError(f"corpus sample {path}: no 'text' column (columns: {', '.join(table.column_names)})")
    texts = table.column("text").to_pylist()
    langs = table.column("lang").to_pylist() if "lang" in table.column_names else ["und"] * len(texts)
    for text, lang in zip(texts, langs, strict=True):
        if text:
            yield str(text), str(lang or "und")


def read_sample(paths: list[str], limit: int | None = None) -> list[tuple[str, str]]:
    """(text, language) of the documents of ``paths``, at most ``limit``."""
    out: list[tuple[str, str]] = []
    for spec in paths:
        for path in _paths(spec):
            for row in _rows(path):
                out.append(row)
                if limit is not None and len(out) >= limit:
                    return out
    return out
