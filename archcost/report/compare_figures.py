"""The compare figures (Plotly): several models side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from archcost.report.compare import Analysis
from archcost.report.figures import _kinds_by_cost
from archcost.report.style import (
    FLOPS,
    KIND,
    MACS,
    MEMORY,
    METRICS,
    NAME,
    OUTPUT_SHAPE,
    PARAMS,
    _layout,
    _metric_menu,
    esc,
    kind_marker,
    model_color,
)
from archcost.report.units import human, human_bytes

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
    xs, ys = zip(*points, strict=True)
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


def resolution_stage(output_shape: str) -> tuple[int, str]:
    """The stage a layer belongs to when models are lined up: the spatial size of its
    (first) output map, ``112×112``; 1-D outputs (linear, flatten) are the head.

    Returns ``(area, label)``; stages sort by decreasing area.

    >>> resolution_stage("32x112x112"), resolution_stage("1000"), resolution_stage("8x4x4; 8x4x4")
    ((12544, '112×112'), (0, 'head'), (16, '4×4'))
    """
    dims = [int(d) for d in output_shape.split(";")[0].strip().split("x")]
    spatial = dims[1:]
    if not spatial:
        return 0, "head"
    return math.prod(spatial), "×".join(map(str, spatial))


def fig_cmp_stages(items: Sequence[Analysis]) -> go.Figure:
    """Each cost summed per output resolution (every layer producing 112×112 maps, then
    56×56, ...), grouped bars, one colour per model: stages that line up across
    networks whatever their layer names."""
    stage_of = [[resolution_stage(str(o)) for o in a.layers[OUTPUT_SHAPE]] for a in items]
    order = sorted({st for per in stage_of for st in per}, key=lambda st: -st[0])
    stages = list(dict.fromkeys(label for _, label in order))
    per_model = []
    for a, per in zip(items, stage_of, strict=True):
        g = a.layers.assign(_stage=[label for _, label in per]).groupby("_stage", sort=False)
        sums = g[[c for c, _, _ in METRICS]].sum()
        per_model.append(sums.reindex(stages))
    xs = [esc(s) for s in stages]

    def column(sums: pd.DataFrame, col: str) -> list[int | None]:
        return [None if pd.isna(v) else int(v) for v in sums[col]]

    def texts(a: Analysis, sums: pd.DataFrame, col: str, fmt: Any) -> list[str]:
        return [
            "" if pd.isna(v) else f"<b>{esc(a.label)}</b><br>{esc(s)}: {fmt(int(v))}"
            for s, v in zip(stages, sums[col], strict=True)
        ]

    fig = go.Figure()
    first = METRICS[0]
    for i, (a, sums) in enumerate(zip(items, per_model, strict=True)):
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
                    "hovertext": [
                        texts(a, s, col, fmt) for a, s in zip(items, per_model, strict=True)
                    ],
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
            xaxis=dict(tickangle=-45, title_text="output resolution"),
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
        for a, v in zip(items, vals(kind, col), strict=True):
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
                marker=kind_marker(kind),
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
                        f"<b>{n}</b> ({k})<br>{fmt(v)}"
                        for n, k, v in zip(names, kinds, vals, strict=True)
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
