"""The ``extract`` block: HTML -> main text, with a per-document time limit."""

from __future__ import annotations

from typing import ClassVar, Literal

import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockKind, BlockOutput
from curate.blocks.columns import HTML, TEXT
from curate.extract.engines import ENGINES, TAKES_BYTES
from curate.extract.time_limit import ExtractionTimeout, time_limit


class Extract(Block):
    """Extract main text from the ``html`` column into ``text``.

    Defaults follow FineWeb (section 3.2): trafilatura with favor_precision. ``engine:
    resiliparse`` is the fast choice, ``engine: precise`` the fast one with trafilatura's precision. Rows that
    already have text (WET, JSONL, Parquet inputs) pass through. An empty result is a removal (``empty_extraction``), not an error; a page
    over ``timeout`` seconds or one that crashes the engine is an error, and the run goes on.
    """

    name: ClassVar[str] = "extract"
    kind: ClassVar[BlockKind] = "transform"

    def __init__(self, engine: Literal["trafilatura", "resiliparse", "precise"] = "trafilatura",
                 timeout: float = 5.0, min_chars: int = 1) -> None:
        self.engine = engine
        self.timeout = timeout
        self.min_chars = min_chars

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        extract = ENGINES[self.engine]
        column = table.column(HTML)
        htmls = (column.cast(pa.binary()) if self.engine in TAKES_BYTES else column).to_pylist()
        texts = table.column(TEXT).to_pylist()
        n = len(htmls)
        keep = [True] * n
        reasons: list[str | None] = [None] * n
        errors: list[str | None] = [None] * n
        for i, html in enumerate(htmls):
            if html is None:
                continue  # already text
            try:
                with time_limit(self.timeout):
                    text = extract(html)
            except ExtractionTimeout:
                errors[i] = f"timeout: extraction took over {self.timeout}s (raise extract.timeout to allow more)"
                continue
            except Exception as exc:  # any engine failure is one bad page, not a bad run
                errors[i] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            text = text.strip()
            texts[i] = text
            if len(text) < self.min_chars:
                keep[i] = False
                reasons[i] = "empty_extraction"
        idx_text = table.schema.get_field_index(TEXT)
        idx_html = table.schema.get_field_index(HTML)
        out = table.set_column(idx_text, TEXT, pa.array(texts, pa.string()))
        out = out.set_column(idx_html, HTML, pa.nulls(n, pa.string()))  # free the HTML once text exists
        return BlockOutput(table=out, keep=pa.array(keep).to_numpy(zero_copy_only=False), reasons=reasons,
                           errors=errors)
