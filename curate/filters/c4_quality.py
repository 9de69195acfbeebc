"""C4 quality heuristics (optional; FineWeb2 does not apply them).

Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
Transformer" (JMLR 21), Section 2.2 "The Colossal Clean Crawled Corpus": keep only lines ending in
a terminal punctuation mark, drop lines with fewer than 3 words or mentioning "javascript", drop
pages with fewer than 5 sentences, containing "lorem ipsum" or a curly bracket. The TensorFlow
Datasets implementation (``c4_utils.py``) also drops lines with a word over 1000 characters and
cookie/terms-of-use boilerplate lines, and strips Wikipedia citation marks; datatrove's
``C4QualityFilter`` (used for FineWeb English) follows it, and so does this block.

This block both filters and rewrites: removed lines are dropped from the kept documents' text.
Document-level reasons: ``lorem_ipsum``, ``curly_bracket``, ``too_few_sentences``. Sentences are
counted with the language's sentence splitter (spaCy's sentencizer for spaCy languages).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from curate.blocks.base import BlockContext, BlockOutput
from curate.blocks.columns import TEXT
from curate.filters._base import LanguageAwareFilter, pick
from curate.languages.language_config import LanguageConfig
from curate.tokenizers import get_word_tokenizer
from curate.tokenizers.base import WordTokenizer

_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_END_PUNCT = (".", "?", "!", '"', "'")
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


class C4QualityFilter(LanguageAwareFilter):
    """C4's line and page heuristics (Raffel et al. 2020, §2.2); rewrites kept documents."""

    name: ClassVar[str] = "c4"

    def __init__(
        self,
        split_paragraph: bool = True,
        remove_citations: bool = True,
        filter_no_terminal_punct: bool = True,
        min_num_sentences: int = 5,
        min_words_per_line: int = 3,
        max_word_length: int = 1000,
        filter_lorem_ipsum: bool = True,
        filter_javascript: bool = True,
        filter_curly_bracket: bool = True,
        filter_policy: bool = True,
        tokenizer: str | None = None,
    ) -> None:
        self.split_paragraph = split_paragraph  # False: judge sentences instead of lines
        self.remove_citations = remove_citations
        self.filter_no_terminal_punct = filter_no_terminal_punct
        self.min_num_sentences = min_num_sentences  # -1 disables
        self.min_words_per_line = min_words_per_line  # -1 disables
        self.max_word_length = max_word_length  # -1 disables
        self.filter_lorem_ipsum = filter_lorem_ipsum
        self.filter_javascript = filter_javascript
        self.filter_curly_bracket = filter_curly_bracket
        self.filter_policy = filter_policy
        self.tokenizer = tokenizer

    def params(self, cfg: LanguageConfig) -> WordTokenizer:
        return get_word_tokenizer(pick(self.tokenizer, cfg.tokenizer))

    def prepare_batch(self, table: pa.Table) -> dict[int, str]:
        return {}  # row -> rewritten text of kept documents

    def judge(self, text: str, tok: WordTokenizer, row: int, batch: dict[int, str]) -> str | None:
        lines = text.splitlines() if self.split_paragraph else tok.sentences(text)
        kept: list[str] = []
        n_sentences = 0
        for line in lines:
            line = line.strip()
            words = line.split()
            if self.max_word_length != -1 and any(len(w) > self.max_word_length for w in words):
                continue
            if self.remove_citations:
                line = _CITATION.sub("", line)
            if self.filter_no_terminal_punct and (not line.endswith(_END_PUNCT) or line.endswith("...")):
                continue
            if len(words) < self.min_words_per_line:
                continue
            low = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in low:
                return "lorem_ipsum"
            if self.filter_javascript and "javascript" in low:
                continue
            if self.filter_curly_bracket and "{" in line:
                return "curly_bracket"
            if self.filter_policy and any(p in low for p in _POLICY):
                continue
            if self.min_num_sentences != -1:
                n_sentences += len(tok.sentences(line)) if self.split_paragraph else 1
            kept.append(line)
        if n_sentences < self.min_num_sentences:
            return "too_few_sentences"
        batch[row] = ("\n" if self.split_paragraph else " ").join(kept).strip()
        return None

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        keep, reasons, errors, rewritten = self._run(table, ctx)
        texts: list[Any] = table.column(TEXT).to_pylist()
        for row, text in rewritten.items():
            texts[row] = text
        idx = table.column_names.index(TEXT)
        table = table.set_column(idx, table.schema.field(TEXT), pa.array(texts, type=table.schema.field(TEXT).type))
        return BlockOutput(
            table=table, keep=np.asarray(keep), reasons=reasons,
            errors=errors if any(e is not None for e in errors) else None,
        )
