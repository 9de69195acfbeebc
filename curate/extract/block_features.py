"""Shallow text and position features of a page's blocks, for the block classifier.

After Kohlschütter, Fankhauser & Nejdl, *Boilerplate Detection using Shallow Text Features* (WSDM 2010): the
number of words, the link density and the text density of a block and of its neighbours separate main text
from boilerplate about as well as DOM-heavy methods. To those we add the block's kind (paragraph, heading, list
item...), sentence punctuation, its position relative to the page's long blocks (boilerplate gathers before the
first and after the last one: jusText's context rule, Pomikálek 2011, ch. 3) and page-level context (how long
the page is, what share of its text sits in paragraphs). Every feature is computed from the blocks alone, in
one Python pass plus a few numpy operations, so that extraction stays several times cheaper than trafilatura.

Length is counted in characters, a character of a script written without spaces (Han, kana, hangul, Thai)
counting 3: one such character carries about as much as a short word.
"""

from __future__ import annotations

import math
import re

import numpy as np

from curate.extract.minimal_html_blocks import TAGS, Blocks

_WIDE = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_PUNCT = re.compile(r"[.,;:!?\u3002\uff0c\u3001\uff01\uff1f\u061f\u060c\u0964]")
_DIGITS = re.compile(r"\d")
_SEPARATORS = re.compile(r"[|\u00b7\u2022\u00bb\u203a]")
_SENTENCE_END = frozenset('.!?:;"\')\u2026\u201d\u00bb\u3002\uff01\uff1f\u061f\u0964')
LONG = 120  # weighted characters: a "long" block, the anchor of the position features (jusText's ~ 200 chars)
SHORT = 50

_KINDS = ["p", "plain", "li", "h1", "h2_3", "h4_6", "pre", "blockquote"]
_KIND_OF_TAG = [_KINDS.index(k) for k in ("p", "plain", "li", "h1", "h2_3", "h2_3", "h4_6", "h4_6", "h4_6", "pre",
                                          "blockquote")]
assert len(_KIND_OF_TAG) == len(TAGS)

_OWN = ["log_length", "log_words", "link_density", "log_links", "sentence_end", "punct_per_word", "digit_share",
        "separators", "copyright", "repeated", "in_list"]
_POSITION = ["position", "chars_before", "chars_through", "before_first_long", "after_last_long",
             "log_distance_to_long", "window_log_length", "window_link_density", "prev_log_length",
             "prev_link_density", "prev_paragraph", "next_log_length", "next_link_density", "next_paragraph",
             "page_log_length", "page_log_blocks", "page_paragraph_share", "length_share", "log_short_run",
             "log_length_rank"]
NAMES: tuple[str, ...] = tuple(["kind_" + k for k in _KINDS] + _OWN + _POSITION)


def weighted_length(text: str) -> int:
    """Characters, a character of a script written without spaces counting 3."""
    n = len(text)
    if len(text.encode("utf-8")) > 1.5 * n:  # non-Latin text: count the wide characters
        return n + 2 * len(_WIDE.findall(text))
    return n


class BlockFeatures:
    """``features(blocks)``: one row of :data:`NAMES` per block."""

    names = NAMES

    def __call__(self, blocks: Blocks) -> np.ndarray:
        n = len(blocks)
        if n == 0:
            return np.zeros((0, len(NAMES)))
        seen: dict[str, int] = {}
        for t in blocks.texts:
            seen[t] = seen.get(t, 0) + 1
        own = np.empty((n, len(_OWN)))
        for i, text in enumerate(blocks.texts):
            length = len(text)
            weight = weighted_length(text)
            words = text.count(" ") + 1 + (weight - length) // 2
            own[i] = (
                math.log1p(weight), math.log1p(words), blocks.link_chars[i] / length, math.log1p(blocks.links[i]),
                text[-1] in _SENTENCE_END, len(_PUNCT.findall(text)) / words,
                len(_DIGITS.findall(text)) / length, min(len(_SEPARATORS.findall(text)), 5),
                "\u00a9" in text or "(c)" in text, seen[text] > 1, blocks.in_list[i],
            )
        kinds = np.zeros((n, len(_KINDS)))
        kinds[np.arange(n), np.take(_KIND_OF_TAG, blocks.tags)] = 1.0
        return np.hstack([kinds, own, self._position(own[:, 0], own[:, 2], kinds[:, 0])])

    @staticmethod
    def _position(log_len: np.ndarray, link_density: np.ndarray, paragraph: np.ndarray) -> np.ndarray:
        n = len(log_len)
        length = np.expm1(log_len)
        total = length.sum()
        cum = np.cumsum(length)
        idx = np.arange(n)
        long_at = np.flatnonzero(length >= LONG)
        if len(long_at):
            before, after = idx < long_at[0], idx > long_at[-1]
            pos = np.searchsorted(long_at, idx)  # nearest long block on either side
            left = np.abs(idx - long_at[np.clip(pos - 1, 0, len(long_at) - 1)])
            right = np.abs(long_at[np.clip(pos, 0, len(long_at) - 1)] - idx)
            distance = np.log1p(np.minimum(left, right))
        else:
            before = after = np.ones(n, dtype=bool)
            distance = np.full(n, math.log1p(n))
        kernel = np.full(5, 0.2)
        window_len = np.convolve(np.pad(log_len, 2, mode="edge"), kernel, mode="valid")
        window_ld = np.convolve(np.pad(link_density, 2, mode="edge"), kernel, mode="valid")
        prev_len, prev_ld, prev_p = (np.concatenate([[0.0], a[:-1]]) for a in (log_len, link_density, paragraph))
        next_len, next_ld, next_p = (np.concatenate([a[1:], [0.0]]) for a in (log_len, link_density, paragraph))
        short = length < SHORT
        # length of the run of short blocks each block belongs to (0 for a long one)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], short.astype(np.int8), [0]])))
        run = np.zeros(n)
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            run[start:stop] = stop - start
        rank = np.empty(n)
        rank[np.argsort(-length, kind="stable")] = idx
        return np.column_stack([
            idx / max(n - 1, 1), (cum - length) / total, cum / total, before, after, distance, window_len,
            window_ld, prev_len, prev_ld, prev_p, next_len, next_ld, next_p,
            np.full(n, math.log1p(total)), np.full(n, math.log1p(n)), np.full(n, (length * paragraph).sum() / total),
            length / total, np.log1p(run), np.log1p(rank),
        ])
