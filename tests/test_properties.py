"""Property tests over random layer configurations (hypothesis), against brute force.

The brute-force counters here walk every output position and every kernel tap; they
share no code with archcost's formulas.
"""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from archcost.layers import REGISTRY
from archcost.layers.base import Shape

# deadline and health checks: the "archcost" profile in conftest.py
PROPERTY = settings(max_examples=60)


def brute_positions(n: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    """Count window starts whose whole (dilated) window lies inside the padded axis."""
    count, start = 0, -lo
    while start + d * (k - 1) <= n + hi - 1:
        count += 1
        start += s
    return count


def brute_conv_mults(c_in: int, c_out: int, groups: int, out: tuple[int, ...],
                     kernel: tuple[int, ...]) -> int:
    """One multiplication per (output channel, output position, input channel of the
    group, kernel tap), counted one by one."""
    mults = 0
    for _oc in range(c_out):
        for _pos in itertools.product(*(range(o) for o in out)):
            for _ic in range(c_in // groups):
                for _tap in itertools.product(*(range(k) for k in kernel)):
                    mults += 1
    return mults


@st.composite
def conv_configs(draw):
    ndim = draw(st.sampled_from([2, 3]))
    groups = draw(st.sampled_from([1, 2, 3]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    pads = [draw(st.integers(0, 2)) for _ in range(2 * ndim)]
    spatial = tuple(draw(st.integers(d * (k - 1) + 1, 7)) for k, d in zip(kernel, dilation))
    return dict(c_in=c_in, c_out=c_out, groups=groups, kernel=kernel, stride=stride,
                dilation=dilation, pads=pads, spatial=spatial)


@PROPERTY
@given(conv_configs(), st.booleans())
def test_conv_shape_macs_params_match_brute_force(cfg, bias):
    layer = REGISTRY["conv"].from_fields(dict(
        out=cfg["c_out"], kernel=list(cfg["kernel"]), stride=list(cfg["stride"]),
        dilation=list(cfg["dilation"]), padding=cfg["pads"], groups=cfg["groups"], bias=bias))
    x = Shape((cfg["c_in"], *cfg["spatial"]))
    out = tuple(brute_positions(n, k, s, cfg["pads"][2 * i], cfg["pads"][2 * i + 1], d)
                for i, (n, k, s, d) in enumerate(zip(cfg["spatial"], cfg["kernel"],
                                                      cfg["stride"], cfg["dilation"])))
    assert layer.out_shape([x]).dims == (cfg["c_out"], *out)
    assert layer.macs([x]) == brute_conv_mults(cfg["c_in"], cfg["c_out"], cfg["groups"], out,
                                               cfg["kernel"])
    weight = cfg["c_out"] * (cfg["c_in"] // cfg["groups"]) * math.prod(cfg["kernel"])
    assert layer.params([x]) == weight + (cfg["c_out"] if bias else 0)


@PROPERTY
@given(st.integers(1, 4), st.integers(1, 3), st.integers(2, 3), st.integers(1, 2),
       st.integers(0, 1), st.integers(3, 9), st.integers(3, 9))
def test_depthwise_matches_brute_force(c, mult, k, s, p, h, w):
    layer = REGISTRY["depthwise_conv"].from_fields(dict(kernel=k, stride=s, padding=p,
                                                        multiplier=mult, bias=False))
    x = Shape((c, h, w))
    out = (brute_positions(h, k, s, p, p, 1), brute_positions(w, k, s, p, p, 1))
    assert layer.out_shape([x]).dims == (c * mult, *out)
    assert layer.macs([x]) == brute_conv_mults(c, c * mult, c, out, (k, k))
    assert layer.params([x]) == c * mult * k * k


@PROPERTY
@given(st.integers(1, 6), st.integers(1, 4), st.integers(2, 10), st.integers(2, 10),
       st.sampled_from([1, 2]))
def test_pointwise_grouped_matches_brute_force(groups, per_group, h, w, s):
    c_in, c_out = groups * per_group, groups * (per_group + 1)
    layer = REGISTRY["pointwise_conv"].from_fields(dict(out=c_out, groups=groups, stride=s))
    x = Shape((c_in, h, w))
    out = (brute_positions(h, 1, s, 0, 0, 1), brute_positions(w, 1, s, 0, 0, 1))
    assert layer.macs([x]) == brute_conv_mults(c_in, c_out, groups, out, (1, 1))
    assert layer.params([x]) == c_out * per_group + c_out


@PROPERTY
@given(st.sampled_from(["maxpool", "avgpool"]), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 1), st.booleans(), st.integers(4, 12))
def test_pool_shape_matches_window_count(kind, k, s, p, ceil_mode, n):
    from hypothesis import assume
    assume(p <= k // 2)
    layer = REGISTRY[kind].from_fields(dict(kernel=k, stride=s, padding=p, ceil_mode=ceil_mode))
    x = Shape((3, n, n))
    if ceil_mode:
        # PyTorch/Caffe, in padded coordinates (input at [p, p + n)): a window starting at
        # i·s is kept while it ends less than one stride past the padded input, and it
        # must start inside the left padding or the input.
        expected = sum(1 for i in range(100)
                       if i * s + k - 1 <= n + 2 * p - 1 + s - 1 and i * s < n + p)
    else:
        expected = brute_positions(n, k, s, p, p, 1)
    assert layer.out_shape([x]).dims == (3, expected, expected)


@PROPERTY
@given(st.integers(1, 64), st.integers(1, 64), st.booleans())
def test_linear_matches_brute_force(features, out, bias):
    layer = REGISTRY["linear"].from_fields(dict(out=out, bias=bias))
    x = Shape((features, 1, 1))
    assert layer.macs([x]) == sum(1 for _ in itertools.product(range(features), range(out)))
    assert layer.params([x]) == features * out + (out if bias else 0)


def test_every_kind_is_registered_once_with_a_docstring():
    assert {"conv", "pointwise_conv", "depthwise_conv", "separable_conv",
            "spatial_separable_conv", "grouped_conv", "channel_shuffle", "batchnorm", "relu",
            "relu6", "sigmoid", "hswish", "hsigmoid", "swish", "tanh", "softmax", "dropout",
            "flatten", "identity", "maxpool", "avgpool", "global_avgpool", "linear", "add",
            "mul", "concat", "channel_split"} <= set(REGISTRY)
    for kind, cls in REGISTRY.items():
        assert cls.kind == kind and cls.__doc__, kind
