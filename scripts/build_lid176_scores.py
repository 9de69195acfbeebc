"""Build ``curate/langid/data/language_scores_lid176.json``: FineWeb2-style language_score thresholds for lid.176.

    CURATE_SHARED_DATA=../shared/data .venv/bin/python scripts/build_lid176_scores.py

FineWeb2 (Penedo et al. 2025, arXiv:2506.20920) sets each language's threshold to
``max(0.3, min(0.9, median - std))`` of the GlotLID scores of the documents GlotLID assigns to the language.
Here the model is lid.176 (the ``langid`` block with ``second_opinion: none``, so keys get the text's script)
and the documents are the 74,141 single sentences of shared/data/langid/lingua_sentences.jsonl (lingua-rs test
data, 75 languages): each sentence is one document, whatever its gold language, as FineWeb2 scored whatever
the model assigned. Single sentences (about 105 characters) rather than clean 1 KB documents, because on clean
documents lid.176 is sure of nearly everything and the formula saturates at its 0.9 cap (64 of 64 keys' median
0.9), while on sentences the median threshold over the 75 keys, 0.69, is close to FineWeb2's own GlotLID
median for the same keys (0.73): crawled pages are noisy. Keys with fewer than 30 documents get no value of
their own; they use ``default``, the median of the derived thresholds.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import pyarrow as pa

from curate.blocks.base import BlockContext
from curate.langid.langid_block import LanguageId
from curate.langid.score_calibration import MIN_DOCUMENTS, ScoreHistogram

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "curate" / "langid" / "data" / "language_scores_lid176.json"


def derive(shared: Path) -> dict:
    """The file's content, from the shared data folder."""
    with open(shared / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    block = LanguageId(second_opinion="none")
    hist = ScoreHistogram()
    for i in range(0, len(texts), 4096):
        out = block.process(pa.table({"text": texts[i:i + 4096]}), BlockContext()).table
        hist.add(out.column("lang").to_pylist(), out.column("lang_score").to_numpy())
    stats = [s for s in hist.stats(MIN_DOCUMENTS) if not s.key.startswith("und")]
    scores = {s.key: s.threshold for s in stats}
    default = round(statistics.median(scores.values()), 4)
    doc = {
        "source": f"lid176:max(0.3, min(0.9, median - std)) of lid.176 scores on {len(texts):,} lingua test "
                  "sentences (scripts/build_lid176_scores.py)",
        "default": default,
        "documents": {s.key: s.documents for s in stats},
        "scores": scores,
    }
    return doc


def main() -> None:
    doc = derive(Path(os.environ.get("CURATE_SHARED_DATA", REPO.parent / "shared" / "data")))
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(doc['scores'])} keys, default {doc['default']}")


if __name__ == "__main__":
    main()
