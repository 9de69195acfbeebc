"""``curate.run``: compose an executor with the pipeline runner, the one place both meet."""

from __future__ import annotations

from curate.config.pipeline_config import PipelineConfig
from curate.executors.factory import make_executor
from curate.pipeline.executor import Executor
from curate.pipeline.run import RunResult, run_pipeline


def run(config: PipelineConfig, output: str | None = None, workers: int | None = None,
        executor: Executor | str | None = None, overwrite: bool = False) -> RunResult:
    """Run ``config`` into ``output`` (default: the file's ``output``).

    ``executor`` is an Executor the caller owns (left open), or ``"local"``/``"ray"``/None to build the one the
    file names (closed at the end); ``workers`` caps the tasks in flight.
    """
    if isinstance(executor, Executor):
        return run_pipeline(config, executor, output=output, overwrite=overwrite)
    built = make_executor(config, workers, executor)
    try:
        return run_pipeline(config, built, output=output, overwrite=overwrite)
    finally:
        built.close()
