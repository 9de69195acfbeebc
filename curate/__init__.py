"""curate: turn raw web crawls into clean, deduplicated, per-language pretraining corpora.

The public API, in five names (docs/ARCHITECTURE.md shows the layers behind them)::

    import curate
    config = curate.load_pipeline("pipelines/quickstart.yaml")   # a validated curate.Pipeline
    result = curate.run(config, output="out/")                    # local pool or Ray, as the file says

``curate.Filter`` and ``curate.document_filter`` write a custom filter step.

The names are resolved on first use (PEP 562): every ``import curate.<module>`` runs this file first, and the
processes that need one module only (the extraction process, a worker that runs one block) would otherwise load
the whole toolkit at start-up, about 0.5 s of CPU each (benchmarks/RESULTS.md, "extraction_overhead").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from curate.version import __version__

if TYPE_CHECKING:  # the names as type checkers and IDEs see them
    from curate.blocks.base import Block, BlockContext, BlockOutput, Filter, GlobalStep
    from curate.blocks.document_filter import document_filter
    from curate.config.pipeline_config import PipelineConfig, load_pipeline
    from curate.executors.entry import run
    from curate.interop.datatrove_block import DatatroveStep
    from curate.pipeline.run import RunResult

    Pipeline = PipelineConfig

_PUBLIC: dict[str, tuple[str, str]] = {  # name -> (module, attribute)
    "Block": ("curate.blocks.base", "Block"),
    "BlockContext": ("curate.blocks.base", "BlockContext"),
    "BlockOutput": ("curate.blocks.base", "BlockOutput"),
    "Filter": ("curate.blocks.base", "Filter"),
    "GlobalStep": ("curate.blocks.base", "GlobalStep"),
    "document_filter": ("curate.blocks.document_filter", "document_filter"),
    "PipelineConfig": ("curate.config.pipeline_config", "PipelineConfig"),
    "Pipeline": ("curate.config.pipeline_config", "PipelineConfig"),  # the validated pipeline file
    "load_pipeline": ("curate.config.pipeline_config", "load_pipeline"),
    "run": ("curate.executors.entry", "run"),
    "DatatroveStep": ("curate.interop.datatrove_block", "DatatroveStep"),  # imports datatrove only when built
    "RunResult": ("curate.pipeline.run", "RunResult"),
}

__all__ = [
    "Block", "BlockContext", "BlockOutput", "DatatroveStep", "Filter", "GlobalStep", "Pipeline", "RunResult",
    "document_filter", "load_pipeline", "run", "__version__",
]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'curate' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
