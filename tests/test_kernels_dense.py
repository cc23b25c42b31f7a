"""archcost.kernels_dense against independent oracles (tests/oracle.py).

The transposed convolution is checked twice: against a naive scatter loop (values and
the count of products formed) and against the identity "transposed conv == conv over
the zero-inserted, padded input with the flipped kernel" run by the naive conv loop.
Its multiplication tally is also compared with the closed form ``N·C_in·(C_out/g)·k·in``
computed here. Resize, crop, pad, layer norm and GELU are compared with loops over
every output position (GELU with the standard library's math.erf).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcost import kernels_dense as kd
from oracle import (crop_naive, gelu_naive, layernorm_naive, pad_naive, transposed_as_conv,
                    transposed_conv_naive, upsample_naive)

TOL = dict(rtol=1e-4, atol=1e-5)


@dataclass(frozen=True)
class TCase:
    id: str
    n: int
    c_in: int
    c_out: int
    spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    output_padding: tuple[int, ...]
    groups: int = 1
    bias: bool = True

    def arrays(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((self.n, self.c_in, *self.spatial), dtype=np.float32)
        w = rng.standard_normal((self.c_in, self.c_out // self.groups, *self.kernel),
                                dtype=np.float32)
        b = rng.standard_normal(self.c_out, dtype=np.float32) if self.bias else None
        return x, w, b

    def geometry(self) -> dict:
        return dict(stride=self.stride, padding=self.pads, dilation=self.dilation,
                    output_padding=self.output_padding, groups=self.groups)


Z2, Z3 = ((0, 0),) * 2, ((0, 0),) * 3
TCASES = [
    TCase("unet-2x2-s2", 1, 4, 2, (3, 3), (2, 2), (2, 2), Z2, (1, 1), (0, 0)),
    TCase("3x3-s1", 2, 2, 3, (4, 5), (3, 3), (1, 1), Z2, (1, 1), (0, 0)),
    TCase("3x3-s2-p1-op1", 1, 3, 2, (4, 4), (3, 3), (2, 2), ((1, 1),) * 2, (1, 1), (1, 1)),
    TCase("4x4-s2-p1", 1, 2, 2, (3, 4), (4, 4), (2, 2), ((1, 1),) * 2, (1, 1), (0, 0)),
    TCase("rect-asym", 1, 2, 3, (3, 4), (3, 2), (2, 3), ((1, 2), (0, 1)), (1, 1), (1, 2)),
    TCase("dilation2", 1, 2, 2, (4, 3), (3, 3), (1, 2), ((2, 1), (1, 1)), (2, 2), (1, 1)),
    TCase("op-past-padding", 1, 2, 2, (3, 3), (3, 3), (3, 3), Z2, (1, 1), (2, 1)),
    TCase("groups2", 2, 4, 6, (3, 4), (3, 3), (2, 2), ((1, 1),) * 2, (1, 1), (0, 1), groups=2),
    TCase("depthwise", 1, 3, 3, (4, 4), (2, 2), (2, 2), Z2, (1, 1), (0, 0), groups=3),
    TCase("big-padding-no-bias", 1, 2, 2, (5, 5), (3, 3), (1, 1), ((3, 3),) * 2, (1, 1),
          (0, 0), bias=False),
    TCase("3d-2x2x2-s2", 1, 2, 3, (2, 3, 2), (2, 2, 2), (2, 2, 2), Z3, (1, 1, 1), (0, 0, 0)),
    TCase("3d-asym-groups", 1, 4, 2, (3, 2, 3), (3, 2, 3), (1, 2, 2), ((1, 1), (0, 0), (1, 2)),
          (2, 1, 1), (1, 1, 0), groups=2),
]


def closed_form_macs(c: TCase) -> int:
    return c.n * c.c_in * (c.c_out // c.groups) * math.prod(c.kernel) * math.prod(c.spatial)


@pytest.mark.parametrize("case", TCASES, ids=lambda c: c.id)
def test_transposed_conv_matches_scatter_loop_and_conv_identity(case):
    x, w, b = case.arrays()
    y, mults = kd.transposed_conv(x, w, b, **case.geometry())
    expected, products = transposed_conv_naive(x, w, b, **case.geometry())
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, **TOL)
    assert mults == products == closed_form_macs(case)
    via_conv = transposed_as_conv(x, w, b, **case.geometry())
    assert via_conv.shape == y.shape
    np.testing.assert_allclose(y, via_conv, **TOL)


@pytest.mark.parametrize("case", TCASES, ids=lambda c: c.id)
def test_transposed_out_length_is_the_formula(case):
    """(n − 1)·s − 2p + d·(k − 1) + output_padding + 1, per dim, for the oracle's shape."""
    x, w, b = case.arrays()
    expected, _ = transposed_conv_naive(x, w, b, **case.geometry())
    got = [kd.transposed_out_length(n, k, s, lo, hi, d, op) for n, k, s, (lo, hi), d, op
           in zip(case.spatial, case.kernel, case.stride, case.pads, case.dilation,
                  case.output_padding)]
    assert tuple(got) == expected.shape[2:]


