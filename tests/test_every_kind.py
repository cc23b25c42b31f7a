"""Every registered kind keeps the whole kind contract (archcost/layers/base.py).

Loops over :data:`archcost.layers.REGISTRY`; a kind missing any part fails here:

* its fields parse from YAML values, and wrong values are refused with a SpecError;
* its output shape equals the shape an independent loop (tests/oracle.py) produces;
* its NumPy forward equals that independent computation, and the multiplications it
  executes equal its analytic ``macs`` (and the oracle's own count, where it has one);
* each explain :class:`Formula`'s substituted text, evaluated here, equals its value,
  and params/MACs/FLOPs formulas equal the counts;
* ``init_weights`` draws exactly the declared weight and buffer tensors;
* a report style (category, colour, glyph) and the ONNX slot exist;
* a kind latency calibration times (``calibration``) draws layers of each kernel type
  it names, which the predictor's kernel typing (from the weight shapes) agrees with.

A new kind joins :data:`EXAMPLES` (fields and input shapes) and :data:`ORACLES` (its
independent computation); the first two tests fail until it does. Nothing here needs
torch.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest

from archcost.errors import SpecError
from archcost.layers import REGISTRY
from archcost.layers.base import Formula, KindStyle, Layer, Shape
from oracle import (ACTIVATIONS, adaptive_avg_naive, add_naive, batchnorm_naive,
                    concat_naive, conv_naive, crop_naive, gelu_naive, layernorm_naive,
                    linear_naive, lrn_naive, mul_naive, pad_naive, pool_naive, shuffle_naive,
                    softmax_naive, split_naive, transposed_conv_naive, unary_naive,
                    upsample_naive)

# kind -> [(id, fields, per-sample input shapes)]
EXAMPLES: dict[str, list[tuple[str, dict, list[tuple[int, ...]]]]] = {
    "conv": [("3x3-s2-p1", dict(out=4, kernel=3, stride=2, padding=1), [(3, 7, 6)]),
             ("same-dilated", dict(out=2, kernel=3, padding="same", dilation=2, stride=2,
                                   bias=False), [(2, 9, 8)]),
             ("asym-padvalue", dict(out=3, kernel=[3, 2], padding=[0, 1, 2, 0], pad_value=0.5),
              [(2, 5, 5)]),
             ("3d", dict(out=2, kernel=[2, 3, 3], padding=[0, 1, 1]), [(2, 3, 4, 4)])],
    "grouped_conv": [("g2", dict(out=4, kernel=3, groups=2, padding=1), [(4, 5, 5)])],
    "pointwise_conv": [("g1", dict(out=5), [(3, 4, 4)]),
                       ("g3-s2", dict(out=6, groups=3, stride=2, bias=False), [(6, 5, 5)])],
    "depthwise_conv": [("m1", dict(kernel=3, padding=1), [(3, 5, 6)]),
                       ("m2-s2", dict(kernel=3, stride=2, multiplier=2, bias=False),
                        [(2, 7, 7)])],
    "separable_conv": [("k3", dict(out=4, kernel=3, padding=1), [(3, 5, 5)])],
    "spatial_separable_conv": [("k3", dict(out=3, kernel=3, padding=1, stride=2),
                                [(2, 6, 6)])],
    "transposed_conv": [("k2-s2", dict(out=3, kernel=2, stride=2), [(2, 3, 3)]),
                        ("k3-s2-p1-op1", dict(out=4, kernel=3, stride=2, padding=1,
                                              output_padding=1, groups=2), [(2, 3, 4)])],
    "linear": [("flat", dict(out=4), [(6,)]), ("c11-nobias", dict(out=3, bias=False),
                                               [(5, 1, 1)])],
    "batchnorm": [("c3", dict(eps=1e-3), [(3, 4, 4)])],
    "layernorm": [("c4", dict(), [(4, 3, 2)])],
    "scale": [("c3", dict(), [(3, 2, 2)])],
    "lrn": [("n3", dict(size=3, alpha=0.1, beta=0.75, k=2.0), [(5, 2, 3)])],
    "unsupported": [("erf", dict(op="Erf", shape=[3, 4, 5]), [(3, 4, 5)])],
    **{kind: [("x", dict(), [(3, 4, 5)])] for kind in ACTIVATIONS},
    "softmax": [("flat", dict(), [(5,)])],
    "gelu": [("erf", dict(), [(3, 4)]), ("tanh", dict(approximate="tanh"), [(2, 5)])],
    "dropout": [("p", dict(p=0.3), [(3, 2, 2)])],
    "identity": [("x", dict(), [(3, 2, 2)])],
    "flatten": [("x", dict(), [(3, 2, 2)])],
    "add": [("three", dict(), [(2, 3, 3)] * 3)],
    "mul": [("same", dict(), [(2, 3, 3)] * 2), ("se", dict(), [(3, 4, 4), (3, 1, 1)])],
    "concat": [("two", dict(), [(2, 3, 3), (3, 3, 3)])],
    "channel_split": [("halves", dict(), [(4, 2, 2)]),
                      ("sizes", dict(sections=[1, 3, 2]), [(6, 2, 2)])],
    "channel_shuffle": [("g3", dict(groups=3), [(6, 2, 2)])],
    "maxpool": [("k3-s2", dict(kernel=3, stride=2), [(2, 7, 7)]),
                ("ceil-pad", dict(kernel=3, stride=2, padding=1, ceil_mode=True), [(2, 6, 5)])],
    "avgpool": [("k2", dict(kernel=2), [(2, 5, 5)]),
                ("ceil-pad", dict(kernel=3, stride=2, padding=1, ceil_mode=True), [(2, 6, 5)])],
    "global_avgpool": [("x", dict(), [(3, 4, 5)])],
    "adaptive_avgpool": [("7to3", dict(out=3), [(2, 7, 5)]),
                         ("to-2x1", dict(out=[2, 1]), [(2, 5, 4)])],
    "upsample": [("nearest-x2", dict(scale=2), [(2, 3, 2)]),
                 ("bilinear-size", dict(size=[5, 4], mode="bilinear"), [(1, 3, 2)]),
                 ("to-input", dict(), [(2, 2, 3), (1, 4, 6)])],
    "crop": [("size", dict(size=3), [(2, 5, 6)]), ("to-input", dict(), [(2, 6, 6), (1, 3, 4)])],
    "pad": [("reflect", dict(padding=[1, 2], mode="reflect"), [(2, 4, 5)]),
            ("constant", dict(padding=1, value=0.5), [(1, 3, 3)])],
}


# -- the independent side: geometry from the fields, then tests/oracle.py -----------
def per_dim(value, nd):
    return tuple(value) if isinstance(value, list | tuple) else (value,) * nd


def pad_pairs(padding, spatial, kernel, stride, dilation):
    """(before, after) per dim, written here: 'same' is TensorFlow's rule (output
    ⌈n/s⌉, the odd cell after)."""
    nd = len(spatial)
    if padding == "valid":
        return ((0, 0),) * nd
    if padding == "same":
        pairs = []
        for n, k, s, d in zip(spatial, kernel, stride, dilation):
            total = max((math.ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0)
            pairs.append((total // 2, total - total // 2))
        return tuple(pairs)
    p = per_dim(padding, nd)
    return tuple((v, v) for v in p) if len(p) == nd else \
        tuple((p[2 * i], p[2 * i + 1]) for i in range(nd))


def conv_oracle(f, xs, w, *, groups=None, depthwise=False):
    x = xs[0]
    nd = x.ndim - 2
    kernel = w["weight"].shape[2:]
    stride, dilation = per_dim(f.get("stride", 1), nd), per_dim(f.get("dilation", 1), nd)
    pads = pad_pairs(f.get("padding", 0), x.shape[2:], kernel, stride, dilation)
    g = x.shape[1] if depthwise else (groups or f.get("groups", 1))
    return conv_naive(x, w["weight"], w.get("bias"), stride, pads, dilation, g,
                      f.get("pad_value", 0.0))


def pool_oracle(op):
    def run(f, xs, w):
        nd = xs[0].ndim - 2
        kernel = per_dim(f["kernel"], nd)
        stride = per_dim(f.get("stride") or f["kernel"], nd)
        pads = pad_pairs(f.get("padding", 0), xs[0].shape[2:], kernel, stride, (1,) * nd)
        return pool_naive(xs[0], op, kernel, stride, pads, f.get("ceil_mode", False)), 0
    return run


def separable_oracle(f, xs, w_rows):
    dw, pw = w_rows
    y, m1 = conv_oracle({**f, "bias": False}, xs, dw, depthwise=True)
    z, m2 = conv_naive(y, pw["weight"], pw.get("bias"))
    return z, m1 + m2


def spatial_separable_oracle(f, xs, w_rows):
    first, second = w_rows
    s = per_dim(f.get("stride", 1), 2)
    p = f.get("padding", 0)
    y, m1 = conv_naive(xs[0], first["weight"], None, (s[0], 1), ((p, p), (0, 0)), (1, 1))
    z, m2 = conv_naive(y, second["weight"], second.get("bias"), (1, s[1]), ((0, 0), (p, p)),
                       (1, 1))
    return z, m1 + m2


def transposed_oracle(f, xs, w):
    nd = xs[0].ndim - 2
    pads = per_dim(f.get("padding", 0), nd)
    return transposed_conv_naive(xs[0], w["weight"], w.get("bias"),
                                 per_dim(f.get("stride", 1), nd), tuple((p, p) for p in pads),
                                 per_dim(f.get("dilation", 1), nd),
                                 per_dim(f.get("output_padding", 0), nd), f.get("groups", 1))


def upsample_oracle(f, xs, w):
    spatial = xs[0].shape[2:]
    nd = len(spatial)
    if len(xs) == 2:
        size = xs[1].shape[2:]
    elif f.get("size") is not None:
        size = per_dim(f["size"], nd)
    else:
        size = tuple(n * s for n, s in zip(spatial, per_dim(f["scale"], nd)))
    mode = "nearest" if f.get("mode", "nearest") == "nearest" else "linear"
    scales = per_dim(f["scale"], nd) if f.get("scale") is not None else None
    return upsample_naive(xs[0], size, mode, f.get("align_corners", False), scales), 0


def sections(f, c):
    s = f.get("sections", 2)
    return [c // s] * s if isinstance(s, int) else list(s)


ORACLES = {
    "conv": conv_oracle,
    "grouped_conv": conv_oracle,
    "pointwise_conv": conv_oracle,
    "depthwise_conv": lambda f, xs, w: conv_oracle(f, xs, w, depthwise=True),
    "separable_conv": separable_oracle,
    "spatial_separable_conv": spatial_separable_oracle,
    "transposed_conv": transposed_oracle,
    "linear": lambda f, xs, w: linear_naive(xs[0], w["weight"], w.get("bias")),
    "batchnorm": lambda f, xs, w: (batchnorm_naive(xs[0], w["gamma"], w["beta"],
                                                   w["running_mean"], w["running_var"],
                                                   f.get("eps", 1e-5)), 0),
    "layernorm": lambda f, xs, w: (layernorm_naive(xs[0], w["gamma"], w["beta"],
                                                   f.get("eps", 1e-6)), 0),
    "scale": lambda f, xs, w: (np.stack([xs[0][:, c] * float(w["gamma"][c])
                                         for c in range(xs[0].shape[1])], axis=1), 0),
    "lrn": lambda f, xs, w: (lrn_naive(xs[0], f["size"], f["alpha"], f["beta"], f["k"]), 0),
    **{kind: (lambda fn: lambda f, xs, w: (unary_naive(xs[0], fn), 0))(fn)
       for kind, fn in ACTIVATIONS.items()},
    "softmax": lambda f, xs, w: (softmax_naive(xs[0]), 0),
    "gelu": lambda f, xs, w: (gelu_naive(xs[0], f.get("approximate", "none")), 0),
    "dropout": lambda f, xs, w: (np.array(xs[0], dtype=np.float64), 0),
    "identity": lambda f, xs, w: (np.array(xs[0], dtype=np.float64), 0),
    "flatten": lambda f, xs, w: (np.array(xs[0], dtype=np.float64).reshape(len(xs[0]), -1), 0),
    "add": lambda f, xs, w: (add_naive(xs), 0),
    "mul": lambda f, xs, w: (mul_naive(xs), 0),
    "concat": lambda f, xs, w: (concat_naive(xs), 0),
    "channel_split": lambda f, xs, w: (split_naive(xs[0], sections(f, xs[0].shape[1])), 0),
    "channel_shuffle": lambda f, xs, w: (shuffle_naive(xs[0], f["groups"]), 0),
    "maxpool": pool_oracle("max"),
    "avgpool": pool_oracle("avg"),
    "global_avgpool": lambda f, xs, w: (adaptive_avg_naive(xs[0], (1,) * (xs[0].ndim - 2)), 0),
    "adaptive_avgpool": lambda f, xs, w: (adaptive_avg_naive(
        xs[0], per_dim(f["out"], xs[0].ndim - 2)), 0),
    "upsample": upsample_oracle,
    # An ONNX op imported with --unsupported zero: a stand-in of zeros, by definition.
    "unsupported": lambda f, xs, w: (np.zeros((len(xs[0]), *f["shape"])), 0),
    "crop": lambda f, xs, w: (crop_naive(xs[0], xs[1].shape[2:] if len(xs) == 2 else
                                         per_dim(f["size"], xs[0].ndim - 2)), 0),
    "pad": lambda f, xs, w: (pad_naive(xs[0], pad_pairs(f["padding"], xs[0].shape[2:], (), (),
                                                        ()),
                                       f.get("mode", "constant"), f.get("value", 0.0)), 0),
}

CASES = [pytest.param(kind, fields, shapes, id=f"{kind}-{cid}")
         for kind in sorted(REGISTRY) for cid, fields, shapes in EXAMPLES.get(kind, [])]
BATCH = 2


def test_every_kind_has_examples_and_an_oracle():
    missing = sorted(set(REGISTRY) - set(EXAMPLES))
    assert not missing, f"add examples for {missing} to EXAMPLES"
    missing = sorted(set(REGISTRY) - set(ORACLES))
    assert not missing, f"add an independent computation for {missing} to ORACLES"


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_style_and_slots(kind):
    cls = REGISTRY[kind]
    style = cls.__dict__.get("style", getattr(cls, "style", None))
    assert isinstance(style, KindStyle), f"{kind}: no KindStyle"
    assert style.category and re.fullmatch(r"#[0-9a-f]{6}", style.color), style
    assert style.glyph in {"circle", "diamond", "square", "triangle-right", "star"}, style
    assert cls.kind == kind and cls.__doc__
    assert callable(cls.to_onnx) and callable(cls.to_torch) and callable(cls.init_weights)


# -- fields --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,fields,shapes", CASES)
def test_fields_parse_and_bad_values_are_refused(kind, fields, shapes):
    cls = REGISTRY[kind]
    layer = cls.from_fields(fields)
    assert isinstance(layer, cls)
    ins = [Shape(s) for s in shapes]
    assert cls.from_fields(layer.fields()).out_shapes(ins) == layer.out_shapes(ins)
    with pytest.raises(SpecError, match="unknown field 'no_such_field'"):
        cls.from_fields({**fields, "no_such_field": 1})
    for name in layer.fields():
        with pytest.raises(SpecError, match=name):
            cls.from_fields({**fields, name: {"a mapping": 1}})
        text_field = isinstance(layer.fields()[name], str)
        if text_field:
            with pytest.raises(SpecError):
                cls.from_fields({**fields, name: "not-a-choice"})


# -- shapes, forward, MACs ------------------------------------------------------------------
def _inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((BATCH, *s)) * 2).astype(np.float32) for s in shapes]


def _run_rows(layer, ins, xs, rng):
    """A composite runs as its rows, in order, each on the previous row's output."""
    rows = layer.expand("x")
    weights, mults, shapes = [], 0, list(ins)
    for _, row in rows:
        w = row.init_weights(shapes, rng)
        weights.append(w)
        y, m = row.forward(xs, w)
        xs = [y]
        mults += m
        shapes = list(row.out_shapes(shapes))
    return xs[0], mults, weights


