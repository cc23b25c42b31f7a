"""LRN and adaptive average pooling against naive loops (sharing no code with archcost)."""

from __future__ import annotations

import numpy as np
import pytest

from archcost.layers import REGISTRY
from archcost.layers.base import Shape


def naive_lrn(x, size, alpha, beta, k):
    n, c = x.shape[:2]
    y = np.empty_like(x, dtype=np.float64)
    for b in range(n):
        for ch in range(c):
            lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
            s = sum(x[b, j].astype(np.float64) ** 2 for j in range(lo, hi))
            y[b, ch] = x[b, ch] / (k + alpha / size * s) ** beta
    return y


def naive_adaptive_avg(x, out):
    n, c, h, w = x.shape
    oh, ow = out
    y = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, h1 = (i * h) // oh, -((-(i + 1) * h) // oh)
            w0, w1 = (j * w) // ow, -((-(j + 1) * w) // ow)
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y


@pytest.mark.parametrize("size,c", [(5, 16), (3, 4), (4, 7), (1, 3)], ids=str)
def test_lrn_matches_naive(size, c):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, c, 5, 4)).astype(np.float32) * 3
    layer = REGISTRY["lrn"].from_fields(dict(size=size, alpha=1e-2, beta=0.75, k=2))
    y, mults = layer.forward([x], {})
    np.testing.assert_allclose(y, naive_lrn(x, size, 1e-2, 0.75, 2), rtol=1e-5)
    assert mults == 0
    assert layer.flops([Shape((c, 5, 4))]) == (2 * size + 3) * c * 20


@pytest.mark.parametrize("hw,out", [((7, 7), (7, 7)), ((13, 11), (6, 4)), ((10, 10), (3, 3)),
                                    ((5, 9), (5, 2))], ids=str)
def test_adaptive_avgpool_matches_naive(hw, out):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, *hw)).astype(np.float32)
    layer = REGISTRY["adaptive_avgpool"].from_fields(dict(out=list(out)))
    y, _ = layer.forward([x], {})
    np.testing.assert_allclose(y, naive_adaptive_avg(x, out), rtol=1e-5, atol=1e-6)
    assert layer.out_shape([Shape((3, *hw))]).dims == (3, *out)
    # one FLOP per window element (k - 1 adds + 1 division), summed over outputs
    windows = sum(((-(-(i + 1) * hw[0] // out[0])) - i * hw[0] // out[0]) for i in range(out[0])) * \
        sum(((-(-(j + 1) * hw[1] // out[1])) - j * hw[1] // out[1]) for j in range(out[1]))
    assert layer.flops([Shape((3, *hw))]) == 3 * windows