def test_transposed_conv_is_the_adjoint_of_conv():
    """<conv(u), v> == <u, transposed_conv(v)> with the same weights: a third check,
    independent of both loops (the defining property of the transposed convolution)."""
    from archcost import kernels
    rng = np.random.default_rng(3)
    u = rng.standard_normal((1, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)     # conv: 4 -> 6, groups 2
    y, _ = kernels.conv(u, w, None, stride=(2, 2), padding=((1, 1), (1, 1)),
                        dilation=(1, 1), groups=2)
    v = rng.standard_normal(y.shape).astype(np.float32)
    # Transposed: 6 -> 4, weight (C_in=6, C_out/g=2, k) is the conv's weight as is.
    z, _ = kd.transposed_conv(v, w, None, stride=(2, 2), padding=((1, 1), (1, 1)),
                              dilation=(1, 1), output_padding=(0, 1), groups=2)
    assert z.shape == u.shape
    assert np.isclose(np.vdot(y.astype(np.float64), v), np.vdot(u.astype(np.float64), z),
                      rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(nd=st.integers(1, 3), c_g=st.integers(1, 2), groups=st.integers(1, 2),
       cog=st.integers(1, 2), data=st.data())
def test_transposed_conv_identity_property(nd, c_g, groups, cog, data):
    dims = st.integers(1, 3)
    spatial = tuple(data.draw(dims) for _ in range(nd))
    kernel = tuple(data.draw(dims) for _ in range(nd))
    stride = tuple(data.draw(dims) for _ in range(nd))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(nd))
    op = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    pads = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(nd))
    case = TCase("h", 1, c_g * groups, cog * groups, spatial, kernel, stride, pads, dilation,
                 op, groups)
    out = [kd.transposed_out_length(n, k, s, lo, hi, d, o) for n, k, s, (lo, hi), d, o
           in zip(spatial, kernel, stride, pads, dilation, op)]
    if min(out) < 1:
        return
    x, w, b = case.arrays()
    y, mults = kd.transposed_conv(x, w, b, **case.geometry())
    assert mults == closed_form_macs(case)
    assert_float32_sum_close(y, x, w, b, case)


