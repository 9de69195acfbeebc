"""User-style blocks, plugged into pipelines by import path in the tests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import curate
from curate.blocks.base import Block, BlockContext, BlockOutput
from curate.blocks.columns import LANG


@curate.document_filter
def min_words(text: str, lang: str, minimum: int = 50) -> bool | str:
    """Keep documents with at least ``minimum`` whitespace words."""
    return len(text.split()) >= minimum or f"under_{minimum}_words"


class HostileLang(Block):
    """Sets ``lang`` to each of ``values`` in turn, row by row (path tricks among them), and removes every
    third row with a drop reason holding path characters: what a buggy or hostile block may do."""

    name = "hostile_lang"

    def __init__(self, values: list[str]) -> None:
        self.values = values

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        langs = pa.array([self.values[i % len(self.values)] for i in range(table.num_rows)], pa.string())
        if LANG in table.column_names:
            table = table.drop_columns([LANG])
        keep = np.array([i % 3 != 2 for i in range(table.num_rows)])
        reasons = [None if k else "../../reason/with/slashes" for k in keep]
        return BlockOutput(table=table.append_column(LANG, langs), keep=keep, reasons=reasons)
