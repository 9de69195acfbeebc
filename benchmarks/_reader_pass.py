"""One process reading WARC (or WACZ) files with whichever ``curate`` is first on PYTHONPATH; prints JSON.

Helper of ``reader_throughput.py`` (run as a subprocess, so each side imports its own code).
"""

from __future__ import annotations

import json
import resource
import sys
import time

from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader


def reader_for(path: str) -> WarcReader:
    if path.endswith(".wacz"):  # only the containers' rows read WACZ; the base commit has no WaczReader
        from curate.io.wacz_reader import WaczReader

        return WaczReader()  # type: ignore[return-value]
    return WarcReader()


def main() -> None:
    repeats, files = int(sys.argv[1]), sys.argv[2:]
    for path in files:  # warm the page cache and imports: not measured
        for _ in reader_for(path).read(path, ReadCounts()):
            pass
    cpu, wall = [], []
    records = emitted = 0
    for _ in range(repeats):
        records = emitted = 0
        c0, w0 = time.process_time(), time.perf_counter()
        for path in files:
            counts = ReadCounts()
            for _ in reader_for(path).read(path, counts):
                pass
            records += counts.records
            emitted += counts.emitted
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    print(json.dumps({"records": records, "emitted": emitted, "cpu_s": cpu, "wall_s": wall,
                      "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
