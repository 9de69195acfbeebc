"""Progress of a long run: shards done, documents/s and ETA, on a terminal bar or as log lines."""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm import tqdm

LOG_EVERY_SECONDS = 30.0


class Progress:
    def __init__(self, total: int, desc: str, enabled: bool = True) -> None:
        self.total = total
        self.desc = desc
        self.done = 0
        self.docs = 0
        self.started = time.time()
        self.last_log = self.started
        self.tty = sys.stderr.isatty()
        self.bar = tqdm(total=total, desc=desc, unit="shard", disable=not (enabled and self.tty), leave=False)
        self.enabled = enabled

    def update(self, result: Any) -> None:
        self.done += 1
        if isinstance(result, dict) and isinstance(result.get("read"), dict):
            self.docs += int(result["read"].get("emitted", 0))
        elapsed = max(time.time() - self.started, 1e-9)
        rate = self.docs / elapsed
        self.bar.set_postfix_str(f"{rate:,.0f} docs/s", refresh=False)
        self.bar.update(1)
        now = time.time()
        if self.enabled and not self.tty and self.total > 1 and (now - self.last_log >= LOG_EVERY_SECONDS
                                                                 or self.done == self.total):
            eta = (self.total - self.done) * elapsed / self.done
            print(f"[{self.desc}] {self.done}/{self.total} shards, {rate:,.0f} docs/s, ETA {eta:,.0f}s",
                  file=sys.stderr, flush=True)
            self.last_log = now

    def close(self) -> None:
        self.bar.close()
