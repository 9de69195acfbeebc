"""Pack real WARC records into the containers WACZ and ``.warc.zst`` at test time.

WACZ (Webrecorder): a ZIP with ``datapackage.json``, ``pages/pages.jsonl``, ``indexes/index.cdxj``
and the WARC files under ``archive/``, stored uncompressed, written with ``zipfile``. zstd WARC
(IIPC proposal): one zstd frame per record, with a dictionary trained by ``zstandard`` on the
records and put in a skippable frame (magic 0x184D2A5D) at the start, raw or zstd-compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import zipfile
import zlib

import zstandard

DICT_MAGIC = b"\x5d\x2a\x4d\x18"
_ZIP_DATE = (2024, 1, 2, 3, 4, 6)


def wacz(parts: dict[str, bytes], stored: bool = True) -> bytes:
    """A WACZ holding ``parts`` (member name under archive/ -> WARC bytes)."""
    pages, index = [], []
    for name, data in parts.items():
        for member in _split_members(data):
            try:
                head = gzip.decompress(member)[:4096]
            except (OSError, EOFError, zlib.error):  # a member a test damaged: no page for it
                continue
            url = re.search(rb"WARC-Target-URI: (\S+)", head)
            if url is not None and b"WARC-Type: response" in head:
                pages.append({"url": url.group(1).decode(), "ts": "2024-01-02T03:04:05Z"})
                index.append(f"{url.group(1).decode()} 20240102030405 {json.dumps({'filename': name})}")
    files = {"pages/pages.jsonl": "\n".join(json.dumps(p) for p in pages).encode(),
             "indexes/index.cdxj": "\n".join(sorted(index)).encode()}
    files.update({f"archive/{name}": data for name, data in parts.items()})
    package = {"profile": "data-package", "wacz_version": "1.1.1",
               "resources": [{"name": n.rsplit("/", 1)[1], "path": n, "hash": "sha256:" + hashlib.sha256(d).hexdigest(),
                              "bytes": len(d)} for n, d in files.items()]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in [*files.items(), ("datapackage.json", json.dumps(package).encode())]:
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            is_warc = name.startswith("archive/")
            info.compress_type = zipfile.ZIP_STORED if is_warc and stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def member_offsets(data: bytes) -> list[int]:
    """Where each gzip member of a per-record gzip WARC starts."""
    offsets, pos = [], 0
    for member in _split_members(data):
        offsets.append(pos)
        pos += len(member)
    return offsets


def _split_members(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            inflater.decompress(data[pos:])
        except zlib.error:  # a damaged member (a test's own edit): the rest is one part
            return [*out, data[pos:]]
        end = len(data) - len(inflater.unused_data)
        out.append(data[pos:end])
        pos = end
    return out


def train_dictionary(records: list[bytes]) -> zstandard.ZstdCompressionDict:
    return zstandard.train_dictionary(16_384, records)


def zstd_frames(records: list[bytes], dictionary: zstandard.ZstdCompressionDict | None) -> list[bytes]:
    compressor = zstandard.ZstdCompressor(level=3, dict_data=dictionary, write_checksum=True)
    return [compressor.compress(r) for r in records]


def dictionary_frame(dictionary: zstandard.ZstdCompressionDict, compressed: bool = False) -> bytes:
    data = dictionary.as_bytes()
    if compressed:
        data = zstandard.ZstdCompressor().compress(data)
    return DICT_MAGIC + len(data).to_bytes(4, "little") + data
