"""``curate train-quality`` and ``curate calibrate-perplexity``: register them on the CLI's subparsers.

Wiring (``curate/cli/main.py``, inside ``build_parser``)::

    from curate.cli.quality_commands import register_quality_commands
    register_quality_commands(sub)

Each command sets ``func`` (``args -> exit code``); user errors (:class:`QualityError`) are printed
as ``curate: ...`` and return 1, so the commands work with or without the CLI's own error handling.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from curate.languages.labels import normalize_label
from curate.quality._settings import check_file
from curate.quality.calibrate_perplexity import format_cutoffs, perplexity_cutoffs
from curate.quality.errors import QualityError
from curate.quality.fasttext_training import train_quality_classifier
from curate.quality.perplexity_scorer import PerplexityScorer, language_tokenizer_spec
from curate.text.sources import iter_documents, read_documents


def _cmd_train_quality(args: argparse.Namespace) -> int:
    try:
        lang = normalize_label(args.lang)
        positive = read_documents(args.positive, args.text_field, lang, args.max_docs)
        negative = read_documents(args.negative, args.text_field, lang, args.max_docs)
        hyper: dict[str, Any] = {}
        for arg, name in (("epoch", "epoch"), ("lr", "lr"), ("dim", "dim"), ("word_ngrams", "wordNgrams"),
                          ("min_count", "minCount"), ("bucket", "bucket"), ("ws", "ws"), ("loss", "loss")):
            value = getattr(args, arg)
            if value is not None:
                hyper[name] = value
        result = train_quality_classifier(
            positive, negative, args.out, lang, seed=args.seed, valid_fraction=args.valid_fraction,
            label=args.label, negative_label=args.negative_label, segment=args.segment, threads=args.threads,
            **hyper,
        )
    except QualityError as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, sort_keys=True))
    else:
        print(result.format())
        print(f"metadata    {args.out}.json")
        print(f"\nuse it:\n- fasttext_quality:\n    models:\n      {lang}: {args.out}")
    return 0


def _cmd_calibrate_perplexity(args: argparse.Namespace) -> int:
    try:
        lang = normalize_label(args.lang)
        model = check_file(args.model, "--model", "KenLM model")
        sp = check_file(args.sentencepiece_model, "--sentencepiece-model", "SentencePiece model") \
            if args.sentencepiece_model else None
        tokenizer = language_tokenizer_spec(None, lang) if args.tokenizer == "auto" else args.tokenizer
        scorer = PerplexityScorer(model, tokenizer=tokenizer, sentencepiece_model=sp, per_line=not args.whole_document,
                                  strip_accents=not args.keep_accents, backend=args.backend)
        docs = iter_documents(args.reference, args.text_field, lang)
        if args.max_docs:
            docs = (d for i, d in zip(range(args.max_docs), docs, strict=False))
        result = perplexity_cutoffs(scorer, docs, args.percentiles)
    except QualityError as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 1
    settings: dict[str, str] = {}
    if sp:
        settings["sentencepiece_models"] = f"{{{lang}: {args.sentencepiece_model}}}"
    elif args.tokenizer != "auto":
        settings["tokenizer"] = args.tokenizer
    if args.whole_document:
        settings["per_line"] = "false"
    if args.keep_accents:
        settings["strip_accents"] = "false"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"lang": lang, "model": args.model, **result}, fh, indent=1)
    print(format_cutoffs(lang, result, args.model, settings))
    return 0


def register_quality_commands(subparsers: Any) -> None:
    """Add ``train-quality`` and ``calibrate-perplexity`` to an ``argparse`` subparsers object."""
    train = subparsers.add_parser(
        "train-quality", help="train a fastText quality classifier for one language (needs the full fastText build)",
        description="Train a fastText quality classifier (DCLM defaults) from positive and negative documents, "
                    "report held-out precision/recall/F1, write MODEL.bin and MODEL.bin.json. Files: plain text "
                    "(one document per line), JSONL or Parquet with a text field; .gz/.zst allowed.")
    train.add_argument("--positive", nargs="+", required=True, metavar="FILE", help="high-quality documents")
    train.add_argument("--negative", nargs="+", required=True, metavar="FILE", help="low-quality documents")
    train.add_argument("--lang", required=True, help="language key, e.g. swh_Latn (records with another `lang` "
                                                     "are skipped; picks the word segmentation)")
    train.add_argument("--out", required=True, metavar="MODEL.bin")
    train.add_argument("--seed", type=int, default=1, help="seed of the split and of fastText (default 1)")
    train.add_argument("--valid-fraction", type=float, default=0.1, help="held-out share of each class (0.1)")
    train.add_argument("--threads", type=int, default=1, help="fastText threads; >1 is faster but not reproducible")
    train.add_argument("--epoch", type=int, help="default 5 (DCLM); 25 for small data")
    train.add_argument("--lr", type=float, help="default 0.1 (DCLM)")
    train.add_argument("--dim", type=int, help="default 100")
    train.add_argument("--word-ngrams", type=int, help="default 2 (DCLM's bigram classifier)")
    train.add_argument("--min-count", type=int, help="default 1")
    train.add_argument("--bucket", type=int, help="hash buckets of the n-gram features (fastText default 2000000)")
    train.add_argument("--ws", type=int, help=argparse.SUPPRESS)
    train.add_argument("--loss", choices=["softmax", "ns", "hs", "ova"], help="default softmax")
    train.add_argument("--label", default="__label__hq", help="positive label (default __label__hq, as DCLM)")
    train.add_argument("--negative-label", default="__label__cc", help="negative label (default __label__cc)")
    train.add_argument("--text-field", default="text", help="JSONL field / Parquet column (default text)")
    train.add_argument("--segment", default="auto",
                       help="auto (segment languages written without spaces), none, or a tokenizer spec")
    train.add_argument("--max-docs", type=int, help="read at most this many documents per class")
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    train.set_defaults(func=_cmd_train_quality)

    cal = subparsers.add_parser(
        "calibrate-perplexity", help="per-language perplexity cut-offs (head/middle/tail) from reference documents",
        description="Score reference documents of one language with a KenLM model (CCNet normalisation) and "
                    "print the kenlm_perplexity cut-offs at the given percentiles (cc_net: 30 and 60).")
    cal.add_argument("--lang", required=True)
    cal.add_argument("--model", required=True, help="KenLM model (ARPA, ARPA.gz or binary)")
    cal.add_argument("--reference", nargs="+", required=True, metavar="FILE",
                     help="a sample of the crawl's documents in that language (text, JSONL or Parquet)")
    cal.add_argument("--sentencepiece-model", help="the SentencePiece model the KenLM model was trained with")
    cal.add_argument("--tokenizer", default="auto", help="auto (language table), none, or a tokenizer spec")
    cal.add_argument("--percentiles", type=float, nargs=2, default=[30.0, 60.0], metavar=("HEAD", "TAIL"))
    cal.add_argument("--whole-document", action="store_true",
                     help="score each document as one line (CCNet mine.py) instead of line by line")
    cal.add_argument("--keep-accents", action="store_true", help="do not strip accents (CCNet strips them)")
    cal.add_argument("--backend", choices=["auto", "kenlm", "python"], default="auto")
    cal.add_argument("--text-field", default="text")
    cal.add_argument("--max-docs", type=int)
    cal.add_argument("--out", help="also write the result as JSON here")
    cal.set_defaults(func=_cmd_calibrate_perplexity)
