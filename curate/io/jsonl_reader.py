"""JSONL reader (``.jsonl``, ``.jsonl.gz``, ``.jsonl.zst``): one document per line."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import fsspec
import pyarrow as pa
import zstandard

from curate.io.json_object_line import json_object_line
from curate.io.read_counts import ReadCounts
from curate.io.reader_base import BatchBuilder, Reader
from curate.io.record_converter import record_id_for


class JsonlReader(Reader):
    """Reads ``{"text": ..., "id": ..., "url": ...}`` lines; field names are settings.

    A line that is not JSON, is not valid UTF-8, or has no text, is counted (``errored:bad_json``,
    ``errored:invalid_utf8``, ``skipped:empty``) with the file and line number, and reading goes
    on. Invalid UTF-8 is never replaced behind the user's back: the line is an error to fix.
    """

    name: ClassVar[str] = "jsonl"
    suffixes: ClassVar[tuple[str, ...]] = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".json.gz", ".ndjson")

    def __init__(
        self, batch_size: int = 256, text_key: str = "text", id_key: str = "id", url_key: str = "url",
        date_key: str = "date",
    ) -> None:
        super().__init__(batch_size)
        self.text_key, self.id_key, self.url_key, self.date_key = text_key, id_key, url_key, date_key

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:
        builder = BatchBuilder(self.batch_size)
        state = {"line": 0}
        try:
            yield from self._read(path, counts, builder, state)
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:  # damaged compression
            counts.records += 1  # the lines after it cannot be counted: one error
            counts.error("unreadable_rest", f"{path}: after line {state['line']}: {exc}; the rest of the file "
                         "cannot be decompressed (re-download or re-create it)")
        last = builder.flush()
        if last is not None:
            yield last

    def _read(self, path: str, counts: ReadCounts, builder: BatchBuilder, state: dict[str, int]
              ) -> Iterator[pa.Table]:
        with fsspec.open(path, "rb", compression="infer") as handle:
            for line_no, raw in enumerate(_lines(handle), start=1):
                state["line"] = line_no
                if not raw.strip():
                    continue
                counts.records += 1
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    counts.error("invalid_utf8", f"{path}:{line_no}: not valid UTF-8 at byte {exc.start} of the "
                                 "line; the line was skipped (re-encode the file as UTF-8)")
                    continue
                obj = json_object_line(line, path, line_no, counts)
                if obj is None:
                    continue
                text = obj.get(self.text_key)
                if not isinstance(text, str) or not text.strip():
                    counts.skip("empty")
                    continue
                meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
                raw_id = obj.get(self.id_key)
                row = {
                    "id": str(raw_id) if raw_id is not None else record_id_for(None, path, line_no),
                    "url": _str(obj.get(self.url_key) or meta.get(self.url_key)),
                    "date": _str(obj.get(self.date_key) or meta.get(self.date_key)),
                    "source": path, "html": None, "text": text,
                }
                if _SURROGATE_ESCAPE.search(raw) and not _encodable(row):
                    counts.error("invalid_utf8", f"{path}:{line_no}: a \\u escape stands for half a UTF-16 pair "
                                 "(no character); the line was skipped (fix the writer's escaping)")
                    continue
                counts.emitted += 1
                table = builder.add(**row)
                if table is not None:
                    yield table


# JSON may escape a lone UTF-16 surrogate ("\ud800"): a str Arrow cannot store
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _encodable(row: dict[str, str | None]) -> bool:
    try:
        for value in row.values():
            if value is not None:
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lines(handle: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Byte lines of any fsspec stream (zstd readers have no ``readline``)."""
    rest = b""
    while chunk := handle.read(chunk_size):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def _str(value: object) -> str | None:
    return None if value is None else str(value)
