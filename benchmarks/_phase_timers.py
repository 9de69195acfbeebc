"""Per-phase timers of the curate benchmark drivers (`_curate_pipeline.py`, `_curate_fineweb2.py`): wrap a block's
``process`` (or a reader's generator) and add its wall and CPU seconds to the phase's totals."""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

PHASES: dict[str, float] = defaultdict(float)  # wall seconds per phase
PHASES_CPU: dict[str, float] = defaultdict(float)  # CPU seconds of this process per phase


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children (extraction processes)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def children_cpu_seconds() -> float:
    """User + system CPU time of this process's finished (reaped) children."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def timed(phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES[phase] += time.perf_counter() - t0
            PHASES_CPU[phase] += time.process_time() - c0

    return wrapper


def timed_iter(phase: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Time spent inside a generator (the reader), not in what consumes it."""

    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = fn(*args, **kwargs)
        while True:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                PHASES[phase] += time.perf_counter() - t0
                PHASES_CPU[phase] += time.process_time() - c0
            yield item

    return wrapper
