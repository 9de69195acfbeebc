"""Megatron's indexed dataset: ``<base>.bin`` (the tokens) + ``<base>.idx`` (the index), as megatron-core's
``IndexedDataset`` reads them (NVIDIA/Megatron-LM ``megatron/core/datasets/indexed_dataset.py``: ``_IndexWriter``
and ``_IndexReader``).

``.idx``: the magic ``MMIDIDX\\x00\\x00``, version 1 (``<Q``), the dtype code (``<B``: ``DType`` uint16 = 8,
int32 = 4), the sequence count and the document count (``<Q`` each; documents + 1), then the int32 length of
every sequence, the int64 byte offset of every sequence in ``.bin``, and the int64 ``document_indices``
(0, then the running sequence count at the end of each document). Tokens are uint16 while the vocabulary
has fewer than 65,500 entries, else int32 (``DType.optimal_dtype``; Megatron has no uint32). Each document
gets what Megatron's ``tools/preprocess_data.py`` gives it with ``--append-eod``: the tokenizer's own
special tokens (a Hugging Face tokenizer's post-processor, e.g. Llama's BOS), the text, then the EOD token.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from curate.training.shard_format import ShardFormat, temporary_name

INDEX_HEADER = b"MMIDIDX\x00\x00"
DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}


class MegatronFormat(ShardFormat):
    name: ClassVar[str] = "megatron"
    suffixes: ClassVar[tuple[str, ...]] = (".bin", ".idx")

    def token_dtype(self, vocab: int) -> np.dtype:
        return np.dtype(np.uint16) if vocab < 65500 else np.dtype(np.int32)

    def frame(self, template: tuple[tuple[int, ...], tuple[int, ...]], eos: int,
              bos: int | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
        prefix, suffix = template
        if bos is not None and prefix[:1] != (bos,):
            prefix = (bos, *prefix)
        return prefix, suffix if suffix[-1:] == (eos,) else (*suffix, eos)

    def write(self, fs: Any, base: str, chunks: Iterable[np.ndarray], seq_lengths: np.ndarray,
              doc_sequences: np.ndarray, meta: dict[str, Any]) -> list[str]:
        dtype = np.dtype(meta["dtype"])
        bin_tmp, idx_tmp = temporary_name(fs, base + ".bin"), temporary_name(fs, base + ".idx")
        self._stream(fs, bin_tmp, chunks, dtype)
        lengths = np.asarray(seq_lengths, dtype=np.int64)
        pointers = (np.cumsum(lengths) - lengths) * dtype.itemsize
        documents = np.concatenate(([0], np.cumsum(doc_sequences, dtype=np.int64)))
        with fs.open(idx_tmp, "wb") as idx:
            idx.write(INDEX_HEADER)
            idx.write(struct.pack("<Q", 1))
            idx.write(struct.pack("<B", DTYPE_CODES[dtype]))
            idx.write(struct.pack("<Q", lengths.size))
            idx.write(struct.pack("<Q", documents.size))
            idx.write(lengths.astype("<i4").tobytes())
            idx.write(pointers.astype("<i8").tobytes())
            idx.write(documents.astype("<i8").tobytes())
        return self._publish_all(fs, [(bin_tmp, base + ".bin"), (idx_tmp, base + ".idx")])
