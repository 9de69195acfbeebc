"""Accounting of what a reader saw: records read = emitted + skipped (by reason) + errored.

``counters`` are notes on records already counted above (a charset that fell back to detection,
a Content-Type sniffed as HTML, bytes skipped to resync): they are not part of the sum.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGES = 20  # per shard; enough to act on without flooding the stats file
EMPTY_FILE = "empty_file"  # an input of 0 bytes: one counted error naming it


@dataclass
class ReadCounts:
    records: int = 0
    emitted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errored: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def error(self, reason: str, message: str, amount: int = 1) -> None:
        self.errored[reason] += amount
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)

    def count(self, name: str, amount: int = 1) -> None:
        self.counters[name] += amount

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "emitted": self.emitted,
            "skipped": dict(sorted(self.skipped.items())),
            "errored": dict(sorted(self.errored.items())),
            "messages": list(self.messages),
            "counters": dict(sorted(self.counters.items())),
        }
