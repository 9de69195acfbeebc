"""A persistent extraction process per worker, held to a CPU-time budget per document.

The worker sends a batch of pages; the child extracts them one by one and answers page by page.
Before each page the child arms a CPU-time interval timer (``ITIMER_PROF``: user + system CPU
of the process) with the budget, and leaves SIGPROF at its default action: the kernel ends the
child when one page overruns, C code included. The timer counts CPU seconds, not wall-clock
seconds, so a loaded machine times out the same pages as a quiet one. The worker then counts that page as a ``timeout`` error, starts a fresh
child and goes on with the rest of the batch. A child that crashes (a segfault in a parser) costs
only its page, the same way. There is no process round trip per page, only one per batch.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from curate.errors import CurateError
from curate.extract.engines import ENGINES, TAKES_BYTES
from curate.process_guard import die_with_parent

Outcome = tuple[bool, str]  # (ok, text) or (False, error message)


def _reset_trafilatura() -> None:
    from trafilatura.meta import reset_caches  # optional heavy dependency, imported by the engine anyway

    reset_caches()


# Engines that keep state across pages: trafilatura's ``deduplicate`` remembers text segments of
# earlier pages (an LRU per process). Reset at the start of every shard task, the output of a
# shard depends on that shard alone, not on which shards a worker happened to run before it.
ENGINE_RESETS: dict[str, Callable[[], None]] = {"trafilatura": _reset_trafilatura}


class ScopedEngine:
    """An engine that starts from a clean state whenever the scope (one shard task) changes."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.extract = ENGINES[engine]
        self.scope: object = None

    def enter(self, scope: object) -> None:
        if scope != self.scope:
            reset = ENGINE_RESETS.get(self.engine)
            if reset is not None and self.scope is not None:
                reset()
            self.scope = scope


class ExtractionProcessError(CurateError, RuntimeError):
    """The extraction process could not be started (the message says why)."""


def cpu_limit_available() -> bool:
    """POSIX CPU-time timers (not on Windows, where pages run in the worker without a limit)."""
    return hasattr(signal, "ITIMER_PROF") and hasattr(signal, "SIGPROF")


def _serve(conn: Connection, engine: str, budget: float, parent_pid: int) -> None:
    """The child's loop: batches of (index, html) in, one (index, ok, text) answer per page."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    signal.signal(signal.SIGPROF, signal.SIG_DFL)  # overrun: the kernel ends this process
    scoped = ScopedEngine(engine)
    extract = scoped.extract
    # engines import their library on first use: not the first page's CPU time
    warm_up = "<html><body><p>warm up</p></body></html>"
    extract(warm_up.encode() if engine in TAKES_BYTES else warm_up)
    scoped.enter("warm-up")
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        scope, batch = message
        scoped.enter(scope)
        for index, html in batch:
            signal.setitimer(signal.ITIMER_PROF, budget)
            try:
                answer = (index, True, extract(html))
            except Exception as exc:  # any engine failure is this page's error
                answer = (index, False, f"{type(exc).__name__}: {exc}"[:300])
            signal.setitimer(signal.ITIMER_PROF, 0)  # sending the answer is not the page's time
            conn.send(answer)


class ExtractionProcess:
    """One child process running ``engine`` with ``budget`` CPU seconds per page."""

    def __init__(self, engine: str, budget: float) -> None:
        if engine not in ENGINES:
            raise ExtractionProcessError(f"unknown extraction engine {engine!r}; allowed: {', '.join(ENGINES)}")
        self.engine = engine
        self.budget = budget
        self.restarts = 0
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def takes_bytes(self) -> bool:
        return self.engine in TAKES_BYTES

    def _start(self) -> Connection:
        ctx = multiprocessing.get_context("spawn")  # no fork: Arrow's threads do not survive one
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_serve, args=(child, self.engine, self.budget, os.getpid()),
                           name=f"curate-extract-{self.engine}", daemon=True)
        proc.start()
        child.close()
        try:
            parent.recv()  # "ready": the engine imported
        except EOFError:
            proc.join()
            raise ExtractionProcessError(
                f"the {self.engine} extraction process exited at start (exit code {proc.exitcode}); "
                f"check that `python -c 'import curate.extract.engines'` works in this environment"
            ) from None
        self._proc, self._conn = proc, parent
        return parent

    def start(self) -> None:
        """Start the child now (it starts on first use otherwise)."""
        if self._conn is None:
            self._start()

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join()
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def close(self) -> None:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(None)
                self._proc.join(timeout=5)
            except (OSError, ValueError):
                pass
        self._stop()

    def run(self, items: list[tuple[int, Any]], scope: object) -> dict[int, Outcome]:
        """Extract every (index, html); returns index -> (ok, text or error message). ``scope``
        names the shard task: the engine's state is reset when it changes."""
        results: dict[int, Outcome] = {}
        pending = list(items)
        while pending:
            conn = self._conn or self._start()
            conn.send((scope, pending))
            for index, _html in pending:
                try:
                    got, ok, text = conn.recv()
                except (EOFError, OSError):  # the child died on this page
                    results[index] = (False, self._death_message())
                    self._stop()
                    self.restarts += 1
                    break
                results[got] = (ok, text)
            pending = [(i, h) for i, h in pending if i not in results]
        return results

    def _death_message(self) -> str:
        assert self._proc is not None
        self._proc.join()
        code = self._proc.exitcode
        if code == -signal.SIGPROF:
            return (f"timeout: extraction used over {self.budget:g}s of CPU time "
                    f"(raise extract.timeout to allow more)")
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        return f"crash: the {self.engine} extraction process died ({how}) on this page"


_PROCESSES: dict[tuple[str, float], ExtractionProcess] = {}


def extraction_process(engine: str, budget: float) -> ExtractionProcess:
    """This worker's extraction process for (engine, budget), started on first use."""
    key = (engine, budget)
    if key not in _PROCESSES:
        _PROCESSES[key] = ExtractionProcess(engine, budget)
    return _PROCESSES[key]


@atexit.register
def _close_all() -> None:
    for proc in _PROCESSES.values():
        proc.close()
    _PROCESSES.clear()
