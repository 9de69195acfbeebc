"""WARC / WET reader on FastWARC.

Handles per-record gzip, whole-file single gzip member (FastWARC's own decompressor stops on
those; we fall back to Python's gzip and continue where it stopped), plain ``.warc``, WET
``conversion`` records (text, no extraction needed) and any fsspec URL. Every record is
accounted for: emitted, skipped by reason, or errored with the file and record named.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from typing import Any, ClassVar

import fsspec
import pyarrow as pa
from fastwarc.warc import ArchiveIterator, WarcRecordType

from curate.io.http_payload import (
    HTML_MIME_TYPES,
    PayloadDecodeError,
    body_to_text,
    body_to_utf8,
    decode_body,
    looks_like_html,
    mime_type,
)
from curate.io.read_counts import ReadCounts
from curate.io.reader_base import BatchBuilder, Reader


def _type_name(record_type: Any) -> str:
    # WarcRecordType is not hashable in FastWARC 2; its str() is "WarcRecordType.response"
    return str(record_type).rsplit(".", 1)[-1]


class _FallBackToPythonGzip(Exception):
    def __init__(self, done: int) -> None:
        self.done = done


def record_id_for(record_id: str | None, source: str, position: int) -> str:
    """Stable id: the WARC-Record-ID, else a hash of source and record position."""
    if record_id:
        return record_id.strip()
    return "sha1:" + hashlib.sha1(f"{source}#{position}".encode()).hexdigest()


class WarcReader(Reader):
    """Reads WARC and WET files (``.warc``, ``.warc.gz``, ``.wet.gz``), local or fsspec URLs.

    Settings: ``max_bytes`` skips bodies larger than this (huge pages: counted as
    ``skipped:too_large``); ``html_only`` drops non-HTML responses (``skipped:non_html:<mime>``).
    """

    name: ClassVar[str] = "warc"
    suffixes: ClassVar[tuple[str, ...]] = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc.gz")

    def __init__(self, batch_size: int = 256, max_bytes: int = 10_000_000, html_only: bool = True) -> None:
        super().__init__(batch_size)
        self.max_bytes = max_bytes
        self.html_only = html_only

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:
        builder = BatchBuilder(self.batch_size)
        try:
            with fsspec.open(path, "rb") as raw:
                yield from self._iterate(raw, path, counts, builder, skip=0, native=True)
        except _FallBackToPythonGzip as fallback:
            with fsspec.open(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as unzipped:
                yield from self._iterate(unzipped, path, counts, builder, skip=fallback.done, native=False)
        last = builder.flush()
        if last is not None:
            yield last

    def _iterate(
        self, stream: Any, path: str, counts: ReadCounts, builder: BatchBuilder, skip: int, native: bool
    ) -> Iterator[pa.Table]:
        iterator = ArchiveIterator(
            stream,
            record_types=WarcRecordType.any_type,
            parse_http=True,
            auto_decode="none",
            stream_detect=native,
            fsspec_args=False,
        )
        position = 0
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                return position
            except (OSError, EOFError) as exc:
                if native and "decompress" in str(exc).lower():
                    # FastWARC cannot continue inside a large single gzip member; Python's gzip can.
                    raise _FallBackToPythonGzip(position) from exc
                counts.records += 1
                counts.error("unreadable_record", f"{path}: record #{position}: {exc}; the file is damaged "
                             "after this point (re-download it); records before it were kept")
                return position
            position += 1
            if position <= skip:
                continue
            counts.records += 1
            try:
                row = self._to_row(record, path, position, counts)
            except (OSError, EOFError) as exc:
                rid = record.record_id or f"#{position}"
                counts.error("truncated_record", f"{path}: record {rid}: {exc}; the file ends inside this "
                             "record (truncated download?); re-download the file to recover it")
                return position
            if row is not None:
                counts.emitted += 1
                table = builder.add(**row)
                if table is not None:
                    yield table

    def _to_row(self, record: Any, path: str, position: int, counts: ReadCounts) -> dict[str, str | None] | None:
        rtype = _type_name(record.record_type)
        if rtype not in ("response", "resource", "conversion"):
            counts.skip(f"record_type:{rtype}")
            return None
        headers = record.headers
        url = headers.get("WARC-Target-URI")
        date = headers.get("WARC-Date")
        rid = record_id_for(record.record_id, path, position)
        if record.content_length > self.max_bytes:
            counts.skip("too_large")
            return None
        body = record.reader.read()
        if len(body) < record.content_length:
            raise EOFError(f"record body has {len(body)} of its {record.content_length} bytes")
        if rtype == "conversion":  # WET: already text
            text = body_to_text(body, "utf-8")
            if not text.strip():
                counts.skip("empty")
                return None
            return {"id": rid, "url": url, "date": date, "source": path, "html": None, "text": text}
        if rtype == "response" and record.is_http:
            http = record.http_headers
            status = getattr(http, "status_code", None)
            if status is not None and not 200 <= int(status) < 300:
                counts.skip(f"http_status:{status}")
                return None
            try:
                body = decode_body(body, http.get("Transfer-Encoding"), http.get("Content-Encoding"))
            except PayloadDecodeError as exc:
                counts.error("undecodable_body", f"{path}: record {rid} ({url}): {exc}")
                return None
            mime = mime_type(record.http_content_type)
            charset = record.http_charset
        else:
            mime = mime_type(headers.get("Content-Type"))
            charset = None
        if not body.strip():
            counts.skip("empty")
            return None
        if self.html_only:
            if mime and mime not in HTML_MIME_TYPES:
                counts.skip(f"non_html:{mime}")
                return None
            if not mime and not looks_like_html(body):
                counts.skip("non_html:unknown")
                return None
        return {"id": rid, "url": url, "date": date, "source": path, "html": body_to_utf8(body, charset),
                "text": None}
