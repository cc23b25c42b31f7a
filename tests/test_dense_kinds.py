"""The dense-prediction and ConvNeXt kinds: shape rules and counts against hand
arithmetic (each in a comment), field errors, and execution of a tiny network that uses
every one of them (validate: propagated == executed shapes, analytic == executed MACs).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import archcost
from archcost.errors import SpecError
from archcost.layers import REGISTRY
from archcost.layers.base import Shape


def layer(kind: str, **fields):
    return REGISTRY[kind].from_fields(fields)


# ------------------------------------------------------------------- transposed_conv

def test_unet_upconv_by_hand():
    """U-Net's first up-convolution (Ronneberger et al. 2015, Fig. 1): 1024x28x28 ->
    512x56x56 with a 2x2 kernel at stride 2. out = (28 − 1)·2 + (2 − 1) + 1 = 56;
    params = 1024·512·4 + 512 = 2,097,664; MACs = 1024·512·4·28·28 = 1,644,167,168."""
    up = layer("transposed_conv", out=512, kernel=2, stride=2)
    x = [Shape((1024, 28, 28))]
    assert up.out_shape(x).dims == (512, 56, 56)
    assert up.params(x) == 2_097_664
    assert up.macs(x) == 1_644_167_168
    assert up.flops(x) == 2 * 1_644_167_168 + 512 * 56 * 56


@pytest.mark.parametrize("fields,inp,out", [
    # Dumoulin & Visin, relationship 14's example: i′ = 3, k = 3, s = 2, p = 1 -> 5,
    # and with a = 1 (output_padding) -> 6.
    (dict(kernel=3, stride=2, padding=1), (1, 3, 3), (1, 5, 5)),
    (dict(kernel=3, stride=2, padding=1, output_padding=1), (1, 3, 3), (1, 6, 6)),
    # Relationship 8 (p′ = k − 1): o′ = i′ + (k − 1) = 4 + 2.
    (dict(kernel=3), (1, 4, 4), (1, 6, 6)),
    # 3D, dilation 2 along D: (2 − 1)·1 + 2·(3 − 1) + 1 = 6; H: (3 − 1)·2 + 1 + 1 = 6.
    (dict(kernel=[3, 2, 2], stride=[1, 2, 2], dilation=[2, 1, 1]), (1, 2, 3, 3), (1, 6, 6, 6)),
], ids=["dv-14", "dv-14-a1", "dv-8", "3d-dilated"])
def test_transposed_out_shapes(fields, inp, out):
    assert layer("transposed_conv", out=1, **fields).out_shape([Shape(inp)]).dims == out


@pytest.mark.parametrize("fields,inp,message", [
    (dict(kernel=3, stride=2, output_padding=2), (1, 3, 3), "output_padding"),
    (dict(kernel=2, groups=3), (4, 3, 3), "divisible"),
    (dict(kernel=1, padding=2), (1, 2, 2), "crops away"),
    (dict(kernel=2, padding="same"), (1, 2, 2), "expects an integer or a list"),
])
def test_transposed_conv_errors(fields, inp, message):
    with pytest.raises(SpecError, match=message):
        layer("transposed_conv", out=3, **fields).out_shape([Shape(inp)])


# ---------------------------------------------------------------- upsample, crop, pad

def test_upsample_shapes_and_flops():
    x = [Shape((3, 5, 7))]
    assert layer("upsample", scale=2).out_shape(x).dims == (3, 10, 14)
    assert layer("upsample", scale=[1, 3]).out_shape(x).dims == (3, 5, 21)
    assert layer("upsample", size=[8, 9]).out_shape(x).dims == (3, 8, 9)
    assert layer("upsample", scale=2).flops(x) == 0
    # bilinear: 4 multiplies + 3 adds per output element, 3·10·14 elements.
    assert layer("upsample", scale=2, mode="bilinear").flops(x) == 7 * 420
    # to a second input's size
    assert layer("upsample").out_shape([Shape((3, 5, 7)), Shape((8, 11, 13))]).dims == (3, 11, 13)


@pytest.mark.parametrize("fields,ins,message", [
    (dict(scale=2, size=4), [(1, 4, 4)], "exactly one"),
    (dict(), [(1, 4, 4)], "exactly one"),
    (dict(scale=2, mode="trilinear"), [(1, 4, 4)], "does not fit"),
])
def test_upsample_shape_errors(fields, ins, message):
    with pytest.raises(SpecError, match=message):
        layer("upsample", **fields).out_shape([Shape(s) for s in ins])


@pytest.mark.parametrize("fields,message", [
    (dict(scale=2, mode="bilinar"), "Did you mean 'bilinear'"),
    (dict(scale=2, align_corners=True), "align_corners"),
    (dict(scale=2, mode=3), "expects 'nearest' or 'bilinear' or 'trilinear', got 3"),
])
def test_upsample_field_errors(fields, message):
    with pytest.raises(SpecError, match=message):
        layer("upsample", **fields)


def test_crop_and_pad_shapes():
    assert layer("crop", size=56).out_shape([Shape((128, 64, 64))]).dims == (128, 56, 56)
    two = [Shape((512, 64, 64)), Shape((512, 56, 56))]
    assert layer("crop").out_shape(two).dims == (512, 56, 56)
    with pytest.raises(SpecError, match="only shrinks"):
        layer("crop", size=65).out_shape([Shape((1, 64, 64))])
    assert layer("pad", padding=1).out_shape([Shape((2, 5, 5))]).dims == (2, 7, 7)
    assert layer("pad", padding=[1, 2, 3, 4]).out_shape([Shape((2, 5, 5))]).dims == (2, 8, 12)
    with pytest.raises(SpecError, match="reflect padding must be smaller"):
        layer("pad", padding=5, mode="reflect").out_shape([Shape((2, 5, 5))])
    with pytest.raises(SpecError, match="Did you mean 'replicate'"):
        layer("pad", padding=1, mode="replicat")


# --------------------------------------------------------------------- ConvNeXt kinds

def test_convnext_kinds_counts():
    x = [Shape((96, 56, 56))]
    ln = layer("layernorm")
    assert ln.params(x) == 2 * 96
    # 7 per element + 4 per position: 7·96·56·56 + 4·56·56
    assert ln.flops(x) == 7 * 96 * 3136 + 4 * 3136
    assert layer("scale").params(x) == 96
    assert layer("gelu").flops(x) == 5 * 96 * 3136
    assert layer("gelu", approximate="tanh").flops(x) == 9 * 96 * 3136
    with pytest.raises(SpecError, match="expects 'none' or 'tanh'"):
        layer("gelu", approximate="erf")


# ------------------------------------------------------------------- executed exactly

TINY = """
archcost: 1
name: TinyDense
input: [2, 12, 12]
layers:
  - {name: c1, type: conv, out: 4, kernel: 3}
  - {name: p1, type: maxpool, kernel: 2}
  - {name: up, type: transposed_conv, out: 3, kernel: 2, stride: 2}
  - {name: crop, type: crop, inputs: [c1, up]}
  - {name: cat, type: concat, inputs: [crop, up]}
  - {name: ln, type: layernorm}
  - {name: g, type: gelu}
  - {name: s, type: scale}
  - {name: pad, type: pad, padding: [1, 2], mode: reflect}
  - {name: bil, type: upsample, scale: 2, mode: bilinear, align_corners: true}
  - {name: nn, type: upsample, size: [7, 9]}
  - {name: t2, type: transposed_conv, out: 14, kernel: 3, stride: 2, padding: 1,
     output_padding: 1, groups: 7}
  - {name: tail, type: pad, padding: 1, mode: replicate}
