"""Pass 1 of ``curate tokenize``: encode one group of corpus files.

Texts are read in Arrow batches (``id``, ``text``, ``weight``, ``source`` only) and encoded with the Hugging
Face ``tokenizers`` batch encoder (``encode_batch_fast``: no character offsets, which nothing here needs).
Each document's ids, framed by the format's BOS/EOS tokens, are appended to the group's token file in the
final dtype; one row per document goes to the group's document table: language, ``weight``, ``units``
(its token count, framing included), the sampling ``hash`` of its id (:func:`curate.rehydrate.rows.row_hashes`,
the same hash the ``rehydrate`` budgets use), its Common Crawl dump, its file and row (the shuffle's
tie-break) and its token offset. The table has the columns of a rehydrate budget cache, so the exact
per-language targets are found by the same passes (:mod:`curate.rehydrate.budget_plan`).

A document is encoded once, whatever its weight: its copies are made later from these tokens. Each worker
uses one thread (``TOKENIZERS_PARALLELISM=false``): the executor runs one task per core.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks.columns import ID, SOURCE, TEXT, WEIGHT
from curate.pipeline.shard_task import read_marker, write_marker
from curate.rehydrate.rows import row_hashes
from curate.storage.atomic import publish
from curate.storage.parquet_file import write_parquet_atomic
from curate.training.corpus_files import CorpusFile
from curate.training.errors import TokenizeError
from curate.training.shard_format import temporary_name
from curate.training.tokenizer_file import TokenizerRef

# Common Crawl names its dumps CC-MAIN-<year>-<week>; the `source` column (the input file's path) carries it
DUMP_PATTERN = r"(?P<dump>CC-MAIN-\d{4}-\d{2})"
NO_DUMP = "unknown"
DOCS_SCHEMA = pa.schema([("lang", pa.string()), ("weight", pa.int64()), ("units", pa.int64()),
                         ("hash", pa.uint64()), ("dump", pa.string()), ("file", pa.int32()), ("row", pa.int64()),
                         ("offset", pa.int64())])


@dataclass(frozen=True)
class EncodeTask:
    group: int
    files: tuple[CorpusFile, ...]
    tokenizer: TokenizerRef
    frame: tuple[tuple[int, ...], tuple[int, ...]]
    dtype: str
    seed: int
    seq_len: int
    weights: bool
    tokens_path: str
    docs_path: str
    marker: str
    batch_rows: int = 1024


def frame_tokens(ids: list[list[int]], frame: tuple[tuple[int, ...], tuple[int, ...]],
                 dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(flat tokens of every document with its prefix and suffix, tokens per framed document)."""
    prefix, suffix = frame
    lens = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    body = np.fromiter(itertools.chain.from_iterable(ids), dtype=dtype, count=int(lens.sum()))
    if not prefix and not suffix:
        return body, lens
    framed = lens + len(prefix) + len(suffix)
    starts = np.cumsum(framed) - framed
    out = np.empty(int(framed.sum()), dtype=dtype)
    body_starts = np.cumsum(lens) - lens
    out[np.arange(body.size) + np.repeat(starts + len(prefix) - body_starts, lens)] = body
    for j, tid in enumerate(prefix):
        out[starts + j] = tid
    for j, tid in enumerate(suffix):
        out[starts + len(prefix) + lens + j] = tid
    return out, framed


def _dumps(table: pa.Table) -> list[str]:
    if SOURCE not in table.column_names:
        return [NO_DUMP] * table.num_rows
    source = table.column(SOURCE).cast(pa.string()).combine_chunks()
    found = pc.struct_field(pc.extract_regex(source, DUMP_PATTERN), "dump").to_pylist()
    return [d or NO_DUMP for d in found]


def _add(counts: dict[str, Any], lang: str, dumps: list[str], units: np.ndarray, weights: np.ndarray,
         seq_len: int) -> None:
    entry = counts.setdefault(lang, {"documents": 0, "tokens": 0, "weighted_documents": 0, "weighted_tokens": 0,
                                     "longer_than_seq_len": 0, "dumps": {}})
    entry["documents"] += int(units.size)
    entry["tokens"] += int(units.sum())
    entry["weighted_documents"] += int(weights.sum())
    entry["weighted_tokens"] += int((weights * units).sum())
    entry["longer_than_seq_len"] += int((units > seq_len).sum())
    for dump in sorted(set(dumps)):
        mask = np.fromiter((d == dump for d in dumps), dtype=bool, count=len(dumps))
        d = entry["dumps"].setdefault(dump, {"documents": 0, "tokens": 0})
        d["documents"] += int(mask.sum())
        d["tokens"] += int(units[mask].sum())


def encode_group(task: EncodeTask) -> dict[str, Any]:
    """Encode ``task.files`` into the group's token file and document table; per-language counts."""
    done = read_marker(task.marker)  # finished by an earlier, interrupted run
    if done is not None:
        return done
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one task per core: no second layer of threads
    tok = task.tokenizer.load()
    dtype = np.dtype(task.dtype)
    fs, tokens_path = fsspec.core.url_to_fs(task.tokens_path)
    tmp = temporary_name(fs, tokens_path)
    parts: list[pa.Table] = []
    counts: dict[str, Any] = {}
    offset = 0
    with fs.open(tmp, "wb") as out:
        for f in task.files:
            with fsspec.open(f.path, "rb") as handle:
                pfile = pq.ParquetFile(handle)
                names = pfile.schema_arrow.names
                if TEXT not in names:
                    raise TokenizeError(f"{f.path}: no `{TEXT}` column; is it a curate output file?")
                columns = [c for c in (ID, TEXT, WEIGHT, SOURCE) if c in names]
                row = 0
                for batch in pfile.iter_batches(batch_size=task.batch_rows, columns=columns):
                    table = pa.Table.from_batches([batch])
                    column = table.column(TEXT)
                    texts = column.to_pylist()
                    if column.null_count:  # a null text is an empty document (it still gets its EOS)
                        texts = [t or "" for t in texts]
                    encoded = tok.encode_batch_fast(texts, add_special_tokens=False)
                    flat, units = frame_tokens([e.ids for e in encoded], task.frame, dtype)
                    out.write(flat.astype(dtype.newbyteorder("<"), copy=False).tobytes())
                    n = table.num_rows
                    if task.weights and WEIGHT in names:
                        column = table.column(WEIGHT)
                        column = pc.fill_null(column, 1) if column.null_count else column
                        weights = np.maximum(column.to_numpy().astype(np.int64), 0)
                    else:
                        weights = np.ones(n, dtype=np.int64)
                    dumps = _dumps(table)
                    parts.append(pa.table({
                        "lang": pa.repeat(pa.scalar(f.lang, pa.string()), n), "weight": weights, "units": units,
                        "hash": row_hashes(table, task.seed), "dump": pa.array(dumps, pa.string()),
                        "file": np.full(n, f.index, dtype=np.int32), "row": np.arange(row, row + n, dtype=np.int64),
                        "offset": offset + np.cumsum(units) - units,
                    }, schema=DOCS_SCHEMA))
                    _add(counts, f.lang, dumps, units, weights, task.seq_len)
                    offset += int(units.sum())
                    row += n
    publish(fs, tmp, tokens_path)
    write_parquet_atomic(pa.concat_tables(parts) if parts else DOCS_SCHEMA.empty_table(), task.docs_path)
    result = {"group": task.group, "tokens": offset, "languages": {k: counts[k] for k in sorted(counts)}}
    write_marker(task.marker, result)
    return result
