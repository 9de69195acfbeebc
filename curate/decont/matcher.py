"""Find the evaluation texts a batch of documents overlaps by at least n tokens, exactly.

Per chunk of documents (about 128k characters, so the arrays stay in cache):

1. normal form and token runs of all documents at once (:mod:`.normalizer`, :func:`.tokens.split_runs`);
2. documents with runs of scripts written without spaces (Chinese, Japanese, Thai, ...) are segmented into words
   only when one of their character n-grams holding such a character is an evaluation text's
   (:mod:`.text_ngrams`): n words are at least n characters, so the others cannot match a word n-gram involving
   those scripts, and words elsewhere in them are already tokens;
3. word n-gram hashes of all documents (:mod:`.ngram_hash`), looked up in the index (:mod:`.hash_lookup`);
4. every hash hit is checked on the text: the document's n tokens must equal the evaluation text's n tokens at
   the recorded position (the text is tokenised again from the index's copy), so a hash collision never reports
   a match;
5. per document and evaluation text: ``overlap`` = document tokens covered by checked n-grams.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from curate.decont.decont_index import DecontIndex
from curate.decont.normalizer import NormalBatch, Texts, normalize_texts, text_lengths
from curate.decont.run_segmenter import RunSegmenter
from curate.decont.text_ngrams import char_ngrams, word_ngrams
from curate.decont.tokens import Tokens, refined_tokens, run_texts, split_runs

CHUNK_CHARS = 1 << 17


@dataclass(frozen=True)
class Match:
    """One evaluation text found in one document."""

    text_id: int
    overlap: int  # document tokens covered by n-grams shared with the text
    ngram: str  # the first shared n-gram (normal form, tokens joined by spaces)


@dataclass
class Hits:
    """Checked hits of one chunk: document (index in the chunk), evaluation text, first token in the document."""

    doc: np.ndarray
    text_id: np.ndarray
    position: np.ndarray
    entry: np.ndarray  # row of the index (for counting how many documents hold each n-gram)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which range, value) of every integer in the half-open ranges [lo, hi)."""
    sizes = hi - lo
    which = np.repeat(np.arange(lo.size), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return which, lo[which] + np.arange(which.size) - starts[which]


class Matcher:
    """Callable per process over batches of (text, language); ``index`` is opened read-only."""

    def __init__(self, index: DecontIndex, segmenter: RunSegmenter | None = None,
                 chunk_chars: int = CHUNK_CHARS) -> None:
        self.index = index
        self.segmenter = segmenter or RunSegmenter()
        self.chunk_chars = chunk_chars
        self.segmented_docs = 0  # documents that needed their segmenter (for the benchmark's table)
        self.cpu: dict[str, float] = {}  # CPU seconds per step (for the benchmark's table)

    def _chunks(self, texts: Texts) -> list[tuple[int, int]]:
        """Consecutive document ranges of about ``chunk_chars`` characters each."""
        ends = np.cumsum(text_lengths(texts))
        out = []
        start, base = 0, 0
        while start < ends.size:
            stop = int(np.searchsorted(ends, base + self.chunk_chars, side="left")) + 1
            stop = min(max(stop, start + 1), ends.size)
            out.append((start, stop))
            base = int(ends[stop - 1])
            start = stop
        return out

    def _tokens(self, batch: NormalBatch, langs: list[str]) -> Tokens:
        tokens = split_runs(batch)
        if not self.index.has_runs:
            return tokens
        with_runs = run_texts(batch, tokens)
        if not with_runs.size:
            return tokens
        grams, in_run = char_ngrams(batch, with_runs, self.index.n)
        windows = np.flatnonzero(in_run)  # only windows holding a character of those scripts can matter
        first = windows[self.index.chars.find(grams.hashes[windows])[0]]
        first = first[grams.keep(first)]
        segment = np.unique(with_runs[grams.text_of(first)])
        self.segmented_docs += int(segment.size)
        return refined_tokens(batch, tokens, segment, langs, self.segmenter)

    def _tick(self, stage: str, since: float) -> float:
        now = time.process_time()
        self.cpu[stage] = self.cpu.get(stage, 0.0) + now - since
        return now

    def _hits(self, texts: Texts, langs: list[str]) -> tuple[Hits, NormalBatch, Tokens]:
        index = self.index
        n = index.n
        clock = time.process_time()
        batch = normalize_texts(texts)
        clock = self._tick("normal form", clock)
        tokens = self._tokens(batch, langs)
        clock = self._tick("words", clock)
        rows = word_ngrams(batch, tokens, n)
        clock = self._tick("n-gram hashes", clock)
        found, lo, hi = index.words.find(rows.hashes)
        inside = rows.keep(found)
        found, lo, hi = found[inside], lo[inside], hi[inside]
        clock = self._tick("lookup", clock)
        empty = np.empty(0, dtype=np.int64)
        if not found.size:
            return Hits(empty, empty, empty, empty), batch, tokens
        which, entry = _ranges(lo, hi)
        firsts = found[which]  # the n-gram's first token in the batch
        refs = np.asarray(index.refs[entry], dtype=np.int64)
        text_ids, positions = refs[:, 0], refs[:, 1]
        item_tokens = index.text_tokens(sorted(set(text_ids.tolist())))
        words: dict[int, str] = {}

        def word(t: int) -> str:
            w = words.get(t)
            if w is None:
                w = words[t] = batch.text(int(tokens.starts[t]), int(tokens.ends[t]))
            return w

        # hits on one diagonal (same text, document token - text token constant, consecutive) share n - 1 tokens
        # with the next: one comparison of the whole run instead of one per n-gram
        ok = np.zeros(firsts.size, dtype=bool)
        order = np.lexsort((firsts, firsts - positions, text_ids))
        f, t, p = firsts[order].tolist(), text_ids[order].tolist(), positions[order].tolist()
        start = 0
        while start < len(f):
            end = start + 1
            while end < len(f) and t[end] == t[start] and f[end] == f[end - 1] + 1 and p[end] == p[end - 1] + 1:
                end += 1
            span = f[end - 1] + n - f[start]
            text = item_tokens[t[start]]
            if [word(k) for k in range(f[start], f[start] + span)] == text[p[start]:p[start] + span]:
                ok[order[start:end]] = True
            else:  # some n-gram of the run differs (a hash collision): check each alone
                for k in range(start, end):
                    ok[order[k]] = [word(j) for j in range(f[k], f[k] + n)] == text[p[k]:p[k] + n]
            start = end
        docs = rows.text_of(firsts[ok])
        self._tick("check on the text", clock)
        return Hits(docs, text_ids[ok], firsts[ok] - tokens.offsets[docs], entry[ok]), batch, tokens

    def hits(self, texts: Texts, langs: list[str]) -> Hits:
        """Checked hits of documents ``texts`` (document indices into ``texts``)."""
        parts = []
        for start, end in self._chunks(texts):
            h = self._hits(texts[start:end], langs[start:end])[0]
            h.doc = h.doc + start
            parts.append(h)
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return Hits(empty, empty, empty, empty)
        return Hits(*(np.concatenate([getattr(p, f) for p in parts])
                      for f in ("doc", "text_id", "position", "entry")))

    def match(self, texts: Texts, langs: list[str]) -> list[list[Match]]:
        """Per document (a list of strings or an Arrow string column), the evaluation texts it overlaps by n tokens
        or more, largest overlap first."""
        out: list[list[Match]] = [[] for _ in range(len(texts))]
        n = self.index.n
        for start, end in self._chunks(texts):
            hits, batch, tokens = self._hits(texts[start:end], langs[start:end])
            if not hits.doc.size:
                continue
            order = np.lexsort((hits.position, hits.text_id, hits.doc))
            groups: dict[tuple[int, int], list[int]] = {}
            for k in order.tolist():
                groups.setdefault((int(hits.doc[k]), int(hits.text_id[k])), []).append(int(hits.position[k]))
            for (doc, text_id), positions in groups.items():
                covered = 0
                reach = -1
                for p in positions:  # sorted: union of [p, p + n)
                    covered += min(n, p + n - max(p, reach))
                    reach = p + n
                base = int(tokens.offsets[doc]) + positions[0]
                ngram = " ".join(batch.text(int(tokens.starts[t]), int(tokens.ends[t])) for t in range(base, base + n))
                out[start + doc].append(Match(text_id, covered, ngram))
        for matches in out:
            matches.sort(key=lambda m: (-m.overlap, m.text_id))
        return out
