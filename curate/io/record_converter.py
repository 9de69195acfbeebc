"""Turn one :class:`ArchiveRecord` into a reader row, a skip reason or an error.

The same code for FastWARC's and warcio's records, WARC of any version and ARC, so the same page
gives the same document whichever archive format carries it.
"""

from __future__ import annotations

import hashlib

from curate.io.archive_record import ArchiveRecord
from curate.io.http_payload import (
    HTML_MIME_TYPES,
    PayloadDecodeError,
    body_to_text,
    body_to_utf8,
    decode_body,
    looks_like_html,
    mime_type,
)
from curate.io.http_response import HttpResponse
from curate.io.page_signals import page_signals
from curate.io.record_outcome import RecordOutcome

KEPT_TYPES = frozenset({"response", "resource", "conversion"})
# a body that starts like this is an HTML page whatever its Content-Type says
_HTML_STARTS = (b"<!doctype html", b"<html")


def record_id_for(record_id: str | None, source: str, position: int) -> str:
    """Stable id: the WARC-Record-ID, else a hash of source and record position."""
    if record_id:
        return record_id.strip()
    return "sha1:" + hashlib.sha1(f"{source}#{position}".encode()).hexdigest()


def target_uri(value: str | None) -> str | None:
    """WARC-Target-URI without the angle brackets of WARC/1.0's grammar (ISO 28500:2009 §5.2 writes
    ``<uri>``; WARC/1.1 dropped them, and writers such as wget still emit them): the same page gets the same
    ``url`` whichever writer and parser produced its record."""
    if value is None:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == "<" and value[-1] == ">":
        return value[1:-1].strip()
    return value


class RecordConverter:
    """Settings as in :class:`~curate.io.warc_reader.WarcReader`: ``max_bytes``, ``html_only``, ``captures``.

    Rows carry the page's opt-out signals (:mod:`curate.io.page_signals`). ``captures`` reads every HTTP
    response whatever its status (robots.txt captures: a 404 or a redirect says something too), with its
    ``http_status`` and ``http_location`` as two more columns; bodies of any type, none is sniffed or skipped.
    """

    def __init__(self, max_bytes: int, html_only: bool, captures: bool = False) -> None:
        self.max_bytes = max_bytes
        self.html_only = html_only and not captures
        self.captures = captures

    def convert(self, rec: ArchiveRecord) -> RecordOutcome:
        """Never raises: anything unexpected in one record is that record's counted error."""
        try:
            return self._convert(rec)
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the shard
            return RecordOutcome(error="undecodable_record", message=f"{rec.where} ({rec.url}): "
                                 f"{type(exc).__name__}: {exc}; the record was skipped")

    def _convert(self, rec: ArchiveRecord) -> RecordOutcome:
        outcome = self._outcome(rec)
        if rec.notes:
            outcome.counters = rec.notes + outcome.counters
        return outcome

    def _outcome(self, rec: ArchiveRecord) -> RecordOutcome:
        if rec.rtype not in KEPT_TYPES:
            return RecordOutcome(skip=f"record_type:{rec.rtype}")
        if rec.block is None or rec.declared_length > self.max_bytes:
            return RecordOutcome(skip="too_large")
        row: dict[str, str | bytes | int | None] = {
            "id": record_id_for(rec.record_id, rec.path, rec.position), "url": target_uri(rec.url), "date": rec.date,
            "source": f"{rec.path}#{rec.offset}", "html": None, "text": None,
        }
        if self.captures:
            row["http_status"] = row["http_location"] = None
        if rec.rtype == "conversion":  # WET: already text
            text = body_to_text(rec.block, "utf-8")
            if not text.strip():
                return RecordOutcome(skip="empty")
            row["text"] = text
            return RecordOutcome(row=row)
        http = rec.http or (HttpResponse.parse(rec.block) if rec.rtype == "response" else None)
        if http is not None:
            if self.captures:
                row["http_status"], row["http_location"] = http.status, http.location
            elif http.status is not None and not 200 <= http.status < 300:
                return RecordOutcome(skip=f"http_status:{http.status}")
            try:
                body = decode_body(http.body, http.transfer_encoding, http.content_encoding)
            except PayloadDecodeError as exc:
                return RecordOutcome(error="undecodable_body", message=f"{rec.where} ({rec.url}): {exc}")
            mime, charset = mime_type(http.content_type), http.charset
        else:
            body, mime, charset = rec.block, mime_type(rec.content_type), None
        if not body.strip():
            # an empty robots.txt allows everything: a capture all the same
            return RecordOutcome(row=row) if self.captures else RecordOutcome(skip="empty")
        counters: list[str] = []
        if self.html_only and mime not in HTML_MIME_TYPES:
            if mime and body[:512].lstrip().lower().startswith(_HTML_STARTS):
                counters.append("content_type_sniffed_html")  # a lying Content-Type
            elif mime:
                return RecordOutcome(skip=f"non_html:{mime}")
            elif not looks_like_html(body):
                return RecordOutcome(skip="non_html:unknown")
        decoded = body_to_utf8(body, charset)
        if decoded.charset_fallback:
            counters.append("charset_unknown_detected")
        row["html"] = decoded.html
        if not self.captures:
            signals = (page_signals(decoded.html) if http is None else page_signals(
                decoded.html, http.x_robots_tag, http.tdm_reservation, http.tdm_policy))
            if signals.robots_tag is not None or signals.tdm_reservation is not None or signals.tdm_policy:
                row["robots_tag"], row["tdm_reservation"], row["tdm_policy"] = signals
        return RecordOutcome(row=row, counters=tuple(counters))
