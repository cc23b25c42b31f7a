"""`archcost explain` and `archcost whatif`: formulas with numbers, rewrites that round-trip."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

import archcost
from archcost.backend import validate
from archcost.cli import main
from archcost.explain import explain
from archcost.rewrite import rewrite

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"

EVERY_KIND = """
archcost: 1
name: every kind
input: [12, 16, 16]
layers:
  - {name: c, type: conv, out: 12, kernel: 3, stride: 2, padding: same}
  - {name: g, type: grouped_conv, out: 12, kernel: 3, groups: 3, padding: 1, dilation: 2}
  - {name: pw, type: pointwise_conv, out: 12, groups: 2}
  - {name: dw, type: depthwise_conv, kernel: 3, padding: 1, multiplier: 2}
  - {name: sep, type: separable_conv, out: 12, kernel: 3, padding: 1}
  - {name: sp, type: spatial_separable_conv, out: 12, kernel: 3, padding: 1}
  - {name: sh, type: channel_shuffle, groups: 3}
  - {name: bn, type: batchnorm}
  - {name: r, type: relu}
  - {name: r6, type: relu6}
  - {name: hs, type: hswish}
  - {name: hsig, type: hsigmoid}
  - {name: sw, type: swish}
  - {name: th, type: tanh}
  - {name: split, type: channel_split}
  - {name: cat, type: concat, inputs: ["split:1", "split:0"]}
  - {name: add, type: add, inputs: [cat, th]}
  - {name: mp, type: maxpool, kernel: 3, stride: 2, ceil_mode: true}
  - {name: ap, type: avgpool, kernel: 2}
  - {name: gap, type: global_avgpool}
  - {name: sig, type: sigmoid}
  - {name: mul, type: mul, inputs: [ap, sig]}
  - {name: drop, type: dropout}
  - {name: id, type: identity}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out: 7}
  - {name: sm, type: softmax}
"""


def text_of(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, re.sub(r"[ \t]+", " ", out), err


def test_explain_seed_example_exactly(capsys):
    code, out, _ = text_of(capsys, "explain", str(EXAMPLES / "standard_vs_separable.yaml"), "separable")
    assert code == 0
    assert "depthwise 3·(3·3·1)·(5·5) = 675" in out
    assert "pointwise 128·(1·1·3)·(5·5) = 9,600" in out
    assert "total depthwise + pointwise = 675 + 9,600 = 10,275" in out
    assert "standard the standard conv it replaces = 128·(3·3·3)·(5·5) = 86,400" in out
    assert "vs standard total/standard = 11.9%" in out
    assert "ratio 1/N + 1/k² = 0.1189" in out
    assert "⌊(7 + 0 − 1·(3−1) − 1)/1⌋ + 1 = 5" in out


def test_explain_every_kind_agrees_with_the_analysis(write_spec):
    model = archcost.load(write_spec(EVERY_KIND))
    rows = {r.name: r for r in model.costs(batch=2).rows}
    explained = {}
    for e in explain(model, "*", batch=2):
        explained.update({r.name: r for r in e.rows} if e.rows else {e.name: e})
    assert set(explained) == set(rows)
    for name, row in rows.items():
        e = explained[name]
        assert e.value("params") == row.params, name
        assert e.value("macs") == row.macs, name
        assert e.value("flops") == row.flops, name
        assert e.value("memory") == row.memory_access, name
        assert e.value("activations") == row.activations, name


def test_explain_grouped_is_one_over_g_and_glob(capsys, write_spec):
    path = write_spec(EVERY_KIND)
    code, out, _ = text_of(capsys, "explain", str(path), "g*")
    assert code == 0
    assert "vs standard the one-group conv (3× this) = 12·(3·3·12)·(6·6) = 46,656" in out
    assert "12·(3·3·4)·(6·6) = 15,552" in out


def test_explain_unknown_layer_suggests(capsys, write_spec):
    code, _, err = text_of(capsys, "explain", str(write_spec(EVERY_KIND)), "sepp")
    assert code == 2
    assert "no layer matches 'sepp'" in err and "Did you mean 'sep'" in err


STANDARD_NET = """
archcost: 1
name: plain
input: [3, 32, 32]
layers:
  - {name: c1, type: conv, out: 24, kernel: 3, padding: 1}
  - {type: relu}
  - {name: c2, type: conv, out: 48, kernel: 5, stride: 2, padding: 2, bias: false}
  - {type: batchnorm}
  - {name: c3, type: conv, out: 96, kernel: 3, padding: 1}
  - {name: p1, type: pointwise_conv, out: 96}
  - {type: global_avgpool}
  - {type: linear, out: 10}
