"""``DEST/manifest.json``: what a training run reads to know what it trains on.

Per language: the plan (``target`` and ``factor``, or ``weights``, or ``dropped``), tokens and documents in
the corpus, after weighting, and written; per Common Crawl dump and per shard, documents and tokens by
language. Every count is of what the files hold (a document's framing tokens included): the sum of a
language over the shards equals its ``tokens_out``, checked before the manifest is written.
"""

from __future__ import annotations

import json
from typing import Any

import fsspec

from curate.pipeline.run_state import RUN_FILE
from curate.training.corpus_files import CorpusFile
from curate.training.errors import TokenizeError

MANIFEST = "manifest.json"


def corpus_identity(corpus: str, files: list[CorpusFile]) -> dict[str, Any]:
    """What the shards are made from: the run's configuration hash and every file's name and size."""
    fs, root = fsspec.core.url_to_fs(corpus)
    try:
        with fs.open(f"{root}/{RUN_FILE}", "r") as handle:
            run = json.load(handle).get("config_hash")
    except FileNotFoundError:
        run = None
    prefix = len(corpus.rstrip("/")) + 1
    return {"run_config_hash": run, "files": [[f.path[prefix:] if f.path.startswith(corpus) else f.path, f.size]
                                              for f in files]}


def build_manifest(corpus: str, settings: Any, summary: dict[str, dict[str, Any]], shards: list[dict[str, Any]],
                   dtype: str, frame: tuple[tuple[int, ...], tuple[int, ...]], identity_hash: str) -> dict[str, Any]:
    languages: dict[str, dict[str, Any]] = {}
    dumps: dict[str, dict[str, int]] = {}
    for lang in sorted(summary):
        entry = {k: v for k, v in summary[lang].items() if k != "plan"}
        entry["dumps"] = {}
        languages[lang] = entry
    for shard in shards:
        for lang, c in shard["languages"].items():
            for dump, d in c["dumps"].items():
                for target in (languages[lang]["dumps"].setdefault(dump, {"documents": 0, "tokens": 0}),
                               dumps.setdefault(dump, {"documents": 0, "tokens": 0})):
                    target["documents"] += d["documents"]
                    target["tokens"] += d["tokens"]
    for lang, entry in languages.items():
        written = sum(d["tokens"] for d in entry["dumps"].values())
        if written != entry["tokens_out"]:
            raise TokenizeError(f"internal check: {lang} planned {entry['tokens_out']} tokens but the shards hold "
                                f"{written}; delete the destination and rerun, and report this")
        entry["dumps"] = dict(sorted(entry["dumps"].items()))
    return {
        "format": settings.format,
        "dtype": dtype,
        "seq_len": settings.seq_len,
        "seed": settings.seed,
        "long_documents": settings.long_documents,
        "corpus": corpus,
        "config_hash": identity_hash,
        "tokenizer": {"spec": settings.tokenizer.spec, "sha256": settings.tokenizer.sha256,
                      "prefix": list(frame[0]), "suffix": list(frame[1])},
        "languages": languages,
        "dumps": dict(sorted(dumps.items())),
        "shards": [{k: v for k, v in s.items() if k != "shard"} for s in shards],
        "totals": {"shards": len(shards), "documents": sum(s["documents"] for s in shards),
                   "sequences": sum(s["sequences"] for s in shards), "tokens": sum(s["tokens"] for s in shards)},
    }
