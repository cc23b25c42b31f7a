"""The graph view in headless Chromium: labels drawn, hover with formulas, labels that
hide when zoomed out and come back when zoomed in, no console errors.

Uses the fixtures of tests/test_browser.py (Debian's chromium, network blocked);
skipped, with the reason, without Playwright or Chromium.
"""

from __future__ import annotations

import archcost
from archcost.report.html import SINGLE_CHARTS, write_model_report
from test_browser import assert_clean, browser, open_report  # noqa: F401 (fixtures)
from tiny_specs import SHUFFLE

GRAPH = "#archcost-graph"
LABELS = f"Array.from(document.querySelectorAll('{GRAPH} .textpoint text'))" \
         ".map(t => t.textContent)"


def test_graph_labels_hover_and_zoom(write_spec, open_report, tmp_path):  # noqa: F811
    m = archcost.load(write_spec(SHUFFLE, "shuffle.yaml"))
    opened = open_report(write_model_report(m, tmp_path / "shuffle.html"), len(SINGLE_CHARTS))
    assert_clean(opened, len(SINGLE_CHARTS))
    page = opened.page
    # one label per layer, each reading name, kind, output shape (three tspans)
    labels = page.evaluate(LABELS)
    assert len(labels) == len(m.order)
    for name in m.order:
        node = m.nodes[name]
        shape = "×".join(map(str, node.output_shape.dims))
        assert sum(lab.startswith(name + node.kind) and shape in lab for lab in labels) == 1
    # hovering the depthwise conv's box shows its formulas
    index = page.evaluate(
        f"(() => {{ const d = document.querySelector('{GRAPH}').data;"
        " for (let c = 0; c < d.length; c++) { const t = d[c].text || [];"
        " for (let p = 0; p < t.length; p++) if (t[p].startsWith('<b>dw</b>'))"
        " return [c, p]; } return null; })()")
    assert index is not None
    page.evaluate(f"Plotly.Fx.hover('{GRAPH[1:]}', [{{curveNumber: {index[0]},"
                  f" pointNumber: {index[1]}}}])")
    page.wait_for_function(
        f"document.querySelector('{GRAPH} .hoverlayer').textContent.length > 0",
        timeout=60_000)
    hover = page.evaluate(f"document.querySelector('{GRAPH} .hoverlayer').textContent")
    # depthwise 3×3 on 12 channels at 16×16: 12·9·256 multiplications (MobileNet eq. 3)
    assert "dw (depthwise_conv)" in hover and f"{12 * 9 * 16 * 16:,}" in hover
    # zoomed far out (a rank a few pixels tall) the labels hide; zoomed back in they return
    page.evaluate(f"Plotly.relayout('{GRAPH[1:]}', {{'yaxis.range': [400, -0.5],"
                  " 'xaxis.range': [-200, 200]})")
    page.wait_for_function(f"{LABELS}.length === 0", timeout=60_000)
    page.evaluate(f"Plotly.relayout('{GRAPH[1:]}', {{'yaxis.range': [5.5, -0.5],"
                  " 'xaxis.range': [-1, 3]})")
    page.wait_for_function(f"{LABELS}.length > 0", timeout=60_000)
    assert opened.errors == []
