"""curate: turn raw web crawls into clean, deduplicated, per-language pretraining corpora."""

from __future__ import annotations

__version__ = "0.1.0"

from curate.blocks.base import Block, BlockContext, BlockOutput, Filter, GlobalStep  # noqa: E402
from curate.blocks.document_filter import document_filter  # noqa: E402

__all__ = [
    "Block", "BlockContext", "BlockOutput", "DatatroveStep", "Filter", "GlobalStep", "document_filter", "__version__",
]


def __getattr__(name: str) -> object:
    # optional integrations are imported on first use, so `import curate` stays light
    if name == "DatatroveStep":
        from curate.interop.datatrove_block import DatatroveStep

        return DatatroveStep
    raise AttributeError(f"module 'curate' has no attribute {name!r}")
