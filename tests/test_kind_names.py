"""Kind names and string values in specs: ``type: "${act}"``, string-valued expressions,
string knobs and block args, aliases (silu, hardswish, hardsigmoid), and the
did-you-mean for framework names with the full list of kinds."""

from __future__ import annotations

import pytest

import archcost
from archcost.cli import main
from archcost.errors import SpecError
from archcost.expressions import render
from archcost.layers import REGISTRY

SPEC = """
archcost: 1
name: acts
input: [3, 8, 8]
params: {hs: true, act: relu}
blocks:
  unit:
    args: {act: relu6}
    layers:
      - {name: conv, type: conv, out: 4, kernel: 3, padding: 1}
      - {name: act, type: "${act}"}
layers:
  - {name: u1, use: unit, act: "${'hswish' if hs else 'relu'}"}
  - {name: u2, use: unit}
  - {name: u3, use: unit, act: sigmoid}
  - {name: top, type: "${act}"}
  - {name: a1, type: silu}
  - {name: a2, type: hardswish}
  - {name: a3, type: hardsigmoid}
  - {name: sel, type: "${'gelu' if act == 'relu' else 'tanh'}"}
"""


def kinds(model: archcost.Model) -> dict[str, str]:
    return {n: model.nodes[n].kind for n in model.layers}


def test_type_expressions_string_args_and_aliases(write_spec):
    got = kinds(archcost.load(write_spec(SPEC)))
    assert got["u1.act"] == "hswish"          # string-valued conditional, as a block arg
    assert got["u2.act"] == "relu6"           # a block arg's string default
    assert got["u3.act"] == "sigmoid"         # a plain string block arg
    assert got["top"] == "relu"               # a string knob
    assert (got["a1"], got["a2"], got["a3"]) == ("swish", "hswish", "hsigmoid")
    assert got["sel"] == "gelu"               # string comparison
    knobbed = kinds(archcost.load(write_spec(SPEC), hs=False, act="tanh"))
    assert (knobbed["u1.act"], knobbed["top"], knobbed["sel"]) == ("relu", "tanh", "tanh")


def test_alias_costs_like_its_kind(write_spec):
    m = archcost.load(write_spec(SPEC))
    rows = {r.name: r for r in m.costs().rows}
    # swish: 2 FLOPs per element (x·sigmoid(x)) over 4·8·8 elements
    assert rows["a1"].flops == 2 * 256


def test_string_expressions():
    assert render("${'a' if x > 1 else 'b'}", {"x": 2}) == "a"
    assert render("${s == 'relu'}", {"s": "relu"}) is True
    with pytest.raises(SpecError, match="cannot order"):
        render("${s < 3}", {"s": "relu"})
    with pytest.raises(SpecError, match="expected a number"):
        render("${s + 1}", {"s": "relu"})
    with pytest.raises(SpecError, match="expected a number"):
        render("${'a' * 1000}", {})


@pytest.mark.parametrize("written,meant", [
    ("ReLU", "relu"), ("bn", "batchnorm"), ("BatchNorm2d", "batchnorm"), ("fc", "linear"),
    ("dense", "linear"), ("Dense", "linear"), ("gap", "global_avgpool"), ("Conv2d", "conv"),
    ("ConvTranspose2d", "transposed_conv"), ("deconv", "transposed_conv"),
    ("Upsample", "upsample"), ("GELU", "gelu"), ("LayerNorm", "layernorm"),
    ("SiLU", "swish"), ("Hardswish", "hswish"), ("MaxPool2d", "maxpool"),
])
def test_framework_names_get_a_suggestion_and_every_kind(written, meant, write_spec, capsys):
    path = write_spec(f"""
        archcost: 1
        name: bad
        input: [3, 8, 8]
        layers:
          - {{type: {written}}}
    """)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"unknown layer kind '{written}'" in err
    assert f"Did you mean '{meant}'?" in err
    for kind in REGISTRY:                          # the list is never cut
        assert kind in err
    assert "Traceback" not in err


def test_type_must_be_a_string(write_spec, capsys):
    path = write_spec("""
        archcost: 1
        name: bad
        input: [3, 8, 8]
        params: {n: 3}
        layers:
          - {type: "${n}"}
    """)
    assert main(["analyze", str(path)]) == 2
    assert "'type' must name a layer kind, got 3" in capsys.readouterr().err


# --------------------------------------------------------- every independent error at once

def test_every_independent_error_in_one_run(write_spec, capsys):
    path = write_spec("""
        archcost: 1
        name: bad
        input: [3, 32, 32]
        blocks:
          unit:
            layers:
              - {type: conv, out: 8, kernel: 3}
              - {type: ReLU}
        layers:
          - {name: a, type: conv, out: 8, kernel: 3}
          - {name: b, type: bn}
          - {name: c, type: conv, out: 8, kernal: 3}
          - {name: u, use: unit}
          - {name: e, type: maxpool, kernel: 40, inputs: input}
          - {name: after_e, type: conv, out: 4, kernel: 99, inputs: e}
          - {name: f, type: add, inputs: [a, input]}
    """)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("archcost: error:")]
    assert len(lines) == 5, err
    assert "net.yaml:8: layer 'u.ReLU1'" in err                 # inside the block
    assert "net.yaml:11: layer 'b': unknown layer kind 'bn'" in err
    assert "net.yaml:12: layer 'c' (conv): unknown field 'kernal'" in err
    assert "net.yaml:14: layer 'e' (maxpool)" in err
    assert "net.yaml:16: layer 'f' (add): add needs inputs of one shape" in err
    assert "after_e" not in err            # fed by a failed layer: its error would repeat
    assert "Traceback" not in err


def test_errors_are_capped(write_spec, capsys):
    layers = "\n".join(f"          - {{type: nosuchkind{i}}}" for i in range(40))
    path = write_spec(f"""
        archcost: 1
        name: bad
        input: [3, 8, 8]
        layers:
{layers}
    """)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("archcost: error:")]
    assert len(lines) == 21 and "stopped after 20 errors" in lines[-1]


def test_one_error_is_reported_as_before(write_spec):
    path = write_spec("""
        archcost: 1
        name: bad
        input: [3, 8, 8]
        layers:
          - {type: relu}
          - {type: conv, out: 4, kernel: 9}
    """)
    with pytest.raises(SpecError) as info:
        archcost.load(path)
    assert type(info.value).__name__ == "ShapeError"
    assert "larger than the padded input" in str(info.value)


def test_the_list_of_kinds_is_given_once_per_run(write_spec, capsys):
    path = write_spec("""
        archcost: 1
        name: bad
        input: [3, 8, 8]
        layers:
          - {type: bn}
          - {type: fc}
    """)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("transposed_conv") == 1
    assert "Did you mean 'linear'? (The kinds are listed above.)" in err
