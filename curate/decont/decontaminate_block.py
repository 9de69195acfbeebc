"""The ``decontaminate`` block: documents that share n tokens or more with an evaluation set's text.

An n-gram is n consecutive words of the normal form (NFKC, lower-cased, punctuation and symbols as separators) in
the word tokenizer of the document's language, a segmenter's words for scripts written without spaces (FineWeb2's
assignment: jieba, Sudachi, PyThaiNLP, ...), characters where no segmenter exists; evaluation texts are read with
their own language's. ``n`` defaults to 13 (Brown et al. 2020, GPT-3 appendix C; datatrove's default is 12).
The match is exact: a hash hit is checked on the evaluation text itself (:mod:`curate.decont.matcher`), so there
are no false positives of the kind Bloom filters give (marin #5519 asked for exactly this).

Settings: ``sets`` (paths or set mappings, see :mod:`curate.decont.set_spec`; the index is built once per machine
into a cache) or ``index`` (a folder or URL from ``curate decont index``), ``n``, ``action`` (``remove``: the
document goes to ``_removed`` with ``drop_reason`` ``decontaminate:<set>``; ``flag``: it is kept), ``common_texts``
(n-grams in that many evaluation texts or more are left out as templates; null keeps them).

Every row gets ``contamination`` (null when clean): per evaluation text found, largest overlap first, its set,
first item, field, language, ``overlap`` (document tokens covered by shared n-grams), ``tokens`` (the text's
length), ``items`` (items sharing the text, e.g. a passage's questions) and the first shared n-gram. Statistics
count, per language, ``contaminated`` documents and ``contaminated:<set>``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockOutput
from curate.blocks.columns import LANG, TEXT, UNKNOWN_LANG
from curate.decont.decont_index import DecontIndex, open_index
from curate.decont.errors import DecontIndexError
from curate.decont.index_builder import COMMON_TEXTS, DEFAULT_N
from curate.decont.index_cache import cached_index
from curate.decont.matcher import Match, Matcher
from curate.decont.normalizer import Texts
from curate.decont.run_segmenter import RunSegmenter
from curate.decont.set_spec import parse_set_specs

CONTAMINATION = "contamination"
MAX_MATCHES = 16  # evaluation texts listed per document (the largest overlaps)
MATCH_TYPE = pa.struct([
    ("set", pa.string()), ("item", pa.string()), ("field", pa.string()), ("lang", pa.string()),
    ("overlap", pa.int32()), ("tokens", pa.int32()), ("items", pa.int32()), ("ngram", pa.string()),
])
CONTAMINATION_TYPE = pa.list_(MATCH_TYPE)

_MATCHERS: dict[tuple[str, int], Matcher] = {}


class Decontaminate(Block):
    """Remove (or flag) documents that overlap an evaluation set by ``n`` tokens or more."""

    name: ClassVar[str] = "decontaminate"
    kind: ClassVar[Literal["filter"]] = "filter"

    def __init__(self, sets: list[str | dict[str, Any]] | None = None, index: str | None = None,
                 n: int | None = None, action: Literal["remove", "flag"] = "remove",
                 common_texts: int | None = COMMON_TEXTS) -> None:
        if (sets is None) == (index is None):
            raise ValueError("decontaminate: give either sets (evaluation set paths) or index (a folder built by "
                             "`curate decont index`), not both")
        if sets is not None:
            parse_set_specs(sets)  # shape errors now, at validation
        if n is not None and n < 1:
            raise ValueError(f"decontaminate: n must be at least 1, got {n}")
        if action not in ("remove", "flag"):
            raise ValueError(f"decontaminate: action must be remove or flag, got {action!r}")
        self.sets = sets
        self.index = index
        self.n = n
        self.action = action
        self.common_texts = common_texts

    def _open(self) -> DecontIndex:
        if self.index is not None:
            opened = open_index(self.index)
            if self.n is not None and self.n != opened.n:
                raise DecontIndexError(f"decontaminate: n is {self.n} but the index {self.index} was built with "
                                       f"n = {opened.n}; drop n or rebuild the index with --n {self.n}")
            return opened
        return cached_index(self.sets, self.n or DEFAULT_N, self.common_texts)

    def matcher(self, ctx: BlockContext | None) -> Matcher:
        """The process's matcher for this block's index (its ``cpu`` says where the time went)."""
        return self._matcher(ctx)

    def _matcher(self, ctx: BlockContext | None) -> Matcher:
        index = self._open()
        key = (index.path, id(ctx.languages) if ctx is not None and ctx.languages is not None else 0)
        matcher = _MATCHERS.get(key)
        if matcher is None:
            matcher = _MATCHERS[key] = Matcher(index, RunSegmenter(ctx.languages if ctx is not None else None))
        return matcher

    def preflight(self) -> None:
        """The index opens (built here first from ``sets``; checked against its manifest)."""
        self._open()

    def _entries(self, matcher: Matcher, matches: list[Match]) -> list[dict[str, Any]]:
        out = []
        for m in matches[:MAX_MATCHES]:
            info = matcher.index.info(m.text_id)
            out.append({"set": info.set, "item": info.item, "field": info.field, "lang": info.lang,
                        "overlap": m.overlap, "tokens": info.tokens, "items": len(info.items), "ngram": m.ngram})
        return out

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        n_rows = table.num_rows
        texts: Texts = [""] * n_rows
        if TEXT in table.column_names:  # handed over as Arrow: decoded in one piece, no string per document
            texts = table.column(TEXT).combine_chunks()
            if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
                texts = texts.cast(pa.large_string())
        langs = ([lang or UNKNOWN_LANG for lang in table.column(LANG).to_pylist()]
                 if LANG in table.column_names else [UNKNOWN_LANG] * n_rows)
        matcher = self._matcher(ctx)
        errors: list[str | None] = [None] * n_rows
        try:
            found = matcher.match(texts, langs)
        except Exception:  # find the document that fails; the others are matched on their own
            found = []
            for i in range(n_rows):
                try:
                    found.extend(matcher.match(texts[i:i + 1], langs[i:i + 1]))
                except Exception as exc:
                    errors[i] = f"{type(exc).__name__}: {exc}"[:500]
                    found.append([])
        column = [self._entries(matcher, m) if m else None for m in found]
        values = pa.array(column, CONTAMINATION_TYPE)
        if CONTAMINATION in table.column_names:  # a second decontaminate step: its findings replace the first's
            out = table.set_column(table.column_names.index(CONTAMINATION), CONTAMINATION, values)
        else:
            out = table.append_column(CONTAMINATION, values)
        has_error = any(e is not None for e in errors)
        if self.action == "flag":
            return BlockOutput(table=out, errors=errors if has_error else None)
        keep = np.fromiter((not m for m in found), dtype=bool, count=n_rows)
        reasons = [entries[0]["set"] if entries else None for entries in column]
        return BlockOutput(table=out, keep=keep, reasons=reasons, errors=errors if has_error else None)

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        if CONTAMINATION not in table.column_names:
            return {}
        langs = table.column(LANG).to_pylist() if LANG in table.column_names else [UNKNOWN_LANG] * table.num_rows
        out: dict[str, dict[str, int]] = {}
        for lang, entries in zip(langs, table.column(CONTAMINATION).to_pylist(), strict=True):
            if not entries:
                continue
            counts = out.setdefault(lang or UNKNOWN_LANG, {})
            counts["contaminated"] = counts.get("contaminated", 0) + 1
            for name in dict.fromkeys(e["set"] for e in entries):
                key = f"contaminated:{name}"
                counts[key] = counts.get(key, 0) + 1
        return out
