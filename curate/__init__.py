"""curate: turn raw web crawls into clean, deduplicated, per-language pretraining corpora."""

from __future__ import annotations

__version__ = "0.1.0"

from curate.blocks.base import Block, BlockContext, BlockOutput, Filter, GlobalStep  # noqa: E402
from curate.blocks.document_filter import document_filter  # noqa: E402

__all__ = ["Block", "BlockContext", "BlockOutput", "Filter", "GlobalStep", "document_filter", "__version__"]
