"""What became of one record: a row, a skip reason or an error, plus side counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from curate.io.read_counts import ReadCounts
from curate.io.reader_base import BatchBuilder


@dataclass(slots=True)
class RecordOutcome:
    """Applied to the counts only once the record is known to be whole (see ``WarcReader``)."""

    row: dict[str, str | bytes | int | None] | None = None
    skip: str | None = None
    error: str | None = None
    message: str = ""
    counters: tuple[str, ...] = field(default=())

    def apply(self, counts: ReadCounts, builder: BatchBuilder):  # -> pa.Table | None
        counts.records += 1
        for name in self.counters:
            counts.count(name)
        if self.error is not None:
            counts.error(self.error, self.message)
        elif self.skip is not None:
            counts.skip(self.skip)
        elif self.row is not None:
            counts.emitted += 1
            return builder.add(**self.row)
        return None
