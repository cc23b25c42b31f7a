"""archcost.kernels against independent oracles (tests/oracle.py, scipy.signal).

Every conv variant runs through every method that applies to it; each result is
compared with the naive loop, and each multiplication tally with the closed form
``N·C_out·(C_in/g)·k·out``, computed here.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcost import kernels
from oracle import conv_naive, conv_out, pool_naive, pool_out

TOL = dict(rtol=1e-4, atol=1e-5)


@dataclass(frozen=True)
class Case:
    id: str
    n: int
    c_in: int
    c_out: int
    spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...] | None = None
    pads: tuple[tuple[int, int], ...] | None = None
    dilation: tuple[int, ...] | None = None
    groups: int = 1
    pad_value: float = 0.0
    bias: bool = True

    @property
    def geometry(self) -> dict:
        nd = len(self.spatial)
        return dict(stride=self.stride or (1,) * nd, padding=self.pads or ((0, 0),) * nd,
                    dilation=self.dilation or (1,) * nd, groups=self.groups)

    def arrays(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((self.n, self.c_in, *self.spatial), dtype=np.float32)
        w = rng.standard_normal((self.c_out, self.c_in // self.groups, *self.kernel),
                                dtype=np.float32)
        b = rng.standard_normal(self.c_out, dtype=np.float32) if self.bias else None
        return x, w, b

    def out_spatial(self) -> tuple[int, ...]:
        g = self.geometry
        return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, k, s, (lo, hi), d
                     in zip(self.spatial, self.kernel, g["stride"], g["padding"], g["dilation"]))

    def macs(self) -> int:
        """Closed form: N·C_out·(C_in/g)·prod(kernel)·prod(out)."""
        return (self.n * self.c_out * (self.c_in // self.groups) * math.prod(self.kernel)
                * math.prod(self.out_spatial()))


P1, P0 = ((1, 1), (1, 1)), ((0, 0), (0, 0))
CASES = [
    Case("3x3-pad1", 2, 3, 4, (6, 7), (3, 3), pads=P1),
    Case("no-pad", 1, 2, 3, (5, 5), (3, 3)),
    Case("asym-pad", 1, 3, 2, (5, 6), (3, 3), pads=((0, 2), (1, 0))),
    Case("pad-value", 1, 2, 3, (4, 5), (3, 3), pads=((2, 1), (1, 2)), pad_value=-1.5),
    Case("stride2", 2, 3, 4, (7, 6), (3, 3), stride=(2, 2), pads=P1),
    Case("stride-rect-kernel", 1, 2, 3, (7, 6), (3, 2), stride=(2, 1), pads=((1, 0), (0, 1))),
    Case("dilation2", 1, 2, 3, (7, 8), (3, 3), pads=((2, 2), (1, 2)), dilation=(2, 2)),
    Case("dilation-stride", 1, 2, 2, (9, 8), (2, 3), stride=(2, 3), dilation=(3, 1)),
    Case("groups2", 2, 4, 6, (5, 6), (3, 3), pads=P1, groups=2),
    Case("groups3-stride", 1, 6, 3, (6, 6), (2, 2), stride=(2, 2), pads=((0, 1), (1, 0)),
         groups=3),
    Case("depthwise", 2, 4, 4, (6, 5), (3, 3), pads=P1, groups=4),
    Case("depthwise-s2-dil-padval", 1, 3, 3, (8, 7), (3, 3), stride=(2, 2),
         pads=((2, 1), (0, 2)), dilation=(2, 1), groups=3, pad_value=0.5),
    Case("depthwise-mult3", 1, 3, 9, (5, 6), (3, 3), pads=P1, groups=3),
    Case("depthwise-5x5-nobias", 1, 4, 4, (7, 7), (5, 5), pads=((2, 2), (2, 2)), groups=4,
         bias=False),
    Case("pointwise", 2, 5, 3, (4, 3), (1, 1)),
    Case("pointwise-grouped", 1, 6, 4, (3, 4), (1, 1), groups=2),
    Case("1x1-stride2", 1, 4, 3, (5, 6), (1, 1), stride=(2, 2)),
    Case("1x1-padded", 1, 2, 3, (3, 3), (1, 1), pads=((1, 0), (0, 1)), pad_value=2.0),
    Case("single-in-channel", 1, 1, 3, (5, 5), (3, 3), pads=P1),
    Case("many-ch-small-img", 1, 16, 8, (3, 3), (3, 3), pads=P1),
    Case("3d-pad1", 1, 2, 3, (4, 5, 5), (3, 3, 3), pads=((1, 1),) * 3),
    Case("3d-asym-stride-dil", 1, 2, 2, (5, 6, 7), (2, 3, 2), stride=(1, 2, 2),
         pads=((0, 1), (1, 0), (2, 1)), dilation=(2, 1, 2), pad_value=0.25),
    Case("3d-groups2", 2, 4, 2, (3, 4, 4), (1, 3, 3), pads=((0, 0), (1, 1), (1, 1)), groups=2),
    Case("3d-depthwise-mult2", 1, 2, 4, (4, 4, 5), (3, 3, 3), stride=(2, 1, 2),
         pads=((1, 1),) * 3, groups=2),
    Case("3d-pointwise-grouped", 1, 4, 6, (2, 3, 3), (1, 1, 1), groups=2),
]


def applicable(case: Case) -> list[str]:
    """The conv methods that can run ``case``."""
    g = case.geometry
    methods = ["auto", "im2col_cf", "im2col_cl", "rows"]
    if case.c_in // case.groups == 1:
        methods.append("depthwise")
    if set(case.kernel) == {1} and set(g["stride"]) == {1} and not any(sum(g["padding"], ())):
        methods.append("pointwise")
    return methods


@functools.cache
def naive(case: Case):
    x, w, b = case.arrays()
    g = case.geometry
    return conv_naive(x, w, b, g["stride"], g["padding"], g["dilation"], g["groups"],
                      case.pad_value)


CASE_METHODS = [(c, m) for c in CASES for m in applicable(c)]


@pytest.mark.parametrize("case,method", CASE_METHODS,
                         ids=[f"{c.id}-{m}" for c, m in CASE_METHODS])
def test_conv_matches_naive_loop(case, method):
    x, w, b = case.arrays()
    y, mults = kernels.conv(x, w, b, **case.geometry, pad_value=case.pad_value, method=method)
    expected, naive_mults = naive(case)
    assert y.dtype == np.float32
    assert y.shape == (case.n, case.c_out, *case.out_spatial())
    np.testing.assert_allclose(y, expected, **TOL)
    assert type(mults) is int
    assert mults == naive_mults == case.macs()


def scipy_conv(x, w, b, stride, pads, dilation, groups, pad_value):
    """Conv by scipy.signal.correlate per (input channel, output channel) pair."""
    signal = pytest.importorskip("scipy.signal")
    nd = x.ndim - 2
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), *pads), constant_values=pad_value)
    # Dilate the kernel by inserting zeros between taps.
    wd = np.zeros((*w.shape[:2], *(d * (k - 1) + 1 for k, d in zip(w.shape[2:], dilation))))
    wd[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = w
    cg, cog = x.shape[1] // groups, w.shape[0] // groups
    out = []
    for n in range(x.shape[0]):
        maps = []
        for o in range(w.shape[0]):
            acc = sum(signal.correlate(xp[n, (o // cog) * cg + c], wd[o, c], mode="valid")
                      for c in range(cg))
            maps.append(acc[tuple(slice(None, None, s) for s in stride)]
                        + (0 if b is None else b[o]))
        out.append(maps)
    assert len(out[0][0].shape) == nd
    return np.array(out)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conv_matches_scipy_correlate(case):
    x, w, b = case.arrays(seed=1)
    g = case.geometry
    expected = scipy_conv(x, w, b, g["stride"], g["padding"], g["dilation"], g["groups"],
                          case.pad_value)
    y, _ = kernels.conv(x, w, b, **g, pad_value=case.pad_value)
    np.testing.assert_allclose(y, expected, **TOL)


IMPULSE = [  # kernel, stride, dilation, pads, groups
    ((3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), 1),
    ((3, 2), (2, 1), (1, 2), ((0, 2), (1, 0)), 1),
    ((2, 3), (1, 2), (2, 1), ((1, 0), (0, 1)), 2),
]


IMPULSE_RUNS = [(cfg, m) for cfg in IMPULSE
                for m in ("im2col_cf", "im2col_cl", "rows", "depthwise")
                if m != "depthwise" or cfg[4] == 2]


@pytest.mark.parametrize("config,method", IMPULSE_RUNS,
                         ids=[f"{'x'.join(map(str, c[0]))}-g{c[4]}-{m}" for c, m in IMPULSE_RUNS])
def test_impulse_lands_at_the_offset_formula(config, method):
    """A one-hot input times a one-hot kernel tap lights exactly the output position
    ``pos`` with ``pos·s − lo + tap·d == index`` in every dim (an offset bug moves it)."""
    kernel, stride, dilation, pads, groups = config
    c_in = 2
    shape = (5, 6)
    out = [conv_out(n, k, s, lo, hi, d)
           for n, k, s, (lo, hi), d in zip(shape, kernel, stride, pads, dilation)]
    for index in [(0, 0), (2, 3), (4, 5), (1, 4)]:
        for tap in itertools.product(*(range(k) for k in kernel)):
            x = np.zeros((1, c_in, *shape), np.float32)
            x[(0, c_in - 1, *index)] = 1.0  # the last channel, to catch channel offsets too
            w = np.zeros((c_in, c_in // groups, *kernel), np.float32)
            w[(c_in - 1, c_in // groups - 1, *tap)] = 1.0
            y, _ = kernels.conv(x, w, stride=stride, padding=pads, dilation=dilation,
                                groups=groups, method=method)
            expected = np.zeros((1, c_in, *out), np.float32)
            pos = [(i + lo - t * d) // s for i, (lo, _), t, d, s
                   in zip(index, pads, tap, dilation, stride)]
            if all((i + lo - t * d) % s == 0 and 0 <= p < o for i, (lo, _), t, d, s, p, o
                   in zip(index, pads, tap, dilation, stride, pos, out)):
                expected[(0, c_in - 1, *pos)] = 1.0
            np.testing.assert_array_equal(y, expected, err_msg=f"index={index} tap={tap}")


# ------------------------------------------------------------------------ pooling

POOLS = [  # spatial, kernel, stride, pads, ceil_mode
    ((6, 6), (2, 2), (2, 2), P0, False),
    ((7, 7), (3, 3), (2, 2), P1, False),
    ((5, 5), (2, 2), (2, 2), P0, True),
    ((7, 6), (3, 3), (2, 2), P1, True),
    ((8, 7), (3, 2), (2, 3), ((1, 0), (0, 1)), True),
    ((6, 5), (3, 3), (1, 2), ((1, 1), (0, 0)), False),
    ((5, 6, 7), (2, 3, 3), (2, 2, 2), ((0, 1), (1, 1), (1, 0)), True),
]


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("spatial,kernel,stride,pads,ceil_mode", POOLS,
                         ids=["2x2s2", "3x3s2-pad", "2x2s2-ceil", "3x3s2-pad-ceil",
                              "rect-asym-ceil", "3x3-stride12", "3d-ceil"])
def test_pool_matches_naive_loop(op, spatial, kernel, stride, pads, ceil_mode):
    x = np.random.default_rng(2).standard_normal((2, 3, *spatial), dtype=np.float32) - 3
    y, mults = kernels.pool(x, op, kernel, stride, pads, ceil_mode)
    expected = pool_naive(x, op, kernel, stride, pads, ceil_mode)
    out = [pool_out(n, k, s, lo, hi, ceil_mode)
           for n, k, s, (lo, hi) in zip(spatial, kernel, stride, pads)]
    assert y.shape == expected.shape == (2, 3, *out)
    np.testing.assert_allclose(y, expected, **TOL)
    assert mults == 0


def test_avgpool_ceil_mode_by_hand():
    # 5x5 arange, 2x2 stride 2, ceil_mode: the last row/column windows hold 2 and 1
    # cells, and the divisor counts only those (the ceil cells are not padding).
    x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
    y, _ = kernels.pool(x, "avg", 2, 2, 0, ceil_mode=True)
    expected = [[(0 + 1 + 5 + 6) / 4, (2 + 3 + 7 + 8) / 4, (4 + 9) / 2],
                [(10 + 11 + 15 + 16) / 4, (12 + 13 + 17 + 18) / 4, (14 + 19) / 2],
                [(20 + 21) / 2, (22 + 23) / 2, 24]]
    np.testing.assert_allclose(y[0, 0], expected)


def test_avgpool_counts_explicit_padding_and_maxpool_ignores_it():
    x = np.full((1, 1, 2, 2), -4.0, np.float32)
    avg, _ = kernels.pool(x, "avg", 2, 1, 1)
    mx, _ = kernels.pool(x, "max", 2, 1, 1)
    np.testing.assert_allclose(avg[0, 0], [[-1, -2, -1], [-2, -4, -2], [-1, -2, -1]])
    np.testing.assert_array_equal(mx, np.full((1, 1, 3, 3), -4.0))


# -------------------------------------------------------------- shuffle, dense, etc.


@pytest.mark.parametrize("c,g", [(6, 2), (6, 3), (12, 4), (8, 8), (5, 1)],
                         ids=["6g2", "6g3", "12g4", "8g8", "5g1"])
def test_channel_shuffle_is_a_permutation_undone_by_its_transpose(c, g):
    x = np.random.default_rng(3).standard_normal((2, c, 3, 2), dtype=np.float32)
    y, mults = kernels.channel_shuffle(x, g)
    perm = [i * (c // g) + j for j in range(c // g) for i in range(g)]
    assert sorted(perm) == list(range(c))
    np.testing.assert_array_equal(y, x[:, perm])
    back, _ = kernels.channel_shuffle(y, c // g)
    np.testing.assert_array_equal(back, x)
    assert mults == 0


def test_linear_batchnorm_global_avgpool():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 7), dtype=np.float32)
    w = rng.standard_normal((5, 7), dtype=np.float32)
    b = rng.standard_normal(5, dtype=np.float32)
    y, mults = kernels.linear(x, w, b)
    np.testing.assert_allclose(y, x.astype(np.float64) @ w.T + b, **TOL)
    assert mults == 3 * 7 * 5
    x4 = rng.standard_normal((2, 4, 3, 5), dtype=np.float32)
    gamma, beta, mean = (rng.standard_normal(4, dtype=np.float32) for _ in range(3))
    var = rng.random(4, dtype=np.float32) + 0.5
    y, mults = kernels.batchnorm(x4, gamma, beta, mean, var, 1e-3)
    ref = ((x4 - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3)
           * gamma[:, None, None] + beta[:, None, None])
    np.testing.assert_allclose(y, ref, **TOL)
    assert mults == 0
    y, mults = kernels.global_avgpool(x4)
    np.testing.assert_allclose(y, x4.mean(axis=(2, 3), keepdims=True), **TOL)
    assert y.shape == (2, 4, 1, 1) and mults == 0


def test_activations():
    x = np.linspace(-100, 100, 4001, dtype=np.float32).reshape(1, 1, 4001)
    x64 = x.astype(np.float64)
    sig = 1 / (1 + np.exp(-x64))
    hsig = np.clip(x64 + 3, 0, 6) / 6
    expected = {"relu": np.maximum(x64, 0), "relu6": np.clip(x64, 0, 6), "sigmoid": sig,
                "hsigmoid": hsig, "hswish": x64 * hsig, "swish": x64 * sig,
                "tanh": np.tanh(x64)}
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # extremes are safe
        for name, ref in expected.items():
            y, mults = getattr(kernels, name)(x)
            assert y.dtype == np.float32 and mults == 0, name
            np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6, err_msg=name)
        logits = np.random.default_rng(5).standard_normal((3, 10), dtype=np.float32) * 50
        y, _ = kernels.softmax(logits)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(y, kernels.softmax(logits + 1000)[0], rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------- metamorphic


def conv(x, w, *, stride=1, padding=0, dilation=1, groups=1, **kw):
    return kernels.conv(x, w, stride=stride, padding=padding, dilation=dilation,
                        groups=groups, **kw)


def test_grouped_conv_is_per_group_convs_concatenated():
    x, w, b = Case("g", 2, 6, 9, (5, 5), (3, 3), groups=3).arrays()
    y, mults = conv(x, w, padding=1, groups=3)
    parts = [conv(x[:, 2 * i:2 * i + 2], w[3 * i:3 * i + 3], padding=1, groups=1)
             for i in range(3)]
    np.testing.assert_allclose(y, np.concatenate([p[0] for p in parts], axis=1), **TOL)
    assert mults == sum(p[1] for p in parts)
    # groups=1 is the ordinary conv: every path agrees with the naive loop
    case = Case("g1", 1, 3, 4, (5, 6), (3, 3), pads=P1)
    x, w, b = case.arrays()
    for method in ("im2col_cf", "im2col_cl", "rows"):
        y, mults = conv(x, w, padding=1, method=method)
        np.testing.assert_allclose(y + b[:, None, None], naive(case)[0], **TOL)
    # two groups cost half of the standard conv (docs/design.md's worked checks)
    x, w, _ = Case("h", 1, 4, 4, (6, 6), (3, 3)).arrays()
    assert 2 * conv(x, w[:, :2], groups=2)[1] == conv(x, w)[1]


def test_sobel_kx1_then_1xk_equals_the_outer_product_kernel():
    x = np.random.default_rng(6).standard_normal((1, 1, 5, 5), dtype=np.float32)
    column = np.array([1, 2, 1], np.float32).reshape(1, 1, 3, 1)
    row = np.array([1, 0, -1], np.float32).reshape(1, 1, 1, 3)
    sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(sobel_x[0, 0], np.outer(column.ravel(), row.ravel()))
    mid, m1 = conv(x, column)
    two_step, m2 = conv(mid, row)
    direct, m3 = conv(x, sobel_x)
    np.testing.assert_allclose(two_step, direct, **TOL)
    assert (m1, m2, m3) == (45, 27, 81)  # docs/design.md's worked check: 72 vs 81


def test_depthwise_then_pointwise_equals_the_composed_conv():
    # docs/design.md's worked check: 7x7x3 input, 128 filters 3x3, no padding -> 5x5x128.
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 3, 7, 7), dtype=np.float32)
    dw = rng.standard_normal((3, 1, 3, 3), dtype=np.float32)
    pw = rng.standard_normal((128, 3, 1, 1), dtype=np.float32)
    mid, m_dw = conv(x, dw, groups=3)
    sep, m_pw = conv(mid, pw)
    composed = pw[:, :, 0, 0, None, None] * dw[None, :, 0]  # W[o, c] = pw[o, c]·dw[c]
    full, m_full = conv(x, composed)
    np.testing.assert_allclose(sep, full, **TOL)
    assert (m_dw, m_pw, m_dw + m_pw, m_full) == (675, 9600, 10275, 86400)


# ----------------------------------------------------------------- workspace safety


@pytest.mark.parametrize("case", [c for c in CASES if c.id in {
    "3x3-pad1", "depthwise-mult3", "many-ch-small-img", "pointwise"}], ids=lambda c: c.id)
def test_outputs_survive_later_calls_and_stale_padding(case):
    x, w, b = case.arrays()
    g = case.geometry
    first, _ = kernels.conv(x, w, b, **g, pad_value=case.pad_value)
    kept = first.copy()
    kernels.conv(x * 3, w, b, **g, pad_value=9.0)          # same shapes, dirty workspace
    kernels.conv(x[:, :, :2], w, b, **g)                     # smaller image
    np.testing.assert_array_equal(first, kept)
    again, _ = kernels.conv(x, w, b, **g, pad_value=case.pad_value)
    np.testing.assert_allclose(again, naive(case)[0], **TOL)
    pooled, _ = kernels.pool(x, "max", 2, 1, 1)
    kept = pooled.copy()
    kernels.pool(-x, "max", 2, 1, 1)
    np.testing.assert_array_equal(pooled, kept)


def test_out_argument_and_errors():
    x, w, b = CASES[0].arrays()
    out = np.empty((2, 4, 6, 7), np.float32)
    y, _ = kernels.conv(x, w, b, **CASES[0].geometry, out=out)
    assert y is out
    with pytest.raises(ValueError, match="out must be"):
        kernels.conv(x, w, b, **CASES[0].geometry, out=np.empty((1, 4, 6, 7), np.float32))
    pooled = np.empty((2, 3, 3, 4), np.float32)
    assert kernels.pool(x, "avg", 2, 2, 0, True, out=pooled)[0] is pooled
    dense = np.empty((2, 4), np.float32)
    assert kernels.linear(x.reshape(2, -1), np.ones((4, 126), np.float32), out=dense)[0] is dense
    with pytest.raises(ValueError, match="divisible by groups"):
        conv(x, w, groups=2)
    with pytest.raises(ValueError, match="does not fit"):
        conv(x[:, :, :2], w)
    with pytest.raises(ValueError, match="needs C_in/groups == 1"):
        conv(x, w, method="depthwise")
    with pytest.raises(ValueError, match="unknown method"):
        conv(x, w, method="fft")
    with pytest.raises(ValueError, match="not divisible"):
        kernels.channel_shuffle(x, 2)
    with pytest.raises(ValueError, match="'max' or 'avg'"):
        kernels.pool(x, "min", 2, 2, 0)


# ---------------------------------------------------------------------- properties


@st.composite
def conv_configs(draw):
    nd = draw(st.sampled_from([2, 3]))
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
    spatial = tuple(max(1, d * (k - 1) + 1 - lo - hi) + draw(st.integers(0, 4 if nd == 2 else 2))
                    for k, d, (lo, hi) in zip(kernel, dilation, pads))
    return Case("h", draw(st.integers(1, 2)), c_in, c_out, spatial, kernel, stride, pads,
                dilation, groups, draw(st.sampled_from([0.0, 1.0])))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(conv_configs(), st.sampled_from(["auto", "im2col_cf", "im2col_cl", "depthwise",
                                        "rows"]))
def test_property_shape_and_mults_follow_the_formulas(case, method):
    if method == "depthwise" and case.c_in // case.groups != 1:
        method = "auto"
    x, w, b = case.arrays()
    y, mults = kernels.conv(x, w, b, **case.geometry, pad_value=case.pad_value, method=method)
    assert y.shape == (case.n, case.c_out, *case.out_spatial())
    assert mults == case.macs()
    np.testing.assert_allclose(y, naive(case)[0], **TOL)
