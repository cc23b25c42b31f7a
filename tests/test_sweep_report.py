"""The sweep HTML report in a real browser: offline, hover, the front, escaping."""

from __future__ import annotations

import json

from archcost.report.sweep import SWEEP_CHARTS, write_sweep_report
from archcost.spec import load_spec
from archcost.sweeping import sweep
from tests.conftest import SPECS
from tests.test_browser import EVIL, assert_clean, browser, open_report  # noqa: F401 (fixtures)


def test_two_knob_sweep_page(open_report, tmp_path):
    spec = load_spec(SPECS / "shufflenet_v1.yaml")
    frame = sweep(spec, ["groups=1,2,3,5,8", "width=0.5,1.0"], scheduler="serial")
    path = write_sweep_report(frame, tmp_path / "s.html", spec=spec, objectives=["macs", "params"])
    opened = open_report(path, 2)
    assert_clean(opened, 2)
    page = opened.page
    assert page.evaluate("document.getElementById('%s') !== null" % SWEEP_CHARTS[1])
    # the front table lists exactly the rows flagged pareto
    assert page.locator("#archcost-sweep-front tbody tr").count() == int(frame["pareto"].sum())
    # hovering the first front point shows its knobs and its exact MACs
    page.evaluate(f"Plotly.Fx.hover('{SWEEP_CHARTS[0]}', [{{curveNumber: 1, pointNumber: 0}}])")
    hover = page.evaluate(f"document.querySelector('#{SWEEP_CHARTS[0]} .hoverlayer').textContent")
    front = frame[frame["pareto"]].iloc[0]
    assert f"groups={front['groups']}" in hover and f"{int(front['macs']):,}" in hover
    assert "on the Pareto front" in hover


def test_three_knob_sweep_page_has_parallel_coordinates(open_report, tmp_path):
    spec = load_spec(SPECS / "mobilenet_v1.yaml")
    frame = sweep(spec, ["width=0.25,1.0", "resolution=128,224"], scheduler="serial")
    frame.insert(2, "batch_note", 1)  # a third knob column, as a 3-knob grid has
    path = write_sweep_report(
        frame, tmp_path / "p.html", spec=spec, objectives=["macs", "accuracy"]
    )
    opened = open_report(path, 2)
    assert_clean(opened, 2)
    assert (
        opened.page.evaluate(f"document.getElementById('{SWEEP_CHARTS[2]}').data[0].type")
        == "parcoords"
    )


def test_spec_strings_cannot_inject(write_spec, open_report, tmp_path):
    path = write_spec(
        f"""
        archcost: 1
        name: {json.dumps(EVIL)}
        input: [3, 8, 8]
        params: {{c: 4}}
        reported:
          - {{c: 4, top1: 50, source: {json.dumps(EVIL)}}}
        requires:
          - {{check: "${{c != 3}}", message: {json.dumps(EVIL)}}}
        layers:
          - {{name: conv1, type: conv, out: "${{c}}", kernel: 3, padding: 1}}
    """,
        "evil.yaml",
    )
    spec = load_spec(path)
    frame = sweep(spec, ["c=2,3,4"], scheduler="serial", objectives=["macs", "accuracy"])
    out = write_sweep_report(frame, tmp_path / "e.html", spec=spec, objectives=["macs", "accuracy"])
    opened = open_report(out, 1)
    page = opened.page
    page.wait_for_timeout(300)
    assert_clean(opened, 1)
    assert page.title() == f"{EVIL} sweep · archcost"
    assert page.evaluate("document.querySelectorAll('img, svg image').length") == 0
    assert EVIL in page.inner_text("#archcost-sweep-front")
