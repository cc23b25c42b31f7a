"""The single-model figures (Plotly): per-layer bars, hierarchy, kinds, cumulative
cost, arithmetic intensity and the layer graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from archcost.graph import Network, Node
from archcost.layers.base import Formula
from archcost.report.graph_layout import layered_layout
from archcost.report.style import (
    KIND,
    MACS,
    MEMORY,
    METRICS,
    NAME,
    PARAMS,
    _fields_text,
    _layout,
    _metric_menu,
    esc,
    kind_color,
    kind_marker,
    kind_style,
)

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
                    marker=kind_marker(kind),
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
    # Colour means layer kind on this page (no third palette): a layer's sector has its
    # kind's colour, a stage's or block's the colour of the kind with most of its MACs
    # (neutral where it has none).
    at = {node_id: i for i, node_id in enumerate(ids)}
    macs_by_kind: list[dict[str, int]] = [{} for _ in ids]
    leaves = (i for i, node_id in enumerate(ids) if node_id.startswith("l"))
    for leaf, kind, macs in zip(leaves, df[KIND], df[MACS], strict=True):
        node = leaf
        while True:
            macs_by_kind[node][kind] = macs_by_kind[node].get(kind, 0) + int(macs)
            if not parents[node]:
                break
            node = at[parents[node]]
    colors = []
    for i, node_id in enumerate(ids):
        sums = macs_by_kind[i]
        top = max(sums, key=lambda k: sums[k]) if sums else None
        if node_id.startswith("l") or (top is not None and sums[top] > 0):
            colors.append(kind_color(str(top)) if top is not None else "#f2f3f5")
        else:
            colors.append("#f2f3f5")
    colors[0] = "#ffffff"  # the centre: the whole network
    fig = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=labels,
            parents=parents,
            marker=dict(colors=colors, line=dict(color="#ffffff", width=1)),
            leaf=dict(opacity=1),
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
                marker=kind_marker(kind),
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
    # Costs are told apart by line style, not colour: colours mean layer kinds here.
    for (col, label, fmt), dash in zip(METRICS[:3], ("solid", "dash", "dot"), strict=True):
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
                line=dict(color="#333333", width=2, shape="hv", dash=dash),
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
                marker=kind_marker(kind),
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


# -- the layer graph ------------------------------------------------------------------

#: Pixels per rank (row) and the label font: three lines of text fit in a box.
GRAPH_ROW_PX = 66
GRAPH_FONT_PX = 11
#: Layer names longer than this show their tail in the box (the hover has the full name).
GRAPH_NAME_CHARS = 28
#: Below this many pixels per rank (zoomed out) the labels hide, so they never overprint:
#: a column is about 20% wider than its widest label at GRAPH_ROW_PX, so this is close
#: enough to GRAPH_ROW_PX for the labels to still fit beside each other.
GRAPH_LABEL_MIN_PX = 58
#: The graph's viewport: at most this tall; the plot width the first view assumes.
GRAPH_MAX_HEIGHT = 820
GRAPH_ASSUMED_WIDTH = 1100
#: Data units per column and per rank: every coordinate is a short integer in the page.
GRAPH_X_UNITS, GRAPH_Y_UNITS = 100, 20
_HALF_W, _HALF_H = 43, 7  # half a box: 0.86 of a column wide, 0.7 of a rank tall

#: Plotly config for the graph: the mouse wheel zooms, dragging pans.
GRAPH_CONFIG = {"scrollZoom": True}

#: Run after the graph is drawn (``{plot_id}`` is its div): hide the labels while
#: a rank is shorter than GRAPH_LABEL_MIN_PX on screen, showing each kind's glyph in
#: their place (kinds of one colour stay apart), and the labels again when zoomed in.
GRAPH_SCRIPT = (
    "var gd=document.getElementById('{plot_id}');"
    "var ts=gd.data.map(function(t,i){return t.mode==='markers+text'?i:-1})"
    ".filter(function(i){return i>=0});"
    "function lod(){var ya=gd._fullLayout.yaxis,r=ya.range,"
    f"m=ya._length*{GRAPH_Y_UNITS}/Math.abs(r[0]-r[1])>={GRAPH_LABEL_MIN_PX}"
    "?'markers+text':'markers';"
    "if(ts.length&&gd._archcostMode!==m){gd._archcostMode=m;"
    "Plotly.restyle(gd,{mode:m,'marker.opacity':m==='markers'?1:0},ts);}}"
    "gd.on('plotly_relayout',lod);lod();"
)


def _shape_text(shapes: Sequence[Any]) -> str:
    """``64×56×56``; ``2 × 58×28×28`` for equal outputs, else the shapes joined by ``|``."""
    texts = ["×".join(str(d) for d in s.dims) for s in shapes]
    if len(texts) > 1 and len(set(texts)) == 1:
        return f"{len(texts)} × {texts[0]}"
    return " | ".join(texts)


def _short_name(name: str) -> str:
    """The name, or its last dotted components that fit :data:`GRAPH_NAME_CHARS`.

    >>> _short_name("stage2.downsampling.branch2_conv1")
    '…downsampling.branch2_conv1'
    >>> _short_name("a_single_component_much_longer_than_the_box")
    '…nt_much_longer_than_the_box'
    """
    if len(name) <= GRAPH_NAME_CHARS:
        return name
    parts = name.split(".")
    tail = parts.pop()
    while parts and len(parts[-1]) + len(tail) + 2 <= GRAPH_NAME_CHARS:
        tail = parts.pop() + "." + tail
    return "…" + tail[-(GRAPH_NAME_CHARS - 1) :]


def _formula_lines(rows: Sequence[Formula]) -> list[str]:
    """``macs: C_out·(k·C_in/g)·out = 16·(3·3·3)·(16·16) = 110,592`` (as ``explain``
    prints it), one line per row; rows equal but for their quantity share a line
    (``out[0], out[1]: ...`` for a square output).

    >>> from archcost.layers.base import formula
    >>> _formula_lines([formula("out[0]", "n/2", "8/2"), formula("out[1]", "n/2", "8/2")])
    ['out[0], out[1]: n/2 = 8/2 = 4']
    """
    merged: dict[str, list[str]] = {}
    for f in rows:
        shown = f"{f.value:,}" if isinstance(f.value, int) else str(f.value)
        parts = [p for p in (f.symbolic, f.substituted) if p and p != shown] + [shown]
        merged.setdefault(" = ".join(parts), []).append(f.quantity)
    return [f"{', '.join(qs)}: {text}" for text, qs in merged.items()]


def _node_hover(node: Node, shape: str, batch: int) -> str:
    """Name, kind, shapes, fields and the kind's formulas (rows worth zero left out)."""
    lines = [f"<b>{esc(node.name)}</b> ({esc(node.kind)})"]
    if node.input_shapes:
        ins = " + ".join(_shape_text([s]) for s in node.input_shapes)
        lines.append(f"{esc(ins)} → {esc(shape)}")
    else:
        lines.append(esc(shape))
    if node.composite is not None:
        lines.append(f"part of {esc(node.composite[0])} ({esc(node.composite[1].kind)})")
    fields = _fields_text(node.fields)
    if fields:
        lines.append(fields)
    if node.layer is not None:
        rows = [f for f in node.layer.formulas(node.input_shapes) if f.value != 0]
        if rows and batch != 1:
            lines.append("per sample:")
        lines += [esc(line) for line in _formula_lines(rows)]
    return "<br>".join(lines)


