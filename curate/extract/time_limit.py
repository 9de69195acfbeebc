"""A per-document time limit that costs no process round trip: SIGALRM in the worker itself.

Extraction runs in the main thread of each worker process (local pool and Ray tasks alike), so
an interval timer can interrupt a runaway page and the worker carries on with the next one.
Where signals are unavailable (a non-main thread, Windows), pages run without a limit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from curate.errors import CurateError


class ExtractionTimeout(CurateError):
    """A document took longer than ``timeout`` seconds to extract."""


class _Alarm:
    """Remembers that the timer fired: engines with broad ``except`` clauses (trafilatura) may
    swallow the exception and return an empty text, which must still count as a timeout."""

    def __init__(self) -> None:
        self.fired = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.fired = True
        raise ExtractionTimeout


def signals_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    if not seconds or seconds <= 0 or not signals_available():
        yield
        return
    alarm = _Alarm()
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if alarm.fired:
        raise ExtractionTimeout
