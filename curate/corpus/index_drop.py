"""``curate index drop URL DUMP``: a takedown, with the corpus' rehydration tables computed again.

The dedup layer rebuilds the clusters without the dump (:func:`curate.dedup.index_rebuild.drop_dump`); the
tables depend on the corpus' removal rates per cluster size, which change with it, so they are computed
here with the ``rehydrate`` settings of the last run (kept in the index), as that run's step would have.
"""

from __future__ import annotations

from typing import Any

from curate.dedup.index_rebuild import drop_dump as rebuild_without
from curate.dedup.star_rounds import MapFn
from curate.languages.table import load_language_table
from curate.rehydrate.rehydrate_block import Rehydrate

_SETTINGS = ("method", "table", "tables", "max_reps", "max_reps_by_lang", "window", "tail_fraction")


def rehydrate_tables(counts: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any] | None:
    """The tables of ``counts`` (per language kept/removed per cluster size) with the settings ``previous``
    recorded; None when the index has no rehydration settings (no run had a ``rehydrate`` step)."""
    if not previous or not previous.get("settings"):
        return None
    settings = previous["settings"]
    step = Rehydrate(**{k: settings[k] for k in _SETTINGS if k in settings and settings[k] is not None})
    tables = {}
    languages = load_language_table()  # the shipped table (a language's tier picks its max_reps_by_lang)
    for lang in sorted(counts):
        kept = {int(k): int(v) for k, v in counts[lang].get("kept", {}).items()}
        removed = {int(k): int(v) for k, v in counts[lang].get("removed", {}).items()}
        table, _ = step.table_for(lang, kept, removed, languages)
        tables[lang] = {str(k): v for k, v in table.items()}
    return {"settings": settings, "default_table": previous.get("default_table"), "tables": tables}


def drop_dump(run: MapFn, index_url: str, dump: str) -> dict[str, Any]:
    """Drop ``dump`` from the index; returns the new version's manifest."""
    return rebuild_without(run, index_url, dump, tables=rehydrate_tables)
