"""WARC reader speed before and after the careful path (issues 13, 14): CPU time per record, same files, same run.

"Before" is curate's reader at a base commit (default: the commit this reader work started from), exported
with ``git archive`` into ``_work/reader_throughput/base``; "after" is the working tree. Both read the same
modern WARCs with default settings, twice: every file of ../shared/data/warc plus the two extraction WARCs
(small files, where a fixed cost per file weighs) and one file made of the per-record gzip ones
concatenated 4 times (closer to a Common Crawl WARC). Each side runs in its own processes, alternating:
``--rounds`` processes per side of ``--repeats`` passes each after one warm-up pass; medians and the best
pass are reported. CPU seconds (``time.process_time``) are the measure, since the 2 cores are shared; wall
seconds, peak RSS and the load average are shown too. Both sides use the same FastWARC and resiliparse.

What differs: after, each record becomes a small record object converted by code shared with the careful
path, is counted once the next record parsed, and HTTP headers FastWARC cannot split go to the careful
path; at the end of each file one gzip member is inflated (or one header read) to check that nothing
follows the last record. The outputs are the same documents (the test suite checks this on every shared
WARC).

Containers (``--only containers`` runs just these rows): the same records of the large file as
``.warc.gz``, as a WACZ holding that file (ZIP_STORED, read in place) and as a ``.warc.zst`` per the
IIPC proposal (one frame per record, zstandard level 3, a 110 KB dictionary trained on its first
2,000 records in the dictionary frame); this tree only, CPU per record side by side. Writes the
``reader_containers`` section.

Silent-loss fixes (``--only gzip_layouts``, issue 23): the reader at ``LAYOUTS_BASE`` (main before them)
against this tree on the same undamaged files, plus the large file's records gzipped as one stream; writes
the ``reader_gzip_layouts`` section.

Run: ``.venv/bin/python benchmarks/reader_throughput.py [--base REV] [--rounds 6] [--repeats 3]
[--only all|before_after|containers|gzip_layouts]``; writes the ``reader_throughput`` section of
benchmarks/RESULTS.md (and ``reader_containers``, ``reader_gzip_layouts``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib
from importlib.metadata import version
from pathlib import Path

import zstandard
from _results import BENCH, REPO, WORK, machine_line, md_table, median, require_shared, write_section
from warcio.archiveiterator import ArchiveIterator

BASE_COMMIT = "b81495b"  # main before the ARC/careful-path reader (issues 13, 14)
LAYOUTS_BASE = "8fce031"  # main before the silent-loss fixes of the reader (issue 23)
COMPARE_HEADER = ["input", "reader", "records", "documents", "CPU s / pass", "CPU µs / record",
                  "CPU µs / record (best pass)", "documents / CPU s", "wall s / pass", "peak RSS MB"]
OUT = WORK / "reader_throughput"


def export_base(rev: str) -> str:
    target = OUT / "base"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "curate"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return str(target)


def large_file(files: list[str]) -> Path:
    """The per-record gzip WARCs of the list concatenated 4 times: one clean file of ~6,000 records."""
    path = OUT / "concatenated.warc.gz"
    parts = [f for f in files if f.endswith(".warc.gz") and "single-gzip" not in f and "clipped" not in f]
    OUT.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for _ in range(4):
            for part in parts:
                out.write(Path(part).read_bytes())
    return path


def one_pass(code_root: str, files: list[str], repeats: int) -> dict:
    env = dict(os.environ, PYTHONPATH=code_root)
    done = subprocess.run([sys.executable, str(BENCH / "_reader_pass.py"), str(repeats), *files], env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def plain_records(path: Path) -> list[bytes]:
    """The records of a per-record gzip WARC, one decompressed gzip member each (warcio finds the members)."""
    data, spans = path.read_bytes(), []
    with open(path, "rb") as handle:
        records = ArchiveIterator(handle)
        for _ in records:
            spans.append((records.get_record_offset(), records.get_record_length()))
    return [zlib.decompress(data[start:start + length], 16 + zlib.MAX_WBITS) for start, length in spans]


def container_files(big: Path) -> dict[str, Path]:
    """The large file's records as .warc.gz, in a WACZ, and as a dictionary .warc.zst."""
    wacz, zst = OUT / "concatenated.wacz", OUT / "concatenated.warc.zst"
    with zipfile.ZipFile(wacz, "w") as zf:
        zf.writestr("datapackage.json", json.dumps({"profile": "data-package", "wacz_version": "1.1.1"}))
        zf.write(big, f"archive/{big.name}", compress_type=zipfile.ZIP_STORED)
    records = plain_records(big)
    dictionary = zstandard.train_dictionary(112_640, records[:2000])
    compressor = zstandard.ZstdCompressor(level=3, dict_data=dictionary, write_checksum=True)
    raw = dictionary.as_bytes()
    with open(zst, "wb") as out:
        out.write(b"\x5d\x2a\x4d\x18" + len(raw).to_bytes(4, "little") + raw)
        for record in records:
            out.write(compressor.compress(record))
    return {".warc.gz": big, ".wacz (STORED .warc.gz inside)": wacz, ".warc.zst (dictionary)": zst}


