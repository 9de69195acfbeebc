"""Readers on every real WARC of ../shared/data and on fixtures written here."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from curate.io.jsonl_reader import JsonlReader
from curate.io.parquet_reader import ParquetReader
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader


def read_all(reader, path) -> tuple[pa.Table | None, ReadCounts]:
    counts = ReadCounts()
    tables = list(reader.read(str(path), counts))
    return (pa.concat_tables(tables) if tables else None), counts


def assert_accounted(counts: ReadCounts) -> None:
    assert counts.records == counts.emitted + sum(counts.skipped.values()) + sum(counts.errored.values())


def test_every_shared_warc_is_read_and_every_record_accounted(shared_data: Path) -> None:
    files = sorted((shared_data / "warc").iterdir())
    assert len(files) >= 14
    for path in files:
        table, counts = read_all(WarcReader(), path)
        assert_accounted(counts)
        assert counts.records > 0, path.name
        emitted = 0 if table is None else table.num_rows
        assert emitted == counts.emitted, path.name
        if table is not None:
            assert table.column("id").null_count == 0
            assert len(set(table.column("id").to_pylist())) == table.num_rows, f"ids not unique in {path.name}"


def test_single_gzip_member_file_is_read_to_the_end(shared_data: Path) -> None:
    path = shared_data / "warc" / "cc-main-2015-11-single-gzip-member.warc.gz"
    with gzip.open(path, "rb") as handle:
        expected = handle.read().count(b"\r\nWARC-Type: ") + 0
    _, counts = read_all(WarcReader(), path)
    # every WARC header block in the decompressed file is one record
    assert counts.records == expected == 56
    assert counts.errored == {}


def test_truncated_record_is_an_error_naming_file_and_record(shared_data: Path) -> None:
    path = shared_data / "warc" / "cc-main-2020-34-clipped-record.warc.gz"
    table, counts = read_all(WarcReader(), path)
    assert table is None
    assert counts.errored == {"truncated_record": 1}
    assert path.name in counts.messages[0] and "urn:uuid:" in counts.messages[0]
    assert "re-download" in counts.messages[0]


def test_revisits_and_non_html_are_skipped_by_reason(shared_data: Path) -> None:
    _, counts = read_all(WarcReader(), shared_data / "warc" / "pywb-iana.warc.gz")
    assert counts.skipped["record_type:revisit"] == 123
    _, counts = read_all(WarcReader(), shared_data / "warc" / "webrecorder-pdfs.warc.gz")
    assert counts.skipped["non_html:application/pdf"] == 2
    assert_accounted(counts)


def test_missing_content_type_is_sniffed(shared_data: Path) -> None:
    table, counts = read_all(WarcReader(), shared_data / "warc" / "wayback-snapshot-topic-02.warc.gz")
    assert counts.emitted == 128 and table is not None
    assert all("<" in h for h in table.column("html").to_pylist())


def test_wet_conversion_records_come_as_text(shared_data: Path) -> None:
    table, counts = read_all(WarcReader(), shared_data / "warc" / "cc-main-2024-22-whirlwind.warc.wet.gz")
    assert counts.emitted == 1 and table is not None
    assert table.column("html").null_count == 1
    assert "Wikipedia" in table.column("text")[0].as_py() or len(table.column("text")[0].as_py()) > 200


def test_chunked_transfer_encoding_is_decoded(shared_data: Path) -> None:
    table, _ = read_all(WarcReader(), shared_data / "warc" / "chunked-transfer.warc")
    html = table.column("html")[0].as_py()
    assert "<html" in html.lower() and "\r\n0\r\n" not in html


def _warc_with(records: list[tuple[str, bytes, str]]) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url, payload, ctype in records:
        http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        rec = writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http)
        writer.write_record(rec)
    return buf.getvalue()


def test_broken_charset_and_huge_pages(tmp_path: Path) -> None:
    latin = "<html><body><p>Préface à l'édition française, où l'on décrit le café.</p></body></html>"
    data = _warc_with([
        ("http://a.example/", latin.encode("cp1252"), "text/html; charset=windows-1252"),
        ("http://b.example/", b"<html><body>\xff\xfe\xfa broken \xc3</body></html>", "text/html; charset=utf-8"),
        ("http://c.example/", b"<html><body>" + b"x" * 5000 + b"</body></html>", "text/html"),
    ])
    path = tmp_path / "t.warc.gz"
    path.write_bytes(data)
    table, counts = read_all(WarcReader(max_bytes=4000), path)
    assert counts.skipped == {"too_large": 1}
    htmls = table.column("html").to_pylist()
    assert "Préface à l'édition française" in htmls[0]
    assert "broken" in htmls[1]


def test_jsonl_plain_gzip_zstd_and_bad_lines(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"d{i}", "text": f"document number {i}", "url": f"http://x/{i}"}) for i in range(5)]
    lines.insert(2, "{not json")
    lines.append(json.dumps({"id": "empty", "text": "  "}))
    body = ("\n".join(lines) + "\n").encode()
    (tmp_path / "a.jsonl").write_bytes(body)
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(body))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
    for name in ("a.jsonl", "a.jsonl.gz", "a.jsonl.zst"):
        table, counts = read_all(JsonlReader(), tmp_path / name)
        assert table.column("id").to_pylist() == [f"d{i}" for i in range(5)], name
        assert counts.errored == {"bad_json": 1} and counts.skipped == {"empty": 1}
        assert f"{name}:3" in counts.messages[0]
        assert_accounted(counts)


def test_parquet_reader_maps_columns(tmp_path: Path) -> None:
    pq.write_table(pa.table({"content": ["alpha beta", "", "gamma"], "doc_id": ["1", "2", "3"]}), tmp_path / "x.parquet")
    table, counts = read_all(ParquetReader(text_key="content", id_key="doc_id"), tmp_path / "x.parquet")
    assert table.column("id").to_pylist() == ["1", "3"]
    assert counts.skipped == {"empty": 1}
    table, counts = read_all(ParquetReader(), tmp_path / "x.parquet")  # no column "text": counted per row
    assert table is None and counts.errored == {"missing_text_column": 3}
    assert "no column 'text'" in counts.messages[0] and "input.options.text_key" in counts.messages[0]
