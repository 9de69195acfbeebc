"""Every dump's output as the dedup index now sees it: the earlier outputs' Parquet is never rewritten.

A run against an index writes, for each earlier dump whose documents it touched, an *update* file keyed by
document id (:mod:`curate.dedup.index_apply`): the new cluster size, or that the document is no longer kept
(a bridge merged its cluster into another, or ``first_id`` met a smaller id) and which one is kept instead.
A drop writes updates too (:mod:`curate.dedup.index_rebuild`): new sizes, and documents kept again. The
rehydration weights of every document are those of the latest version's tables (FineWeb2's tables depend on
the whole corpus' removal rates per cluster size, which every run changes), read off its cluster size.

:func:`corpus_parts` applies them, an output file at a time: per document of the corpus, its dump, id,
language, cluster size, cluster id and weight, equal to what one run over every dump of the index would have
written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def output_files(out_dir: str) -> list[str]:
    """The Parquet files of one run's kept rows (``OUT/<lang>/*.parquet``), as URLs in a fixed order."""
    fs, root = fsspec.core.url_to_fs(out_dir)
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    prefix = "" if protocol in ("file", "local") else f"{protocol}://"
    return [prefix + p for p in sorted(fs.glob(f"{root.rstrip('/')}/*/*.parquet"))
            if not p.rstrip("/").split("/")[-2].startswith(("_", "."))]


def file_rows(path: str, block: str) -> pa.Table:
    """One output file's kept rows: id, lang, cluster size and id."""
    size_col, id_col = _columns(block)
    with fsspec.open(path, "rb") as f:
        names = pq.read_schema(f).names
        f.seek(0)
        t = pq.read_table(f, columns=[c for c in (ID, LANG, size_col, id_col) if c and c in names])
    n = t.num_rows
    ids = t.column(ID).cast(pa.string())
    return pa.table({
        ID: ids,
        LANG: t.column(LANG).cast(pa.string()) if LANG in t.column_names else pa.nulls(n, pa.string()),
        "cluster_size": pc.fill_null(t.column(size_col).cast(pa.int64()), 1) if size_col in t.column_names
        else pa.array(np.ones(n, np.int64)),
        "cluster_id": t.column(id_col).cast(pa.string()) if id_col and id_col in t.column_names else ids,
    })


def latest_updates(index: DedupIndex, manifest: dict[str, Any], dump: str) -> pa.Table:
    """The newest update of each document of ``dump`` (by version), in the order of its newest row."""
    entries = sorted((u for u in manifest["updates"] if u["dump"] == dump), key=lambda u: u["version"])
    if not entries:
        return UPDATE_SCHEMA.empty_table()
    t = pa.concat_tables([index.wd.read_parquet(*u["path"].split("/")).cast(UPDATE_SCHEMA) for u in entries])
    # later files (versions) come later: the last row of an id wins
    last = t.append_column("_row", pa.array(np.arange(t.num_rows))).group_by(ID).aggregate([("_row", "max")])
    return t.take(pa.array(np.sort(last.column("_row_max").to_numpy())))


def _weigher(manifest: dict[str, Any]) -> Callable[[pa.Table], np.ndarray]:
    """Rows -> their rehydration weights from the version's tables (1 without tables), read off cluster sizes."""
    rehydrate = manifest.get("rehydrate")
    if not rehydrate:
        return lambda rows: np.ones(rows.num_rows, np.int64)
    tables = {lang: normalize_table(t) for lang, t in rehydrate["tables"].items() if t}
    default = normalize_table(rehydrate.get("default_table") or {1: 1})
    return lambda rows: row_weights(rows.rename_columns([c if c != "cluster_size" else CLUSTER_SIZE
                                                         for c in rows.column_names]), tables, default)


def _view_part(dump: str, rows: pa.Table, in_output: bool, weigh: Callable[[pa.Table], np.ndarray]) -> pa.Table:
    n = rows.num_rows
    part = pa.table({"dump": pa.array([dump] * n, pa.string()), ID: rows.column(ID), LANG: rows.column(LANG),
                     "cluster_size": rows.column("cluster_size"), "cluster_id": rows.column("cluster_id"),
                     WEIGHT: pa.array(np.zeros(n, np.int64)), "in_output": pa.array(np.full(n, in_output))})
    return part.set_column(part.schema.get_field_index(WEIGHT), WEIGHT, pa.array(weigh(part), pa.int64())) \
        .cast(VIEW_SCHEMA)


def corpus_parts(index_url: str, version: int | None = None, include_unfiltered: bool = True) -> Iterator[pa.Table]:
    """The corpus in the index (``version``: default the latest) as :data:`VIEW_SCHEMA` tables, one per output
    file of each dump (then the dump's documents kept again by a drop): a process holds one output file and its
    dump's updates, never the corpus.

    ``in_output`` is false for a document a drop made kept again that its run had removed as a duplicate (so
    the filters never saw it: its row is in its dump's ``_removed/``); ``include_unfiltered=False`` leaves them
    out."""
    index = DedupIndex(index_url)
    manifest = index.manifest(version)
    if manifest is None:
        return
    weigh = _weigher(manifest)
    for dump in manifest["dumps"]:
        upd = latest_updates(index, manifest, dump["name"])
        matched = np.zeros(upd.num_rows, bool)
        for path in output_files(dump["out_dir"]):
            rows = file_rows(path, manifest["block"])
            if upd.num_rows:
                where = pc.index_in(rows.column(ID), value_set=upd.column(ID))
                found = pc.is_valid(where)
                j = pc.fill_null(where, 0)
                matched[pc.filter(where, found).to_numpy()] = True
                rows = pa.table({
                    ID: rows.column(ID), LANG: rows.column(LANG),
                    "cluster_size": pc.if_else(found, upd.column("cluster_size").take(j), rows.column("cluster_size")),
                    "cluster_id": pc.if_else(found, upd.column("cluster_id").take(j), rows.column("cluster_id")),
                }).filter(pc.or_(pc.invert(found), upd.column("keep").take(j)))
            yield _view_part(dump["name"], rows, True, weigh)
        if include_unfiltered and upd.num_rows:  # kept again by a drop, never filtered: not in the output
            extra = upd.filter(pc.and_(pc.and_(upd.column("keep"), pc.is_null(upd.column("filtered"))),
                                       pa.array(~matched)))
            if extra.num_rows:
                yield _view_part(dump["name"], extra.select([ID, LANG, "cluster_size", "cluster_id"]), False, weigh)


def corpus_rows(index_url: str, version: int | None = None, include_unfiltered: bool = True) -> pa.Table:
    """All of :func:`corpus_parts` as one table (small corpora and tests; ``curate index view`` streams)."""
    parts = list(corpus_parts(index_url, version, include_unfiltered))
    return pa.concat_tables(parts) if parts else VIEW_SCHEMA.empty_table()
