"""Self-contained Plotly HTML reports: one model, or several side by side.

This module assembles the pages (CSS, scripts, header, cards, tables, sections). The
figures come from :mod:`archcost.report.figures` (one model) and
:mod:`archcost.report.compare_figures` (several), their colours, hover text and
layout from :mod:`archcost.report.style`, the graph's placement from
:mod:`archcost.report.graph_layout`.

Each page is one HTML file. With ``plotlyjs="inline"`` (the default) Plotly's
JavaScript is inlined once in ``<head>`` (a partial build, compressed:
:mod:`archcost.report.bundle`) and the page references nothing outside itself, so it
opens offline; ``plotlyjs="cdn"`` loads the full Plotly from its CDN instead (0.7 MB
smaller). Either way the charts are drawn by one script at the end of the page, those
on screen first.

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

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archcost.costs import CONVENTIONS
from archcost.errors import SpecError
from archcost.report import bundle
from archcost.report import latency_figures as lf
from archcost.report.compare import TOTAL_COLUMNS, Analysis, analyses, headline, totals_frame
from archcost.report.compare_figures import (
    fig_cmp_cumulative,
    fig_cmp_distributions,
    fig_cmp_kinds,
    fig_cmp_scatter,
    fig_cmp_stages,
)
from archcost.report.figures import (
    GRAPH_CONFIG,
    GRAPH_SCRIPT,
    fig_cumulative,
    fig_graph,
    fig_hierarchy,
    fig_intensity,
    fig_kinds,
    fig_layers,
)
from archcost.report.latency import human_seconds
from archcost.report.layer_table import TABLE_CSS, TABLE_JS, layer_table
from archcost.report.roofline_chart import DIV_ID, roofline_figure
from archcost.report.style import (
    COMPARE_CHARTS,
    FLOPS,
    MACS,
    MEMORY,
    PARAMS,
    PLOTLYJS_MODES,
    SINGLE_CHARTS,
    _div,
    _format_field,
    _layer_hover,
    esc,
    model_color,
)
from archcost.report.tables import INT64_MAX
from archcost.report.units import exact, human, human_bytes, ratio
from archcost.rewrite import Rewrite, parse_rule

if TYPE_CHECKING:
    from archcost.model import Model
    from archcost.profiles import Profile

_CSS = (
    """
:root{--fg:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#fafbfc;--accent:#1f77b4}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--fg);background:var(--bg)}
main{max-width:1280px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:18px;margin:0 0 2px}
.desc{color:var(--muted);margin:0 0 12px;max-width:70em}
ul.headline{margin:4px 0 10px;padding-left:20px;font-size:15px;line-height:1.6}
.meta{display:flex;flex-wrap:wrap;gap:4px 22px;margin:8px 0 14px;color:var(--muted)}
.meta b{color:var(--fg);font-weight:600}
.knob.set{color:#b35900;font-weight:600}
.totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px;
  margin:8px 0 12px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:24px;font-weight:650}
.card .exact{color:var(--muted);font-size:12px;font-variant-numeric:tabular-nums}
.conventions{color:var(--muted);font-size:12px;margin:6px 0 0}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px 6px;
  margin:16px 0}
section>p.note{color:var(--muted);margin:0 0 6px;font-size:13px}
.ratio{color:var(--muted);font-size:12px;margin-left:4px}
footer{color:var(--muted);font-size:12px;margin-top:24px}
/* Charts and the per-layer table off the screen skip layout and paint until they come
   near it, so the first chart draws sooner (docs/reports.md, "Page weight"); the table
   turns ordinary once near the screen (TABLE_JS). */
