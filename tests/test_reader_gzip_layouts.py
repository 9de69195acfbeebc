"""No silent loss in the WARC and ARC readers, whatever the gzip layout and its damage (issue 23).

The real records of ../shared/data are written as one gzip stream (small and large files), per
record with empty members in front, between and after, with members holding several records
after per-record ones, per record with one byte changed, and as one stream cut short. Every record
is read, or counted as an error: records read + errored account for every record of the file, and
a damaged member costs its own record only. The reference is warcio's list of the original file's
gzip members (one record each) and the rows the reader gives for the intact per-record file.
"""

from __future__ import annotations

import gzip
import hashlib
import random
from pathlib import Path

import pytest
from real_records import arc_records, gzip_members

from curate.io.arc_reader import ArcReader
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import UNREADABLE_REST, WarcReader

SOURCES = ("cc-main-2020-34-multilingual.warc.gz", "wget-crawl-sample-0000.warc.gz", "pywb-iana.warc.gz",
           "wayback-snapshot-topic-02.warc.gz", "ia-2008-crawl-example.warc.gz")


@pytest.fixture(scope="module")
def records(shared_data: Path) -> dict[str, list[bytes]]:
    """Each source's records, decompressed, one per gzip member of the real file."""
    return {name: [gzip.decompress(m) for m in gzip_members(shared_data / "warc" / name)] for name in SOURCES}


def read(path: Path, reader: type[WarcReader] = WarcReader) -> tuple[list[tuple[str, str]], ReadCounts]:
    """(url, digest of the page) of every row, and the counts."""
    counts = ReadCounts()
    rows = [(url, hashlib.sha1(html.encode()).hexdigest()) for table in reader().read(str(path), counts)
            for url, html in zip(table.column("url").to_pylist(), table.column("html").to_pylist(), strict=True)]
    assert counts.records == counts.emitted + sum(counts.skipped.values()) + sum(counts.errored.values())
    assert len(rows) == counts.emitted and UNREADABLE_REST not in counts.errored, counts.to_dict()
    return rows, counts


def per_record(window: list[bytes], level: int = 6) -> list[bytes]:
    return [gzip.compress(r, compresslevel=level, mtime=0) for r in window]


def test_one_stream_files_under_and_over_64_kib_lose_no_record(records: dict[str, list[bytes]],
                                                                tmp_path: Path) -> None:
    one, per = tmp_path / "one.warc.gz", tmp_path / "per.warc.gz"
    sizes = []
    for name in SOURCES:
        for k in (2, 3, 5, 9, 17, 40):
            window = records[name][:k]
            per.write_bytes(b"".join(per_record(window)))
            one.write_bytes(gzip.compress(b"".join(window), mtime=0))
            sizes.append(one.stat().st_size)
            expected, _ = read(per)
            rows, counts = read(one)
            assert counts.records == k and counts.errored == {}, (name, k, counts.to_dict())
            assert rows == expected, (name, k)
    assert min(sizes) < 65_536 < max(sizes)


def test_a_large_one_stream_file_whose_first_record_ends_in_its_last_64_kib(shared_data: Path,
                                                                              tmp_path: Path) -> None:
    pdfs = [gzip.decompress(m) for m in gzip_members(shared_data / "warc" / "webrecorder-pdfs.warc.gz")]
    big = max(range(len(pdfs)), key=lambda i: len(pdfs[i]))
    path = tmp_path / "big.warc.gz"
    path.write_bytes(gzip.compress(pdfs[big] + pdfs[big + 1], mtime=0))
    size = path.stat().st_size
    first_end = len(gzip.compress(pdfs[big], mtime=0))  # about where the first record's bytes end
    assert size > 1_000_000 and size - first_end < 65_536
    _, counts = read(path)
    assert counts.records == 2 and counts.errored == {}, counts.to_dict()


def test_arc_as_one_gzip_stream_small_and_large(records: dict[str, list[bytes]], tmp_path: Path) -> None:
    arcs = arc_records(records["wget-crawl-sample-0000.warc.gz"])
    path, per = tmp_path / "one.arc.gz", tmp_path / "per.arc.gz"
    for k in (2, 3, 10, len(arcs)):
        per.write_bytes(b"".join(per_record(arcs[:k])))
        path.write_bytes(gzip.compress(b"".join(arcs[:k]), mtime=0))
        expected, _ = read(per, ArcReader)
        rows, counts = read(path, ArcReader)
        assert counts.records == k and counts.errored == {}, (k, counts.to_dict())
        assert rows == expected and len(rows) == k