def assert_float32_sum_close(y, x, w, b, case: TCase) -> None:
    """``y`` (float32) equals the float64 oracle to within the float32 summation bound.

    Each output is a sum of ``n = (C_in/g)·k + 1`` terms (products and the bias). Summed
    in float32 in any order, its error is at most about ``n·eps·Σ|term|`` (Higham's
    ``γ_n``, plus the final rounding), where ``Σ|term|`` is the same transposed conv run
    on ``|x|, |w|, |b|``. A fixed rtol/atol fails on outputs whose terms nearly cancel.
    """
    geometry = case.geometry()
    expected = transposed_as_conv(x, w, b, **geometry)
    magnitude = transposed_as_conv(np.abs(x), np.abs(w), None if b is None else np.abs(b),
                                   **geometry)
    terms = (case.c_in // case.groups) * math.prod(case.kernel) + 1
    bound = terms * np.finfo(np.float32).eps * magnitude
    assert y.shape == expected.shape
    excess = np.abs(y - expected) - bound
    assert (excess <= 0).all(), f"worst error beyond the float32 bound: {excess.max():.3g}"


# ----------------------------------------------------------------------------- upsample

UPSAMPLES = [
    ("nearest-x2", (1, 2, 3, 4), (6, 8), "nearest", False, (2, 2)),
    ("nearest-size-5to7", (1, 2, 5, 3), (7, 4), "nearest", False, None),
    ("nearest-x3-3d", (1, 1, 2, 2, 3), (6, 6, 9), "nearest", False, (3, 3, 3)),
    ("nearest-scale-1.5", (1, 1, 4, 4), (6, 6), "nearest", False, (1.5, 1.5)),
    ("bilinear-x2", (2, 2, 3, 4), (6, 8), "linear", False, (2, 2)),
    ("bilinear-x2-aligned", (1, 2, 3, 4), (6, 8), "linear", True, (2, 2)),
    ("bilinear-size-4to7", (1, 1, 4, 5), (7, 3), "linear", False, None),
    ("bilinear-size-aligned", (1, 1, 4, 5), (7, 3), "linear", True, None),
    ("bilinear-to-1", (1, 1, 3, 3), (1, 2), "linear", True, None),
    ("trilinear-x2", (1, 1, 2, 3, 2), (4, 6, 4), "linear", False, (2, 2, 2)),
]


@pytest.mark.parametrize("shape,size,mode,aligned,scales",
                         [u[1:] for u in UPSAMPLES], ids=[u[0] for u in UPSAMPLES])
def test_upsample_matches_loop(shape, size, mode, aligned, scales):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    ratios = None if scales is None or aligned else [1 / s for s in scales]
    y, mults = kd.upsample(x, size, mode, aligned, ratios)
    assert mults == 0 and y.shape == (*shape[:2], *size)
    np.testing.assert_allclose(y, upsample_naive(x, size, mode, aligned,
                                                 None if aligned else scales), **TOL)


def test_bilinear_x2_by_hand():
    """[0, 4] -> 4 samples without align_corners: sources 0, ¼, ¾, 1¼ (clamped): 0, 1, 3, 4."""
    x = np.array([[[[0.0, 4.0]]]], dtype=np.float32)
    y, _ = kd.upsample(x, (1, 4), "linear", False)
    assert y.ravel().tolist() == [0.0, 1.0, 3.0, 4.0]


# ---------------------------------------------------------------------------- crop, pad


@pytest.mark.parametrize("shape,size", [((1, 2, 64, 64), (56, 56)), ((2, 1, 7, 6), (4, 5)),
                                        ((1, 1, 5, 4, 6), (3, 4, 1))])
def test_crop_matches_loop(shape, size):
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    y, mults = kd.crop(x, size)
    assert mults == 0
    np.testing.assert_array_equal(y, crop_naive(x, size))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
@pytest.mark.parametrize("shape,pads", [((1, 2, 4, 5), ((1, 2), (3, 0))),
                                        ((2, 1, 3, 3, 4), ((1, 1), (0, 2), (2, 3)))])
def test_pad_matches_loop(mode, shape, pads):
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    y, mults = kd.pad(x, pads, mode, 0.5)
    assert mults == 0
    np.testing.assert_array_equal(y, pad_naive(x, pads, mode, 0.5))


# ------------------------------------------------------------------------- ConvNeXt


def test_layernorm_matches_loop():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((2, 5, 3, 4)) * 3 + 1).astype(np.float32)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    y, mults = kd.layernorm(x, gamma, beta, 1e-6)
    assert mults == 0
    np.testing.assert_allclose(y, layernorm_naive(x, gamma, beta, 1e-6), **TOL)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_math_erf(approximate):
    x = np.concatenate([np.linspace(-12, 12, 2001),
                        np.random.default_rng(6).standard_normal(500) * 4]).astype(np.float32)
    y, mults = kd.gelu(x.reshape(1, 1, -1), approximate)
    assert mults == 0
    np.testing.assert_allclose(y.ravel(), gelu_naive(x, approximate), rtol=2e-6, atol=1e-7)


def test_scale_multiplies_each_channel():
    x = np.ones((1, 3, 2, 2), dtype=np.float32)
    y, mults = kd.scale(x, np.array([1e-6, 2.0, -1.0]))
    assert mults == 0
    assert y[0, :, 1, 1].tolist() == pytest.approx([1e-6, 2.0, -1.0])


# ------------------------------------------------------- PyTorch, when it is installed