def containers(big: Path, rounds: int, repeats: int) -> None:
    files = container_files(big)
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {name: [] for name in files}
    for i in range(rounds):  # alternate the order so load changes hit every container
        for name in (list(files) if i % 2 == 0 else list(reversed(files))):
            runs[name].append(one_pass(str(REPO), [str(files[name])], repeats))
    load_after = os.getloadavg()
    rows, per_record = [], {}
    for name, results in runs.items():
        cpu = median([c for r in results for c in r["cpu_s"]])
        best = min(c for r in results for c in r["cpu_s"])
        records, emitted = results[0]["records"], results[0]["emitted"]
        per_record[name] = cpu / records * 1e6
        rows.append([name, f"{files[name].stat().st_size / 1e6:.1f}", records, emitted, f"{cpu:.3f}",
                     f"{per_record[name]:.1f}", f"{best / records * 1e6:.1f}",
                     f"{max(r['max_rss_mb'] for r in results):.0f}"])
    assert len({(r[2], r[3]) for r in rows}) == 1, "every container must give the same records and documents"
    gz = per_record[".warc.gz"]
    table = md_table(["container", "MB", "records", "documents", "CPU s / pass", "CPU µs / record",
                      "CPU µs / record (best pass)", "peak RSS MB"], rows)
    text = (
        "## WARC reader throughput by container: .warc.gz, WACZ, zstd WARC with a dictionary\n\n"
        f"The same {rows[0][2]} records ({big.name}: the per-record gzip WARCs of ../shared/data concatenated "
        "4 times) as `.warc.gz`, as a WACZ holding that file uncompressed (ZIP_STORED, read in place through "
        "the ZIP) and as a `.warc.zst` per the IIPC proposal (one frame per record, zstandard level 3, a 110 KB "
        f"dictionary trained on the first 2,000 records). This tree only, {rounds} alternating processes per "
        f"container of {repeats} passes each after a warm-up pass; medians and the best pass. CPU time "
        "(`time.process_time`) is the measure; the machine is shared. "
        f"FastWARC {version('fastwarc')}, warcio {version('warcio')}, zstandard {version('zstandard')}. "
        f"{machine_line()}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after.\n\n"
        f"{table}\n\nCPU per record against `.warc.gz`: "
        + ", ".join(f"{(v / gz - 1) * 100:+.1f}% for {k}" for k, v in per_record.items() if k != ".warc.gz")
        + ". What differs: the WACZ is the same gzip members read through a window on the ZIP; the zstd file "
        "is decompressed frame by frame in Python (python-zstandard) and fed to FastWARC as a plain stream, "
        "where the `.warc.gz` members are inflated inside FastWARC. Same documents from all three (tests/"
        "test_wacz_zstd.py checks the ids and text against the original WARCs)."
    )
    print(text)
    write_section("reader_containers", text)


def compare(base_root: str, base: str, inputs_by_label: dict[str, list[str]], rounds: int,
            repeats: int) -> tuple[list[list], dict[str, tuple[float, float]]]:
    """Before (``base_root``) and after (this tree) on each input, alternating; table rows and the change
    of CPU per record, median and best pass, per input."""
    rows: list[list] = []
    change = {}
    for label, inputs in inputs_by_label.items():
        runs: dict[str, list[dict]] = {"before": [], "after": []}
        for i in range(rounds):  # alternate the sides so load changes hit both
            for side in (("before", "after") if i % 2 == 0 else ("after", "before")):
                runs[side].append(one_pass(base_root if side == "before" else str(REPO), inputs, repeats))
        per_record, best_per_record = {}, {}
        for side, results in runs.items():
            cpu = median([c for r in results for c in r["cpu_s"]])
            best = min(c for r in results for c in r["cpu_s"])
            wall = median([w for r in results for w in r["wall_s"]])
            records, emitted = results[0]["records"], results[0]["emitted"]
            per_record[side] = cpu / records * 1e6
            best_per_record[side] = best / records * 1e6
            rows.append([label, f"{side} ({base if side == 'before' else 'this tree'})", records, emitted,
                         f"{cpu:.3f}", f"{per_record[side]:.1f}", f"{best / records * 1e6:.1f}",
                         f"{emitted / cpu:,.0f}", f"{wall:.3f}",
                         f"{max(r['max_rss_mb'] for r in results):.0f}"])
        assert runs["before"][0]["records"] == runs["after"][0]["records"], f"{label}: the sides read differently"
        change[label] = ((per_record["after"] / per_record["before"] - 1) * 100,
                         (best_per_record["after"] / best_per_record["before"] - 1) * 100)
    return rows, change


