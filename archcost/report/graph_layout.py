"""Placing the layer graph: a layered (Sugiyama-style) top-down layout of the network DAG.

Pure Python over the nodes' input lists (no networkx), in four steps:

1. **Ranks**: each node's rank (its row, 0 at the top) is the longest path from a
   source, so every edge points down.
2. **Long edges** (a residual shortcut, a UNet skip) are cut into one invisible *dummy*
   node per rank they cross, so they take a lane of their own beside the layers they
   skip instead of running through them. The number of dummies is capped (see
   :func:`layered_layout`); edges over the cap are drawn straight.
3. **Order within a rank**: a depth-first order that follows the *spine* (the longest
   path through the network) first, then a few barycenter sweeps (down, then up), keeping
   whichever order has the fewest edge crossings.
4. **Coordinates**: the spine sits at x = 0 on every rank, so the main chain runs
   straight down; every other node moves as close to the mean x of its neighbours in the
   rank above (then below) as the order and a spacing of one column allow, nodes with
   more pull moving first (dummies before layers, so long edges run straight).

Parallel branches (ResNet's downsampling shortcut, ShuffleNet's split and concat,
Inception-like branches, UNet's skips) therefore sit side by side, in columns right
or left of the spine. Everything is linear in the nodes and edges except the sorts and
the placement within a rank (quadratic in the width of a rank, small for CNNs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

#: Barycenter sweeps (one down and one up each) tried when ordering the ranks.
SWEEPS = 4
SPINE = math.inf  # the priority of the spine's nodes: they never move
#: Placement passes (one down and one up each) when assigning x.
PASSES = 2


@dataclass(frozen=True)
class Layout:
    """Where each node and edge goes.

    Attributes:
        pos: per node, ``(x, rank)``: its column (the spine at 0, one unit between
            neighbours, on a grid of halves) and its row (0 at the top).
        edges: per edge, ``(source, target, bends)``: the ``(x, rank)`` points a long
            edge passes through between its ends (empty for an edge to the next rank
            and for a long edge over the dummy cap).
        spine: the nodes of the longest path, top to bottom (all at x = 0).
    """

    pos: dict[str, tuple[float, int]]
    edges: list[tuple[str, str, tuple[tuple[float, int], ...]]]
    spine: tuple[str, ...]

    @property
    def ranks(self) -> int:
        """The number of rows."""
        return 1 + max((r for _, r in self.pos.values()), default=-1)


def layered_layout(
    inputs: Mapping[str, Sequence[str]], *, max_dummies: int | None = None
) -> Layout:
    """Lay out the DAG given as ``name -> the names it reads``, in a topological order
    (every input listed before its readers; repeated inputs count once).

    ``max_dummies`` caps the dummy nodes of long edges (default ``8·nodes + 1000``,
    plenty for every CNN in specs/; a densely connected spec stays linear): the shortest
    long edges get theirs first.

    Raises:
        ValueError: an input that is not listed before its reader.

    >>> lay = layered_layout({"in": [], "a": ["in"], "b": ["a"], "add": ["in", "b"]})
    >>> lay.pos["in"], lay.pos["a"], lay.pos["b"], lay.pos["add"]
    ((0.0, 0), (0.0, 1), (0.0, 2), (0.0, 3))
    >>> lay.edges[-2]  # the shortcut in -> add runs down one column to the right
    ('in', 'add', ((1.0, 1), (1.0, 2)))
    """
    names = list(inputs)
    index = {n: i for i, n in enumerate(names)}
    n_real = len(names)
    preds: list[list[int]] = []
    rank: list[int] = []
    for i, name in enumerate(names):
        ps: list[int] = []
        for src in inputs[name]:
            j = index.get(src, n_real)
            if j >= i:
                raise ValueError(f"'{name}' reads '{src}', which is not listed before it.")
            if j not in ps:
                ps.append(j)
        preds.append(ps)
        rank.append(1 + max((rank[j] for j in ps), default=-1))
    succs: list[list[int]] = [[] for _ in names]
    for i, ps in enumerate(preds):
        for j in ps:
            succs[j].append(i)

    spine = _spine(preds, succs)
    on_spine = [False] * n_real
    for i in spine:
        on_spine[i] = True

    # -- 2. dummies for long edges: shortest first, up to the cap -----------------
    edges = [(j, i) for i, ps in enumerate(preds) for j in ps]
    cap = 8 * n_real + 1000 if max_dummies is None else max_dummies
    chains: dict[tuple[int, int], list[int]] = {}
    total = 0
    for j, i in sorted(
        (e for e in edges if rank[e[1]] - rank[e[0]] > 1), key=lambda e: rank[e[1]] - rank[e[0]]
    ):
        span = rank[i] - rank[j] - 1
        if total + span > cap:
            break
        total += span
        chains[(j, i)] = list(range(len(rank), len(rank) + span))
        rank.extend(range(rank[j] + 1, rank[i]))
    n_all = len(rank)
    up: list[list[int]] = [[] for _ in range(n_all)]  # neighbours in the rank above
    down: list[list[int]] = [[] for _ in range(n_all)]  # and in the rank below
    for j, i in edges:
        if rank[i] - rank[j] == 1:
            path = [j, i]
        elif (j, i) in chains:
            path = [j, *chains[(j, i)], i]
        else:
            continue  # over the cap: drawn straight, left out of the ordering
        for a, b in pairwise(path):
            down[a].append(b)
            up[b].append(a)

    # -- 3. order within ranks: spine-first depth-first, then barycenter sweeps ----
    levels: list[list[int]] = [[] for _ in range(1 + max(rank, default=-1))]
    for v in _depth_first(spine, down, n_real):
        levels[rank[v]].append(v)
    pos = [0] * n_all
    _number(levels, pos)
    best = [list(level) for level in levels]
    fewest = _crossings(levels, down, pos)
    for _ in range(SWEEPS):
        if fewest == 0:
            break
        for order in (range(1, len(levels)), range(len(levels) - 2, -1, -1)):
            near = up if order.step == 1 else down
            for r in order:
                level = levels[r]
                if len(level) > 1:
                    level.sort(key=lambda v: _mean([pos[u] for u in near[v]], pos[v]))
                    for k, v in enumerate(level):
                        pos[v] = k
            crossings = _crossings(levels, down, pos)
            if crossings < fewest:
                fewest, best = crossings, [list(level) for level in levels]
    levels = best
    _number(levels, pos)

    # -- 4. coordinates: the spine at 0, everything else pulled towards its neighbours
    x = [0.0] * n_all
    for level in levels:
        if len(level) > 1:
            at = next((k for k, v in enumerate(level) if v < n_real and on_spine[v]), 0)
            for k, v in enumerate(level):
                x[v] = float(k - at)
    priority = [
        SPINE if v < n_real and on_spine[v] else 1e9 if v >= n_real else 0.0 for v in range(n_all)
    ]
    for _ in range(PASSES):
        for order, near in ((range(1, len(levels)), up), (range(len(levels) - 2, -1, -1), down)):
            for r in order:
                if len(levels[r]) > 1:
                    _place(levels[r], near, x, priority)

    out_pos = {names[i]: (x[i], rank[i]) for i in range(n_real)}
    out_edges = [
        (names[j], names[i], tuple((x[d], rank[d]) for d in chains.get((j, i), ())))
        for j, i in edges
    ]
    return Layout(out_pos, out_edges, tuple(names[i] for i in spine))


def _spine(preds: list[list[int]], succs: list[list[int]]) -> list[int]:
    """The longest path: from the source with the longest way down, always to the
    reader with the longest way down (the first such reader on a tie)."""
    n = len(preds)
    if not n:
        return []
    height = [0] * n
    for i in range(n - 1, -1, -1):
        height[i] = 1 + max((height[s] for s in succs[i]), default=-1)
    v = max((i for i in range(n) if not preds[i]), key=lambda i: height[i])
    path = [v]
    while succs[v]:
        v = max(succs[v], key=lambda s: height[s])
        path.append(v)
    return path


def _depth_first(spine: list[int], down: list[list[int]], n_real: int) -> list[int]:
    """Every node once, depth first from the top of the spine, the spine's next node
    first; nodes not reached from it (other sources) follow, each from itself."""
    nxt = dict(pairwise(spine))
    seen = [False] * len(down)
    out: list[int] = []
    starts = spine[:1] + [v for v in range(n_real)]
    for start in starts:
        if seen[start]:
            continue
        stack = [start]
        seen[start] = True
        while stack:
            v = stack.pop()
            out.append(v)
            children = down[v]
            first = nxt.get(v)
            # pushed in reverse, so the spine's next node is visited first
            for c in reversed(children):
                if c != first and not seen[c]:
                    seen[c] = True
                    stack.append(c)
            if first is not None and not seen[first]:
                seen[first] = True
                stack.append(first)
    return out


def _number(levels: list[list[int]], pos: list[int]) -> None:
    for level in levels:
        for k, v in enumerate(level):
            pos[v] = k


def _mean(values: list[int], default: float) -> float:
    return sum(values) / len(values) if values else default


def _crossings(levels: list[list[int]], down: list[list[int]], pos: list[int]) -> int:
    """Edge crossings between consecutive ranks (counted as inversions)."""
    total = 0
    for r in range(len(levels) - 1):
        if len(levels[r]) < 2 and len(levels[r + 1]) < 2:
            continue
        targets = [pos[b] for a in levels[r] for b in sorted(down[a], key=pos.__getitem__)]
        total += _inversions(targets, len(levels[r + 1]))
    return total


def _inversions(values: list[int], size: int) -> int:
    """Pairs i < j with values[i] > values[j] (a Fenwick tree over 0..size-1)."""
    tree = [0] * (size + 1)
    count = 0
    for seen, v in enumerate(values):
        i, below = v + 1, 0
        while i:
            below += tree[i]
            i -= i & -i
        count += seen - below
        i = v + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return count


def _place(level: list[int], near: list[list[int]], x: list[float], priority: list[float]) -> None:
    """Move each node of a rank towards the mean x of its neighbours in the rank of
    reference, highest priority first, keeping the order and one unit between nodes:
    a node may push the lower-priority nodes beside it, never one placed before it."""
    k = len(level)
    fixed = [False] * k
    if k == 2:
        a, b = level
        first = (priority[a], len(near[a])) >= (priority[b], len(near[b]))
        order: Sequence[int] = (0, 1) if first else (1, 0)
    else:
        order = sorted(range(k), key=lambda i: (-priority[level[i]], -len(near[level[i]]), i))
    for i in order:
        v = level[i]
        fixed[i] = True
        ns = near[v]
        if priority[v] == SPINE or not ns:
            continue
        want = (
            round(2 * x[ns[0]]) / 2
            if len(ns) == 1
            else round(2 * sum(x[u] for u in ns) / len(ns)) / 2
        )
        if want > x[v]:
            j = i + 1
            while j < k and not fixed[j]:
                j += 1
            if j < k:
                want = min(want, x[level[j]] - (j - i))
            x[v] = max(x[v], want)
            for m in range(i + 1, j):
                x[level[m]] = max(x[level[m]], x[level[m - 1]] + 1)
        elif want < x[v]:
            j = i - 1
            while j >= 0 and not fixed[j]:
                j -= 1
            if j >= 0:
                want = max(want, x[level[j]] + (i - j))
            x[v] = min(x[v], want)
            for m in range(i - 1, j, -1):
                x[level[m]] = min(x[level[m]], x[level[m + 1]] - 1)
