"""Where each built-in step comes from, for the dataset card's "Processing" section.

Each entry names the paper or tool the step's method and default thresholds are taken from (the block's own
docstring cites the table or section). A step not listed here (a user's block, a newer one) is described by
the first sentence of its class docstring.
"""

from __future__ import annotations

from typing import Any

from curate.blocks.registry import UnknownBlockError, resolve_block

FINEWEB = "Penedo et al. 2024, The FineWeb Datasets (arXiv:2406.17557)"
FINEWEB2 = "Penedo et al. 2025, FineWeb2: One Pipeline to Scale Them All (arXiv:2506.20920)"
GOPHER = "Rae et al. 2021, Scaling Language Models: Methods, Analysis & Insights from Training Gopher, appendix A"

BLOCK_CITATIONS: dict[str, str] = {
    "extract": "main text with trafilatura (Barbaresi 2021, ACL demos), FineWeb's settings; " + FINEWEB,
    "langid": "fastText lid.176 (Joulin et al. 2017, Bag of Tricks for Efficient Text Classification) or GlotLID "
              "(Kargaran et al. 2023); labels as ISO 639-3 + ISO 15924, as " + FINEWEB2,
    "language_score": "per-language confidence thresholds of " + FINEWEB2,
    "minhash": "MinHash (Broder 1997) with LSH, 5-grams, 14 bands x 8 rows, per language; " + FINEWEB2,
    "exact_dedup": "exact duplicates by content hash",
    "gopher_repetition": "repetition filters of " + GOPHER + ", per-language thresholds of " + FINEWEB2,
    "gopher_quality": "quality filters of " + GOPHER + ", per-language thresholds of " + FINEWEB2,
    "fineweb_quality": "line-level filters of " + FINEWEB + ", per-language thresholds of " + FINEWEB2,
    "c4": "C4 line filters (Raffel et al. 2020, Exploring the Limits of Transfer Learning, section 2.2)",
    "url_filter": "URL blocklist filter of RefinedWeb (Penedo et al. 2023, arXiv:2306.01116) and " + FINEWEB,
    "ftfy": "mojibake repair with ftfy (Speer 2019)",
    "pii": "e-mail addresses and public IP addresses replaced, as in " + FINEWEB,
    "symbol_lines": "lines made mostly of symbols removed",
    "rehydrate": "duplication-aware upsampling from this run's removal rates per cluster size, " + FINEWEB2,
    "fasttext_quality": "fastText quality classifier as in DCLM (Li et al. 2024, arXiv:2406.11794)",
    "kenlm_perplexity": "KenLM perplexity buckets of CCNet (Wenzek et al. 2020, arXiv:1911.00359)",
    "datatrove": "a datatrove step (huggingface/datatrove)",
}


def step_citation(name: str) -> str:
    """The citation of step ``name``; else its class docstring's first sentence; else ""."""
    if name in BLOCK_CITATIONS:
        return BLOCK_CITATIONS[name]
    try:
        doc: Any = resolve_block(name).__doc__ or ""
    except UnknownBlockError:
        return ""
    first = " ".join(doc.strip().split("\n\n")[0].split())
    return first.split(". ")[0].rstrip(".")