def one_stream_file(big: Path) -> Path:
    """The large file's records gzipped as one stream (gzip level 6), as some tools write whole WARCs.

    Streamed member by member: the benchmark's own memory would otherwise show in its children's peak RSS."""
    path = OUT / "concatenated-one-stream.warc.gz"
    with open(big, "rb") as handle, gzip.open(path, "wb", compresslevel=6) as out:
        records = ArchiveIterator(handle)
        spans = [(records.get_record_offset(), records.get_record_length()) for _ in records]
        for start, length in spans:
            handle.seek(start)
            out.write(zlib.decompress(handle.read(length), 16 + zlib.MAX_WBITS))
    return path


def gzip_layouts(files: list[str], big: Path, rounds: int, repeats: int) -> None:
    """Issue 23: the reader before the silent-loss fixes (``LAYOUTS_BASE``) against this tree, undamaged files."""
    base_root = export_base(LAYOUTS_BASE)
    one = one_stream_file(big)
    load_before = os.getloadavg()
    rows, change = compare(base_root, LAYOUTS_BASE, {
        f"{len(files)} files": files, f"one file of {big.stat().st_size >> 20} MB, per-record gzip": [str(big)],
        f"the same records as one gzip stream ({one.stat().st_size >> 20} MB)": [str(one)]}, rounds, repeats)
    load_after = os.getloadavg()
    table = md_table(COMPARE_HEADER, rows)
    text = (
        "## WARC reader throughput: the silent-loss fixes (issue 23) on undamaged files\n\n"
        f"Before: curate's reader at {LAYOUTS_BASE} (main before issue 23); after: this tree, which tells a "
        "one-stream file by its first non-empty member holding a second record, checks that each record's "
        "offset in per-record gzip is a gzip member's (a member holding several records after per-record ones "
        "is then read as one stream), verifies the gzip member of the record where warcio stopped, and reads "
        "one-stream files through a view that ends counted where the stream is cut or damaged. Undamaged files "
        "only (damage is tests/test_reader_gzip_layouts.py's), default settings, "
        f"{rounds} alternating processes per side of {repeats} passes each, medians (and the best pass). CPU time "
        "(`time.process_time`) is the measure; the machine is shared. "
        f"FastWARC {version('fastwarc')}, warcio {version('warcio')} on both sides. {machine_line()}; load "
        f"average {load_before[0]:.2f} before, {load_after[0]:.2f} after.\n\n{table}\n\n"
        "CPU per record after vs before, median (best pass): "
        + ", ".join(f"{med:+.1f}% ({best:+.1f}%) on {k}" for k, (med, best) in change.items())
        + ". Same records and documents on both sides (asserted); the one-stream rows read the same bytes "
        "through Python's gzip on both sides, after through one more Python layer (the damage-aware view)."
    )
    print(text)
    write_section("reader_gzip_layouts", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default=BASE_COMMIT, help="git revision of the 'before' reader")
    parser.add_argument("--repeats", type=int, default=3, help="passes per process")
    parser.add_argument("--rounds", type=int, default=6, help="processes per side, alternating")
    parser.add_argument("--only", choices=("all", "before_after", "containers", "gzip_layouts"), default="all",
                        help="run only these rows")
    args = parser.parse_args()
    files = sorted(str(p) for p in require_shared("warc").iterdir())
    files += [str(require_shared("extraction", n)) for n in ("scrapinghub_aeb_pages.warc.gz",
                                                              "mozilla_readability_testpages.warc.gz")]
    big = large_file(files)
    if args.only in ("all", "gzip_layouts"):
        gzip_layouts(files, big, args.rounds, args.repeats)
    if args.only in ("all", "containers"):
        containers(big, args.rounds, args.repeats)
    if args.only not in ("all", "before_after"):
        return
    base_root = export_base(args.base)
    load_before = os.getloadavg()
    rows, change = compare(base_root, args.base, {f"{len(files)} files": files,
                                                  f"one file of {big.stat().st_size >> 20} MB": [str(big)]},
                           args.rounds, args.repeats)
    load_after = os.getloadavg()
    table = md_table(COMPARE_HEADER, rows)
    text = (
        "## WARC reader throughput, before and after the careful path\n\n"
        f"{len(files)} modern WARC/WET files (../shared/data/warc and the two extraction WARCs), default "
        f"settings, {args.rounds} alternating processes per side of {args.repeats} passes each, medians (and the "
        "best pass, the least disturbed by other load). CPU time "
        "(`time.process_time`) is the measure; the machine is shared. "
        f"FastWARC {version('fastwarc')}, warcio {version('warcio')}, resiliparse {version('resiliparse')} "
        f"on both sides. {machine_line()}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after.\n\n"
        f"{table}\n\nCPU per record after vs before, median (best pass): "
        + ", ".join(f"{med:+.1f}% ({best:+.1f}%) on {k}" for k, (med, best) in change.items())
        + ". The small files carry a fixed cost per file (after: one check that nothing follows the last "
        "record); the large file, closer to a Common Crawl WARC, shows the cost per record. Same documents on "
        "both sides (checked by "
        "tests/test_readers.py and tests/test_hostile_records.py); after also recovers records the "
        "before reader lost on damaged files, which these clean files do not have."
    )
    print(text)
    write_section("reader_throughput", text)


if __name__ == "__main__":
    main()
