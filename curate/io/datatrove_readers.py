"""Readers for what datatrove writes, so a datatrove run's output is a curate input.

datatrove's ``JsonlWriter`` writes one ``{"text", "id", "metadata": {...}}`` object per line (``.jsonl.gz`` by
default; ``media`` too when a document has any); its ``ParquetWriter`` writes columns ``text``, ``id`` and
``metadata`` (a struct). With ``expand_metadata=True`` both put the metadata keys at the top level instead. These
readers accept all of those shapes (and ``metadata`` stored as a JSON string, as datatrove's own readers do):

* ``id`` and ``text`` -> the same columns (a missing id becomes a hash of file and position, like curate's readers);
* ``metadata.url`` / ``metadata.date`` -> ``url`` / ``date`` (strings); ``source`` is the file read;
* ``metadata.language`` (+ ``language_script``) -> ``lang`` as an ``xxx_Scrp`` key, ``language_score`` ->
  ``lang_score`` (``lang_from_metadata``, on by default: a datatrove run that did language ID feeds curate's
  per-language steps without running ``langid`` again);
* every other metadata key -> a column of its own name (``dump``, ``file_path``, ``token_count``,
  ``minhash_cluster_size`` -- which curate's rehydration reads, ...), kept as well as mapped for ``language*``.
  Names taken by curate's own columns (``id``, ``text``, ``html``, ``source``, ...) get a ``metadata_`` prefix.
  With ``metadata: json`` they go instead into one string column ``metadata`` holding a JSON object.

Parquet keeps the file's Arrow types. JSON values get one Arrow type per key for the whole file (fixed the first
time the key has a value, or by ``metadata_types``); a line whose value does not fit is counted as
``errored:metadata_type`` with the file and line, like any other bad line, and reading goes on.

Settings (YAML ``input.options``): ``text_key``, ``id_key``, ``url_key``, ``date_key``, ``metadata``
(``columns`` | ``json``), ``lang_from_metadata``, ``metadata_types`` (``{key: int64|float64|string|bool|...}``).
Neither reader needs datatrove installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks.column_types import ColumnTypes, misfit_message, parse_type
from curate.blocks.columns import DATE, HTML, ID, LANG, LANG_SCORE, READER_SCHEMA, SOURCE, TEXT, URL
from curate.io.json_object_line import json_object_line
from curate.io.parquet_reader import MissingColumnError
from curate.io.read_counts import ReadCounts
from curate.io.reader_base import Reader
from curate.io.text_column import TextColumn
from curate.io.warc_reader import record_id_for
from curate.languages.labels import normalize_label

MetadataMode = Literal["columns", "json"]
LANGUAGE, LANGUAGE_SCRIPT, LANGUAGE_SCORE = "language", "language_script", "language_score"
# columns curate owns: a metadata key of the same name is kept under a prefixed name
_RESERVED = frozenset(READER_SCHEMA.names) | {LANG, LANG_SCORE, "drop_stage", "drop_reason"}
_PREFIX = "metadata_"

try:  # datatrove writes with orjson; it is faster when present, json works the same
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads


def _column_name(key: str, lang_mapped: bool) -> str:
    reserved = _RESERVED if lang_mapped else _RESERVED - {LANG, LANG_SCORE}
    return _PREFIX + key if key in reserved else key


def _json_text(extras: dict[str, Any]) -> str | None:
    return json.dumps(extras, ensure_ascii=False, sort_keys=True, default=str) if extras else None


def _lang_of(language: Any, script: Any) -> str | None:
    return normalize_label(str(language), script if isinstance(script, str) else None) if language else None


def _score(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


class _Settings:
    def __init__(self, text_key: str, id_key: str, url_key: str, date_key: str, metadata: MetadataMode,
                 lang_from_metadata: bool, metadata_types: dict[str, str] | None) -> None:
        if metadata not in ("columns", "json"):
            raise ValueError(f"metadata must be 'columns' or 'json', got {metadata!r}")
        self.text_key, self.id_key, self.url_key, self.date_key = text_key, id_key, url_key, date_key
        self.metadata = metadata
        self.lang_from_metadata = lang_from_metadata
        self.metadata_types = dict(metadata_types or {})

    def column_types(self) -> ColumnTypes:
        return ColumnTypes({_column_name(k, self.lang_from_metadata): parse_type(v, k)
                            for k, v in self.metadata_types.items()})


class _DatatroveReader(Reader):
    """Settings both datatrove readers take (see the module docstring)."""

    def __init__(self, batch_size: int = 256, text_key: str = "text", id_key: str = "id", url_key: str = "url",
                 date_key: str = "date", metadata: MetadataMode = "columns", lang_from_metadata: bool = True,
                 metadata_types: dict[str, str] | None = None) -> None:
        super().__init__(batch_size)
        self.settings = _Settings(text_key, id_key, url_key, date_key, metadata, lang_from_metadata, metadata_types)


class DatatroveJsonlReader(_DatatroveReader):
    """datatrove ``JsonlWriter`` output (``.jsonl``, ``.jsonl.gz``, ``.jsonl.zst``); see the module docstring."""

    name: ClassVar[str] = "datatrove_jsonl"
    suffixes: ClassVar[tuple[str, ...]] = ()  # same file names as plain JSONL: chosen with input.format only

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:
        s = self.settings
        types = s.column_types()  # one type per key for the whole file
        rows: list[tuple[int, dict[str, Any], dict[str, Any]]] = []  # (line, canonical values, extras)
        with fsspec.open(path, "rb", compression="infer") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                counts.records += 1
                obj = json_object_line(line, path, line_no, counts, _loads)
                if obj is None:
                    continue
                text = obj.get(s.text_key)
                if not isinstance(text, str) or not text.strip():
                    counts.skip("empty")
                    continue
                meta = obj.get("metadata")
                if isinstance(meta, str):  # some writers store metadata as a JSON string
                    try:
                        meta = json.loads(meta)
                    except ValueError:
                        meta = {"metadata": meta}
                # expand_metadata=True puts the keys at the top level: take those too
                extras = {k: v for k, v in obj.items() if k not in (s.text_key, s.id_key, "metadata", "media")}
                if isinstance(meta, dict):
                    extras.update(meta)
                elif meta is not None:
                    extras["metadata"] = meta
                raw_id = obj.get(s.id_key)
                url, date = extras.pop(s.url_key, None), extras.pop(s.date_key, None)
                base = {
                    ID: str(raw_id) if raw_id is not None else record_id_for(None, path, line_no),
                    URL: None if url is None else str(url),
                    DATE: None if date is None else str(date),
                    TEXT: text,
                }
                if s.lang_from_metadata and extras.get(LANGUAGE):
                    base[LANG] = _lang_of(extras.get(LANGUAGE), extras.get(LANGUAGE_SCRIPT))
                    base[LANG_SCORE] = _score(extras.get(LANGUAGE_SCORE))
                rows.append((line_no, base, extras))
                if len(rows) >= self.batch_size:
                    table = self._table(rows, path, types, counts)
                    rows = []
                    if table is not None:
                        yield table
        if rows:
            table = self._table(rows, path, types, counts)
            if table is not None:
                yield table

    def _table(self, rows: list[tuple[int, dict[str, Any], dict[str, Any]]], path: str, types: ColumnTypes,
               counts: ReadCounts) -> pa.Table | None:
        s = self.settings
        n = len(rows)
        cols: dict[str, pa.Array] = {
            ID: pa.array([b[ID] for _, b, _ in rows], pa.string()),
            URL: pa.array([b[URL] for _, b, _ in rows], pa.string()),
            DATE: pa.array([b[DATE] for _, b, _ in rows], pa.string()),
            SOURCE: pa.array([path] * n, pa.string()),
            HTML: pa.nulls(n, pa.string()),
            TEXT: pa.array([b[TEXT] for _, b, _ in rows], pa.string()),
        }
        if any(LANG in b for _, b, _ in rows):
            cols[LANG] = pa.array([b.get(LANG) for _, b, _ in rows], pa.string())
            cols[LANG_SCORE] = pa.array([b.get(LANG_SCORE) for _, b, _ in rows], pa.float64())
        bad: dict[int, str] = {}
        if s.metadata == "json":
            cols["metadata"] = pa.array([_json_text(e) for _, _, e in rows], pa.string())
        else:
            keys: dict[str, None] = {}
            for _, _, extras in rows:
                keys.update(dict.fromkeys(extras))
            for key in keys:
                name = _column_name(key, s.lang_from_metadata)
                values = [e.get(key) for _, _, e in rows]
                arr, misfits = types.build(name, values)
                for i in misfits:
                    bad.setdefault(i, misfit_message(key, types.types.get(name), values[i]))
                cols[name] = arr
        table = pa.table(cols)
        if bad:
            for i, message in sorted(bad.items()):
                counts.error("metadata_type", f"{path}:{rows[i][0]}: {message}")
            table = table.filter(pa.array([i not in bad for i in range(n)]))
        counts.emitted += table.num_rows
        return table if table.num_rows else None


class DatatroveParquetReader(_DatatroveReader):
    """datatrove ``ParquetWriter`` output (``.parquet``); see the module docstring."""

    name: ClassVar[str] = "datatrove_parquet"
    suffixes: ClassVar[tuple[str, ...]] = ()  # same file names as plain Parquet: chosen with input.format only

    def __init__(self, batch_size: int = 1024, **settings: Any) -> None:
        super().__init__(batch_size, **settings)

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:
        s = self.settings
        types = s.column_types()  # used only for metadata stored as JSON strings
        with fsspec.open(path, "rb") as handle:
            pfile = pq.ParquetFile(handle)
            names = pfile.schema_arrow.names
            if s.text_key not in names:
                raise MissingColumnError(f"{path}: no column {s.text_key!r} (columns: {sorted(names)}); "
                                 "is this a datatrove ParquetWriter output? set input.options.text_key")
            wanted = [c for c in names if c != "media"]  # media bytes are not text data
            offset = 0
            for batch in pfile.iter_batches(batch_size=self.batch_size, columns=wanted):
                n = batch.num_rows
                counts.records += n
                table = self._table(batch, path, offset, types, counts)
                offset += n
                if table is not None:
                    yield table

    def _metadata_arrays(self, batch: pa.RecordBatch, types: ColumnTypes
                         ) -> tuple[dict[str, pa.Array], dict[int, str]]:
        """Every metadata key as an array: struct children, top-level extra columns, or parsed JSON strings."""
        s = self.settings
        out: dict[str, pa.Array] = {}
        bad: dict[int, str] = {}
        for name in batch.schema.names:
            if name not in (s.text_key, s.id_key, "metadata"):
                out[name] = batch.column(name)
        if "metadata" in batch.schema.names:
            meta = batch.column("metadata")
            if pa.types.is_struct(meta.type):
                for field, child in zip(meta.type, meta.flatten(), strict=True):
                    out[field.name] = child
            elif pa.types.is_string(meta.type) or pa.types.is_large_string(meta.type):
                dicts = []
                for raw in meta.to_pylist():
                    try:
                        value = json.loads(raw) if raw else {}
                    except ValueError:
                        value = {"metadata": raw}
                    dicts.append(value if isinstance(value, dict) else {"metadata": value})
                keys: dict[str, None] = {}
                for d in dicts:
                    keys.update(dict.fromkeys(d))
                for key in keys:
                    values = [d.get(key) for d in dicts]
                    arr, misfits = types.build(key, values)
                    for i in misfits:
                        bad.setdefault(i, misfit_message(key, types.types.get(key), values[i]))
                    out[key] = arr
            else:
                out["metadata"] = meta
        return out, bad

    def _table(self, batch: pa.RecordBatch, path: str, offset: int, types: ColumnTypes,
               counts: ReadCounts) -> pa.Table | None:
        s = self.settings
        n = batch.num_rows
        text, bad_utf8 = TextColumn(batch.column(s.text_key)).strings()  # invalid UTF-8 rows: null, listed
        if s.id_key in batch.schema.names:
            ids = batch.column(s.id_key).cast(pa.string())
            if ids.null_count:
                ids = pa.array([v if v is not None else record_id_for(None, path, offset + i)
                                for i, v in enumerate(ids.to_pylist())], pa.string())
        else:
            ids = pa.array([record_id_for(None, path, offset + i) for i in range(n)], pa.string())
        extras, bad = self._metadata_arrays(batch, types)

        def as_string(key: str) -> pa.Array:
            arr = extras.pop(key, None)
            return pa.nulls(n, pa.string()) if arr is None else arr.cast(pa.string())

        cols: dict[str, pa.Array] = {
            ID: ids, URL: as_string(s.url_key), DATE: as_string(s.date_key),
            SOURCE: pa.array([path] * n, pa.string()), HTML: pa.nulls(n, pa.string()), TEXT: text,
        }
        if s.lang_from_metadata and LANGUAGE in extras and extras[LANGUAGE].null_count < n:
            scripts = extras[LANGUAGE_SCRIPT].to_pylist() if LANGUAGE_SCRIPT in extras else [None] * n
            cols[LANG] = pa.array([_lang_of(v, sc) for v, sc in zip(extras[LANGUAGE].to_pylist(), scripts,
                                                                     strict=True)], pa.string())
            score = extras.get(LANGUAGE_SCORE)
            cols[LANG_SCORE] = (pa.array([_score(v) for v in score.to_pylist()], pa.float64())
                                if score is not None else pa.nulls(n, pa.float64()))
        if s.metadata == "json":
            if extras:
                rows = pa.table(extras).to_pylist()
                cols["metadata"] = pa.array([_json_text({k: v for k, v in r.items() if v is not None})
                                             for r in rows], pa.string())
            else:
                cols["metadata"] = pa.nulls(n, pa.string())
        else:
            for key, arr in extras.items():
                cols[_column_name(key, s.lang_from_metadata)] = arr
        table = pa.table(cols)
        nonempty = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), False)
        keep = nonempty.to_pylist()
        for i, message in sorted(bad.items()):
            if keep[i]:
                keep[i] = False
                counts.error("metadata_type", f"{path}: row {offset + i}: {message}")
        for i in bad_utf8:
            counts.error("invalid_utf8", f"{path}: row {offset + i}: column {s.text_key!r} is not valid UTF-8; "
                         "the row was skipped (re-encode the file's text as UTF-8)")
        empty = n - sum(nonempty.to_pylist()) - len(bad_utf8)
        if empty:
            counts.skipped["empty"] += empty
        if not all(keep):
            table = table.filter(pa.array(keep))
        counts.emitted += table.num_rows
        return table if table.num_rows else None
