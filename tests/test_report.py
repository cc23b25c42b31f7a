"""Report layer: compare frames carry analyze's numbers; HTML is self-contained and safe."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import archcost
from archcost.costs import COLUMNS, COUNT_COLUMNS
from archcost.errors import SpecError
from archcost.report import bundle as report_bundle
from archcost.report import figures as report_figures
from archcost.report import html as report_html
from archcost.report import style as report_style
from archcost.report.compare import (
    MODEL, TOTAL_COLUMNS, compare, compare_totals, parse_model_arg)
from archcost.report.units import exact, human, human_bytes
from tiny_specs import RESIDUAL, SHUFFLE  # a residual stage and a split/concat/shuffle unit

SPECS = Path(__file__).resolve().parent.parent / "specs"
EVIL = """<img src=x onerror="document.title='pwned'">"""



@pytest.fixture
def tiny(write_spec):
    """The two hand-made specs, loaded."""
    return [archcost.load(write_spec(RESIDUAL, "res.yaml")),
            archcost.load(write_spec(SHUFFLE, "shuffle.yaml"))]


@pytest.fixture
def evil(write_spec):
    """A spec whose name, description and a knob value try to inject markup."""
    text = f"""
        archcost: 1
        name: {json.dumps(EVIL)}
        description: "</script><script>document.title='pwned2'</script> & <b>bold</b>"
        input: [3, 8, 8]
        params: {{note: "<svg onload=alert(1)>"}}
        layers:
          - {{name: conv1, type: conv, out: 4, kernel: 3, padding: 1}}
          - {{name: fc_pool, type: global_avgpool}}
          - {{name: fc, type: linear, out: 2}}
    """
    return archcost.load(write_spec(text, "evil.yaml"))


def zoo(*names: str) -> list[Path]:
    return [SPECS / f"{n}.yaml" for n in names]


# ------------------------------------------------------------------ DataFrames

@pytest.mark.parametrize(("batch", "dtype"), [(1, "float32"), (3, "float16")],
                         ids=["b1-f32", "b3-f16"])
def test_compare_rows_equal_each_models_analyze(tiny, batch, dtype):
    df = compare(tiny, batch=batch, dtype=dtype)
    assert list(df.columns) == [MODEL, *COLUMNS]
    for m in tiny:
        mine = df[df[MODEL] == m.label].drop(columns=MODEL).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, m.analyze(batch=batch, dtype=dtype))


def test_compare_column_sums_equal_totals(tiny):
    df = compare(tiny)
    sums = df.groupby(MODEL, sort=False)[COUNT_COLUMNS].sum()
    for m in tiny:
        for col in COUNT_COLUMNS:
            assert int(sums.at[m.label, col]) == m.totals[col], (m.label, col)


def test_compare_totals_rows_equal_each_models_totals(tiny):
    tf = compare_totals(tiny, batch=2, dtype="float16")
    assert list(tf[MODEL]) == [m.label for m in tiny]
    ref = tiny[0].costs(batch=2, dtype="float16").totals
    for row, m in zip(tf.to_dict("records"), tiny):
        own = m.costs(batch=2, dtype="float16").totals
        for col in TOTAL_COLUMNS:
            assert row[col] == own[col] and isinstance(row[col], int), col
            assert row[f"{col}_ratio"] == pytest.approx(own[col] / ref[col])
    assert (tf.filter(like="_ratio").iloc[0] == 1.0).all()


def test_compare_accepts_spec_arguments_and_keeps_repeated_labels_apart(write_spec):
    path = write_spec(RESIDUAL, "res.yaml")
    tf = compare_totals([str(path), f"{path}@width=0.5", str(path)])
    assert list(tf[MODEL]) == ["TinyRes", "TinyRes (width=0.5)", "TinyRes #2"]
    half = archcost.load(path, width=0.5)
    assert tf.loc[1, "params"] == half.totals["params"]
    # conv params scale with width² except the first conv (3 input channels) and fc
    assert 0.2 < tf.loc[1, "params_ratio"] < 0.5


def test_archcost_compare_is_the_report_compare(tiny):
    c = archcost.compare(tiny)
    pd.testing.assert_frame_equal(c.layers, compare(tiny))
    pd.testing.assert_frame_equal(c.totals, compare_totals(tiny))
    pd.testing.assert_frame_equal(archcost.compare_totals(tiny), compare_totals(tiny))


def test_bundled_zoo_totals_match_analyze():
    paths = zoo("mobilenet_v1", "mobilenet_v2")
    models = [archcost.load(p) for p in paths]
    tf = compare_totals(models)
    df = compare(models)
    for row, m in zip(tf.to_dict("records"), models):
        assert {c: row[c] for c in TOTAL_COLUMNS} == {c: m.totals[c] for c in TOTAL_COLUMNS}
        assert int(df.loc[df[MODEL] == m.label, "macs"].sum()) == m.totals["macs"]


# --------------------------------------------------------------- parse_model_arg

@pytest.mark.parametrize(("arg", "expected"), [
    ("specs/x.yaml", ("specs/x.yaml", {})),
    ("specs/x.yaml@width=0.5,resolution=160", ("specs/x.yaml", {"width": 0.5, "resolution": 160})),
    ("x.yaml@flag=true,other=False,act=relu6,eps=1e-3",
     ("x.yaml", {"flag": True, "other": False, "act": "relu6", "eps": 0.001})),
    ("x.yaml@ width = 2 ", ("x.yaml", {"width": 2})),
    ("dir@v2/net.yaml", ("dir@v2/net.yaml", {})),
    ("dir@v2/net.yaml@groups=3", ("dir@v2/net.yaml", {"groups": 3})),
], ids=["plain", "two-knobs", "types", "spaces", "at-in-path", "at-in-path-knobs"])
def test_parse_model_arg(arg, expected):
    assert parse_model_arg(arg) == expected
    assert all(type(v) is type(e) for v, e in zip(parse_model_arg(arg)[1].values(),
                                                    expected[1].values()))


@pytest.mark.parametrize(("arg", "message"), [
    ("x.yaml@width", "expected k=v"),
    ("x.yaml@", "expected k=v"),
    ("x.yaml@width=0.5,", "expected k=v"),
    ("x.yaml@width=", "empty value"),
    ("x.yaml@1w=2", "not a knob name"),
    ("x.yaml@width=1,width=2", "set twice"),
    ("@width=1", "no spec path"),
], ids=["no-eq", "empty", "trailing-comma", "empty-value", "bad-name", "twice", "no-path"])
def test_parse_model_arg_errors(arg, message):
    with pytest.raises(SpecError, match=message):
        parse_model_arg(arg)


# ------------------------------------------------------------------------- HTML

class _Refs(HTMLParser):
    """Collects src/href attribute values of real tags (script bodies are not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [v or "" for k, v in attrs if k in ("src", "href")]


def parse(text: str) -> _Refs:
    p = _Refs()
    p.feed(text)
    return p


def figures(text: str) -> list[str]:
    """The div ids of the page's charts, in page order, each with a figure that parses
    as JSON with data and a layout."""
    found = re.findall(r'<script type="application/json" class="archcost-figure" '
                       r'data-div="([^"]+)">(.*?)</script>', text, flags=re.S)
    for _, body in found:
        figure = json.loads(body)
        assert isinstance(figure["data"], list) and "layout" in figure
    return [div for div, _ in found]


def test_single_report_is_self_contained_with_every_chart(tiny, tmp_path):
    path = report_html.write_model_report(tiny[0], tmp_path / "sub" / "r.html")
    text = path.read_text(encoding="utf-8")
    assert [r for r in parse(text).refs if re.match(r"\s*(https?:)?//", r)] == []
    assert figures(text) == list(report_html.SINGLE_CHARTS)
    for div in report_html.SINGLE_CHARTS:
        assert f'id="{div}"' in text
    assert len(re.findall(r'id="archcost-plotlyjs"', text)) == 1  # the library, once
    t = tiny[0].totals
    for shown in (human(t["params"]), human(t["macs"]), human(t["flops"]),
                  human_bytes(t["memory_access"]), human_bytes(t["peak_activation_bytes"]),
                  exact(t["macs"])):
        assert shown in text


def test_compare_report_is_self_contained_with_every_chart(tiny, tmp_path):
    path = report_html.write_compare_report(tiny, tmp_path / "c.html")
    text = path.read_text(encoding="utf-8")
    assert [r for r in parse(text).refs if re.match(r"\s*(https?:)?//", r)] == []
    assert figures(text) == list(report_html.COMPARE_CHARTS)
    for div in report_html.COMPARE_CHARTS:
        assert f'id="{div}"' in text
    assert "×1.00" not in text.split("archcost-totals-table", 1)[1].split("</tr>", 2)[1]


def test_cdn_report_references_plotly_and_is_small(tiny, tmp_path):
    inline = report_html.write_model_report(tiny[1], tmp_path / "i.html")
    cdn = report_html.write_model_report(tiny[1], tmp_path / "c.html", plotlyjs="cdn")
    refs = parse(cdn.read_text(encoding="utf-8")).refs
    assert len(refs) == 1 and refs[0].startswith("https://cdn.plot.ly/plotly-")
    # the inline page carries the packed bundle (base64 of the gzip bytes), the cdn one not
    packed = len(base64.b64encode(report_bundle.bundle_gzip()))
    assert cdn.stat().st_size < 200_000 < packed <= inline.stat().st_size - cdn.stat().st_size


def test_report_table_carries_analyze_numbers(tiny, tmp_path):
    m = tiny[0]
    text = report_html.render_model_report(m, batch=2, dtype="float16")
    body = text.split('id="archcost-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [re.findall(r'data-v="(\d+)"', tr)[1:] for tr in body.split("</tr>")[:-1]]
    expected = m.analyze(batch=2, dtype="float16")[COUNT_COLUMNS].to_numpy().tolist()
    assert [[int(v) for v in r] for r in rows] == expected


def test_reports_are_deterministic(write_spec, tmp_path):
    """Same bytes from two processes with different hash seeds (fixed div ids, no sets)."""
    spec = write_spec(SHUFFLE, "shuffle.yaml")
    code = ("import sys, archcost; from archcost.report.html import render_compare_report as r; "
            "sys.stdout.write(r([archcost.load(sys.argv[1]), sys.argv[1] + '@groups=3'], "
            "plotlyjs='cdn'))")
    runs = [subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True,
                           text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}
                           ).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] and figures(runs[0]) == list(report_html.COMPARE_CHARTS)


