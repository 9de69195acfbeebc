"""The ``curate`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys

from curate.cli.calibrate_command import register_calibrate_command
from curate.cli.cluster_commands import register_cluster_commands
from curate.cli.decont_commands import register_decont_commands
from curate.cli.export_command import register_export_command
from curate.cli.index_command import corpus_hint, register_index_commands, report_index
from curate.cli.langs_command import run_langs
from curate.cli.models_commands import register_models_commands
from curate.cli.optout_command import register_optout_commands
from curate.cli.quality_commands import register_quality_commands
from curate.cli.tokenize_command import register_tokenize_command
from curate.config.pipeline_config import load_pipeline
from curate.config.yaml_source import PipelineConfigError
from curate.errors import CurateError
from curate.executors.entry import run
from curate.models.resolve import OFFLINE_ENV
from curate.pipeline.plan import format_plan
from curate.stats.html_report import write_html_report
from curate.stats.report_table import format_comparison, format_report
from curate.stats.run_record import read_run_stats


def _cmd_run(args: argparse.Namespace) -> int:
    config = load_pipeline(args.pipeline)
    result = run(config, output=args.output, workers=args.workers, executor=args.executor,
                 overwrite=args.overwrite)
    print(format_report(result.stats))
    changes = result.input_changes
    if changes.get("previous_run") and (changes["added"] or changes["changed"] or changes["removed"]):
        print(f"\ninput since the last run: {changes['added']} added, {changes['changed']} changed, "
              f"{changes['removed']} removed, {changes['unchanged']} unchanged file(s)")
    done = "resumed: " if result.skipped_tasks else ""
    print(f"\n{done}{result.ran_tasks} shard tasks run, {result.skipped_tasks} already done; "
          f"{result.seconds:.1f}s; output in {result.out_dir}")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:

    config = load_pipeline(args.pipeline)
    print(format_plan(config, output=args.output))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    if args.index:  # the whole corpus of a dedup index (issue 28), not one run
        if args.out_dirs:
            print("curate: report takes run folders or --index URL, not both", file=sys.stderr)
            return 2
        return report_index(args.index, langs=args.lang, as_json=args.json)
    if not args.out_dirs:
        print("curate: report needs a run folder (OUT_DIR) or --index URL", file=sys.stderr)
        return 2
    loaded = []
    for out_dir in args.out_dirs:
        try:
            loaded.append(read_run_stats(out_dir))
        except FileNotFoundError:
            print(f"curate: no statistics in {out_dir}/_stats/stats.json; is it the output of a finished run?",
                  file=sys.stderr)
            return 2
    if len(loaded) == 2:
        print(format_comparison(loaded[0], loaded[1], names=(args.out_dirs[0], args.out_dirs[1]), langs=args.lang))
        return 0
    stats = loaded[0]
    if args.json:
        print(json.dumps(stats["languages"], indent=1))
    else:
        print(format_report(stats, langs=args.lang, sort=args.sort))
        if hint := corpus_hint(stats):
            print(f"\n{hint}")
    if args.html:
        print(f"\nwrote {write_html_report(args.out_dirs[0], stats)}")
    return 0


def _cmd_langs(args: argparse.Namespace) -> int:

    return run_langs(args.code, script=args.script, name=args.name, tier=args.tier, model=args.model)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="curate", description="Web crawls -> per-language pretraining corpora.")
    parser.add_argument("--offline", action="store_true",
                        help=f"models from the local cache only, never the network (sets {OFFLINE_ENV}=1 for workers)")
    sub = parser.add_subparsers(dest="command", required=True)

    run_cmd = sub.add_parser("run", help="run a pipeline file")
    run_cmd.add_argument("pipeline")
    run_cmd.add_argument("--output", "-o", help="output folder or URL (default: the file's `output:`)")
    run_cmd.add_argument("--workers", "-w", type=int, help="parallel shard tasks (default: the file's, else CPUs)")
    run_cmd.add_argument("--executor", choices=["local", "ray"], help="override the file's executor.type")
    run_cmd.add_argument("--overwrite", action="store_true", help="delete the output folder first and start over (only a curate output, one with _run.json); "
                     "without it, a rerun resumes and processes only input files added or changed")
    run_cmd.set_defaults(func=_cmd_run)

    plan = sub.add_parser("plan", help="validate a pipeline and show stages, shards and settings; no work")
    plan.add_argument("pipeline")
    plan.add_argument("--output", "-o")
    plan.set_defaults(func=_cmd_plan)

    report = sub.add_parser("report", help="per-language table of a finished run; two folders: compare them")
    report.add_argument("out_dirs", nargs="*", metavar="OUT_DIR", help="one run, or two runs to compare")
    report.add_argument("--index", metavar="URL", help="instead: the whole corpus of a dedup index (every dump, "
                                                       "with what later dumps changed in earlier ones)")
    report.add_argument("--lang", action="append", help="only these languages (repeatable)")
    report.add_argument("--sort", default="in", choices=["in", "kept", "removed", "errored", "bytes", "words",
                                                         "lang", "kept_pct"])
    report.add_argument("--json", action="store_true", help="print the per-language summary as JSON")
    report.add_argument("--html", action="store_true", help="(re)write OUT/report.html from the statistics")
    report.set_defaults(func=_cmd_report)

    langs = sub.add_parser("langs", help="list languages, or show every setting of one")
    langs.add_argument("code", nargs="?")
    langs.add_argument("--script")
    langs.add_argument("--name")
    langs.add_argument("--tier", choices=["extreme-low", "low", "mid", "high"])
    langs.add_argument("--model", help="a fastText model (path, URL, or lid176): the keys it can emit and cannot reach")
    langs.set_defaults(func=_cmd_langs)

    register_cluster_commands(sub)  # submit, status, logs, stop (Ray Jobs API)
    register_quality_commands(sub)  # train-quality, calibrate-perplexity
    register_calibrate_command(sub)  # calibrate: thresholds for a new language from reference text
    register_models_commands(sub)  # models fetch|list|verify: the model cache
    register_tokenize_command(sub)  # tokenize: token shards of a finished run
    register_export_command(sub)  # export hf: a Hugging Face dataset folder of a finished run
    register_optout_commands(sub)  # optout build: robots.txt captures -> per-host opt-out table
    register_index_commands(sub)  # index show|drop|view|unlock: a persistent dedup index
    register_decont_commands(sub)  # decont index|report: benchmark decontamination (issue 26)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.offline:  # in the environment, so that local and Ray workers (which get CURATE_*) see it too
        os.environ[OFFLINE_ENV] = "1"
    try:
        return int(args.func(args) or 0)
    except PipelineConfigError as exc:
        print(f"curate: invalid pipeline: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `curate report OUT | head`
        return 0
    except KeyboardInterrupt:
        print("curate: interrupted; partial files were removed, rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            print(f"curate: {exc}", file=sys.stderr)
            return 1
        raise


def _user_errors() -> tuple[type[BaseException], ...]:
    return (CurateError,)


if __name__ == "__main__":
    sys.exit(main())
