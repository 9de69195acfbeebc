"""Run one shard through one stage: read, apply the blocks, write kept and removed rows.

This function is what executors run (a process-pool task locally, a Ray task on a cluster):
arguments and result are plain picklable data, and the result is also written as the shard's
completion marker so a rerun can skip it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks.base import Block, BlockContext, BlockOutput, GlobalStep
from curate.blocks.columns import CLUSTER_SIZE, DROP_REASON, DROP_STAGE, LANG, TEXT, UNKNOWN_LANG
from curate.io.input_files import READERS, Shard
from curate.io.parquet_output import ParquetOutput, lang_values
from curate.io.read_counts import EMPTY_FILE, ReadCounts
from curate.languages.table import load_language_table
from curate.pipeline.batch_errors import process_isolating
from curate.stats.step_counts import StepCounts, error_kind
from curate.storage.atomic import write_text_atomic


@dataclass
class ShardTask:
    shard: Shard
    stage: int
    blocks: list[tuple[int, Block]]
    step_names: list[str]
    input_path: str | None  # previous stage's output for this shard ("" = empty); None = read the raw input
    reader_settings: dict[str, Any]
    out_dir: str
    final: bool
    marker: str
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    writer: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=4)
def _languages(overrides_json: str) -> Any:
    table = load_language_table()
    overrides = json.loads(overrides_json)
    return table.with_overrides(overrides) if overrides else table


def languages_for(overrides: dict[str, dict[str, Any]]) -> Any:
    """The language table with a pipeline's overrides, built once per process."""
    return _languages(json.dumps(overrides, sort_keys=True))


def _read(task: ShardTask, counts: ReadCounts) -> Iterator[pa.Table]:
    batch_size = int(task.reader_settings.get("batch_size", 256))
    if task.input_path == "":
        return  # the previous stage kept nothing of this shard
    if task.input_path is None:
        if task.shard.size == 0:  # named, never silently nothing: a failed download or copy, mostly
            counts.records += 1
            counts.error(EMPTY_FILE, f"{task.shard.path}: the file is empty (0 bytes), nothing to read; fetch it "
                         "again, or remove it from input.paths")
            return
        options = dict(task.reader_settings.get("options", {}))
        reader = READERS[task.shard.format].from_options(batch_size, options)
        limit = task.reader_settings.get("max_text_bytes")
        for table in reader.read(task.shard.path, counts):
            yield skip_oversize_text(table, limit, counts) if limit else table
        return
    with fsspec.open(task.input_path, "rb") as handle:
        pfile = pq.ParquetFile(handle)
        for batch in pfile.iter_batches(batch_size=batch_size):
            counts.records += batch.num_rows
            counts.emitted += batch.num_rows
            yield pa.Table.from_batches([batch])


def skip_oversize_text(table: pa.Table, limit: int, counts: ReadCounts) -> pa.Table:
    """Documents over ``limit`` bytes of text never reach a step: one byte-length check instead of
    minutes of tokenizing a 50 MB document that a word-count rule removes anyway. Counted."""
    if TEXT not in table.column_names:
        return table
    over = pc.fill_null(pc.greater(pc.binary_length(table.column(TEXT).cast(pa.binary())), limit), False)
    n = pc.sum(over.cast(pa.int64())).as_py() or 0
    if not n:
        return table
    counts.skipped["text_too_large"] += n
    counts.emitted -= n
    return table.filter(pc.invert(over))


def _with_drop_columns(table: pa.Table, stage: str, reasons: pa.Array) -> pa.Table:
    if LANG not in table.column_names:  # removed before language ID: say so in the row too
        table = table.append_column(LANG, pa.repeat(pa.scalar(UNKNOWN_LANG), table.num_rows))
    table = table.append_column(DROP_STAGE, pa.repeat(pa.scalar(stage), table.num_rows))
    return table.append_column(DROP_REASON, reasons)