def test_against_torch_when_installed():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for case in TCASES:
        x, w, b = case.arrays()
        conv = F.conv_transpose2d if len(case.spatial) == 2 else F.conv_transpose3d
        if any(lo != hi for lo, hi in case.pads):
            continue                                    # PyTorch pads symmetrically
        ref = conv(torch.from_numpy(x), torch.from_numpy(w),
                   None if b is None else torch.from_numpy(b), stride=case.stride,
                   padding=[lo for lo, _ in case.pads], output_padding=case.output_padding,
                   groups=case.groups, dilation=case.dilation).numpy()
        np.testing.assert_allclose(kd.transposed_conv(x, w, b, **case.geometry())[0], ref, **TOL)
    for _, shape, size, mode, aligned, scales in UPSAMPLES:
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        tmode = mode if mode == "nearest" else ("bilinear" if len(size) == 2 else "trilinear")
        kwargs = {} if mode == "nearest" else {"align_corners": aligned}
        if scales is not None and not aligned:
            ref = F.interpolate(torch.from_numpy(x), scale_factor=scales, mode=tmode, **kwargs)
            ratios = [1 / s for s in scales]
        else:
            ref = F.interpolate(torch.from_numpy(x), size=size, mode=tmode, **kwargs)
            ratios = None
        np.testing.assert_allclose(kd.upsample(x, size, mode, aligned, ratios)[0], ref.numpy(),
                                   **TOL)
    x = np.random.default_rng(5).standard_normal((1, 2, 5, 5)).astype(np.float32)
    for mode in ("reflect", "replicate"):
        ref = F.pad(torch.from_numpy(x), (3, 0, 1, 2), mode=mode).numpy()
        np.testing.assert_array_equal(kd.pad(x, ((1, 2), (3, 0)), mode)[0], ref)
    np.testing.assert_allclose(kd.gelu(x)[0], F.gelu(torch.from_numpy(x)).numpy(), **TOL)


@settings(max_examples=30, deadline=None)
@given(nd=st.integers(1, 3), aligned=st.booleans(), data=st.data())
def test_linear_upsample_property(nd, aligned, data):
    """Random sizes (up and down) against the corner-weight loop."""
    spatial = tuple(data.draw(st.integers(1, 4)) for _ in range(nd))
    size = tuple(data.draw(st.integers(1, 7)) for _ in range(nd))
    x = np.random.default_rng(7).standard_normal((1, 2, *spatial)).astype(np.float32)
    y, _ = kd.upsample(x, size, "linear", aligned)
    np.testing.assert_allclose(y, upsample_naive(x, size, "linear", aligned), **TOL)


@settings(max_examples=30, deadline=None)
@given(nd=st.integers(1, 3), mode=st.sampled_from(["constant", "reflect", "replicate"]),
       data=st.data())
def test_pad_and_crop_property(nd, mode, data):
    """Random pads against the index-mapping loop; a centre crop back to the input's size
    after symmetric padding gives the input back."""
    spatial = tuple(data.draw(st.integers(2, 5)) for _ in range(nd))
    limit = min(spatial) - 1 if mode == "reflect" else 3
    pads = tuple((data.draw(st.integers(0, limit)), data.draw(st.integers(0, limit)))
                 for _ in range(nd))
    x = np.random.default_rng(8).standard_normal((1, 2, *spatial)).astype(np.float32)
    y, _ = kd.pad(x, pads, mode, -2.0)
    np.testing.assert_array_equal(y, pad_naive(x, pads, mode, -2.0))
    same = tuple((p, p) for p, _ in pads)
    back, _ = kd.crop(kd.pad(x, same, mode)[0], spatial)
    np.testing.assert_array_equal(back, x)


def test_transposed_conv_every_small_1d_geometry():
    """Every 1-D geometry with n, k, s <= 3, d <= 2, padding <= 2 per side and every legal
    output_padding, against both oracles (pins the corners hypothesis may not draw,
    e.g. a crop longer than the input that output_padding refills)."""
    import itertools
    rng = np.random.default_rng(9)
    for n, k, s, d, lo, hi in itertools.product([1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2],
                                                [0, 1, 2], [0, 1, 2]):
        for op in range(max(s, d)):
            if (n - 1) * s - lo - hi + d * (k - 1) + op + 1 < 1:
                continue
            x = rng.standard_normal((1, 2, n)).astype(np.float32)
            w = rng.standard_normal((2, 1, k)).astype(np.float32)
            geo = dict(stride=(s,), padding=((lo, hi),), dilation=(d,), output_padding=(op,),
                       groups=1)
            y, mults = kd.transposed_conv(x, w, None, **geo)
            want, products = transposed_conv_naive(x, w, None, **geo)
            assert mults == products == 2 * 1 * k * n
            np.testing.assert_allclose(y, want, **TOL)
            np.testing.assert_allclose(y, transposed_as_conv(x, w, None, **geo), **TOL)
