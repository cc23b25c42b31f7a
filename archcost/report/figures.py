"""The single-model figures (Plotly): per-layer bars, hierarchy, kinds, cumulative
cost, arithmetic intensity and the layer graph.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from archcost.report.graph_layout import _edge_path, graph_layout
from archcost.report.style import (
    KIND,
    MACS,
    MEMORY,
    METRICS,
    NAME,
    PARAMS,
    _layout,
    _metric_menu,
    esc,
    kind_color,
    kind_style,
)
from archcost.report.units import human

STEM, HEAD = "stem", "head"


def stage_labels(names: Sequence[str]) -> list[str]:
    """Each layer's stage: the first component of its hierarchical name.

    Top-level layers (no dot) before the first block are gathered as ``stem`` and those
    after the last block as ``head``, so the stem's conv/BN/ReLU and the classifier's
    pool/linear/softmax read as one bar each and line up across models. A network with
    no hierarchy at all keeps one stage per layer.

    >>> stage_labels(["conv1", "bn1", "stage2.u1.c", "pool", "stage3.u1.c", "fc", "softmax"])
    ['stem', 'stem', 'stage2', 'pool', 'stage3', 'head', 'head']
    >>> stage_labels(["conv1", "relu1", "fc"])
    ['conv1', 'relu1', 'fc']
    """
    dotted = [i for i, n in enumerate(names) if "." in n]
    if not dotted:
        return list(names)
    first, last = dotted[0], dotted[-1]
    out = []
    for i, n in enumerate(names):
        if "." in n:
            out.append(n.split(".", 1)[0])
        else:
            out.append(STEM if i < first else HEAD if i > last else n)
    return out


def _kinds_by_cost(df: pd.DataFrame) -> list[str]:
    """Kinds present, the expensive ones first (by MACs, then memory traffic, then name)."""
    g = df.groupby(KIND, sort=False)[[MACS, MEMORY]].sum()
    return sorted(g.index, key=lambda k: (-int(g.at[k, MACS]), -int(g.at[k, MEMORY]), k))


def stage_ticks(names: Sequence[str], min_gap: float = 1 / 40) -> tuple[list[float], list[str]]:
    """Axis ticks naming each stage at the middle of its layers (network-order axis).

    A stage whose middle falls within ``min_gap`` (a fraction of the layer count) of
    the previous tick is left unlabelled, so rotated labels never overprint.

    >>> stage_ticks(["conv1", "s1.a", "s1.b", "s1.c", "s2.a", "fc"], min_gap=0)
    ([0.0, 2.0, 4.0, 5.0], ['stem', 's1', 's2', 'head'])
    """
    spans: dict[str, list[int]] = {}
    for i, s in enumerate(stage_labels(names)):
        spans.setdefault(s, [i, i])[1] = i
    gap = min_gap * len(names)
    vals: list[float] = []
    text: list[str] = []
    for s, (lo, hi) in spans.items():
        mid = (lo + hi) / 2
        if vals and mid - vals[-1] < gap:
            continue
        vals.append(mid)
        text.append(esc(s))
    return vals, text


def fig_layers(df: pd.DataFrame, hover: list[str]) -> go.Figure:
    """Per-layer MACs and params in network order, one bar trace per kind."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("MACs per layer", "parameters per layer"),
    )
    x = np.arange(len(df))
    hover_arr = np.array(hover, dtype=object)
    for kind in _kinds_by_cost(df):
        sel = (df[KIND] == kind).to_numpy()
        for row, col in ((1, MACS), (2, PARAMS)):
            fig.add_trace(
                go.Bar(
                    x=x[sel],
                    y=df.loc[sel, col].to_numpy(),
                    name=esc(kind),
                    width=0.8,
                    legendgroup=esc(kind),
                    showlegend=row == 1,
                    marker=dict(color=kind_color(kind), line=dict(width=0)),
                    hovertext=hover_arr[sel].tolist(),
                    hoverinfo="text",
                ),
                row=row,
                col=1,
            )
    tickvals, ticktext = stage_ticks(df[NAME].tolist())
    fig.update_layout(
        _layout(
            560,
            bargap=0.1,
            barmode="overlay",
            legend=dict(title=dict(text="kind"), font=dict(size=11)),
        )
    )
    fig.update_xaxes(
        tickvals=tickvals,
        ticktext=ticktext,
        tickangle=-45,
        row=2,
        col=1,
        title_text="layer, in network order (labels: stages)",
    )
    fig.update_xaxes(range=[-0.5, len(df) - 0.5])
    return fig