"""


def test_every_new_kind_executes_exactly(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(TINY))
    model = archcost.load(path)
    checks = model.validate()
    assert len(checks) == 13
    assert (checks["propagated_shape"] == checks["executed_shape"]).all()
    assert (checks["macs"] == checks["executed_macs"]).all()
    # By hand: up 4·3·4·25 = 1,200; t2 7 groups of 1 in -> 2 out, 3x3, over 7x9:
    # 7·2·9·63 = 7,938.
    macs = dict(zip(checks["name"], checks["executed_macs"]))
    assert macs["up"] == 1_200 and macs["t2"] == 7_938


# ------------------------------------------------------------ whatif: resize-conv

@pytest.mark.parametrize("fields,spatial", [
    (dict(kernel=3, stride=2, padding=1, output_padding=1), (4, 4)),
    (dict(kernel=2, stride=2), (5, 3)),
    (dict(kernel=4, stride=2, padding=1), (3, 4)),
    (dict(kernel=3, stride=3, dilation=2, output_padding=1), (2, 3)),
    (dict(kernel=[3, 2, 2], stride=[1, 2, 2], padding=[1, 0, 0]), (2, 3, 3)),
])
def test_resize_conv_rewrite_keeps_shape_and_params(write_spec, fields, spatial):
    """A transposed conv and its resize + conv rewrite give the same output shape and
    params; the conv's MACs are C_out·(C_in/g)·k·out (every output pixel), the
    transposed conv's C_in·(C_out/g)·k·in."""
    import json
    layer = json.dumps(dict(fields, name="up", type="transposed_conv", out=6, groups=2))
    path = write_spec(f"""
        archcost: 1
        name: up
        input: [4, {", ".join(map(str, spatial))}]
        layers:
          - {layer}
    """)
    m = archcost.load(path)
    result = m.whatif("resize-conv")
    after = result.after
    out = m.nodes["up"].output_shapes[0]
    assert after.nodes["up.conv"].output_shapes[0] == out
    assert after.totals["params"] == m.totals["params"]
    k = 1
    for v in (fields["kernel"] if isinstance(fields["kernel"], list) else
              [fields["kernel"]] * len(spatial)):
        k *= v
    assert after.totals["macs"] == 6 * (4 // 2) * k * (out.numel // 6)
    checks = after.validate()
    assert (checks["macs"] == checks["executed_macs"]).all()
    assert (checks["propagated_shape"] == checks["executed_shape"]).all()


def test_explain_rows_of_the_resizing_kinds():
    """explain's extra rows, by hand: U-Net's crop of 64 to 56 starts at ⌊(64 − 56)/2⌋ = 4
    (the figure's 4 pixels per side); x2 of 14 is 28; reflect padding [1, 2] on 10 gives
    10 + 1 + 1 = 12 and 10 + 2 + 2 = 14."""
    def rows(layer_, ins):
        return {f.quantity: (f.substituted, f.value) for f in layer_.formulas(ins)}
    crop = rows(layer("crop"), [Shape((512, 64, 64)), Shape((512, 56, 56))])
    assert crop["start[0]"] == ("⌊(64 − 56)/2⌋", 4)
    up = rows(layer("upsample", scale=2), [Shape((3, 7, 14))])
    assert up["out[1]"] == ("14·2", 28)
    pad = rows(layer("pad", padding=[1, 2], mode="reflect"), [Shape((7, 10, 10))])
    assert (pad["out[0]"][1], pad["out[1]"][1]) == (12, 14)


@pytest.mark.parametrize("fields,inp", [
    (dict(out=64, kernel=2, stride=2), (128, 24, 24)),                     # U-Net's up-conv
    (dict(out=8, kernel=3, stride=2, padding=1, output_padding=1), (16, 20, 20)),
    (dict(out=4, kernel=3, stride=3, padding=[2, 0, 0, 0], output_padding=2), (2, 9, 9)),
])
def test_transposed_conv_scratch_bounds_what_the_forward_allocates(fields, inp):
    """tracemalloc's peak over one forward (NumPy reports its buffers to it) stays within
    the declared scratch plus the output, which is what validate's memory estimate adds
    for the layer."""
    import tracemalloc
    tconv = layer("transposed_conv", **fields)
    ins = [Shape(inp)]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, *inp)).astype(np.float32)
    weights = tconv.init_weights(ins, rng)
    tracemalloc.start()
    try:
        y, _ = tconv.forward([x], weights)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    declared = 4 * (tconv.scratch_elements(ins) + tconv.out_shape(ins).numel)
    assert peak <= declared + 64 * 1024, (peak, declared)      # + small temporaries
    assert y.shape == (1, *tconv.out_shape(ins).dims)
