"""The public result objects — Model, Comparison, WhatIf — spell one idea one way:
``totals``, ``headline``, ``figures()``, ``html()``, ``write_html()``, ``_repr_html_()``."""

from __future__ import annotations

import html
import json

import plotly.graph_objects as go
import pytest

import archcost
from archcost.report.figure_sets import COMPARE_FIGURES, MODEL_FIGURES
from tiny_specs import RESIDUAL, SHUFFLE

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture
def tiny(write_spec):
    return [archcost.load(write_spec(RESIDUAL, "res.yaml")),
            archcost.load(write_spec(SHUFFLE, "shuffle.yaml"))]


def test_comparison_totals_are_each_models_own_totals(tiny):
    c = archcost.compare([*tiny, tiny[0]], batch=2, dtype="float16")
    assert c.labels == [tiny[0].label, tiny[1].label, f"{tiny[0].label} #2"]
    assert all(isinstance(m, archcost.Model) for m in c.models)
    for row, m in zip(c.totals.to_dict("records"), [*tiny, tiny[0]]):
        own = m.costs(batch=2, dtype="float16").totals
        assert all(row[k] == own[k] for k in ("params", "macs", "flops", "memory_access"))
    # the per-layer rows sum to the same totals
    sums = c.layers.groupby("model", sort=False)["macs"].sum().tolist()
    assert sums == c.totals["macs"].tolist()
    assert repr(c) == f"Comparison({', '.join(c.labels)}; batch 2, float16)"


def test_figures_are_plotly_figures_by_section(tiny):
    c = archcost.compare(tiny)
    figs = c.figures()
    assert tuple(figs) == COMPARE_FIGURES
    assert all(isinstance(f, go.Figure) and len(f.data) > 0 for f in figs.values())
    # the stage chart's bars are the models' MACs per resolution: they sum to the totals
    stages = figs["stages"]
    for trace, m in zip(stages.data, tiny):
        assert sum(trace.y) == m.totals["macs"]
    mfigs = tiny[0].figures()
    assert tuple(mfigs) == MODEL_FIGURES
    assert all(isinstance(f, go.Figure) for f in mfigs.values())


def test_html_and_write_html_are_the_pages(tiny, tmp_path):
    c = archcost.compare(tiny)
    path = c.write_html(tmp_path / "sub" / "c.html", plotlyjs="cdn")
    page = path.read_text(encoding="utf-8")
    assert page == c.html(plotlyjs="cdn")
    assert c.headline and all(html.escape(line) in page for line in c.headline)
    w = tiny[0].whatif("separable")
    assert 'id="archcost-whatif"' in w.write_html(tmp_path / "w.html", plotlyjs="cdn").read_text(
        encoding="utf-8")
    assert 'id="archcost-table"' in tiny[0].write_html(tmp_path / "m.html",
                                                       plotlyjs="cdn").read_text(encoding="utf-8")


def test_whatif_yaml_is_the_rewritten_spec(tiny, tmp_path):
    w = tiny[0].whatif("separable")
    assert isinstance(w, archcost.WhatIf)
    path = tmp_path / "after.yaml"
    path.write_text(w.yaml, encoding="utf-8")
    assert archcost.load(path).totals == w.after.totals
    assert w.headline == archcost.compare([w.before, w.after]).headline
    assert w.totals["macs"].tolist() == [w.before.totals["macs"], w.after.totals["macs"]]


def test_comparison_repr_html_escapes_labels_and_shows_the_headline(write_spec):
    spec = write_spec(f"""
        archcost: 1
        name: {json.dumps(EVIL)}
        input: [3, 8, 8]
        layers:
          - {{name: conv1, type: conv, out: 4, kernel: 3, padding: 1}}
    """, "evil.yaml")
    c = archcost.compare([archcost.load(spec), archcost.load(spec)])
    shown = c._repr_html_()
    assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "all 2 models equal" in shown  # the headline of two equal models
    assert shown.count("<tr>") == 3