def test_spec_text_is_escaped_everywhere(evil):
    # cdn mode: the same page without the library (whose JS mentions "<svg" itself)
    single = report_html.render_model_report(evil, plotlyjs="cdn")
    both = report_html.render_compare_report([evil, evil], plotlyjs="cdn")
    for text in (single, both):
        # Never as markup: neither raw in the HTML nor as \u003c in Plotly's JSON (Plotly
        # would turn that back into a tag); always as escaped text.
        for raw in ("<img", "<svg", "<b>bold", "pwned2'</script>"):
            assert raw not in text
        assert "\\u003cimg" not in text and "\\u003csvg" not in text
        assert "&lt;img src=x onerror=&quot;document.title=&#x27;pwned&#x27;&quot;&gt;" in text
        assert {"img", "svg"}.isdisjoint(parse(text).tags)
    assert "&lt;svg onload=alert(1)&gt;" in single  # the knob value
    assert "&lt;/script&gt;&lt;script&gt;" in single  # the description


def test_bad_arguments(tiny, tmp_path):
    with pytest.raises(ValueError, match="plotlyjs must be one of"):
        report_html.write_model_report(tiny[0], tmp_path / "x.html", plotlyjs="directory")
    with pytest.raises(SpecError, match="nothing to compare"):
        report_html.write_compare_report([], tmp_path / "x.html")


