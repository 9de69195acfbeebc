"""Issue 13, reading: damaged, lying and odd records are counted, never stop or shrink a shard.

Built from the real records of ../shared/data/warc; each test was written against the reader
before the fix and failed there.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from real_records import gzip_members, join_record, plain_records, split_record

from curate.io.datatrove_readers import DatatroveParquetReader
from curate.io.jsonl_reader import JsonlReader
from curate.io.parquet_reader import ParquetReader
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader

SOURCE = "cc-main-2020-34-multilingual.warc.gz"


def read(path: Path, reader=None) -> tuple[list[str], ReadCounts]:
    counts = ReadCounts()
    ids: list[str] = []
    for table in (reader or WarcReader()).read(str(path), counts):
        ids.extend(table.column("id").to_pylist())
    assert counts.records == counts.emitted + sum(counts.skipped.values()) + sum(counts.errored.values())
    assert len(ids) == counts.emitted
    return ids, counts


@pytest.fixture(scope="module")
def members(shared_data: Path) -> list[bytes]:
    found = gzip_members(shared_data / "warc" / SOURCE)
    assert len(found) == 50
    return found


@pytest.fixture(scope="module")
def clean(shared_data: Path) -> tuple[list[str], ReadCounts]:
    return read(shared_data / "warc" / SOURCE)


def html_positions(members: list[bytes]) -> list[int]:
    return [i for i, m in enumerate(members) if b"WARC-Type: response" in gzip.decompress(m)
            and re.search(rb"(?i)\r\ncontent-type: text/html", gzip.decompress(m))]


def record_id(member: bytes) -> str:
    return re.search(rb"WARC-Record-ID: (\S+)", gzip.decompress(member)).group(1).decode()


def test_unknown_charsets_fall_back_to_detection_and_are_counted(members, clean, tmp_path: Path) -> None:
    edited = list(members)
    targets = html_positions(members)[:2]
    for i, charset in zip(targets, (b"x-user-defined", b"bogus-xyz"), strict=True):
        head, block = split_record(gzip.decompress(members[i]))
        http_head, sep, body = block.partition(b"\r\n\r\n")
        http_head = re.sub(rb"(?im)^content-type:[^\r\n]*", b"Content-Type: text/html; charset=" + charset, http_head)
        edited[i] = gzip.compress(join_record(head, http_head + sep + body))
    path = tmp_path / "charsets.warc.gz"
    path.write_bytes(b"".join(edited))
    ids, counts = read(path)
    assert ids == clean[0]
    assert counts.counters["charset_unknown_detected"] == 2
    assert counts.errored == {}


def test_empty_gzip_member_does_not_end_the_file(members, clean, tmp_path: Path) -> None:
    path = tmp_path / "empty-member.warc.gz"
    path.write_bytes(b"".join(members[:3]) + gzip.compress(b"") + b"".join(members[3:]))
    ids, counts = read(path)
    assert ids == clean[0] and counts.records == 50


def test_damaged_member_is_one_error_naming_record_and_offset(members, clean, tmp_path: Path) -> None:
    fifth = bytearray(members[4])
    for i in range(30, len(fifth) - 12, 53):
        fifth[i] ^= 0xA5
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(b"".join(members[:4]) + bytes(fifth) + b"".join(members[5:]))
    ids, counts = read(path)
    lost = record_id(members[4])
    assert ids == [i for i in clean[0] if i != lost]
    assert counts.records == 50 and sum(counts.errored.values()) == 1
    offset = sum(len(m) for m in members[:4])
    assert f"{path}: record 5 at byte {offset}" in counts.messages[0]


def test_garbage_gzip_member_is_counted_and_skipped(members, clean, tmp_path: Path) -> None:
    path = tmp_path / "garbage.warc.gz"
    path.write_bytes(b"".join(members[:7]) + b"\x1f\x8b\x08\x00" + b"not deflate data " * 20 + b"".join(members[7:]))
    ids, counts = read(path)
    assert ids == clean[0]
    assert counts.records == 51 and counts.errored == {"unreadable_record": 1}


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_content_length_past_the_end_keeps_every_later_record(members, clean, tmp_path: Path, gz: bool) -> None:
    records = plain_records(members)
    target = html_positions(members)[1]
    head, block = split_record(records[target])
    records[target] = join_record(head, block, length=10 ** 12)  # past the end of record and file
    path = tmp_path / ("lying." + ("warc.gz" if gz else "warc"))
    path.write_bytes(b"".join(gzip.compress(r) for r in records) if gz else b"".join(records))
    ids, counts = read(path)
    later = [record_id(m) for m in members[target + 1:]]
    assert set(later) & set(clean[0]) <= set(ids)  # nothing after the lying record is lost
    assert counts.records == 50
    assert "too_large" not in counts.skipped or counts.skipped["too_large"] <= 1


def test_content_length_into_the_next_records_is_cut_there(members, clean, tmp_path: Path) -> None:
    records = plain_records(members)
    target = html_positions(members)[0]
    head, block = split_record(records[target])
    records[target] = join_record(head, block, length=len(block) + 3000)  # swallows the next records' start
    path = tmp_path / "swallow.warc"
    path.write_bytes(b"".join(records))
    ids, counts = read(path)
    assert ids == clean[0] and counts.records == 50
    assert counts.counters["content_length_too_long"] == 1


def test_parquet_without_the_text_column_is_counted_per_row_naming_the_option(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"content": ["alpha beta", "gamma"], "doc_id": ["1", "2"]}), path)
    ids, counts = read(path, ParquetReader())
    assert ids == [] and counts.errored == {"missing_text_column": 2}
    assert str(path) in counts.messages[0] and "input.options.text_key" in counts.messages[0]
    assert "'content'" in counts.messages[0]


def test_parquet_invalid_utf8_rows_are_counted_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad-utf8.parquet"
    texts = pa.array([b"fine text", b"broken \xff\xfe text", b"more fine text"], pa.binary())
    pq.write_table(pa.table({"text": texts.view(pa.string()), "id": ["a", "b", "c"]}), path)
    ids, counts = read(path, ParquetReader())
    assert ids == ["a", "c"] and counts.errored == {"invalid_utf8": 1}
    assert "row 1" in counts.messages[0] and str(path) in counts.messages[0]
    pq.write_table(pa.table({"text": texts, "id": ["a", "b", "c"]}), path)  # a binary column
    ids, counts = read(path, ParquetReader())
    assert ids == ["a", "c"] and counts.errored == {"invalid_utf8": 1}


def test_jsonl_invalid_utf8_is_counted_not_replaced(tmp_path: Path) -> None:
    good = [json.dumps({"id": f"d{i}", "text": f"document {i}"}).encode() for i in range(3)]
    bad = b'{"id": "bad", "text": "caf\xe9 latin-1"}'
    path = tmp_path / "mixed.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(good[:2] + [bad] + good[2:]) + b"\n"))
    ids, counts = read(path, JsonlReader())
    assert ids == ["d0", "d1", "d2"] and counts.errored == {"invalid_utf8": 1}
    assert f"{path}:3" in counts.messages[0]
    # a lone UTF-16 surrogate escape is valid JSON but no character: counted, and the pair form still reads
    path = tmp_path / "surrogates.jsonl"
    path.write_bytes(b'{"id": "lone", "text": "half \\ud800 pair"}\n{"id": "pair", "text": "emoji \\ud83d\\ude00"}\n')
    ids, counts = read(path, JsonlReader())
    assert ids == ["pair"] and counts.errored == {"invalid_utf8": 1}


def test_datatrove_parquet_invalid_utf8_rows_are_counted_errors(tmp_path: Path) -> None:
    path = tmp_path / "dt.parquet"
    texts = pa.array([b"fine text", b"broken \xff text"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"text": texts, "id": ["a", "b"], "metadata": [{"url": "u1"}, {"url": "u2"}]}), path)
    ids, counts = read(path, DatatroveParquetReader())
    assert ids == ["a"] and counts.errored == {"invalid_utf8": 1} and "row 1" in counts.messages[0]


def test_damaged_parquet_is_counted_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "damaged.parquet"
    pq.write_table(pa.table({"text": [f"document {i} " * 50 for i in range(2000)]}), path, row_group_size=500,
                   compression="none")
    data = bytearray(path.read_bytes())
    middle = len(data) * 3 // 4  # inside a later row group's pages
    data[middle:middle + 4000] = b"\xff" * 4000
    path.write_bytes(bytes(data))
    ids, counts = read(path, ParquetReader())
    assert counts.records == 2000 and sum(counts.errored.values()) > 0
    assert len(ids) == counts.emitted < 2000
    path.write_bytes(b"PAR1 this is not parquet at all")
    ids, counts = read(path, ParquetReader())
    assert ids == [] and counts.errored == {"unreadable_file": 1} and str(path) in counts.messages[0]


def test_damaged_compressed_jsonl_keeps_what_came_before(tmp_path: Path) -> None:
    lines = b"".join(json.dumps({"id": f"d{i}", "text": f"document {i} " * 30}).encode() + b"\n" for i in range(3000))
    data = bytearray(gzip.compress(lines))
    data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(bytes(data))
    ids, counts = read(path, JsonlReader())
    assert 0 < len(ids) < 3000 and counts.errored.get("unreadable_rest") == 1
    assert ids == [f"d{i}" for i in range(len(ids))]
