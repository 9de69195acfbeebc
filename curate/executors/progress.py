"""Progress of a map (shard tasks, dedup partitions): tasks done, documents/s and ETA, for both executors.

On a terminal a tqdm bar; otherwise (job logs, CI) a line such as
``stage 0: 12/30 tasks, 3,456 docs, 410 docs/s, ETA 00:00:21`` every ``log_every`` seconds and a final
line per map. Documents are the ``read.emitted`` counts of the task results (WARC: HTML responses).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

LOG_EVERY_SECONDS = 30.0
REDRAW_SECONDS = 0.5  # how often a caller polling for results should call tick() on a terminal


def hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"  # hours go past 24 on a long run


class Progress:
    def __init__(self, total: int, desc: str, enabled: bool = True, stream: TextIO | None = None,
                 log_every: float = LOG_EVERY_SECONDS) -> None:
        self.desc = desc or "tasks"
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.interval = REDRAW_SECONDS if self.tty else log_every
        self.started = self.last = time.monotonic()
        self.count = 0
        self.docs = 0
        self.has_docs = False
        self.bar = tqdm(total=total, desc=self.desc, unit="task", file=self.stream, disable=not self.tty,
                        leave=False)

    def update(self, result: Any) -> None:
        """One task finished with ``result``."""
        self.count += 1
        read = result.get("read") if isinstance(result, dict) else None
        if isinstance(read, dict) and isinstance(read.get("emitted"), int):
            self.docs += read["emitted"]
            self.has_docs = True
        self.bar.update(1)
        self.tick()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        parts = [f"{self.desc}: {self.count}/{self.total} tasks"]
        if self.has_docs:
            parts.append(f"{self.docs:,} docs, {self.docs / elapsed:,.0f} docs/s")
        if 0 < self.count < self.total:
            parts.append(f"ETA {hms(elapsed / self.count * (self.total - self.count))}")
        else:
            parts.append(f"{elapsed:.1f} s")
        return ", ".join(parts)

    def tick(self) -> None:
        """Redraw the bar or, in a log, write a line when ``log_every`` seconds have passed."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        if self.tty:
            elapsed = max(now - self.started, 1e-9)
            if self.has_docs:
                self.bar.set_postfix_str(f"{self.docs / elapsed:,.0f} docs/s", refresh=False)
            self.bar.refresh()
        else:
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        self.bar.close()
        if self.enabled and not self.tty and self.count:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
