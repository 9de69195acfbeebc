"""Build a decontamination index from the evaluation sets a team names (``curate decont index``).

1. Load every set (:mod:`.set_loader`); an item's fields become distinct texts (one text per language and string,
   shared by the items that hold it, e.g. a SQuAD passage and its questions).
2. Tokenise the texts in fixed chunks, in parallel (``workers``): normal form, the word tokenizer of each text's
   language, word n-gram hashes (first position per text), character n-grams of texts in scripts written without
   spaces. Chunks do not depend on the number of workers and results are put back in order, so the index has the
   same bytes with 1 worker or 40.
3. Leave out the n-grams that are too common to mean contamination, and report them (``common.parquet``):
   those found in ``common_texts`` or more distinct evaluation texts (instructions and templates repeated in every
   item), and, when a corpus sample is given, those found in ``sample_docs`` or more of its documents: GPT-3's rule
   (Brown et al. 2020, appendix C: 13-grams in more than 10 training documents are ignored, "common cultural
   phrases, legal boilerplate, or similar content") applied to a sample, where two documents already stand for
   thousands in the corpus. Only documents where the n-gram stands apart count: a document sharing half of the
   evaluation text or more is a copy of the item (contamination), not boilerplate around it; so a widely copied
   passage stays in the index while a census sentence inside it ("... had someone living alone who was 65 years
   of age or older ...", in every Wikipedia article on a US town) is left out.
4. Write the files (:mod:`.index_files`) to any fsspec destination.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import unicodedata
from collections import Counter, deque
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import numpy as np
import pyarrow as pa

from curate.decont.decont_index import NORMAL_FORM, DecontIndex
from curate.decont.hash_lookup import HashLookup, bitmap_words_log2, build_bitmap
from curate.decont.index_files import write_index
from curate.decont.matcher import Matcher
from curate.decont.ngram_hash import HASH_SCHEME
from curate.decont.run_segmenter import RunSegmenter
from curate.decont.set_loader import EvalItem, load_set
from curate.decont.set_spec import parse_set_specs
from curate.decont.text_ngrams import char_ngrams, word_ngrams
from curate.decont.tokens import run_texts, split_runs, tokenize

DEFAULT_N = 13  # GPT-3 appendix C; also Llama 2's and the issue's default
COMMON_TEXTS = 10
SAMPLE_DOCS = 2  # in a sample; GPT-3 appendix C counts > 10 over the whole training set
CHUNK_CHARS = 1 << 20
_SEGMENTER_PACKAGES = ("jieba", "SudachiPy", "sudachidict-core", "pythainlp", "LaoNLP", "khmer-nltk")

_ITEM_TYPE = pa.list_(pa.struct([("set", pa.string()), ("item", pa.string()), ("field", pa.string())]))
TEXTS_SCHEMA = pa.schema([("text_id", pa.int32()), ("lang", pa.string()), ("tokens", pa.int32()),
                          ("text", pa.large_string()), ("items", _ITEM_TYPE)])
COMMON_SCHEMA = pa.schema([("ngram", pa.string()), ("texts", pa.int32()), ("sample_docs", pa.int32()),
                           ("reason", pa.string()), ("example_set", pa.string()), ("example_item", pa.string())])


def _tokenize_chunk(task: tuple[list[str], list[str], int]) -> dict[str, np.ndarray]:
    """One chunk of texts -> per text token counts, its word n-grams (first position each), its char n-grams."""
    texts, langs, n = task
    batch, tokens = tokenize(texts, langs, RunSegmenter())
    rows = word_ngrams(batch, tokens, n)
    starts = rows.valid()
    text = rows.text_of(starts)
    pos = starts - tokens.offsets[text]
    # one row per (text, hash): the first position; a stable lexsort keeps positions ascending within a group
    order = np.lexsort((pos, rows.hashes[starts], text))
    text, hashes, pos = text[order], rows.hashes[starts][order], pos[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (text[1:] != text[:-1]) | (hashes[1:] != hashes[:-1])
    grams, in_run = char_ngrams(batch, run_texts(batch, split_runs(batch)), n)
    windows = grams.valid()
    chars = grams.hashes[windows[in_run[windows]]]
    return {"tokens": np.diff(tokens.offsets).astype(np.int32), "text": text[first].astype(np.int32),
            "hash": hashes[first], "pos": pos[first].astype(np.int32), "chars": np.unique(chars)}


def _chunks(texts: list[str]) -> list[tuple[int, int]]:
    out, start, size = [], 0, 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= CHUNK_CHARS:
            out.append((start, i + 1))
            start, size = i + 1, 0
    if start < len(texts):
        out.append((start, len(texts)))
    return out


def _map(fn: Any, tasks: Iterator[Any], workers: int) -> list[Any]:
    if workers <= 1:
        return [fn(t) for t in tasks]  # one chunk's texts in memory at a time
    ctx = multiprocessing.get_context("spawn")  # the caller may hold threads (Ray, a pipeline): never fork
    out: list[Any] = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[concurrent.futures.Future[Any]] = deque()
        for task in tasks:  # a few chunks in flight per worker: their texts, not all, are in memory
            pending.append(pool.submit(fn, task))
            if len(pending) >= 2 * workers:
                out.append(pending.popleft().result())
        out.extend(f.result() for f in pending)
    return out


class _Texts:
    """Distinct (language, text) pairs in first-seen order, with the items holding each."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], int] = {}
        self.langs: list[str] = []
        self.texts: list[str] = []
        self.items: list[list[dict[str, str]]] = []

    def add(self, item: EvalItem) -> list[int]:
        out = []
        for field, text in item.fields:
            key = (item.lang, text)
            tid = self.ids.get(key)
            if tid is None:
                tid = self.ids[key] = len(self.texts)
                self.langs.append(item.lang)
                self.texts.append(text)
                self.items.append([])
            self.items[tid].append({"set": item.set, "item": item.item, "field": field})
            out.append(tid)
        return out


