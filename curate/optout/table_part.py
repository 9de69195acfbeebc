"""One partition's part of the opt-out table (``curate optout build``, the last task of each partition).

Reads the partition's captures (every capture of its hosts, :data:`.CAPTURE_SCHEMA`) and the answers the
redirect rounds sent back to it (:mod:`.redirect_round`), picks each host's deciding capture
(:func:`.choose_per_host`) and writes its rows as one Parquet part, in the table's order (hash of the site
key, then host). The driver streams the parts, in partition order, into the one table file. A task holds one
partition: its hosts' captures, whatever the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.optout.redirect_round import ANSWER_SCHEMA
from curate.optout.robots_table import CAPTURE_SCHEMA, choose_per_host
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShuffleRef
from curate.shuffle.workdir import Workdir

ROW_GROUP = 10_000  # hosts per row group, of the parts and of the table: what the driver holds while it streams
UNPARSABLE_SHOWN = 10  # hosts whose capture did not parse, named in the summary (the first, by name)


def part_name(partition: int) -> str:
    return f"part-{partition:05d}.parquet"


@dataclass(frozen=True)
class PartTask:
    workdir: str
    partition: int
    captures: ShuffleRef
    answers: tuple[ShuffleRef, ...]  # one per redirect round that ran

    @property
    def kind(self) -> str:
        return "optout:table"


def part_task(task: PartTask) -> dict[str, Any]:
    """Write ``parts/part-P.parquet``; returns (and leaves as its marker) the part's counts."""
    wd = Workdir(task.workdir)
    marker = ("markers", f"part-{task.partition:05d}.json")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    captures = shuffle.read(wd, task.captures, task.partition, CAPTURE_SCHEMA)
    answers = [shuffle.read(wd, ref, task.partition, ANSWER_SCHEMA) for ref in task.answers]
    rows = choose_per_host(captures, pa.concat_tables(answers) if answers else ANSWER_SCHEMA.empty_table())
    del captures, answers
    sink = pa.BufferOutputStream()
    pq.write_table(rows, sink, compression="zstd", row_group_size=ROW_GROUP)
    wd.write_bytes(sink.getvalue().to_pybytes(), "parts", part_name(task.partition))
    status = rows.column("status")
    unparsable = rows.column("host").filter(pc.equal(status, "unparsable"))
    result = {
        "hosts": rows.num_rows,
        "status": _counts(status),
        "disallowed": _counts(pc.list_flatten(rows.column("disallowed"))),
        "unparsable": sorted(unparsable.to_pylist())[:UNPARSABLE_SHOWN],
    }
    wd.write_json(result, *marker)
    return result


def _counts(values: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    if len(values) == 0:
        return {}
    counted = pc.value_counts(values)
    return dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True))
