"""The block protocol: every step of a pipeline is a :class:`Block` over an Arrow table.

A block receives a batch (``pyarrow.Table``) and returns a :class:`BlockOutput` of the same
length: the (possibly transformed) table plus, per row, whether it is kept, why it was removed,
or which error it hit. The runner splits the rows into kept / removed / errored and counts them
per language, so every block gets counters, removed-row routing and the invariant
``in = out + removed + errored`` for free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from curate.models.ref import ModelRef

BlockKind = Literal["transform", "filter", "global"]


@dataclass
class BlockOutput:
    """Result of one block over one batch; every per-row array has ``table.num_rows`` entries."""

    table: pa.Table
    keep: np.ndarray | None = None  # bool per row; None = all kept
    reasons: list[str | None] | None = None  # rule name per removed row, e.g. "min_stop_words"
    errors: list[str | None] | None = None  # error message per errored row, None = fine
    # Row-expanding blocks only (rehydrate's materialize): per row of ``table``, the input row it comes
    # from; ascending, starting at 0, every input row at least once. The first row of an input row
    # carries its outcome; the rows after it are extra copies, which must be kept ("copies" counter).
    origin: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.table.num_rows
        for name in ("keep", "reasons", "errors", "origin"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"BlockOutput.{name} has {len(value)} entries for a table of {n} rows")
        if self.origin is not None and n:
            steps = np.diff(np.asarray(self.origin))
            if self.origin[0] != 0 or (steps.size and (steps.min() < 0 or steps.max() > 1)):
                raise ValueError("BlockOutput.origin must start at 0 and step by 0 or 1")


@dataclass
class BlockContext:
    """What a block may know about where it runs (shard, worker-local caches)."""

    shard: str = ""
    languages: Any = None  # curate.languages.table.LanguageTable, with the pipeline's overrides applied
    cache: dict[str, Any] = field(default_factory=dict)
    tokenizer: str | None = None  # the run's tokenizer.json (writer: {tokenizer}): blocks that count what they remove


class Block:
    """Base class. Subclasses set ``name`` (the YAML key) and implement :meth:`process`.

    Constructor keyword arguments are the block's YAML settings; unknown settings are rejected
    by the config schema before any work starts.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[BlockKind] = "transform"

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        """Optional extra counters over this block's output batch, per language:
        ``{lang: {metric: count}}``; summed over batches, shards and resumed runs."""
        return {}

    def preflight(self) -> None:
        """Check, on the machine this runs on, that everything the block needs is there (model and
        data files, optional packages). Runs before any work, on the driver and on every node of a
        cluster; raise a :class:`curate.errors.CurateError` whose message says how to get what is missing."""

    def preflight_output(self, out_dir: str) -> None:
        """Checks that need the run's output folder (the run's identity), on the driver, before any work: e.g.
        a dedup index held by another run. Raise a :class:`curate.errors.CurateError` saying what to do."""

    def model_refs(self) -> list[ModelRef]:
        """The model files this block's settings name (paths or URLs, with their sha256 pins); ``curate models
        fetch --pipeline`` fetches the URLs among them into the model cache."""
        return []

    def describe(self) -> dict[str, Any]:
        """Settings shown by ``curate plan``."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class Filter(Block):
    """A block that only decides keep/remove. Implement :meth:`filter`; the text is untouched.

    ``filter`` returns a bool keep mask and, per row, the rule that removed it (None when kept).
    """

    kind: ClassVar[BlockKind] = "filter"

    def filter(self, table: pa.Table, ctx: BlockContext) -> tuple[np.ndarray, list[str | None]]:  # pragma: no cover
        raise NotImplementedError

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        keep, reasons = self.filter(table, ctx)
        return BlockOutput(table=table, keep=np.asarray(keep, dtype=bool), reasons=list(reasons))


@dataclass
class GlobalJob:
    """What a global step sees at its barrier: every shard of the previous stage.

    ``shards`` are (shard_id, parquet path) pairs in a fixed order; each file holds that shard's
    surviving documents (all languages, with ``lang``). ``workdir`` is the step's own scratch
    folder on storage every worker sees; markers written there make the step resumable.
    ``map(fn, items)`` runs a picklable function over items in parallel on the pipeline's
    executor and returns the results in order.
    """

    shards: list[tuple[str, str]]
    workdir: str
    map: Callable[[Callable[[Any], Any], list[Any]], list[Any]]
    languages: Any = None
    stats: dict[str, Any] = field(default_factory=dict)  # step statistics, merged into the run's
    # merged statistics of the stage before the barrier; "cluster_sizes" holds, per language,
    # {"kept": {size: n}, "removed": {size: n}} of the filters since the last dedup (for rehydration)
    previous_stage: dict[str, Any] = field(default_factory=dict)
    out_dir: str = ""  # the run's output folder or URL ("" outside a run)
    # statistics of the global steps before this one, keyed "<step index>:<name>" (as in stats.json "global")
    earlier: dict[str, Any] = field(default_factory=dict)
    # for finish() only: per shard (in ``shards`` order), the Parquet files holding the rows that survived the
    # stage this step opened (the next stage's input, or the run's output files)
    outputs: list[tuple[str, list[str]]] = field(default_factory=list)


class GlobalStep(Block):
    """A step that needs all shards at once (dedup, rehydration): runs at a barrier.

    The runner calls :meth:`prepare` once with every shard (compute clusters, tables, ...; keep
    results in ``job.workdir``), then :meth:`process` per shard like any block, which applies
    the prepared result to that shard's rows (``ctx.shard`` names it).
    """

    kind: ClassVar[BlockKind] = "global"

    def prepare(self, job: GlobalJob) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self, job: GlobalJob) -> None:
        """Called once after the last stage, every shard done, before the run's statistics are written (and
        again when a finished run is rerun: it must be idempotent). ``job.outputs`` names the files of the rows
        that survived the stage this step opened; ``job.workdir`` is the one ``prepare`` had. Default: nothing."""

    def close(self) -> None:
        """Called once when the run ends, however it ends (release what ``prepare`` took). Default: nothing."""
