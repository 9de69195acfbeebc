"""``curate plan``: what a pipeline would do — stages, blocks, settings, shards — without work."""

from __future__ import annotations

from curate.blocks.base import GlobalStep
from curate.config.pipeline_config import PipelineConfig
from curate.io.input_files import SkippedInput, describe_skipped
from curate.pipeline.run import input_shards
from curate.pipeline.run_state import config_hash
from curate.pipeline.stages import split_stages


def format_plan(config: PipelineConfig, output: str | None = None, max_shards: int = 10) -> str:
    lines = [f"pipeline {config.name} ({config.source_path})", f"config hash {config_hash(config.identity())}"]
    not_read: list[SkippedInput] = []
    try:
        shards = input_shards(config, skipped=not_read)
        note = ""
    except Exception as exc:  # noqa: BLE001 - any listing failure (no network, no credentials: botocore's
        # own exception classes) must not stop a plan: remote inputs are then shown as written
        shards = input_shards(config, check_exists=False)
        note = f"  (not listed: {exc})"
    lines.append(f"input: {len(shards)} shard(s), format {config.input.format}{note}")
    for shard in shards[:max_shards]:
        lines.append(f"  {shard.shard_id}  {shard.format:<8} {shard.path}")
    if len(shards) > max_shards:
        lines.append(f"  ... {len(shards) - max_shards} more")
    if not_read:
        lines.append(f"  not read: {describe_skipped(not_read)}")
    lines.append(f"output: {output or config.output}  (per language: <lang>/part-<shard>.parquet, "
                 f"removed rows in _removed/<lang>/, statistics in _stats/)")
    ex = config.executor
    lines.append(f"executor: {ex.type}" + (f", workers {ex.workers}" if ex.workers else "")
                 + (f", address {ex.address}" if ex.address else ""))
    blocks = [s.build() for s in config.steps]
    for stage in split_stages(blocks):
        kind = f"after barrier {stage.barrier[1].name}" if stage.barrier else "streaming from the input"
        lines.append(f"stage {stage.index} ({kind}, shard-parallel):")
        for index, block in stage.blocks:
            tag = "global" if isinstance(block, GlobalStep) else block.kind
            settings = ", ".join(f"{k}={v!r}" for k, v in block.describe().items())
            lines.append(f"  {index:>2}. {config.steps[index].name:<20} [{tag}] {settings}")
    if config.overrides:
        lines.append("language overrides:")
        for lang, values in sorted(config.overrides.items()):
            lines.append(f"  {lang}: " + ", ".join(f"{k}={v!r}" for k, v in values.items()))
    return "\n".join(lines)
