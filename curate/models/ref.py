"""A model a block names in its settings: the setting, the path or URL, its optional sha256 pin.

Blocks list theirs in :meth:`curate.blocks.base.Block.model_refs`, so that ``curate models fetch --pipeline
PIPELINE.yaml`` fills the cache with every model URL of a pipeline without knowing any block's settings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelRef:
    """``setting`` names where it comes from (``kenlm_perplexity.models.eng_Latn``); ``optional``: a file
    that may legitimately not exist at its URL (a fastText quality model's sidecar), skipped when absent, with
    ``if_absent`` saying what that means for the run."""

    setting: str
    spec: str
    sha256: str | None = None
    optional: bool = False
    if_absent: str = ""
