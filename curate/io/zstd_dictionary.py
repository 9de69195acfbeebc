"""The dictionary frame that may open a ``.warc.zst`` file (IIPC "Zstandard Compression for WARC Files 1.0").

The proposal (https://iipc.github.io/warc-specifications/specifications/warc-zstd/) starts a file
with either a zstd frame (magic ``28 B5 2F FD``) or a *skippable* frame with magic ``0x184D2A5D``
(bytes ``5D 2A 4D 18``, then a 4-byte little-endian size) whose data is the dictionary every
record's frame was compressed with; that data may itself be one zstd frame (no dictionary).
"""

from __future__ import annotations

from typing import BinaryIO

import zstandard

from curate.errors import CurateError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DICTIONARY_MAGIC = b"\x5d\x2a\x4d\x18"
ZSTD_STARTS = (ZSTD_MAGIC, DICTIONARY_MAGIC)
MAX_DICTIONARY = 64 << 20  # zstd's own trainer writes ~100 KB; more is a damaged size field


def is_skippable(magic: bytes) -> bool:
    """Skippable frames have magics ``0x184D2A50`` to ``0x184D2A5F`` (RFC 8878, 3.1.2)."""
    return len(magic) == 4 and magic[1:] == b"\x2a\x4d\x18" and magic[0] & 0xF0 == 0x50


class ZstdDictionaryError(CurateError, ValueError):
    """The dictionary frame at the start of a ``.warc.zst`` file cannot be read."""


class ZstdDictionary:
    """``load(handle, path)`` reads the optional dictionary frame at byte 0.

    Returns the decompressor for the record frames and the offset of the first of them.
    """

    @staticmethod
    def load(handle: BinaryIO, path: str) -> tuple[zstandard.ZstdDecompressor, int]:
        handle.seek(0)
        head = handle.read(8)
        if head[:4] != DICTIONARY_MAGIC:
            return zstandard.ZstdDecompressor(), 0
        size = int.from_bytes(head[4:8], "little")
        data = handle.read(size) if len(head) == 8 and size <= MAX_DICTIONARY else b""
        if len(data) != size or not data:
            raise ZstdDictionaryError(
                f"{path}: the zstd dictionary frame at byte 0 declares {size} bytes but the file holds "
                f"{len(data)}; the file is cut short or damaged at its start: re-download it")
        try:
            if data.startswith(ZSTD_MAGIC):  # the proposal allows a zstd-compressed dictionary
                data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
            dictionary = zstandard.ZstdCompressionDict(data)
            decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)
        except zstandard.ZstdError as exc:
            raise ZstdDictionaryError(
                f"{path}: the zstd dictionary at byte 0 is damaged ({exc}); without it no record can be "
                "decompressed: re-download the file") from exc
        return decompressor, 8 + size
