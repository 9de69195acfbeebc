"""datatrove's tokenized files: ``<base>.ds`` (tokens), ``<base>.ds.index`` (document ends) and
``<base>.ds.metadata``, as ``datatrove.utils.dataset.DatatroveFolderDataset`` and nanotron read them
(huggingface/datatrove ``pipeline/tokens/tokenizer.py``: ``TokenizedFile``).

``.ds``: the tokens, little-endian uint16 (``token_size`` 2) while the vocabulary has at most 65,536 entries,
else uint32. ``.ds.index``: one little-endian uint64 per document, the token position where it ends.
``.ds.metadata``: three lines, ``<tokenizer>|<token_size>``, the token count, and the count in words.
Each document is the text followed by the EOS token, as datatrove's ``DocumentTokenizer`` writes it
(its post-processor ``"$A <EOS>"``); ``--bos`` puts a BOS token first as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from curate.training.shard_format import ShardFormat, temporary_name


def _metric(n: int) -> str:
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}T"
    return f"{n} T"


class DatatroveFormat(ShardFormat):
    name: ClassVar[str] = "datatrove"
    suffixes: ClassVar[tuple[str, ...]] = (".ds", ".ds.metadata", ".ds.index")

    def write(self, fs: Any, base: str, chunks: Iterable[np.ndarray], seq_lengths: np.ndarray,
              doc_sequences: np.ndarray, meta: dict[str, Any]) -> list[str]:
        dtype = np.dtype(meta["dtype"])
        ds, index, metadata = base + ".ds", base + ".ds.index", base + ".ds.metadata"
        tmps = [temporary_name(fs, p) for p in (ds, metadata, index)]
        total = self._stream(fs, tmps[0], chunks, dtype)
        with fs.open(tmps[1], "w") as handle:
            handle.write(f"{meta['tokenizer']}|{dtype.itemsize}\n{total}\n{_metric(total)}")
        ends = np.cumsum(np.asarray(seq_lengths, dtype=np.uint64), dtype=np.uint64)
        with fs.open(tmps[2], "wb") as handle:
            handle.write(ends.astype("<u8").tobytes())
        return self._publish_all(fs, list(zip(tmps, (ds, metadata, index), strict=True)))
