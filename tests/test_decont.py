"""Decontamination (issue 26): XQuAD in 12 languages planted into real crawled pages, found exactly.

Every check compares curate.decont against the slow reference of tests/decont_reference.py (normal form with
``unicodedata``, per-character classes, set intersection of n-token tuples), never against its own output.
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pyarrow as pa
import pytest
from decont_reference import (
    crawled_pages,
    raw_offsets,
    reference_overlap,
    reference_tokens,
    xquad_contexts,
)

from curate.decont.char_table import SEP, char_class, reference_normal_form
from curate.decont.decont_index import DecontIndex
from curate.decont.index_builder import build_index
from curate.decont.index_files import load_common
from curate.decont.matcher import Matcher
from curate.decont.ngram_hash import token_hashes
from curate.decont.normalizer import normalize_texts
from curate.decont.tokens import split_runs
from curate.languages.labels import normalize_label

N = 13


@pytest.fixture(scope="module")
def pages(shared_data: Path) -> tuple[str, ...]:
    found = crawled_pages(shared_data)
    assert len(found) > 500
    return found


@pytest.fixture(scope="module")
def xquad_index(shared_data: Path, pages: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[dict, DecontIndex]:
    """All 12 XQuAD languages; the corpus sample is the crawled pages themselves (the corpus being cleaned)."""
    out = tmp_path_factory.mktemp("xquad-index")
    return build_index([str(shared_data / "evalsets" / "xquad" / "*.json")], str(out), n=N,
                       sample=[(p, "und") for p in pages])


HARD_CASES = [
    "Cafe\u0301 re\u0301sume\u0301 and CAFÉ",  # decomposed accents compose
    "a\u0301\u0323 o\u0323\u0302 marks out of canonical order",
    "\u1100\u1161\u11a8 conjoining jamo, \uac00 syllable",
    "½ cup, ™ and ﬁnal ﬂour, ① ② ｶﾞｷﾞ ＡＢＣ１２３",
    "น้ำ ทำ ก่า ํา decomposed and composed SARA AM, ຄຳ Lao",
    "Ge\u00adschwin\u00addig\u00adkeit soft hyphens, zero\u200dwidth, \ufeffBOM, \u200eLRM",
    "ΟΔΟΣ ΣΟΦΟΣ final sigma, İstanbul, ß, ẞ",
    "\u0646\u0651\u064e shadda before fatha, \u0928\u093c nukta, \u0bc6\u0bbe tamil",
    "مرحبا بالعالم\u060c नमस्ते दुनिया। สวัสดีชาวโลก 你好，世界！ こんにちは、世界。",
    "´ ¨ ¯ spacing marks, \u3099 alone, e\u200d\u0301 joiner between",
    "\u03b9\u0344 \u0061\u0340 \uff21\u0301 E\u0301 marks that NFKC maps and composes, \u0f73 tibetan",
    "½ ¾ ¹⁄₂ ㏂ fractions and compatibility units ㎏ ㍻",
]


def _runs(text: str) -> list[str]:
    batch = normalize_texts([text])
    tokens = split_runs(batch)
    return [batch.text(int(s), int(e)) for s, e in zip(tokens.starts, tokens.ends, strict=True)]


def _reference_runs(text: str) -> list[str]:
    """The reference tokens before segmentation: runs of one class (segmenting is checked elsewhere)."""
    norm = reference_normal_form(text)
    out, cur, cls_prev = [], "", None
    for ch in norm:
        cls = char_class(ord(ch), unicodedata.category(ch))
        if cls != cls_prev and cur:
            out.append(cur)
            cur = ""
        if cls != SEP:
            cur += ch
        cls_prev = cls
    if cur:
        out.append(cur)
    return out


def test_normal_form_and_runs_match_the_unicodedata_reference(pages: tuple[str, ...], shared_data: Path) -> None:
    texts = list(HARD_CASES) + [p for i, p in enumerate(pages) if i % 4 == 0 or not p.isascii()]
    texts += [c for contexts in xquad_contexts(shared_data).values() for c in contexts[:20]]
    texts.append("\u00ad" * 300 + "word" + "™" * 300)  # many expansions in one batch: the vectorised path
    batch = normalize_texts(texts)
    tokens = split_runs(batch)
    arrow = normalize_texts(pa.array([None] + texts).slice(1))  # an Arrow column, as the block hands it over
    assert arrow.values.tolist() == batch.values.tolist() and arrow.offsets.tolist() == batch.offsets.tolist()
    for i, text in enumerate(texts):
        lo, hi = int(tokens.offsets[i]), int(tokens.offsets[i + 1])
        got = [batch.text(int(s), int(e)) for s, e in zip(tokens.starts[lo:hi], tokens.ends[lo:hi], strict=True)]
        assert got == _reference_runs(text), text[:80]
    hashes = token_hashes(batch.values, tokens.starts, tokens.ends)
    for i, text in enumerate(texts[: len(HARD_CASES) + 40]):  # alone too: a batch must not change a text's result
        assert _runs(text) == _reference_runs(text)
        alone = normalize_texts([text])
        runs = split_runs(alone)
        lo, hi = int(tokens.offsets[i]), int(tokens.offsets[i + 1])
        assert token_hashes(alone.values, runs.starts, runs.ends).tolist() == hashes[lo:hi].tolist(), text[:80]


def _plant(host: str, plant: str, where: str) -> str:
    if where == "start":
        return plant + "\n" + host
    if where == "end":
        return host + "\n" + plant
    cut = host.rfind("\n", 0, len(host) // 2) + 1
    return host[:cut] + plant + "\n" + host[cut:]


def _paraphrase(tokens: list[str]) -> str:
    """Every 6th token replaced: no run of n = 13 tokens survives."""
    return " ".join("altered" if i % 6 == 5 else t for i, t in enumerate(tokens))


@pytest.mark.slow
def test_xquad_planted_in_crawled_pages_is_found_exactly_in_every_script(
        pages: tuple[str, ...], xquad_index: tuple[dict, DecontIndex], shared_data: Path) -> None:
    manifest, index = xquad_index
    assert set(manifest["sets"]) == {"xquad"} and len(manifest["sets"]["xquad"]["langs"]) == 12
    matcher = Matcher(index)

    # the crawled pages as they are: nothing found once the sample rule has left out the n-grams they share
    clean = matcher.match(list(pages), ["und"] * len(pages))
    assert not any(clean), [pages[i][:80] for i, m in enumerate(clean) if m]
    common = [tuple(r["ngram"].split(" ")) for r in load_common(index.path, manifest).to_pylist()]
    for gram in common:  # each left-out n-gram really is in two or more of the pages (the rule, not a choice)
        holders = [p for p in pages if gram[0] in reference_normal_form(p)]
        assert sum(" ".join(gram) in " ".join(reference_tokens(p, "und")) for p in holders) >= 2, gram
    ignore = frozenset(common)

    rng = random.Random(26)
    docs, langs, plants = [], [], []
    for code, contexts in xquad_contexts(shared_data).items():
        lang = normalize_label(code)
        for k, (length, where) in enumerate([(N, "start"), (N + 3, "middle"), (40, "end"), (None, "middle"),
                                             (N - 1, "middle"), (N - 1, "start"), ("paraphrase", "end")]):
            text = contexts[rng.randrange(len(contexts))]
            offsets = raw_offsets(text)
            assert offsets is not None
            norm = reference_normal_form(text)
            toks = reference_tokens(text, lang)
            # token spans in the normal form, to cut the raw passage at token boundaries
            spans, at = [], 0
            for t in toks:
                at = norm.index(t, at)
                spans.append((at, at + len(t)))
                at += len(t)
            if length == "paraphrase":
                plant = _paraphrase(toks[: 3 * N])
            else:
                size = len(toks) if length is None else min(length, len(toks))
                first = rng.randrange(len(toks) - size + 1)
                plant = text[offsets[spans[first][0]]: offsets[spans[first + size - 1][1]]]
            host = pages[(len(docs) * 37 + k) % len(pages)]
            docs.append(_plant(host, plant, where))
            langs.append(lang)
            plants.append((code, length, text))

    found = matcher.match(docs, langs)
    text_ids = {(index.info(tid).lang, t): tid for tid, t in enumerate(index.texts())}
    missed_long = []
    for doc, lang, (code, length, text), matches in zip(docs, langs, plants, found, strict=True):
        tid = text_ids[(lang, text.strip())]
        expected = reference_overlap(reference_tokens(doc, lang), reference_tokens(text, lang), N, ignore)
        got = next((m.overlap for m in matches if m.text_id == tid), 0)
        assert got == expected, (code, length)
        if isinstance(length, int) and length >= N + 3 or length is None:
            if expected < N:
                missed_long.append((code, length))
        if length == N - 1 or length == "paraphrase":
            assert got == 0, (code, length)  # shorter than n, or no n tokens in a row: not found
    assert not missed_long  # every plant of n + 3 tokens or more overlaps its passage by n tokens

