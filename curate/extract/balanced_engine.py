"""The ``balanced`` extraction engine: resiliparse's main content, block by block kept or dropped by a learned model.

Resiliparse's main-content heuristics (C++) keep nearly all of a page's main text and some of its boilerplate;
trafilatura keeps less boilerplate at several times the cost and drops more main text. This engine renders
resiliparse's main content as minimal HTML (:mod:`minimal_html_blocks`), computes shallow text features per block
(:mod:`block_features`, after Kohlschütter et al., WSDM 2010) and keeps the blocks that the two-stage logistic
model of :mod:`block_classifier` calls main text. Its figures, measured on pages its model was not trained on,
are in benchmarks/RESULTS.md ("extraction_quality").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from curate.extract.block_classifier import BlockClassifier, shipped_classifier
from curate.extract.block_features import BlockFeatures
from curate.extract.minimal_html_blocks import Blocks, MinimalHtmlBlocks

BULLET = "\u2022 "  # list items keep a bullet, as in the resiliparse engine


def main_content_blocks(html: str | bytes) -> Blocks:
    """Resiliparse's main content, rendered as minimal HTML, split into blocks."""
    # optional fast extractor: imported only when selected
    from resiliparse.parse.html import HTMLTree

    return tree_blocks(HTMLTree.parse_from_bytes(html, "utf-8") if isinstance(html, bytes) else HTMLTree.parse(html))


def tree_blocks(tree: Any, post_meta: bool = True, skip_elements: Sequence[str] = ()) -> Blocks:
    """The blocks of a parsed page (a resiliparse ``HTMLTree``, which an experiment may have changed);
    ``post_meta`` and ``skip_elements``: resiliparse's options of those names (experiments change them)."""
    # optional fast extractor: imported only when selected
    from resiliparse.extract.html2text import extract_plain_text

    markup = extract_plain_text(
        tree, preserve_formatting="minimal_html", main_content=True, list_bullets=False, alt_texts=False,
        links=True, form_fields=False, noscript=False, comments=False, post_meta=post_meta,
        skip_elements=list(skip_elements),
    )
    return _BLOCKS(markup)


_BLOCKS = MinimalHtmlBlocks()


def kept_text(blocks: Blocks, keep: Sequence[bool]) -> str:
    """The kept blocks' text, one block per line, list items with a bullet."""
    return "\n".join(BULLET + text if in_list else text
                     for text, in_list, kept in zip(blocks.texts, blocks.in_list, keep, strict=True) if kept)


class BalancedEngine:
    """``engine(html) -> text``; the shipped model unless another :class:`BlockClassifier` is given, and the
    shipped blocks unless an experiment gives another ``blocks(html)``. ``threshold``: the keep probability of a
    block (default: the model's own, 0.5); higher keeps less boilerplate and less main text (the trade-off,
    measured out of sample, is in benchmarks/RESULTS.md, ``extraction_block_variants``)."""

    def __init__(self, classifier: BlockClassifier | None = None,
                 blocks: Callable[[str | bytes], Blocks] | None = None, threshold: float | None = None) -> None:
        self._classifier = classifier
        self._blocks = blocks or main_content_blocks
        self._features = BlockFeatures()
        self.threshold = threshold

    def __call__(self, html: str | bytes) -> str:
        blocks = self._blocks(html)
        if not len(blocks):
            return ""
        classifier = self._classifier or shipped_classifier()
        features = self._features(blocks)
        if self.threshold is None:
            return kept_text(blocks, classifier.keep(features))
        return kept_text(blocks, classifier.probabilities(features) >= self.threshold)
