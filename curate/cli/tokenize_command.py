"""``curate tokenize OUT --tokenizer tokenizer.json --format megatron|datatrove|numpy --out DEST``.

Wiring (``curate/cli/main.py``, inside ``build_parser``): ``register_tokenize_command(sub)``.
"""

from __future__ import annotations

import argparse
from typing import Any

from curate.executors.factory import build_executor
from curate.training.formats import FORMATS
from curate.training.tokenize_run import TokenizeSettings, tokenize_corpus
from curate.training.tokenizer_file import TokenizerRef


def _human(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def _cmd_tokenize(args: argparse.Namespace) -> int:
    settings = TokenizeSettings(
        tokenizer=TokenizerRef(args.tokenizer, args.tokenizer_sha256), format=args.format, seq_len=args.seq_len,
        seed=args.seed, mixture=args.mixture, shard_tokens=args.shard_tokens, task_bytes=args.task_bytes,
        eos=args.eos, bos=args.bos, long_documents=args.long_documents,
    )
    executor = build_executor(args.executor, args.workers, args.address)
    try:
        result = tokenize_corpus(args.corpus, args.out, settings, executor, overwrite=args.overwrite)
    finally:
        executor.close()
    print(format_summary(result.manifest))
    for note in result.notes:
        print(f"note: {note}")
    done = "resumed: " if result.skipped_tasks else ""
    print(f"\n{done}{result.ran_tasks} tasks run, {result.skipped_tasks} already done; {result.seconds:.1f}s; "
          f"shards and manifest.json in {result.dest}")
    return 0


def format_summary(manifest: dict[str, Any]) -> str:
    """Per language: tokens in the corpus, after weights, the target, what was written; long documents."""
    lines = [f"{'lang':<10} {'docs':>8} {'tokens':>9} {'weighted':>9} {'target':>9} {'written':>9} "
             f"{'docs out':>9}  plan"]
    long_docs = 0
    for lang, e in manifest["languages"].items():
        target = _human(int(e["target"])) if e.get("target") is not None else "-"
        if e["documents_in"] is None:  # left out by the mixture: never read
            lines.append(f"{lang:<10} {'-':>8} {'-':>9} {'-':>9} {'-':>9} {0:>9} {0:>9}  dropped")
            continue
        lines.append(f"{lang:<10} {e['documents_in']:>8} {_human(e['tokens_in']):>9} "
                     f"{_human(e['weighted_tokens']):>9} {target:>9} {_human(e['tokens_out']):>9} "
                     f"{e['documents_out']:>9}  {e['mode']}")
        long_docs += int(e.get("longer_than_seq_len") or 0)
    t = manifest["totals"]
    lines.append(f"\n{_human(t['tokens'])} tokens, {t['documents']} documents in {t['shards']} {manifest['format']} "
                 f"shard(s) ({manifest['dtype']} tokens, seed {manifest['seed']})")
    if long_docs:
        how = ("split into pieces of at most --seq-len tokens" if manifest["long_documents"] == "split" else
               "kept whole (Megatron's and datatrove's loaders cut windows of seq-len + 1 tokens across documents; "
               "--long-documents split cuts them here)")
        lines.append(f"{long_docs} corpus document(s) are longer than --seq-len {manifest['seq_len']} tokens: {how}")
    return "\n".join(lines)


def register_tokenize_command(sub: Any) -> None:
    cmd = sub.add_parser("tokenize", help="token shards of a finished run (Megatron, datatrove or numpy), with a "
                                          "per-language token mixture and the rehydration weights applied")
    cmd.add_argument("corpus", metavar="OUT", help="output folder or URL of a finished `curate run`")
    cmd.add_argument("--tokenizer", required=True, help="Hugging Face tokenizer.json: local path or URL (model cache)")
    cmd.add_argument("--tokenizer-sha256", help="pin of the tokenizer file (refused if its sha256 differs)")
    cmd.add_argument("--format", required=True, choices=sorted(FORMATS))
    cmd.add_argument("--out", required=True, help="destination folder or URL (s3://...) of the shards")
    cmd.add_argument("--mixture", help="mix.yaml: tokens per language (targets / share); default: every language, "
                                       "each document repeated by its rehydration weight")
    cmd.add_argument("--seq-len", type=int, default=4096, help="training sequence length (default 4096): recorded "
                                                              "in the manifest; longer documents are counted")
    cmd.add_argument("--long-documents", choices=["keep", "split"], default="keep",
                     help="documents longer than --seq-len: keep whole (default, as Megatron and datatrove) or "
                          "split into pieces of --seq-len tokens")
    cmd.add_argument("--seed", type=int, default=0, help="seed of the shuffle and of the mixture's sampling")
    cmd.add_argument("--shard-tokens", type=int, default=100_000_000, help="tokens per shard, about (default 1e8)")
    cmd.add_argument("--task-bytes", type=int, default=256 * 2**20,
                     help="corpus Parquet bytes per encode task (default 256 MiB; also bounds a task's memory)")
    cmd.add_argument("--eos", help="end-of-document token (default: the tokenizer's <|endoftext|>, </s>, ...)")
    cmd.add_argument("--bos", help="a begin-of-document token to put before every document")
    cmd.add_argument("--workers", "-w", type=int, help="parallel tasks (default: CPUs)")
    cmd.add_argument("--executor", choices=["local", "ray"], default="local")
    cmd.add_argument("--address", help="Ray cluster address (with --executor ray; default: a private local Ray)")
    cmd.add_argument("--overwrite", action="store_true", help="delete DEST's shards first and start over")
    cmd.set_defaults(func=_cmd_tokenize)
