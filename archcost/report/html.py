"""Self-contained Plotly HTML reports: one model, or several side by side.

Each page is one HTML file. With ``plotlyjs="inline"`` (the default) Plotly's
JavaScript is inlined once in ``<head>`` and the page references nothing outside
itself, so it opens offline; ``plotlyjs="cdn"`` loads Plotly from its CDN instead
(about 4.7 MB smaller).

Safety: every string that comes from a spec (model name, description, path, knob
values, layer names, kinds, fields) is passed through :func:`html.escape` before it
reaches either the HTML written here or a Plotly figure. Plotly draws labels and
hover text as SVG text, interpreting a few tags (``<b>``, ``<br>``...) and decoding
entities, so escaped text is shown literally and can never become markup. Plotly's
JSON is embedded with ``<``, ``>`` and ``/`` escaped, so no string can end a
``<script>`` either.

Charts use fixed ``div`` ids (``archcost-...``), so the same model always gives the
same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from archcost.costs import COLUMNS, CONVENTIONS
from archcost.graph import INPUT
from archcost.layers import REGISTRY
from archcost.layers.base import INPUT_STYLE, KindStyle
from archcost.report.compare import TOTAL_COLUMNS, Analysis, analyses, totals_frame
from archcost.report.units import exact, human, human_bytes, ratio

# Column names, shared with archcost.costs.COLUMNS.
NAME, KIND, INPUTS, INPUT_SHAPES, OUTPUT_SHAPE = COLUMNS[:5]
PARAMS, MACS, FLOPS, MEMORY, ACTIVATIONS, BUFFERS = (
    "params",
    "macs",
    "flops",
    "memory_access",
    "activations",
    "buffers",
)

PLOTLYJS_MODES = ("inline", "cdn")

# Fixed div ids: one per chart, so output is deterministic and tests can find them.
SINGLE_CHARTS = (
    "archcost-layers",
    "archcost-hierarchy",
    "archcost-kinds",
    "archcost-cumulative",
    "archcost-intensity",
    "archcost-graph",
)
COMPARE_CHARTS = (
    "archcost-cmp-scatter",
    "archcost-cmp-stages",
    "archcost-cmp-kinds",
    "archcost-cmp-cumulative",
    "archcost-cmp-distributions",
)

# Metrics a chart can switch between: column, label, formatter.
METRICS = (
    (MACS, "MACs", human),
    (PARAMS, "params", human),
    (MEMORY, "memory traffic", human_bytes),
    (FLOPS, "FLOPs", human),
)

_SPARE_COLORS = (
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
)
MODEL_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)

PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}


def esc(value: Any) -> str:
    """Escape any text that came from a spec, for HTML and for Plotly labels."""
    return html.escape(str(value), quote=True)


def kind_style(kind: str) -> KindStyle | None:
    """The kind's :class:`KindStyle` (its class's ``style``), or None for a kind no
    class defines."""
    if kind == INPUT:
        return INPUT_STYLE
    cls = REGISTRY.get(kind)
    return cls.style if cls is not None else None


def kind_color(kind: str, _spare: dict[str, str] = {}) -> str:  # noqa: B006 (memo)
    """The kind's fixed colour (from its class); unknown kinds get spare colours."""
    style = kind_style(kind)
    if style is not None:
        return style.color
    if kind not in _spare:
        _spare[kind] = _SPARE_COLORS[sum(map(ord, kind)) % len(_SPARE_COLORS)]
    return _spare[kind]


def model_color(i: int) -> str:
    return MODEL_COLORS[i % len(MODEL_COLORS)]


# --------------------------------------------------------------------------- helpers


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


