"""A plain numpy layout: ``<base>.tokens.npy`` (one flat array of token ids) and ``<base>.offsets.npy``
(int64, one more than the documents: document ``i`` is ``tokens[offsets[i]:offsets[i + 1]]``).

Both are ``.npy`` files (``numpy.lib.format`` version 1.0), so ``np.load(path, mmap_mode="r")`` maps them
without reading; tokens are uint16 while the vocabulary has at most 65,536 entries, else uint32. Each
document is the text then the EOS token (``--bos``: a BOS token first), as in datatrove's files and the
usual nanoGPT-style loaders, which cut windows of ``seq_len + 1`` tokens from the flat array.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from curate.training.shard_format import ShardFormat, temporary_name


def npy_header(dtype: np.dtype, length: int) -> bytes:
    """The ``.npy`` header of a 1-D little-endian array of ``length`` items."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": np.lib.format.dtype_to_descr(dtype.newbyteorder("<")),
                                                  "fortran_order": False, "shape": (int(length),)})
    return buffer.getvalue()


class NumpyFormat(ShardFormat):
    name: ClassVar[str] = "numpy"
    suffixes: ClassVar[tuple[str, ...]] = (".tokens.npy", ".offsets.npy")

    def write(self, fs: Any, base: str, chunks: Iterable[np.ndarray], seq_lengths: np.ndarray,
              doc_sequences: np.ndarray, meta: dict[str, Any]) -> list[str]:
        dtype = np.dtype(meta["dtype"])
        lengths = np.asarray(seq_lengths, dtype=np.int64)
        tokens, offsets = base + ".tokens.npy", base + ".offsets.npy"
        tmps = [temporary_name(fs, tokens), temporary_name(fs, offsets)]
        self._stream(fs, tmps[0], chunks, dtype, header=npy_header(dtype, int(lengths.sum())))
        bounds = np.concatenate(([0], np.cumsum(lengths))).astype("<i8")
        with fs.open(tmps[1], "wb") as handle:
            handle.write(npy_header(np.dtype("<i8"), bounds.size))
            handle.write(bounds.tobytes())
        return self._publish_all(fs, [(tmps[0], tokens), (tmps[1], offsets)])
