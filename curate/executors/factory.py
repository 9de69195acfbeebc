"""Build the executor a pipeline file (or the command line) asks for: a local process pool or Ray."""

from __future__ import annotations

from curate.config.pipeline_config import PipelineConfig
from curate.executors.local import LocalExecutor
from curate.executors.ray_executor import RayExecutor  # imports ray itself only when a Ray run starts
from curate.pipeline.executor import Executor


def make_executor(config: PipelineConfig, workers: int | None = None, executor: str | None = None) -> Executor:
    kind = executor or config.executor.type
    n = workers or config.executor.workers
    if kind == "ray":
        # the file's workers size a laptop run; on a cluster only the command line may cap the tasks in flight
        return RayExecutor(address=config.executor.address, retries=config.executor.retries, workers=workers,
                           local_cpus=n)
    return LocalExecutor(workers=n)


def build_executor(kind: str = "local", workers: int | None = None, address: str | None = None) -> Executor:
    """An executor for the commands that run after a pipeline (``curate tokenize``, ``curate export``):
    a local pool of ``workers`` processes, or Ray at ``address`` (None: a private local Ray)."""
    if kind == "ray":
        return RayExecutor(address=address, workers=workers, local_cpus=workers)
    return LocalExecutor(workers=workers)
