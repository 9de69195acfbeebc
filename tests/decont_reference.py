"""A slow, character-by-character reference of decontamination's tokens and overlaps, for the tests.

It shares only the definitions with curate.decont (the normal form written with ``unicodedata``, the class of a
character, the segmenters of the language table); none of the vectorised code, hashing, index or matcher: tokens
are runs of same-class characters of the reference normal form, runs of scripts written without spaces cut by the
segmenter, and an overlap is a set intersection of n-token tuples.
"""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from pathlib import Path

from curate.decont.char_table import CJ, SEP, char_class, reference_normal_form
from curate.decont.run_segmenter import RunSegmenter
from curate.extract.engines import resiliparse_text
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader

_SEGMENTER = RunSegmenter()


def reference_tokens(text: str, lang: str) -> list[str]:
    norm = reference_normal_form(text)
    tokens: list[str] = []
    i = 0
    while i < len(norm):
        cls = char_class(ord(norm[i]), unicodedata.category(norm[i]))
        j = i + 1
        while j < len(norm) and char_class(ord(norm[j]), unicodedata.category(norm[j])) == cls:
            j += 1
        if cls != SEP:
            run = norm[i:j]
            if cls >= CJ:
                at = i
                for length in _SEGMENTER.cut(run, cls, lang):
                    tokens.append(norm[at:at + length])
                    at += length
            else:
                tokens.append(run)
        i = j
    return tokens


def reference_overlap(doc: list[str], item: list[str], n: int, ignore: frozenset[tuple[str, ...]] = frozenset()
                      ) -> int:
    """Document tokens covered by n-grams it shares with ``item`` (those in ``ignore`` left out)."""
    grams = {tuple(item[i:i + n]) for i in range(len(item) - n + 1)} - ignore
    covered: set[int] = set()
    for i in range(len(doc) - n + 1):
        if tuple(doc[i:i + n]) in grams:
            covered.update(range(i, i + n))
    return len(covered)


def raw_offsets(text: str) -> list[int] | None:
    """For each position of the reference normal form of ``text``, the raw position it comes from (and one past
    the end); None when the normal form is not character by character (composition across characters)."""
    out: list[int] = []
    for i, ch in enumerate(text):
        out.extend([i] * len(reference_normal_form(ch)))
    out.append(len(text))
    return out if len(out) - 1 == len(reference_normal_form(text)) else None


@lru_cache(maxsize=1)
def crawled_pages(data: Path) -> tuple[str, ...]:
    """Main text (curate's ``resiliparse`` engine) of every HTML page of the shared WARCs and extraction
    pages, in file order: real crawled documents in English, German, Russian, Chinese, Japanese, Dutch, ..."""
    files = sorted((data / "extraction").glob("*.warc.gz")) + sorted((data / "warc").glob("*.warc.gz"))
    pages = []
    for path in files:
        try:
            for table in WarcReader().read(str(path), ReadCounts()):
                for html in table.column("html").to_pylist():
                    if not html:
                        continue
                    try:
                        text = resiliparse_text(html)
                    except Exception:  # a page the engine rejects is simply not a host
                        continue
                    if text and len(text) > 200:
                        pages.append(text)
        except Exception:  # the clipped WARC ends early: its pages before the cut are kept
            continue
    return tuple(pages)


def xquad_contexts(data: Path) -> dict[str, list[str]]:
    """Per XQuAD language code, its passages in file order."""
    out = {}
    for path in sorted((data / "evalsets" / "xquad").glob("xquad.*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out[path.name.split(".")[1]] = [p["context"] for a in doc["data"] for p in a["paragraphs"]]
    return out
