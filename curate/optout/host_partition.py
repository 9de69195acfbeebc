"""Which partition of ``curate optout build`` a host belongs to, and the table's row order.

A host's captures all go to one partition, chosen from a 64-bit hash (xxh64) of its *site key*: the host
without a leading ``www.``, so that ``example.com`` and ``www.example.com`` (the most common robots.txt
redirect, with http -> https on the same host) meet in one partition and their redirects resolve there. The
partition is the hash's top bits scaled to the partition count, so it grows with the hash: concatenating the
partitions in order gives the rows sorted by (hash, host) whatever the count. The table is written in that
order, which is why its bytes do not depend on the number of partitions or workers.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xxhash


def site_key(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def host_hashes(hosts: Iterable[str | None]) -> np.ndarray:
    """xxh64 of each host's site key (0 for a missing host)."""
    return np.fromiter((xxhash.xxh64_intdigest(site_key(h).encode("utf-8", "surrogatepass")) if h else 0 for h in hosts), dtype=np.uint64)


def partitions_of(hashes: np.ndarray, partitions: int) -> np.ndarray:
    """Partition of each hash: ``floor(hash / 2**64 * partitions)`` (top 32 bits, so no overflow)."""
    return ((hashes >> np.uint64(32)) * np.uint64(partitions) >> np.uint64(32)).astype(np.int64)


def host_partitions(hosts: Iterable[str | None], partitions: int) -> np.ndarray:
    return partitions_of(host_hashes(hosts), partitions)
