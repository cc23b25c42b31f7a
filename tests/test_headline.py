"""The compare page's headline: sentences computed from the numbers, checked against
per-kind sums and totals recomputed here from the tidy per-layer rows."""

from __future__ import annotations

import html
from pathlib import Path

import archcost
from archcost.report.compare import analyses, headline
from archcost.report.html import render_compare_report
from archcost.report.units import human

ROOT = Path(__file__).resolve().parent.parent
SPECS = [str(ROOT / "specs" / f"{n}.yaml") for n in ("mobilenet_v1", "shufflenet_v2")]


def test_headline_names_the_cheapest_model_and_the_kinds_behind_the_gap():
    rows = archcost.compare(SPECS).layers  # tidy per-layer rows; sums recomputed here
    labels = list(dict.fromkeys(rows["model"]))
    totals = rows.groupby("model")[["macs", "params"]].sum()
    macs = {m: int(totals.loc[m, "macs"]) for m in labels}
    cheap, dear = min(macs, key=macs.get), max(macs, key=macs.get)
    lines = headline(analyses(SPECS))
    ratio = macs[dear] / macs[cheap]
    assert lines[0] == (f"MACs: {cheap} is cheapest ({human(macs[cheap])}), "
                        f"{ratio:.1f}× less than {dear} ({human(macs[dear])}).")
    per_kind = rows.groupby(["model", "kind"])["macs"].sum()
    gap = macs[labels[0]] - macs[labels[1]]
    delta = {k: int(per_kind[labels[0]].get(k, 0)) - int(per_kind[labels[1]].get(k, 0))
             for k in set(rows["kind"])}
    biggest = max(delta, key=lambda k: delta[k])
    share = 100 * delta[biggest] / gap
    assert f"{biggest} {human(int(per_kind[labels[0]][biggest]))} → " in lines[-1]
    assert f"({share:.0f}% of the gap)" in lines[-1]
    assert lines[-1].startswith(f"{labels[1]} needs {human(gap)} fewer MACs than {labels[0]}")


def test_one_model_has_no_headline_and_equal_models_say_so():
    assert headline(analyses(SPECS[:1])) == []
    same = headline(analyses([SPECS[0], SPECS[0]]))
    assert same[0].startswith("MACs: all 2 models equal")
    assert same[-1].endswith("has as many MACs as MobileNetV1.")


def test_the_compare_page_shows_the_headline_escaped(write_spec):
    path = write_spec("""
        archcost: 1
        name: "<b>evil</b> & co"
        input: [3, 8, 8]
        layers:
          - {name: c, type: conv, out: 4, kernel: 3}
    """)
    page = render_compare_report([str(path), SPECS[1]], plotlyjs="cdn")
    assert 'id="archcost-headline"' in page
    assert "<b>evil</b>" not in page
    assert html.escape("<b>evil</b> & co") in page


def test_whatif_page_lists_rewritten_and_skipped_layers_with_the_papers_ratio(write_spec):
    from archcost.report.html import render_whatif_report

    path = write_spec("""
        archcost: 1
        name: two convs
        input: [3, 16, 16]
        layers:
          - {name: first, type: conv, out: 32, kernel: 3, padding: 1}
          - {name: second, type: conv, out: 64, kernel: 3, padding: 1}
    """)
    result = archcost.load(path).whatif("grouped:4")
    page = render_whatif_report(result, plotlyjs="cdn")
    # first: in_channels=3 is not divisible by 4 -> skipped, with the reason shown
    assert "<td>first</td><td>skipped: channels not divisible by 4" in page
    # second: 32 -> 64 channels in 4 groups costs 1/g = 1/4 (ShuffleNet Sec. 3.1)
    row = page.split("<td>second</td>")[1].split("</tr>")[0]
    assert row.startswith("<td>rewritten</td>") and row.count(">0.2500<") == 2
    sep = archcost.load(path).whatif("separable")
    page = render_whatif_report(sep, plotlyjs="cdn")
    # MobileNet eq. 5: a separable k x k conv costs 1/N + 1/k^2 of the standard one when
    # the output size is the same (stride 1, 'same' padding): 1/64 + 1/9 for 'second'
    row = page.split("<td>second</td>")[1].split("</tr>")[0]
    expected = f"{1 / 64 + 1 / 9:.4f}"
    assert row.count(f">{expected}<") == 2  # measured and predicted agree
    assert 'id="archcost-headline"' in page


def test_notebooks_show_a_model_and_a_whatif_result_as_escaped_tables(write_spec):
    path = write_spec("""
        archcost: 1
        name: "<i>net</i>"
        input: [8, 8, 8]
        layers:
          - {name: a, type: conv, out: 8, kernel: 3, padding: 1}
          - {name: b, type: conv, out: 8, kernel: 1}
    """)
    m = archcost.load(path)
    shown = m._repr_html_()
    assert "<i>net</i>" not in shown and html.escape("<i>net</i>") in shown
    # a: 8·8·9·64 = 36,864 MACs; b: 8·8·64 = 4,096 -> 40,960 (hand arithmetic)
    assert "40,960" in shown
    w = m.whatif("pointwise-grouped:2")
    page = w._repr_html_()
    assert "<td>a</td>" not in page  # a 3x3 conv is no pointwise candidate: not listed
    assert "<td>b</td><td>rewritten</td>" in page and ">0.5000<" in page
    assert archcost.write_whatif_report.__module__ == "archcost.report.html"


def test_model_colours_are_never_kind_colours():
    from archcost.layers import REGISTRY
    from archcost.report.style import MODEL_COLORS, kind_color

    kinds = {kind_color(k).lower() for k in REGISTRY}
    assert len(set(MODEL_COLORS)) == len(MODEL_COLORS)
    assert not kinds & {c.lower() for c in MODEL_COLORS}
