"""Blocks that fail on purpose, plugged into pipelines by import path in the error-budget tests."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pyarrow as pa

import curate
from curate.blocks.base import Block, BlockContext, BlockOutput, Filter


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


def raises_on(doc_id: str | None) -> bool:
    """The documents the filters below fail on: one in 20 (5%), chosen by a hash of the id."""
    return int(hashlib.sha256(str(doc_id).encode()).hexdigest(), 16) % 20 == 0


@curate.document_filter
def raises_on_some(row: dict) -> bool:
    """A user's per-document filter that raises on 5% of the documents and keeps the rest."""
    if raises_on(row["id"]):
        raise ValueError(f"cannot score document {row['id']}")
    return len(row["text"] or "") >= 0


class BatchRaisesOnSome(Filter):
    """A batch filter (one call per batch) that raises when its batch holds one of those documents."""

    name = "batch_raises_on_some"

    def filter(self, table: pa.Table, ctx: BlockContext) -> tuple[np.ndarray, list[str | None]]:
        bad = [i for i in table.column("id").to_pylist() if raises_on(i)]
        if bad:
            raise ValueError(f"cannot score document {bad[0]}")
        return np.ones(table.num_rows, dtype=bool), [None] * table.num_rows


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
