"""The sweep report: a Pareto chart, a heatmap (two knobs) or parallel coordinates
(more), and the front as a table. Self-contained and offline like the other pages
(:mod:`archcost.report.html`): every spec-supplied string (name, knob names and values,
error messages, accuracy sources) is escaped before it reaches HTML or a Plotly label.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from archcost.costs import CONVENTIONS, TOTAL_KEYS
from archcost.report.html import _check, _page, _section
from archcost.report.style import _div, _layout, esc
from archcost.report.units import exact, human, human_bytes
from archcost.sweeping import sweep_title

SWEEP_CHARTS = ("archcost-sweep-pareto", "archcost-sweep-heatmap", "archcost-sweep-parallel")
LABELS = {
    "params": "params",
    "macs": "MACs",
    "flops": "FLOPs",
    "memory_access": "memory traffic",
    "activations": "activations",
    "peak_activation_bytes": "peak activations",
    "buffers": "buffers",
    "latency_s": "latency (s)",
    "accuracy": "top-1 %",
}
BYTES = ("memory_access", "peak_activation_bytes")
FRONT, OTHER = "#d62728", "#9aa7b8"


def knob_columns(frame: pd.DataFrame) -> list[str]:
    skip = {*TOTAL_KEYS, "latency_s", "accuracy", "accuracy_source", "pareto", "error"}
    return [c for c in frame.columns if c not in skip]


def _fmt(col: str, value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    if col in BYTES:
        return human_bytes(int(value))
    if col == "latency_s":
        return f"{float(value) * 1e3:.3g} ms"
    if col == "accuracy":
        return f"{float(value):.1f} %"
    if col in TOTAL_KEYS:
        return human(int(value))
    return str(value)


def hover_texts(frame: pd.DataFrame) -> list[str]:
    """Per row: every knob, every count (exact), accuracy and its source; escaped."""
    knobs = knob_columns(frame)
    counts = [c for c in (*TOTAL_KEYS, "latency_s", "accuracy") if c in frame.columns]
    out = []
    for row in frame.to_dict("records"):
        lines = ["<b>" + ", ".join(f"{esc(k)}={esc(row[k])}" for k in knobs) + "</b>"]
        for c in counts:
            v = row[c]
            text = _fmt(c, v)
            if c in TOTAL_KEYS and v is not None and not pd.isna(v):
                text += f" ({exact(int(v))})"
            lines.append(f"{LABELS[c]}: {text}")
        if "accuracy_source" in frame.columns and isinstance(row.get("accuracy_source"), str):
            lines.append(f"source: {esc(row['accuracy_source'])}")
        if row["pareto"]:
            lines.append("<b>on the Pareto front</b>")
        out.append("<br>".join(lines))
    return out


def fig_pareto(frame: pd.DataFrame, objectives: Sequence[str]) -> go.Figure:
    """First two objectives (or MACs against params): every configuration, the front
    highlighted and joined in order."""
    x, y = (list(objectives) + ["params"])[:2] if len(objectives) == 1 else objectives[:2]
    if x == y:
        x, y = "macs", "params"
    ok = frame[frame["error"].isna() & frame[x].notna() & frame[y].notna()]
    hover = hover_texts(ok)
    fig = go.Figure()
    for on, name, color, size in (
        (False, "other configurations", OTHER, 7),
        (True, "Pareto front", FRONT, 10),
    ):
        part = [i for i, flag in enumerate(ok["pareto"].tolist()) if bool(flag) == on]
        fig.add_trace(
            go.Scatter(
                x=[_num(ok[x].iloc[i]) for i in part],
                y=[_num(ok[y].iloc[i]) for i in part],
                mode="markers",
                name=name,
                marker=dict(color=color, size=size, line=dict(width=0.5, color="#333")),
                hovertext=[hover[i] for i in part],
                hoverinfo="text",
            )
        )
    front = ok[ok["pareto"].astype(bool)].sort_values([x, y])
    if len(front) > 1:
        fig.add_trace(
            go.Scatter(
                x=[_num(v) for v in front[x]],
                y=[_num(v) for v in front[y]],
                mode="lines",
                line=dict(color=FRONT, width=1, dash="dot"),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.update_layout(
        **_layout(
            520,
            xaxis_title=LABELS.get(x, esc(x)),
            yaxis_title=LABELS.get(y, esc(y)),
            hovermode="closest",
        )
    )
    for axis, col in (("xaxis", x), ("yaxis", y)):
        if col in TOTAL_KEYS and len(ok) and ok[col].max() > 20 * max(1, ok[col].min()):
            fig.update_layout(**{axis: dict(type="log")})
    return fig


def _num(value: Any) -> Any:
    if value is None or pd.isna(value):
        return None
    return float(value)


def fig_heatmap(frame: pd.DataFrame, metric: str = "macs") -> go.Figure:
    """Two knobs: one cell per configuration, coloured by ``metric``; blank = refused."""
    a, b = knob_columns(frame)[:2]
    xs = list(dict.fromkeys(frame[b].tolist()))
    ys = list(dict.fromkeys(frame[a].tolist()))
    z: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    text: list[list[str]] = [[""] * len(xs) for _ in ys]
    hover = hover_texts(frame)
    for i, row in enumerate(frame.to_dict("records")):
        r, c = ys.index(row[a]), xs.index(row[b])
        z[r][c] = _num(row[metric])
        text[r][c] = (
            hover[i]
            if row["error"] is None or not isinstance(row["error"], str)
            else f"{esc(a)}={esc(row[a])}, {esc(b)}={esc(row[b])}<br>refused: {esc(row['error'])}"
        )
    fig = go.Figure(
        go.Heatmap(
            x=[esc(v) for v in xs],
            y=[esc(v) for v in ys],
            z=z,
            hovertext=text,
            hoverinfo="text",
            colorscale="Viridis",
            colorbar=dict(title=LABELS.get(metric, metric)),
        )
    )
    fig.update_layout(**_layout(460, xaxis_title=esc(b), yaxis_title=esc(a)))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def fig_parallel(frame: pd.DataFrame, objectives: Sequence[str]) -> go.Figure:
    """Parallel coordinates over the numeric knobs and the objectives; the front red."""
    ok = frame[frame["error"].isna()]
    dims = []
    for col in knob_columns(frame) + [o for o in objectives if o not in knob_columns(frame)]:
        values = ok[col]
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool)
            for v in values
            if v is not None and not pd.isna(v)
        ):
            continue
        dims.append(
            dict(
                label=LABELS.get(col, esc(col)),
                values=[_num(v) if v is not None else None for v in values],
            )
        )
    color = [1 if bool(p) else 0 for p in ok["pareto"]]
    fig = go.Figure(
        go.Parcoords(
            dimensions=dims,
            line=dict(color=color, colorscale=[[0, OTHER], [1, FRONT]], cmin=0, cmax=1),
        )
    )
    fig.update_layout(**_layout(460, margin=dict(l=80, r=80, t=60, b=40)))
    return fig


def front_table(frame: pd.DataFrame) -> str:
    front = frame[frame["pareto"].astype(bool)]
    knobs = knob_columns(frame)
    counts = [c for c in (*TOTAL_KEYS, "latency_s", "accuracy") if c in frame.columns]
    head = "".join(f"<th>{esc(k)}</th>" for k in knobs) + "".join(
        f'<th class="n">{LABELS[c]}</th>' for c in counts
    )
    if "accuracy_source" in frame.columns:
        head += "<th>accuracy source</th>"
    rows = []
    for row in front.to_dict("records"):
        cells = [f"<td>{esc(row[k])}</td>" for k in knobs]
        for c in counts:
            v = row[c]
            blank = v is None or pd.isna(v)
            data = "" if blank else f' data-v="{float(v)!r}"'
            title = "" if blank or c not in TOTAL_KEYS else f' title="{exact(int(v))}"'
            cells.append(f'<td class="n"{data}{title}>{_fmt(c, v)}</td>')
        if "accuracy_source" in frame.columns:
            src = row.get("accuracy_source")
            cells.append(f"<td>{esc(src) if isinstance(src, str) else ''}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="tablewrap"><table class="sortable" id="archcost-sweep-front">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def render_sweep_report(
    frame: pd.DataFrame, *, spec: Any, objectives: Sequence[str], plotlyjs: str = "inline"
) -> str:
    """The sweep page as an HTML string."""
    _check(1, plotlyjs)
    knobs = knob_columns(frame)
    n_err = int(frame["error"].notna().sum())
    n_front = int(frame["pareto"].astype(bool).sum())
    name = esc(sweep_title(spec, knobs))
    header = (
        f"<header><h1>{name}: design-space sweep</h1>"
        f'<div class="meta"><span>configurations <b>{len(frame):,}</b></span>'
        f"<span>knobs <b>{esc(', '.join(knobs))}</b></span>"
        f"<span>on the front <b>{n_front:,}</b></span>"
        f"<span>refused <b>{n_err:,}</b></span>"
        f"<span>objectives <b>{esc(', '.join(objectives))}</b> (minimised; accuracy "
        f"maximised)</span></div>"
        f'<p class="conventions">Counting conventions: {esc(CONVENTIONS)}</p></header>'
    )
    obj = [o for o in objectives if o in frame.columns]
    sections = [
        _section(
            "Pareto front",
            "One point per configuration the spec accepts; red points are on the front (no "
            "other configuration is at least as good in every objective and better in one). "
            "Hover a point for its knobs and every count.",
            _div(fig_pareto(frame, obj or ["macs", "params"]), SWEEP_CHARTS[0]),
            "pareto",
        )
    ]
    if len(knobs) == 2:
        sections.append(
            _section(
                "MACs over the grid",
                "One cell per configuration; blank cells are settings the "
                "spec refuses (hover for its message).",
                _div(fig_heatmap(frame), SWEEP_CHARTS[1]),
                "heatmap",
            )
        )
    elif len(knobs) > 2:
        sections.append(
            _section(
                "Parallel coordinates",
                "One line per configuration across the knobs and the "
                "objectives; red lines are on the front. Drag along an axis to filter.",
                _div(fig_parallel(frame, obj), SWEEP_CHARTS[2]),
                "parallel",
            )
        )
    note = (
        "Click a header to sort. Accuracy is the published ImageNet top-1 where the "
        "spec's reported: section has the setting, blank where nothing was published "
        "(never interpolated)."
    )
    sections.append(_section("The front", note, front_table(frame), "front"))
    return _page(f"{name} sweep · archcost", header, sections, plotlyjs)


def write_sweep_report(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    spec: Any,
    objectives: Sequence[str],
    plotlyjs: str = "inline",
) -> Path:
    """Write the sweep page (see :func:`render_sweep_report`); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        render_sweep_report(frame, spec=spec, objectives=objectives, plotlyjs=plotlyjs),
        encoding="utf-8",
    )
    return out
