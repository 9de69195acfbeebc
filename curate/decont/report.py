"""``curate decont report OUT``: which evaluation items a run found in its corpus, and where.

Reads the ``contamination`` column of the run's output (kept documents, for ``action: flag``) and of
``_removed`` (``action: remove``), and says, per evaluation set and per document language, how many documents
matched; which items were found most often (the benchmark results most at risk), with their largest overlap; and a
few example documents with the n-gram they share. Given the index (``--index``), a passage shared by several items
(a SQuAD context and its questions) lists every item.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import fsspec
import pyarrow.parquet as pq

from curate.decont.decont_index import open_index
from curate.decont.decontaminate_block import CONTAMINATION

_COLUMNS = ("id", "url", "lang", CONTAMINATION)


def _files(out_dir: str) -> list[tuple[str, str]]:
    fs, root = fsspec.core.url_to_fs(out_dir)
    root = root.rstrip("/")
    protocol = out_dir.split("://", 1)[0] + "://" if "://" in out_dir else ""
    found = []
    for path in sorted(fs.glob(f"{root}/*/*.parquet")) + sorted(fs.glob(f"{root}/_removed/*/*.parquet")):
        rel = path[len(root) + 1:]
        if rel.startswith("_") and not rel.startswith("_removed/"):
            continue
        found.append((protocol + path if protocol else path, "removed" if rel.startswith("_removed/") else "kept"))
    return found


def collect(out_dir: str, examples: int = 3, index: str | None = None) -> dict[str, Any]:
    """The report's figures, as plain data (also what ``--json`` prints)."""
    sets: dict[str, Counter[str]] = defaultdict(Counter)  # set -> doc language -> documents
    outcome: dict[str, Counter[str]] = defaultdict(Counter)  # set -> kept/removed -> documents
    items: dict[tuple[str, str, str], dict[str, Any]] = {}
    shown: list[dict[str, Any]] = []
    docs = 0
    files = _files(out_dir)
    if not files:
        raise FileNotFoundError(f"{out_dir}: no Parquet output of a curate run in it (OUT/<lang>/*.parquet, "
                                "OUT/_removed/<lang>/*.parquet); give the output folder of a finished run")
    for path, where in files:
        with fsspec.open(path, "rb") as fh:
            pf = pq.ParquetFile(fh)
            if CONTAMINATION not in pf.schema_arrow.names:
                continue
            cols = [c for c in _COLUMNS if c in pf.schema_arrow.names]
            table = pf.read(columns=cols)
        for row in table.to_pylist():
            entries = row.get(CONTAMINATION)
            if not entries:
                continue
            docs += 1
            lang = row.get("lang") or "und"
            for name in dict.fromkeys(e["set"] for e in entries):
                sets[name][lang] += 1
                outcome[name][where] += 1
            for e in entries:
                key = (e["set"], e["item"], e["field"])
                entry = items.setdefault(key, {"set": e["set"], "item": e["item"], "field": e["field"],
                                               "lang": e["lang"], "tokens": e["tokens"], "items": e["items"],
                                               "documents": 0, "max_overlap": 0})
                entry["documents"] += 1
                entry["max_overlap"] = max(entry["max_overlap"], e["overlap"])
            if len(shown) < examples:
                best = entries[0]
                shown.append({"id": row.get("id"), "url": row.get("url"), "lang": lang, "where": where,
                              "set": best["set"], "item": best["item"], "field": best["field"],
                              "overlap": best["overlap"], "tokens": best["tokens"], "ngram": best["ngram"]})
    ranked = sorted(items.values(), key=lambda e: (-e["documents"], -e["max_overlap"], e["set"], e["item"]))
    if index is not None:
        _expand_items(ranked, index)
    return {"documents": docs, "sets": {k: dict(sorted(v.items())) for k, v in sorted(sets.items())},
            "outcome": {k: dict(v) for k, v in sorted(outcome.items())}, "items": ranked, "examples": shown}


def _expand_items(ranked: list[dict[str, Any]], index_path: str) -> None:
    """Every item holding each found text (a passage's questions), from the index's texts table."""
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for entries in open_index(index_path).text_items():
        if entries:
            first = entries[0]
            by_key[(first["set"], first["item"], first["field"])] = [e["item"] for e in entries]
    for entry in ranked:
        entry["all_items"] = by_key.get((entry["set"], entry["item"], entry["field"]), [entry["item"]])


def format_report(data: dict[str, Any], top: int = 20) -> str:
    lines = [f"documents with evaluation text: {data['documents']}"]
    if not data["documents"]:
        return lines[0]
    lines += ["", "per set and document language (documents):"]
    for name, langs in data["sets"].items():
        where = data["outcome"].get(name, {})
        lines.append(f"  {name}: {sum(langs.values())} ({where.get('removed', 0)} removed, {where.get('kept', 0)} "
                     "flagged and kept)  " + ", ".join(f"{lang} {n}" for lang, n in
                                                        sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))))
    lines += ["", f"items by documents found in (top {top}):",
              f"  {'set':<12} {'item':<28} {'field':<10} {'lang':<9} {'docs':>5} {'overlap':>8}  items"]
    for e in data["items"][:top]:
        shared = e.get("all_items")
        sharing = f"{len(shared)}: {', '.join(shared[:4])}{' ...' if len(shared) > 4 else ''}" if shared else \
            str(e["items"])
        lines.append(f"  {e['set']:<12} {e['item'][:28]:<28} {e['field'][:10]:<10} {e['lang']:<9} "
                     f"{e['documents']:>5} {e['max_overlap']:>4}/{e['tokens']:<4} {sharing}")
    if data["examples"]:
        lines += ["", "examples:"]
        for x in data["examples"]:
            lines.append(f"  {x['id']} ({x['lang']}, {x['where']}) {x['url'] or ''}")
            lines.append(f"    {x['set']} {x['item']} {x['field']}: {x['overlap']} of {x['tokens']} tokens, "
                         f"e.g. \"{x['ngram']}\"")
    return "\n".join(lines)
