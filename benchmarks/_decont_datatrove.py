"""datatrove's n-gram decontamination (``datatrove.pipeline.decont``) on given documents, for decont_speed.py.

datatrove's ``NGramsDecontIndexer`` loads its tasks through lighteval (its constructor requires the package, which
pulls in an evaluation framework); the index it writes is a flat file of the 64-bit hashes of every n-gram of
each task's ``query`` and ``gold`` (``<task>.index.hashes``). We write that file with datatrove's own functions
(``simplify_text`` with its default ``TextNormConfig``, the language's word tokenizer from
``load_word_tokenizer``, ``ngrams``, ``create_hash_func(HashConfig())``), the way its indexer combines them with
``find_query_ngrams=True`` (SQuAD-style tasks have a long query -- passage and question -- and a short gold answer;
the default, gold and gold-adjacent n-grams only, finds no passage). The filter is datatrove's
``NGramsDecontFilter`` as it ships, run over ``Document`` objects by its own ``run``, with one shim: its default
hash (``HashConfig()``: xxhash, 64 bits) passes ``str`` to ``xxhash.xxh64_intdigest``, which xxhash 4 refuses
("Strings must be encoded before hashing"; xxhash 3 hashed their UTF-8 bytes), so the filter's ``hash_func`` is
given the UTF-8 bytes -- the hash xxhash 3 computed, at the same cost.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import xxhash
from datatrove.data import Document
from datatrove.pipeline.decont import NGramsDecontConfig, NGramsDecontFilter
from datatrove.utils.hashing import HashConfig
from datatrove.utils.text import TextNormConfig, ngrams, simplify_text
from datatrove.utils.word_tokenizers import load_word_tokenizer


def xxhash64_utf8(text: str) -> int:
    """datatrove's xxhash64 of a string as xxhash 3 computed it (xxhash 4 takes bytes only)."""
    return xxhash.xxh64_intdigest(text.encode("utf-8"))


def _words(tokenizer, text: str) -> list[str]:
    return tokenizer.word_tokenize(simplify_text(text, TextNormConfig()))


def write_index(folder: Path, task: str, items: list[tuple[str, list[str]]], n: int, language: str = "en") -> int:
    """``items``: (query, gold answers). Writes ``<task>.index.hashes``; returns the number of hashes."""
    tokenizer = load_word_tokenizer(language)
    hash_fn = xxhash64_utf8
    hashes: set[int] = set()
    for query, golds in items:
        query_words = _words(tokenizer, query)
        for gold in golds:
            gold_words = _words(tokenizer, gold)
            grams = list(ngrams(gold_words, n)) + list(ngrams(query_words, n))
            # n-grams across the end of the query and the start of the gold (datatrove's find_overlap_ngrams)
            for i in range(n - 1):
                if len(query_words) >= n - 1 - i and len(gold_words) >= i + 1:
                    grams.append(tuple(query_words[len(query_words) - (n - 1 - i):] + gold_words[: i + 1]))
            hashes.update(hash_fn(" ".join(g)) for g in grams)
    folder.mkdir(parents=True, exist_ok=True)
    np.array(sorted(hashes), dtype=HashConfig().np_dtype).tofile(folder / f"{task}.index.hashes")
    return len(hashes)


def run_filter(folder: Path, texts: list[str], n: int, language: str = "en") -> tuple[float, list[bool]]:
    """(CPU seconds of the filter over ``texts``, per text: removed as contaminated)."""
    filt = NGramsDecontFilter(str(folder), config=NGramsDecontConfig(n_grams=n, find_query_ngrams=True),
                              language=language)
    filt.hash_func = xxhash64_utf8
    filt.load_index_hashes()
    filt.filter(Document(text="warm up the word tokenizer", id="warm"))
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    start = time.process_time()
    kept = {d.id for d in filt.run(iter(docs))}
    seconds = time.process_time() - start
    return seconds, [str(i) not in kept for i in range(len(texts))]
