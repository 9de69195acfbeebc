"""``curate index show|drop|view|unlock``: a persistent dedup index (``minhash: {index: URL}``).

Wiring (``curate/cli/main.py``, inside ``build_parser``): ``register_index_commands(sub)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pyarrow.parquet as pq

from curate.corpus import VIEW_SCHEMA, corpus_parts, corpus_report, drop_dump
from curate.dedup.index_lock import IndexLock, describe, unlock
from curate.dedup.index_store import DedupIndex
from curate.executors.factory import build_executor


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def index_summary(url: str, version: int | None = None) -> dict[str, Any]:
    """What ``curate index show`` prints, as a dict."""
    index = DedupIndex(url)
    manifest = index.manifest(version)
    if manifest is None:
        return {"url": index.url, "versions": [], "dumps": []}
    data = index.wd.path("data")
    size = int(index.wd.fs.du(data)) if index.wd.fs.exists(data) else 0
    langs = {}
    for lang, dist in sorted(manifest["clusters_by_lang"].items()):
        docs = sum(int(s) * int(c) for s, c in dist.items())
        clusters = sum(int(c) for c in dist.values())
        langs[lang] = {"documents": docs, "clusters": clusters, "duplicates": docs - clusters}
    updates: dict[str, int] = {}
    for u in manifest["updates"]:
        updates[u["dump"]] = updates.get(u["dump"], 0) + int(u["rows"])
    holder = IndexLock(index.wd, "", "show", "").read()
    return {
        "url": index.url, "version": manifest["version"], "block": manifest["block"], "settings": manifest["settings"],
        "partitions": manifest["partitions"], "node_partitions": manifest["node_partitions"],
        "documents": manifest["documents"], "bytes": size, "languages": langs,
        "dumps": [{"name": d["name"], "version": d["version"], "documents": d["documents"], "kept": d.get("kept"),
                   "shards": d["shards"], "out_dir": d["out_dir"], "update_rows": updates.get(d["name"], 0)}
                  for d in manifest["dumps"]],
        "versions": [{"version": v, **index.manifest(v).get("operation", {})} for v in index.versions()],
        "unfiltered": int(manifest.get("unfiltered", 0)),
        "rehydrate_tables": bool(manifest.get("rehydrate")),
        "locked_by": describe(holder) if holder else None,
    }


def _cmd_show(args: argparse.Namespace) -> int:
    info = index_summary(args.url, args.version)
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    if not info["dumps"]:
        print(f"{info['url']}: empty dedup index (no version yet)")
        return 0
    print(f"{info['url']}: {info['block']} index, version {info['version']}, {info['documents']:,} documents in "
          f"{len(info['dumps'])} dump(s), {_bytes(info['bytes'])} on storage, partitions {info['partitions']} keys / "
          f"{info['node_partitions']} nodes")
    print("settings: " + ", ".join(f"{k}={v}" for k, v in info["settings"].items()))
    print(f"\n{'dump':<24} {'added':>5} {'documents':>11} {'kept':>9} {'shards':>6} {'updates':>8}  output")
    for d in info["dumps"]:
        print(f"{d['name']:<24} v{d['version']:<4} {d['documents']:>11,} {d['kept'] or 0:>9,} {d['shards']:>6} "
              f"{d['update_rows']:>8,}  {d['out_dir']}")
    print(f"\n{'language':<12} {'documents':>11} {'clusters':>10} {'duplicates':>11}")
    for lang, e in info["languages"].items():
        print(f"{lang:<12} {e['documents']:>11,} {e['clusters']:>10,} {e['duplicates']:>11,}")
    print("\nversions: " + ", ".join(f"v{v['version']} {v.get('kind', '?')} {v.get('dump', '')}" for v in info["versions"]))
    if info["unfiltered"]:
        print(f"\n{info['unfiltered']:,} kept document(s) never went through the filters (a drop made them kept "
              "again; `curate index view` lists them with in_output=false)")
    if info["locked_by"]:
        print(f"\nlocked by: {info['locked_by']}")
    return 0


def _cmd_drop(args: argparse.Namespace) -> int:
    executor = build_executor("local", args.workers, None)
    try:
        manifest = drop_dump(executor.map, args.url, args.dump)
    finally:
        executor.close()
    print(f"dropped {args.dump} from {args.url}: version {manifest['version']}, {manifest['documents']:,} documents "
          f"in {len(manifest['dumps'])} dump(s); {sum(u['rows'] for u in manifest['updates'] if u['version'] == manifest['version']):,} "
          f"row(s) of earlier outputs updated")
    if manifest.get("unfiltered"):
        print(f"{manifest['unfiltered']:,} document(s) are kept again that their run removed as duplicates: the filters "
              "never saw them (`curate index view` lists them with in_output=false)")
    return 0


def _cmd_view(args: argparse.Namespace) -> int:
    rows = 0
    with pq.ParquetWriter(args.dest, VIEW_SCHEMA, compression="zstd") as writer:  # a file of the corpus at a time
        for part in corpus_parts(args.url, args.version):
            writer.write_table(part)
            rows += part.num_rows
    print(f"wrote {rows:,} rows (dump, id, lang, cluster_size, cluster_id, weight, in_output) to {args.dest}")
    return 0


def _cmd_unlock(args: argparse.Namespace) -> int:
    holder = unlock(DedupIndex(args.url).wd)
    if holder is None:
        print(f"{args.url} was not locked")
    else:
        print(f"removed the lock of {describe(holder)}; its uncommitted work is not in the index", file=sys.stderr)
    return 0


def format_corpus_report(url: str, version: int | None = None, langs: list[str] | None = None) -> str:
    """``curate report --index URL``: the whole corpus of a dedup index, per language (:func:`corpus_report`)."""
    info = corpus_report(url, version)
    weights = "weighted (kept x rehydration weight)" if info["rehydrated"] else "weighted (= kept: no rehydrate step)"
    lines = [f"corpus of {info['block']} index {info['url']}, version {info['version']}: {len(info['dumps'])} dump(s) "
             f"({', '.join(info['dumps'])}); {weights}", "",
             f"{'language':<12} {'documents':>11} {'clusters':>10} {'duplicates':>11} {'filtered':>10} {'kept':>10} "
             f"{'weighted':>10}"]
    rows = [(lang, e) for lang, e in info["languages"].items() if not langs or lang in langs]
    for lang, e in [*rows, ("total", info["total"])]:
        lines.append(f"{lang:<12} {e['documents']:>11,} {e['clusters']:>10,} {e['duplicates']:>11,} "
                     f"{e['filtered']:>10,} {e['kept']:>10,} {e['weighted']:>10,}")
    if info["total"]["unfiltered"]:
        lines.append(f"\n{info['total']['unfiltered']:,} cluster(s) kept again by a drop were never filtered "
                     "(in neither filtered nor kept; `curate index view` lists them with in_output=false)")
    return "\n".join(lines)


def report_index(url: str, langs: list[str] | None = None, as_json: bool = False) -> int:
    if as_json:
        print(json.dumps(corpus_report(url), indent=1))
    else:
        print(format_corpus_report(url, langs=langs))
    return 0


def corpus_hint(stats: dict[str, Any]) -> str:
    """For the report of a run against a dedup index: this run's figures are its dump's; where the corpus' are."""
    for key, step in stats.get("global", {}).items():
        index = next((v for k, v in step.items() if k.endswith("_index") and isinstance(v, dict) and "url" in v), None) \
            if isinstance(step, dict) else None
        if index:
            return (f"{key.split(':')[-1]} added dump {index['dump']!r} to dedup index {index['url']} (version "
                    f"{index['version']}); the figures above are this dump's: `curate report --index {index['url']}` "
                    "reports the whole corpus")
    return ""


