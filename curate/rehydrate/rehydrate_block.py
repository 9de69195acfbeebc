"""The ``rehydrate`` block: duplication-aware upsampling and per-language budgets (FineWeb2 scheme).

MinHash dedup keeps one document per cluster and records ``minhash_cluster_size``. FineWeb2 found
that the quality filters remove documents with very few or very many duplicates more often than
those in between, and gives the kept document of a cluster a number of copies that depends on its
cluster size (Penedo et al., "FineWeb2: One Pipeline to Scale Them All", arXiv:2506.20920,
rehydration section; huggingface/fineweb-2 README, "Deduplication" and ``misc/rehydration``).

Settings (YAML ``- rehydrate: {...}``; defaults are FineWeb2's):

* ``method``: ``"rates"`` (default) computes each language's table from *this run's* removal rates
  per cluster size (``job.previous_stage["cluster_sizes"]``, the filters between dedup and here):
  ``reps(s) = 1`` if ``r(s) >= R`` else ``1 + (M - 1) (r(s) - R) / (r_min - R)``, 5-wide moving
  average with the edges kept, rounded, one tail bin (:mod:`curate.rehydrate.weights`);
  ``"fixed"``: the README table ``{1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}``;
  ``"table"``: the user's ``table`` (and/or ``tables``); ``"none"``: weight 1 (budgets only).
* ``table``: ``{cluster size: repetitions}`` for method ``table``; keys are the sizes where the count
  changes (lookup: largest key <= size, 1 below the smallest key).
* ``tables``: per-language tables ``{lang: {size: reps}}``, or the path of a FineWeb2 weights file
  (``misc/rehydration/weights/up_to_NN_reps.json``); they win over ``method`` for their languages.
* ``max_reps`` (``M``, default 10, FineWeb2's largest published setting) and ``max_reps_by_lang``
  (``{lang or tier: M}``, tier = ``high``/``mid``/``low``/``extreme-low``/``unknown`` from the language
  table; a language key wins over its tier). Only method ``rates`` uses ``M``.
* ``window`` (5) and ``tail_fraction`` (0.001: sizes above the 99.9th percentile share one bin).
* ``materialize`` (false): write each document ``weight`` times instead of a ``weight`` column.
* ``budget``: per-language targets after weighting, see :mod:`curate.rehydrate.budget`.

Output per kept row: ``weight`` (int64) = the number of copies the document stands for: the
table's repetitions, or after a budget the final integer count, where 0 means dropped: such rows
are removed with reason ``budget_downsampled`` (``_removed/``, ``drop_reason
rehydrate:budget_downsampled``), never lost silently. An existing ``weight`` column is replaced.
With ``materialize: true`` a document of weight ``w`` becomes ``w`` adjacent rows, each with
``weight`` 1 and ``copy_index`` 0..w-1; copy 0 keeps the ``id``, copy ``k > 0`` gets ``<id>#<k>``
so ids stay unique. Statistics (``job.stats``, the run's ``stats.json`` under ``global``): per
language the table, its source, ``R`` and ``r_min`` (percent, FineWeb2's unit), the tail
threshold, the counts it came from, and the budget plan (target, before, after, factor, documents).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.blocks.base import BlockContext, BlockOutput, GlobalJob, GlobalStep
from curate.blocks.columns import ID, WEIGHT
from curate.languages.labels import normalize_label
from curate.languages.table import TIERS
from curate.rehydrate.budget import Budget
from curate.rehydrate.budget_plan import sample_budgets
from curate.rehydrate.measure import MeasureTask, measure_shard
from curate.rehydrate.rows import groups, lang_column, row_hashes, row_weights
from curate.rehydrate.sampling import Threshold, budget_copies
from curate.rehydrate.tables import FINEWEB2_FIXED_TABLE, RepetitionTable, expected_documents, normalize_table
from curate.rehydrate.weights import (
    DEFAULT_MAX_REPS,
    DEFAULT_TAIL_FRACTION,
    DEFAULT_WINDOW,
    compute_repetitions,
    removal_distribution,
)

log = logging.getLogger(__name__)

COPY_INDEX = "copy_index"
BUDGET_REASON = "budget_downsampled"
NO_UPSAMPLING: RepetitionTable = {1: 1}
METHODS = ("rates", "fixed", "table", "none")


def _lang_key(label: str) -> str:
    return normalize_label(label)


def _load_tables(value: Mapping[str, Mapping[Any, int]] | str) -> dict[str, RepetitionTable]:
    if isinstance(value, str):  # a FineWeb2 misc/rehydration/weights/up_to_NN_reps.json
        with fsspec.open(value, "r", encoding="utf-8") as handle:
            value = json.load(handle)
        if not isinstance(value, Mapping):
            raise ValueError("rehydrate.tables: the file must hold {language: {cluster size: repetitions}}")
    out: dict[str, RepetitionTable] = {}
    for label, table in value.items():
        try:
            out[_lang_key(str(label))] = normalize_table(table)
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"rehydrate.tables[{label}]: {exc}") from None
    return out


def _file_version(path: str) -> str:
    """Short digest of a file's identity (path, size, modification time): a cache made from another
    version of the previous stage's output is never reused."""
    if not path:
        return "empty"
    fs, p = fsspec.core.url_to_fs(path)
    return hashlib.sha256(f"{path}|{fs.checksum(p)}".encode()).hexdigest()[:12]


