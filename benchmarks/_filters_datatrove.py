"""Reference side of benchmarks/filters_parity.py: runs in benchmarks/.venv-datatrove (never imports curate).

    python _filters_datatrove.py DOCS.jsonl CONFIGS.json OUT.json [--decisions]

Builds datatrove's GopherRepetitionFilter, FineWebQualityFilter and GopherQualityFilter per language exactly
as huggingface/fineweb-2's ``fineweb-2-pipeline.py`` step 5 does, then

* times (CPU time) the three filters as a pipeline (a document stops at the first filter that removes it), each
  language's tokenizer loaded beforehand on a one-line warm-up text (not a benchmark document);
* with ``--decisions``, also judges every document with each filter independently, and records the word
  count and a hash of the word list (to tell tokenizer differences from logic differences).

Kiwi's "sbg" model (datatrove's choice for Korean) is not shipped by recent kiwipiepy_model releases; like
curate we fall back to Kiwi's default model then.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import defaultdict


def _patch_kiwi() -> None:
    from datatrove.utils import word_tokenizers as wt

    original = wt.KiwiTokenizer.tokenizer.fget

    def tokenizer(self):  # type: ignore[no-untyped-def]
        if self._tokenizer is None:
            try:
                return original(self)
            except Exception:
                from kiwipiepy import Kiwi

                self._tokenizer = Kiwi()
        return self._tokenizer

    wt.KiwiTokenizer.tokenizer = property(tokenizer)


def build(key: str, cfg: dict) -> list:
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter

    return [
        GopherRepetitionFilter(
            language=key, dup_para_frac=0, dup_line_char_frac=0, dup_para_char_frac=0,
            dup_line_frac=cfg["dup_line_frac"], top_n_grams=cfg["top_n_grams"], dup_n_grams=cfg["dup_n_grams"],
        ),
        FineWebQualityFilter(
            language=key, short_line_thr=999, char_duplicates_ratio=0.1,
            line_punct_thr=cfg["line_punct_thr"], new_line_ratio=cfg["new_line_ratio"],
        ),
        GopherQualityFilter(
            language=key, max_avg_word_length=cfg["max_avg_word_length"],
            min_avg_word_length=cfg["min_avg_word_length"], stop_words=cfg["stopwords"],
            max_non_alpha_words_ratio=cfg["max_non_alpha_words_ratio"], min_stop_words=2,
        ),
    ]


def verdict(result: object) -> list:
    if result is True:
        return [True, None]
    if isinstance(result, tuple):
        return [bool(result[0]), result[1]]
    return [bool(result), None]


def main() -> None:
    docs_path, cfg_path, out_path = sys.argv[1:4]
    decisions = "--decisions" in sys.argv
    import logging

    logging.disable(logging.WARNING)
    from datatrove.data import Document
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    _patch_kiwi()
    configs = json.load(open(cfg_path, encoding="utf-8"))
    docs = [json.loads(line) for line in open(docs_path, encoding="utf-8")]
    by_key: dict[str, list[dict]] = defaultdict(list)
    for d in docs:
        by_key[d["key"]].append(d)

    filters, tokenizers = {}, {}
    for key in by_key:
        filters[key] = build(key, configs[key]["config"])
        tok = load_word_tokenizer(key)
        tokenizers[key] = f"{type(tok).__name__}({getattr(tok, 'language', None) or ''})"
        warm = Document(text=configs[key]["warmup"], id="warmup")
        for f in filters[key]:
            f.filter(warm)

    # timed pass: FineWeb2's order, a removed document goes no further. CPU time of this process (the
    # machine may be shared); wall time for the record
    per_lang = defaultdict(float)
    per_filter = [0.0, 0.0, 0.0]
    wall0 = time.perf_counter()
    pipeline = {}
    for key, group in by_key.items():
        fs = filters[key]
        for d in group:
            doc = Document(text=d["text"], id=d["id"])
            out = [True, None]
            for j, f in enumerate(fs):
                t0 = time.process_time()
                res = f.filter(doc)
                dt = time.process_time() - t0
                per_filter[j] += dt
                per_lang[key] += dt
                keep, reason = verdict(res)
                if not keep:
                    out = [False, f"{j}:{reason}"]
                    break
            pipeline[d["id"]] = out
    wall = time.perf_counter() - wall0

    result = {"timing": {"per_lang_s": per_lang, "per_filter_s": per_filter, "docs": len(docs), "wall_s": wall},
              "tokenizers": tokenizers, "pipeline": pipeline}
    if decisions:
        rows = {}
        for key, group in by_key.items():
            fs = filters[key]
            tok = load_word_tokenizer(key)
            for d in group:
                doc = Document(text=d["text"], id=d["id"])
                words = tok.word_tokenize(d["text"])
                rows[d["id"]] = {
                    "rep": verdict(fs[0].filter(doc)),
                    "fwq": verdict(fs[1].filter(doc)),
                    "gq": verdict(fs[2].filter(doc)),
                    "nw": len(words),
                    "wh": hashlib.md5("\x1f".join(words).encode("utf-8", "surrogatepass")).hexdigest(),
                }
        result["decisions"] = rows
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
