"""The extraction gold sets and their scores, one definition for the tests, the benchmarks and the training script.

Gold sets (the HTML is read from ``shared/data``, never copied into the repository):

- ``articles``: the 181 scrapinghub article-extraction-benchmark pages, gold = ``articleBody``;
- ``readability``: the 130 mozilla/readability test pages, gold = the text of readability's expected HTML
  (:func:`gold_text.html_to_text`);
- ``page_types``: forums, product and listing pages, documentation, home pages... from the real crawls of
  ``shared/data/warc``, gold main text written by hand (``tests/data/extraction_gold/README.md`` says how).

Scores, per engine and set:

- token precision / recall / F1: bag of lowercased tokens (:func:`tokens`: whitespace-separated, a CJK or Thai
  character on its own), per page, averaged over pages (an empty extraction scores 0);
- *gold snippets found* and *boilerplate snippets absent*: the two measures of snippet-based extraction
  evaluations. Each page gets "with" snippets (the first words of gold lines that are visible in the page's HTML)
  and "without" snippets (the first words of visible text lines of the page that are not in the gold main text,
  the page title or its ``h1`` headings). A snippet counts as found when its normalised text (NFKC, lowercase,
  whitespace removed) is a substring of the normalised output. Pooled over all snippets of a set.

The snippets are derived from the gold by this rule alone, without looking at any engine's output; up to
:data:`SNIPPETS_PER_PAGE` of each kind per page, spread evenly over the page.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gold_text import html_to_text
from lxml import html as lxml_html

from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader

PAGE_TYPES_FILE = Path(__file__).resolve().parent / "data" / "extraction_gold" / "page_types.jsonl"
SNIPPETS_PER_PAGE = 8
SNIPPET_WORDS = 10  # the first words of a line make its snippet
SNIPPET_WIDE_CHARS = 16  # ... or its first characters where words are not space-separated
MIN_WORDS, MIN_WIDE_CHARS = 3, 6  # shorter lines (menu items, single words) make no snippet

# Han, kana, hangul, Thai...: scripts written without spaces between words
_WIDE = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_SPACE = re.compile(r"\s+")
_INVISIBLE = "//script|//style|//noscript|//template|//head|//select|//textarea|//*[@hidden]"


@dataclass
class GoldPage:
    """One real page with its gold main text and the snippets derived from it."""

    gold_set: str
    record_id: str
    url: str
    html: str
    gold: str
    page_type: str = "article"
    lang: str | None = None
    neutral: list[str] = field(default_factory=list)  # lines that are neither main text nor boilerplate
    with_snippets: list[str] = field(default_factory=list)
    without_snippets: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    """NFKC, lowercase, all whitespace removed: how snippets are compared with an engine's output."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).lower())


def _snippet(line: str) -> str | None:
    """The first words of a line, or None when the line is too short to make a snippet."""
    words = line.split()
    wide = len(_WIDE.findall(line))
    if wide >= MIN_WIDE_CHARS:
        return line.strip()[:SNIPPET_WIDE_CHARS]
    if len(words) < MIN_WORDS:
        return None
    return " ".join(words[:SNIPPET_WORDS])


def _spread(items: Sequence[str], k: int) -> list[str]:
    """Up to k items spread evenly over the sequence, first and last included."""
    if len(items) <= k:
        return list(items)
    if k == 1:
        return [items[0]]
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def visible_lines(html: str) -> tuple[list[str], set[str]]:
    """The visible text lines of a page's body (a line break at each block element), and the normalised page
    title and ``h1`` texts (headlines: neither main text nor boilerplate in most gold sets)."""
    try:
        root = lxml_html.fromstring(html)
    except (ValueError, lxml_html.etree.ParserError):
        return [], set()
    headings = {normalise(el.text_content()) for el in root.xpath("//title|//h1")}
    for bad in root.xpath(_INVISIBLE):
        bad.drop_tree()
    body = lxml_html.tostring(root, encoding="unicode")
    lines = [_SPACE.sub(" ", s).strip() for s in html_to_text(body).splitlines()]
    return [s for s in lines if s], {h for h in headings if h}


def derive_snippets(page: GoldPage, k: int = SNIPPETS_PER_PAGE) -> None:
    """Fill the page's "with" and "without" snippets from its gold text and its visible HTML text."""
    lines, headings = visible_lines(page.html)
    visible = normalise("\n".join(lines))
    gold = normalise(page.gold)
    neutral = {normalise(line) for line in page.neutral}
    with_: list[str] = []
    for line in page.gold.splitlines():
        snip = _snippet(line)
        if snip and normalise(snip) in visible and snip not in with_:
            with_.append(snip)
    without: list[str] = []
    for line in lines:
        snip = _snippet(line)
        if snip is None or snip in without:
            continue
        n = normalise(snip)
        whole = normalise(line)
        if n in gold or whole in neutral or whole in headings or any(n in h for h in headings):
            continue
        without.append(snip)
    page.with_snippets = _spread(with_, k)
    page.without_snippets = _spread(without, k)


# ---------------------------------------------------------------------------------------------- loading


