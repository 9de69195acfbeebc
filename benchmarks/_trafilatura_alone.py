"""CPU time of bare ``trafilatura.extract`` (FineWeb settings) per page; runs in either venv (no curate import).

    PYTHON benchmarks/_trafilatura_alone.py PAGES.jsonl [--repeats 2]

PAGES.jsonl holds one ``{"html": ...}`` per line. Prints one JSON line: trafilatura's version, the median CPU
ms per page over the passes (after one warm-up page), and the characters extracted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pages")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import trafilatura
    from trafilatura.meta import reset_caches

    with open(args.pages, encoding="utf-8") as f:
        pages = [json.loads(line)["html"] for line in f]

    def extract(html: str) -> str:
        return trafilatura.extract(html, favor_precision=True, include_comments=False, deduplicate=True) or ""

    extract(pages[0])
    times, chars = [], 0
    for _ in range(args.repeats):
        reset_caches()  # the deduplicate LRU would otherwise drop segments seen in the previous pass
        t0 = time.process_time()
        chars = sum(len(extract(html)) for html in pages)
        times.append(time.process_time() - t0)
    print(json.dumps({"version": trafilatura.__version__, "pages": len(pages),
                      "cpu_ms_per_page": statistics.median(times) / len(pages) * 1e3, "chars": chars}))


if __name__ == "__main__":
    main()
