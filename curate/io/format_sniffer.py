"""Tell an input's format from its first bytes when its name says nothing (``input.format: auto``).

Checked in order: Parquet magic (``PAR1``), a ZIP with an ``archive/`` folder (WACZ), gzip or zstd
magic (then the decompressed head; a ``.warc.zst`` dictionary frame first loads its dictionary), a
``WARC/x.y`` line (WARC and WET), an ARC v1 header line, a JSON object per line.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

import fsspec
import zstandard

from curate.errors import CurateError
from curate.io.sync_scanner import ARC_LINE, WARC_LINE
from curate.io.warc_reader import WarcReader
from curate.io.zip_members import WaczError, ZipMembers
from curate.io.zstd_dictionary import DICTIONARY_MAGIC, ZSTD_MAGIC, ZstdDictionary, ZstdDictionaryError

_HEAD_BYTES = 65_536
_ZIP_MAGIC = b"PK\x03\x04"


class UnknownFormatError(CurateError, ValueError):
    """Neither the name nor the first bytes of an input tell its format."""


class FormatSniffer:
    """``sniff(path)`` returns a reader name: ``warc``, ``wacz``, ``arc``, ``jsonl`` or ``parquet``."""

    def sniff(self, path: str) -> str:
        with fsspec.open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
            if head.startswith(b"PAR1"):
                return "parquet"
            if head.startswith(_ZIP_MAGIC) and self._is_wacz(handle, path):
                return "wacz"
            if head.startswith(DICTIONARY_MAGIC):
                plain, wrapper = self._with_dictionary(handle, path)
            else:
                plain, wrapper = self._unwrap(head)
        found = self._plain_format(plain)
        if found is not None:
            return found
        shown = plain[:40].decode("latin-1").encode("unicode_escape").decode("ascii")
        raise UnknownFormatError(
            f"cannot tell the format of {path!r}: {wrapper}it starts with {shown!r}, which is no WARC, ARC, "
            "WACZ, JSON lines or Parquet; rename it (.warc.gz, .wacz, .arc.gz, .jsonl, .parquet) or set input.format"
        )

    @staticmethod
    def _is_wacz(handle: BinaryIO, path: str) -> bool:
        """A ZIP with WARC files under ``archive/`` (by its directory, or its local headers if cut short)."""
        try:
            ZipMembers(handle, path, WarcReader.suffixes).warcs()
        except WaczError:
            return False
        return True

    @staticmethod
    def _with_dictionary(handle: BinaryIO, path: str) -> tuple[bytes, str]:
        """The head of the first record of a ``.warc.zst`` that opens with its dictionary frame."""
        try:
            decompressor, start = ZstdDictionary.load(handle, path)
            handle.seek(start)
            return decompressor.decompressobj().decompress(handle.read(_HEAD_BYTES))[:_HEAD_BYTES], \
                "zstd-compressed with a dictionary, "
        except (ZstdDictionaryError, zstandard.ZstdError):
            return b"", "zstd-compressed but its dictionary frame is damaged, "

    @staticmethod
    def _unwrap(head: bytes) -> tuple[bytes, str]:
        try:
            if head.startswith(b"\x1f\x8b"):
                return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _HEAD_BYTES), "gzip-compressed, "
            if head.startswith(ZSTD_MAGIC):
                reader = zstandard.ZstdDecompressor().decompressobj()
                return reader.decompress(head)[:_HEAD_BYTES], "zstd-compressed, "
        except (zlib.error, zstandard.ZstdError):
            return head, "compressed but damaged at the start, "
        return head, ""

    @staticmethod
    def _plain_format(plain: bytes) -> str | None:
        text = plain.lstrip(b"\xef\xbb\xbf")
        if WARC_LINE.match(text):
            return "warc"
        if ARC_LINE.match(text):
            return "arc"
        if text.lstrip().startswith(b"{"):
            return "jsonl"
        return None
