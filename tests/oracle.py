"""Naive reference convolution and pooling for the kernel tests.

Written to share nothing with ``archcost.kernels``: explicit Python loops over every
output position and kernel tap, index arithmetic instead of padded copies, and its
own output-size rule. Slow; use small sizes only.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def conv_out(n: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    """Output length, counted by stepping a window over the padded input.

    >>> conv_out(5, 3, 1, 0, 0, 1), conv_out(7, 3, 2, 1, 1, 1), conv_out(7, 3, 1, 0, 0, 2)
    (3, 4, 3)
    """
    extent = d * (k - 1) + 1
    count, start = 0, 0
    while start + extent <= n + lo + hi:
        count += 1
        start += s
    return count


def conv_naive(x, w, b=None, stride=None, padding=None, dilation=None, groups=1,
               pad_value=0.0):
    """Cross-correlation by loops over (n, out channel, out position, tap).

    Returns ``(y, mults)`` where ``mults`` counts one multiplication per product formed
    (padded positions included: their product with ``pad_value`` is still formed).
    Computed in float64.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 2
    stride = stride or (1,) * nd
    dilation = dilation or (1,) * nd
    padding = padding or ((0, 0),) * nd
    n_batch, c_in = x.shape[:2]
    c_out, cg = w.shape[:2]
    kernel = w.shape[2:]
    cog = c_out // groups
    out = [conv_out(x.shape[2 + i], kernel[i], stride[i], *padding[i], dilation[i])
           for i in range(nd)]
    y = np.zeros((n_batch, c_out, *out))
    mults = 0
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // cog) * cg
            for pos in itertools.product(*(range(v) for v in out)):
                window = np.empty((cg, *kernel))
                for tap in itertools.product(*(range(k) for k in kernel)):
                    idx = [pos[i] * stride[i] - padding[i][0] + tap[i] * dilation[i]
                           for i in range(nd)]
                    inside = all(0 <= idx[i] < x.shape[2 + i] for i in range(nd))
                    for c in range(cg):
                        window[(c, *tap)] = (x[(n, first + c, *idx)] if inside
                                             else pad_value)
                products = window * w[o]
                mults += products.size
                y[(n, o, *pos)] = np.sum(products) + (0.0 if b is None else b[o])
    return y, mults


def pool_out(n: int, k: int, s: int, lo: int, hi: int, ceil_mode: bool) -> int:
    """PyTorch's pooled length (``pooling_shape.h``), written out independently.

    >>> pool_out(5, 2, 2, 0, 0, False), pool_out(5, 2, 2, 0, 0, True)
    (2, 3)
    """
    numer = n + lo + hi - k
    length = (math.ceil(numer / s) if ceil_mode else math.floor(numer / s)) + 1
    if ceil_mode and (length - 1) * s >= n + lo:
        length -= 1
    return length


def pool_naive(x, op, kernel, stride, padding, ceil_mode=False):
    """Max/avg pool by loops over every output position, PyTorch semantics.

    Max takes the largest in-bounds value (padding never wins). Avg sums the in-bounds
    values and divides by the window clipped to ``[−lo, n + hi)`` per dim
    (``count_include_pad=True``; cells past the right padding do not count).
    """
    x = np.asarray(x, dtype=np.float64)
    nd = x.ndim - 2
    out = [pool_out(x.shape[2 + i], kernel[i], stride[i], *padding[i], ceil_mode)
           for i in range(nd)]
    y = np.zeros((*x.shape[:2], *out))
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for pos in itertools.product(*(range(v) for v in out)):
            starts = [pos[i] * stride[i] - padding[i][0] for i in range(nd)]
            lo = [max(starts[i], 0) for i in range(nd)]
            hi = [min(starts[i] + kernel[i], x.shape[2 + i]) for i in range(nd)]
            values = x[(n, c, *(slice(lo[i], hi[i]) for i in range(nd)))]
            if op == "max":
                y[(n, c, *pos)] = values.max()
            else:
                size = 1
                for i in range(nd):
                    size *= min(starts[i] + kernel[i], x.shape[2 + i] + padding[i][1]) - starts[i]
                y[(n, c, *pos)] = values.sum() / size
    return y
