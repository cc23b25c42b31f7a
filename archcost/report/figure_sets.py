"""The charts of a page as Plotly figure objects, for custom use from Python.

``Model.figures()`` and ``Comparison.figures()`` return these: the same figures the
HTML pages draw (:mod:`archcost.report.figures`, :mod:`archcost.report.compare_figures`),
keyed by the section they appear in, so a notebook can restyle, combine or export them
(``fig.write_image``, ``fig.show()``).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from archcost.model import Model
from archcost.report.compare import Analysis, analyses
from archcost.report.compare_figures import (
    fig_cmp_cumulative,
    fig_cmp_distributions,
    fig_cmp_kinds,
    fig_cmp_scatter,
    fig_cmp_stages,
)
from archcost.report.figures import (
    fig_cumulative,
    fig_graph,
    fig_hierarchy,
    fig_intensity,
    fig_kinds,
    fig_layers,
)
from archcost.report.style import _layer_hover

MODEL_FIGURES = ("layers", "hierarchy", "kinds", "cumulative", "intensity", "graph")
"""The single-model page's charts, in page order."""

COMPARE_FIGURES = ("scatter", "stages", "kinds", "cumulative", "distributions")
"""The compare page's charts, in page order."""


def model_figures(model: Model, *, batch: int = 1, dtype: str = "float32") -> dict[str, go.Figure]:
    """One model's charts (keys :data:`MODEL_FIGURES`), as its page draws them."""
    (a,) = analyses([model], batch=batch, dtype=dtype)
    df = a.layers
    hover = _layer_hover(df, model.graph, int(batch))
    return {
        "layers": fig_layers(df, hover),
        "hierarchy": fig_hierarchy(df, model.name),
        "kinds": fig_kinds(df),
        "cumulative": fig_cumulative(df),
        "intensity": fig_intensity(df, hover, a.totals),
        "graph": fig_graph(model.network, int(batch)),
    }


def compare_figures(items: Sequence[Analysis]) -> dict[str, go.Figure]:
    """Several models' charts (keys :data:`COMPARE_FIGURES`), as the compare page draws
    them."""
    return {
        "scatter": fig_cmp_scatter(items),
        "stages": fig_cmp_stages(items),
        "kinds": fig_cmp_kinds(items),
        "cumulative": fig_cmp_cumulative(items),
        "distributions": fig_cmp_distributions(items),
    }
