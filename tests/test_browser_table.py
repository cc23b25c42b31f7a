"""The per-layer HTML table in a real browser (headless Debian Chromium, Playwright):
sorting by exact numbers, filtering, the sticky header and name column, and nothing
pushed off-screen at a 1280 px wide window. The fixtures are test_browser.py's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_browser import assert_clean, browser, open_report  # noqa: F401 (fixtures)

import archcost
from archcost.report.html import (COMPARE_CHARTS, SINGLE_CHARTS, write_compare_report,
                                  write_model_report)
from archcost.report.layer_table import TABLE_CSS, TABLE_JS, layer_table

ROOT = Path(__file__).resolve().parent.parent

CELLS = "Array.from(document.querySelectorAll('#archcost-table tbody tr'))"


def column_index(page, label: str) -> int:
    heads = page.eval_on_selector_all("#archcost-table thead th", "hs => hs.map(h => h.textContent)")
    return heads.index(label)


def visible_names(page) -> list[str]:
    col = column_index(page, "layer")
    return page.evaluate(f"{CELLS}.filter(r => r.style.display !== 'none')"
                         f".map(r => r.cells[{col}].textContent)")


@pytest.fixture(scope="module")
def mnv2_page(tmp_path_factory):
    """MobileNetV2's page: 152 layers, counts from 0 to 10^7 (text order != numeric order)."""
    m = archcost.load(ROOT / "specs" / "mobilenet_v2.yaml")
    return m, write_model_report(m, tmp_path_factory.mktemp("table") / "mnv2.html")


def test_headers_come_from_the_column_model_with_units(mnv2_page, open_report):
    m, path = mnv2_page
    opened = open_report(path, len(SINGLE_CHARTS))
    assert_clean(opened, len(SINGLE_CHARTS))
    heads = opened.page.eval_on_selector_all("#archcost-table thead th",
                                             "hs => hs.map(h => h.textContent)")
    assert heads == ["#", "layer", "kind", "inputs", "input shapes", "output", "params", "MACs",
                     "FLOPs", "memory (B)", "activations", "buffers"]
    # numbers right-aligned, names left
    align = opened.page.evaluate(
        f"{CELLS}[0].cells.length && [getComputedStyle({CELLS}[0].cells[7]).textAlign,"
        f" getComputedStyle({CELLS}[0].cells[1]).textAlign]")
    assert align == ["right", "left"]


def test_sorting_a_count_column_orders_by_the_exact_number(mnv2_page, open_report):
    m, path = mnv2_page
    opened = open_report(path, 0)
    page = opened.page
    df = m.analyze()
    col = column_index(page, "MACs")
    header = page.locator("#archcost-table thead th").nth(col)
    # the displayed text sorted as text would give another order: the test can fail
    as_text = sorted(df["macs"], key=lambda v: f"{v:,}")
    assert as_text != sorted(df["macs"])
    header.click()
    shown = page.evaluate(f"{CELLS}.map(r => r.cells[{col}].getAttribute('data-v'))")
    assert [int(v) for v in shown] == sorted(df["macs"])
    # ties keep network order (a stable sort): the names in the independent pandas order
    order = df.assign(i=range(len(df))).sort_values(["macs", "i"], kind="stable")
    assert visible_names(page) == order["name"].tolist()
    header.click()  # descending
    shown = page.evaluate(f"{CELLS}.map(r => r.cells[{col}].getAttribute('data-v'))")
    assert [int(v) for v in shown] == sorted(df["macs"], reverse=True)
    assert page.locator("#archcost-table thead th").nth(col).get_attribute("aria-sort") == \
        "descending"
    # the index column puts network order back
    page.locator("#archcost-table thead th").nth(0).click()
    assert visible_names(page) == df["name"].tolist()
    assert opened.errors == []