def _records(warc: Path) -> Iterator[tuple[str, str, str]]:
    for table in WarcReader().read(str(warc), ReadCounts()):
        yield from zip(table.column("id").to_pylist(), table.column("url").to_pylist(),
                       table.column("html").to_pylist(), strict=True)


def _read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def article_pages(shared: Path) -> list[GoldPage]:
    """The scrapinghub article-extraction-benchmark pages (gold ``articleBody``)."""
    golds = {g["record_id"]: g for g in _read_jsonl(shared / "extraction" / "scrapinghub_aeb_gold.jsonl")}
    pages = [GoldPage("articles", rid, url, html, golds[rid]["articleBody"])
             for rid, url, html in _records(shared / "extraction" / "scrapinghub_aeb_pages.warc.gz")
             if rid in golds and html]
    return _with_snippets(pages)


def readability_pages(shared: Path) -> list[GoldPage]:
    """The mozilla/readability test pages (gold = the text of the expected HTML)."""
    golds = {g["record_id"]: g for g in _read_jsonl(shared / "extraction" / "mozilla_readability_gold.jsonl")}
    pages = []
    for rid, url, html in _records(shared / "extraction" / "mozilla_readability_testpages.warc.gz"):
        if rid in golds and html:
            g = golds[rid]
            pages.append(GoldPage("readability", rid, url, html, html_to_text(g["expected_html"]),
                                  lang=g["expected_metadata"].get("lang")))
    return _with_snippets(pages)


def page_type_pages(shared: Path, path: Path = PAGE_TYPES_FILE) -> list[GoldPage]:
    """The hand-made gold set of non-article pages (record ids into the shared crawls)."""
    entries = _read_jsonl(path)
    by_file: dict[str, dict[str, dict]] = {}
    for e in entries:
        by_file.setdefault(e["warc"], {})[e["record_id"]] = e
    found: dict[str, GoldPage] = {}
    for warc, wanted in by_file.items():
        for rid, url, html in _records(shared / "warc" / warc):
            e = wanted.get(rid)
            if e is not None and html and rid not in found:
                found[rid] = GoldPage("page_types", rid, url, html, e["gold"], page_type=e["page_type"],
                                      lang=e.get("lang"), neutral=e.get("neutral", []))
    missing = [e["record_id"] for e in entries if e["record_id"] not in found]
    if missing:
        raise LookupError(f"{path}: {len(missing)} record ids not found in shared/data/warc: {missing[:3]}")
    return _with_snippets([found[e["record_id"]] for e in entries])


def _with_snippets(pages: list[GoldPage]) -> list[GoldPage]:
    for page in pages:
        derive_snippets(page)
    return pages


def gold_sets(shared: Path, names: Iterable[str] = ("articles", "readability", "page_types")) -> dict[str, list[GoldPage]]:
    loaders = {"articles": article_pages, "readability": readability_pages, "page_types": page_type_pages}
    return {name: loaders[name](shared) for name in names}


# ---------------------------------------------------------------------------------------------- scoring


_TOKEN = re.compile(_WIDE.pattern + r"|[^\s" + _WIDE.pattern[1:-1] + r"]+")


def tokens(text: str) -> list[str]:
    """Lowercased tokens: runs of non-space characters, each character of a script written without spaces on its
    own (so that a Chinese or Japanese page is not one token per sentence)."""
    return _TOKEN.findall(text.lower())


def token_prf(pred: str, gold: str) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall, F1 of one page (:func:`tokens`; an empty output scores 0)."""
    tp, tg = Counter(tokens(pred)), Counter(tokens(gold))
    common = sum((tp & tg).values())
    p = common / sum(tp.values()) if tp else 0.0
    r = common / sum(tg.values()) if tg else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Scores:
    """Token and snippet scores of one engine over a list of pages."""

    pages: int = 0
    p: float = 0.0
    r: float = 0.0
    f1: float = 0.0
    with_found: int = 0
    with_total: int = 0
    without_present: int = 0
    without_total: int = 0
    empty: int = 0

    def add(self, page: GoldPage, pred: str) -> None:
        p, r, f = token_prf(pred, page.gold)
        self.pages += 1
        self.p += p
        self.r += r
        self.f1 += f
        self.empty += not pred.strip()
        out = normalise(pred)
        self.with_found += sum(normalise(s) in out for s in page.with_snippets)
        self.with_total += len(page.with_snippets)
        self.without_present += sum(normalise(s) in out for s in page.without_snippets)
        self.without_total += len(page.without_snippets)

    @property
    def found(self) -> float:
        """Share of gold ("with") snippets found in the output."""
        return self.with_found / self.with_total if self.with_total else float("nan")

    @property
    def absent(self) -> float:
        """Share of boilerplate ("without") snippets absent from the output."""
        return 1 - self.without_present / self.without_total if self.without_total else float("nan")

    @property
    def precision(self) -> float:
        return self.p / self.pages if self.pages else float("nan")

    @property
    def recall(self) -> float:
        return self.r / self.pages if self.pages else float("nan")

    @property
    def f1_mean(self) -> float:
        return self.f1 / self.pages if self.pages else float("nan")


def score(pages: Sequence[GoldPage], preds: Sequence[str]) -> Scores:
    s = Scores()
    for page, pred in zip(pages, preds, strict=True):
        s.add(page, pred)
    return s
