"""``OUT/report.html``: one self-contained page a data team reads after every run.

Plots (inline SVG, no scripts or network): documents per language (log scale), the filter funnel
per language, removal reasons, language-ID score histograms, MinHash cluster-size distributions,
rehydration weights, what the opt-out steps removed and the final token share per language.
"""

from __future__ import annotations

from html import escape

from curate.decont.report_section import decontamination_html
from curate.optout.report_section import optout_summary
from curate.stats.run_record import (
    RunStats,
    minhash_cluster_sizes,
    minhash_largest_clusters,
    rehydration_tables,
)
from curate.stats.svg_charts import column_chart, hbar_chart
from curate.stats.token_section import SECTION, token_section_html
from curate.storage.atomic import write_text_atomic

MAX_LANGS = 25

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:right}
th{background:#f6f6f6}td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:12px}
svg .t{font-size:13px;font-weight:600}svg .l{font-size:11px}svg .v{font-size:10px;fill:#555}.empty{color:#888}
"""


def _top_langs(stats: RunStats) -> list[str]:
    langs = sorted(stats["languages"].items(), key=lambda kv: (-kv[1]["in"], kv[0]))
    return [k for k, _ in langs[:MAX_LANGS]]


def _funnel(stats: RunStats, langs: list[str]) -> str:
    steps = [s for s in stats["steps"]]
    head = "".join(f"<th>{escape(str(s['index']))}. {escape(s['name'])}</th>" for s in steps)
    rows = []
    for lang in langs:
        cells = []
        for s in steps:
            c = s["langs"].get(lang)
            cells.append(f"<td>{c['out']:,}</td>" if c else "<td>·</td>")
        e = stats["languages"][lang]
        rows.append(f"<tr><td>{escape(lang)}</td><td>{e['in']:,}</td>{''.join(cells)}</tr>")
    table = f"<table><tr><th>lang</th><th>in</th>{head}</tr>{''.join(rows)}</table>"
    bars = hbar_chart([(lang, [stats["languages"][lang]["in"], stats["languages"][lang]["kept"]]) for lang in langs],
                      ["in", "kept"], "Funnel: documents in and kept")
    return table + "<p>Documents remaining after each step (langid onward counted under the detected language).</p>" + bars


def _reasons(stats: RunStats, langs: list[str]) -> str:
    totals: dict[str, int] = {}
    for e in stats["languages"].values():
        for reason, n in e["removed_by"].items():
            totals[reason] = totals.get(reason, 0) + n
        for reason, n in e["errored_by"].items():
            totals[f"error {reason}"] = totals.get(f"error {reason}", 0) + n
    top = sorted(totals.items(), key=lambda kv: -kv[1])[:20]
    chart = hbar_chart([(r[:40], [n]) for r, n in top], ["documents"], "Removal reasons, all languages")
    rows = []
    for lang in langs:
        e = stats["languages"][lang]
        reasons = ", ".join(f"{escape(r)} {n:,}" for r, n in list(e["removed_by"].items())[:5])
        rows.append(f"<tr><td>{escape(lang)}</td><td>{e['removed']:,}</td><td>{e['errored']:,}</td>"
                    f"<td style='text-align:left'>{reasons}</td></tr>")
    return chart + ("<table><tr><th>lang</th><th>removed</th><th>errored</th><th>top reasons</th></tr>"
                    + "".join(rows) + "</table>")


def _langid_hist(stats: RunStats, langs: list[str]) -> str:
    charts = []
    for step in stats["steps"]:
        for lang in langs[:12]:
            extra = step["langs"].get(lang, {}).get("extra", {})
            bins = sorted((k.split(":", 1)[1], v) for k, v in extra.items() if k.startswith("lang_score_bin:"))
            if bins:
                full = {f"{i / 20:.2f}": 0 for i in range(20)}
                full.update(dict(bins))
                charts.append(column_chart(list(full.items()), f"{lang}: language-ID score"))
    return f"<div class='grid'>{''.join(charts)}</div>" if charts else "<p class='empty'>no language-ID step</p>"


def _clusters(stats: RunStats, langs: list[str]) -> str:
    sizes = minhash_cluster_sizes(stats)
    charts = []
    for lang in langs[:12]:
        dist = sizes.get(lang)
        if dist:
            points = sorted(((int(k), v) for k, v in dist.items()))[:40]
            charts.append(column_chart([(str(k), float(v)) for k, v in points], f"{lang}: clusters by size",
                                       log=True))
    return f"<div class='grid'>{''.join(charts)}</div>" if charts else "<p class='empty'>no MinHash step in this run</p>"


def _largest_clusters(stats: RunStats) -> str:
    largest, verify = minhash_largest_clusters(stats)
    if not largest:
        return ""
    verified = any("removed" in c for c in largest)
    head = "<tr><th>lang</th><th>size</th><th>kept document</th><th>first members</th>"
    head += "<th>removed</th><th>similarity min / median / max</th></tr>" if verified else "</tr>"
    rows = []
    for c in largest:
        members = "<br>".join(escape(str(m)) for m in c.get("members", []))
        row = (f"<tr><td>{escape(c['lang'])}</td><td>{c['size']:,}</td>"
               f"<td>{escape(str(c.get('kept_url') or c.get('kept_id')))}</td><td>{members}</td>")
        if verified:
            sim = c.get("similarity") or {}
            row += (f"<td>{c.get('removed', 0):,}</td><td>{sim.get('min', '-')} / {sim.get('median', '-')} / "
                    f"{sim.get('max', '-')}</td>")
        rows.append(row + "</tr>")
    note = ""
    if verify:
        note = (f"<p>Verified at estimated similarity &ge; {verify.get('threshold')}: {verify.get('removed', 0):,} of "
                f"{verify.get('candidates', 0):,} cluster members removed, the others kept.</p>")
    return f"{note}<table>{head}{''.join(rows)}</table>"


def _rehydration(stats: RunStats, langs: list[str]) -> str:
    tables = rehydration_tables(stats)
    charts = []
    for lang in langs[:12]:
        table = tables.get(lang)
        if table:
            points = sorted((int(k), float(v)) for k, v in table.items())
            charts.append(column_chart([(str(k), v) for k, v in points], f"{lang}: repetitions by cluster size"))
    if charts:
        return f"<div class='grid'>{''.join(charts)}</div>"
    return "<p class='empty'>no rehydration step in this run</p>"


def _optouts(stats: RunStats) -> str:
    rows = []
    summary = optout_summary(stats)
    tokens = any(e["tokens"] is not None for langs in summary.values() for e in langs.values())
    for step, langs in summary.items():
        for lang, e in sorted(langs.items(), key=lambda kv: (-kv[1]["documents"], kv[0]))[:MAX_LANGS]:
            reasons = ", ".join(f"{escape(r)} {n:,}" for r, n in e["reasons"].items())
            top = ", ".join(f"{escape(d)} {n:,}" for d, n in e["top_domains"].items())
            rows.append(f"<tr><td>{escape(step)}</td><td>{escape(lang)}</td><td>{e['documents']:,}</td>"
                        f"<td>{e['bytes']:,}</td><td>{e['words']:,}</td>"
                        + (f"<td>{e['tokens'] or 0:,}</td>" if tokens else "")
                        + f"<td style='text-align:left'>{reasons}</td>"
                        f"<td style='text-align:left'>{top}</td></tr>")
    if not rows:
        return "<p class='empty'>no optout or domain_cap step removed anything in this run</p>"
    return ("<table><tr><th>step</th><th>lang</th><th>documents</th><th>bytes</th><th>words</th>"
            + ("<th>tokens</th>" if tokens else "") + "<th>reasons</th><th>top domains</th></tr>" + "".join(rows)
            + "</table>")


def _token_share(stats: RunStats, langs: list[str]) -> str:
    unit = "tokens" if any("tokens" in o for o in stats["output"].values()) else "words"
    total = sum(o.get(unit, 0) for o in stats["output"].values()) or 1
    rows = sorted(((lang, 100.0 * o.get(unit, 0) / total) for lang, o in stats["output"].items()),
                  key=lambda kv: -kv[1])[:MAX_LANGS]
    return hbar_chart([(lang, [share]) for lang, share in rows], [f"% of {unit}"],
                      f"Final {unit} share per language (%)")


def render_html(stats: RunStats) -> str:
    langs = _top_langs(stats)
    read = stats["read"]
    docs = hbar_chart([(lang, [stats["languages"][lang]["in"], stats["languages"][lang]["kept"]]) for lang in langs],
                      ["in", "kept"], "Documents per language", log=True)
    summary = (f"<p>{read['records']:,} records read: {read['emitted']:,} documents, "
               f"{sum(read['skipped'].values()):,} skipped, {sum(read['errored'].values()):,} errored; "
               f"{len(stats['shards'])} shards; config {escape(stats['config_hash'])}.</p>")
    sections = [
        ("Documents per language", docs),
        ("Filter funnel", _funnel(stats, langs)),
        ("Removal reasons", _reasons(stats, langs)),
        ("Language-ID scores", _langid_hist(stats, langs)),
        ("MinHash cluster sizes", _clusters(stats, langs)),
        ("Largest MinHash clusters", _largest_clusters(stats)),  # only when the step listed them
        ("Rehydration weights", _rehydration(stats, langs)),
        ("Opt-outs and domain caps", _optouts(stats)),
        ("Final mix", _token_share(stats, langs)),
    ]
    decontamination = decontamination_html(stats)
    if decontamination:
        sections.insert(-1, ("Benchmark decontamination", decontamination))
    if stats.get(SECTION):  # after `curate tokenize`
        sections.append(("Tokens per language", token_section_html(dict(stats))))
    body = "".join(f"<h2>{escape(title)}</h2>{html}" for title, html in sections if html)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>curate report: "
            f"{escape(stats['pipeline'])}</title><style>{STYLE}</style></head><body>"
            f"<h1>curate report: {escape(stats['pipeline'])}</h1>{summary}{body}</body></html>")


def write_html_report(out_dir: str, stats: RunStats) -> str:
    path = f"{out_dir.rstrip('/')}/report.html"
    write_text_atomic(path, render_html(stats))
    return path