def test_counts_past_2_to_the_53_sort_exactly(browser, tmp_path):  # noqa: F811
    """Counts that a JavaScript Number cannot tell apart (2**60 + 1, + 2, + 3 are one
    double) still sort by their exact integers."""
    base = 2**60
    df = pd.DataFrame({
        "name": ["a", "b", "c"], "kind": "conv", "inputs": "input", "input_shapes": "1x1x1",
        "output_shape": "1x1x1", "params": [0, 0, 0], "macs": [base + 3, base + 1, base + 2],
        "flops": 0, "memory_access": 0, "activations": 0, "buffers": 0})
    assert float(base + 1) == float(base + 3)  # why Number() would not do
    page_html = (f"<!doctype html><html><head><style>:root{{--line:#ddd}}{TABLE_CSS}</style>"
                 f"</head><body>{layer_table(df)}<script>{TABLE_JS}</script></body></html>")
    path = tmp_path / "big.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.locator("#archcost-table thead th", has_text="MACs").click()
    names = page.evaluate(f"{CELLS}.map(r => r.cells[1].textContent)")
    assert names == ["b", "c", "a"]
    assert errors == []
    page.close()


def test_filter_counts_the_matching_layers(mnv2_page, open_report):
    m, path = mnv2_page
    page = open_report(path, 0).page
    df = m.analyze()
    page.fill("input.filter", "depthwise")
    wanted = df[df["kind"].str.contains("depthwise") | df["name"].str.contains("depthwise")]
    assert visible_names(page) == wanted["name"].tolist() != []
    assert page.inner_text("#archcost-table-shown") == f"{len(wanted)} of {len(df)} layers"


def test_header_and_names_stay_visible_while_scrolling(mnv2_page, open_report):
    m, path = mnv2_page
    page = open_report(path, 0).page
    page.locator("#archcost-table").scroll_into_view_if_needed()
    # Near the screen the box turns ordinary (it skips layout while off the screen).
    page.wait_for_selector("#table .tablewrap[data-live]", state="attached")
    page.evaluate("(() => { const w = document.querySelector('#table .tablewrap');"
                  " w.scrollTop = 2000; w.scrollLeft = 2000; })()")
    boxes = page.evaluate("""(() => {
      const w = document.querySelector('#table .tablewrap').getBoundingClientRect();
      const th = document.querySelector('#archcost-table thead th:nth-child(5)');
      const h = th.getBoundingClientRect();
      const rows = Array.from(document.querySelectorAll('#archcost-table tbody tr'));
      // the first body row whose top is below the header: its name cell
      const row = rows.find(r => r.getBoundingClientRect().top >= h.bottom - 1);
      const nm = row.cells[1].getBoundingClientRect();
      const atHeader = document.elementFromPoint(h.left + h.width / 2, h.top + h.height / 2);
      const atName = document.elementFromPoint(nm.left + 4, nm.top + nm.height / 2);
      return {wrapTop: w.top, wrapLeft: w.left, headTop: h.top, nameLeft: nm.left,
              scrolled: document.querySelector('#table .tablewrap').scrollTop,
              header: atHeader === th, name: atName === row.cells[1],
              idxWidth: row.cells[0].getBoundingClientRect().width};
    })()""")
    assert boxes["scrolled"] > 0
    assert abs(boxes["headTop"] - boxes["wrapTop"]) <= 1 and boxes["header"]
    assert abs(boxes["nameLeft"] - boxes["wrapLeft"] - boxes["idxWidth"]) <= 1 and boxes["name"]


@pytest.mark.parametrize("kind", ["model", "compare", "whatif"])
def test_nothing_is_pushed_off_screen_at_1280_px(kind, open_report, tmp_path):
    """The page is never wider than the 1280 px window (a wide table scrolls inside its
    own box); no cell's text overflows its cell; no layer name wraps."""
    m = archcost.load(ROOT / "specs" / "shufflenet_v2.yaml")  # the longest layer names
    if kind == "model":
        path = write_model_report(m, tmp_path / "m.html")
    elif kind == "compare":
        path = write_compare_report([m, ROOT / "specs" / "mobilenet_v2.yaml"],
                                    tmp_path / "c.html")
    else:
        path = archcost.write_whatif_report(m.whatif("separable"), tmp_path / "w.html")
    page = open_report(path, 1).page
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == 1280
    overflowing = page.evaluate("""Array.from(document.querySelectorAll('td, th'))
      .filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)""")
    assert overflowing == []
    wrapped = page.evaluate("""Array.from(document.querySelectorAll('td.nm')).filter(c => {
      const r = document.createRange(); r.selectNodeContents(c);
      return r.getClientRects().length > 1; }).map(c => c.textContent)""")
    assert wrapped == []
    # every table's own box scrolls sideways rather than clipping
    clipped = page.evaluate("""Array.from(document.querySelectorAll('.tablewrap'))
      .filter(w => w.scrollWidth > w.clientWidth && getComputedStyle(w).overflowX !== 'auto')
      .length""")
    assert clipped == 0


