"""What a token-shard format is: its files, its token dtype, the tokens it puts around each document.

A shard is written from the tokens in their final order (streamed in chunks, so a writer holds one
chunk, not the shard) plus ``seq_lengths`` (tokens of each sequence) and ``doc_sequences`` (sequences
of each document: 1, or more where a document longer than ``--seq-len`` was split). Every file goes to a
temporary name first and is published when all of the shard's files are complete, the data file first
and the index last (:mod:`curate.storage.atomic`), so a reader never sees an index without its data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from curate.storage.atomic import TMP_SUFFIX, is_object_store, publish


def temporary_name(fs: Any, path: str) -> str:
    """A unique temporary name beside ``path`` (its folder created where folders exist); a resumed run removes
    what a killed one left."""
    parent = path.rpartition("/")[0]
    if parent and not is_object_store(fs):
        fs.makedirs(parent, exist_ok=True)
    return f"{path}.{uuid.uuid4().hex}{TMP_SUFFIX}"


class ShardFormat:
    name: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()  # data file first, index last

    def token_dtype(self, vocab: int) -> np.dtype:
        """Unsigned 16-bit tokens while the ids fit, else 32-bit (datatrove's ``token_size`` rule)."""
        return np.dtype(np.uint16) if vocab <= 1 << 16 else np.dtype(np.uint32)

    def frame(self, template: tuple[tuple[int, ...], tuple[int, ...]], eos: int,
              bos: int | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(ids before, ids after) each document: by default an optional BOS and one EOS, as datatrove's
        ``DocumentTokenizer`` post-processor (``"$A <EOS>"``) writes them."""
        return ((bos,) if bos is not None else ()), (eos,)

    def write(self, fs: Any, base: str, chunks: Iterable[np.ndarray], seq_lengths: np.ndarray,
              doc_sequences: np.ndarray, meta: dict[str, Any]) -> list[str]:
        """Write one shard at ``base`` (a path without suffix); returns the published paths."""
        raise NotImplementedError

    @staticmethod
    def _stream(fs: Any, path: str, chunks: Iterable[np.ndarray], dtype: np.dtype, header: bytes = b"") -> int:
        """Write ``header`` then every chunk as ``dtype`` (little endian) to ``path``; returns tokens written."""
        n = 0
        with fs.open(path, "wb") as handle:
            if header:
                handle.write(header)
            for chunk in chunks:
                handle.write(np.ascontiguousarray(chunk, dtype=dtype.newbyteorder("<")).tobytes())
                n += int(chunk.size)
        return n

    def _publish_all(self, fs: Any, written: list[tuple[str, str]]) -> list[str]:
        for tmp, final in written:
            publish(fs, tmp, final)
        return [final for _, final in written]
