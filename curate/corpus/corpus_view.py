"""Every dump's output as the dedup index now sees it: the earlier outputs' Parquet is never rewritten.

A run against an index writes, for each earlier dump whose documents it touched, an *update* file keyed by
document id (:mod:`curate.dedup.index_apply`): the new cluster size, or that the document is no longer kept
(a bridge merged its cluster into another, or ``first_id`` met a smaller id) and which one is kept instead.
A drop writes updates too (:mod:`curate.dedup.index_rebuild`): new sizes, and documents kept again. The
rehydration weights of every document are those of the latest version's tables (FineWeb2's tables depend on
the whole corpus' removal rates per cluster size, which every run changes), read off its cluster size.

:func:`corpus_rows` applies them: per document of the corpus, its dump, id, language, cluster size, cluster
id and weight, equal to what one run over every dump of the index would have written.
"""

from __future__ import annotations

from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks.columns import CLUSTER_ID, CLUSTER_SIZE, ID, LANG, WEIGHT
from curate.dedup.exact_block import EXACT_CLUSTER_SIZE
from curate.dedup.index_store import DedupIndex
from curate.dedup.index_tables import UPDATE_SCHEMA
from curate.rehydrate.rows import row_weights
from curate.rehydrate.tables import normalize_table

VIEW_SCHEMA = pa.schema([("dump", pa.string()), (ID, pa.string()), (LANG, pa.string()), ("cluster_size", pa.int64()),
                         ("cluster_id", pa.string()), (WEIGHT, pa.int64()), ("in_output", pa.bool_())])


def _columns(block: str) -> tuple[str, str | None]:
    return (CLUSTER_SIZE, CLUSTER_ID) if block == "minhash" else (EXACT_CLUSTER_SIZE, None)


def output_rows(out_dir: str, block: str) -> pa.Table:
    """The kept rows of one run's output (``OUT/<lang>/*.parquet``): id, lang, cluster size and id."""
    size_col, id_col = _columns(block)
    fs, root = fsspec.core.url_to_fs(out_dir)
    files = sorted(p for p in fs.glob(f"{root.rstrip('/')}/*/*.parquet")
                   if not p.rstrip("/").split("/")[-2].startswith(("_", ".")))
    parts = []
    for path in files:
        with fs.open(path, "rb") as f:
            names = pq.read_schema(f).names
            f.seek(0)
            t = pq.read_table(f, columns=[c for c in (ID, LANG, size_col, id_col) if c and c in names])
        n = t.num_rows
        parts.append(pa.table({
            ID: t.column(ID).cast(pa.string()),
            LANG: t.column(LANG).cast(pa.string()) if LANG in t.column_names else pa.nulls(n, pa.string()),
            "cluster_size": pc.fill_null(t.column(size_col).cast(pa.int64()), 1) if size_col in t.column_names
            else pa.array(np.ones(n, np.int64)),
            "cluster_id": t.column(id_col).cast(pa.string()) if id_col and id_col in t.column_names
            else t.column(ID).cast(pa.string()),
        }))
    if not parts:
        return pa.table({ID: pa.array([], pa.string()), LANG: pa.array([], pa.string()),
                         "cluster_size": pa.array([], pa.int64()), "cluster_id": pa.array([], pa.string())})
    return pa.concat_tables(parts)


def latest_updates(index: DedupIndex, manifest: dict[str, Any], dump: str) -> pa.Table:
    """The newest update of each document of ``dump`` (by version)."""
    entries = sorted((u for u in manifest["updates"] if u["dump"] == dump), key=lambda u: u["version"])
    if not entries:
        return UPDATE_SCHEMA.empty_table()
    t = pa.concat_tables([index.wd.read_parquet(*u["path"].split("/")).cast(UPDATE_SCHEMA) for u in entries])
    ids = t.column(ID).to_pylist()
    last: dict[str, int] = {}
    for i, doc in enumerate(ids):  # later files (versions) come later: the last row of an id wins
        last[doc] = i
    return t.take(pa.array(sorted(last.values()), pa.int64()))


def corpus_rows(index_url: str, version: int | None = None, include_unfiltered: bool = True) -> pa.Table:
    """Per document of the corpus in the index (``version``: default the latest), :data:`VIEW_SCHEMA`.

    ``in_output`` is false for a document a drop made kept again that its run had removed as a duplicate (so
    the filters never saw it: its row is in its dump's ``_removed/``); ``include_unfiltered=False`` leaves them
    out."""
    index = DedupIndex(index_url)
    manifest = index.manifest(version)
    if manifest is None:
        return VIEW_SCHEMA.empty_table()
    parts = []
    for dump in manifest["dumps"]:
        rows = output_rows(dump["out_dir"], manifest["block"])
        upd = latest_updates(index, manifest, dump["name"])
        ids = rows.column(ID)
        keep = np.ones(rows.num_rows, bool)
        size = rows.column("cluster_size").to_numpy().copy()
        cluster = rows.column("cluster_id").to_pylist()
        if upd.num_rows:
            where = pc.index_in(ids, value_set=upd.column(ID)).to_numpy(zero_copy_only=False)
            at = np.flatnonzero(~np.isnan(where.astype(float)))
            j = where[at].astype(np.int64)
            keep[at] = upd.column("keep").to_numpy(zero_copy_only=False)[j]
            size[at] = upd.column("cluster_size").to_numpy()[j]
            new_ids = upd.column("cluster_id").to_pylist()
            for a, b in zip(at.tolist(), j.tolist(), strict=True):
                cluster[a] = new_ids[b]
        table = pa.table({"dump": pa.array([dump["name"]] * rows.num_rows, pa.string()), ID: ids,
                          LANG: rows.column(LANG), "cluster_size": pa.array(size), "cluster_id": pa.array(cluster, pa.string()),
                          "in_output": pa.array(np.ones(rows.num_rows, bool))}).filter(pa.array(keep))
        parts.append(table)
        if include_unfiltered and upd.num_rows:  # kept again by a drop, never filtered: not in the output
            extra = upd.filter(pc.and_(pc.and_(upd.column("keep"), pc.is_null(upd.column("filtered"))),
                                       pc.invert(pc.is_in(upd.column(ID), value_set=ids))))
            if extra.num_rows:
                parts.append(pa.table({"dump": pa.array([dump["name"]] * extra.num_rows, pa.string()),
                                       ID: extra.column(ID), LANG: extra.column(LANG),
                                       "cluster_size": extra.column("cluster_size"),
                                       "cluster_id": extra.column("cluster_id"),
                                       "in_output": pa.array(np.zeros(extra.num_rows, bool))}))
    view = pa.concat_tables(parts) if parts else VIEW_SCHEMA.remove(VIEW_SCHEMA.get_field_index(WEIGHT)).empty_table()
    rehydrate = manifest.get("rehydrate")
    if rehydrate:
        tables = {lang: normalize_table(t) for lang, t in rehydrate["tables"].items() if t}
        default = normalize_table(rehydrate.get("default_table") or {1: 1})
        weights = row_weights(view.rename_columns([c if c != "cluster_size" else CLUSTER_SIZE
                                                   for c in view.column_names]), tables, default)
    else:
        weights = np.ones(view.num_rows, np.int64)
    view = view.append_column(WEIGHT, pa.array(weights, pa.int64()))
    return view.select(VIEW_SCHEMA.names).cast(VIEW_SCHEMA)