def test_colours_are_distinct_across_roles_on_a_compare_page(open_report, tmp_path):
    """On the README's four-model compare page, as drawn: the model charts use only
    model colours (one per model, the same in every chart and in the totals table's
    swatches), the kind chart only kind colours (each kind's own), and no colour plays
    both roles."""
    from colour_math import distance

    from archcost.report.style import MODEL_COLORS, kind_color

    names = ["mobilenet_v1", "mobilenet_v2", "shufflenet_v1", "shufflenet_v2"]
    models = [archcost.load(ROOT / "specs" / f"{n}.yaml") for n in names]
    path = write_compare_report(models, tmp_path / "colours.html")
    opened = open_report(path, len(COMPARE_CHARTS))
    assert_clean(opened, len(COMPARE_CHARTS))
    drawn = opened.page.evaluate("""(() => {
      const out = {};
      document.querySelectorAll('.js-plotly-plot').forEach(d => {
        out[d.id] = d._fullData.map(t => ({name: t.name,
          colour: (t.marker && typeof t.marker.color === 'string') ? t.marker.color
                  : (t.line && t.line.color)}));
      });
      out.swatches = Array.from(document.querySelectorAll(
        '#archcost-totals-table tbody td:first-child > span:first-child'))
        .map(s => getComputedStyle(s).backgroundColor);
      return out;
    })()""")
    by_model: dict[str, set[str]] = {}
    for chart in ("archcost-cmp-scatter", "archcost-cmp-stages", "archcost-cmp-cumulative",
                  "archcost-cmp-distributions"):
        for t in drawn[chart]:
            label = t["name"].split(" · ")[0]
            by_model.setdefault(label, set()).add(t["colour"].lower())
    labels = [m.label for m in models]
    assert sorted(by_model) == sorted(labels)
    assert all(len(c) == 1 for c in by_model.values())  # one colour per model everywhere
    model_colours = [by_model[label].pop() for label in labels]
    assert model_colours == [c.lower() for c in MODEL_COLORS[:4]]
    rgb = [f"rgb({int(c[1:3], 16)}, {int(c[3:5], 16)}, {int(c[5:7], 16)})"
           for c in model_colours]
    assert drawn["swatches"] == rgb
    kind_colours = {t["name"]: t["colour"].lower() for t in drawn["archcost-cmp-kinds"]}
    assert {"conv", "pointwise_conv", "depthwise_conv"} <= set(kind_colours)
    assert all(c == kind_color(k).lower() for k, c in kind_colours.items())
    assert not set(kind_colours.values()) & set(model_colours)
    closest = min(distance(k, m, v) for k in kind_colours.values() for m in model_colours
                  for v in (None, "deuteranopia", "protanopia"))
    assert closest >= 9


def test_spec_strings_in_the_table_are_escaped():
    """Layer names, kinds and inputs reach the table only as text (no browser needed)."""
    evil = "<script>alert(1)</script>"
    df = pd.DataFrame({
        "name": [evil], "kind": [evil], "inputs": [evil], "input_shapes": "1x1x1",
        "output_shape": "1x1x1", "params": [1], "macs": [2], "flops": 0,
        "memory_access": 0, "activations": 0, "buffers": 0})
    html = layer_table(df)
    assert "<script>" not in html and html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3
