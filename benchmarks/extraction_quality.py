"""Extraction quality and speed of curate's engines against gold main text.

    .venv/bin/python benchmarks/extraction_quality.py [--repeats 3]

Datasets (shared/data/extraction, real pages in WARC envelopes):
- scrapinghub article-extraction-benchmark: 181 news pages, gold = ``articleBody``;
- mozilla/readability test pages: 130 pages, gold = the text of readability's expected HTML
  (block elements become line breaks, then lxml's ``text_content``).

Metric (documented in RESULTS.md too): bag of words over whitespace tokens of the lowercased text
(``text.lower().split()``, punctuation stays attached). Per page, with C = multiset intersection of
predicted and gold tokens: precision = |C| / |pred|, recall = |C| / |gold|, F1 their harmonic mean.
An empty extraction scores P = R = F1 = 0. We report the mean over pages (macro) and the F1 of the
counts pooled over all pages (micro). ms/page = CPU time of extraction only (HTML string in, text out, no
WARC reading; single thread, so CPU time is wall time on an idle core and does not stretch when other work
shares the machine), median over ``--repeats`` passes of the per-dataset total, divided by the page count.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from _results import machine_line, md_table, median, require_shared, write_section
from trafilatura.meta import reset_caches

from curate.extract.engines import resiliparse_text, trafilatura_text
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader

ENGINES: dict[str, Callable[[str], str]] = {
    "trafilatura (FineWeb settings)": trafilatura_text,
    "resiliparse": resiliparse_text,
}
_BLOCK_TAG = re.compile(
    r"<(/?)(p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|section|article|blockquote|pre|figure|figcaption"
    r"|dd|dt|dl|hr|header|footer|aside|main|nav)\b",
    re.IGNORECASE,
)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, with a line break at every block element."""
    from lxml import html as lxml_html

    if not html.strip():
        return ""
    root = lxml_html.fromstring(_BLOCK_TAG.sub(lambda m: "\n<" + m.group(1) + m.group(2), html))
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return root.text_content()


def tokens(text: str) -> Counter[str]:
    return Counter(text.lower().split())


@dataclass
class Score:
    """Token bag scores of one engine on one dataset."""

    p: list[float] = field(default_factory=list)
    r: list[float] = field(default_factory=list)
    f: list[float] = field(default_factory=list)
    common: int = 0
    n_pred: int = 0
    n_gold: int = 0
    empty: int = 0

    def add(self, pred: str, gold: str) -> None:
        tp, tg = tokens(pred), tokens(gold)
        common = sum((tp & tg).values())
        n_pred, n_gold = sum(tp.values()), sum(tg.values())
        p = common / n_pred if n_pred else 0.0
        r = common / n_gold if n_gold else 0.0
        self.p.append(p)
        self.r.append(r)
        self.f.append(2 * p * r / (p + r) if p + r else 0.0)
        self.common += common
        self.n_pred += n_pred
        self.n_gold += n_gold
        self.empty += n_pred == 0

    def micro_f1(self) -> float:
        p = self.common / self.n_pred if self.n_pred else 0.0
        r = self.common / self.n_gold if self.n_gold else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def load_dataset(warc: str, gold_file: str, gold_of: Callable[[dict], str]) -> list[tuple[str, str]]:
    """(html, gold text) pairs, matched by WARC-Record-ID (falling back to the URL)."""
    gold_path = require_shared("extraction", gold_file)
    with open(gold_path, encoding="utf-8") as f:
        golds = [json.loads(line) for line in f]
    by_id = {g["record_id"]: gold_of(g) for g in golds}
    by_url = {g["url"]: gold_of(g) for g in golds}
    pairs: list[tuple[str, str]] = []
    counts = ReadCounts()
    for table in WarcReader().read(str(require_shared("extraction", warc)), counts):
        for rid, url, html in zip(table.column("id").to_pylist(), table.column("url").to_pylist(),
                                  table.column("html").to_pylist(), strict=True):
            gold = by_id.get(rid, by_url.get(url))
            if gold is not None and html:
                pairs.append((html, gold))
    if len(pairs) != len(golds):
        print(f"warning: {warc}: {len(pairs)} of {len(golds)} gold pages matched a WARC record")
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timing passes per engine and dataset (median)")
    args = parser.parse_args()

    datasets = {
        "scrapinghub AEB": load_dataset("scrapinghub_aeb_pages.warc.gz", "scrapinghub_aeb_gold.jsonl",
                                        lambda g: g["articleBody"]),
        "mozilla readability": load_dataset("mozilla_readability_testpages.warc.gz",
                                            "mozilla_readability_gold.jsonl",
                                            lambda g: html_to_text(g["expected_html"])),
    }
    rows: list[list[object]] = []
    for engine_name, engine in ENGINES.items():
        engine(datasets["scrapinghub AEB"][0][0])  # warm-up: imports, lazy tables
        all_pages = Score()
        all_ms: list[float] = []
        for ds_name, pairs in datasets.items():
            score = Score()
            times: list[float] = []
            for rep in range(args.repeats):
                reset_caches()  # trafilatura's deduplicate LRU would drop segments seen in earlier passes
                t0 = time.process_time()
                preds = [engine(html) for html, _ in pairs]
                times.append(time.process_time() - t0)
                if rep == 0:
                    for pred, (_, gold) in zip(preds, pairs, strict=True):
                        score.add(pred, gold)
                        all_pages.add(pred, gold)
            ms = median(times) / len(pairs) * 1e3
            all_ms.append(median(times) * 1e3)
            rows.append(_row(engine_name, ds_name, len(pairs), score, ms))
        n_all = sum(len(p) for p in datasets.values())
        rows.append(_row(engine_name, "**both**", n_all, all_pages, sum(all_ms) / n_all))

    table = md_table(["engine", "dataset", "pages", "precision", "recall", "F1", "micro F1", "empty", "ms/page"],
                     rows)
    print(table)
    write_section("extraction_quality", "\n".join([
        "## Extraction quality against gold main text",
        "",
        "`.venv/bin/python benchmarks/extraction_quality.py` — curate's engines (`curate.extract.engines`) on "
        "the real pages of `shared/data/extraction`: scrapinghub article-extraction-benchmark (gold "
        "`articleBody`) and mozilla/readability test pages (gold = text of readability's expected HTML, a line "
        "break at each block element).",
        "",
        table,
        "",
        "- Metric: bag of words over whitespace tokens of the lowercased text (`text.lower().split()`, "
        "punctuation kept). Per page, with C the multiset intersection of predicted and gold tokens: "
        "precision = |C|/|pred|, recall = |C|/|gold|, F1 = harmonic mean; an empty extraction scores 0. "
        "precision/recall/F1 are means over pages; micro F1 pools the counts of all pages; *empty* = pages "
        "with no extracted text.",
        "- Whitespace tokens undercount CJK pages (a few mozilla pages are zh/ja): they are whole-sentence tokens.",
        f"- ms/page: CPU time of extraction only (HTML string in, text out; single-threaded, so it equals wall "
        f"time on an idle core), median of {args.repeats} passes; {machine_line()}.",
    ]))


def _row(engine: str, dataset: str, pages: int, s: Score, ms: float) -> list[object]:
    return [engine, dataset, pages, f"{sum(s.p) / len(s.p):.3f}",
            f"{sum(s.r) / len(s.r):.3f}", f"{sum(s.f) / len(s.f):.3f}", f"{s.micro_f1():.3f}", s.empty, f"{ms:.1f}"]


if __name__ == "__main__":
    main()
