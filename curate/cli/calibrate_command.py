"""``curate calibrate``: register it on the CLI's subparsers.

Wiring (``curate/cli/main.py``, inside ``build_parser``)::

    from curate.cli.calibrate_command import register_calibrate_command
    register_calibrate_command(sub)

The command sets ``func`` (``args -> exit code``); bad input is printed as ``curate: ...`` and returns 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from curate.langid.calibrate import (
    CalibrationError,
    calibrate,
    format_report,
    format_yaml,
    iter_reference_documents,
)
from curate.langid.run_scores import RunScoresError, format_overrides, run_score_stats
from curate.languages.labels import normalize_label
from curate.languages.table import load_language_table


def _cmd_calibrate_langid(args: argparse.Namespace) -> int:
    if len(args.target) != 2:
        print("curate: usage: curate calibrate langid RUN_OUTPUT [--out FILE] [--min-documents N]", file=sys.stderr)
        return 2
    try:
        stats, files = run_score_stats(args.target[1], args.min_documents)
    except RunScoresError as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 1
    text = format_overrides(stats, args.target[1], files)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.out}: language_score for {len(stats)} languages")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    if args.target:
        if args.target[0] != "langid":
            print(f"curate: unknown calibrate target {args.target[0]!r}; `curate calibrate langid RUN_OUTPUT`, "
                  "or `curate calibrate --lang KEY --reference FILE`", file=sys.stderr)
            return 2
        return _cmd_calibrate_langid(args)
    if not args.lang or not args.reference:
        print("curate: calibrate needs --lang and --reference (or: curate calibrate langid RUN_OUTPUT)",
              file=sys.stderr)
        return 2
    try:
        lang = normalize_label(args.lang)
        docs = list(iter_reference_documents(args.reference, lang, args.text_field))
        if args.max_docs:
            docs = docs[: args.max_docs]
        english = list(iter_reference_documents(args.english_reference, "eng_Latn", args.text_field)) \
            if args.english_reference else None
        result = calibrate(lang, docs, tokenizer=args.tokenizer, english=english, method=args.method,
                           language_score=not args.no_language_score)
    except (CalibrationError, ValueError) as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 1
    report = format_report(result, args.tokenizer or load_language_table().get(lang).tokenizer)
    text = format_yaml(result, report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print("\n".join(report))
        print(f"\nwrote {args.out} (paste under `overrides:` of a pipeline file)")
    else:
        sys.stdout.write(text)
    return 0


def register_calibrate_command(subparsers: Any) -> None:
    """Add ``calibrate`` to an ``argparse`` subparsers object."""
    cal = subparsers.add_parser(
        "calibrate", help="derive per-language filter thresholds and stopwords from reference text; "
                          "`calibrate langid RUN_OUTPUT`: language_score thresholds from a run's scores",
        description="Compute the FineWeb2 filter metrics on reference documents of one language (e.g. Wikipedia) "
                    "and derive its thresholds relative to English (quantile matching, else scale transfer) and "
                    "its stopwords. Prints a YAML `{lang: {field: value}}` for the pipeline's `overrides:`. "
                    "Files: plain text (documents separated by blank lines), JSONL or Parquet with a text field; "
                    ".gz/.zst allowed.")
    cal.add_argument("target", nargs="*", metavar="langid RUN_OUTPUT",
                     help="`langid OUT`: FineWeb2's language_score rule on the lang_score values of run output OUT")
    cal.add_argument("--min-documents", type=int, default=30,
                     help="calibrate langid: fewest scored documents for a language to get a threshold (default 30)")
    cal.add_argument("--lang", help="language key, e.g. xxx_Latn (need not be in the table)")
    cal.add_argument("--reference", nargs="+", metavar="FILE", help="clean text of the language")
    cal.add_argument("--out", metavar="FILE", help="write the YAML here (the report goes to stdout)")
    cal.add_argument("--method", choices=["quantile"], default="quantile")
    cal.add_argument("--tokenizer", help="word tokenizer spec (default: the language table's)")
    cal.add_argument("--english-reference", nargs="+", metavar="FILE",
                     help="English text of the same kind, to measure the English anchor (default: built in)")
    cal.add_argument("--text-field", default="text", help="JSONL field / Parquet column (default text)")
    cal.add_argument("--max-docs", type=int, help="use at most this many reference documents")
    cal.add_argument("--no-language-score", action="store_true",
                     help="keep the table's language_score instead of deriving it with lid.176")
    cal.set_defaults(func=_cmd_calibrate)
