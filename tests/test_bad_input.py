"""One test per class of bad input: exit code 2, the key words, no traceback, nothing written."""

from __future__ import annotations

import pytest

from archcost.cli import main

HEAD = "archcost: 1\nname: bad\ninput: [3, 32, 32]\n"

CASES = [
    ("unknown-kind", HEAD + "layers:\n  - {type: convv, out: 8, kernel: 3}\n",
     ["unknown layer kind 'convv'", "Did you mean 'conv'", "net.yaml:5"]),
    ("unknown-field", HEAD + "layers:\n  - {type: conv, out: 8, kernal: 3}\n",
     ["unknown field 'kernal'", "Did you mean 'kernel'"]),
    ("missing-field", HEAD + "layers:\n  - {type: conv, out: 8}\n",
     ["missing required field 'kernel'", "layer 'conv1'"]),
    # grouped_conv requires groups (no default: a grouped
    # conv of one group is a plain conv, so leaving groups out is a mistake, not a choice).
    ("grouped-without-groups", HEAD + "layers:\n  - {type: grouped_conv, out: 8, kernel: 3}\n",
     ["missing required field 'groups'", "grouped_conv"]),
    ("groups-divide", HEAD + "layers:\n  - {type: conv, out: 30, kernel: 1}\n"
                             "  - {name: g3, type: grouped_conv, out: 32, kernel: 3, groups: 4}\n",
     ["layer 'g3' (grouped_conv)", "in_channels=30 is not divisible by groups=4", "1, 2, 3, 5"]),
    ("kernel-too-large", HEAD + "layers:\n  - {type: conv, out: 8, kernel: 33}\n",
     ["larger than the padded input", "net.yaml:5"]),
    ("zero-output", HEAD + "layers:\n  - {type: maxpool, kernel: 40}\n",
     ["larger than the padded input"]),
    ("add-mismatch", HEAD + "layers:\n  - {name: a, type: conv, out: 8, kernel: 3}\n"
                            "  - {name: s, type: add, inputs: [a, input]}\n",
     ["add needs inputs of one shape", "[8x30x30]", "[3x32x32]", "layer 's'"]),
    ("concat-mismatch", HEAD + "layers:\n  - {name: a, type: conv, out: 8, kernel: 3, stride: 2}\n"
                               "  - {type: concat, inputs: [a, input]}\n",
     ["concat needs the same spatial size"]),
    ("undefined-input", HEAD + "layers:\n  - {name: a, type: relu}\n  - {type: add, inputs: [a, bb]}\n",
     ["undefined input name 'bb'"]),
    ("cycle", HEAD + "layers:\n  - {name: a, type: add, inputs: [input, b]}\n"
                     "  - {name: b, type: relu, inputs: a}\n",
     ["cycle", "a -> b -> a"]),
    ("duplicate-name", HEAD + "layers:\n  - {name: a, type: relu}\n  - {name: a, type: relu}\n",
     ["duplicate name 'a'"]),
    ("unknown-param", HEAD + "params: {width: 1.0}\nlayers:\n  - {type: conv, out: '${32 * widht}', kernel: 3}\n",
     ["unknown name 'widht'", "Did you mean 'width'"]),
    ("wrong-type", HEAD + "layers:\n  - {type: conv, out: eight, kernel: 3}\n",
     ["field 'out' expects an integer", "'eight'"]),
    ("non-integral", HEAD + "layers:\n  - {type: conv, out: '${32 * 0.7}', kernel: 3}\n",
     ["expects an integer", "22.4", "make_divisible"]),
    ("empty", "", ["the document is empty"]),
    ("non-mapping", "- a\n- b\n", ["a spec must be a mapping"]),
    ("wrong-version", "archcost: 2\nname: x\ninput: [3, 8, 8]\nlayers: [{type: relu}]\n",
     ["unsupported format version"]),
    ("yaml-syntax", HEAD + "layers:\n  - {type: conv, out: 8\n", ["YAML syntax error", "net.yaml:"]),
    ("python-tag", HEAD + "layers: !!python/object/apply:os.system ['echo pwned']\n",
     ["YAML tag", "not allowed"]),
    ("eval-escape", HEAD + "layers:\n  - {type: conv, out: \"${__import__('os').getpid()}\", kernel: 3}\n",
     ["not allowed"]),
    ("attribute-escape", HEAD + "params: {w: 1}\nlayers:\n  - {type: conv, out: '${w.__class__}', kernel: 3}\n",
     ["'Attribute' is not allowed"]),
    ("alias-bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
     ["alias bomb"]),
    ("recursive-alias", "archcost: 1\nname: r\ninput: [3, 8, 8]\nlayers: &l [*l]\n",
     ["recursive YAML alias"]),
    ("huge-repeat", HEAD + "layers:\n  - {type: relu, repeat: 100000000}\n",
     ["repeat: 100,000,000", "refused"]),
    ("huge-power", HEAD + "layers:\n  - {type: conv, out: '${10 ** 10 ** 10}', kernel: 3}\n",
     ["too large"]),
    ("linear-not-flat", HEAD + "layers:\n  - {type: linear, out: 10}\n",
     ["linear needs a flat input", "flatten"]),
    ("unknown-block", HEAD + "layers:\n  - {use: bottle}\n", ["unknown block 'bottle'"]),
    ("block-missing-arg", HEAD + "blocks:\n  b: {args: {out: null}, layers: [{type: conv, out: '${out}', kernel: 1}]}\n"
                                 "layers:\n  - {use: b}\n", ["needs the arg 'out'"]),
    ("block-recursion", HEAD + "blocks:\n  b: {layers: [{use: b}]}\nlayers:\n  - {use: b}\n",
     ["uses itself"]),
    ("missing-include", HEAD + "include: nope.yaml\nlayers:\n  - {type: relu}\n",
     ["included file 'nope.yaml' does not exist"]),
    ("unknown-top-key", HEAD + "layer:\n  - {type: relu}\n", ["unknown top-level key 'layer'"]),
    ("split-port", HEAD + "layers:\n  - {name: s, type: channel_split, sections: [1, 2]}\n  - {type: relu, inputs: s}\n",
     ["has 2 outputs", "s:0", "net.yaml:6: layer 'relu1'"]),
    ("no-such-port", HEAD + "layers:\n  - {name: s, type: channel_split, sections: [1, 2]}\n  - {type: relu, inputs: 's:2'}\n",
     ["'s' has 2 output(s); there is no output 2", "layer 'relu1'"]),
    # Text fields with a fixed set of values are typed Literal[...]: the converter refuses
    # anything else with the choices and the nearest one.
    ("gelu-approximate", HEAD + "layers:\n  - {type: gelu, approximate: tahn}\n",
     ["field 'approximate' expects 'none' or 'tanh', got 'tahn'", "Did you mean 'tanh'",
      "net.yaml:5"]),
    ("upsample-mode", HEAD + "layers:\n  - {type: upsample, scale: 2, mode: bilinar}\n",
     ["field 'mode' expects 'nearest' or 'bilinear' or 'trilinear', got 'bilinar'",
      "Did you mean 'bilinear'"]),
    ("pad-mode", HEAD + "layers:\n  - {type: pad, padding: 1, mode: reflct}\n",
     ["field 'mode' expects 'constant' or 'reflect' or 'replicate', got 'reflct'",
      "Did you mean 'reflect'"]),
    ("padding-word", HEAD + "layers:\n  - {type: conv, out: 8, kernel: 3, padding: sme}\n",
     ["field 'padding' expects", "'same' or 'valid'", "Did you mean 'same'"]),
]


