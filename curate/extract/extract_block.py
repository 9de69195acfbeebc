"""The ``extract`` block: HTML -> main text, with limits that hold for C code and a loaded machine."""

from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np
import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockKind, BlockOutput
from curate.blocks.columns import HTML, TEXT
from curate.extract.engines import ENGINES, REMOVED, THRESHOLD_ENGINES
from curate.extract.extraction_process import (
    ERROR,
    REMOVAL,
    Outcome,
    ScopedEngine,
    cpu_limit_available,
    extraction_process,
)
from curate.extract.html_limits import limit_reason

_SCOPES = itertools.count(1)
_IN_PROCESS: dict[tuple[str, float | None], ScopedEngine] = {}


def html_views(column: pa.ChunkedArray) -> list[memoryview | None]:
    """Each row's UTF-8 bytes as a view into the Arrow column's data buffer (None for a null): no copy here; the
    extraction process's page file or the engine call copies each page once."""
    views: list[memoryview | None] = []
    for chunk in column.cast(pa.binary()).chunks:
        if not len(chunk):
            continue
        _validity, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=np.int32)[chunk.offset:chunk.offset + len(chunk) + 1].tolist()
        data = memoryview(data_buf) if data_buf is not None else memoryview(b"")
        valid = chunk.is_valid().to_pylist() if chunk.null_count else [True] * len(chunk)
        views += [data[offsets[k]:offsets[k + 1]] if valid[k] else None for k in range(len(chunk))]
    return views


class Extract(Block):
    """Extract main text from the ``html`` column into ``text``.

    Defaults follow FineWeb (section 3.2): trafilatura with favor_precision. ``engine:
    resiliparse`` is the fastest (recall first), ``engine: balanced`` resiliparse's main content filtered by a
    learned block model (:mod:`curate.extract.balanced_engine`); their figures on pages nobody tuned on are in
    benchmarks/RESULTS.md. Any engine of :mod:`curate.extract.engines` runs by name.
    Rows that already have text (WET, JSONL, Parquet inputs) pass through.

    Limits, all independent of the machine's load:
    - ``max_html_bytes`` / ``max_depth`` are checked before parsing (the depth by vectorised bounds, then one
      regex pass if they allow it; in the process that parses); a page over either is a removal
      (``html_too_large`` / ``html_too_deep``). Real pages nest < 300 levels
      (the 311 shared extraction-benchmark pages: at most 257); parsers are quadratic beyond.
    - ``timeout`` is CPU seconds per page, enforced in a persistent extraction process per
      worker (:mod:`curate.extract.extraction_process`); an overrun is a ``timeout`` error, a
      parser crash a ``crash`` error, and the batch goes on. ``timeout: 0`` extracts in the
      worker itself with no limit.
    ``keep_threshold`` (``balanced`` only): the probability at which a block is kept, default the model's own
    (0.5); higher keeps less boilerplate and less main text. The out-of-sample trade-off at 0.4 / 0.5 / 0.6 is
    in benchmarks/RESULTS.md (``extraction_discard``, the shipped engine's rows).
    An empty result is a removal (``empty_extraction``), not an error.
    """

    name: ClassVar[str] = "extract"
    kind: ClassVar[BlockKind] = "transform"

    def __init__(self, engine: str = "trafilatura", timeout: float = 5.0, min_chars: int = 1,
                 max_html_bytes: int = 10_000_000, max_depth: int = 2_000,
                 keep_threshold: float | None = None) -> None:
        if engine in REMOVED:
            raise ValueError(REMOVED[engine])
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
        if keep_threshold is not None:
            if engine not in THRESHOLD_ENGINES:
                raise ValueError(f"keep_threshold applies to engine: {' or '.join(sorted(THRESHOLD_ENGINES))} only "
                                 f"(here engine: {engine}); remove keep_threshold or change the engine")
            if isinstance(keep_threshold, bool) or not isinstance(keep_threshold, int | float) \
                    or not 0 < keep_threshold < 1:
                raise ValueError(f"keep_threshold must be a number between 0 and 1 (exclusive), got "
                                 f"{keep_threshold!r}; 0.5 is the model's own, higher keeps less boilerplate")
            keep_threshold = float(keep_threshold)
        self.engine = engine
        self.keep_threshold = keep_threshold
        self.timeout = timeout
        self.min_chars = min_chars
        self.max_html_bytes = max_html_bytes
        self.max_depth = max_depth

    def _extract_all(self, items: list[tuple[int, memoryview]], ctx: BlockContext) -> dict[int, Outcome]:
        # one scope per shard task (ctx.cache lives as long as the task): engine state is reset per shard
        scope = ctx.cache.setdefault("extract:scope", next(_SCOPES))
        if self.timeout and self.timeout > 0 and cpu_limit_available():
            return extraction_process(self.engine, float(self.timeout), self.keep_threshold).run(
                items, scope, self.max_depth)
        key = (self.engine, self.keep_threshold)
        if key not in _IN_PROCESS:
            _IN_PROCESS[key] = ScopedEngine(*key)
        engine = _IN_PROCESS[key]
        engine.enter(scope)
        return {i: engine.outcome(bytes(html), self.max_depth) for i, html in items}

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        raw = html_views(table.column(HTML))
        texts = table.column(TEXT).to_pylist()
        n = len(raw)
        keep = [True] * n
        reasons: list[str | None] = [None] * n
        errors: list[str | None] = [None] * n
        items: list[tuple[int, memoryview]] = []
        for i, html in enumerate(raw):
            if html is None:
                continue  # already text
            reason = limit_reason(html, self.max_html_bytes, None)  # the depth: where the page is parsed
            if reason is not None:
                keep[i], reasons[i] = False, reason
                continue
            items.append((i, html))  # decoded where it is extracted, for engines that take str
        for i, (kind, text) in self._extract_all(items, ctx).items():
            if kind == ERROR:
                errors[i] = text
                continue
            if kind == REMOVAL:
                keep[i], reasons[i] = False, text
                continue
            text = (text or "").strip()
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
