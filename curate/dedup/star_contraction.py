"""Large-star / small-star connected components, as partition-local numpy kernels that no hub can overload.

Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce and Beyond"
(SoCC 2014), section 3: alternate two operations over the edge set until it is a forest of stars, each
rooted at the smallest node of its component; Theorem 3.6 bounds the rounds by O(log^2 n).

- large-star(u): m(u) = min(Gamma(u) + {u}); link every neighbour v > u to m(u);
- small-star(u): N(u) = {v in Gamma(u): v <= u} + {u}, m(u) = min N(u); link every v in N(u), v != m(u), to m(u).

Both only need, per node, the minimum over its *smaller* neighbours (``lowmin``): m(u) = min(u, lowmin(u)).
So every undirected edge is stored once, oriented ``(big, small)``, and each operation maps each edge to at
most one edge: large-star maps ``(v, u)`` to ``(v, m(u))``; small-star maps ``(u, w)`` to ``(w, m(u))``, or
keeps it when ``w == m(u)`` (the image of that edge is the link ``(u, m(u))`` itself). The edges therefore
never leave the partition that holds them (a partition's rows never grow; a copy of one edge in two
partitions is harmless, since the union is what counts and the minimum is idempotent), and the only data
that moves per operation is per node: each partition sends, for each node it holds, a *partial* minimum
to the node's home partition (at most one row per node and partition), and the home sends the combined
``m`` back to exactly the partitions that need it. A node with ten million neighbours (a boilerplate
cluster's centre) costs at most one row per partition, never a partition of its own: the two-level
minimum of a salted group-by (the combiner of MapReduce, Dean & Ghemawat 2004, section 4.3).

Convergence: the edges are a forest of min-rooted stars iff no node is *unsettled*, i.e. has a smaller
neighbour and either two distinct smaller neighbours or a larger one (``lowmin != lowmax`` or ``upper``);
checked on the input of each large-star.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
NONE = np.iinfo(np.int64).max  # "no smaller neighbour" in a lowmin column
NO_MAX = np.iinfo(np.int64).min  # ... and in a lowmax column (nodes may be negative: a dedup index's clusters)
BIG, SMALL = 1, 2  # flags of a partial: the node is the big (small) end of some local edge


def _mix(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = z.astype(np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def node_partition(nodes: np.ndarray, partitions: int) -> np.ndarray:
    """Home partition of each node: splitmix64 of the node number mod ``partitions`` (spreads the nodes of
    one shard, whose numbers are consecutive, over every partition)."""
    return (_mix(nodes) % np.uint64(partitions)).astype(np.int64)


def edge_partition(big: np.ndarray, small: np.ndarray, partitions: int) -> np.ndarray:
    """Partition of each edge: a hash of both ends, so a node's edges spread over every partition."""
    with np.errstate(over="ignore"):
        return (_mix(_mix(big) ^ small.astype(np.uint64)) % np.uint64(partitions)).astype(np.int64)


def orient(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edges as distinct ``(big, small)`` rows without self loops, sorted."""
    big, small = np.maximum(a, b), np.minimum(a, b)
    return unique_rows(big, small)


def unique_rows(big: np.ndarray, small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (big, small) rows without self loops, sorted by big then small."""
    keep = big != small
    big, small = big[keep], small[keep]
    order = np.lexsort((small, big))
    big, small = big[order], small[order]
    if len(big) > 1:
        new = np.ones(len(big), dtype=bool)
        new[1:] = (big[1:] != big[:-1]) | (small[1:] != small[:-1])
        big, small = big[new], small[new]
    return big, small


def partials(big: np.ndarray, small: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per node of the local edges (sorted distinct (big, small) rows): (node, lowmin, lowmax, flags), one row
    each, sorted by node. ``lowmin``/``lowmax``: min and max smaller neighbour here (``NONE``/``NO_MAX`` when the node
    is no big end here); ``flags``: BIG and/or SMALL, the ends it has here."""
    nodes = np.unique(np.concatenate([big, small]))
    lowmin = np.full(len(nodes), NONE, dtype=np.int64)
    lowmax = np.full(len(nodes), NO_MAX, dtype=np.int64)
    flags = np.zeros(len(nodes), dtype=np.int64)
    if len(big):
        starts = np.flatnonzero(np.r_[True, big[1:] != big[:-1]])
        heads = np.searchsorted(nodes, big[starts])
        lowmin[heads] = small[starts]  # rows are sorted by (big, small): first and last of each group
        lowmax[heads] = small[np.r_[starts[1:], len(big)] - 1]
        flags[heads] |= BIG
        flags[np.searchsorted(nodes, np.unique(small))] |= SMALL
    return nodes, lowmin, lowmax, flags


def combine(node: np.ndarray, lowmin: np.ndarray, lowmax: np.ndarray, flags: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Partials of the same nodes from several partitions (any order) -> per node (sorted): node, m (min of
    the node and its smaller neighbours), unsettled (bool), and the group of each input row."""
    order = np.lexsort((lowmin, node))
    node, lowmin, lowmax, flags = node[order], lowmin[order], lowmax[order], flags[order]
    if len(node) == 0:
        e = np.empty(0, np.int64)
        return e, e, np.empty(0, bool), e
    new = np.r_[True, node[1:] != node[:-1]]
    starts = np.flatnonzero(new)
    nodes = node[starts]
    low = np.minimum.reduceat(lowmin, starts)
    high = np.maximum.reduceat(lowmax, starts)
    ends = np.bitwise_or.reduceat(flags, starts)
    m = np.minimum(nodes, low)
    has_lower = low != NONE
    unsettled = has_lower & ((low != high) | ((ends & SMALL) != 0))
    group = np.empty(len(node), dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return nodes, m, unsettled, group


def _lookup(keys: np.ndarray, values: np.ndarray, want: np.ndarray, what: str) -> np.ndarray:
    """values[keys == want[i]] for every i (keys sorted and distinct); every ``want`` must be present."""
    pos = np.searchsorted(keys, want)
    pos = np.minimum(pos, max(len(keys) - 1, 0))
    if len(want) and (len(keys) == 0 or not np.array_equal(keys[pos], want)):
        raise KeyError(f"no {what} for some nodes of this partition")
    return values[pos]


def apply_large(big: np.ndarray, small: np.ndarray, node: np.ndarray, m: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Large-star on the local edges, given m of every small end (``node`` sorted): (v, u) -> (v, m(u))."""
    return unique_rows(big, _lookup(node, m, small, "large-star minimum"))


def apply_small(big: np.ndarray, small: np.ndarray, node: np.ndarray, m: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Small-star on the local edges, given m of every big end: (u, w) -> (w, m(u)), or (u, w) if w == m(u)."""
    mu = _lookup(node, m, big, "small-star minimum")
    moved = small != mu
    return unique_rows(np.where(moved, small, big), mu)
