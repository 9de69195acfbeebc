"""Where the WARC files of a WACZ lie inside its ZIP, without extracting anything.

WACZ 1.1 (Webrecorder, https://specs.webrecorder.net/wacz/) is a ZIP holding
``datapackage.json``, ``pages/``, ``indexes/`` and the WARC files under ``archive/``, stored
uncompressed (ZIP_STORED) so that a record can be read at its offset. ``zipfile`` reads the central
directory at the end of the file; a ZIP cut short has none, so then the local file headers
(PKWARE APPNOTE 4.3.7) are walked from byte 0 instead, and every member found before the cut is
still read (the last one up to where the file ends).
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from curate.errors import CurateError

_LOCAL = b"PK\x03\x04"
_LOCAL_HEAD = struct.Struct("<4sHHHHHIIIHH")  # signature .. file name length, extra field length
_DESCRIPTOR = b"PK\x07\x08"
_CENTRAL = b"PK\x01\x02"


class WaczError(CurateError, ValueError):
    """A ``.wacz`` that is no readable ZIP, or holds no WARC file under ``archive/``."""


@dataclass(frozen=True)
class ZipMember:
    """One WARC inside the ZIP: its name and where its (stored or deflated) bytes are."""

    name: str
    data_start: int
    size: int
    stored: bool


@dataclass(frozen=True)
class ZipListing:
    members: list[ZipMember]
    recovered: bool  # no central directory: found by walking the local headers


class ZipMembers:
    """``warcs()`` lists the members under ``archive/`` whose names end in one of ``suffixes``."""

    def __init__(self, raw: BinaryIO, path: str, suffixes: tuple[str, ...]) -> None:
        self.raw = raw
        self.path = path
        self.suffixes = suffixes

    def warcs(self) -> ZipListing:
        try:
            members, recovered = self._from_directory(zipfile.ZipFile(self.raw).infolist()), False
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error):
            # no directory (cut short), or one that disagrees with the members: the local headers tell
            members, recovered = self._walk(), True
        found = sorted((m for m in members if self._wanted(m.name)), key=lambda m: m.data_start)
        if not found:
            what = "its ZIP directory is missing and no member header was found" if recovered and not members \
                else "it holds no WARC file under archive/"
            raise WaczError(f"{self.path}: not a readable WACZ: {what}; check that the file is a WACZ "
                            "(a ZIP written by Webrecorder tools) and re-download it if it was cut short")
        return ZipListing(found, recovered)

    def _wanted(self, name: str) -> bool:
        return name.startswith("archive/") and name.lower().endswith(self.suffixes)

    def _from_directory(self, infos: list[zipfile.ZipInfo]) -> list[ZipMember]:
        members = []
        for info in infos:
            if not self._wanted(info.filename):
                continue
            self.raw.seek(info.header_offset)
            head = self.raw.read(_LOCAL_HEAD.size)
            if len(head) < _LOCAL_HEAD.size or not head.startswith(_LOCAL):
                raise WaczError(f"{self.path}: member {info.filename!r}: no local header at byte "
                                f"{info.header_offset}; the ZIP is damaged: re-download it")
            *_, name_len, extra_len = _LOCAL_HEAD.unpack(head)
            members.append(ZipMember(info.filename, info.header_offset + _LOCAL_HEAD.size + name_len + extra_len,
                                     info.compress_size, info.compress_type == zipfile.ZIP_STORED))
        return members

    def _walk(self) -> list[ZipMember]:
        """Local headers one after the other from byte 0, until one is missing or cut."""
        size = self.raw.seek(0, 2)
        members: list[ZipMember] = []
        pos = 0
        while pos + _LOCAL_HEAD.size <= size:
            self.raw.seek(pos)
            head = self.raw.read(_LOCAL_HEAD.size)
            if not head.startswith(_LOCAL):
                break
            _, _, flags, method, _, _, _, csize, _, name_len, extra_len = _LOCAL_HEAD.unpack(head)
            name = self.raw.read(name_len).decode("utf-8" if flags & 0x800 else "cp437")
            extra = self.raw.read(extra_len)
            data = pos + _LOCAL_HEAD.size + name_len + extra_len
            if csize == 0xFFFFFFFF:
                csize = _zip64_compressed_size(extra, csize)
            descriptor = bool(flags & 0x08)
            if descriptor and csize == 0:  # size only after the data: up to the next header
                csize = self._next_header(data, size) - data
            members.append(ZipMember(name, data, min(csize, size - data), method == zipfile.ZIP_STORED))
            pos = data + csize
            if descriptor:
                self.raw.seek(pos)
                pos += 16 if self.raw.read(4) == _DESCRIPTOR else 12
        return members

    def _next_header(self, start: int, size: int) -> int:
        """The next local or central header after ``start`` (less a data descriptor before it), else EOF."""
        pos = start
        while pos < size:
            self.raw.seek(pos)
            chunk = self.raw.read(1 << 20)
            hits = [i for i in (chunk.find(_LOCAL), chunk.find(_CENTRAL)) if i >= 0]
            if hits:
                end = pos + min(hits)
                self.raw.seek(end - 16)
                return end - 16 if self.raw.read(4) == _DESCRIPTOR else end
            if len(chunk) < 1 << 20:
                break
            pos += len(chunk) - 3
        return size


def _zip64_compressed_size(extra: bytes, fallback: int) -> int:
    """The compressed size from a local header's ZIP64 extra field (id 1: sizes, original first)."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        if kind == 1 and length >= 16:
            return struct.unpack_from("<Q", extra, pos + 12)[0]
        pos += 4 + length
    return fallback
