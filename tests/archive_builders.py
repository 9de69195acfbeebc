"""Write web archives in every format the readers take, from real pages, at test time.

WARC/1.0 and 1.1 come from warcio's writer; what warcio does not write (ARC v1, WARC/0.18,
LF-only headers, ClueWeb09's CR-stripped records) is written here byte by byte, following the
ARC v1 (Internet Archive, 1996) and WARC (ISO 28500) layouts.
"""

from __future__ import annotations

import gzip
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ARC_DATE = "20091105083419"
WARC_DATE = "2009-11-05T08:34:19Z"


@dataclass(frozen=True)
class Page:
    url: str
    html: bytes  # UTF-8


def real_pages(shared_data: Path, n: int = 8, max_bytes: int = 80_000) -> list[Page]:
    """The first ``n`` small UTF-8 HTML pages of the shared extraction WARC (real news pages)."""
    pages: list[Page] = []
    with open(shared_data / "extraction" / "scrapinghub_aeb_pages.warc.gz", "rb") as handle:
        for rec in ArchiveIterator(handle):
            if rec.rec_type != "response":
                continue
            body = rec.content_stream().read()
            if len(body) > max_bytes or not body.strip():
                continue
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                continue
            pages.append(Page(rec.rec_headers.get_header("WARC-Target-URI"), body.removeprefix(b"\xef\xbb\xbf")))
            if len(pages) == n:
                break
    return pages


def http_block(page: Page, eol: bytes = b"\r\n") -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: text/html; charset=utf-8", b"Content-Length: %d" % len(page.html)]
    return eol.join(head) + eol + eol + page.html


def warcio_warc(pages: list[Page], version: str = "1.0", gz: bool = True) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz, warc_version=version)
    for page in pages:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        rec = writer.create_warc_record(page.url, "response", payload=io.BytesIO(page.html), http_headers=http,
                                        warc_headers_dict={"WARC-Date": WARC_DATE})
        writer.write_record(rec)
    return buf.getvalue()


def warc_record(page: Page, version: bytes = b"WARC/1.0", eol: bytes = b"\r\n", http_eol: bytes = b"\r\n",
                length_adjust: int = 0) -> bytes:
    block = http_block(page, http_eol)
    head = [version, b"WARC-Type: response", b"WARC-Target-URI: " + page.url.encode(),
            b"WARC-Date: " + WARC_DATE.encode(), b"WARC-Record-ID: <urn:uuid:%s>" % str(uuid.uuid4()).encode(),
            b"Content-Type: application/http; msgtype=response", b"Content-Length: %d" % (len(block) + length_adjust)]
    return eol.join(head) + eol + eol + block + eol + eol


def clueweb09_warc(pages: list[Page]) -> bytes:
    """WARC/0.18 as ClueWeb09 ships it: LF-only lines everywhere, lengths counted before the CRs went."""
    info = b"software: Nutch 1.0-dev (modified for clueweb09)\nformat: WARC file version 0.18\n"
    out = [b"WARC/0.18\nWARC-Type: warcinfo\nWARC-Date: 2009-03-05T08:43:19-0800\nContent-Type: "
           b"application/warc-fields\nContent-Length: %d\n\n" % len(info) + info + b"\n"]
    for page in pages:
        block = http_block(page, b"\n")
        out.append(warc_record(page, b"WARC/0.18", b"\n", b"\n", length_adjust=block.count(b"\n"))[:-1])
    return b"".join(out)


def arc_record(page: Page) -> bytes:
    block = http_block(page)
    return f"{page.url} 93.184.216.34 {ARC_DATE} text/html {len(block)}\n".encode() + block + b"\n"


def arc_filedesc(name: str) -> bytes:
    body = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    return f"filedesc://{name} 0.0.0.0 {ARC_DATE} text/plain {len(body)}\n".encode() + body + b"\n"


def members(parts: list[bytes]) -> bytes:
    """One gzip member per part, as crawlers write per-record gzip."""
    return b"".join(gzip.compress(part, mtime=0) for part in parts)