def hierarchy_nodes(
    df: pd.DataFrame, root_label: str
) -> tuple[list[str], list[str], list[str], dict[str, list[int]], list[str]]:
    """Sunburst nodes: ids, labels, parents, values per metric and the full names."""
    ids = ["root"]
    labels = [esc(root_label)]
    parents = [""]
    full = [esc(root_label)]
    values = {col: [0] for col, _, _ in METRICS}
    index: dict[str, int] = {}
    for r in df.itertuples(index=False):
        row = r._asdict()
        parts = row[NAME].split(".")
        chain = [0]
        for depth in range(1, len(parts)):
            key = "g:" + ".".join(parts[:depth])
            if key not in index:
                index[key] = len(ids)
                ids.append(f"g{len(ids)}")
                labels.append(esc(parts[depth - 1]))
                parents.append(ids[chain[-1]])
                full.append(esc(".".join(parts[:depth])))
                for col in values:
                    values[col].append(0)
            chain.append(index[key])
        leaf = len(ids)
        ids.append(f"l{leaf}")
        labels.append(esc(parts[-1]))
        parents.append(ids[chain[-1]])
        full.append(f"{esc(row[NAME])} ({esc(row[KIND])})")
        for col in values:
            values[col].append(int(row[col]))
            for node in chain:
                values[col][node] += int(row[col])
    return ids, labels, parents, values, full


def fig_hierarchy(df: pd.DataFrame, root_label: str) -> go.Figure:
    """Cost rolled up by the name hierarchy (stage → block → layer) as a sunburst."""
    ids, labels, parents, values, full = hierarchy_nodes(df, root_label)

    def texts(col: str, fmt: Any) -> list[str]:
        total = values[col][0] or 1
        return [
            f"<b>{f}</b><br>{fmt(v)} · {100 * v / total:.1f}% of the network"
            for f, v in zip(full, values[col], strict=True)
        ]

    first = METRICS[0]
    fig = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values[first[0]],
            branchvalues="total",
            maxdepth=3,
            insidetextorientation="radial",
            hovertext=texts(first[0], first[2]),
            hoverinfo="text",
            sort=False,
        )
    )
    buttons = [
        dict(
            label=label,
            method="restyle",
            args=[{"values": [values[col]], "hovertext": [texts(col, fmt)]}],
        )
        for col, label, fmt in METRICS
    ]
    fig.update_layout(
        _layout(560, margin=dict(l=8, r=8, t=48, b=8), updatemenus=[_metric_menu(buttons, y=1.02)])
    )
    return fig


def fig_kinds(df: pd.DataFrame) -> go.Figure:
    """Share of each cost by layer kind: one 100 % bar per metric."""
    sums = df.groupby(KIND, sort=False)[[c for c, _, _ in METRICS]].sum()
    names = [label for _, label, _ in METRICS]
    fig = go.Figure()
    for kind in _kinds_by_cost(df):
        shares, texts = [], []
        for col, label, fmt in METRICS:
            total = int(df[col].sum())
            v = int(sums.at[kind, col])
            share = 100 * v / total if total else 0.0
            shares.append(share)
            texts.append(f"<b>{esc(kind)}</b>: {share:.1f}% of {label} ({fmt(v)})")
        fig.add_trace(
            go.Bar(
                y=names,
                x=shares,
                name=esc(kind),
                orientation="h",
                marker=dict(color=kind_color(kind)),
                hovertext=texts,
                hoverinfo="text",
            )
        )
    fig.update_layout(
        _layout(
            300,
            barmode="stack",
            xaxis=dict(title_text="% of the network's total", range=[0, 100], ticksuffix="%"),
            yaxis=dict(autorange="reversed"),
            legend=dict(title=dict(text="kind"), traceorder="normal"),
        )
    )
    return fig


def fig_cumulative(df: pd.DataFrame) -> go.Figure:
    """Cumulative MACs, params and memory traffic (% of total) across depth."""
    fig = go.Figure()
    x = np.arange(len(df))
    names = [esc(n) for n in df[NAME]]
    for (col, label, fmt), color in zip(
        METRICS[:3], ("#1f77b4", "#d62728", "#2ca02c"), strict=True
    ):
        cum = df[col].cumsum().to_numpy()
        total = int(cum[-1]) if len(cum) else 0
        pct = 100 * cum / total if total else np.zeros(len(cum))
        texts = [
            f"<b>{n}</b><br>{label} up to here: {fmt(int(c))} ({p:.1f}%)"
            for n, c, p in zip(names, cum, pct, strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=pct,
                mode="lines",
                name=label,
                line=dict(color=color, width=2, shape="hv"),
                hovertext=texts,
                hoverinfo="text",
            )
        )
    tickvals, ticktext = stage_ticks(df[NAME].tolist())
    fig.update_layout(
        _layout(
            380,
            hovermode="x unified",
            yaxis=dict(title_text="% of the network's total", range=[0, 101], ticksuffix="%"),
            xaxis=dict(
                tickvals=tickvals,
                ticktext=ticktext,
                tickangle=-45,
                title_text="layer, in network order",
            ),
        )
    )
    return fig


