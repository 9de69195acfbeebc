"""A block that raises on a batch: find the documents it raises on, and let every other one through.

Blocks run on batches (256 WARC records, 1,024 JSONL lines); one document a block cannot handle would otherwise
error its whole batch, and a filter that fails on 5% of the documents would error all of them. So when
``block.process`` raises, the batch is split in halves and each half run again, down to single documents: the
documents that raise alone are errored with their own message, every other row gets the block's real answer.
The cost is a few extra calls per raising document (about 2 log2(batch) for an isolated one; 2n - 1 calls
when every row of an n-row batch raises, e.g. a missing model) and nothing when no batch raises. The halves are
fixed by row position, so the same input gives the same output bytes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockOutput
from curate.io.row_group_writer import conform

MESSAGE_CHARS = 500  # of an error message kept in the row's drop_reason and the counters


def error_message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MESSAGE_CHARS]


def process_isolating(block: Block, table: pa.Table, ctx: BlockContext) -> BlockOutput:
    """``block.process(table, ctx)``; if it raises, the same over halves of the batch, down to the rows that
    raise on their own, which come back errored (each with its exception's message)."""
    try:
        return block.process(table, ctx)
    except Exception as exc:  # noqa: BLE001 - any exception of a block is a counted error, never the run's end
        if table.num_rows <= 1:
            return BlockOutput(table=table, errors=[error_message(exc)] * table.num_rows)
    half = table.num_rows // 2
    return join_outputs(process_isolating(block, table.slice(0, half), ctx),
                        process_isolating(block, table.slice(half), ctx), half)


def join_outputs(left: BlockOutput, right: BlockOutput, left_rows: int) -> BlockOutput:
    """The output of a batch from the outputs of its two halves (``left_rows`` input rows in the first)."""
    tables = [left.table, right.table]
    # the block's own columns come first; rows that errored keep the input's (the block added nothing to them)
    ranked = sorted(tables, key=lambda t: _all_errored(left if t is left.table else right))
    schema = pa.unify_schemas([t.schema for t in ranked], promote_options="permissive")
    fitted = [conform(t, schema) for t in tables]
    if any(f is None for f in fitted):
        table = pa.concat_tables(tables, promote_options="permissive")
    else:
        table = pa.concat_tables(fitted)  # type: ignore[arg-type]
    n_left, n_right = left.table.num_rows, right.table.num_rows

    def joined(name: str, default: object) -> list | None:
        a, b = getattr(left, name), getattr(right, name)
        if a is None and b is None:
            return None
        return [*(a if a is not None else [default] * n_left), *(b if b is not None else [default] * n_right)]

    keep = None
    if left.keep is not None or right.keep is not None:
        keep = np.concatenate([np.ones(n_left, bool) if left.keep is None else np.asarray(left.keep, bool),
                               np.ones(n_right, bool) if right.keep is None else np.asarray(right.keep, bool)])
    origin = None
    if left.origin is not None or right.origin is not None:
        a = np.arange(n_left) if left.origin is None else np.asarray(left.origin, np.int64)
        b = np.arange(n_right) if right.origin is None else np.asarray(right.origin, np.int64)
        origin = np.concatenate([a, b + left_rows])
    return BlockOutput(table=table, keep=keep, reasons=joined("reasons", None), errors=joined("errors", None),
                       origin=origin)


def _all_errored(output: BlockOutput) -> bool:
    return output.errors is not None and all(e is not None for e in output.errors)
