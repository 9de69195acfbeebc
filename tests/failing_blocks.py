"""Blocks that fail on purpose, plugged into pipelines by import path in the error-budget tests."""

from __future__ import annotations

import os

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


class DiesOnce(Block):
    """Kills its process (``os._exit``: no cleanup, as ``kill -9``) on its first batch when the environment
    variable ``CURATE_TEST_DIE`` names it, and leaves ``<CURATE_TEST_DIE_FLAG>`` so a rerun goes on: placed
    right after a global step, it interrupts a run past that barrier. Otherwise it passes every row."""

    name = "dies_once"

    def __init__(self, mark: str = "a") -> None:
        self.mark = mark

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        flag = os.environ.get("CURATE_TEST_DIE_FLAG", "")
        if os.environ.get("CURATE_TEST_DIE") == self.mark and flag and not os.path.exists(flag):
            with open(flag, "w") as handle:
                handle.write(self.mark)
            os._exit(3)
        return BlockOutput(table=table)
