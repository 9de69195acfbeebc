"""Cut the step list into stages at global steps (the barriers of docs/ARCHITECTURE.md's data flow)."""

from __future__ import annotations

from dataclasses import dataclass

from curate.blocks.base import Block, GlobalStep


@dataclass
class Stage:
    """A run of blocks applied shard by shard. ``barrier`` is the global step that opens it
    (its ``prepare`` runs over all shards before the stage starts), or None for the first."""

    index: int
    blocks: list[tuple[int, Block]]  # (step index in the pipeline, block)
    barrier: tuple[int, GlobalStep] | None = None


def split_stages(blocks: list[Block]) -> list[Stage]:
    stages = [Stage(index=0, blocks=[])]
    for i, block in enumerate(blocks):
        if isinstance(block, GlobalStep):
            stages.append(Stage(index=len(stages), blocks=[(i, block)], barrier=(i, block)))
        else:
            stages[-1].blocks.append((i, block))
    return stages
