"""Token counts per language in a run's statistics, written by ``curate tokenize``.

``OUT/_stats/stats.json`` gets a ``tokenize`` entry per token destination: the tokenizer (spec and sha256),
the format, and per language the documents and tokens of the corpus, after the rehydration weights, and in
the shards (after the mixture). ``curate report`` prints them and ``report.html`` charts them: FineWeb2
reports words, teams plan in tokens. Token counts include each document's framing (EOS, BOS) as written.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

import fsspec

from curate.stats.run_record import parse_run_stats, stats_path
from curate.stats.svg_charts import hbar_chart
from curate.storage.atomic import write_text_atomic

SECTION = "tokenize"
_COLUMNS = (("documents_in", "docs"), ("tokens_in", "tokens"), ("weighted_tokens", "weighted"),
            ("documents_out", "docs out"), ("tokens_out", "tokens out"))


def token_counts_section(dest: str, manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "destination": dest,
        "format": manifest["format"],
        "seed": manifest["seed"],
        "config_hash": manifest["config_hash"],
        "tokenizer": {k: manifest["tokenizer"].get(k) for k in ("spec", "sha256", "vocab_size")},
        "languages": {lang: {k: e.get(k, 0) for k, _ in _COLUMNS} | {"mode": e.get("mode")}
                      for lang, e in manifest["languages"].items()},
        "totals": {"tokens_out": manifest["totals"]["tokens"], "shards": manifest["totals"]["shards"]},
    }


def record_token_counts(out_dir: str, dest: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """Add (or replace) the ``tokenize`` entry of ``dest`` in ``out_dir``'s stats.json; returns the stats."""
    path = stats_path(out_dir)
    with fsspec.open(path, "r", encoding="utf-8") as handle:
        stats: dict[str, Any] = dict(parse_run_stats(handle.read(), path))
    stats.setdefault(SECTION, {})[dest] = token_counts_section(dest, manifest)
    write_text_atomic(path, json.dumps(stats, indent=1, sort_keys=True, ensure_ascii=False))
    return stats


def _num(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def format_token_section(stats: dict[str, Any]) -> str:
    """Text tables for ``curate report`` ("" when the run was never tokenized)."""
    blocks = []
    for dest, entry in sorted((stats.get(SECTION) or {}).items()):
        tok = entry["tokenizer"]
        lines = [f"tokens [{entry['format']} -> {dest}]: tokenizer {tok['spec']} (vocab {tok.get('vocab_size')}), "
                 f"seed {entry['seed']}, {entry['totals']['shards']} shard(s), {_num(entry['totals']['tokens_out'])} "
                 "tokens written",
                 f"  {'lang':<10} " + " ".join(f"{label:>10}" for _, label in _COLUMNS) + "  plan"]
        for lang, e in sorted(entry["languages"].items()):
            lines.append(f"  {lang:<10} " + " ".join(f"{_num(int(e.get(k) or 0)):>10}" for k, _ in _COLUMNS)
                         + f"  {e.get('mode') or ''}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def token_section_html(stats: dict[str, Any]) -> str:
    """The report.html section: a table and a chart of tokens per language for each destination."""
    parts = []
    for dest, entry in sorted((stats.get(SECTION) or {}).items()):
        head = "".join(f"<th>{escape(label)}</th>" for _, label in _COLUMNS)
        rows = "".join(
            f"<tr><td>{escape(lang)}</td>" + "".join(f"<td>{int(e.get(k) or 0):,}</td>" for k, _ in _COLUMNS)
            + f"<td>{escape(str(e.get('mode') or ''))}</td></tr>"
            for lang, e in sorted(entry["languages"].items()))
        chart = hbar_chart([(lang, [int(e.get("weighted_tokens") or 0), int(e.get("tokens_out") or 0)])
                            for lang, e in sorted(entry["languages"].items(),
                                                  key=lambda kv: -int(kv[1].get("tokens_out") or 0))[:25]],
                           ["weighted", "written"], "Tokens per language: after weights, in the shards")
        parts.append(f"<p>{escape(entry['format'])} shards in {escape(dest)}, tokenizer "
                     f"{escape(str(entry['tokenizer']['spec']))}</p><table><tr><th>lang</th>{head}<th>plan</th></tr>"
                     f"{rows}</table>{chart}")
    return "".join(parts)
