"""The worked checks of docs/design.md, exactly, through the whole pipeline (spec -> totals)."""

from __future__ import annotations

import pytest

import archcost
from archcost.layers.base import conv_out_len


def macs_by_layer(path) -> dict[str, int]:
    return {r.name: r.macs for r in archcost.load(path).costs().rows}


def test_standard_vs_depthwise_separable_7x7x3(write_spec):
    # 7x7x3 input, 128 filters 3x3x3, no padding -> 5x5x128.
    # standard: 128·(3·3·3)·(5·5) = 86,400; separable: 3·9·25 = 675 + 128·3·25 = 9,600.
    path = write_spec("""
        archcost: 1
        name: worked
        input: [3, 7, 7]
        layers:
          - {name: standard, type: conv, out: 128, kernel: 3, bias: false}
          - {name: separable, type: separable_conv, out: 128, kernel: 3, bias: false, inputs: input}
    """)
    macs = macs_by_layer(path)
    assert macs["standard"] == 86_400
    assert macs["separable.dw"] == 675
    assert macs["separable.pw"] == 9_600
    assert macs["separable.dw"] + macs["separable.pw"] == 10_275


def test_sobel_spatially_separable_on_5x5(write_spec):
    # One 3x3 kernel on 5x5 -> 3x3 output: 9·9 = 81. 3x1 then 1x3: 3·(3·5) = 45 + 3·(3·3) = 27.
    path = write_spec("""
        archcost: 1
        name: sobel
        input: [1, 5, 5]
        layers:
          - {name: full, type: conv, out: 1, kernel: 3, bias: false}
          - {name: sobel, type: spatial_separable_conv, out: 1, kernel: 3, bias: false, inputs: input}
    """)
    macs = macs_by_layer(path)
    assert macs["full"] == 81
    assert (macs["sobel.3x1"], macs["sobel.1x3"]) == (45, 27)


@pytest.mark.parametrize("groups", [2, 4, 8, 16], ids=lambda g: f"g{g}")
def test_grouped_costs_one_over_g(write_spec, groups):
    path = write_spec(f"""
        archcost: 1
        name: grouped
        input: [64, 14, 14]
        layers:
          - {{name: standard, type: conv, out: 128, kernel: 3, padding: 1}}
          - {{name: grouped, type: grouped_conv, out: 128, kernel: 3, padding: 1, groups: {groups}, inputs: input}}
    """)
    rows = {r.name: r for r in archcost.load(path).costs().rows}
    assert rows["grouped"].macs * groups == rows["standard"].macs
    # weights shrink by g too; the bias does not
    assert (rows["grouped"].params - 128) * groups == rows["standard"].params - 128


@pytest.mark.parametrize("n_out,k", [(32, 3), (64, 3), (128, 5), (512, 3), (1024, 7)],
                         ids=lambda v: str(v))
def test_separable_over_standard_is_1_over_n_plus_1_over_k2(write_spec, n_out, k):
    from fractions import Fraction
    path = write_spec(f"""
        archcost: 1
        name: ratio
        input: [16, 20, 20]
        layers:
          - {{name: std, type: conv, out: {n_out}, kernel: {k}, padding: same, bias: false}}
          - {{name: sep, type: separable_conv, out: {n_out}, kernel: {k}, padding: same, bias: false, inputs: input}}
    """)
    macs = macs_by_layer(path)
    ratio = Fraction(macs["sep.dw"] + macs["sep.pw"], macs["std"])
    assert ratio == Fraction(1, n_out) + Fraction(1, k * k)


@pytest.mark.parametrize("n,k,s,p,d,expected", [
    (4, 3, 1, 0, 1, 2), (5, 4, 1, 4, 1, 6), (5, 3, 1, 2, 1, 5), (5, 3, 1, 4, 1, 7),
    (5, 3, 2, 0, 1, 2), (5, 3, 2, 2, 1, 3), (6, 3, 2, 2, 1, 3), (7, 3, 1, 0, 2, 3),
], ids=["no-pad", "arbitrary-pad", "half", "full", "strides", "pad-strides", "odd", "dilation"])
def test_output_size_dumoulin_visin(n, k, s, p, d, expected):
    # Dumoulin & Visin's figure captions; p here is the total of both sides.
    assert conv_out_len(n, k, s, p, d) == expected


def test_output_size_8x8_kernel_3x5_padding_0x1_stride_3x4(write_spec):
    # ⌊(8 + 0 − 2 − 1)/3⌋ + 1 = 2 and ⌊(8 + 2 − 4 − 1)/4⌋ + 1 = 2.
    path = write_spec("""
        archcost: 1
        name: size
        input: [1, 8, 8]
        layers:
          - {type: conv, out: 1, kernel: [3, 5], padding: [0, 1], stride: [3, 4]}
    """)
    model = archcost.load(path)
    assert model.costs().rows[0].output_shape == (1, 2, 2)
