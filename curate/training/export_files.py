"""One Parquet file of a Hugging Face dataset export: consecutive corpus files of one language, copied row
group by row group into ``data/<lang>/train-XXXXX-of-YYYYY.parquet`` with the language's unified schema.

The row order is the corpus's (files sorted by path), so the same output exports to the same rows; a task
holds one row group. The file is written under a temporary name and published when complete: a rerun skips
files that exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.storage.atomic import publish
from curate.training.shard_format import temporary_name


@dataclass(frozen=True)
class ExportFileTask:
    lang: str
    sources: tuple[str, ...]
    target: str
    schema: pa.Schema


def _weighted(table: pa.Table) -> int:
    if "weight" not in table.column_names:
        return table.num_rows
    return int(pc.sum(pc.fill_null(table.column("weight"), 1)).as_py() or 0)


def export_file(task: ExportFileTask) -> dict[str, int]:
    """Rows and weighted rows (the sum of ``weight``) of the file."""
    fs, target = fsspec.core.url_to_fs(task.target)
    if fs.exists(target):  # published whole by an earlier run
        with fs.open(target, "rb") as handle:
            table = pq.read_table(handle, columns=[c for c in ("weight",) if c in task.schema.names])
        return {"rows": table.num_rows, "weighted_rows": _weighted(table)}
    rows = weighted = 0
    tmp = temporary_name(fs, target)
    with fs.open(tmp, "wb") as sink, pq.ParquetWriter(sink, task.schema, compression="zstd") as writer:
        for source in task.sources:
            with fsspec.open(source, "rb") as handle:
                pfile = pq.ParquetFile(handle)
                for i in range(pfile.num_row_groups):
                    group = pfile.read_row_group(i)
                    table = pa.table({name: group.column(name) if name in group.column_names else
                                      pa.nulls(group.num_rows, task.schema.field(name).type)
                                      for name in task.schema.names}).cast(task.schema)
                    writer.write_table(table)
                    rows += table.num_rows
                    weighted += _weighted(table)
    publish(fs, tmp, target)
    return {"rows": rows, "weighted_rows": weighted}
