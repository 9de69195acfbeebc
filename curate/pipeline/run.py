"""Run a validated pipeline: stages shard-parallel on an executor, global steps at barriers,
completion markers for resume, and the merged statistics at the end."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import fsspec

from curate.blocks.base import GlobalJob, GlobalStep
from curate.config.pipeline_config import PipelineConfig
from curate.config.pipeline_record import pipeline_yaml
from curate.config.yaml_source import PipelineConfigError
from curate.io.input_files import READERS, Shard, SkippedInput, expand_paths, skipped_summary
from curate.io.partition_dir import partition_dir
from curate.langid.language_scores import language_overrides
from curate.pipeline.error_budget import check_error_budget
from curate.pipeline.executor import Executor
from curate.pipeline.output_lock import LOCK_FILE, OutputLock
from curate.pipeline.preflight import preflight
from curate.pipeline.run_state import (
    check_output_target,
    claim_output,
    config_hash,
    input_changes,
    previous_shards,
    record_inputs,
    remove_partial_files,
    remove_stale_outputs,
)
from curate.pipeline.shard_task import ShardTask, languages_for, read_marker, run_shard_task, write_marker
from curate.pipeline.stage_markers import StageMarkers
from curate.pipeline.stages import Stage, split_stages
from curate.stats.html_report import write_html_report
from curate.stats.run_stats import merge_run_stats, merge_stage_results, split_timing, write_run_stats
from curate.storage.atomic import write_text_atomic
from curate.storage.failures import is_unavailable, storage_failure
from curate.storage.options import apply_storage_options


@dataclass
class RunResult:
    out_dir: str
    config_hash: str
    stats: dict[str, Any]
    skipped_tasks: int
    ran_tasks: int
    seconds: float
    input_changes: dict[str, Any] = field(default_factory=dict)  # vs the previous run: added, changed, ...


def input_shards(config: PipelineConfig, check_exists: bool = True,
                 skipped: list[SkippedInput] | None = None) -> list[Shard]:
    return expand_paths(list(config.input.paths), config.input.format, check_exists=check_exists, skipped=skipped)


def check_options_used(config: PipelineConfig, shards: list[Shard]) -> None:
    """Every ``input.options`` key is a setting of a reader these inputs use (with ``format: auto`` the file
    check allows the settings of any reader a folder may hold; now the files are known)."""
    formats = sorted({s.format for s in shards})
    taken = {k for fmt in formats for k in READERS[fmt].settings()}
    for key in config.input.options:
        if key not in taken:
            allowed = ", ".join(sorted(taken)) or "(no settings)"
            raise PipelineConfigError(f"{config.source_path}: input.options.{key}: no input file is read by a reader "
                                      f"with this setting (the inputs are {', '.join(formats)}); remove it, or set "
                                      f"input.format; settings of these readers: {allowed}")


def run_pipeline(config: PipelineConfig, executor: Executor, output: str | None = None,
                 overwrite: bool = False) -> RunResult:
    """Run ``config`` on ``executor`` (the caller's, left open: ``curate.run`` builds and closes one)."""
    apply_storage_options(config.storage)  # before any filesystem is opened, here and in the workers
    out_dir = _absolute((output or config.output).rstrip("/"))
    blocks = [s.build() for s in config.steps]
    try:
        not_read: list[SkippedInput] = []  # what input folders hold that is not read: said in stats and report
        shards = input_shards(config, skipped=not_read)
        check_options_used(config, shards)
        # before anything is written (the preflight's probe too): never write into (nor, with --overwrite,
        # delete) a folder curate did not write
        check_output_target(out_dir, overwrite, ignore=(LOCK_FILE,))
        # before anything is written, the lock included: every node sees OUT and finds what each block needs
        # (Block.preflight: models, data files, packages; on the driver and on every node)
        preflight(out_dir, executor, blocks, config.executor.shared_filesystem)
        lock = OutputLock(out_dir).acquire()  # a second run into the same output stops here, naming this one
        try:
            result = _run_locked(config, out_dir, blocks, shards, not_read, executor, overwrite)
        except BaseException as exc:
            if isinstance(exc, Exception) and is_unavailable(storage_failure(exc, out_dir)):
                lock.abandon()  # releasing would wait on the store again; the next run takes the lock over
            else:
                lock.release()
            raise
        lock.release()
        return result
    except Exception as exc:  # a store that is down or frozen, a full disk: one line, what to do
        failure = storage_failure(exc, out_dir)
        if failure is None or failure is exc:
            raise
        raise failure from exc


def _run_locked(config: PipelineConfig, out_dir: str, blocks: list[Any], shards: list[Shard],
                not_read: list[SkippedInput], executor: Executor, overwrite: bool) -> RunResult:
    started = time.time()
    digest = config_hash(config.identity())
    claim_output(out_dir, digest, config.name, overwrite, keep=(LOCK_FILE,))
    remove_partial_files(out_dir)
    changes = input_changes(previous_shards(out_dir), shards)
    steps = config.steps
    names = [s.name for s in steps]
    stages = split_stages(blocks)
    overrides = language_overrides(blocks, config.overrides)  # + the language_score set of the langid model
    markers = StageMarkers(f"{out_dir}/_markers/{digest}", shards)
    ran = skipped = 0
    global_stats: dict[str, Any] = {}
    stage_results: list[list[dict[str, Any]]] = []
    stage_inputs: dict[int, dict[str, str | None]] = {}  # what each stage read, for the global steps' finish
    try:
        next_inputs: dict[str, str | None] = {s.shard_id: None for s in shards}
        # a finished final stage needs nothing of the stages before it but their markers' counts
        finished = markers.complete(len(stages) - 1)
        for stage in stages:
            stage_inputs[stage.index] = next_inputs
            final = stage.index == len(stages) - 1
            # completion markers, read once: they decide both the barrier skip and the tasks to run
            results = markers.done(stage.index, check_next_input=not (final or finished))
            skipped += len(results)
            if stage.barrier is not None:
                previous = merge_stage_results(stage_results[-1]) if stage_results else {}
                if stage_results and all("next_rows" in r for r in stage_results[-1]):
                    # rows each shard passes to the barrier: sizing without reading every footer
                    previous["shard_rows"] = [int(r["next_rows"]) for r in stage_results[-1]]
                global_stats.update(_prepare_barrier(stage, shards, next_inputs, out_dir, executor,
                                                     markers.barrier_dir, overrides,
                                                     skip=len(results) == len(shards), previous=previous,
                                                     earlier=dict(global_stats)))
            tasks = [
                ShardTask(
                    shard=shard, stage=stage.index, blocks=stage.blocks, step_names=names,
                    input_path=next_inputs[shard.shard_id], reader_settings=config.input.model_dump(),
                    out_dir=out_dir, final=final, marker=markers.path(stage.index, shard.shard_id),
                    overrides=overrides, writer=config.writer.model_dump(),
                )
                for shard in shards if shard.shard_id not in results
            ]
            for result in executor.map(run_shard_task, tasks, desc=f"stage {stage.index}"):
                results[result["shard"]] = result
                ran += 1
            ordered = [results[s.shard_id] for s in shards]
            check_error_budget(ordered, names, config.max_error_rate, config.min_errors)
            stage_results.append(ordered)
            next_inputs = {r["shard"]: r.get("next_input", "") for r in ordered}
        _finish_global_steps(stages, shards, stage_inputs, stage_results, out_dir, executor, overrides, global_stats)
    except BaseException as exc:
        executor.close()
        # a killed run never leaves half-written files behind; on a store that is gone the next run removes them
        if not (isinstance(exc, Exception) and is_unavailable(storage_failure(exc, out_dir))):
            remove_partial_files(out_dir)
        raise
    finally:
        for stage in stages:
            if stage.barrier is not None:
                stage.barrier[1].close()
    global_stats, global_timing = split_timing(global_stats, "global")
    stats = merge_run_stats(config, digest, shards, stages, names, stage_results, global_stats)
    if not_read:
        stats["inputs_skipped"] = skipped_summary(not_read)
    swept = remove_stale_outputs(out_dir, stage_results)
    markers.prune(len(stages))
    timing = {"seconds": round(time.time() - started, 3), "ran_tasks": ran, "skipped_tasks": skipped,
              "inputs": {**changes, "stale_files_removed": swept},
              "shard_seconds": {f"stage{i}": {r["shard"]: r.get("seconds") for r in results}
                                for i, results in enumerate(stage_results)}, **global_timing}
    write_run_stats(out_dir, stats, timing=timing)
    write_text_atomic(f"{out_dir}/_stats/pipeline.yaml", pipeline_yaml(config))  # for the dataset card
    record_inputs(out_dir, shards)
    write_html_report(out_dir, stats)
    _remove_intermediate(out_dir)
    return RunResult(out_dir, digest, stats, skipped, ran, time.time() - started, changes)


def _job(step: GlobalStep, step_index: int, shards: list[Shard], inputs: dict[str, str | None], out_dir: str,
         executor: Executor, overrides: dict[str, Any], **fields: Any) -> GlobalJob:
    job = GlobalJob(
        shards=[(s.shard_id, inputs[s.shard_id] or "") for s in shards],
        workdir=f"{out_dir}/_work/{step.name}-{step_index}",
        # one name per phase (task names and progress lines): "minhash:shard_keys_task"
        map=lambda fn, items: executor.map(fn, items, desc=f"{step.name}:{getattr(fn, '__name__', 'task')}"),
        out_dir=out_dir, **fields,
    )
    job.languages = languages_for(overrides)
    return job


def _finish_global_steps(stages: list[Stage], shards: list[Shard], stage_inputs: dict[int, dict[str, str | None]],
                         stage_results: list[list[dict[str, Any]]], out_dir: str, executor: Executor,
                         overrides: dict[str, Any], global_stats: dict[str, Any]) -> None:
    """Every stage done: each global step that has a ``finish`` gets the files of the rows its stage kept."""
    final = len(stages) - 1
    for stage in stages:
        if stage.barrier is None or type(stage.barrier[1]).finish is GlobalStep.finish:
            continue
        step_index, step = stage.barrier
        outputs = []
        for shard, result in zip(shards, stage_results[stage.index], strict=True):
            if stage.index == final:
                files = [f"{out_dir}/{partition_dir(lang)}/part-{shard.name}.parquet"
                         for lang in sorted(result.get("output", {}))]
            else:
                files = [result["next_input"]] if result.get("next_input") else []
            outputs.append((shard.shard_id, files))
        step.finish(_job(step, step_index, shards, stage_inputs[stage.index], out_dir, executor, overrides,
                         earlier=dict(global_stats), outputs=outputs))


def _prepare_barrier(stage: Stage, shards: list[Shard], inputs: dict[str, str | None], out_dir: str,
                     executor: Executor, marker_dir: str, overrides: dict[str, Any], skip: bool,
                     previous: dict[str, Any], earlier: dict[str, Any]) -> dict[str, Any]:
    """Run a global step's ``prepare``; when the stage after it is complete, only reload its stats."""
    assert stage.barrier is not None
    step_index, step = stage.barrier
    marker = f"{marker_dir}/global-{step_index}.json"
    if skip:
        return {f"{step_index}:{step.name}": read_marker(marker) or {}}
    job = _job(step, step_index, shards, inputs, out_dir, executor, overrides, previous_stage=previous,
               earlier=earlier)
    step.prepare(job)  # resumable by itself: it skips the phases its workdir marks as done
    previous = read_marker(marker)
    stats = write_marker(marker, job.stats or (previous or {}))  # as a rerun reads it back: same stats.json
    return {f"{step_index}:{step.name}": stats}


def _absolute(path: str) -> str:
    """Workers (Ray's especially) may run in another folder: local outputs are made absolute."""
    if "://" in path:
        return path
    return os.path.abspath(path)


def _remove_intermediate(out_dir: str) -> None:
    fs, root = fsspec.core.url_to_fs(out_dir)
    if fs.exists(f"{root}/_work"):
        fs.rm(f"{root}/_work", recursive=True)

