"""The whole corpus of a dedup index, per language, from its manifest's counts (``curate report --index URL``).

A run's own report counts its dump; the corpus is every dump of the index with the later dumps' effect on
the earlier ones (clusters grown or merged, kept documents retracted, rehydration tables recomputed). The
latest manifest already holds what that needs, summed over every dump: cluster sizes per language, the
filters' outcome per language and cluster size of every cluster's kept document, and the rehydration tables.
Nothing is scanned, so the report costs one small read whatever the corpus' size.
"""

from __future__ import annotations

from typing import Any

from curate.dedup.index_store import DedupIndex, DedupIndexError
from curate.rehydrate.tables import expected_documents, normalize_table


def _sizes(counts: dict[str, Any]) -> dict[int, int]:
    return {int(s): int(n) for s, n in counts.items()}


def corpus_report(index_url: str, version: int | None = None) -> dict[str, Any]:
    """Per language: ``documents`` (every document of every dump the dedup step saw), ``clusters``,
    ``duplicates`` (documents - clusters: removed as duplicates), ``filtered`` (clusters whose kept document
    the filters after the dedup step removed), ``kept`` (in the corpus), ``weighted`` (kept documents x their
    rehydration weight: the rows a materialised corpus has; ``kept`` without a ``rehydrate`` step), and
    ``unfiltered`` (kept again by a drop, never filtered: counted in neither). Plus a ``total`` row."""
    index = DedupIndex(index_url)
    manifest = index.manifest(version)
    if manifest is None:
        raise DedupIndexError(f"dedup index {index.url} is empty (no version yet): nothing to report")
    rehydrate = manifest.get("rehydrate") or {}
    tables = {lang: normalize_table(t) for lang, t in rehydrate.get("tables", {}).items() if t}
    default = normalize_table(rehydrate.get("default_table") or {1: 1})
    outcomes = manifest.get("rehydrate_counts", {})
    langs: dict[str, dict[str, int]] = {}
    for lang in sorted(set(manifest["clusters_by_lang"]) | set(outcomes)):
        sizes = _sizes(manifest["clusters_by_lang"].get(lang, {}))
        kept = _sizes(outcomes.get(lang, {}).get("kept", {}))
        removed = _sizes(outcomes.get(lang, {}).get("removed", {}))
        documents = sum(s * n for s, n in sizes.items())
        clusters = sum(sizes.values())
        entry = {"documents": documents, "clusters": clusters, "duplicates": documents - clusters,
                 "filtered": sum(removed.values()), "kept": sum(kept.values()),
                 "weighted": expected_documents(tables.get(lang, default), kept) if rehydrate else sum(kept.values())}
        entry["unfiltered"] = clusters - entry["filtered"] - entry["kept"]
        langs[lang] = entry
    total = {k: sum(e[k] for e in langs.values()) for k in
             ("documents", "clusters", "duplicates", "filtered", "kept", "weighted", "unfiltered")}
    return {"url": index.url, "version": manifest["version"], "block": manifest["block"],
            "dumps": [d["name"] for d in manifest["dumps"]], "rehydrated": bool(rehydrate),
            "languages": langs, "total": total}
