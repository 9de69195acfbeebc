"""``curate models fetch|list|verify``: fill and check the model cache (:mod:`curate.models.cache`).

Wiring (``curate/cli/main.py``, inside ``build_parser``): ``register_models_commands(sub)``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from curate.models.cache import ModelCache


def _cmd_fetch(args: argparse.Namespace) -> int:
    cache = ModelCache()
    if args.sha256 and len(args.urls) != 1:
        print("curate: --sha256 pins one URL; fetch the others separately", file=sys.stderr)
        return 2
    for url in args.urls:
        entry = cache.lookup(url)
        if entry is None or args.force or (args.sha256 and entry.sha256 != args.sha256.lower()):
            entry = cache.fetch(url, args.sha256)
            print(f"fetched {url}\n  sha256 {entry.sha256}  {entry.size:,} bytes  {entry.path}")
        else:
            print(f"cached  {url}\n  sha256 {entry.sha256}  {entry.size:,} bytes  {entry.path}")
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
    fetch = sub.add_parser("fetch", help="download models into the cache (skipped when already there)")
    fetch.add_argument("urls", nargs="+", metavar="URL")
    fetch.add_argument("--sha256", help="expected checksum of the file (refused when it differs)")
    fetch.add_argument("--force", action="store_true", help="download again even when cached")
    fetch.set_defaults(func=_cmd_fetch)
    listing = sub.add_parser("list", help="cached models: sha256, size, URL")
    listing.set_defaults(func=_cmd_list)
    verify = sub.add_parser("verify", help="recompute every cached file's sha256 against the index")
    verify.set_defaults(func=_cmd_verify)
