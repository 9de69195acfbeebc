"""Issue 14: every web-archive format of the last twenty years gives the same documents.

Archives are written at test time (tests/archive_builders.py) from real pages of ../shared/data.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from archive_builders import (
    WARC_DATE,
    Page,
    arc_filedesc,
    arc_record,
    clueweb09_warc,
    members,
    real_pages,
    warc_record,
    warcio_warc,
)
from pipeline_helpers import write_pipeline

from curate import run
from curate.config.pipeline_config import load_pipeline
from curate.io.format_sniffer import UnknownFormatError
from curate.io.input_files import READERS, reader_for_path
from curate.io.read_counts import ReadCounts


@pytest.fixture(scope="module")
def pages(shared_data: Path):
    found = real_pages(shared_data, n=6)
    assert len(found) == 6
    return found


def read(path: Path) -> tuple[pa.Table, ReadCounts, str]:
    fmt = reader_for_path(str(path))
    counts = ReadCounts()
    tables = list(READERS[fmt]().read(str(path), counts))
    assert counts.records == counts.emitted + sum(counts.skipped.values()) + sum(counts.errored.values())
    table = pa.concat_tables(tables) if tables else None
    assert (0 if table is None else table.num_rows) == counts.emitted
    return table, counts, fmt


def archives(pages, tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """file name -> (bytes, the reader that must be chosen)."""
    arc_recs = [arc_record(p) for p in pages]
    return {
        "warc10.warc.gz": (warcio_warc(pages, "1.0"), "warc"),
        "warc11.warc": (warcio_warc(pages, "1.1", gz=False), "warc"),
        "warc018.warc.gz": (members([warc_record(p, b"WARC/0.18") for p in pages]), "warc"),
        "warc017.warc": (b"".join(warc_record(p, b"WARC/0.17") for p in pages), "warc"),
        "lf-http.warc.gz": (members([warc_record(p, http_eol=b"\n") for p in pages]), "warc"),
        "lf-http.warc": (b"".join(warc_record(p, http_eol=b"\n") for p in pages), "warc"),
        "lf-http-short.warc": (b"".join(warc_record(Page(p.url, p.html.replace(b"\r\n", b"\n")), http_eol=b"\n")
                                        for p in pages), "warc"),
        "clueweb09.warc": (clueweb09_warc(pages), "warc"),
        "with-filedesc.arc": (arc_filedesc("with-filedesc.arc") + b"".join(arc_recs), "arc"),
        "CC-2008-NO-FILEDESC.ARC.GZ": (members(arc_recs), "arc"),
        "whole-file.arc.gz": (gzip.compress(arc_filedesc("w.arc") + b"".join(arc_recs), mtime=0), "arc"),
        "Upper.ARC": (b"".join(arc_recs), "arc"),
        "crawl-part-00001": (members([arc_filedesc("c.arc")] + arc_recs), "arc"),  # no telling name: sniffed
        "crawl-part-00002": (warcio_warc(pages, "1.0"), "warc"),
    }


def test_every_format_gives_the_same_documents(pages, tmp_path: Path) -> None:
    expected = sorted((p.url, p.html.decode("utf-8")) for p in pages)
    for name, (data, fmt) in archives(pages, tmp_path).items():
        if name == "lf-http-short.warc":  # pages without any CRLF, so nothing but LF anywhere in the block
            expected_here = sorted((p.url, p.html.replace(b"\r\n", b"\n").decode("utf-8")) for p in pages)
        else:
            expected_here = expected
        path = tmp_path / name
        path.write_bytes(data)
        table, counts, chosen = read(path)
        assert chosen == fmt, name
        assert counts.errored == {}, (name, counts.messages)
        assert counts.emitted == len(pages), (name, counts.to_dict())
        got = sorted(zip(table.column("url").to_pylist(), table.column("html").to_pylist(), strict=True))
        assert got == expected_here, name
        assert set(table.column("date").to_pylist()) == {WARC_DATE}, name
        assert len(set(table.column("id").to_pylist())) == len(pages), name


def test_source_names_file_and_record_offset(pages, tmp_path: Path) -> None:
    recs = [arc_record(p) for p in pages]
    path = tmp_path / "x.arc"
    data = arc_filedesc("x.arc") + b"".join(recs)
    path.write_bytes(data)
    table, _, _ = read(path)
    for source, url in zip(table.column("source").to_pylist(), table.column("url").to_pylist(), strict=True):
        file, _, offset = source.rpartition("#")
        assert file == str(path)
        assert data[int(offset):].startswith(url.encode() + b" 93.184.216.34 ")  # the record's own header line
    # per-record gzip: the offset is where the record's gzip member starts
    path = tmp_path / "x.warc.gz"
    blobs = [gzip.compress(warc_record(p), mtime=0) for p in pages]
    path.write_bytes(b"".join(blobs))
    table, _, _ = read(path)
    starts = [sum(len(b) for b in blobs[:i]) for i in range(len(blobs))]
    assert [int(s.rpartition("#")[2]) for s in table.column("source").to_pylist()] == starts


@pytest.mark.parametrize("plain", [True, False], ids=["arc", "arc.gz"])
def test_damaged_arc_record_is_one_error_and_reading_resyncs(pages, tmp_path: Path, plain: bool) -> None:
    recs = [arc_record(p) for p in pages]
    if plain:  # record 3's header line mangled: no longer an ARC header
        recs[2] = re.sub(rb"^[^\n]*\n", b"\x00\xff garbage where the header line was\n", recs[2], count=1)
        data = b"".join(recs)
    else:  # record 3's gzip member damaged in its deflate data
        blobs = [gzip.compress(r, mtime=0) for r in recs]
        bad = bytearray(blobs[2])
        for i in range(40, len(bad) - 20, 97):
            bad[i] ^= 0x5A
        blobs[2] = bytes(bad)
        data = b"".join(blobs)
    path = tmp_path / ("damaged.arc" if plain else "damaged.arc.gz")
    path.write_bytes(data)
    table, counts, _ = read(path)
    assert sum(counts.errored.values()) == 1, counts.to_dict()
    assert counts.records == len(pages)
    assert path.name in counts.messages[0] and "record 3 at byte" in counts.messages[0]
    assert sorted(table.column("url").to_pylist()) == sorted(p.url for i, p in enumerate(pages) if i != 2)


def test_lying_content_type_is_sniffed_as_html(pages, tmp_path: Path) -> None:
    block = http_block_with_type(pages[0], b"application/octet-stream")
    rec = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: " + pages[0].url.encode() +
           b"\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n" % len(block)
           + block + b"\r\n\r\n")
    path = tmp_path / "lying.warc"
    path.write_bytes(rec + warc_record(pages[1]))
    table, counts, _ = read(path)
    assert counts.emitted == 2 and counts.counters["content_type_sniffed_html"] == 1


def http_block_with_type(page, ctype: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\n\r\n" + page.html


def test_unknown_content_names_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "mystery"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 not an archive")
    with pytest.raises(UnknownFormatError, match=r"mystery.*starts with '%PDF-1\.7"):
        reader_for_path(str(path))
    path.write_bytes(gzip.compress(b"just some text\n"))
    with pytest.raises(UnknownFormatError, match=r"gzip-compressed, it starts with 'just some text"):
        reader_for_path(str(path))
    path.write_bytes(gzip.compress(b'{"text": "a document"}\n'))
    assert reader_for_path(str(path)) == "jsonl"
    path.write_bytes(zstandard.ZstdCompressor().compress(b'{"text": "a document"}\n'))
    assert reader_for_path(str(path)) == "jsonl"
    pq.write_table(pa.table({"text": ["a document"]}), path)
    assert reader_for_path(str(path)) == "parquet"


def test_lf_only_http_headers_of_small_pages(pages, tmp_path: Path) -> None:
    """Small pages: FastWARC takes the LF-only header block for one long status line (big ones overflow it)."""
    small = [Page(p.url, p.html[:3000].decode("utf-8", "ignore").replace("\r\n", "\n").encode()) for p in pages]
    for gz in (False, True):
        path = tmp_path / ("small-lf.warc" + (".gz" if gz else ""))
        recs = [warc_record(p, http_eol=b"\n") for p in small]
        path.write_bytes(members(recs) if gz else b"".join(recs))
        table, counts, _ = read(path)
        assert counts.emitted == len(small), counts.to_dict()
        got = sorted(zip(table.column("url").to_pylist(), table.column("html").to_pylist(), strict=True))
        assert got == sorted((p.url, p.html.decode("utf-8")) for p in small)


def test_pipeline_reads_arc_and_damaged_warc_and_its_stats_add_up(pages, tmp_path: Path) -> None:
    """End to end on the local executor: a folder of ARC and a WARC with an empty and a garbage member."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.arc.gz").write_bytes(members([arc_filedesc("a.arc")] + [arc_record(p) for p in pages[:3]]))
    blobs = [gzip.compress(warc_record(p), mtime=0) for p in pages[3:]]
    (inputs / "b.warc.gz").write_bytes(blobs[0] + gzip.compress(b"") + b"\x1f\x8b\x08\x00junk" + b"".join(blobs[1:]))
    cfg = write_pipeline(tmp_path / "p.yaml", [str(inputs)], tmp_path / "out", [{"extract": {"engine": "resiliparse"}}],
                         executor={"type": "local", "workers": 1})
    result = run(load_pipeline(str(cfg)))
    read = result.stats["read"]
    assert read["records"] == read["emitted"] + sum(read["skipped"].values()) + sum(read["errored"].values())
    assert read["emitted"] == len(pages) and read["errored"] == {"unreadable_record": 1}
    assert read["skipped"] == {"record_type:filedesc": 1}
    assert [s["path"].rsplit("/", 1)[1] for s in result.stats["shards"]] == ["a.arc.gz", "b.warc.gz"]


def test_warc_1_0_target_uris_lose_their_angle_brackets(shared_data: Path) -> None:
    """wget writes WARC/1.0's ``WARC-Target-URI: <http://...>``; ``url`` is the URI itself, as for WARC/1.1."""
    path = shared_data / "warc" / "wget-crawl-sample-0000.warc.gz"
    raw = {}  # WARC-Record-ID -> WARC-Target-URI as written, from the header bytes themselves
    for block in re.findall(rb"WARC/1\.\d\r\n(.*?)\r\n\r\n", gzip.decompress(path.read_bytes()), re.S):
        fields = dict(line.split(b": ", 1) for line in block.split(b"\r\n") if b": " in line)
        if fields.get(b"WARC-Type") == b"response":
            raw[fields[b"WARC-Record-ID"].decode()] = fields[b"WARC-Target-URI"].decode()
    assert any(v and v.startswith("<") for v in raw.values())  # the file really has bracketed URIs
    counts = ReadCounts()
    rows = pa.concat_tables(READERS["warc"]().read(str(path), counts)).to_pylist()
    assert rows
    for row in rows:
        assert row["url"] == raw[row["id"]].strip().removeprefix("<").removesuffix(">")
        assert not row["url"].startswith("<") and "://" in row["url"]
