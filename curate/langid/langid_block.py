"""The ``langid`` block: fastText language identification with labels normalised to ``xxx_Scrp``."""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockKind, BlockOutput
from curate.blocks.columns import LANG, LANG_SCORE, LANG_TOPK, TEXT
from curate.langid.fasttext_model import load_fasttext, packaged_lid176_path
from curate.langid.labels import normalize_label

TOPK_TYPE = pa.list_(pa.struct([("lang", pa.string()), ("score", pa.float32())]))


class LanguageId(Block):
    """Adds ``lang`` (e.g. ``por_Latn``), ``lang_score`` and ``lang_topk``.

    Default model: fastText lid.176 (Joulin et al. 2016), as in FineWeb; FineWeb2 uses GlotLID
    (section 3.1) — pass its model file as ``model:``, its ``__label__por_Latn`` labels are
    understood as they are. Newlines are folded to spaces, as fastText predicts one line.
    """

    name: ClassVar[str] = "langid"
    kind: ClassVar[BlockKind] = "transform"

    def __init__(self, model: str | None = None, top_k: int = 3, max_chars: int = 10_000) -> None:
        self.model = model
        self.top_k = top_k
        self.max_chars = max_chars

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        model = load_fasttext(self.model or packaged_lid176_path())
        texts = table.column(TEXT).to_pylist()
        langs: list[str] = []
        scores: list[float] = []
        topks: list[list[dict[str, float | str]]] = []
        for text in texts:
            line = " ".join((text or "")[: self.max_chars].split())
            preds = model.predict(line + "\n", self.top_k, 0.0, "replace") if line else []
            top = [{"lang": normalize_label(label), "score": min(float(prob), 1.0)} for prob, label in preds]
            if top:
                langs.append(str(top[0]["lang"]))
                scores.append(float(top[0]["score"]))
            else:
                langs.append("und")
                scores.append(0.0)
            topks.append(top)
        out = table
        for name, values, typ in ((LANG, langs, pa.string()), (LANG_SCORE, scores, pa.float32()),
                                  (LANG_TOPK, topks, TOPK_TYPE)):
            arr = pa.array(values, typ)
            idx = out.schema.get_field_index(name)
            out = out.set_column(idx, name, arr) if idx >= 0 else out.append_column(name, arr)
        return BlockOutput(table=out)

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        """Language-ID score histogram per language: 20 bins of 0.05 (``lang_score_bin:0.85``)."""
        hist: dict[str, dict[str, int]] = {}
        for lang, score in zip(table.column(LANG).to_pylist(), table.column(LANG_SCORE).to_pylist(), strict=True):
            key = f"lang_score_bin:{min(int((score or 0.0) * 20), 19) / 20:.2f}"
            bins = hist.setdefault(lang, {})
            bins[key] = bins.get(key, 0) + 1
        return hist