class ClusterSizeCounts:
    """Per language and MinHash cluster size: documents the filters kept and removed.

    Rehydration needs the removal rate of each cluster size (FineWeb2 section 4); the dedup
    step's own removals are not filter removals and are not counted.
    """

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, dict[int, int]]] = {}

    def add(self, table: pa.Table, what: str) -> None:
        if CLUSTER_SIZE not in table.column_names or table.num_rows == 0:
            return
        for lang, size in zip(lang_values(table), table.column(CLUSTER_SIZE).to_pylist(), strict=True):
            bucket = self.counts.setdefault(lang, {"kept": {}, "removed": {}})[what]
            size = int(size or 1)
            bucket[size] = bucket.get(size, 0) + 1

    def to_dict(self) -> dict[str, dict[str, dict[str, int]]]:
        return {lang: {what: {str(k): v for k, v in sorted(sizes.items())} for what, sizes in c.items()}
                for lang, c in sorted(self.counts.items())}


def _text_bytes(table: pa.Table) -> np.ndarray:
    if TEXT not in table.column_names:
        return np.zeros(table.num_rows, dtype=np.int64)
    lengths = pc.binary_length(table.column(TEXT).cast(pa.binary()))
    return pc.fill_null(lengths, 0).to_numpy().astype(np.int64, copy=False)


def _lang_array(table: pa.Table) -> pa.Array:
    """The language of every row as counted (``lang_values``), as one Arrow array."""
    if LANG not in table.column_names:
        return pa.repeat(pa.scalar(UNKNOWN_LANG), table.num_rows)
    col = table.column(LANG).combine_chunks().cast(pa.string())
    return pc.fill_null(pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col), UNKNOWN_LANG)


def _flags(values: list[str | None] | None, m: int) -> np.ndarray:
    """Rows whose entry is set; no per-row work when the block gave no list."""
    if values is None:
        return np.zeros(m, dtype=bool)
    return np.fromiter((v is not None for v in values), dtype=bool, count=m)


