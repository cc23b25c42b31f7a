"""Compact HTML for notebooks: what ``_repr_html_`` shows for a model, a comparison or a
whatif result.

Plain HTML tables (no Plotly), every spec-supplied string escaped; the full pages are
:mod:`archcost.report.html`'s.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from archcost.report.columns import shape_text
from archcost.report.units import exact, human, human_bytes, ratio

if TYPE_CHECKING:
    import pandas as pd

_TOTALS = (
    ("params", "params", human),
    ("macs", "MACs", human),
    ("flops", "FLOPs", human),
    ("memory_access", "memory traffic", human_bytes),
    ("peak_activation_bytes", "peak activations", human_bytes),
)


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _totals_rows(totals: dict[str, int]) -> str:
    return "".join(
        f'<tr><th style="text-align:left">{label}</th>'
        f'<td style="text-align:right" title="{exact(totals[key])}">{fmt(totals[key])}</td>'
        f'<td style="text-align:right">{exact(totals[key])}</td></tr>'
        for key, label, fmt in _TOTALS
    )


def model_html(model: Any) -> str:
    """The model's name, input, layer count and totals as a small table."""
    return (
        f"<div><b>{_esc(model.label)}</b> — input {_esc(shape_text(model.input_shape))}, "
        f"{len(model.layers)} layers<table>{_totals_rows(dict(model.totals))}</table></div>"
    )


def whatif_html(result: Any) -> str:
    """The whatif headline, the rewritten and skipped layers, before and after totals."""
    from archcost.report.compare import analyses, headline  # pandas: only when shown

    said = headline(analyses([result.before, result.after]))
    items = "".join(f"<li>{_esc(line)}</li>" for line in said)
    rows = []
    for c in result.changes:
        if c.applied:
            ratio = f"{c.macs_after / c.macs_before:.4f}" if c.macs_before else "–"
            rows.append(
                f"<tr><td>{_esc(c.name)}</td><td>rewritten</td>"
                f'<td style="text-align:right">{exact(c.macs_before)}</td>'
                f'<td style="text-align:right">{exact(c.macs_after)}</td>'
                f'<td style="text-align:right">{ratio}</td></tr>'
            )
        else:
            rows.append(
                f"<tr><td>{_esc(c.name)}</td><td>skipped: {_esc(c.reason)}</td>"
                "<td></td><td></td><td></td></tr>"
            )
    return (
        f"<div><b>{_esc(result.before.label)}</b> — whatif {_esc(result.rule)}"
        f"<ul>{items}</ul><table><tr><th>layer</th><th>result</th><th>MACs before</th>"
        f"<th>MACs after</th><th>after/before</th></tr>{''.join(rows)}</table></div>"
    )


def comparison_html(headline: list[str], totals: pd.DataFrame) -> str:
    """The headline, then one row per model: each total in short form with its ratio to
    the first model (hover a cell for the exact count)."""
    items = "".join(f"<li>{_esc(line)}</li>" for line in headline)
    head = "".join(f'<th style="text-align:right">{label}</th>' for _, label, _ in _TOTALS)
    rows = []
    for i, r in enumerate(totals.to_dict("records")):
        cells = []
        for key, _, fmt in _TOTALS:
            shown = fmt(int(r[key])) + ("" if i == 0 else f" {ratio(r[key + '_ratio'])}")
            cells.append(f'<td style="text-align:right" title="{exact(r[key])}">{_esc(shown)}</td>')
        rows.append(f'<tr><th style="text-align:left">{_esc(r["model"])}</th>{"".join(cells)}</tr>')
    first = _esc(totals["model"].iloc[0])
    return (
        f'<div><ul class="archcost-headline">{items}</ul>'
        f'<table><tr><th style="text-align:left">model</th>{head}</tr>{"".join(rows)}</table>'
        f"<small>Ratios (×) are to {first}.</small></div>"
    )
