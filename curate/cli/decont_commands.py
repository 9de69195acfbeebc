"""``curate decont index`` and ``curate decont report``: build a decontamination index, read what a run found.

Wiring (``curate/cli/main.py``, inside ``build_parser``): ``register_decont_commands(sub)``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import yaml

from curate.decont.errors import DecontIndexError, EvalSetError
from curate.decont.index_builder import COMMON_TEXTS, DEFAULT_N, SAMPLE_DOCS, build_index
from curate.decont.index_files import load_common, read_manifest
from curate.decont.report import collect, format_report
from curate.decont.sample_docs import read_sample


def _sets(args: argparse.Namespace) -> list[Any]:
    sets: list[Any] = []
    for path in args.sets:
        extra = {k: v for k, v in (("name", args.name), ("lang", args.lang), ("fields", args.fields),
                                   ("splits", args.splits)) if v}
        sets.append({"path": path, **extra} if extra else path)
    if args.set_config:
        with open(args.set_config, encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh)
        entries = loaded.get("sets", loaded) if isinstance(loaded, dict) else loaded
        sets.extend(entries if isinstance(entries, list) else [entries])
    return sets


def _cmd_index(args: argparse.Namespace) -> int:
    sets = _sets(args)
    if not sets:
        print("curate: name the evaluation sets (paths, globs or folders), or --set-config FILE.yaml", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        sample = read_sample(args.sample, args.sample_max) if args.sample else None
        manifest, index = build_index(sets, args.out, n=args.n, workers=args.workers,
                                      common_texts=None if args.keep_common else args.common_texts,
                                      sample=sample, sample_docs=args.sample_docs)
    except (EvalSetError, DecontIndexError) as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    counts = manifest["counts"]
    print(f"index {args.out}: n = {manifest['n']}, {counts['texts']:,} evaluation texts, {counts['ngrams']:,} "
          f"distinct {manifest['n']}-grams, {counts['char_ngrams']:,} character n-grams; {seconds:.1f}s")
    for name, info in manifest["sets"].items():
        langs = ", ".join(f"{lang} {k}" for lang, k in info["langs"].items())
        short = f"; {info['short_items']} with no field of {manifest['n']} tokens" if info["short_items"] else ""
        print(f"  {name}: {info['items']:,} items ({langs}){short}")
    common = manifest["common"]
    print(f"common n-grams left out: {counts['common_left_out']} (in >= {common['common_texts']} evaluation texts: "
          f"{common['left_out_texts_rule']}; in >= {common['sample_docs']} of {common['sample_size']} sample "
          f"documents: {common['left_out_sample_rule']})")
    if counts["common_left_out"]:
        for row in index_common_rows(args.out)[: args.show_common]:
            print(f"  [{row['reason']}: {row['texts']} texts, {row['sample_docs']} docs] {row['ngram']}")
    return 0


def index_common_rows(path: str) -> list[dict[str, Any]]:
    return load_common(path, read_manifest(path)).to_pylist()


def _cmd_report(args: argparse.Namespace) -> int:
    try:
        data = collect(args.out_dir, examples=args.examples, index=args.index)
    except (EvalSetError, DecontIndexError, FileNotFoundError) as exc:
        print(f"curate: {exc.args[0] if isinstance(exc, FileNotFoundError) and exc.args else exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(data, indent=1, ensure_ascii=False))
    else:
        print(format_report(data, top=args.top))
    return 0


def register_decont_commands(sub: Any) -> None:
    decont = sub.add_parser("decont", help="benchmark decontamination: build an index, report what a run found")
    dsub = decont.add_subparsers(dest="decont_command", required=True)

    index = dsub.add_parser("index", help="build the exact n-gram index of evaluation sets (any fsspec --out)")
    index.add_argument("sets", nargs="*", help="evaluation sets: files, globs or folders (SQuAD JSON, JSONL, "
                       "Parquet, Arrow, Hugging Face style folders)")
    index.add_argument("--out", "-o", required=True, help="index folder or URL (s3://...)")
    index.add_argument("--n", type=int, default=DEFAULT_N, help=f"tokens per n-gram (default {DEFAULT_N})")
    index.add_argument("--name", help="set name for the given paths (default: from the file or folder name)")
    index.add_argument("--lang", help="language of the given paths (default: from file names, a lang field, or und)")
    index.add_argument("--fields", nargs="+", help="text fields of a row (default: every text field)")
    index.add_argument("--splits", nargs="+", help="splits of a Hugging Face style folder (default: all but train)")
    index.add_argument("--set-config", help="YAML list of sets ({path, name, lang, fields, id_field, lang_field, "
                       "splits}), as under decontaminate: sets:")
    index.add_argument("--workers", "-w", type=int, default=1, help="processes tokenising evaluation texts "
                       "(the index has the same bytes for any number)")
    index.add_argument("--common-texts", type=int, default=COMMON_TEXTS,
                       help=f"leave out n-grams found in this many evaluation texts or more (default {COMMON_TEXTS})")
    index.add_argument("--keep-common", action="store_true", help="keep every n-gram (no evaluation-text rule)")
    index.add_argument("--sample", nargs="+", help="corpus sample (Parquet/JSONL files, globs or a curate output "
                       "folder): n-grams found in too many of its documents are left out")
    index.add_argument("--sample-docs", type=int, default=SAMPLE_DOCS,
                       help=f"... found in this many sample documents or more (default {SAMPLE_DOCS})")
    index.add_argument("--sample-max", type=int, default=100_000, help="documents read from the sample, at most")
    index.add_argument("--show-common", type=int, default=10, help="common n-grams printed")
    index.set_defaults(func=_cmd_index)

    report = dsub.add_parser("report", help="evaluation items a run found, per set and language, with examples")
    report.add_argument("out_dir", metavar="OUT", help="output folder of a run with a decontaminate step")
    report.add_argument("--index", help="the run's index: list every item sharing a found passage")
    report.add_argument("--top", type=int, default=20, help="items listed")
    report.add_argument("--examples", type=int, default=3, help="example documents")
    report.add_argument("--json", action="store_true", help="print the figures as JSON")
    report.set_defaults(func=_cmd_report)