def _versions() -> dict[str, str]:
    out = {}
    for name in _SEGMENTER_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _sample_counts(index: DecontIndex, sample: list[tuple[str, str]]) -> np.ndarray:
    """Per row of ``index.words``: in how many sample documents its n-gram stands apart from its evaluation text,
    i.e. the document shares less than half of that text (a copy of the item is contamination, not boilerplate)."""
    matcher = Matcher(index)
    n = index.n
    counts = np.zeros(index.words.hashes.size, dtype=np.int64)
    tokens = np.asarray(index.text_lengths(), dtype=np.int64)
    step = 2048
    for start in range(0, len(sample), step):
        part = sample[start:start + step]
        hits = matcher.hits([t for t, _ in part], [lang for _, lang in part])
        if not hits.doc.size:
            continue
        order = np.lexsort((hits.position, hits.text_id, hits.doc))
        doc, text, pos, entry = hits.doc[order], hits.text_id[order], hits.position[order], hits.entry[order]
        new_group = np.concatenate([[True], (doc[1:] != doc[:-1]) | (text[1:] != text[:-1])])
        group = np.cumsum(new_group) - 1
        # tokens covered by the group's n-grams: n for a group's first n-gram, then what each adds past the last
        gained = np.full(pos.size, n, dtype=np.int64)
        same = ~new_group
        gained[same] = np.minimum(n, pos[same] - pos[np.flatnonzero(same) - 1])
        covered = np.bincount(group, weights=gained).astype(np.int64)
        apart = covered[group] * 2 < tokens[text]
        pairs = np.unique(np.stack([doc[apart], entry[apart]]), axis=1)  # one per (document, row)
        np.add.at(counts, pairs[1], 1)
    return counts