def _format_field(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format_field(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fields_text(fields: dict[str, Any] | None, limit: int = 140) -> str:
    """``kernel=3, stride=2, padding=1`` (escaped, shortened)."""
    if not fields:
        return ""
    text = ", ".join(f"{k}={_format_field(v)}" for k, v in fields.items())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return esc(text)


def _node_fields(graph: nx.DiGraph, name: str) -> dict[str, Any]:
    if name in graph:
        return graph.nodes[name]["node"].fields
    return {}


def _formula_lines(graph: nx.DiGraph, name: str, batch: int) -> list[str]:
    """``MACs = C_out·(k·C_in/g)·out = 24·(3·3·3)·(112·112)`` (and params), escaped.

    From the layer's own ``formulas`` (what ``archcost explain`` prints), for the
    quantities that are not zero; nothing for a node without a layer object.
    """
    if name not in graph:
        return []
    node = graph.nodes[name]["node"]
    layer, ins = node.layer, node.input_shapes
    if layer is None:
        return []
    out = []
    for quantity, symbolic, numbers, value in layer.formulas(ins):
        if quantity not in ("macs", "params") or not symbolic or not value:
            continue
        label = "MACs" if quantity == "macs" else "params"
        if quantity == "macs" and batch != 1:
            symbolic, numbers = f"batch·{symbolic}", f"{batch}·{numbers}"
        out.append(esc(f"{label} = {symbolic} = {numbers}" if numbers else f"{label} = {symbolic}"))
    return out


def _layer_hover(df: pd.DataFrame, graph: nx.DiGraph, batch: int = 1) -> list[str]:
    """One hover text per layer: name, kind, shapes, fields, formulas and every count."""
    out = []
    for r in df.itertuples(index=False):
        row = r._asdict()
        lines = [
            f"<b>{esc(row[NAME])}</b> ({esc(row[KIND])})",
            f"{esc(row[INPUT_SHAPES])} → {esc(row[OUTPUT_SHAPE])}",
        ]
        fields = _fields_text(_node_fields(graph, row[NAME]))
        if fields:
            lines.append(fields)
        lines += _formula_lines(graph, row[NAME], batch)
        lines.append(
            f"MACs {human(row[MACS])} · FLOPs {human(row[FLOPS])} · params {human(row[PARAMS])}"
        )
        lines.append(
            f"memory traffic {human_bytes(row[MEMORY])} · activations {human(row[ACTIVATIONS])}"
        )
        out.append("<br>".join(lines))
    return out


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = dict(
        template="plotly_white",
        height=height,
        margin=dict(l=64, r=24, t=36, b=48),
        hoverlabel=dict(align="left"),
        legend=dict(font=dict(size=11)),
        font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12),
    )
    layout.update(extra)
    return layout


def _metric_menu(buttons: list[dict[str, Any]], x: float = 0.0, y: float = 1.13) -> dict:
    """A row of buttons above a chart that switches the plotted metric."""
    return dict(
        type="buttons",
        direction="right",
        showactive=True,
        active=0,
        x=x,
        y=y,
        xanchor="left",
        yanchor="bottom",
        pad=dict(r=4, t=0),
        buttons=buttons,
        font=dict(size=11),
    )


def _kinds_by_cost(df: pd.DataFrame) -> list[str]:
    """Kinds present, the expensive ones first (by MACs, then memory traffic, then name)."""
    g = df.groupby(KIND, sort=False)[[MACS, MEMORY]].sum()
    return sorted(g.index, key=lambda k: (-int(g.at[k, MACS]), -int(g.at[k, MEMORY]), k))


def _div(fig: go.Figure, div_id: str) -> str:
    return pio.to_html(
        fig,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        config=PLOT_CONFIG,
        validate=False,
    )


# ------------------------------------------------------------------- single report


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
            for f, v in zip(full, values[col])
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
    for (col, label, fmt), color in zip(METRICS[:3], ("#1f77b4", "#d62728", "#2ca02c")):
        cum = df[col].cumsum().to_numpy()
        total = int(cum[-1]) if len(cum) else 0
        pct = 100 * cum / total if total else np.zeros(len(cum))
        texts = [
            f"<b>{n}</b><br>{label} up to here: {fmt(int(c))} ({p:.1f}%)"
            for n, c, p in zip(names, cum, pct)
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
        texts = [f"{h}<br><b>{v:.3g} MACs/byte</b>" for h, v in zip(hover_arr[sel], intensity[sel])]
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


# --------------------------------------------------------------------- compare report


def _merged_stages(items: Sequence[Analysis]) -> list[str]:
    """Stages of all models in one order that respects each model's order (stem first,
    head last)."""
    merged: list[str] = []
    for a in items:
        last = -1
        for s in dict.fromkeys(stage_labels(a.layers[NAME].tolist())):
            if s in merged:
                last = merged.index(s)
            else:
                last += 1
                merged.insert(last, s)
    middle = [s for s in merged if s not in (STEM, HEAD)]
    return [STEM] * (STEM in merged) + middle + [HEAD] * (HEAD in merged)


_LABEL_SPOTS = (
    "top center",
    "middle right",
    "middle left",
    "bottom center",
    "top right",
    "top left",
    "bottom right",
    "bottom left",
)


def label_positions(
    points: Sequence[tuple[float, float]], near_x: float = 0.2, near_y: float = 0.1
) -> list[str]:
    """A text position per point, so labels of points close together do not overlap.

    Coordinates are compared as fractions of the axis range (labels are wider than
    tall, hence the larger ``near_x``); a point takes the first spot that no earlier
    point near it has taken.

    >>> label_positions([(0, 0), (10, 10), (9, 10.1)])
    ['top center', 'top center', 'middle right']
    """
    if not points:
        return []
    xs, ys = zip(*points)
    sx = (max(xs) - min(xs)) or 1
    sy = (max(ys) - min(ys)) or 1
    spots: list[str] = []
    for i, (x, y) in enumerate(points):
        taken = {
            spots[j]
            for j in range(i)
            if abs(points[j][0] - x) / sx < near_x and abs(points[j][1] - y) / sy < near_y
        }
        spots.append(next((s for s in _LABEL_SPOTS if s not in taken), _LABEL_SPOTS[0]))
    return spots


def fig_cmp_scatter(items: Sequence[Analysis]) -> go.Figure:
    """MACs against params, one labelled point per model (size: memory traffic)."""
    fig = go.Figure()
    mems = [a.totals[MEMORY] for a in items]
    biggest = max(mems) or 1
    spots = label_positions([(a.totals[PARAMS], a.totals[MACS]) for a in items])
    for i, a in enumerate(items):
        t = a.totals
        fig.add_trace(
            go.Scatter(
                x=[t[PARAMS]],
                y=[t[MACS]],
                mode="markers+text",
                name=esc(a.label),
                text=[esc(a.label)],
                textposition=spots[i],
                marker=dict(
                    size=14 + 26 * math.sqrt(t[MEMORY] / biggest),
                    color=model_color(i),
                    line=dict(color="#333", width=1),
                ),
                hovertext=[
                    f"<b>{esc(a.label)}</b><br>params {human(t[PARAMS])}<br>"
                    f"MACs {human(t[MACS])}<br>FLOPs {human(t[FLOPS])}<br>"
                    f"memory traffic {human_bytes(t[MEMORY])}"
                ],
                hoverinfo="text",
                cliponaxis=False,
            )
        )
    xmax = max(a.totals[PARAMS] for a in items) * 1.15 or 1
    ymax = max(a.totals[MACS] for a in items) * 1.2 or 1
    fig.update_layout(
        _layout(
            440,
            showlegend=False,
            xaxis=dict(title_text="parameters", range=[0, xmax], exponentformat="SI"),
            yaxis=dict(title_text="MACs", range=[0, ymax], exponentformat="SI"),
        )
    )
    return fig


def fig_cmp_stages(items: Sequence[Analysis]) -> go.Figure:
    """Each cost summed per top-level stage, grouped bars, one colour per model."""
    stages = _merged_stages(items)
    per_model = []
    for a in items:
        g = a.layers.assign(_stage=stage_labels(a.layers[NAME].tolist())).groupby(
            "_stage", sort=False
        )
        sums = g[[c for c, _, _ in METRICS]].sum()
        per_model.append(sums.reindex(stages))
    xs = [esc(s) for s in stages]

    def column(sums: pd.DataFrame, col: str) -> list[int | None]:
        return [None if pd.isna(v) else int(v) for v in sums[col]]

    def texts(a: Analysis, sums: pd.DataFrame, col: str, fmt: Any) -> list[str]:
        return [
            "" if pd.isna(v) else f"<b>{esc(a.label)}</b><br>{esc(s)}: {fmt(int(v))}"
            for s, v in zip(stages, sums[col])
        ]

    fig = go.Figure()
    first = METRICS[0]
    for i, (a, sums) in enumerate(zip(items, per_model)):
        fig.add_trace(
            go.Bar(
                x=xs,
                y=column(sums, first[0]),
                name=esc(a.label),
                marker=dict(color=model_color(i)),
                hovertext=texts(a, sums, first[0], first[2]),
                hoverinfo="text",
            )
        )
    buttons = [
        dict(
            label=label,
            method="update",
            args=[
                {
                    "y": [column(s, col) for s in per_model],
                    "hovertext": [texts(a, s, col, fmt) for a, s in zip(items, per_model)],
                },
                {"yaxis.title.text": label},
            ],
        )
        for col, label, fmt in METRICS
    ]
    fig.update_layout(
        _layout(
            440,
            barmode="group",
            bargap=0.15,
            margin=dict(l=64, r=24, t=56, b=90),
            xaxis=dict(tickangle=-45, title_text="stage"),
            yaxis=dict(title_text="MACs", exponentformat="SI"),
            updatemenus=[_metric_menu(buttons, y=1.04)],
            legend=dict(orientation="h", x=1, xanchor="right", y=1.04, yanchor="bottom"),
        )
    )
    return fig


def fig_cmp_kinds(items: Sequence[Analysis]) -> go.Figure:
    """Each cost split by layer kind, stacked, one bar per model."""
    all_layers = pd.concat([a.layers for a in items], ignore_index=True)
    kinds = _kinds_by_cost(all_layers)
    labels = [esc(a.label) for a in items]
    sums = [a.layers.groupby(KIND)[[c for c, _, _ in METRICS]].sum() for a in items]

    def vals(kind: str, col: str) -> list[int]:
        return [int(s.at[kind, col]) if kind in s.index else 0 for s in sums]

    def texts(kind: str, col: str, fmt: Any) -> list[str]:
        out = []
        for a, v in zip(items, vals(kind, col)):
            share = 100 * v / a.totals[col] if a.totals.get(col) else 0.0
            out.append(f"<b>{esc(a.label)}</b><br>{esc(kind)}: {fmt(v)} ({share:.1f}%)")
        return out

    fig = go.Figure()
    col0, _, fmt0 = METRICS[0]
    for kind in kinds:
        fig.add_trace(
            go.Bar(
                x=labels,
                y=vals(kind, col0),
                name=esc(kind),
                marker=dict(color=kind_color(kind)),
                hovertext=texts(kind, col0, fmt0),
                hoverinfo="text",
            )
        )
    buttons = [
        dict(
            label=label,
            method="update",
            args=[
                {
                    "y": [vals(k, col) for k in kinds],
                    "hovertext": [texts(k, col, fmt) for k in kinds],
                },
                {"yaxis.title.text": label},
            ],
        )
        for col, label, fmt in METRICS
    ]
    fig.update_layout(
        _layout(
            460,
            barmode="stack",
            margin=dict(l=64, r=24, t=56, b=48),
            yaxis=dict(title_text="MACs", exponentformat="SI"),
            updatemenus=[_metric_menu(buttons, y=1.04)],
            legend=dict(title=dict(text="kind"), traceorder="normal"),
        )
    )
    return fig


def _steps(values: np.ndarray) -> np.ndarray:
    """Indices where a cumulative curve changes, plus both ends (fewer points, same line)."""
    n = len(values)
    if n == 0:
        return np.arange(0)
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    keep[1:] |= np.diff(values) != 0
    keep[:-1] |= np.diff(values) != 0  # the point before a jump holds the flat part
    return np.flatnonzero(keep)


def fig_cmp_cumulative(items: Sequence[Analysis]) -> go.Figure:
    """Cumulative MACs and params over relative depth, one curve per model."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=("cumulative MACs", "cumulative parameters"),
    )
    for i, a in enumerate(items):
        n = len(a.layers)
        depth = 100 * np.arange(n) / max(n - 1, 1)
        names = a.layers[NAME].to_numpy()
        for c, col in enumerate((MACS, PARAMS), start=1):
            cum = a.layers[col].cumsum().to_numpy()
            keep = _steps(cum)
            fig.add_trace(
                go.Scatter(
                    x=depth[keep],
                    y=cum[keep],
                    mode="lines",
                    name=esc(a.label),
                    legendgroup=f"m{i}",
                    showlegend=c == 1,
                    line=dict(color=model_color(i), width=2, shape="hv"),
                    hovertext=[
                        f"<b>{esc(a.label)}</b><br>{esc(names[k])}<br>"
                        f"{'MACs' if col == MACS else 'params'} so far: {human(int(cum[k]))}"
                        for k in keep
                    ],
                    hoverinfo="text",
                ),
                row=1,
                col=c,
            )
    fig.update_xaxes(title_text="depth (% of the network's layers)", range=[0, 100], ticksuffix="%")
    fig.update_yaxes(exponentformat="SI", rangemode="tozero")
    fig.update_layout(_layout(420, legend=dict(orientation="h", x=0, y=-0.22)))
    return fig


def fig_cmp_distributions(items: Sequence[Analysis]) -> go.Figure:
    """Per-layer MACs and arithmetic intensity of the multiplying layers, one box per model."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            "MACs per layer (layers with MACs > 0)",
            "MACs per byte of memory traffic, per layer",
        ),
    )
    for i, a in enumerate(items):
        d = a.layers[(a.layers[MACS] > 0) & (a.layers[MEMORY] > 0)]
        label = esc(a.label)
        names = [esc(n) for n in d[NAME]]
        kinds = [esc(k) for k in d[KIND]]
        macs = d[MACS].to_numpy()
        inten = macs / d[MEMORY].to_numpy()
        for c, (vals, fmt) in enumerate(
            ((macs, lambda v: human(int(v))), (inten, lambda v: f"{v:.3g} MACs/byte")), start=1
        ):
            fig.add_trace(
                go.Box(
                    y=vals,
                    x=[label] * len(vals),
                    name=label,
                    legendgroup=f"m{i}",
                    showlegend=False,
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=0,
                    marker=dict(color=model_color(i), size=4, opacity=0.7),
                    line=dict(color=model_color(i)),
                    hovertext=[
                        f"<b>{n}</b> ({k})<br>{fmt(v)}" for n, k, v in zip(names, kinds, vals)
                    ],
                    hoverinfo="text",
                ),
                row=1,
                col=c,
            )
    fig.update_yaxes(type="log", dtick=1)
    fig.update_yaxes(title_text="MACs (log)", exponentformat="SI", row=1, col=1)
    fig.update_yaxes(title_text="MACs per byte (log)", exponentformat="none", row=1, col=2)
    fig.update_layout(_layout(460, showlegend=False))
    return fig