def fig_intensity(df: pd.DataFrame, hover: list[str], totals: dict[str, int]) -> go.Figure:
    """MACs per byte of memory traffic for every layer that multiplies (log scale)."""
    fig = go.Figure()
    x = np.arange(len(df))
    macs = df[MACS].to_numpy()
    mem = df[MEMORY].to_numpy()
    has = (macs > 0) & (mem > 0)
    intensity = np.divide(macs, mem, out=np.zeros(len(df)), where=mem > 0)
    hover_arr = np.array(hover, dtype=object)
    for kind in _kinds_by_cost(df[has]) if has.any() else []:
        sel = has & (df[KIND] == kind).to_numpy()
        texts = [
            f"{h}<br><b>{v:.3g} MACs/byte</b>"
            for h, v in zip(hover_arr[sel], intensity[sel], strict=True)
        ]
        fig.add_trace(
            go.Bar(
                x=x[sel],
                y=intensity[sel],
                name=esc(kind),
                width=0.8,
                marker=dict(color=kind_color(kind), line=dict(width=0)),
                hovertext=texts,
                hoverinfo="text",
            )
        )
    if totals.get(MEMORY) and totals.get(MACS):
        # A line trace rather than add_hline: its annotation would take y as log10 here.
        avg = totals[MACS] / totals[MEMORY]
        fig.add_trace(
            go.Scatter(
                x=[-0.5, len(df) - 0.5],
                y=[avg, avg],
                mode="lines",
                name=f"whole network ({avg:.3g})",
                line=dict(color="#444", dash="dash", width=1),
                hovertext=[f"whole network: {avg:.3g} MACs/byte"] * 2,
                hoverinfo="text",
            )
        )
    tickvals, ticktext = stage_ticks(df[NAME].tolist())
    fig.update_layout(
        _layout(
            380,
            bargap=0.1,
            barmode="overlay",
            yaxis=dict(
                type="log", dtick=1, exponentformat="none", title_text="MACs per byte (log)"
            ),
            xaxis=dict(
                tickvals=tickvals,
                ticktext=ticktext,
                tickangle=-45,
                range=[-0.5, len(df) - 0.5],
                title_text="layer, in network order",
            ),
            legend=dict(title=dict(text="kind")),
        )
    )
    return fig


def fig_graph(
    df: pd.DataFrame, hover: list[str], graph: nx.DiGraph, input_shape: Sequence[int]
) -> go.Figure:
    """The network graph, layered left to right, nodes coloured by MACs (log)."""
    pos = graph_layout(graph)
    ex: list[float | None] = []
    ey: list[float | None] = []
    for a, b in graph.edges:
        xs, ys = _edge_path(pos[a], pos[b])
        ex += xs + [None]
        ey += ys + [None]
    fig = go.Figure(
        go.Scatter(
            x=ex,
            y=ey,
            mode="lines",
            hoverinfo="skip",
            showlegend=False,
            line=dict(color="#b8b8b8", width=1),
        )
    )
    row_of = {n: i for i, n in enumerate(df[NAME])}
    nodes = sorted(graph.nodes, key=lambda n: pos[n])
    macs = {n: int(df.at[row_of[n], MACS]) if n in row_of else 0 for n in nodes}
    shape_txt = "×".join(str(d) for d in input_shape)

    def text(n: str) -> str:
        if n in row_of:
            return hover[row_of[n]]
        return f"<b>{esc(n)}</b> ({esc(graph.nodes[n]['node'].kind)})<br>{shape_txt}"

    cheap = [n for n in nodes if macs[n] == 0]
    heavy = [n for n in nodes if macs[n] > 0]
    if cheap:
        fig.add_trace(
            go.Scatter(
                x=[pos[n][0] for n in cheap],
                y=[pos[n][1] for n in cheap],
                mode="markers",
                name="no MACs",
                hovertext=[text(n) for n in cheap],
                hoverinfo="text",
                marker=dict(
                    size=7,
                    color="#d0d0d0",
                    line=dict(color="#888", width=0.5),
                    symbol=[
                        getattr(kind_style(graph.nodes[n]["node"].kind), "glyph", "circle")
                        for n in cheap
                    ],
                ),
            )
        )
    if heavy:
        logs = np.log10([macs[n] for n in heavy])
        lo, hi = math.floor(logs.min()), math.ceil(logs.max())
        hi = max(hi, lo + 1)
        tickvals = list(range(lo, hi + 1))
        fig.add_trace(
            go.Scatter(
                x=[pos[n][0] for n in heavy],
                y=[pos[n][1] for n in heavy],
                mode="markers",
                name="MACs",
                hovertext=[text(n) for n in heavy],
                hoverinfo="text",
                marker=dict(
                    size=10,
                    color=logs,
                    colorscale="Viridis",
                    cmin=lo,
                    cmax=hi,
                    line=dict(color="#333", width=0.5),
                    colorbar=dict(
                        title=dict(text="MACs"),
                        tickvals=tickvals,
                        ticktext=[human(10**v) for v in tickvals],
                        thickness=12,
                    ),
                ),
            )
        )
    lanes = [p[1] for p in pos.values()] or [0]
    top, bottom = max(lanes), min(lanes)
    fig.update_layout(
        _layout(
            max(320, 90 * (top - bottom + 2)),
            showlegend=True,
            legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
            xaxis=dict(
                showgrid=False, zeroline=False, title_text="depth (longest path from the input)"
            ),
            yaxis=dict(
                showgrid=False,
                zeroline=False,
                showticklabels=False,
                range=[bottom - 1.6, top + 0.8],
                fixedrange=False,
            ),
            dragmode="pan",
        )
    )
    return fig