@pytest.mark.parametrize("text,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec_exits_2_with_message(write_spec, capsys, tmp_path, text, words):
    path = write_spec(text)
    html = tmp_path / "out.html"
    code = main(["analyze", str(path), "--format", "json", "--html", str(html)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("archcost: error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    assert out == ""
    assert not html.exists()


def test_unknown_set_param(write_spec, capsys):
    path = write_spec(HEAD + "params: {width: 1.0}\nlayers:\n  - {type: relu}\n")
    assert main(["analyze", str(path), "--set", "widht=0.5"]) == 2
    err = capsys.readouterr().err
    assert "unknown param 'widht'" in err and "Did you mean 'width'" in err


def test_set_wrong_type(write_spec, capsys):
    path = write_spec(HEAD + "params: {width: 1.0}\nlayers:\n  - {type: relu}\n")
    assert main(["analyze", str(path), "--set", "width=wide"]) == 2
    assert "param 'width' expects a value like 1.0" in capsys.readouterr().err


def test_missing_file(capsys, tmp_path):
    assert main(["analyze", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_traceback_flag_shows_the_stack(write_spec):
    path = write_spec(HEAD + "layers:\n  - {type: convv}\n")
    from archcost.errors import SpecError
    with pytest.raises(SpecError, match="unknown layer kind"):
        main(["--traceback", "analyze", str(path)])


def test_tag_never_runs_code(write_spec, tmp_path):
    marker = tmp_path / "pwned"
    path = write_spec(HEAD + f"layers: !!python/object/apply:os.system ['touch {marker}']\n")
    assert main(["analyze", str(path)]) == 2
    assert not marker.exists()


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--batch", "4"], "--batch"),
        (["--seed", "3"], "--seed"),
        (["--max-memory", "1G"], "--max-memory"),
        (["--device", "jetson-nano-fp32"], "--device"),
        (["--batch", "2", "--seed", "1"], "--batch, --seed"),
    ],
)
def test_bench_onnxruntime_refuses_the_numpy_only_options(capsys, extra, named):
    # onnxruntime times the model at batch 1 with seed 0 and has no roofline estimate:
    # these options would be silently ignored, so they are refused before any work.
    argv = ["bench", "specs/examples/shufflenet_unit.yaml", "--runtime", "onnxruntime"]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"archcost: error: {named}: only for --runtime numpy")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, where",
    [
        (["analyze", "specs/mobilenet_v1.yaml", "--set", "width="], "--set"),
        (["analyze", "specs/mobilenet_v1.yaml", "--set", "width= "], "--set"),
        (["compare", "specs/mobilenet_v1.yaml@width=", "mobilenet_v2"],
         "model argument 'specs/mobilenet_v1.yaml@width='"),
    ],
)
def test_an_empty_knob_value_is_refused_the_same_way_on_both_paths(capsys, argv, where):
    # --set width= used to pass "" on to the spec; spec.yaml@width= refused it.
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"archcost: error: {where}: knob 'width' has an empty value.")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
