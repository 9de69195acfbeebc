"""Tell an input's format from its first bytes when its name says nothing (``input.format: auto``).

Checked in order: Parquet magic (``PAR1``), gzip or zstd magic (then the decompressed head),
a ``WARC/x.y`` line (WARC and WET), an ARC v1 header line, a JSON object per line.
"""

from __future__ import annotations

import zlib

import fsspec
import zstandard

from curate.errors import CurateError
from curate.io.sync_scanner import ARC_LINE, WARC_LINE

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_HEAD_BYTES = 65_536


class UnknownFormatError(CurateError, ValueError):
    """Neither the name nor the first bytes of an input tell its format."""


class FormatSniffer:
    """``sniff(path)`` returns a reader name: ``warc``, ``arc``, ``jsonl`` or ``parquet``."""

    def sniff(self, path: str) -> str:
        with fsspec.open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
        if head.startswith(b"PAR1"):
            return "parquet"
        plain, wrapper = self._unwrap(head)
        found = self._plain_format(plain)
        if found is not None:
            return found
        shown = plain[:40].decode("latin-1").encode("unicode_escape").decode("ascii")
        raise UnknownFormatError(
            f"cannot tell the format of {path!r}: {wrapper}it starts with {shown!r}, which is no WARC, ARC, "
            "JSON lines or Parquet; rename it (.warc.gz, .arc.gz, .jsonl, .parquet) or set input.format"
        )

    @staticmethod
    def _unwrap(head: bytes) -> tuple[bytes, str]:
        try:
            if head.startswith(b"\x1f\x8b"):
                return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _HEAD_BYTES), "gzip-compressed, "
            if head.startswith(_ZSTD_MAGIC):
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
