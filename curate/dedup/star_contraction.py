"""Large-star / small-star connected components, one partition of nodes at a time.

Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce and Beyond"
(SoCC 2014), section 3: alternate two operations over the edge set until it is a forest of stars, each
rooted at the smallest node of its component; that converges in O(log^2 n) rounds and each operation is
a group-by over nodes, so it partitions across tasks with no process holding the graph.

- large-star(u): m = min(Gamma(u) + {u}); link every neighbour v > u to m;
- small-star(u): N = {v in Gamma(u): v <= u} + {u}, m = min(N); link every v in N (v != m) to m.

Edges are stored as rows ``(node, nbr)`` grouped by the partition of ``node``. Large-star needs every
neighbour of a node (both directions of each edge); its output edges point from larger to smaller and
only their larger end needs them (small-star looks at smaller neighbours only); small-star's output is
written in both directions for the next large-star. A node is *settled* when it is a star centre (all
neighbours larger) or a leaf of one (a single, smaller neighbour); a large-star round whose input has no
unsettled node is the fixed point: its output holds each non-root node's root.

These functions are pure numpy over one partition's rows; :mod:`.components` runs them as tasks.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def node_partition(nodes: np.ndarray, partitions: int) -> np.ndarray:
    """Partition of each node: splitmix64 of the node number mod ``partitions`` (spreads nodes of one
    shard, whose numbers are consecutive, over every partition)."""
    with np.errstate(over="ignore"):
        z = nodes.astype(np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return (z % np.uint64(partitions)).astype(np.int64)


def unique_rows(node: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (node, nbr) rows without self loops, sorted by node then nbr."""
    keep = node != nbr
    node, nbr = node[keep], nbr[keep]
    order = np.lexsort((nbr, node))
    node, nbr = node[order], nbr[order]
    if len(node) > 1:
        new = np.ones(len(node), dtype=bool)
        new[1:] = (node[1:] != node[:-1]) | (nbr[1:] != nbr[:-1])
        node, nbr = node[new], nbr[new]
    return node, nbr


def _group_min(node: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows sorted by node: group starts, the group of each row, and the minimum value per group."""
    starts = np.flatnonzero(np.r_[True, node[1:] != node[:-1]]) if len(node) else np.empty(0, np.int64)
    group = np.cumsum(np.r_[True, node[1:] != node[:-1]]) - 1 if len(node) else np.empty(0, np.int64)
    mins = np.minimum.reduceat(values, starts) if len(node) else np.empty(0, values.dtype)
    return starts, group, mins


def large_star(node: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows (node, nbr) holding every neighbour of each node -> directed edges (v, m) with v > m, and the
    number of unsettled nodes in the input (0 = the input is already a forest of min-rooted stars)."""
    node, nbr = unique_rows(node, nbr)
    if len(node) == 0:
        return node, nbr, 0
    starts, group, mins = _group_min(node, nbr)
    heads = node[starts]
    m = np.minimum(mins, heads)  # min of Gamma(u) + {u}
    degree = np.diff(np.r_[starts, len(node)])
    settled = (mins > heads) | ((degree == 1) & (mins < heads))
    larger = nbr > node
    return nbr[larger], m[group[larger]], int((~settled).sum())


def small_star(node: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (node, nbr) holding at least every smaller neighbour of each node -> undirected edges
    (a, b), a > b, linking every v in N(u) = {v <= u} + {u} to min(N(u))."""
    sel = nbr < node
    node, nbr = unique_rows(node[sel], nbr[sel])
    if len(node) == 0:
        return node, nbr
    starts, group, mins = _group_min(node, nbr)
    m = mins[group]
    # every smaller neighbour v != m, and u itself, linked to m
    other = nbr != m
    a = np.concatenate([nbr[other], node[starts]])
    b = np.concatenate([m[other], mins])
    return a, b