.plotly-graph-div,#table .tablewrap{content-visibility:auto;contain-intrinsic-size:auto 600px}
"""
    + TABLE_CSS
)  # the tables' rules: report.layer_table


# The filter boxes and sortable headers of every table: report.layer_table.
_SORT_JS = TABLE_JS


def _page(title: str, header: str, sections: list[str], plotlyjs: str) -> str:
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>{_CSS}{bundle.CSS}</style>",
            bundle.head_scripts(plotlyjs),
            "</head>",
            "<body><main>",
            header,
            *sections,
            f"<footer>Counting conventions: {esc(CONVENTIONS)}<br>"
            "Generated by archcost. Hover any bar or node for its details; "
            "drag to zoom, double-click to reset.</footer>",
            f"</main><script>{_SORT_JS}</script>",
            bundle.draw_script(),
            "</body>",
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


def _require_chartable(items: Sequence[Analysis]) -> None:
    """Refuse counts past 2**63 - 1: the charts (NumPy arrays, Plotly's JSON) hold int64
    and doubles, so such a report would show wrapped or rounded numbers. The exact
    counts stay available in the table, JSON, CSV and Markdown forms."""
    for a in items:
        for column, total in a.totals.items():
            if isinstance(total, int) and abs(total) > INT64_MAX:
                raise SpecError(
                    f"{a.label}: {column} = {human(total)} is past 2**63 - 1 "
                    f"({INT64_MAX:,}), the largest count the HTML report charts; no report "
                    "was written.",
                    hint="The exact counts are in the table, --format json, "
                    "csv or markdown; or lower the resolution, channels or batch.",
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
    model: Model,
    *,
    batch: int = 1,
    dtype: str = "float32",
    plotlyjs: str = "inline",
    profile: Profile | None = None,
) -> str:
    """The single-model page as an HTML string (see :func:`write_model_report`)."""
    _check(batch, plotlyjs)
    (a,) = analyses([model], batch=batch, dtype=dtype)
    _require_chartable([a])
    df = a.layers
    graph = model.graph
    hover = _layer_hover(df, graph, int(batch))
    est: Any = None
    if profile is not None:  # time per layer, kind and in total (report.latency_figures)
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
            "Costs rolled up by the layer names (stage → block → layer); each sector has "
            "the colour of the layer kind with most of its MACs. Click a sector to zoom "
            "in, the centre to zoom out; the buttons switch the cost.",
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
            "Layers from the input (top) down, as Netron draws them: the longest path "
            "runs straight down the middle, branches and skipped-over connections "
            "(shortcuts, splits, skips) beside it. Each box gives the layer's name, kind "
            "and output shape, in its kind's colour; hover a box for its formulas. "
            "Scroll to zoom (labels hide when zoomed far out), drag to pan, "
            "double-click to return to the top, again to see the whole network.",
            _div(
                fig_graph(model.network, int(batch)),
                SINGLE_CHARTS[5],
                config=GRAPH_CONFIG,
                post_script=GRAPH_SCRIPT,
            ),
            "graph",
        ),
        _section(
            "Per-layer table",
            f"{len(df)} layers; exact counts at batch {int(batch)}, {esc(dtype)}. "
            "Click a header to sort.",
            layer_table(df, None if est is None else {e.name: e for e in est}),
            "table",
        ),
    ]
    if profile is not None:
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
        model,
        a.totals,
        len(df),
        batch,
        dtype,
        None if profile is None else (profile.name, latency_s),
    )
    return _page(f"{esc(model.label)} · archcost", header, sections, plotlyjs)


def write_model_report(
    model: Model,
    path: str | Path,
    *,
    batch: int = 1,
    dtype: str = "float32",
    plotlyjs: str = "inline",
    profile: Profile | None = None,
) -> Path:
    """Write one model's self-contained HTML report.

    The page shows the totals and counting conventions, per-layer MACs and params,
    cost by hierarchy (sunburst), cost share by kind, cumulative cost across depth,
    arithmetic intensity per layer, the graph, and the per-layer table.

    Args:
        model: a loaded :class:`archcost.model.Model`.
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
    for i, (a, row) in enumerate(zip(items, tf.itertuples(index=False), strict=True)):
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
    models: Iterable[Model | str | os.PathLike[str]],
    *,
    batch: int = 1,
    dtype: str = "float32",
    plotlyjs: str = "inline",
    profile: Profile | None = None,
    lead: Sequence[str] = (),
) -> str:
    """The compare page as an HTML string (see :func:`write_compare_report`); ``lead``
    sections go right after the headline (the whatif page's rewritten layers)."""
    _check(batch, plotlyjs)
    items = list(analyses(models, batch=batch, dtype=dtype))
    _require_chartable(items)
    names = " vs ".join(esc(a.label) for a in items)
    ref = esc(items[0].label)
    header = (
        f"<header><h1>{names}</h1>"
        f'<div class="meta"><span>batch <b>{int(batch)}</b></span>'
        f"<span>dtype <b>{esc(dtype)}</b></span>"
        f"<span>models <b>{len(items)}</b></span></div>"
        f'<p class="conventions">Counting conventions: {esc(CONVENTIONS)}</p></header>'
    )
    said = headline(items)
    sections = [
        _section(
            "In short",
            "Computed from the totals and the per-kind sums below.",
            '<ul class="headline" id="archcost-headline">'
            + "".join(f"<li>{esc(line)}</li>" for line in said)
            + "</ul>",
            "headline",
        ),
        *lead,
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
            "Stages line up by output resolution: each bar sums the layers whose output "
            "maps have that spatial size (1-D outputs are the head), so networks with "
            "different block names compare stage by stage. The buttons switch the cost.",
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
    models: Iterable[Model | str | os.PathLike[str]],
    path: str | Path,
    *,
    batch: int = 1,
    dtype: str = "float32",
    plotlyjs: str = "inline",
    profile: Profile | None = None,
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


# -- whatif ------------------------------------------------------------------------------
def seed_ratio(rule: str, groups: int, layer: Any) -> float | None:
    """The MAC ratio the rule's paper predicts for one conv: ``1/N + 1/k²`` for
    separable (MobileNet eq. 5, N output channels, k² the kernel's area), ``1/g`` for
    the grouped rules (ShuffleNet Sec. 3.1); None where no simple ratio holds (spatial:
    it depends on the padding)."""
    if rule == "separable":
        fields = layer.fields()
        kernel = fields["kernel"]
        area = (
            math.prod(kernel)
            if isinstance(kernel, tuple | list)
            else kernel ** len(layer_spatial(layer))
        )
        return 1 / fields["out"] + 1 / area
    if rule in ("grouped", "shuffled", "pointwise-grouped"):
        return 1 / groups
    return None


def layer_spatial(layer: Any) -> tuple[int, ...]:
    """The spatial kernel dims a conv declares (2 for a plain int kernel)."""
    kernel = layer.fields().get("kernel", 1)
    return tuple(kernel) if isinstance(kernel, tuple | list) else (kernel, kernel)


def whatif_section(result: Rewrite) -> str:
    """The rewritten layers (MACs and params before and after, the measured ratio beside
    the paper's) and the skipped ones with the reason."""
    rule, groups = parse_rule(result.rule)
    head = (
        "<tr><th>layer</th><th>result</th>"
        '<th class="n">MACs before</th><th class="n">MACs after</th>'
        '<th class="n">after / before</th><th class="n">predicted ratio</th>'
        '<th class="n">params before</th><th class="n">params after</th></tr>'
    )
    rows = []
    for c in result.changes:
        if not c.applied:
            rows.append(
                f'<tr class="skipped"><td>{esc(c.name)}</td><td>skipped: {esc(c.reason)}</td>'
                + "<td></td>" * 6
                + "</tr>"
            )
            continue
        measured = c.macs_after / c.macs_before if c.macs_before else math.nan
        seed = seed_ratio(rule, groups, result.before.nodes[c.name].layer)
        rows.append(
            f"<tr><td>{esc(c.name)}</td><td>rewritten</td>"
            f'<td class="n" data-v="{c.macs_before}">{exact(c.macs_before)}</td>'
            f'<td class="n" data-v="{c.macs_after}">{exact(c.macs_after)}</td>'
            f'<td class="n" data-v="{measured!r}">{measured:.4f}</td>'
            f'<td class="n">{"–" if seed is None else f"{seed:.4f}"}</td>'
            f'<td class="n" data-v="{c.params_before}">{exact(c.params_before)}</td>'
            f'<td class="n" data-v="{c.params_after}">{exact(c.params_after)}</td></tr>'
        )
    done = sum(c.applied for c in result.changes)
    skipped = len(result.changes) - done
    note = (
        f"Rule <b>{esc(result.rule)}</b>: {done} layers rewritten, {skipped} skipped (with the "
        "reason). The predicted ratio is the paper's (1/N + 1/k² for separable, 1/g for "
        "grouped); the measured one counts what the rewritten layers really cost."
    )
    table = (
        '<div class="tablewrap"><table class="sortable layers" id="archcost-whatif">'
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    return _section("Rewritten layers", note, table, "whatif")


def render_whatif_report(result: Rewrite, *, plotlyjs: str = "inline") -> str:
    """The whatif page: the compare page of before and after, with the rewritten and
    skipped layers right after the headline."""
    return render_compare_report(
        [result.before, result.after], plotlyjs=plotlyjs, lead=[whatif_section(result)]
    )


def write_whatif_report(result: Rewrite, path: str | Path, *, plotlyjs: str = "inline") -> Path:
    """Write the whatif page (see :func:`render_whatif_report`); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_whatif_report(result, plotlyjs=plotlyjs), encoding="utf-8")
    return out
