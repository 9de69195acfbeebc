"""``curate tokenize``: a finished run's corpus -> token shards, on any executor, resumable.

Passes (each a list of tasks on the executor, each task leaving a marker under ``DEST/_markers/<hash>/``):

1. encode (:mod:`curate.training.encode_task`): groups of corpus files -> token files + document tables;
2. plan (:mod:`curate.training.mixture_plan`): per-language copies from the mixture and the weights;
3. scatter (:mod:`curate.training.scatter_task`): each group's copies laid out by destination shard;
4. gather (:mod:`curate.training.gather_task`): each shard merged, ordered and written in the format.

Then ``DEST/manifest.json`` (:mod:`curate.training.manifest`) and the token counts in ``OUT/_stats``. The
number of shards follows from the tokens after the mixture and ``shard_tokens``; the groups from the files
and ``task_bytes``: neither depends on the workers, so any executor writes the same bytes. A killed run
leaves temporary files (removed on the rerun) and markers of what finished (skipped on the rerun), so
rerunning the same command finishes the job with the bytes an uninterrupted run writes. Object-store
requests: one read and one write per group and pass, plus one ranged read per (group, shard) pair in
pass 4, each of about ``task_bytes / shards`` bytes: raise ``task_bytes`` (memory per task) as a corpus grows.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import fsspec

from curate.config.mixture_config import Mixture, check_mixture_languages, load_mixture
from curate.errors import CurateError
from curate.models.cache import sha256_of
from curate.pipeline.executor import Executor
from curate.pipeline.output_lock import LOCK_FILE, OutputLock
from curate.pipeline.preflight import preflight
from curate.pipeline.run_state import check_output_target, claim_output, config_hash, remove_partial_files
from curate.pipeline.shard_task import read_marker
from curate.stats.html_report import write_html_report
from curate.stats.token_section import record_token_counts
from curate.storage.atomic import write_text_atomic
from curate.training.copy_order import LanguagePlan
from curate.training.corpus_files import group_files, list_corpus
from curate.training.encode_task import EncodeTask, encode_group
from curate.training.errors import TokenizeError
from curate.training.formats import FORMATS
from curate.training.gather_task import GatherTask, gather_shard
from curate.training.manifest import MANIFEST, build_manifest, corpus_identity
from curate.training.mixture_plan import plan_languages
from curate.training.scatter_task import ScatterTask, scatter_group
from curate.training.tokenizer_file import (
    TokenizerRef,
    end_of_document,
    post_processor_frame,
    token_id,
    vocab_size,
)

RECORD_FILE = "_tokenize.json"


@dataclass(frozen=True)
class TokenizeSettings:
    tokenizer: TokenizerRef
    format: str
    seq_len: int = 4096
    seed: int = 0
    mixture: str | None = None
    shard_tokens: int = 100_000_000
    task_bytes: int = 256 * 2**20
    eos: str | None = None
    bos: str | None = None
    long_documents: Literal["keep", "split"] = "keep"


@dataclass
class TokenizeResult:
    dest: str
    manifest: dict[str, Any]
    ran_tasks: int = 0
    skipped_tasks: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _absolute(path: str) -> str:
    return path.rstrip("/") if "://" in path else os.path.abspath(path)


def _resolve_on_node(ref: TokenizerRef) -> str:
    """On every node: the tokenizer file is there (fetched into that node's model cache if a URL)."""
    ref.load()
    return ref.local_path()


def _check_settings(settings: TokenizeSettings) -> None:
    if settings.format not in FORMATS:
        raise TokenizeError(f"unknown format {settings.format!r}; choose one of {', '.join(FORMATS)}")
    for name in ("seq_len", "shard_tokens", "task_bytes"):
        if getattr(settings, name) < 1:
            raise TokenizeError(f"{name.replace('_', '-')} must be at least 1, got {getattr(settings, name)}")


def tokenize_corpus(corpus: str, dest: str, settings: TokenizeSettings, executor: Executor,
                    overwrite: bool = False) -> TokenizeResult:
    """Tokenize the finished run in ``corpus`` into ``dest`` on ``executor`` (the caller's, left open)."""
    started = time.time()
    _check_settings(settings)
    corpus, dest = _absolute(corpus), _absolute(dest)
    fmt = FORMATS[settings.format]
    tok = settings.tokenizer.load()  # a tokenizer that does not load stops here, before any work
    eos_token, eos_id = end_of_document(tok, settings.eos)
    bos_id = token_id(tok, settings.bos, "--bos") if settings.bos else None
    frame = fmt.frame(post_processor_frame(tok), eos_id, bos_id)
    vocab = vocab_size(tok)
    dtype = fmt.token_dtype(vocab).str
    files = list_corpus(corpus)
    if not files:
        raise TokenizeError(f"{corpus} holds no kept documents (no <lang>/*.parquet): nothing to tokenize")
    available = sorted({f.lang for f in files})
    mixture = Mixture()
    if settings.mixture:
        mixture, src = load_mixture(settings.mixture)
        check_mixture_languages(mixture, src, available, corpus)
    included = [lang for lang in available if mixture.includes(lang)]
    if not included:
        raise TokenizeError(f"no language of {corpus} is in the mixture (its languages: "
                            f"{', '.join(available) or 'none'}); name some under `targets` or set `others: keep`")
    files = [f for f in files if f.lang in included]
    tok_sha = _sha256(settings.tokenizer)
    identity = {
        "kind": "tokenize", "corpus": corpus_identity(corpus, files), "tokenizer": settings.tokenizer.spec,
        "tokenizer_sha256": tok_sha, "format": settings.format, "frame": frame, "dtype": dtype,
        "seq_len": settings.seq_len, "seed": settings.seed, "mixture": mixture.model_dump(),
        "shard_tokens": settings.shard_tokens, "task_bytes": settings.task_bytes,
        "long_documents": settings.long_documents,
    }
    digest = config_hash(identity)
    # never writes into (nor, with --overwrite, deletes) a folder curate did not write
    check_output_target(dest, overwrite, ignore=(LOCK_FILE,), run_file=RECORD_FILE)
    preflight(dest, executor, [])  # every node sees DEST (and it is not a node-local folder on a cluster)
    executor.on_every_node(_resolve_on_node, settings.tokenizer)
    with OutputLock(dest):
        claim_output(dest, digest, "tokenize", overwrite, keep=(LOCK_FILE,), record=RECORD_FILE)
        remove_partial_files(dest)
        result = _run(corpus, dest, digest, settings, executor, files, mixture, frame, dtype)
        for lang in sorted(set(available) - set(included)):  # never read: the mixture leaves them out
            result.manifest["languages"][lang] = {
                "mode": "dropped", "documents_in": None, "tokens_in": None, "weighted_documents": None,
                "weighted_tokens": None, "documents_out": 0, "tokens_out": 0, "longer_than_seq_len": None,
                "dumps": {}}
        result.manifest["languages"] = dict(sorted(result.manifest["languages"].items()))
        result.manifest["tokenizer"].update(sha256=tok_sha, eos={"token": eos_token, "id": eos_id}, vocab_size=vocab,
                                            bos=None if bos_id is None else {"token": settings.bos, "id": bos_id})
        write_text_atomic(f"{dest}/{MANIFEST}", json.dumps(result.manifest, indent=1, sort_keys=True))
        fs, root = fsspec.core.url_to_fs(dest)
        if fs.exists(f"{root}/_work"):
            fs.rm(f"{root}/_work", recursive=True)
    try:
        write_html_report(corpus, record_token_counts(corpus, dest, result.manifest))  # type: ignore[arg-type]
    except (OSError, CurateError, KeyError, ValueError) as exc:  # a read-only corpus (someone else's bucket)
        result.notes.append(f"token counts not added to {corpus}/_stats ({type(exc).__name__}: {exc})")
    result.seconds = time.time() - started
    return result


def _sha256(ref: TokenizerRef) -> str:
    return ref.sha256 or sha256_of(ref.local_path())


def _run(corpus: str, dest: str, digest: str, settings: TokenizeSettings, executor: Executor, files: list[Any],
         mixture: Mixture, frame: tuple[tuple[int, ...], tuple[int, ...]], dtype: str) -> TokenizeResult:
    markers, work = f"{dest}/_markers/{digest}", f"{dest}/_work/{digest}"
    groups = group_files(files, settings.task_bytes)
    ran = skipped = 0

    def run_pass(fn: Any, tasks: list[Any], desc: str) -> list[Any]:
        nonlocal ran, skipped
        done = {i: read_marker(t.marker) for i, t in enumerate(tasks)}
        todo = [t for i, t in enumerate(tasks) if done[i] is None]
        fresh = iter(executor.map(fn, todo, desc=f"tokenize:{desc}") if todo else [])
        ran += len(todo)
        skipped += len(tasks) - len(todo)
        return [done[i] if done[i] is not None else next(fresh) for i in range(len(tasks))]

    encode_tasks = [EncodeTask(
        group=i, files=tuple(g), tokenizer=settings.tokenizer, frame=frame, dtype=dtype, seed=settings.seed,
        seq_len=settings.seq_len, weights=mixture.weights, tokens_path=f"{work}/tokens/g{i:05d}.bin",
        docs_path=f"{work}/docs/g{i:05d}.parquet", marker=f"{markers}/encode-{i:05d}.json",
    ) for i, g in enumerate(groups)]
    encoded = run_pass(encode_group, encode_tasks, "encode")
    totals: dict[str, dict[str, Any]] = {}
    dumps: set[str] = set()
    for result in encoded:
        for lang, c in result["languages"].items():
            entry = totals.setdefault(lang, {"documents": 0, "tokens": 0, "weighted_documents": 0,
                                             "weighted_tokens": 0, "longer_than_seq_len": 0})
            for key in entry:
                entry[key] += c[key]
            dumps.update(c["dumps"])
    plan_marker = f"{markers}/plan.json"
    stored = read_marker(plan_marker)
    if stored is None:
        plans, summary = plan_languages(totals, mixture, settings.seed, executor.map,
                                        [t.docs_path for t in encode_tasks])
        for lang, p in plans.items():
            summary[lang]["plan"] = [p.mode, p.factor, list(p.threshold) if p.threshold else None]
        stored = {"languages": summary}
        write_text_atomic(plan_marker, json.dumps(stored, sort_keys=True))
    summary = stored["languages"]
    for lang, t in totals.items():
        summary[lang]["longer_than_seq_len"] = t["longer_than_seq_len"]
    plans = {lang: LanguagePlan(s["plan"][0], s["plan"][1], tuple(s["plan"][2]) if s["plan"][2] else None)
             for lang, s in summary.items()}
    total_out = sum(s["tokens_out"] for s in summary.values())
    n_shards = max(1, math.ceil(total_out / settings.shard_tokens))
    langs = tuple(sorted(totals))
    dump_names = tuple(sorted(dumps))
    scatter_tasks = [ScatterTask(
        group=t.group, docs_path=t.docs_path, tokens_path=t.tokens_path,
        records_out=f"{work}/scatter/g{t.group:05d}.records", tokens_out=f"{work}/scatter/g{t.group:05d}.bin",
        marker=f"{markers}/scatter-{t.group:05d}.json", plans=plans, n_shards=n_shards,
        lang_codes={lang: i for i, lang in enumerate(langs)}, dump_codes={d: i for i, d in enumerate(dump_names)},
        dtype=dtype,
    ) for t in encode_tasks]
    scattered = run_pass(scatter_group, scatter_tasks, "scatter")
    width = max(5, len(str(n_shards - 1)))
    gather_tasks = []
    for j in range(n_shards):
        pieces = tuple((t.records_out, t.tokens_out, *r["ranges"][str(j)])
                       for t, r in zip(scatter_tasks, scattered, strict=True) if str(j) in r["ranges"])
        gather_tasks.append(GatherTask(
            shard=j, base=f"{dest}/shard-{j:0{width}d}", pieces=pieces, format=settings.format, dtype=dtype,
            seq_len=settings.seq_len, split_long=settings.long_documents == "split", langs=langs,
            dumps=dump_names, meta={"tokenizer": settings.tokenizer.spec}, marker=f"{markers}/gather-{j:05d}.json",
        ))
    shards = run_pass(gather_shard, gather_tasks, "write")
    manifest = build_manifest(corpus, settings, summary, shards, dtype, frame, identity_hash=digest)
    return TokenizeResult(dest, manifest, ran, skipped)
