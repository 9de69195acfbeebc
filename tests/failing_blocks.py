"""Blocks that fail on purpose, plugged into pipelines by import path in the error-budget tests."""

from __future__ import annotations

import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockOutput


class AlwaysRaises(Block):
    """Raises on every batch: every document it sees errors (a broken model, a wrong setting)."""

    name = "always_raises"

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        raise RuntimeError("model weights at /nonexistent/model.bin could not be loaded")


class FailsEveryNth(Block):
    """Errors one document in ``every`` (by row position), keeps the others."""

    name = "fails_every_nth"

    def __init__(self, every: int = 10) -> None:
        self.every = every

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        errors = [f"ValueError: bad record {i}" if i % self.every == 0 else None for i in range(table.num_rows)]
        return BlockOutput(table=table, errors=errors)