@pytest.mark.parametrize("kind,fields,shapes", CASES)
def test_forward_shapes_and_macs_match_an_independent_computation(kind, fields, shapes):
    layer = REGISTRY[kind].from_fields(fields)
    ins = [Shape(s) for s in shapes]
    xs = _inputs(shapes, seed=len(kind))
    rng = np.random.default_rng(7)
    if layer.expand("x") is not None:
        got, mults, weights = _run_rows(layer, ins, xs, rng)
        want, oracle_mults = ORACLES[kind](fields, xs, weights)
        macs = sum(row.macs(s) for (_, row), s in zip(layer.expand("x"), _row_shapes(layer, ins)))
    else:
        weights = layer.init_weights(ins, rng)
        assert {k: v.shape for k, v in weights.items()} == \
            {**layer.weight_shapes(ins), **layer.buffer_shapes(ins)}
        got, mults = layer.forward(xs, weights)
        want, oracle_mults = ORACLES[kind](fields, xs, weights)
        macs = layer.macs(ins)
        outs = layer.out_shapes(ins)
        wants = want if isinstance(want, list) else [want]
        assert [s.dims for s in outs] == [tuple(w.shape[1:]) for w in wants], \
            "out_shapes differs from the independent computation's shape"
    gots, wants = (got, want) if isinstance(want, list) else ([got], [want])
    for g, w in zip(gots, wants, strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
    assert mults == BATCH * macs, "executed multiplications differ from the analytic macs"
    if oracle_mults:
        assert oracle_mults == BATCH * macs, "the oracle formed a different number of products"


def _row_shapes(layer, ins):
    shapes, out = list(ins), []
    for _, row in layer.expand("x"):
        out.append(shapes)
        shapes = list(row.out_shapes(shapes))
    return out


# -- formulas -------------------------------------------------------------------------------
def evaluate(text: str) -> Fraction:
    """The formula text as arithmetic, read here without archcost's evaluator: digit
    groups lose their commas, · × and − become Python's, ⌊x⌋/⌈x⌉ floor and ceil."""
    source = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    for a, b in (("·", "*"), ("−", "-"), ("⌊", "floor("), ("⌋", ")"), ("⌈", "ceil("),
                 ("⌉", ")")):
        source = source.replace(a, b)
    assert re.fullmatch(r"[\d\s+\-*/()a-z]*", source) and \
        set(re.findall(r"[a-z]+", source)) <= {"floor", "ceil"}, text
    source = re.sub(r"\d+", lambda m: f"F({m.group()})", source)
    return eval(source, {"__builtins__": {}, "F": Fraction,  # noqa: S307 (checked above)
                         "floor": lambda v: Fraction(math.floor(v)),
                         "ceil": lambda v: Fraction(math.ceil(v))})


@pytest.mark.parametrize("kind,fields,shapes", CASES)
def test_formulas_evaluate_to_their_values(kind, fields, shapes):
    layer = REGISTRY[kind].from_fields(fields)
    ins = [Shape(s) for s in shapes]
    rows = [(layer, ins)] if layer.expand("x") is None else \
        [(row, s) for (_, row), s in zip(layer.expand("x"), _row_shapes(layer, ins))]
    for row, row_ins in rows:
        formulas = row.formulas(row_ins)
        assert all(isinstance(f, Formula) for f in formulas)
        quantities = {f.quantity: f.value for f in formulas}
        assert quantities.get("params") == row.params(row_ins)
        assert quantities.get("macs") == row.macs(row_ins)
        assert quantities.get("flops") == row.flops(row_ins)
        for f in formulas:
            assert evaluate(f.substituted) == f.value, f
        for axis, out in enumerate(row.out_shapes(row_ins)[0].spatial):
            if f"out[{axis}]" in quantities:
                assert quantities[f"out[{axis}]"] == out


# -- latency calibration --------------------------------------------------------------------
CALIBRATED = sorted(kind for kind, cls in REGISTRY.items() if cls.calibration)


@pytest.mark.parametrize("kind", CALIBRATED)
def test_calibration_samples_are_the_kernel_types_they_calibrate(kind):
    import random

    from archcost.costs import CostRow
    from archcost.layers.base import Draw
    from archcost.runtime.calibrate import CHANNELS, SIZES, Config
    from archcost.runtime.predict import kernel_type

    cls = REGISTRY[kind]
    assert cls.calibration.types, kind
    if cls.calibration.after_conv:  # fusion detection builds it with default fields
        assert isinstance(cls(), cls)
    for wanted in cls.calibration.types:
        drawn = 0
        for seed in range(30):
            sample = cls.calibration_sample(wanted, Draw(random.Random(seed), CHANNELS, SIZES))
            if sample is None:
                continue
            layer, ins = sample
            assert type(layer) is cls
            outs = layer.out_shapes(ins)  # a layer that fits its inputs
            row = CostRow(name="x", kind=kind, inputs=(), input_shapes=tuple(x.dims for x in ins),
                          output_shape=outs[0].dims, params=layer.params(ins),
                          macs=layer.macs(ins), flops=0, activations=0, buffers=0,
                          memory_access=Config.of(layer, ins).nbytes)  # a view's copy too
            # the predictor would price this layer with the model calibrated for `wanted`
            assert kernel_type(row, layer) == wanted, (kind, layer, ins)
            drawn += 1
        assert drawn >= 10, f"{kind}: most draws of {wanted} are refused"


def test_every_kernel_type_the_predictor_knows_is_calibrated():
    from archcost.runtime.calibrate import TYPES
    from archcost.runtime.predict import MAC_TYPES

    assert set(MAC_TYPES) <= set(TYPES)
    assert len(TYPES) == len(set(TYPES))  # one kind per kernel type


def test_a_kind_without_parts_fails_the_checks():
    """The loop above catches a kind that forgets its style or its oracle: a minimal
    Layer subclass has neither."""
    class Bare(Layer):
        """bare"""
    assert not isinstance(getattr(Bare, "style", None), KindStyle)
    assert "bare" not in ORACLES


def test_docs_kinds_md_is_generated_from_the_registry():
    from pathlib import Path

    from archcost.layers.doc import render
    path = Path(__file__).resolve().parent.parent / "docs" / "kinds.md"
    assert path.read_text(encoding="utf-8") == render(), \
        "docs/kinds.md is stale: run scripts/gen_kinds_doc.py"