def _gx(column: float) -> int:
    """A column (on the layout's grid of halves) in data units."""
    return round(column * GRAPH_X_UNITS)


def _gy(rank: int) -> int:
    return rank * GRAPH_Y_UNITS


def _rgb(color: str) -> tuple[int, int, int] | None:
    """``#rrggbb`` or ``#rgb`` as numbers; None for any other CSS colour."""
    c = color.lstrip("#")
    if not color.startswith("#") or len(c) not in (3, 6):
        return None
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    try:
        r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return None
    return r, g, b


def _hex(rgb: Any) -> str:
    return "#" + "".join(f"{round(v):02x}" for v in rgb)


def _box_colors(color: str) -> tuple[str, str]:
    """A box's fill and outline from its kind's colour: the fill is the colour itself
    when it is light, else the colour mixed with white until dark text reads on it; the
    outline is the colour darkened, so that pale kinds keep a visible edge.

    >>> _box_colors("#332288")  # indigo: lightened fill, darker edge
    ('#bfbada', '#24185f')
    >>> _box_colors("#dddddd")  # pale grey: as it is, with a grey edge
    ('#dddddd', '#9b9b9b')
    """
    rgb = _rgb(color)
    if rgb is None:
        return color, "#666666"
    luma = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255
    alpha = 1.0 if luma >= 0.75 else max(0.25, 0.25 / (1 - luma))
    fill = _hex(255 - alpha * (255 - v) for v in rgb)
    return fill, _hex(0.7 * v for v in rgb)