# ----------------------------------------------------------------------------- pages

_CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#fafbfc;--accent:#1f77b4}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1280px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:18px;margin:0 0 2px}
.desc{color:var(--muted);margin:0 0 12px;max-width:70em}
.meta{display:flex;flex-wrap:wrap;gap:4px 22px;margin:8px 0 14px;color:var(--muted)}
.meta b{color:var(--fg);font-weight:600}
.knob.set{color:#b35900;font-weight:600}
.totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px;margin:8px 0 12px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:24px;font-weight:650}
.card .exact{color:var(--muted);font-size:12px;font-variant-numeric:tabular-nums}
.conventions{color:var(--muted);font-size:12px;margin:6px 0 0}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px 6px;margin:16px 0}
section>p.note{color:var(--muted);margin:0 0 6px;font-size:13px}
table{border-collapse:collapse;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
td.w{white-space:normal;word-break:break-word;min-width:12em}
th{position:sticky;top:0;background:#f3f5f8;cursor:pointer;user-select:none}
td.n,th.n{text-align:right}
tfoot td{font-weight:650;border-top:2px solid #c9ced8}
.tablewrap{max-height:640px;overflow:auto;margin-bottom:10px}
.ratio{color:var(--muted);font-size:12px;margin-left:4px}
footer{color:var(--muted);font-size:12px;margin-top:24px}
"""

# Click a header to sort the table by that column (numbers by their exact value).
_SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('thead th').forEach(function(th,col){
    th.addEventListener('click',function(){
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      var asc=th.getAttribute('data-dir')!=='asc';
      t.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('data-dir');});
      th.setAttribute('data-dir',asc?'asc':'desc');
      rows.sort(function(a,b){
        var x=a.cells[col].getAttribute('data-v'),y=b.cells[col].getAttribute('data-v');
        var r=(x!==null&&y!==null)?(Number(x)-Number(y)):
              a.cells[col].textContent.localeCompare(b.cells[col].textContent);
        return asc?r:-r;});
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
"""


def _plotly_script(plotlyjs: str) -> str:
    if plotlyjs == "inline":
        return f"<script>{get_plotlyjs()}</script>"
    if plotlyjs == "cdn":
        from plotly.io._utils import plotly_cdn_url

        return f'<script charset="utf-8" src="{esc(plotly_cdn_url())}"></script>'
    raise ValueError(f"plotlyjs must be one of {', '.join(PLOTLYJS_MODES)}; got {plotlyjs!r}.")


def _page(title: str, header: str, sections: list[str], plotlyjs: str) -> str:
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>{_CSS}</style>",
            "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>",
            _plotly_script(plotlyjs),
            "</head>",
            "<body><main>",
            header,
            *sections,
            f"<footer>Counting conventions: {esc(CONVENTIONS)}<br>"
            "Generated by archcost. Hover any bar or node for its details; "
            "drag to zoom, double-click to reset.</footer>",
            f"</main><script>{_SORT_JS}</script></body>",
            "</html>",
            "",
        ]
    )


def _section(title: str, note: str, body: str, sid: str) -> str:
    return (
        f'<section id="{sid}"><h2>{title}</h2>'
        + (f'<p class="note">{note}</p>' if note else "")
        + body
        + "</section>"
    )


def _card(label: str, value: str, exact_text: str) -> str:
    return (
        f'<div class="card"><div class="label">{label}</div>'
        f'<div class="value">{value}</div><div class="exact">{exact_text}</div></div>'
    )


def _shape(shape: Sequence[int]) -> str:
    return "×".join(str(int(d)) for d in shape)


def _knobs_html(model: Any) -> str:
    knobs = dict(getattr(model, "knobs", {}) or {})
    overrides = dict(getattr(model, "overrides", {}) or {})
    if not knobs:
        return "none"
    parts = []
    for k, v in knobs.items():
        cls = "knob set" if k in overrides else "knob"
        tip = ' title="set for this report"' if k in overrides else ""
        parts.append(f'<span class="{cls}"{tip}>{esc(k)}={esc(_format_field(v))}</span>')
    return ", ".join(parts)


def _check(batch: int, plotlyjs: str) -> None:
    if plotlyjs not in PLOTLYJS_MODES:
        raise ValueError(f"plotlyjs must be one of {', '.join(PLOTLYJS_MODES)}; got {plotlyjs!r}.")
    if int(batch) < 1:
        raise ValueError(f"batch must be a positive integer; got {batch!r}.")


def _layer_table(df: pd.DataFrame, totals: dict[str, int], times: Any = None) -> str:
    """The per-layer table; ``times`` (layer name -> LayerEstimate) adds time and bound."""
    numeric = set(COLUMNS[5:])
    head = "".join(
        f'<th class="n">{c}</th>' if c in numeric else f"<th>{c}</th>" for c in ["#", *COLUMNS]
    )
    if times is not None:
        head += '<th class="n">time</th><th>bound</th>'
    rows = []
    values = df[COLUMNS].to_numpy(dtype=object)
    for i, row in enumerate(values):
        cells = [f'<td class="n" data-v="{i}">{i}</td>']
        for c, v in zip(COLUMNS, row):
            if c in numeric:
                cells.append(f'<td class="n" data-v="{int(v)}">{exact(v)}</td>')
            elif c in (INPUTS, INPUT_SHAPES):
                cells.append(f'<td class="w">{esc(v)}</td>')
            else:
                cells.append(f"<td>{esc(v)}</td>")
        if times is not None:
            from archcost.report.latency import human_seconds

            e = times.get(row[0])
            cells.append(
                f'<td class="n" data-v="{e.seconds if e else 0!r}">'
                f"{human_seconds(e.seconds) if e else ''}</td>"
                f"<td>{esc(e.bound if e else '')}"
                + (f" → {esc(e.fused_into)}" if e and e.fused_into else "")
                + "</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = ["<td></td><td>total</td>"] + ["<td></td>"] * 4
    for c in COLUMNS[5:]:
        foot.append(f'<td class="n">{exact(int(df[c].sum()))}</td>')
    if times is not None:
        from archcost.report.latency import human_seconds

        foot.append(
            f'<td class="n">{human_seconds(sum(e.seconds for e in times.values()))}</td><td></td>'
        )
    return (
        f'<div class="tablewrap"><table class="sortable layers" id="archcost-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f"<tfoot><tr>{''.join(foot)}</tr></tfoot></table></div>"
    )


def _model_header(
    model: Any,
    totals: dict[str, int],
    n_layers: int,
    batch: int,
    dtype: str,
    latency: tuple[str, float] | None = None,
) -> str:
    desc = getattr(model, "description", "") or ""
    extra = []
    if latency is not None:  # (device name, predicted seconds)
        from archcost.report.latency import human_seconds

        extra.append(
            _card(
                "predicted latency", human_seconds(latency[1]), f"{latency[1]!r} s on {latency[0]}"
            )
        )
    cards = "".join(
        [
            _card("parameters", human(totals[PARAMS]), exact(totals[PARAMS])),
            _card("MACs", human(totals[MACS]), exact(totals[MACS])),
            _card("FLOPs", human(totals[FLOPS]), exact(totals[FLOPS])),
            _card("memory traffic", human_bytes(totals[MEMORY]), exact(totals[MEMORY]) + " bytes"),
            _card(
                "peak activation memory",
                human_bytes(totals["peak_activation_bytes"]),
                exact(totals["peak_activation_bytes"]) + " bytes",
            ),
            *extra,
        ]
    )
    return (
        f"<header><h1>{esc(model.name)}</h1>"
        + (f'<p class="desc">{esc(desc)}</p>' if desc else "")
        + '<div class="meta">'
        f"<span>spec <b>{esc(getattr(model, 'path', ''))}</b></span>"
        f"<span>input <b>{_shape(model.input_shape)}</b></span>"
        f"<span>knobs <b>{_knobs_html(model)}</b></span>"
        f"<span>batch <b>{int(batch)}</b></span><span>dtype <b>{esc(dtype)}</b></span>"
        f"<span>layers <b>{n_layers}</b></span></div>"
        f'<div class="totals" id="archcost-totals">{cards}</div>'
        f'<p class="conventions">Counting conventions: {esc(CONVENTIONS)}</p></header>'
    )


def render_model_report(
    model: Any,
    *,
    batch: int = 1,
    dtype: str = "float32",
    plotlyjs: str = "inline",
    profile: Any = None,
) -> str:
    """The single-model page as an HTML string (see :func:`write_model_report`)."""
    _check(batch, plotlyjs)
    (a,) = analyses([model], batch=batch, dtype=dtype)
    df = a.layers
    graph = model.graph
    hover = _layer_hover(df, graph, int(batch))
    est: Any = None
    if profile is not None:  # time per layer, kind and in total (report.latency_figures)
        from archcost.report import latency_figures as lf

        est, latency_s = lf.model_sections(model, profile, batch=batch, dtype=dtype)
    sections = [
        _section(
            "Per-layer MACs and parameters",
            "Every layer in network order, coloured by kind. Hover a bar for its shapes, "
            "fields, formulas and counts; click a kind in the legend to hide it.",
            _div(fig_layers(df, hover), SINGLE_CHARTS[0]),
            "layers",
        ),
        _section(
            "Cost by hierarchy",
            "Costs rolled up by the layer names (stage → block → layer). Click a sector "
            "to zoom in, the centre to zoom out; the buttons switch the cost.",
            _div(fig_hierarchy(df, model.name), SINGLE_CHARTS[1]),
            "hierarchy",
        ),
        _section(
            "Cost share by layer kind",
            "Where the multiplications, parameters, memory traffic and FLOPs go: "
            "standard vs 1×1 vs depthwise convolution and the rest.",
            _div(fig_kinds(df), SINGLE_CHARTS[2]),
            "kinds",
        ),
        _section(
            "Cumulative cost across depth",
            "How fast each cost accumulates from input to output.",
            _div(fig_cumulative(df), SINGLE_CHARTS[3]),
            "cumulative",
        ),
        _section(
            "Arithmetic intensity",
            "MACs per byte of memory traffic, for the layers that multiply. Low bars are "
            "memory-bound: they move many bytes per multiplication (depthwise and "
            "grouped 1×1 convolutions typically); the dashed line is the whole network's.",
            _div(fig_intensity(df, hover, a.totals), SINGLE_CHARTS[4]),
            "intensity",
        ),
        _section(
            "Graph",
            "Layers from input (left) to output (right), coloured by MACs; grey nodes do "
            "no multiplications (◆ add, ■ concat, ▶ split, ★ shuffle). Arcs below the "
            "main line are connections that skip layers (residual and shuffle branches). "
            "Drag to pan, scroll to zoom.",
            _div(fig_graph(df, hover, graph, model.input_shape), SINGLE_CHARTS[5]),
            "graph",
        ),
        _section(
            "Per-layer table",
            f"{len(df)} layers; exact counts at batch {int(batch)}, {esc(dtype)}. "
            "Click a header to sort.",
            _layer_table(df, a.totals, None if est is None else {e.name: e for e in est}),
            "table",
        ),
    ]
    if profile is not None:
        from archcost.report.roofline_chart import DIV_ID, roofline_figure

        sections.insert(
            5,
            _section(
                f"Roofline on {esc(profile.name)}",
                "Each layer at its arithmetic intensity (MACs per byte) against its estimated "
                "throughput on this device profile: left of the dashed ridge a layer is "
                "memory-bound (the sloped roof, bandwidth × intensity), right of it "
                "compute-bound (the flat roof, peak MAC/s).",
                _div(roofline_figure(model, profile, batch=batch, dtype=dtype), DIV_ID),
                "roofline",
            ),
        )
        sections.insert(
            6,
            _section(
                f"Predicted time per layer kind on {esc(profile.name)}",
                "Every kind, those without MACs too (batchnorm, activations, shuffle, concat, "
                "split): element-wise work is not free. Layers the runtime fuses into a "
                "convolution's kernel take no time of their own; their kernel counts under the "
                "convolution's kind.",
                _div(lf.fig_time_by_kind(est, profile), lf.KIND_DIV_ID),
                "time-by-kind",
            ),
        )
        sections.insert(
            7,
            _section(
                "Share of MACs vs share of time",
                "Per kind: where the multiplications are against where the predicted time goes.",
                _div(lf.fig_share_macs_vs_time(est), lf.SHARE_DIV_ID),
                "share-macs-time",
            ),
        )
    header = _model_header(
        model, a.totals, len(df), batch, dtype, None if est is None else (profile.name, latency_s)
    )
    return _page(f"{esc(model.label)} · archcost", header, sections, plotlyjs)


def write_model_report(
    model: Any,
    path: str | Path,
    *,
    batch: int = 1,
    dtype: str = "float32",
    plotlyjs: str = "inline",
    profile: Any = None,
) -> Path:
    """Write one model's self-contained HTML report.

    The page shows the totals and counting conventions, per-layer MACs and params,
    cost by hierarchy (sunburst), cost share by kind, cumulative cost across depth,
    arithmetic intensity per layer, the graph, and the per-layer table.

    Args:
        model: a loaded :class:`archcost.model.Model` (or ``"spec.yaml@k=v"``).
        path: the HTML file to write; parent folders are created.
        batch: samples per batch (multiplies activations and ops, never params).
        dtype: element type that sets the bytes of memory traffic.
        plotlyjs: ``"inline"`` (works offline) or ``"cdn"`` (small file, needs network).
        profile: a device profile (:func:`archcost.roofline.load_profile`); when given,
            the page also has the roofline chart.

    Returns:
        The path written.
    """
    text = render_model_report(model, batch=batch, dtype=dtype, plotlyjs=plotlyjs, profile=profile)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def _totals_table(items: Sequence[Analysis]) -> str:
    tf = totals_frame(items)
    labels = {
        PARAMS: "parameters",
        MACS: "MACs",
        FLOPS: "FLOPs",
        MEMORY: "memory traffic",
        "peak_activation_bytes": "peak activation memory",
    }
    fmt = {MEMORY: human_bytes, "peak_activation_bytes": human_bytes}
    head = "<th>model</th><th>spec</th><th>input</th>" + "".join(
        f'<th class="n">{labels[c]}</th>' for c in TOTAL_COLUMNS
    )
    rows = []
    for i, (a, row) in enumerate(zip(items, tf.itertuples(index=False))):
        r = row._asdict()
        swatch = (
            f'<span style="display:inline-block;width:10px;height:10px;border-radius:2px;'
            f'margin-right:6px;background:{model_color(i)}"></span>'
        )
        cells = [
            f"<td>{swatch}{esc(a.label)}</td>",
            f"<td>{esc(getattr(a.model, 'path', ''))}</td>",
            f"<td>{_shape(a.model.input_shape)}</td>",
        ]
        for c in TOTAL_COLUMNS:
            v = int(r[c])
            rat = "" if i == 0 else f'<span class="ratio">{ratio(r[c + "_ratio"])}</span>'
            cells.append(
                f'<td class="n" data-v="{v}" title="{exact(v)}">{fmt.get(c, human)(v)}{rat}</td>'
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="tablewrap"><table class="sortable" id="archcost-totals-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def render_compare_report(
    models: Iterable[Any],
    *,
    batch: int = 1,
    dtype: str = "float32",
    plotlyjs: str = "inline",
    profile: Any = None,
) -> str:
    """The compare page as an HTML string (see :func:`write_compare_report`)."""
    _check(batch, plotlyjs)
    items = list(analyses(models, batch=batch, dtype=dtype))
    names = " vs ".join(esc(a.label) for a in items)
    ref = esc(items[0].label)
    header = (
        f"<header><h1>{names}</h1>"
        f'<div class="meta"><span>batch <b>{int(batch)}</b></span>'
        f"<span>dtype <b>{esc(dtype)}</b></span>"
        f"<span>models <b>{len(items)}</b></span></div>"
        f'<p class="conventions">Counting conventions: {esc(CONVENTIONS)}</p></header>'
    )
    sections = [
        _section(
            "Totals",
            f"Ratios (×) are to the first model, {ref}. Hover a cell for the "
            "exact count; click a header to sort.",
            _totals_table(items),
            "totals",
        ),
        _section(
            "MACs against parameters",
            "One point per model; the marker's area grows with memory traffic.",
            _div(fig_cmp_scatter(items), COMPARE_CHARTS[0]),
            "scatter",
        ),
        _section(
            "Cost per stage",
            "Summed over the first component of the layer names; top-level layers before "
            "the first block are the stem, those after the last the head. The buttons "
            "switch the cost.",
            _div(fig_cmp_stages(items), COMPARE_CHARTS[1]),
            "stages",
        ),
        _section(
            "Cost by layer kind",
            "Each model's total split by layer kind. The buttons switch the cost.",
            _div(fig_cmp_kinds(items), COMPARE_CHARTS[2]),
            "kinds",
        ),
        _section(
            "Cumulative cost across depth",
            "Depth is relative (each model's layers spread over 0–100 %) so networks of "
            "different depth overlay.",
            _div(fig_cmp_cumulative(items), COMPARE_CHARTS[3]),
            "cumulative",
        ),
        _section(
            "Per-layer distributions",
            "One point per layer that multiplies. Right: MACs per byte of memory "
            "traffic; low values are memory-bound layers.",
            _div(fig_cmp_distributions(items), COMPARE_CHARTS[4]),
            "distributions",
        ),
    ]
    if profile is not None:  # latency beside MACs (report.latency_figures)
        from archcost.report import latency_figures as lf

        seconds = [lf.model_sections(a.model, profile, batch=batch, dtype=dtype)[1] for a in items]
        sections.insert(
            1,
            _section(
                f"MACs and predicted latency on {esc(profile.name)}",
                f"Both relative to {ref}: a model with fewer MACs is not always faster.",
                _div(
                    lf.fig_compare_latency(
                        [a.label for a in items], [int(a.totals[MACS]) for a in items], seconds
                    ),
                    lf.COMPARE_DIV_ID,
                ),
                "latency",
            ),
        )
    title = " vs ".join(esc(a.label) for a in items) + " · archcost"
    return _page(title, header, sections, plotlyjs)


def write_compare_report(
    models: Iterable[Any],
    path: str | Path,
    *,
    batch: int = 1,
    dtype: str = "float32",
    plotlyjs: str = "inline",
    profile: Any = None,
) -> Path:
    """Write a self-contained HTML page comparing several models.

    The page shows the totals with ratios to the first model, MACs against params,
    cost per stage, cost by layer kind, cumulative curves and per-layer distributions.

    Args:
        models: loaded models or ``"spec.yaml@k=v,..."`` strings, the reference first.
        path: the HTML file to write; parent folders are created.
        batch: samples per batch.
        dtype: element type that sets the bytes of memory traffic.
        plotlyjs: ``"inline"`` (works offline) or ``"cdn"``.
        profile: a device profile; adds MACs beside predicted latency.

    Returns:
        The path written.
    """
    text = render_compare_report(
        models, batch=batch, dtype=dtype, plotlyjs=plotlyjs, profile=profile
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