def test_hover_shows_fields_and_formulas(tiny):
    m = tiny[0]
    hover = report_style._layer_hover(m.analyze(batch=2), m.graph, 2)
    first = hover[0]  # conv1: 3 -> 16 channels, 3x3, stride 2 on 32x32 -> 16x16
    assert first.startswith("<b>conv1</b> (conv)<br>3x32x32 → 16x16x16")
    assert "kernel=3, stride=2, padding=1" in first
    assert "MACs = batch·C_out·(k·C_in/g)·out = 2·16·(3·3·3)·(16·16)" in first
    assert f"MACs {human(2 * 16 * 27 * 256)}" in first


def test_network_without_multiplications_still_reports(write_spec, tmp_path):
    m = archcost.load(write_spec("""
        archcost: 1
        name: NoMacs
        input: [4, 8, 8]
        layers:
          - {type: relu}
          - {type: maxpool, kernel: 2}
    """))
    text = report_html.render_model_report(m)
    assert figures(text) == list(report_html.SINGLE_CHARTS)


# --------------------------------------------------------------- chart helpers

def test_hierarchy_rolls_up_to_the_totals(tiny):
    m = tiny[0]
    df = m.analyze()
    ids, labels, parents, values, _ = report_figures.hierarchy_nodes(df, m.name)
    for col in ("macs", "params", "memory_access"):
        assert values[col][0] == m.totals[col]
        children: dict[str, int] = {}
        for i, p in enumerate(parents):
            if p:
                children[p] = children.get(p, 0) + values[col][i]
        for i, node in enumerate(ids):
            if node in children:
                assert children[node] == values[col][i], (col, labels[i])
    # stage1 with repeat: 2 gives the block instances stage1_1 and stage1_2 at the top
    top = {labels[i] for i, p in enumerate(parents) if p == ids[0]}
    assert top == {"conv1", "stage1_1", "stage1_2", "pool", "fc"}


def test_stage_labels_gather_stem_and_head(tiny):
    names = tiny[0].analyze()["name"].tolist()
    stages = report_figures.stage_labels(names)
    assert stages[0] == "stem" and stages[-1] == "head"
    assert set(stages) == {"stem", *{n.split(".")[0] for n in names if "." in n}, "head"}