def fig_graph(network: Network, batch: int = 1) -> go.Figure:
    """The network as Netron draws it: a layered top-down graph (see
    :mod:`archcost.report.graph_layout`), one box per layer labelled with its name, kind
    and output shape and filled with its kind's colour; hover for the formulas.

    The first view shows the top of the network at a scale where labels never overlap
    (:data:`GRAPH_ROW_PX` per rank); the wheel zooms, dragging pans, and the labels hide
    while zoomed out below :data:`GRAPH_LABEL_MIN_PX` per rank (:data:`GRAPH_SCRIPT`).
    """
    nodes = network.nodes
    lay = layered_layout({n: nodes[n].inputs for n in network.order})
    pos = lay.pos

    ex: list[float | None] = []
    ey: list[float | None] = []
    for a, b, bends in lay.edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        ex += [_gx(xa), *(_gx(p[0]) for p in bends), _gx(xb), None]
        ey += [_gy(ya) + _HALF_H, *(_gy(p[1]) for p in bends), _gy(yb) - _HALF_H, None]
    fig = go.Figure(
        go.Scatter(
            x=ex,
            y=ey,
            mode="lines",
            hoverinfo="skip",
            showlegend=False,
            line=dict(color="#9a9a9a", width=1),
        )
    )

    by_kind: dict[str, list[str]] = {}
    for n in network.order:
        by_kind.setdefault(nodes[n].kind, []).append(n)
    widest = 0
    for kind, names in by_kind.items():
        fill, edge = _box_colors(kind_color(kind))
        style = kind_style(kind)
        glyph = style.glyph if style is not None else "circle"
        bx: list[float | None] = []
        by: list[float | None] = []
        labels, hovers = [], []
        for n in names:
            x, y = _gx(pos[n][0]), _gy(pos[n][1])
            x0, x1, y0, y1 = x - _HALF_W, x + _HALF_W, y - _HALF_H, y + _HALF_H
            bx += [x0, x1, x1, x0, x0, None]  # closed, so the outline has four sides
            by += [y0, y0, y1, y1, y0, None]
            shape = _shape_text(nodes[n].output_shapes)
            short = _short_name(n)
            widest = max(widest, len(short), len(kind), len(shape))
            labels.append(f"<b>{esc(short)}</b><br>{esc(kind)}<br>{esc(shape)}")
            hovers.append(_node_hover(nodes[n], shape, batch))
        group = esc(kind)
        fig.add_trace(
            go.Scatter(
                x=bx,
                y=by,
                mode="lines",
                fill="toself",
                fillcolor=fill,
                line=dict(color=edge, width=1.2),
                name=group,
                legendgroup=group,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[_gx(pos[n][0]) for n in names],
                y=[_gy(pos[n][1]) for n in names],
                mode="markers+text",
                text=labels,
                textposition="middle center",
                textfont=dict(size=GRAPH_FONT_PX, color="#1a1a1a"),
                marker=dict(size=9, symbol=glyph, color=edge, opacity=0, line=dict(width=0)),
                hovertext=hovers,
                hoverinfo="text",
                name=group,
                legendgroup=group,
                showlegend=False,
            )
        )

    # The first view: the top of the network at GRAPH_ROW_PX per rank, as many columns
    # as fit the assumed width (the y axis is tied to x, so zooming keeps the aspect).
    col_px = min(max(round(7.8 * widest) + 24, 110), 240)
    margin = dict(l=8, r=8, t=8, b=8)
    height = min(GRAPH_MAX_HEIGHT, lay.ranks * GRAPH_ROW_PX + 80)
    rows = (height - 80) / GRAPH_ROW_PX
    xs = [p[0] for p in pos.values()] or [0.0]
    lo, hi = min(xs) - 0.6, max(xs) + 0.6
    fit = GRAPH_ASSUMED_WIDTH / col_px
    if hi - lo > fit:
        lo = max(lo, -fit / 2)
        hi = lo + fit
    axis = dict(showgrid=False, zeroline=False, showticklabels=False, ticks="")
    fig.update_layout(
        _layout(
            height,
            margin=margin,
            showlegend=True,
            legend=dict(
                orientation="h",
                x=0,
                y=1,
                yanchor="bottom",
                title=dict(text="kind"),
                font=dict(size=11),
            ),
            xaxis=dict(axis, range=[lo * GRAPH_X_UNITS, hi * GRAPH_X_UNITS]),
            yaxis=dict(
                axis,
                range=[(min(rows, lay.ranks) - 0.5) * GRAPH_Y_UNITS, -0.5 * GRAPH_Y_UNITS],
                scaleanchor="x",
                scaleratio=(GRAPH_ROW_PX / GRAPH_Y_UNITS) / (col_px / GRAPH_X_UNITS),
            ),
            dragmode="pan",
            hovermode="closest",
        )
    )
    return fig
