"""curate: turn raw web crawls into clean, deduplicated, per-language pretraining corpora.

The public API, in five names (docs/ARCHITECTURE.md shows the layers behind them)::

    import curate
    config = curate.load_pipeline("pipelines/quickstart.yaml")   # a validated curate.Pipeline
    result = curate.run(config, output="out/")                    # local pool or Ray, as the file says

``curate.Filter`` and ``curate.document_filter`` write a custom filter step.
"""

from __future__ import annotations

from curate.blocks.base import Block, BlockContext, BlockOutput, Filter, GlobalStep
from curate.blocks.document_filter import document_filter
from curate.config.pipeline_config import PipelineConfig, load_pipeline
from curate.executors.entry import run
from curate.interop.datatrove_block import DatatroveStep  # imports datatrove only when a step is built
from curate.pipeline.run import RunResult
from curate.version import __version__

Pipeline = PipelineConfig  # the validated pipeline file: steps, input, output, executor

__all__ = [
    "Block", "BlockContext", "BlockOutput", "DatatroveStep", "Filter", "GlobalStep", "Pipeline", "RunResult",
    "document_filter", "load_pipeline", "run", "__version__",
]

