"""``curate models fetch|list|verify``: fill and check the model cache (:mod:`curate.models.cache`).

``curate models fetch --pipeline PIPELINE.yaml`` fetches every URL the pipeline's blocks list in
:meth:`curate.blocks.base.Block.model_refs`, so it needs nothing per block.

Wiring (``curate/cli/main.py``, inside ``build_parser``): ``register_models_commands(sub)``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from curate.config.pipeline_config import load_pipeline
from curate.models.cache import CachedModel, ModelCache
from curate.models.errors import ModelUnavailableError
from curate.models.ref import ModelRef
from curate.models.resolve import is_url


def pipeline_model_refs(path: str) -> list[ModelRef]:
    """Every model URL the blocks of pipeline ``path`` name (:meth:`Block.model_refs`), in step order, once
    each; local paths are left out (there is nothing to fetch)."""
    config = load_pipeline(path)
    refs: dict[tuple[str, str | None], ModelRef] = {}
    for step in config.steps:
        for ref in step.build().model_refs():
            if is_url(ref.spec):
                refs.setdefault((ref.spec, ref.sha256), ref)
    return list(refs.values())


def _fetch_one(cache: ModelCache, url: str, sha256: str | None, force: bool) -> CachedModel:
    entry = cache.lookup(url)
    if entry is None or force or (sha256 and entry.sha256 != sha256.lower()):
        entry = cache.fetch(url, sha256)
        print(f"fetched {url}\n  sha256 {entry.sha256}  {entry.size:,} bytes  {entry.path}")
    else:
        print(f"cached  {url}\n  sha256 {entry.sha256}  {entry.size:,} bytes  {entry.path}")
    return entry


def _cmd_fetch(args: argparse.Namespace) -> int:
    cache = ModelCache()
    if not args.urls and not args.pipeline:
        print("curate: name the model URLs to fetch, or --pipeline PIPELINE.yaml for all of a pipeline's",
              file=sys.stderr)
        return 2
    if args.sha256 and len(args.urls) != 1:
        print("curate: --sha256 pins one URL; fetch the others separately", file=sys.stderr)
        return 2
    for url in args.urls:
        _fetch_one(cache, url, args.sha256, args.force)
    for ref in pipeline_model_refs(args.pipeline) if args.pipeline else []:
        print(f"{ref.setting}:")
        try:
            _fetch_one(cache, ref.spec, ref.sha256, args.force)
        except ModelUnavailableError as exc:
            if not (ref.optional and isinstance(exc.__cause__, FileNotFoundError)):
                raise
            print(f"absent  {ref.spec} (optional: {ref.if_absent or 'the block does without it'})")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    cache = ModelCache()
    entries = cache.entries()
    print(f"model cache {cache.root}: {len(entries)} model{'s' if len(entries) != 1 else ''}")
    for e in entries:
        print(f"{e.sha256}  {e.size:>13,}  {e.url}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    cache = ModelCache()
    results = cache.verify()
    bad = 0
    for entry, state in results:
        bad += state != "ok"
        print(f"{state:<8}  {entry.url}  ({entry.path})")
    print(f"{len(results) - bad} of {len(results)} cached models verified")
    if bad:
        print("curate: fetch the bad ones again with `curate models fetch --force URL`", file=sys.stderr)
    return 1 if bad else 0


def register_models_commands(subparsers: Any) -> None:
    models = subparsers.add_parser(
        "models", help="fetch, list and verify model files in the local cache ($CURATE_MODEL_CACHE)",
        description="Models given as URLs (hf://, s3://, https://, any fsspec URL) are kept in a local cache, "
                    "content-addressed by sha256. Fill it here before a run with --offline.")
    sub = models.add_subparsers(dest="models_command", required=True)
    fetch = sub.add_parser("fetch", help="download models into the cache (skipped when already there)",
                           description="Fetch model URLs into the cache; with --pipeline, every model URL the "
                                       "pipeline's blocks name (langid, fasttext_quality with its sidecars, "
                                       "kenlm_perplexity, ...), with their sha256 pins: one command fills a cache "
                                       "for an air-gapped cluster.")
    fetch.add_argument("urls", nargs="*", metavar="URL")
    fetch.add_argument("--pipeline", metavar="PIPELINE.yaml", help="fetch every model URL this pipeline names")
    fetch.add_argument("--sha256", help="expected checksum of the file (refused when it differs)")
    fetch.add_argument("--force", action="store_true", help="download again even when cached")
    fetch.set_defaults(func=_cmd_fetch)
    listing = sub.add_parser("list", help="cached models: sha256, size, URL")
    listing.set_defaults(func=_cmd_list)
    verify = sub.add_parser("verify", help="recompute every cached file's sha256 against the index")
    verify.set_defaults(func=_cmd_verify)