"""


def test_whatif_separable_saves_1_over_n_plus_1_over_k2(write_spec):
    model = archcost.load(write_spec(STANDARD_NET))
    result = rewrite(model, "separable")
    applied = {c.name: c for c in result.changes if c.applied}
    assert set(applied) == {"c1", "c2", "c3"}
    for name, (n_out, k) in {"c1": (24, 3), "c2": (48, 5), "c3": (96, 3)}.items():
        c = applied[name]
        assert Fraction(c.macs_after, c.macs_before) == Fraction(1, n_out) + Fraction(1, k * k)


@pytest.mark.parametrize("groups", [2, 4], ids=lambda g: f"g{g}")
def test_whatif_grouped_is_one_over_g_and_skips_with_reasons(write_spec, groups):
    model = archcost.load(write_spec(STANDARD_NET))
    result = rewrite(model, f"grouped:{groups}")
    applied = [c for c in result.changes if c.applied]
    skipped = {c.name: c.reason for c in result.changes if not c.applied}
    assert "c1" in skipped and "in_channels=3" in skipped["c1"]
    assert "p1" not in skipped        # a 1x1 conv is pointwise-grouped's business, not grouped's
    assert {c.name for c in applied} == {"c2", "c3"}
    for c in applied:
        assert Fraction(c.macs_after, c.macs_before) == Fraction(1, groups)


def test_whatif_yaml_round_trips_and_validates(write_spec, tmp_path, capsys):
    path = write_spec(STANDARD_NET)
    out = tmp_path / "shuffled.yaml"
    code = main(["whatif", str(path), "--rewrite", "shuffled:4", "--only", "c[23]", "-o", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "skipped" not in text            # --only keeps c1 out of the rule's way
    reloaded = archcost.load(out)
    result = rewrite(archcost.load(path), "shuffled:4", only="c[23]")
    assert reloaded.totals == result.after.totals
    assert "c2.shuffle" in reloaded.layers and reloaded.nodes["c2.shuffle"].kind == "channel_shuffle"
    assert validate(reloaded, seed=2).ok
    # the rewrite changed only what it said: the rest of the rows are identical
    before = {r.name: r for r in archcost.load(path).costs().rows}
    for row in reloaded.costs().rows:
        if row.name in before and not row.name.startswith(("c2", "c3")):
            assert row.macs == before[row.name].macs and row.params == before[row.name].params


@pytest.mark.parametrize("rule", ["separable", "spatial", "pointwise-grouped:2"])
def test_every_rule_validates_numerically(write_spec, rule):
    result = rewrite(archcost.load(write_spec(STANDARD_NET)), rule)
    assert any(c.applied for c in result.changes)
    assert validate(result.after, seed=0).ok


@pytest.mark.parametrize("rule,words", [("separabel", "Did you mean 'separable'"),
                                        ("grouped", "needs a group count"),
                                        ("grouped:1", "integer >= 2"),
                                        ("pointwise-grouped:7", "applies to no layer")])
def test_whatif_bad_rules_exit_2(write_spec, capsys, rule, words):
    code, _, err = text_of(capsys, "whatif", str(write_spec(STANDARD_NET)), "--rewrite", rule)
    assert code == 2 and words in err


def test_composite_total_is_the_sum_of_its_rows():
    """standard_vs_separable: 3x7x7 input, 3x3 kernel, 128 filters, no padding: 5x5 out.
    Depthwise 3·9·25 = 675, pointwise 128·3·25 = 9,600, together 10,275; the standard
    conv it replaces 128·27·25 = 86,400 (hand arithmetic, as in the spec's header)."""
    e = archcost.load(EXAMPLES / "standard_vs_separable.yaml").explain("separable")[0]
    assert (e.value("depthwise"), e.value("pointwise")) == (675, 9_600)
    assert e.value("total") == 10_275
    assert e.value("standard") == 86_400