def _drop_outcomes(name: str, result: BlockOutput, errored: np.ndarray, at: np.ndarray,
                   texts: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """For the dropped rows ``at``: the counter outcome of each, ("errored", kind) or ("removed", rule), and
    (when ``texts``) the row's ``drop_reason``, "<step>:error:<message>" or "<step>:<reason>"."""
    outcomes: list[tuple[str, str]] = []
    reason_texts: list[str] = []
    errors, reasons = result.errors, result.reasons
    for i, bad in zip(at.tolist(), errored[at].tolist(), strict=True):
        if bad:
            msg = errors[i]  # type: ignore[index]
            outcomes.append(("errored", error_kind(msg)))
            if texts:
                reason_texts.append(f"{name}:error:{msg}")
        else:
            reason = (reasons[i] if reasons is not None else None) or "removed"
            # "rule:detail" (e.g. duplicate_of:<id>): the row keeps the detail, counters the rule
            outcomes.append(("removed", reason.split(":", 1)[0]))
            if texts:
                reason_texts.append(f"{name}:{reason}")
    return outcomes, reason_texts


def _apply(block: Block, name: str, table: pa.Table, ctx: BlockContext, counts: StepCounts,
           removed: ParquetOutput | None, sizes: ClusterSizeCounts) -> pa.Table:
    n = table.num_rows
    result = process_isolating(block, table, ctx)  # a raising batch: only the documents that raise error
    out = result.table
    m = out.num_rows
    first = np.ones(m, dtype=bool)  # row i is an input row's own row, not an extra copy
    if result.origin is not None:
        origin = np.asarray(result.origin, dtype=np.int64)
        first[1:] = origin[1:] != origin[:-1]
        covered = int(origin[-1]) + 1 if m else 0
        if covered != n:
            raise ValueError(f"block {name}: BlockOutput.origin covers {covered} of {n} input rows")
    elif m != n:
        raise ValueError(f"block {name} returned {m} rows for {n}; set BlockOutput.origin to emit copies")
    keep = np.ones(m, dtype=bool) if result.keep is None else np.asarray(result.keep, dtype=bool).copy()
    errored = _flags(result.errors, m)
    if not first.all() and (errored[~first].any() or not keep[~first].all()):
        raise ValueError(f"block {name}: an extra copy (BlockOutput.origin) must be kept")
    keep &= ~errored
    if errored.any() and not counts.first_error:  # for the error budget's message
        counts.first_error = str(result.errors[int(np.argmax(errored))])[:500]  # type: ignore[index]
    langs = _lang_array(out)
    nbytes = _text_bytes(out)
    dropped_at = np.flatnonzero(~keep)
    outcomes, drop_reasons = _drop_outcomes(name, result, errored, dropped_at, removed is not None)
    if first.all():
        counts.add_rows(langs, nbytes, dropped_at, outcomes)
    else:  # copies: counted apart, so that in = out + removed + errored stays about documents
        position = np.cumsum(first) - 1  # an own row's index among the own rows (copies are never dropped)
        counts.add_rows(langs.filter(pa.array(first)), nbytes[first], position[dropped_at], outcomes)
        copies: dict[str, dict[str, int]] = {}
        for lang in langs.filter(pa.array(~first)).to_pylist():
            copies.setdefault(lang, {"copies": 0})["copies"] += 1
        counts.add_extra(copies)
    extra = block.batch_stats(out)
    if extra:
        counts.add_extra(extra)
    if not len(dropped_at):
        return out
    mask = pa.array(keep)
    dropped = out.filter(pc.invert(mask))
    if not isinstance(block, GlobalStep):
        sizes.add(dropped, "removed")
    if removed is not None:
        removed.add(_with_drop_columns(dropped, name, pa.array(drop_reasons, pa.string())))
    return out.filter(mask)


def run_shard_task(task: ShardTask) -> dict[str, Any]:
    started = time.time()
    read_counts = ReadCounts()
    step_counts = {i: StepCounts() for i, _ in task.blocks}
    writer = dict(task.writer)
    write_removed = writer.pop("write_removed", True)
    tokenizer = writer.pop("tokenizer", None)
    ctx = BlockContext(shard=task.shard.shard_id, languages=languages_for(task.overrides), tokenizer=tokenizer)
    kept = ParquetOutput(
        task.out_dir if task.final else f"{task.out_dir}/_work/stage{task.stage}",
        f"part-{task.shard.name}.parquet" if task.final else f"{task.shard.shard_id}.parquet",
        partition_by_lang=task.final, tokenizer=tokenizer if task.final else None, **writer,
    )
    removed = ParquetOutput(
        f"{task.out_dir}/_removed", f"part-{task.shard.name}-stage{task.stage}.parquet",
        partition_by_lang=True, **writer,
    ) if write_removed else None
    sizes = ClusterSizeCounts()
    for table in _read(task, read_counts):
        for i, block in task.blocks:
            if table.num_rows == 0:
                break
            table = _apply(block, task.step_names[i], table, ctx, step_counts[i], removed, sizes)
        if table.num_rows:
            sizes.add(table, "kept")
            kept.add(table)
    written = kept.close()
    removed_written = removed.close() if removed is not None else {}
    result = {
        "shard": task.shard.shard_id,
        "name": task.shard.name,  # of its output files
        "path": task.shard.path,
        "stage": task.stage,
        "read": read_counts.to_dict(),
        "steps": {str(i): step_counts[i].to_dict() for i, _ in task.blocks},
        "first_errors": {str(i): c.first_error for i, c in step_counts.items() if c.first_error},
        "output": {lang: {k: v for k, v in s.items() if k != "file"} for lang, s in written.items()} if task.final else {},
        "removed_rows": {lang: s["documents"] for lang, s in removed_written.items()},
        "cluster_sizes": sizes.to_dict(),
        "seconds": round(time.time() - started, 3),
    }
    if not task.final:
        result["next_input"] = written.get("_all", {}).get("file", "")
        result["next_rows"] = written.get("_all", {}).get("documents", 0)  # a barrier's sizing, without footers
    return write_marker(task.marker, result)


def write_marker(path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Write a completion marker; returns ``payload`` as a rerun reads it back (string keys, sorted), so a
    run's statistics never depend on whether a step ran now or was read from its marker."""
    text = json.dumps(payload, sort_keys=True)
    write_text_atomic(path, text)
    return json.loads(text)


def read_marker(path: str) -> dict[str, Any] | None:
    fs, fs_path = fsspec.core.url_to_fs(path)
    if not fs.exists(fs_path):
        return None
    with fs.open(fs_path, "r") as handle:
        return json.load(handle)