def build_index(sets: Any, out: str | None, n: int = DEFAULT_N, workers: int = 1,
                common_texts: int | None = COMMON_TEXTS, sample: list[tuple[str, str]] | None = None,
                sample_docs: int = SAMPLE_DOCS) -> tuple[dict[str, Any], DecontIndex]:
    """Build the index of ``sets`` (paths or set mappings, see :mod:`.set_spec`) and write it to ``out`` (None:
    keep it in memory). ``common_texts`` None keeps n-grams however many texts hold them; ``sample`` is a list of
    (text, language) of corpus documents. Returns (manifest, opened index)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    specs = parse_set_specs(sets)
    table = _Texts()
    set_stats: dict[str, dict[str, Any]] = {}
    item_texts: list[tuple[str, list[int]]] = []
    for spec in specs:
        name, items = load_set(spec)
        entry = set_stats.setdefault(name, {"paths": [], "items": 0, "langs": Counter()})
        entry["paths"].append(spec.path)
        for item in items:
            entry["items"] += 1
            entry["langs"][item.lang] += 1
            item_texts.append((name, table.add(item)))

    bounds = _chunks(table.texts)
    n_texts = len(table.texts)
    text_column = pa.array(table.texts, pa.large_string())
    table.texts, table.ids = [], {}  # the Arrow column holds them now; chunks get theirs back one at a time
    tasks = ((text_column.slice(a, b - a).to_pylist(), table.langs[a:b], n) for a, b in bounds)
    parts = _map(_tokenize_chunk, tasks, workers)
    token_counts = np.concatenate([p["tokens"] for p in parts] + [np.zeros(0, np.int32)])
    chars = np.unique(np.concatenate([p.pop("chars") for p in parts] + [np.zeros(0, np.uint64)]))
    rows = sum(p["hash"].size for p in parts)
    hashes = np.empty(rows, dtype=np.uint64)
    text = np.empty(rows, dtype=np.uint32)
    pos = np.empty(rows, dtype=np.uint32)
    at = 0
    for k, (a, _) in enumerate(bounds):  # copy each chunk's rows into place and let the chunk go
        part = parts[k]
        size = part["hash"].size
        hashes[at:at + size] = part["hash"]
        text[at:at + size] = part["text"].astype(np.uint32) + np.uint32(a)
        pos[at:at + size] = part["pos"]
        at += size
        parts[k] = None
    del parts
    # rows come in text order (chunks in order, each sorted by text): a stable sort by hash gives (hash, text)
    order = np.argsort(hashes, kind="stable")
    hashes = hashes[order]
    refs = np.empty((rows, 2), dtype=np.uint32)
    refs[:, 0] = text[order]
    del text
    refs[:, 1] = pos[order]
    del pos, order

    texts_table = pa.table({
        "text_id": pa.array(np.arange(n_texts, dtype=np.int32)),
        "lang": pa.array(table.langs, pa.string()),
        "tokens": pa.array(token_counts.astype(np.int32)),
        "text": text_column,
        "items": pa.array(table.items, _ITEM_TYPE),
    }, schema=TEXTS_SCHEMA)
    manifest: dict[str, Any] = {
        "n": n, "hash": HASH_SCHEME, "normal_form": NORMAL_FORM, "unicode": unicodedata.unidata_version,
        "segmenters": _versions(),
    }

    # too common: in many evaluation texts, or in many documents of the corpus sample
    starts = np.flatnonzero(np.concatenate([[True], hashes[1:] != hashes[:-1]])) if hashes.size else \
        np.zeros(0, np.int64)
    per_hash = np.diff(np.concatenate([starts, [hashes.size]])).astype(np.int64)
    drop_texts = (np.repeat(per_hash >= common_texts, per_hash) if common_texts
                  else np.zeros(hashes.size, dtype=bool))
    full = DecontIndex(manifest, HashLookup.build(hashes), refs, HashLookup.build(chars), texts_table) \
        if sample or drop_texts.any() else None
    in_sample = _sample_counts(full, sample) if sample else np.zeros(hashes.size, dtype=np.int64)
    drop_sample = in_sample >= sample_docs if sample else np.zeros(hashes.size, dtype=bool)
    drop = drop_texts | drop_sample
    common_rows = []
    if drop.any():
        shown = np.flatnonzero(drop)
        in_texts = per_hash[np.searchsorted(starts, shown, side="right") - 1]
        tokens = full.text_tokens(sorted({int(refs[i, 0]) for i in shown.tolist()}))
        for i, texts_holding in zip(shown.tolist(), in_texts.tolist(), strict=True):
            tid, p = int(refs[i, 0]), int(refs[i, 1])
            first = table.items[tid][0]
            common_rows.append({
                "ngram": " ".join(tokens[tid][p:p + n]), "texts": texts_holding, "sample_docs": int(in_sample[i]),
                "reason": "texts" if drop_texts[i] else "sample", "example_set": first["set"],
                "example_item": first["item"]})
        common_rows.sort(key=lambda r: (-r["texts"], -r["sample_docs"], r["ngram"]))
        keep = ~drop
        hashes, refs = hashes[keep], refs[keep]
    del full
    distinct = int(np.count_nonzero(hashes[1:] != hashes[:-1])) + 1 if hashes.size else 0
    arrays = {"words": hashes, "refs": refs, "words_bitmap": build_bitmap(hashes, bitmap_words_log2(distinct)),
              "chars": chars, "chars_bitmap": build_bitmap(chars, bitmap_words_log2(chars.size))}

    # per set: items, languages, and items none of whose fields has n tokens (cannot be found at this n)
    long_enough = token_counts >= n
    for name, tids in item_texts:
        if not any(long_enough[t] for t in tids):
            set_stats[name]["short_items"] = set_stats[name].get("short_items", 0) + 1
    manifest.update({
        "sets": {name: {"paths": s["paths"], "items": s["items"], "short_items": s.get("short_items", 0),
                        "langs": dict(sorted(s["langs"].items()))} for name, s in set_stats.items()},
        "counts": {"texts": n_texts, "ngram_rows": int(hashes.size), "ngrams": distinct,
                   "char_ngrams": int(chars.size), "common_left_out": int(drop.sum())},
        "common": {"common_texts": common_texts, "sample_docs": sample_docs if sample else None,
                   "sample_size": len(sample) if sample else 0,
                   "left_out_texts_rule": int(drop_texts.sum()), "left_out_sample_rule": int(drop_sample.sum())},
    })
    common_table = pa.Table.from_pylist(common_rows, schema=COMMON_SCHEMA)
    if out is not None:
        manifest = write_index(out, arrays, texts_table, common_table, manifest)
    index = DecontIndex.from_arrays(manifest, arrays, texts_table, out or "<memory>")
    return manifest, index
