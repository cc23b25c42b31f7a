"""The graph view in headless Chromium: labels drawn, hover with formulas, labels that
hide when zoomed out and come back when zoomed in, no console errors.

Uses the fixtures of tests/test_browser.py (Debian's chromium, network blocked);
skipped, with the reason, without Playwright or Chromium.
"""

from __future__ import annotations

import archcost
from archcost.report.figures import GRAPH_LABEL_MIN_PX, GRAPH_X_UNITS, GRAPH_Y_UNITS
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
    page.evaluate(f"Plotly.relayout('{GRAPH[1:]}', {{'yaxis.range': [{400 * GRAPH_Y_UNITS}, 0],"
                  f" 'xaxis.range': [{-200 * GRAPH_X_UNITS}, {200 * GRAPH_X_UNITS}]}})")
    page.wait_for_function(f"{LABELS}.length === 0", timeout=60_000)
    # ... and each kind's glyph shows in their place
    shown = page.evaluate(f"document.querySelector('{GRAPH}').data"
                          ".filter(t => t.mode === 'markers').map(t => t.marker.opacity)")
    assert shown and all(o == 1 for o in shown)
    page.evaluate(f"Plotly.relayout('{GRAPH[1:]}', {{'yaxis.range': [{5 * GRAPH_Y_UNITS}, 0],"
                  f" 'xaxis.range': [{-1 * GRAPH_X_UNITS}, {3 * GRAPH_X_UNITS}]}})")
    page.wait_for_function(f"{LABELS}.length > 0", timeout=60_000)
    assert page.evaluate(f"document.querySelector('{GRAPH}').data"
                         ".filter(t => t.mode === 'markers+text')"
                         ".every(t => t.marker.opacity === 0)")
    assert opened.errors == []


# Three parallel branches of layers with long names (28 characters, the most a box shows)
WIDE = """
    archcost: 1
    name: Wide
    input: [8, 16, 16]
    layers:
      - {name: stem, type: conv, out: 8, kernel: 3, padding: 1}
      - {name: left_branch_pointwise_conv1, type: pointwise_conv, out: 8, inputs: stem}
      - {name: left_branch_batchnorm_after1, type: batchnorm}
      - {name: middle_branch_depthwise_conv, type: depthwise_conv, kernel: 3, padding: 1,
         inputs: stem}
      - {name: right_branch_avgpool_shortcut, type: avgpool, kernel: 3, stride: 1, padding: 1,
         inputs: stem}
      - {name: cat, type: concat,
         inputs: [left_branch_batchnorm_after1, middle_branch_depthwise_conv,
                  right_branch_avgpool_shortcut]}
      - {name: classifier_global_average_pool, type: global_avgpool}
"""

OVERLAPS = f"""(() => {{
  const r = Array.from(document.querySelectorAll('{GRAPH} .textpoint text'))
    .map(t => t.getBoundingClientRect());
  const hits = [];
  for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {{
    const a = r[i], b = r[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
      hits.push([i, j]);
  }}
  return [r.length, hits];
}})()"""


def test_labels_never_overlap(write_spec, open_report, tmp_path):  # noqa: F811
    m = archcost.load(write_spec(WIDE, "wide.yaml"))
    opened = open_report(write_model_report(m, tmp_path / "wide.html"), len(SINGLE_CHARTS))
    page = opened.page
    count, hits = page.evaluate(OVERLAPS)
    assert count == len(m.order) and hits == []
    # zoomed out to just above the size where labels hide: still apart
    height = page.evaluate(f"document.querySelector('{GRAPH}')._fullLayout.yaxis._length")
    rows = height / (GRAPH_LABEL_MIN_PX + 1)
    page.evaluate(f"Plotly.relayout('{GRAPH[1:]}', "
                  f"{{'yaxis.range': [{rows * GRAPH_Y_UNITS}, 0]}})")
    page.wait_for_timeout(300)
    count, hits = page.evaluate(OVERLAPS)
    assert count == len(m.order) and hits == []
    assert opened.errors == []
