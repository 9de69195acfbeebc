"""Per-shard passes of the ``rehydrate`` budget plan, run with ``job.map`` in ``prepare``.

1. :func:`measure_shard`: weighted sizes per language (all languages: ``share`` needs the grand
   total) and, for languages with a budget, a small cache file of (lang, weight, units, hash) per
   row in the step's workdir, so the later passes never re-read text or re-run a tokenizer;
2. :func:`histogram_shard`: per budget language, the integer floor totals and a sparse histogram of
   the sampling keys (see :mod:`curate.rehydrate.sampling`);
3. :func:`boundary_shard`: the rows of the one histogram bin where the target is crossed.

A finished shard of pass 1 leaves ``<cache>.json`` next to ``<cache>``: a rerun after an
interruption reuses it (the cache path carries a digest of the settings and the input file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.blocks.columns import CLUSTER_SIZE, ID, LANG, TEXT
from curate.rehydrate.budget import Budget
from curate.rehydrate.rows import groups, lang_column, row_hashes, row_units, row_weights
from curate.rehydrate.sampling import KEY_BINS, key_bins, sampling_keys, scale, sparse_histogram
from curate.rehydrate.tables import RepetitionTable
from curate.storage.atomic import write_text_atomic
from curate.storage.parquet_file import write_parquet_atomic

CACHE_SCHEMA = pa.schema([("lang", pa.string()), ("weight", pa.int64()), ("units", pa.int64()),
                          ("hash", pa.uint64())])


@dataclass(frozen=True)
class MeasureTask:
    """Pass 1 over one shard of the previous stage (``path`` "" = the shard kept nothing)."""

    path: str
    cache: str
    tables: Mapping[str, RepetitionTable]
    default: RepetitionTable
    budget: Budget
    batch_size: int = 65_536


def _exists(path: str) -> bool:
    fs, p = fsspec.core.url_to_fs(path)
    return bool(fs.exists(p))


def _columns(pfile: pq.ParquetFile, unit: str) -> list[str]:
    names = pfile.schema_arrow.names
    wanted = [c for c in (LANG, CLUSTER_SIZE, ID) if c in names]
    needs_text = unit != "documents" or ID not in names
    if not needs_text:  # a null id falls back to the text for its hash: read text only if needed
        needs_text = pfile.read(columns=[ID]).column(ID).null_count > 0
    if needs_text and TEXT in names:
        wanted.append(TEXT)
    return wanted


def measure_shard(task: MeasureTask) -> dict[str, dict[str, int]]:
    """Per language: documents, weighted documents, units and weighted units (Python ints)."""
    done = task.cache + ".json"
    if _exists(done):
        with fsspec.open(done, "r") as handle:
            return json.load(handle)
    totals: dict[str, dict[str, int]] = {}
    cached: list[pa.Table] = []
    if task.path:
        with fsspec.open(task.path, "rb") as handle:
            pfile = pq.ParquetFile(handle)
            columns = _columns(pfile, task.budget.unit)
            for batch in pfile.iter_batches(batch_size=task.batch_size, columns=columns):
                table = pa.Table.from_batches([batch])
                by_lang = groups(lang_column(table))
                weights = row_weights(table, task.tables, task.default, by_lang)
                units = row_units(table, task.budget.unit, task.budget.tokenizer)
                budgeted = [lang for lang in by_lang if task.budget.applies_to(lang)]
                hashes = row_hashes(table, task.budget.seed) if budgeted else None
                for lang, idx in by_lang.items():
                    w, u = weights[idx], units[idx]
                    entry = totals.setdefault(lang, {"documents": 0, "weighted_documents": 0, "units": 0,
                                                     "weighted_units": 0})
                    entry["documents"] += int(idx.size)
                    entry["weighted_documents"] += int(w.sum())
                    entry["units"] += int(u.sum())
                    entry["weighted_units"] += int((w * u).sum())
                    if hashes is not None and lang in budgeted:
                        cached.append(pa.table({"lang": pa.repeat(pa.scalar(lang, pa.string()), idx.size),
                                                "weight": w, "units": u, "hash": hashes[idx]},
                                               schema=CACHE_SCHEMA))
    table = pa.concat_tables(cached) if cached else CACHE_SCHEMA.empty_table()
    write_parquet_atomic(table, task.cache)
    result = {lang: totals[lang] for lang in sorted(totals)}
    write_text_atomic(done, json.dumps(result))
    return result


def _cached_groups(cache: str, langs: Mapping[str, Any]) -> dict[str, pa.Table]:
    with fsspec.open(cache, "rb") as handle:  # other columns a caller keeps beside these are not read
        table = pq.read_table(handle, columns=CACHE_SCHEMA.names)
    if table.num_rows == 0:
        return {}
    out = {}
    for lang, idx in groups(table.column("lang")).items():
        if lang in langs:
            out[lang] = table.take(pa.array(idx))
    return out


def _keys(part: pa.Table, factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    floor, frac = scale(part.column("weight").to_numpy(), factor)
    hashes = part.column("hash").to_numpy()
    return floor, sampling_keys(hashes, frac), hashes, part.column("units").to_numpy()


def histogram_shard(args: tuple[str, Mapping[str, float]]) -> dict[str, dict[str, Any]]:
    """Pass 2: per language in ``factors``, floor totals and per-bin sums of the candidates."""
    cache, factors = args
    out: dict[str, dict[str, Any]] = {}
    for lang, part in _cached_groups(cache, factors).items():
        floor, keys, _, units = _keys(part, factors[lang])
        bins = key_bins(keys)
        zero = floor == 0
        out[lang] = {
            "floor_units": int((floor * units).sum()),
            "floor_documents": int(floor.sum()),
            "zero_floor": int(zero.sum()),
            "units": sparse_histogram(bins, units),
            "documents": sparse_histogram(bins, np.ones(bins.size, dtype=np.int64)),
            "zero_documents": sparse_histogram(np.where(zero, bins, KEY_BINS), np.ones(bins.size, dtype=np.int64)),
        }
    return out


def boundary_shard(args: tuple[str, Mapping[str, tuple[float, int]]]) -> dict[str, dict[str, np.ndarray]]:
    """Pass 3: per language, key, hash, units and floor==0 of the candidates in bin ``beta``."""
    cache, plans = args
    out: dict[str, dict[str, np.ndarray]] = {}
    for lang, part in _cached_groups(cache, plans).items():
        factor, beta = plans[lang]
        floor, keys, hashes, units = _keys(part, factor)
        at = key_bins(keys) == beta
        out[lang] = {"keys": keys[at], "hashes": hashes[at], "units": units[at], "zero": floor[at] == 0}
    return out
