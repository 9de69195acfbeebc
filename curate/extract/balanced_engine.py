"""The ``balanced`` extraction engine: resiliparse's main content, block by block kept or dropped by a learned model.

Resiliparse's main-content heuristics (C++) keep nearly all of a page's main text and some of its boilerplate;
trafilatura keeps less boilerplate at several times the cost and drops more main text. This engine renders
resiliparse's main content as minimal HTML (:mod:`minimal_html_blocks`) without post metadata and without the
elements that trafilatura's discard rules name (:mod:`discard_selectors`), computes shallow text features per
block (:mod:`block_features`, after Kohlschütter et al., WSDM 2010) and keeps the blocks that the two-stage
logistic model of :mod:`block_classifier` calls main text. Its figures, measured on pages its model was not
trained on, are in benchmarks/RESULTS.md ("extraction_quality"; the choices, one by one, in
"extraction_discard").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from curate.extract.block_classifier import BlockClassifier, shipped_classifier
from curate.extract.block_features import BlockFeatures
from curate.extract.discard_selectors import DISCARD
from curate.extract.minimal_html_blocks import Blocks, MinimalHtmlBlocks

BULLET = "\u2022 "  # list items keep a bullet, as in the resiliparse engine
# the discard list hits a page's own content wrapper now and then (a blog's "widget Blog", an article body in a
# "sidebar-fixed" segment) and leaves next to nothing: a rendering under SHORT_MARKUP characters is checked against
# the rendering without the list, and replaced by it when the list removed over 3/4 of the markup
SHORT_MARKUP = 2000
DISCARD_KEEPS_AT_LEAST = 0.25


def main_content_blocks(html: str | bytes) -> Blocks:
    """The engine's blocks: resiliparse's main content without post metadata and without the discard list's
    elements, rendered as minimal HTML and split (with the check of ``SHORT_MARKUP``)."""
    return _BLOCKS(discarded_markup(parse(html))[0])


def discarded_markup(tree: Any, short: float = SHORT_MARKUP, keep_at_least: float = DISCARD_KEEPS_AT_LEAST,
                     discard: Sequence[str] = DISCARD) -> tuple[str, bool]:
    """The main content's markup without post metadata and without ``discard``'s elements, and whether the check
    replaced it by the rendering without them (the engine's numbers unless an experiment moves them)."""
    markup = main_content_markup(tree, post_meta=False, skip_elements=discard)
    if len(markup) < short:
        whole = main_content_markup(tree, post_meta=False)
        if len(markup) < keep_at_least * len(whole):
            return whole, True
    return markup, False


def parse(html: str | bytes) -> Any:
    """A resiliparse ``HTMLTree`` of the page."""
    # optional fast extractor: imported only when selected
    from resiliparse.parse.html import HTMLTree

    return HTMLTree.parse_from_bytes(html, "utf-8") if isinstance(html, bytes) else HTMLTree.parse(html)


def main_content_markup(tree: Any, post_meta: bool, skip_elements: Sequence[str] = ()) -> str:
    """Resiliparse's main content of a parsed page as minimal HTML; ``post_meta`` and ``skip_elements``:
    resiliparse's options of those names."""
    # optional fast extractor: imported only when selected
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(
        tree, preserve_formatting="minimal_html", main_content=True, list_bullets=False, alt_texts=False,
        links=True, form_fields=False, noscript=False, comments=False, post_meta=post_meta,
        skip_elements=list(skip_elements),
    )


def tree_blocks(tree: Any, post_meta: bool = True, skip_elements: Sequence[str] = ()) -> Blocks:
    """The blocks of a parsed page (which an experiment may have changed) with resiliparse's options as given
    and no fallback; the defaults are the engine's blocks before the discard list (experiments compare with
    them)."""
    return _BLOCKS(main_content_markup(tree, post_meta, skip_elements))


_BLOCKS = MinimalHtmlBlocks()


def kept_text(blocks: Blocks, keep: Sequence[bool]) -> str:
    """The kept blocks' text, one block per line, list items with a bullet."""
    return "\n".join(BULLET + text if in_list else text
                     for text, in_list, kept in zip(blocks.texts, blocks.in_list, keep, strict=True) if kept)


class BalancedEngine:
    """``engine(html) -> text``; the shipped model unless another :class:`BlockClassifier` is given, and the
    shipped blocks unless an experiment gives another ``blocks(html)``. ``threshold``: the keep probability of a
    block (default: the model's own, 0.5); higher keeps less boilerplate and less main text (the trade-off,
    measured out of sample, is in benchmarks/RESULTS.md, ``extraction_discard``)."""

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
