"""Tokens/s per core of ``curate tokenize`` against datatrove's ``DocumentTokenizer``, same documents, same
tokenizer, same run (issue 25).

    .venv/bin/python benchmarks/tokenize_throughput.py [--repeats 3] [--sentences-per-doc 20]

Documents: the lingua sentences (../shared/data/langid, 75 languages) with an odd line number, joined 20 at a time
per language, run through curate (JSONL -> langid) into a finished output folder. Tokenizer: a 32k byte-level BPE
trained with Hugging Face ``tokenizers`` on the *even* sentences (so the documents it encodes are not the ones it
was trained on). Both tools write datatrove's ``.ds`` files with one EOS per document and shuffle the documents
(datatrove: ``DocumentTokenizer`` with its defaults, its in-task shuffle; curate: the seeded global shuffle);
the script checks that both wrote the same documents (multiset of token sequences) before comparing.

Each side runs in its own subprocess, one core (curate ``workers=1``, datatrove ``LocalPipelineExecutor(tasks=1,
workers=1)``), interleaved, ``--repeats`` times; the figure is tokens written / CPU seconds (process + children) of
the run call, median over repeats. datatrove runs from curate's venv (its ``datatrove`` extra), so both use the same
``tokenizers`` build. datatrove is measured twice: with the environment as it comes (``tokenizers`` may start a
thread pool) and with ``TOKENIZERS_PARALLELISM=false`` (what curate's tasks set); the ratio is taken against
datatrove's better figure. A second table gives a corpus whose every document has ``weight`` 2: curate encodes each
document once and writes it twice, datatrove (which reads no weights) is given each document twice. Each run's CPU is
split into the tokenizer's batch-encoding calls and the rest (the same timing wrapper around the tokenizer object on
both sides), which bounds what curate can gain on a weight-1 corpus without a faster encoder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import WORK, RunInfo, figures_comment, md_table, median, require_shared, write_section  # noqa: E402

BENCH_WORK = WORK / "tokenize"
EOS = "<|endoftext|>"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class _EncodeClock:
    """A tokenizer stand-in that forwards everything and adds the CPU time of its batch-encoding calls to
    ``spent``: the same clock on both sides splits each run's CPU into the encoder (Hugging Face ``tokenizers``,
    which both tools call) and everything else (reading, framing, writing, shuffling, bookkeeping)."""

    spent = 0.0

    def __init__(self, tok: object) -> None:
        object.__setattr__(self, "_tok", tok)

    def __getattr__(self, name: str) -> object:
        attr = getattr(self._tok, name)
        if not name.startswith("encode_batch"):
            return attr

        def timed(*args: object, **kwargs: object) -> object:
            start = time.process_time()  # the whole process: encoder threads included
            try:
                return attr(*args, **kwargs)
            finally:
                _EncodeClock.spent += time.process_time() - start
        return timed

    def __setattr__(self, name: str, value: object) -> None:  # datatrove sets its post-processor
        setattr(self._tok, name, value)


def _sentences() -> list[dict]:
    path = require_shared("langid", "lingua_sentences.jsonl")
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def prepare(sentences_per_doc: int) -> tuple[Path, Path, Path]:
    """(tokenizer.json, the finished curate output, the same output with every weight 2), cached in _work."""
    BENCH_WORK.mkdir(parents=True, exist_ok=True)
    tok_path, out, doubled = BENCH_WORK / "bpe32k.json", BENCH_WORK / f"corpus-{sentences_per_doc}", \
        BENCH_WORK / f"corpus-{sentences_per_doc}-w2"
    rows = _sentences()
    if not tok_path.exists():
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.train_from_iterator([r["text"] for r in rows[0::2]], trainers.BpeTrainer(
            vocab_size=32_000, special_tokens=[EOS], show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
        tok.save(str(tok_path))
    if not (out / "_stats" / "stats.json").exists():
        by_lang: dict[str, list[str]] = {}
        for r in rows[1::2]:
            by_lang.setdefault(r["iso639_1"], []).append(r["text"])
        docs = BENCH_WORK / "docs.jsonl"
        with open(docs, "w", encoding="utf-8") as handle:
            for lang, texts in sorted(by_lang.items()):
                for i in range(0, len(texts), sentences_per_doc):
                    handle.write(json.dumps({"id": f"{lang}-{i}", "text": " ".join(texts[i:i + sentences_per_doc])})
                                 + "\n")
        from curate import run
        from curate.config.pipeline_config import parse_pipeline

        run(parse_pipeline(json.dumps({"name": "tokenize-bench", "input": {"paths": [str(docs)]},
                                       "output": str(out), "pipeline": [{"langid": {}}]})),
            workers=1, overwrite=True)
    if not (doubled / "_stats" / "stats.json").exists():
        import pyarrow as pa
        import pyarrow.parquet as pq

        shutil.rmtree(doubled, ignore_errors=True)
        shutil.copytree(out, doubled)
        for part in doubled.glob("[a-z]*/*.parquet"):
            table = pq.read_table(part)
            pq.write_table(table.append_column("weight", pa.array([2] * table.num_rows, pa.int64())), part)
    return tok_path, out, doubled


def _documents(folder: Path) -> tuple[int, str]:
    """(tokens, digest of the sorted multiset of documents) of the .ds files under ``folder``."""
    import numpy as np

    digests, tokens = [], 0
    for ds in sorted(folder.rglob("*.ds")):
        data = np.fromfile(ds, dtype="<u2")
        ends = np.fromfile(f"{ds}.index", dtype="<u8").astype(np.int64)
        starts = np.concatenate(([0], ends[:-1]))
        digests += [hashlib.sha1(data[s:e].tobytes()).hexdigest() for s, e in zip(starts, ends, strict=True)]
        tokens += int(data.size)
    return tokens, hashlib.sha256("".join(sorted(digests)).encode()).hexdigest()[:16]


def side_curate(corpus: Path, tokenizer: Path, dest: Path) -> dict:
    from curate.executors.local import LocalExecutor
    from curate.training import tokenizer_file
    from curate.training.tokenize_run import TokenizeSettings, tokenize_corpus
    from curate.training.tokenizer_file import TokenizerRef

    load = tokenizer_file.TokenizerRef.load
    tokenizer_file.TokenizerRef.load = lambda self: _EncodeClock(load(self))  # type: ignore[method-assign]
    executor = LocalExecutor(workers=1, progress=False)
    cpu, wall = _cpu(), time.perf_counter()
    tokenize_corpus(str(corpus), str(dest), TokenizeSettings(TokenizerRef(str(tokenizer)), "datatrove"), executor)
    return {"cpu": _cpu() - cpu, "wall": time.perf_counter() - wall, "encode": _EncodeClock.spent}


def side_datatrove(corpus: Path, tokenizer: Path, dest: Path) -> dict:
    import logging

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.tokens import DocumentTokenizer
    from datatrove.utils import tokenization

    load = tokenization.load_tokenizer
    tokenization.load_tokenizer = lambda name: _EncodeClock(load(name))
    logging.disable(logging.WARNING)
    weighted = (corpus / "_weighted").exists()  # the doubled corpus: datatrove gets each document twice
    reader = ParquetReader(str(corpus), glob_pattern="[a-z]*/*.parquet", text_key="text", id_key="id")
    steps: list = [reader]
    if weighted:
        steps.append(lambda data, rank=0, world_size=1: (d for doc in data for d in (doc, doc)))
    steps.append(DocumentTokenizer(str(dest), tokenizer_name_or_path=str(tokenizer), eos_token=EOS, seed=0))
    executor = LocalPipelineExecutor(pipeline=steps, tasks=1, workers=1, logging_dir=str(dest) + "-logs")
    cpu, wall = _cpu(), time.perf_counter()
    executor.run()
    return {"cpu": _cpu() - cpu, "wall": time.perf_counter() - wall, "encode": _EncodeClock.spent}


def _run_side(side: str, corpus: Path, tokenizer: Path, dest: Path, env: dict[str, str]) -> dict:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.rmtree(str(dest) + "-logs", ignore_errors=True)
    proc = subprocess.run([sys.executable, __file__, "--side", side, str(corpus), str(tokenizer), str(dest)],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        sys.exit(f"{side} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["tokens"], result["documents"] = _documents(dest)
    return result


def measure(corpus: Path, tokenizer: Path, repeats: int, label: str) -> tuple[list[list[object]], dict]:
    base = {k: v for k, v in os.environ.items() if k != "TOKENIZERS_PARALLELISM"}
    sides = {"curate tokenize": ("curate", base), "datatrove DocumentTokenizer": ("datatrove", base),
             "datatrove DocumentTokenizer, TOKENIZERS_PARALLELISM=false":
                 ("datatrove", {**base, "TOKENIZERS_PARALLELISM": "false"})}
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, (side, env) in sides.items():
            runs[name].append(_run_side(side, corpus, tokenizer, BENCH_WORK / f"out-{side}", env))
    digests = {r["documents"] for rs in runs.values() for r in rs}
    if len(digests) != 1:
        sys.exit(f"{label}: the tools wrote different documents ({digests}); not comparable")
    rows, rates, split = [], {}, {}
    for name, rs in runs.items():
        tokens = rs[0]["tokens"]
        cpu, wall = median([r["cpu"] for r in rs]), median([r["wall"] for r in rs])
        encode, other = median([r["encode"] for r in rs]), median([r["cpu"] - r["encode"] for r in rs])
        rates[name] = tokens / cpu
        split[name] = (encode, other)
        rows.append([name, f"{tokens:,}", f"{cpu:.2f}", f"{encode:.2f}", f"{other:.2f}", f"{wall:.2f}",
                     f"{tokens / cpu / 1e3:,.0f}k"])
    best_name = max((k for k in rates if k.startswith("datatrove")), key=rates.__getitem__)
    best_dt = rates[best_name]
    ratio = rates["curate tokenize"] / best_dt
    for row in rows:
        row.append(f"{rates[row[0]] / best_dt:.2f}x")
    return rows, {"ratio": ratio, "curate_tokens_per_s": rates["curate tokenize"], "datatrove_tokens_per_s": best_dt,
                  "curate_split": split["curate tokenize"], "datatrove_split": split[best_name]}


def _ceiling(plain: dict) -> str:
    """Where the CPU goes, and the most curate could gain on a weight-1 corpus without a faster encoder."""
    (c_enc, c_other), (d_enc, d_other) = plain["curate_split"], plain["datatrove_split"]
    ceiling = (d_enc + d_other) / c_enc
    verdict = ("so the 1.5x goal is out of reach on a weight-1 corpus with the encoder both tools share; it is met "
               "where documents carry weights (each is encoded once, whatever its weight)" if ceiling < 1.5 else
               "so the 1.5x goal is within reach by cutting the rest of the run")
    return (f"Where the CPU goes (weight 1, medians): the encoder is {c_enc / (c_enc + c_other):.0%} of curate's CPU "
            f"and {d_enc / (d_enc + d_other):.0%} of datatrove's (best setting). curate's encoder calls take "
            f"{c_enc / d_enc:.2f}x the CPU of datatrove's for the same tokens (`encode_batch_fast` without character "
            "offsets or a post-processor, against `encode_batch` with both). With nothing but its encoder calls, "
            f"curate would reach {ceiling:.2f}x datatrove, {verdict}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sentences-per-doc", type=int, default=20)
    parser.add_argument("--side", nargs=4, metavar=("SIDE", "CORPUS", "TOKENIZER", "DEST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side, corpus, tokenizer, dest = args.side
        fn = side_curate if side == "curate" else side_datatrove
        print(json.dumps(fn(Path(corpus), Path(tokenizer), Path(dest))))
        return
    info = RunInfo(["tokenizers", "datatrove", "pyarrow", "numpy"])
    tokenizer, corpus, doubled = prepare(args.sentences_per_doc)
    (doubled / "_weighted").touch()
    headers = ["tool", "tokens written", "CPU s", "encoder CPU s", "other CPU s", "wall s", "tokens/s per core",
               "vs datatrove"]
    plain_rows, plain = measure(corpus, tokenizer, args.repeats, "weight 1")
    info.sample()
    weighted_rows, weighted = measure(doubled, tokenizer, args.repeats, "weight 2")
    text = "\n\n".join([
        "## Tokenisation + shard writing: curate tokenize vs datatrove DocumentTokenizer",
        f"`benchmarks/tokenize_throughput.py --repeats {args.repeats}`: {corpus.name} (lingua sentences with odd "
        f"line numbers, {args.sentences_per_doc} per document, 75 languages, langid by curate), a 32k byte-level "
        "BPE trained on the even lines, datatrove's .ds files from both tools (the same documents checked), one "
        "core each, median CPU time (process + children) of the run call over the repeats. Goal (issue 25): "
        ">= 1.5x.",
        "Every document weight 1 (pure tokenisation and writing):",
        md_table(headers, plain_rows),
        "Every document weight 2 (curate encodes once and writes twice; datatrove, which reads no weights, is "
        "given each document twice, as a rehydrated corpus would have to be materialised for it):",
        md_table(headers, weighted_rows),
        "What differs: curate reads only the `text`, `id`, `weight` and `source` columns as Arrow batches and "
        "encodes with `encode_batch_fast` (no character offsets), one thread per task; it writes the tokens of "
        "a batch with one numpy call and shuffles globally (two more passes over the token bytes: scatter by "
        "shard, gather); datatrove builds a `Document` per row, encodes with `encode_batch` (offsets), packs "
        "each document with `struct`, and shuffles inside its task by re-reading the file document by document. "
        "`encoder CPU s` is the CPU time (all threads) inside the tokenizer's batch-encoding calls, measured the "
        "same way on both sides (a timing wrapper around the tokenizer object each tool loads); `other` is the "
        "rest of the run: reading Parquet, framing and writing tokens, shuffling, manifests, imports done lazily "
        "during the run.",
        _ceiling(plain),
        info.line(),
        figures_comment({"tokenize_speedup": round(plain["ratio"], 2),
                         "tokenize_speedup_weight2": round(weighted["ratio"], 2),
                         "tokenize_tokens_per_s_core": round(plain["curate_tokens_per_s"])}),
    ])
    print(text)
    write_section("tokenize_throughput", text)


if __name__ == "__main__":
    main()