@pytest.mark.parametrize("where", ["front", "between", "end"])
def test_empty_gzip_members_around_a_one_stream_file(records: dict[str, list[bytes]], tmp_path: Path,
                                                     where: str) -> None:
    window = records["wget-crawl-sample-0000.warc.gz"]
    empty = gzip.compress(b"", mtime=0)
    halves = [gzip.compress(b"".join(window[:20]), mtime=0), gzip.compress(b"".join(window[20:]), mtime=0)]
    parts = {"front": [empty, empty, b"".join(halves)], "between": [halves[0], empty, halves[1]],
             "end": [b"".join(halves), empty]}[where]
    path = tmp_path / "case.warc.gz"
    path.write_bytes(b"".join(parts))
    _, counts = read(path)
    assert counts.records == len(window) == 48 and counts.errored == {}, counts.to_dict()


def test_one_changed_byte_in_per_record_gzip_costs_its_record_only(shared_data: Path, tmp_path: Path) -> None:
    data = bytearray((shared_data / "warc" / "wayback-snapshot-topic-02.warc.gz").read_bytes())
    data[633684] ^= 0x10
    path = tmp_path / "flipped.warc.gz"
    path.write_bytes(bytes(data))
    rows, counts = read(path)
    intact, _ = read(shared_data / "warc" / "wayback-snapshot-topic-02.warc.gz")
    assert counts.records == 129 and counts.errored == {"unreadable_record": 1}, counts.to_dict()
    assert counts.emitted == 127 and len(set(intact) - set(rows)) == 1 and set(rows) <= set(intact)
    assert "record 49 at byte 627597" in counts.messages[0] and "gzip member does not inflate" in counts.messages[0]


def test_a_zero_byte_file_is_one_named_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.warc.gz"
    path.write_bytes(b"")
    _, counts = read(path)
    assert counts.errored == {"empty_file": 1} and str(path) in counts.messages[0]


LAYOUTS = ("one_stream", "one_stream_empty_members", "per_record_empty_members", "per_record_one_flip",
           "several_per_member", "one_stream_cut")


def _layout(kind: str, window: list[bytes], rng: random.Random) -> bytes:
    level = rng.choice([1, 6, 9])  # level 1 stores incompressible bodies: record text in raw bytes
    members = per_record(window, level)
    empty = gzip.compress(b"", mtime=0)
    if kind.startswith("one_stream"):
        parts = [gzip.compress(b"".join(window), compresslevel=level, mtime=0)]
        if kind == "one_stream_cut":
            return parts[0][: rng.randrange(10, len(parts[0]))]
    elif kind == "several_per_member":
        cuts = sorted(rng.sample(range(1, len(window)), min(len(window) - 1, rng.randint(1, 3))))
        parts = [gzip.compress(b"".join(window[a:b]), compresslevel=level, mtime=0)
                 for a, b in zip([0, *cuts], [*cuts, len(window)], strict=True)]
    elif kind == "per_record_one_flip":
        data = bytearray(b"".join(members))
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    else:
        parts = list(members)
    if kind.endswith("empty_members"):
        for _ in range(rng.randint(1, 3)):
            parts.insert(rng.randint(0, len(parts)), empty)
    return b"".join(parts)


@pytest.mark.parametrize("fmt", ["warc", "arc"])
def test_random_damage_to_gzip_layouts_is_read_or_counted(records: dict[str, list[bytes]], tmp_path: Path,
                                                          fmt: str) -> None:
    cases, seed = (300, 2323) if fmt == "warc" else (150, 2324)
    reader = WarcReader if fmt == "warc" else ArcReader
    sources = {n: (r if fmt == "warc" else arc_records(r)) for n, r in records.items()}
    sources = {n: r for n, r in sources.items() if len(r) >= 4}
    rng = random.Random(seed)
    path, clean = tmp_path / f"case.{fmt}.gz", tmp_path / f"clean.{fmt}.gz"
    seen: dict[str, int] = {}
    for case in range(cases):
        kind = LAYOUTS[case % len(LAYOUTS)]
        name = rng.choice(sorted(sources))
        k = rng.randint(2, min(30, len(sources[name])))
        first = rng.randrange(len(sources[name]) - k + 1)
        window = sources[name][first:first + k]
        clean.write_bytes(b"".join(per_record(window)))
        expected, _ = read(clean, reader)
        path.write_bytes(_layout(kind, window, rng))
        try:
            rows, counts = read(path, reader)
        except Exception as exc:  # the property under test: nothing escapes
            pytest.fail(f"case {case} ({kind}, {name} {first}+{k}): {type(exc).__name__}: {exc}")
        where = f"case {case} ({kind}, {name} records {first}+{k}): {counts.to_dict()}"
        errors = sum(counts.errored.values())
        if kind == "one_stream_cut":  # the cut is always seen (at least the gzip trailer is gone)
            assert errors >= 1 and rows == expected[: len(rows)], where
        elif kind == "per_record_one_flip":  # the flipped member's record, at most, is lost and counted
            assert counts.records == k and errors <= 1, where
            assert set(rows) <= set(expected) and len(set(expected) - set(rows)) <= errors, where
        else:
            assert counts.records == k and errors == 0 and rows == expected, where
        seen[kind] = seen.get(kind, 0) + 1
    assert set(seen) == set(LAYOUTS)