def register_index_commands(sub: Any) -> None:
    index = sub.add_parser("index", help="a persistent dedup index (minhash: {index: URL}): show, drop a dump, view")
    kinds = index.add_subparsers(dest="index_command", required=True)
    show = kinds.add_parser("show", help="dumps, documents, languages, size and versions of an index")
    show.add_argument("url")
    show.add_argument("--version", type=int, help="an earlier version (default: the latest)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_cmd_show)
    drop = kinds.add_parser("drop", help="drop a dump (a takedown): its documents removed, their clusters re-sized")
    drop.add_argument("url")
    drop.add_argument("dump")
    drop.add_argument("--workers", "-w", type=int, help="parallel tasks (default: CPUs)")
    drop.set_defaults(func=_cmd_drop)
    view = kinds.add_parser("view", help="every kept document of the corpus with its cluster size, id and weight "
                                         "now (earlier outputs with the index's updates applied), as Parquet")
    view.add_argument("url")
    view.add_argument("dest", help="Parquet file to write")
    view.add_argument("--version", type=int)
    view.set_defaults(func=_cmd_view)
    unlock_cmd = kinds.add_parser("unlock", help="remove the lock of a run given up for good")
    unlock_cmd.add_argument("url")
    unlock_cmd.set_defaults(func=_cmd_unlock)