class Rehydrate(GlobalStep):
    """Duplication-aware upsampling (FineWeb2 rehydration) and per-language budgets; see the module doc."""

    name: ClassVar[str] = "rehydrate"

    def __init__(
        self,
        method: Literal["rates", "fixed", "table", "none"] = "rates",
        table: dict[int, int] | None = None,
        tables: dict[str, dict[int, int]] | str | None = None,
        max_reps: int = DEFAULT_MAX_REPS,
        max_reps_by_lang: dict[str, int] | None = None,
        materialize: bool = False,
        budget: Budget | None = None,
        window: int = DEFAULT_WINDOW,
        tail_fraction: float = DEFAULT_TAIL_FRACTION,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"rehydrate.method must be one of {', '.join(METHODS)}, not {method!r}")
        if table is not None and method != "table":
            raise ValueError("rehydrate.table is the table of method 'table'; per-language tables go in `tables`")
        if method == "table" and table is None and not tables:
            raise ValueError("rehydrate method 'table' needs `table` ({size: reps}) or `tables` ({lang: {...}})")
        for what, m in [("max_reps", max_reps), *((f"max_reps_by_lang[{k}]", v)
                                                   for k, v in (max_reps_by_lang or {}).items())]:
            if isinstance(m, bool) or not isinstance(m, int) or m < 1:
                raise ValueError(f"rehydrate.{what} must be an integer >= 1, got {m!r}")
        if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
            raise ValueError(f"rehydrate.window must be an odd integer >= 1 (centred average), got {window!r}")
        if not 0.0 <= tail_fraction < 1.0:
            raise ValueError(f"rehydrate.tail_fraction must be in [0, 1), got {tail_fraction!r}")
        self.method = method
        self.table = table
        self.tables = tables
        self.max_reps = max_reps
        self.max_reps_by_lang = max_reps_by_lang
        self.materialize = materialize
        self.window = window
        self.tail_fraction = tail_fraction
        self._budget = Budget.from_setting(budget)
        self.budget = self._budget.model_dump(exclude_defaults=True) if self._budget is not None else None
        self._table = normalize_table(table) if table is not None else None
        self._lang_tables = _load_tables(tables) if tables else {}
        self._max_by_key = {k if k in TIERS else _lang_key(k): v for k, v in (max_reps_by_lang or {}).items()}
        # prepared state, pickled to the workers with the block (small: tables and one plan per language)
        self._tables: dict[str, RepetitionTable] = dict(self._lang_tables)
        self._plans: dict[str, tuple[float, Threshold]] = {}

    # -- tables ---------------------------------------------------------------------------------------
    @property
    def _default(self) -> RepetitionTable:
        """Table of a language with no counts and no table of its own."""
        if self.method == "fixed":
            return dict(FINEWEB2_FIXED_TABLE)
        if self.method == "table" and self._table is not None:
            return self._table
        return NO_UPSAMPLING

    def max_reps_for(self, lang: str, languages: Any = None) -> int:
        if lang in self._max_by_key:
            return self._max_by_key[lang]
        if languages is not None and self._max_by_key:
            tier = languages.get(lang).tier
            if tier in self._max_by_key:
                return self._max_by_key[tier]
        return self.max_reps

    def table_for(
        self, lang: str, kept: Mapping[int, int], removed: Mapping[int, int], languages: Any = None
    ) -> tuple[RepetitionTable, dict[str, Any]]:
        """The repetition table of one language and what it was computed from (for the stats)."""
        info: dict[str, Any] = {"representatives": {"kept": sum(kept.values()), "removed": sum(removed.values())}}
        has_counts = any(kept.values()) or any(removed.values())
        if has_counts:
            dist = removal_distribution(kept, removed, tail_fraction=self.tail_fraction)
            rates = list(dist["cluster_removal_rates"])
            if dist["tail_removal_rate"] is not None:
                rates.append(dist["tail_removal_rate"])
            info.update(R=dist["global_removal_rate"], r_min=min(rates), tail_threshold=dist["tail_threshold"],
                        bins=len(rates))
        if lang in self._lang_tables:
            table, source = self._lang_tables[lang], "tables"
        elif self.method == "rates" and has_counts:
            m = self.max_reps_for(lang, languages)
            table, source = compute_repetitions(kept, removed, m, window=self.window,
                                                tail_fraction=self.tail_fraction), "rates"
            info["max_reps"] = m
        elif self.method == "rates":
            table, source = NO_UPSAMPLING, "rates:no cluster sizes"
        else:
            table = self._default
            source = "table" if self.method == "table" and self._table is not None else self.method
            if self.method == "table" and self._table is None:
                source = "none:not in tables"
        info.update(source=source, table={str(k): v for k, v in table.items()})
        if kept:
            info["documents"] = sum(kept.values())
            info["weighted_documents"] = expected_documents(table, kept)
        return table, info

    # -- prepare --------------------------------------------------------------------------------------
    def prepare(self, job: GlobalJob) -> None:
        started = time.time()
        counts = job.previous_stage.get("cluster_sizes") or {}
        corpus = corpus_counts(job.earlier)
        if corpus is not None:  # a dedup index: the earlier dumps' clusters count too (the whole corpus)
            if self._budget is not None:
                raise ValueError("rehydrate: a budget is planned over one run's rows; with a dedup index the corpus "
                                 "spans several runs: drop `budget` (weights are still the whole corpus')")
            counts = _add_counts(corpus, counts)
        if not counts and self.method == "rates":
            log.warning("rehydrate: no minhash_cluster_size counts from the stage before; every weight is 1 "
                        "(put `minhash` and the filters before `rehydrate`)")
        self._tables = dict(self._lang_tables)
        langs: dict[str, dict[str, Any]] = {}
        for lang in sorted(counts):
            kept = {int(k): int(v) for k, v in counts[lang].get("kept", {}).items()}
            removed = {int(k): int(v) for k, v in counts[lang].get("removed", {}).items()}
            self._tables[lang], langs[lang] = self.table_for(lang, kept, removed, job.languages)
        self._plans = {}
        budget_stats = self._plan_budget(job, langs) if self._budget is not None else None
        job.stats.update({
            "method": self.method,
            "max_reps": self.max_reps,
            "materialize": self.materialize,
            "default_table": {str(k): v for k, v in self._default.items()},
            "languages": langs,
            **({"budget": budget_stats} if budget_stats is not None else {}),
            # with a dedup index: what the tables were computed from, so that an index operation (a dump dropped)
            # can compute them again for the corpus it leaves
            **({"corpus": {"source": "dedup index", "settings": _jsonable(self.describe())}}
               if corpus is not None else {}),
            "seconds": round(time.time() - started, 3),
        })

    def _digest(self) -> str:
        state = {"settings": self.describe(), "tables": {k: sorted(v.items()) for k, v in self._tables.items()}}
        return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def _plan_budget(self, job: GlobalJob, langs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        budget = self._budget
        assert budget is not None
        root = f"{job.workdir.rstrip('/')}/budget-{self._digest()}"
        caches = [f"{root}/{i:05d}-{_file_version(path)}.parquet" for i, (_, path) in enumerate(job.shards)]
        tasks = [MeasureTask(path, cache, self._tables, self._default, budget)
                 for (_, path), cache in zip(job.shards, caches, strict=True)]
        totals: dict[str, dict[str, int]] = {}
        for result in job.map(measure_shard, tasks):
            for lang, t in result.items():
                entry = totals.setdefault(lang, dict.fromkeys(t, 0))
                for k, v in t.items():
                    entry[k] += v
        grand = sum(t["weighted_units"] for t in totals.values())
        plans: dict[str, dict[str, Any]] = {}
        for lang in sorted(totals):
            if lang not in langs:  # documents without cluster-size counts: the default table applied
                langs[lang] = {"source": "default", "table": {str(k): v for k, v in
                                                              self._tables.get(lang, self._default).items()}}
            target = budget.target_for(lang, grand)
            if target is None:
                continue
            t = totals[lang]
            plan: dict[str, Any] = {"unit": budget.unit, "target": target, "before": t["weighted_units"],
                                    "documents_in": t["documents"], "documents_before": t["weighted_documents"]}
            if t["weighted_units"] == 0:
                plan.update(after=0, factor=None, documents_after=t["weighted_documents"], documents_dropped=0,
                            note="nothing to scale: no size in this unit; weights unchanged")
            else:
                plan["factor"] = target / t["weighted_units"]
                plans[lang] = plan
            langs[lang]["budget"] = plan
        for lang in sorted(set(budget.targets) | set(budget.share)):
            if lang != "*" and lang not in totals:  # named but absent: say so rather than stay silent
                langs.setdefault(lang, {"source": "absent", "table": {}})["budget"] = {
                    "unit": budget.unit, "target": budget.target_for(lang, grand), "before": 0, "after": 0,
                    "factor": None, "documents_in": 0, "documents_before": 0, "documents_after": 0,
                    "documents_dropped": 0, "note": "no documents of this language reached rehydrate"}
        if plans:
            self._sample(job, caches, plans)
        return {"unit": budget.unit, "seed": budget.seed, "grand_total_before": grand,
                "grand_total_after": sum(langs[lang]["budget"]["after"] if "budget" in langs[lang]
                                         else totals[lang]["weighted_units"] for lang in totals)}

    def _sample(self, job: GlobalJob, caches: list[str], plans: dict[str, dict[str, Any]]) -> None:
        thresholds = sample_budgets(job.map, caches, plans)
        for lang, plan in plans.items():
            self._plans[lang] = (plan["factor"], thresholds[lang])

    # -- process --------------------------------------------------------------------------------------
    def copies(self, table: pa.Table) -> np.ndarray:
        """Final copies per row (int64; 0 = dropped by the budget)."""
        by_lang = groups(lang_column(table))
        out = row_weights(table, self._tables, self._default, by_lang)
        assert self._budget is not None or not self._plans
        for lang, idx in by_lang.items():
            plan = self._plans.get(lang)
            if plan is None:
                continue
            hashes = row_hashes(table.take(pa.array(idx)), self._budget.seed)
            out[idx] = budget_copies(out[idx], hashes, plan[0], plan[1])
        return out

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        """Per language, the sum of ``weight`` (copies represented; removed rows weigh 0)."""
        if WEIGHT not in table.column_names or table.num_rows == 0:
            return {}
        weights = pc.fill_null(table.column(WEIGHT), 0).to_numpy()
        return {lang: {"weighted_documents": int(weights[idx].sum())}
                for lang, idx in groups(lang_column(table)).items()}

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        copies = self.copies(table)
        keep = copies > 0
        reasons = None if keep.all() else [None if k else BUDGET_REASON for k in keep.tolist()]
        if not self.materialize:
            return BlockOutput(table=_set_column(table, WEIGHT, pa.array(copies, pa.int64())),
                               keep=keep, reasons=reasons)
        rows = np.maximum(copies, 1)  # a dropped row is emitted once, as removed
        origin = np.repeat(np.arange(table.num_rows, dtype=np.int64), rows)
        copy_index = np.arange(origin.size, dtype=np.int64) - np.repeat(np.cumsum(rows) - rows, rows)
        out = table.take(pa.array(origin))
        out = _set_column(out, WEIGHT, pa.array(keep[origin].astype(np.int64)))
        index = pa.array(copy_index)
        if ID in out.column_names:
            ids = out.column(ID).cast(pa.string())
            suffixed = pc.binary_join_element_wise(ids, index.cast(pa.string()), "#")
            out = _set_column(out, ID, pc.if_else(pc.greater(index, 0), suffixed, ids))
        out = _set_column(out, COPY_INDEX, index)
        out_reasons = None if reasons is None else [reasons[i] for i in origin.tolist()]
        return BlockOutput(table=out, keep=keep[origin], reasons=out_reasons, origin=origin)  # type: ignore[call-arg]


def corpus_counts(earlier: Mapping[str, Any]) -> dict[str, Any] | None:
    """Per language, kept/removed counts per cluster size of the clusters of a dedup index whose kept document
    is in an earlier dump (``minhash_index.rehydrate_base`` of the run's ``minhash`` step), or None."""
    for key in sorted(earlier):
        stats = earlier[key]
        if key.endswith(":minhash") and isinstance(stats, Mapping) and "minhash_index" in stats:
            return dict(stats["minhash_index"]["rehydrate_base"])
    return None


def _add_counts(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    for source in (a, b):
        for lang, entry in source.items():
            into = out.setdefault(lang, {"kept": {}, "removed": {}})
            for what in ("kept", "removed"):
                for size, n in entry.get(what, {}).items():
                    into[what][str(size)] = into[what].get(str(size), 0) + int(n)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value if value is None or isinstance(value, (bool, int, float, str)) else repr(value)


def _set_column(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, name, values) if i >= 0 else table.append_column(name, values)
