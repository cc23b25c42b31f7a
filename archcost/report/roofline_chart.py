"""The roofline chart: every layer as a point on arithmetic intensity vs throughput.

Log-log axes. The x axis is the layer's arithmetic intensity (MACs per byte of memory
traffic), the y axis its estimated throughput ``macs / seconds`` in MAC/s, which is
the attainable ``min(peak, intensity · bandwidth)`` when the profile has no
overhead and falls below the roof by the overhead otherwise. The two roofs are drawn
(bandwidth · intensity rising to the left of the ridge, the flat peak to its right)
with the ridge point as a dashed vertical line. Layers without MACs (batchnorm,
activations, pools, shuffles, merges) have no place on a log axis of MAC/s; the
subtitle says how many there are and how much of the estimated time they take.
Measured times (from ``archcost bench``) can be drawn as hollow markers beside the
estimates.

Every string from a spec (layer names) is escaped with :func:`html.escape` before it
reaches Plotly, which reads a few HTML tags in text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from archcost.report.latency import human_seconds
from archcost.report.style import kind_color
from archcost.report.units import human, human_bytes
from archcost.roofline import LayerEstimate, Profile, estimate, total_seconds

if TYPE_CHECKING:
    from archcost.model import Model

ROOF_COLOR = "#444444"
MEASURED_COLOR = "#000000"
#: The chart's fixed div id when written on its own (deterministic output).
DIV_ID = "archcost-roofline"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _hover(e: LayerEstimate, measured_s: float | None) -> str:
    text = (
        f"<b>{_esc(e.name)}</b> ({_esc(e.kind)})<br>"
        f"MACs {human(e.macs)} ({e.macs:,})<br>memory {human_bytes(e.memory_access)}<br>"
        f"intensity {e.intensity:.3g} MAC/B · {e.bound}-bound<br>"
        f"estimated {human_seconds(e.seconds)} → {human(e.throughput)} MAC/s"
    )
    if measured_s:
        text += f"<br>measured {human_seconds(measured_s)} → {human(e.macs / measured_s)} MAC/s"
    return text


def roofline_figure(
    model: Model,
    profile: Profile,
    *,
    batch: int = 1,
    dtype: str = "float32",
    measured: Mapping[str, float] | None = None,
    height: int = 520,
) -> go.Figure:
    """The roofline chart of ``model`` on ``profile``.

    Args:
        model: a loaded model.
        profile: the device (:func:`archcost.roofline.load_profile`).
        batch: samples per pass.
        dtype: element type of the byte counts.
        measured: optional layer name -> measured seconds (``archcost bench``), drawn
            as hollow markers at ``macs / measured`` MAC/s.
        height: figure height in pixels.

    Returns:
        A Plotly figure (log-log), one trace per layer kind plus the roofs.
    """
    estimates = estimate(model, profile, batch=batch, dtype=dtype)
    points = [e for e in estimates if e.macs > 0 and e.memory_access > 0]
    others = [e for e in estimates if not (e.macs > 0 and e.memory_access > 0)]
    peak, bandwidth, ridge = profile.peak_macs_per_s, profile.bandwidth_bytes_per_s, profile.ridge
    measured = dict(measured or {})

    fig = go.Figure()
    xs = [e.intensity for e in points] + [ridge]
    lo, hi = min(xs) / 4, max(xs) * 4
    fig.add_trace(
        go.Scatter(
            x=[lo, ridge, hi],
            y=[lo * bandwidth, peak, peak],
            mode="lines",
            line={"color": ROOF_COLOR, "width": 2},
            name="roof",
            hovertext=[
                f"memory roof: {human_bytes(bandwidth)}/s × intensity",
                f"ridge {ridge:.3g} MAC/B",
                f"compute roof: {human(peak)} MAC/s",
            ],
            hoverinfo="text",
        )
    )
    kinds: dict[str, list[LayerEstimate]] = {}
    for e in points:
        kinds.setdefault(e.kind, []).append(e)
    for kind, group in kinds.items():
        fig.add_trace(
            go.Scatter(
                x=[e.intensity for e in group],
                y=[e.throughput for e in group],
                mode="markers",
                name=_esc(kind),
                marker={
                    "color": kind_color(kind),
                    "size": 9,
                    "line": {"width": 0.5, "color": "#ffffff"},
                },
                hovertext=[_hover(e, measured.get(e.name)) for e in group],
                hoverinfo="text",
            )
        )
    timed = [e for e in points if measured.get(e.name)]
    if timed:
        fig.add_trace(
            go.Scatter(
                x=[e.intensity for e in timed],
                y=[e.macs / measured[e.name] for e in timed],
                mode="markers",
                name="measured",
                marker={"symbol": "circle-open", "size": 9, "color": MEASURED_COLOR},
                hovertext=[_hover(e, measured[e.name]) for e in timed],
                hoverinfo="text",
            )
        )
    subtitle = (
        f"{_esc(profile.name)}: peak {human(peak)} MAC/s, bandwidth "
        f"{human_bytes(bandwidth)}/s, ridge {ridge:.3g} MAC/B; estimated total "
        f"{human_seconds(total_seconds(estimates))}"
    )
    if others:
        subtitle += (
            f"; {len(others)} layers without MACs not drawn "
            f"({human_seconds(total_seconds(others))} estimated)"
        )
    fig.add_shape(
        type="line",
        x0=ridge,
        x1=ridge,
        xref="x",
        y0=0,
        y1=1,
        yref="paper",
        line={"color": ROOF_COLOR, "width": 1, "dash": "dash"},
    )
    fig.add_annotation(
        x=math.log10(ridge),
        y=1,
        xref="x",
        yref="paper",
        yanchor="bottom",
        text=f"ridge {ridge:.3g} MAC/B",
        showarrow=False,
        font={"size": 11, "color": ROOF_COLOR},
    )
    fig.update_layout(
        template="plotly_white",
        height=height,
        title={"text": f"Roofline — {_esc(model.label)}<br><sup>{subtitle}</sup>", "x": 0.01},
        margin={"l": 70, "r": 20, "t": 90, "b": 60},
        legend={"title": {"text": "kind"}},
        xaxis={"type": "log", "title": {"text": "arithmetic intensity (MACs per byte)"}},
        yaxis={"type": "log", "exponentformat": "SI", "title": {"text": "throughput (MAC/s)"}},
    )
    return fig
