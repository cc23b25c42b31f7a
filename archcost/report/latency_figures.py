"""Latency figures for the HTML reports: time per layer kind, share of MACs vs share of
time, and latency beside MACs for several models.

Times are the predictions of a device profile (:func:`archcost.roofline.estimate`: the
roofline, or a runtime-calibrated kernel model). Every kind appears, the zero-MAC ones
too (batchnorm, activations, shuffle, concat, split): ShuffleNet V2's guideline is that
element-wise work is not free. A layer the runtime fuses into a convolution's kernel
takes no time of its own; its kernel's time is counted under the convolution's kind.

Every string from a spec (names, kinds) is escaped before it reaches Plotly.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from archcost.report.latency import human_seconds, network_seconds
from archcost.report.units import human
from archcost.roofline import LayerEstimate, Profile, estimate

if TYPE_CHECKING:
    from archcost.model import Model

KIND_DIV_ID = "archcost-time-by-kind"
SHARE_DIV_ID = "archcost-share-macs-time"
COMPARE_DIV_ID = "archcost-compare-latency"
MACS_COLOR = "#7f7f7f"
TIME_COLOR = "#d62728"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def by_kind(estimates: Sequence[LayerEstimate]) -> dict[str, dict[str, float]]:
    """Per kind: layers, MACs, predicted seconds and fused layers, most time first.

    >>> e = [LayerEstimate("a", "conv", 10, 5, 2.0, 1.0, 0.1, 0.0, 1.0, "compute"),
    ...      LayerEstimate("b", "relu", 0, 5, 0.0, 0.0, 0.1, 0.0, 0.0, "fused", "a")]
    >>> by_kind(e)["relu"]
    {'layers': 1, 'macs': 0, 'seconds': 0.0, 'fused': 1}
    """
    out: dict[str, dict[str, float]] = {}
    for e in estimates:
        row = out.setdefault(e.kind, {"layers": 0, "macs": 0, "seconds": 0.0, "fused": 0})
        row["layers"] += 1
        row["macs"] += e.macs
        row["seconds"] += e.seconds
        row["fused"] += e.bound == "fused"
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["seconds"], -kv[1]["macs"], kv[0])))


def fig_time_by_kind(
    estimates: Sequence[LayerEstimate], profile: Profile, height: int = 420
) -> go.Figure:
    """Predicted time per layer kind, every kind (zero-MAC ones too)."""
    kinds = by_kind(estimates)
    total = math.fsum(e.seconds for e in estimates) or 1.0
    names = list(kinds)
    fig = go.Figure(
        go.Bar(
            x=[kinds[k]["seconds"] * 1e3 for k in names],
            y=[_esc(k) for k in names],
            orientation="h",
            marker={"color": TIME_COLOR},
            hovertext=[
                f"<b>{_esc(k)}</b>: {human_seconds(kinds[k]['seconds'])} "
                f"({kinds[k]['seconds'] / total:.1%} of the layers' time), "
                f"{int(kinds[k]['layers'])} layers"
                + (
                    f", {int(kinds[k]['fused'])} fused into a convolution's kernel"
                    if kinds[k]["fused"]
                    else ""
                )
                + f", MACs {human(kinds[k]['macs'])}"
                for k in names
            ],
            hoverinfo="text",
        )
    )
    fig.update_layout(
        template="plotly_white",
        height=max(height, 26 * len(names) + 120),
        title={"text": f"Predicted time per layer kind on {_esc(profile.name)}", "x": 0.01},
        margin={"l": 140, "r": 20, "t": 60, "b": 50},
        xaxis={"title": {"text": "milliseconds"}},
        yaxis={"autorange": "reversed"},
    )
    return fig


def fig_share_macs_vs_time(estimates: Sequence[LayerEstimate], height: int = 420) -> go.Figure:
    """Share of MACs beside share of predicted time, per kind: where MACs mislead."""
    kinds = by_kind(estimates)
    macs = sum(v["macs"] for v in kinds.values()) or 1
    seconds = math.fsum(v["seconds"] for v in kinds.values()) or 1.0
    names = list(kinds)
    fig = go.Figure(
        [
            go.Bar(
                name="share of MACs",
                x=[_esc(k) for k in names],
                y=[kinds[k]["macs"] / macs * 100 for k in names],
                marker={"color": MACS_COLOR},
            ),
            go.Bar(
                name="share of time",
                x=[_esc(k) for k in names],
                y=[kinds[k]["seconds"] / seconds * 100 for k in names],
                marker={"color": TIME_COLOR},
            ),
        ]
    )
    fig.update_layout(
        template="plotly_white",
        height=height,
        barmode="group",
        title={"text": "Share of MACs vs share of predicted time, per kind", "x": 0.01},
        margin={"l": 60, "r": 20, "t": 60, "b": 90},
        yaxis={"title": {"text": "% of the network"}},
    )
    return fig


def fig_compare_latency(
    labels: Sequence[str], macs: Sequence[int], seconds: Sequence[float], height: int = 420
) -> go.Figure:
    """Several models: MACs and predicted latency side by side, each relative to the
    first model, so "fewer MACs, not faster" shows at a glance."""
    ref_m, ref_s = (macs[0] or 1), (seconds[0] or 1.0)
    names = [_esc(x) for x in labels]
    fig = go.Figure(
        [
            go.Bar(
                name="MACs",
                x=names,
                y=[m / ref_m for m in macs],
                marker={"color": MACS_COLOR},
                hovertext=[f"{human(m)} MACs" for m in macs],
                hoverinfo="text+name",
            ),
            go.Bar(
                name="predicted latency",
                x=names,
                y=[s / ref_s for s in seconds],
                marker={"color": TIME_COLOR},
                hovertext=[human_seconds(s) for s in seconds],
                hoverinfo="text+name",
            ),
        ]
    )
    fig.update_layout(
        template="plotly_white",
        height=height,
        barmode="group",
        title={"text": f"MACs and predicted latency relative to {names[0]}", "x": 0.01},
        margin={"l": 60, "r": 20, "t": 60, "b": 90},
        yaxis={"title": {"text": f"× {names[0]}"}},
    )
    return fig


def model_sections(
    model: Model, profile: Profile, *, batch: int = 1, dtype: str = "float32"
) -> tuple[list[LayerEstimate], float]:
    """The estimates a model report shows, and the network's predicted time."""
    est = estimate(model, profile, batch=batch, dtype=dtype)
    return est, network_seconds(est, profile)
