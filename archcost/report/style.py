"""Report style: column names, chart ids, palettes, hover text, Plotly layout helpers.

Every colour a page uses comes from here: layer-kind colours from each kind's
``style`` (its class), model colours from :data:`MODEL_COLORS`.
"""

from __future__ import annotations

import html
from typing import Any

import networkx as nx
import pandas as pd
import plotly.graph_objects as go

from archcost.costs import COLUMNS
from archcost.graph import INPUT
from archcost.layers import REGISTRY
from archcost.layers.base import INPUT_STYLE, KIND_COLORS, KindStyle
from archcost.report.bundle import chart_div
from archcost.report.units import human, human_bytes

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


# Models get their own palette, never a kind's colour (kinds: archcost.layers.base.
# KIND_COLORS, Paul Tol's schemes): Okabe & Ito's colour-blind-safe set (Color Universal
# Design, 2002), darkest first so before/after pairs contrast most. Its sky blue (#56b4e9)
# and yellow (#f0e442) are left out: they sit among the light kind colours (under 9
# CIEDE2000 from them with simulated deuteranopia or protanopia; tests/test_palette.py),
# and yellow is hard to see on white. A seventh model reuses the first colour.
MODEL_COLORS = (
    "#000000",
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
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


def kind_color(kind: str) -> str:
    """The kind's fixed colour (from its class); a kind no class defines gets the
    data-movement colour."""
    style = kind_style(kind)
    return style.color if style is not None else KIND_COLORS["movement"]


# Bar patterns for kinds that share their family's colour (Plotly's pattern shapes):
# the first kind of a colour (by name) is plain, the others hatched, so add, concat and
# channel_shuffle, all data-movement olive, differ in a stacked bar and its legend.
_PATTERNS = ("", "/", "\\", "x", ".", "-", "|", "+")


def kind_pattern(kind: str) -> str:
    """The kind's bar pattern among the kinds of its colour ("" for the first)."""
    color = kind_color(kind)
    same = sorted(k for k, cls in REGISTRY.items() if cls.style.color == color)
    return _PATTERNS[same.index(kind) % len(_PATTERNS)] if kind in same else ""


def kind_marker(kind: str) -> dict[str, Any]:
    """A bar's marker for ``kind``: its colour, and its pattern when it shares the colour
    (drawn dark on light colours, light on dark ones)."""
    color = kind_color(kind)
    shape = kind_pattern(kind)
    marker: dict[str, Any] = dict(color=color, line=dict(width=0))
    if shape:
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 128
        marker["pattern"] = dict(
            shape=shape,
            fillmode="overlay",
            fgcolor="#ffffff" if dark else "#333333",
            size=6,
            solidity=0.25,
        )
    return marker


def model_color(i: int) -> str:
    return MODEL_COLORS[i % len(MODEL_COLORS)]


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


def _div(
    fig: go.Figure,
    div_id: str,
    config: dict[str, Any] | None = None,
    post_script: str | None = None,
) -> str:
    """A chart on a page: its div and its figure, drawn by the page's script
    (:func:`archcost.report.bundle.chart_div`); ``config`` adds to :data:`PLOT_CONFIG`,
    ``post_script`` runs once it is drawn (``{plot_id}`` is its div id)."""
    return chart_div(fig, div_id, {**PLOT_CONFIG, **(config or {})}, post_script)
