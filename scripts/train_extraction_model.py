"""Train the block classifier of the ``classified`` extraction engine and write ``curate/extract/data/block_model.json``.

    CURATE_SHARED_DATA=../shared/data .venv/bin/python scripts/train_extraction_model.py [--sets articles readability]

Training pages: the gold sets of ``tests/extraction_gold.py`` named by ``--sets`` (default: the 181 scrapinghub
article pages and the 130 mozilla/readability pages of shared/data/extraction). The hand-made page-type set
(``tests/data/extraction_gold``) is never used here: it is the held-out set of benchmarks/extraction_quality.py,
which also reports the model trained on one set and scored on the other. Deterministic: the same pages give the
same file byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the gold sets: one definition for tests, benchmarks and training

from extraction_gold import gold_sets  # noqa: E402

from curate.extract.balanced_engine import main_content_blocks  # noqa: E402
from curate.extract.block_classifier import MODEL_FILE  # noqa: E402
from curate.extract.block_training import page_data, train_block_model  # noqa: E402

OUT = REPO / "curate" / "extract" / "data" / MODEL_FILE


def training_pages(shared: Path, sets: list[str]) -> list:
    return [page_data(main_content_blocks(p.html), p.gold) for pages in gold_sets(shared, sets).values()
            for p in pages]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", nargs="+", default=["articles", "readability"], choices=["articles", "readability"])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    shared = Path(os.environ.get("CURATE_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()
    pages = training_pages(shared, args.sets)
    model = train_block_model(pages, trained_on=" + ".join(args.sets))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.out}: {model['training_pages']} pages, {model['training_blocks']} blocks, "
          f"threshold {model['threshold']}")


if __name__ == "__main__":
    main()
