"""The partial plotly.js bundle the pages inline, and what the pages weigh.

The browser side (the bundle registers exactly these trace types, every chart draws,
a browser without DecompressionStream says so) is in tests/test_browser.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest

import archcost
from archcost.report import bundle
from archcost.report.html import render_compare_report, render_model_report, render_whatif_report

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
FIGURE = re.compile(r'<script type="application/json" class="archcost-figure" '
                    r'data-div="([^"]+)">(.*?)</script>', re.S)
# The budget for one self-contained page.
MAX_PAGE_BYTES = 2_000_000


def test_stored_bundle_is_the_recorded_build():
    js = gzip.decompress(bundle.BUNDLE.read_bytes())
    # the hash scripts/plotly-bundle/build.sh printed when the file was made
    assert hashlib.sha256(js).hexdigest() == bundle.SHA256
    # plotly.js's banner names the release it was built from (build.js writes it)
    head = js[:300].decode("utf-8")
    assert f"plotly.js v{bundle.VERSION}," in head and "MIT license" in head
    # plotly.js's licence travels with it, in the package and so in the wheel
    licence = (bundle.BUNDLE.parent / "LICENSE-plotly.js.txt").read_text(encoding="utf-8")
    assert "Plotly" in licence and "Permission is hereby granted" in licence


def test_bundle_matches_the_plotly_python_package_release():
    """Figures come from the installed plotly package, written for its own plotly.js;
    the bundle must be the same major release, or attributes may go missing."""
    from plotly.offline import get_plotlyjs_version

    assert get_plotlyjs_version().split(".")[0] == bundle.VERSION.split(".")[0]


def trace_types(page: str) -> set[str]:
    return {trace.get("type", "scatter")
            for _, body in FIGURE.findall(page) for trace in json.loads(body)["data"]}


def test_every_page_draws_only_trace_types_the_bundle_has(tmp_path):
    from archcost.report.sweep import render_sweep_report
    from archcost.roofline import load_profile
    from archcost.spec import load_spec
    from archcost.sweeping import sweep

    profile = load_profile("jetson-nano-fp32")
    net = archcost.load(SPECS / "shufflenet_v2.yaml")
    spec = load_spec(SPECS / "shufflenet_v1.yaml")
    grid = sweep(spec, ["groups=1,3", "width=0.5,1.0"], scheduler="serial")
    three = grid.copy()
    three.insert(2, "batch_note", 1)  # a third knob column: the parallel-coordinates chart
    pages = [
        render_model_report(net, profile=profile),
        render_compare_report([net, archcost.load(SPECS / "mobilenet_v2.yaml")],
                              profile=profile),
        render_whatif_report(archcost.load(SPECS / "mobilenet_v1.yaml").whatif("separable")),
        render_sweep_report(grid, spec=spec, objectives=["macs", "params"]),
        render_sweep_report(three, spec=spec, objectives=["macs", "params"]),
    ]
    used = set().union(*(trace_types(p) for p in pages))
    assert used <= set(bundle.TRACES), f"add {sorted(used - set(bundle.TRACES))} to the bundle"
    # and the bundle carries nothing the pages never draw
    assert used == set(bundle.TRACES)


@pytest.mark.parametrize("pages", [
    ["resnet50"],
    ["efficientnet"],  # the heaviest zoo page
    ["mobilenet_v1", "mobilenet_v2", "shufflenet_v1", "shufflenet_v2"],  # the README's
])
def test_pages_weigh_at_most_2_mb(pages):
    models = [archcost.load(SPECS / f"{n}.yaml") for n in pages]
    text = render_model_report(models[0]) if len(models) == 1 else render_compare_report(models)
    assert text.count('id="archcost-plotlyjs"') == 1  # Plotly inlined, once
    assert len(text.encode("utf-8")) <= MAX_PAGE_BYTES
