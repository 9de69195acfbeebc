"""Local executor: a process pool, one task per item, with a progress bar.

Workers are spawned (not forked): Arrow and Polars keep thread pools that do not survive a
fork. They end when this process ends, however it ends (:mod:`curate.process_guard`). With ``workers=1`` tasks run in this process, which is what tests and debuggers want.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from curate.executors.progress import Progress
from curate.pipeline.executor import Executor
from curate.process_guard import die_with_parent
from curate.storage.s3_waits import install_session


def _start_worker(parent_pid: int) -> None:
    """Every pool worker: ends with the driver; object-store requests with bounded waits (the HTTP session
    class cannot travel in the environment, the timeouts and retries do)."""
    die_with_parent(parent_pid)
    install_session()


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, workers: int | None = None, progress: bool = True) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # workers end with this process, even when it is killed (SIGKILL leaves no orphans)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(os.getpid(),))
        return self._pool

    def map(self, fn: Callable[[Any], Any], items: list[Any], desc: str = "") -> list[Any]:
        bar = Progress(len(items), desc, enabled=self.progress)
        try:
            if self.workers == 1 or len(items) <= 1:
                results = []
                for item in items:
                    results.append(fn(item))
                    bar.update(results[-1])
                return results
            pool = self._get_pool()
            futures: dict[Future[Any], int] = {pool.submit(fn, item): i for i, item in enumerate(items)}
            results_by_index: dict[int, Any] = {}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    results_by_index[futures[fut]] = fut.result()  # re-raises a task's exception here
                    bar.update(results_by_index[futures[fut]])
            return [results_by_index[i] for i in range(len(items))]
        except BaseException:
            self.close(cancel=True)
            raise
        finally:
            bar.close()

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            # wait even when cancelling: a worker still writing must finish before partial files are swept
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None
