"""Placing the layer graph on a grid: a layered, top-down layout of the network DAG."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np


def graph_layout(graph: nx.DiGraph) -> dict[str, tuple[int, int]]:
    """A cheap layered layout: x = longest path from the input, y = a lane.

    A node keeps the lane of its deepest input (the longest path through a residual
    or shuffle unit; the first input on a tie) when that lane is free at its depth,
    else takes the nearest free lane above, so the main path runs straight along lane 0
    and short branches (downsample shortcuts, ShuffleNet's average-pool shortcut) sit
    above it. O(nodes + edges).
    """
    order = {n: d["node"].order for n, d in graph.nodes(data=True)}
    depth: dict[str, int] = {}
    for n in nx.lexicographical_topological_sort(graph, key=lambda n: order[n]):
        preds = list(graph.predecessors(n))
        depth[n] = max((depth[p] + 1 for p in preds), default=0)
    used: dict[int, set[int]] = {}
    pos: dict[str, tuple[int, int]] = {}
    for n in sorted(graph.nodes, key=lambda n: (depth[n], order[n])):
        inputs = list(graph.nodes[n]["node"].inputs)
        preds = sorted(
            graph.predecessors(n),
            key=lambda p: (inputs.index(p) if p in inputs else len(inputs), order[p]),
        )
        main = max(preds, key=lambda p: depth[p], default=None)  # first of the deepest
        want = pos[main][1] if main in pos else 0
        taken = used.setdefault(depth[n], set())
        lane = want
        step = 0
        while lane in taken:
            step += 1
            lane = want + step
        taken.add(lane)
        pos[n] = (depth[n], lane)
    return pos


def _edge_path(a: tuple[int, int], b: tuple[int, int]) -> tuple[list[float], list[float]]:
    """A straight segment, or an arc below for an edge that skips levels on one lane."""
    (x0, y0), (x1, y1) = a, b
    span = x1 - x0
    if span <= 1 or y0 != y1:
        return [x0, x1], [y0, y1]
    t = np.linspace(0, 1, 9)
    bulge = 0.35 + 0.12 * math.log2(span)
    return (list(x0 + span * t), list(y0 - 4 * bulge * t * (1 - t)))
