"""WACZ reader: every WARC inside a Web Archive Collection Zipped, record by record, in place.

WACZ (Webrecorder, https://specs.webrecorder.net/wacz/) is a ZIP of WARC files under ``archive/``
(plus page lists and indexes, which carry no records). The WARC members are stored uncompressed,
so each is read where it lies in the ZIP through a :class:`~curate.io.byte_window.ByteWindow` on
the one open handle (local file or fsspec, e.g. s3fs): nothing is extracted or copied. Each member
is read exactly as :class:`~curate.io.warc_reader.WarcReader` reads a ``.warc.gz`` (same rows,
skips, errors, resync), named ``file.wacz#archive/name.warc.gz``, so ``source`` is
``file.wacz#archive/name.warc.gz#offset`` and records without a WARC-Record-ID get ids from that
name. One ``.wacz`` is one shard. A ZIP cut short (no central directory) is read by its local
headers; a file that is no ZIP, or holds no WARC, is one counted ``unreadable_wacz`` error.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import fsspec
import pyarrow as pa

from curate.io.byte_window import ByteWindow
from curate.io.read_counts import MAX_MESSAGES, ReadCounts
from curate.io.reader_base import BatchBuilder, Reader
from curate.io.warc_reader import WarcReader
from curate.io.zip_members import WaczError, ZipMember, ZipMembers


class WaczReader(Reader):
    """Same settings and rows as :class:`~curate.io.warc_reader.WarcReader` (``max_bytes``, ``html_only``, ``captures``)."""

    name: ClassVar[str] = "wacz"
    suffixes: ClassVar[tuple[str, ...]] = (".wacz",)

    def __init__(self, batch_size: int = 256, max_bytes: int = 10_000_000, html_only: bool = True,
                 captures: bool = False) -> None:
        super().__init__(batch_size)
        self.warc = WarcReader(batch_size, max_bytes, html_only, captures)

    def read(self, path: str, counts: ReadCounts) -> Iterator[pa.Table]:
        builder = BatchBuilder(self.batch_size)
        with fsspec.open(path, "rb") as raw:
            try:
                listing = ZipMembers(raw, path, WarcReader.suffixes).warcs()
            except WaczError as exc:
                counts.records += 1
                counts.error("unreadable_wacz", str(exc))
                return
            if listing.recovered:
                counts.count("wacz_directory_missing")
                if len(counts.messages) < MAX_MESSAGES:
                    counts.messages.append(
                        f"{path}: the ZIP's central directory is missing (file cut short?); read its "
                        f"{len(listing.members)} WARC member(s) by their local headers; re-download it to be sure")
            for member in listing.members:
                yield from self._member(raw, path, member, counts, builder)
        last = builder.flush()
        if last is not None:
            yield last

    def _member(self, raw: BinaryIO, path: str, member: ZipMember, counts: ReadCounts,
                builder: BatchBuilder) -> Iterator[pa.Table]:
        inner = f"{path}#{member.name}"
        if member.stored:
            yield from self.warc.read_handle(ByteWindow(raw, member.data_start, member.size), inner, counts, builder)
            return
        try:  # deflated (not what WACZ writers do): zipfile inflates it; seeking back inflates again
            handle = zipfile.ZipFile(raw).open(member.name)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            counts.records += 1
            counts.error("unreadable_wacz", f"{inner}: a compressed member of a ZIP without its directory "
                         f"cannot be read ({exc}); re-download the file, or store WARCs uncompressed in the WACZ")
            return
        with handle:
            yield from self.warc.read_handle(handle, inner, counts, builder)
