"""Helpers of the token-shard tests: a real BPE tokenizer trained here, and readers of what the shards hold."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent


def train_tokenizer(path: Path, vocab: int = 3000) -> Path:
    """A byte-level BPE (GPT-2's layout, NFC-normalised) trained with Hugging Face `tokenizers` on the quickstart
    pages' text, saved as a tokenizer.json: real, offline, a few seconds."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    pages = json.loads((REPO / "scripts" / "quickstart_texts.json").read_text(encoding="utf-8"))["pages"]
    texts = [" ".join(str(p[k]) for k in ("title", "lead", "body") if p.get(k)) for p in pages]
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.save(str(path))
    return path


def corpus_texts(out: Path, normalize=None) -> Counter:
    """Each kept text of a run (normalised like the tokenizer does) counted ``weight`` times."""
    want: Counter = Counter()
    for part in sorted(out.glob("[a-z]*/*.parquet")):
        table = pq.read_table(part, columns=["text", "weight"])
        for text, weight in zip(table.column("text").to_pylist(), table.column("weight").to_pylist(), strict=True):
            want[normalize(text) if normalize else text] += int(weight)
    return want


def corpus_by_lang(out: Path) -> dict[str, list[tuple[str, int]]]:
    """(text, weight) of every kept document, per language folder."""
    found: dict[str, list[tuple[str, int]]] = {}
    for part in sorted(out.glob("[a-z]*/*.parquet")):
        table = pq.read_table(part, columns=["text", "weight"])
        found.setdefault(part.parent.name, []).extend(
            zip(table.column("text").to_pylist(), table.column("weight").to_pylist(), strict=True))
    return found


def megatron_documents(prefix: Path) -> list[np.ndarray]:
    """Every document of a Megatron .bin/.idx pair, read with megatron-core's own IndexedDataset."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # megatron-core warns that Transformer Engine / Apex are absent
        from megatron.core.datasets.indexed_dataset import IndexedDataset
    ds = IndexedDataset(str(prefix))
    docs = ds.document_indices
    return [np.concatenate([ds[s] for s in range(int(docs[d]), int(docs[d + 1]))]) for d in range(len(docs) - 1)]
