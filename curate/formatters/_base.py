"""Text formatters: transforms that rewrite the ``text`` column row by row."""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockKind, BlockOutput
from curate.blocks.columns import TEXT


class TextFormatter(Block):
    """Base of the formatters: implement :meth:`format` (one document's text -> new text).

    A row whose formatting raises keeps its text unchanged and is reported as errored.
    """

    kind: ClassVar[BlockKind] = "transform"

    def format(self, text: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        if TEXT not in table.column_names or table.num_rows == 0:
            return BlockOutput(table=table)
        texts = table.column(TEXT).to_pylist()
        errors: list[str | None] = [None] * len(texts)
        fmt = self.format
        out = []
        for i, text in enumerate(texts):
            if text is None:
                out.append(None)
                continue
            try:
                out.append(fmt(text))
            except Exception as exc:  # one bad document never kills the batch
                out.append(text)
                errors[i] = f"{type(exc).__name__}: {exc}"
        field = table.schema.field(TEXT)
        table = table.set_column(table.column_names.index(TEXT), field, pa.array(out, type=field.type))
        return BlockOutput(table=table, errors=errors if any(e is not None for e in errors) else None)
