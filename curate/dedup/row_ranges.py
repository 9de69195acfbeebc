"""Contiguous ranges of document numbers, one per partition, for the per-shard result files.

Document numbers are ``shard << ROW_BITS | row``; in shard-then-row order they are numbered 0..N-1 by
their global position ``g``. Partition ``q`` holds ``q*N//P <= g < (q+1)*N//P``: at most ceil(N/P)
documents whatever the shard sizes (one 40 GB shard is spread over every partition), and since the ranges
are contiguous, the (shard, range) pairs that meet number at most shards + partitions - 1: writing one
result *piece* per pair keeps the file count O(shards + partitions), not their product.

The driver builds this from the row count of every shard (O(shards), as the shard list it already holds);
tasks get only what they need: the ``partitions - 1`` boundaries as document numbers, or the pieces of
one range.
"""

from __future__ import annotations

import numpy as np


class RowRanges:
    """Range partitioning of the documents of shards with ``shard_rows`` rows into ``partitions`` ranges."""

    def __init__(self, shard_rows: list[int], partitions: int, row_bits: int, first_node: int = -1) -> None:
        rows = np.asarray(shard_rows, dtype=np.int64)
        self.partitions = partitions
        self.row_bits = row_bits
        self.first_node = first_node  # >= 0: documents are numbered densely from it (a dedup index)
        self.ends = np.cumsum(rows) if len(rows) else np.zeros(0, np.int64)  # global end of each shard
        self.starts = self.ends - rows
        total = int(self.ends[-1]) if len(rows) else 0
        self.cuts = np.array([q * total // partitions for q in range(partitions + 1)], dtype=np.int64)

    def boundaries(self) -> list[int]:
        """Document number where each range 1..P-1 starts (``np.searchsorted(b, node, "right")`` is the
        range of ``node``)."""
        if self.cuts[-1] == 0:  # no documents: no range holds any
            return [max(self.first_node, 0)] * (self.partitions - 1)
        if self.first_node >= 0:  # dense numbers: the position is the number
            return [self.first_node + int(g) for g in self.cuts[1:-1].tolist()]
        out = []
        for g in self.cuts[1:-1].tolist():
            s = int(np.searchsorted(self.ends, g, side="right"))  # the shard holding position g
            out.append((s << self.row_bits) | (g - int(self.starts[s])))
        return out

    def span(self, shard: int) -> tuple[int, int]:
        """Dense numbering: the numbers [first, end) of shard ``shard``'s documents."""
        return self.first_node + int(self.starts[shard]), self.first_node + int(self.ends[shard])

    def pieces(self) -> list[list[tuple[int, int, int]]]:
        """Per range q: (shard index, piece number within the shard, pieces of that shard) for every shard
        whose rows meet range q. Shards without rows have no piece."""
        out: list[list[tuple[int, int, int]]] = [[] for _ in range(self.partitions)]
        upper = self.cuts[1:]
        for s, (lo, hi) in enumerate(zip(self.starts.tolist(), self.ends.tolist(), strict=True)):
            if hi == lo:
                continue
            first = int(np.searchsorted(upper, lo, side="right"))
            last = int(np.searchsorted(upper, hi - 1, side="right"))
            for k, q in enumerate(range(first, last + 1)):
                out[q].append((s, k, last - first + 1))
        return out
