"""A persistent extraction process per worker, held to a CPU-time budget per document.

The worker puts a batch of pages in a memory-mapped file it shares with the child (:mod:`page_buffer`) and sends
their offsets; the child extracts them one by one, writes before each which one it is on (:mod:`progress_slot`)
and answers the whole batch in one message (one read for the worker, not one per page).
Before each page the child arms a CPU-time interval timer (``ITIMER_PROF``: user + system CPU
of the process) with the budget, and leaves SIGPROF at its default action: the kernel ends the
child when one page overruns, C code included. The timer counts CPU seconds, not wall-clock
seconds, so a loaded machine times out the same pages as a quiet one. The worker then counts the page the child
was on as a ``timeout`` error, starts a fresh child and goes on with the rest of the batch (the pages whose
answers died with the child are extracted again). A child that crashes (a segfault in a parser) costs only its
page, the same way. There is no process round trip per page, only one per batch.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from curate.errors import CurateError
from curate.extract.engines import ENGINES, TAKES_BYTES, engine_function
from curate.extract.html_limits import limit_reason
from curate.extract.page_buffer import PageBuffer, PageReader
from curate.extract.progress_slot import NONE, ProgressSlot
from curate.process_guard import die_with_parent

try:
    import fcntl
except ImportError:  # Windows: no CPU limit there either (cpu_limit_available), pages run in the worker
    fcntl = None  # type: ignore[assignment]

TEXT, ERROR, REMOVAL = "text", "error", "removal"
Outcome = tuple[str, str]  # (TEXT, main text), (ERROR, message) or (REMOVAL, reason)


def _reset_trafilatura() -> None:
    from trafilatura.meta import reset_caches  # optional heavy dependency, imported by the engine anyway

    reset_caches()


# Engines that keep state across pages: trafilatura's ``deduplicate`` remembers text segments of
# earlier pages (an LRU per process). Reset at the start of every shard task, the output of a
# shard depends on that shard alone, not on which shards a worker happened to run before it.
ENGINE_RESETS: dict[str, Callable[[], None]] = {"trafilatura": _reset_trafilatura}


def _bytes_in(engine: Callable[[Any], str], takes_bytes: bool) -> Callable[[bytes], str]:
    """The engine called with the page's UTF-8 bytes: decoded here, in the process that extracts, for engines
    that take ``str`` (the bytes cross the pipe as they are: no encode in the worker, one decode here)."""
    if takes_bytes:
        return engine
    return lambda html: engine(html.decode("utf-8", errors="replace"))


class ScopedEngine:
    """An engine, called with a page's UTF-8 bytes, that starts from a clean state whenever the scope (one shard
    task) changes."""

    def __init__(self, engine: str, keep_threshold: float | None = None) -> None:
        self.engine = engine
        self.extract = _bytes_in(engine_function(engine, keep_threshold), engine in TAKES_BYTES)
        self.scope: object = None

    def enter(self, scope: object) -> None:
        if scope != self.scope:
            reset = ENGINE_RESETS.get(self.engine)
            if reset is not None and self.scope is not None:
                reset()
            self.scope = scope

    def outcome(self, html: bytes, max_depth: int | None) -> Outcome:
        """The page's text, its engine's error, or its removal for nesting over ``max_depth`` (checked here, in
        the process that parses the page, before it is parsed)."""
        reason = limit_reason(html, None, max_depth)
        if reason is not None:
            return REMOVAL, reason
        try:
            return TEXT, self.extract(html)
        except Exception as exc:  # any engine failure is this page's error
            return ERROR, f"{type(exc).__name__}: {exc}"[:300]


ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class ExtractionProcessError(CurateError, RuntimeError):
    """The extraction process could not be started (the message says why)."""


def cpu_limit_available() -> bool:
    """POSIX CPU-time timers (not on Windows, where pages run in the worker without a limit)."""
    return hasattr(signal, "ITIMER_PROF") and hasattr(signal, "SIGPROF")


PIPE_BYTES = 1 << 20


def _widen(fd: int) -> None:
    """A 1 MB pipe (Linux's default ceiling) instead of 64 KB: a batch of pages (tens of MB) then crosses in
    16 times fewer writes, reads and context switches."""
    if fcntl is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # above /proc/sys/fs/pipe-max-size: the default size works, only slower
            pass


class _Channel:
    """Pickled messages over a pair of pipes (the child is a plain ``python -m`` process, so it never
    re-imports the parent's ``__main__`` as ``multiprocessing``'s spawn does)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._in = os.fdopen(read_fd, "rb", buffering=PIPE_BYTES)
        self._out = os.fdopen(write_fd, "wb", buffering=PIPE_BYTES)

    def send(self, message: Any) -> None:
        pickle.dump(message, self._out, protocol=pickle.HIGHEST_PROTOCOL)
        self._out.flush()

    def recv(self) -> Any:
        try:
            return pickle.load(self._in)
        except (pickle.UnpicklingError, ValueError) as exc:  # cut off mid-message: the other side died
            raise EOFError(str(exc)) from exc

    def close(self) -> None:
        for handle in (self._out, self._in):
            try:
                handle.close()
            except OSError:
                pass


def _serve(channel: _Channel, pages: PageReader, progress: ProgressSlot, engine: str, budget: float,
           parent_pid: int, keep_threshold: float | None = None) -> None:
    """The child's loop: batches of (index, offset, length) into the shared pages in, the batch's list of
    (index, kind, text) out, one message per batch; ``progress`` holds the position in the batch of the page being
    extracted."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    signal.signal(signal.SIGPROF, signal.SIG_DFL)  # overrun: the kernel ends this process
    scoped = ScopedEngine(engine, keep_threshold)
    # engines import their library on first use: not the first page's CPU time
    scoped.extract(b"<html><body><p>warm up</p></body></html>")
    scoped.enter("warm-up")
    channel.send(("ready", os.getpid()))
    while True:
        try:
            message = channel.recv()
        except EOFError:
            return
        if message is None:
            return
        scope, size, max_depth, batch = message
        scoped.enter(scope)
        answers = []
        for position, (index, offset, length) in enumerate(batch):
            progress.value = position
            html = pages.page(offset, length, size)
            signal.setitimer(signal.ITIMER_PROF, budget)
            kind, text = scoped.outcome(html, max_depth)
            signal.setitimer(signal.ITIMER_PROF, 0)  # sending the answers is not the page's time
            answers.append((index, kind, text))
        channel.send(answers)


class ExtractionProcess:
    """One child process running ``engine`` (with its ``keep_threshold``) with ``budget`` CPU seconds per page."""

    def __init__(self, engine: str, budget: float, keep_threshold: float | None = None) -> None:
        if engine not in ENGINES:
            raise ExtractionProcessError(f"unknown extraction engine {engine!r}; allowed: {', '.join(ENGINES)}")
        self.engine = engine
        self.budget = budget
        self.keep_threshold = keep_threshold
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: _Channel | None = None
        self._pages: PageBuffer | None = None
        self._progress: ProgressSlot | None = None

    def _start(self) -> _Channel:
        if self._pages is None:
            self._pages = PageBuffer()
        if self._progress is None:
            self._progress = ProgressSlot()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        _widen(to_child_w)
        _widen(from_child_w)
        # the child finds curate (and user engines' modules) where this process does, and runs its numpy on one
        # thread: a page's matrices are too small to gain from BLAS threads, and with one extraction process per
        # worker, a BLAS thread per core in each would put workers x cores threads on the machine
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), **ONE_BLAS_THREAD}
        proc = subprocess.Popen(
            [sys.executable, "-m", __name__, self.engine, repr(self.budget), str(os.getpid()),
             str(to_child_r), str(from_child_w), str(self._pages.fd), str(self._progress.fd),
             repr(self.keep_threshold)],
            pass_fds=(to_child_r, from_child_w, self._pages.fd, self._progress.fd), stdin=subprocess.DEVNULL,
            env=env,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        channel = _Channel(from_child_r, to_child_w)
        try:
            channel.recv()  # "ready": the engine imported and warmed up
        except EOFError:
            channel.close()
            code = proc.wait()
            raise ExtractionProcessError(
                f"the {self.engine} extraction process exited at start (exit code {code}); "
                f"check that `python -c 'import curate.extract.engines'` works in this environment"
            ) from None
        self._proc, self._channel = proc, channel
        return channel

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the child now (it starts on first use otherwise)."""
        if self._channel is None:
            self._start()

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
        if self._channel is not None:
            self._channel.close()
        self._proc = self._channel = None

    def close(self) -> None:
        if self._channel is not None and self._proc is not None and self._proc.poll() is None:
            try:
                self._channel.send(None)
                self._proc.wait(timeout=5)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        self._stop()
        if self._pages is not None:
            self._pages.close()
            self._pages = None
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def run(self, items: list[tuple[int, bytes | memoryview]], scope: object,
            max_depth: int | None = None) -> dict[int, Outcome]:
        """Extract every (index, UTF-8 html); returns index -> :data:`Outcome`. ``scope`` names the shard task:
        the engine's state is reset when it changes. Pages nested over ``max_depth`` are removed unparsed."""
        results: dict[int, Outcome] = {}
        if self._pages is None:
            self._pages = PageBuffer()
        spans = self._pages.write([html for _, html in items])
        pending = [(index, offset, length) for (index, _), (offset, length) in zip(items, spans, strict=True)]
        while pending:
            channel = self._channel or self._start()
            assert self._progress is not None
            self._progress.value = NONE
            try:
                channel.send((scope, self._pages.size, max_depth, pending))
            except OSError:  # died between batches: start again
                self._stop()
                continue
            try:
                answers = channel.recv()
            except (EOFError, OSError):  # the child died: on the page it last started
                results[self._died_on(pending)] = (ERROR, self._death_message())
                self._stop()
                self.restarts += 1
            else:
                results.update((got, (kind, text)) for got, kind, text in answers)
            pending = [p for p in pending if p[0] not in results]
        self._pages.release_if_large()
        return results

    def _died_on(self, pending: list[tuple[int, int, int]]) -> int:
        """The index of the page the child died on: the one it last started, or the batch's first page when it
        died before starting one (no answer of the batch arrived: they come in one message)."""
        assert self._progress is not None
        position = self._progress.value
        return pending[position][0] if 0 <= position < len(pending) else pending[0][0]

    def _death_message(self) -> str:
        assert self._proc is not None
        code = self._proc.wait()
        if code == -signal.SIGPROF:
            return (f"timeout: extraction used over {self.budget:g}s of CPU time "
                    f"(raise extract.timeout to allow more)")
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        return f"crash: the {self.engine} extraction process died ({how}) on this page"


_PROCESSES: dict[tuple[str, float, float | None], ExtractionProcess] = {}


def extraction_process(engine: str, budget: float, keep_threshold: float | None = None) -> ExtractionProcess:
    """This worker's extraction process for (engine, budget, keep_threshold), started on first use."""
    key = (engine, budget, keep_threshold)
    if key not in _PROCESSES:
        _PROCESSES[key] = ExtractionProcess(engine, budget, keep_threshold)
    return _PROCESSES[key]


@atexit.register
def _close_all() -> None:
    for proc in _PROCESSES.values():
        proc.close()
    _PROCESSES.clear()


if __name__ == "__main__":  # the child: python -m curate.extract.extraction_process ENGINE BUDGET PARENT IN OUT
    # PAGES PROGRESS KEEP_THRESHOLD
    _engine, _budget, _parent, _in, _out, _pages, _progress, _threshold = sys.argv[1:9]
    _serve(_Channel(int(_in), int(_out)), PageReader(int(_pages)), ProgressSlot(int(_progress)), _engine,
           float(_budget), int(_parent), None if _threshold == "None" else float(_threshold))
