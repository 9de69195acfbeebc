"""Language-ID confidence filter with a per-language threshold.

FineWeb2 (Penedo et al. 2025, arXiv:2506.20920; language-identification step, per-language
confidence thresholds): a single confidence cut-off is too strict for some languages and too lax for
others, so each language gets its own ``language_score`` threshold (``configs/<lang>.yml``),
fitted on the distribution of GlotLID scores. huggingface/fineweb-2 keeps a document when
``language_score >= threshold``; this block removes it when ``lang_score < threshold``
(reason ``language_score``). Rows without a score (e.g. ``und``) count as score 0.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from curate.blocks.columns import LANG_SCORE
from curate.filters._base import LanguageAwareFilter, pick
from curate.languages.language_config import LanguageConfig


class LanguageScoreFilter(LanguageAwareFilter):
    """Remove documents whose language-ID score is below their language's threshold."""

    name: ClassVar[str] = "language_score"

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = threshold  # None: the language table's ``language_score``

    def prepare_batch(self, table: pa.Table) -> list[Any]:
        if LANG_SCORE in table.column_names:
            return table.column(LANG_SCORE).to_pylist()
        return [None] * table.num_rows

    def params(self, cfg: LanguageConfig) -> float:
        return float(pick(self.threshold, cfg.language_score))

    def judge(self, text: str, threshold: float, row: int, batch: list[Any]) -> str | None:
        score = batch[row]
        if score is None or score < threshold:
            return "language_score"
        return None
