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


# ------------------------------------------------- kernels of the dense-prediction kinds


def transposed_conv_naive(x, w, b=None, stride=None, padding=None, dilation=None,
                          output_padding=None, groups=1):
    """Transposed conv as a scatter: every input element times every kernel weight of
    its group, added at ``pos·s + tap·d − lo`` of the output (products that fall outside
    are formed and dropped). ``w`` is ``(C_in, C_out/g, *kernel)``. Float64.

    Returns ``(y, mults)``, ``mults`` one per product formed.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 2
    stride = stride or (1,) * nd
    dilation = dilation or (1,) * nd
    padding = padding or ((0, 0),) * nd
    output_padding = output_padding or (0,) * nd
    n_batch, c_in = x.shape[:2]
    cog = w.shape[1]
    cig = c_in // groups
    kernel = w.shape[2:]
    # The output length: the last position any tap reaches, plus one, minus the padding.
    out = []
    for i in range(nd):
        reach = (x.shape[2 + i] - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1
        out.append(reach - padding[i][0] - padding[i][1] + output_padding[i])
    y = np.zeros((n_batch, cog * groups, *out))
    mults = 0
    for n in range(n_batch):
        for ci in range(c_in):
            g = ci // cig
            for pos in itertools.product(*(range(v) for v in x.shape[2:])):
                value = x[(n, ci, *pos)]
                for j in range(cog):
                    for tap in itertools.product(*(range(k) for k in kernel)):
                        mults += 1
                        product = value * w[(ci, j, *tap)]
                        idx = [pos[i] * stride[i] + tap[i] * dilation[i] - padding[i][0]
                               for i in range(nd)]
                        if all(0 <= idx[i] < out[i] for i in range(nd)):
                            y[(n, g * cog + j, *idx)] += product
    if b is not None:
        y += np.asarray(b, dtype=np.float64).reshape((-1,) + (1,) * nd)
    return y, mults


def transposed_as_conv(x, w, b=None, stride=None, padding=None, dilation=None,
                       output_padding=None, groups=1):
    """The identity: a transposed conv is a stride-1 conv over the input with ``s − 1``
    zeros inserted between elements, padded by ``d·(k − 1) − p`` on each side (plus
    ``output_padding`` after; negative padding crops), with the kernel flipped and its
    in/out channels swapped within each group. Runs :func:`conv_naive`.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 2
    stride = stride or (1,) * nd
    dilation = dilation or (1,) * nd
    padding = padding or ((0, 0),) * nd
    output_padding = output_padding or (0,) * nd
    n_batch, c_in = x.shape[:2]
    cog = w.shape[1]
    cig = c_in // groups
    kernel = w.shape[2:]
    # Zero insertion.
    dilated = np.zeros((n_batch, c_in, *((s - 1) * (m - 1) + m for s, m in
                                          zip(stride, x.shape[2:]))))
    dilated[(slice(None), slice(None), *(slice(None, None, s) for s in stride))] = x
    # Padding (or cropping where it is negative). Pad first, then crop: a crop larger
    # than the input eats into the zeros the other side's padding adds.
    for i in range(nd):
        lo = dilation[i] * (kernel[i] - 1) - padding[i][0]
        hi = dilation[i] * (kernel[i] - 1) - padding[i][1] + output_padding[i]
        axis = 2 + i
        widths = [(0, 0)] * dilated.ndim
        widths[axis] = (max(lo, 0), max(hi, 0))
        dilated = np.pad(dilated, widths)
        keep = range(max(-lo, 0), dilated.shape[axis] - max(-hi, 0))
        dilated = np.take(dilated, keep, axis=axis)
    # Flipped kernel, (C_out, C_in/g, *kernel).
    flipped = np.flip(w, axis=tuple(range(2, 2 + nd)))
    wc = np.zeros((cog * groups, cig, *kernel))
    for g in range(groups):
        for i in range(cig):
            for j in range(cog):
                wc[g * cog + j, i] = flipped[g * cig + i, j]
    y, _ = conv_naive(dilated, wc, b, (1,) * nd, ((0, 0),) * nd, dilation, groups)
    return y


def upsample_naive(x, size, mode, align_corners=False, scale_factors=None):
    """Resize by loops over every output position.

    Nearest takes input index ``⌊dst·in/out⌋`` (exact integer arithmetic), or
    ``⌊dst/scale⌋`` when a scale factor is given (PyTorch). Linear weights the ``2^nd``
    surrounding input elements by the products of their 1-D distances; the source
    coordinate is ``(dst + ½)·in/out − ½`` clamped at 0 (``1/scale`` in place of
    ``in/out`` when given), or ``dst·(in − 1)/(out − 1)`` with ``align_corners``.
    """
    x = np.asarray(x, dtype=np.float64)
    nd = x.ndim - 2
    spatial = x.shape[2:]
    scale_factors = scale_factors or (None,) * nd
    y = np.zeros((*x.shape[:2], *size))

    def source(i, dst):
        n, o, sf = spatial[i], size[i], scale_factors[i]
        if mode == "nearest":
            return min(math.floor(dst / sf) if sf else dst * n // o, n - 1)
        if align_corners:
            return 0.0 if o == 1 else dst * (n - 1) / (o - 1)
        ratio = 1 / sf if sf else n / o
        return max((dst + 0.5) * ratio - 0.5, 0.0)

    for pos in itertools.product(*(range(v) for v in size)):
        srcs = [source(i, pos[i]) for i in range(nd)]
        if mode == "nearest":
            y[(slice(None), slice(None), *pos)] = x[(slice(None), slice(None), *srcs)]
            continue
        total = 0.0
        for corner in itertools.product((0, 1), repeat=nd):
            weight = 1.0
            idx = []
            for i in range(nd):
                base = math.floor(srcs[i])
                frac = srcs[i] - base
                weight *= frac if corner[i] else 1 - frac
                idx.append(min(base + corner[i], spatial[i] - 1))
            total = total + weight * x[(slice(None), slice(None), *idx)]
        y[(slice(None), slice(None), *pos)] = total
    return y


def crop_naive(x, size):
    """Centre crop: output position ``i`` reads input ``i + (n − t) // 2``."""
    x = np.asarray(x, dtype=np.float64)
    nd = x.ndim - 2
    offsets = [(x.shape[2 + i] - size[i]) // 2 for i in range(nd)]
    y = np.zeros((*x.shape[:2], *size))
    for pos in itertools.product(*(range(v) for v in size)):
        src = tuple(pos[i] + offsets[i] for i in range(nd))
        y[(slice(None), slice(None), *pos)] = x[(slice(None), slice(None), *src)]
    return y


def pad_naive(x, padding, mode, value=0.0):
    """Pad by loops: each output position maps back to an input index (or ``value``)."""
    x = np.asarray(x, dtype=np.float64)
    nd = x.ndim - 2
    spatial = x.shape[2:]
    out = [spatial[i] + padding[i][0] + padding[i][1] for i in range(nd)]
    y = np.zeros((*x.shape[:2], *out))

    def source(i, j):
        n = spatial[i]
        j -= padding[i][0]
        if 0 <= j < n:
            return j
        if mode == "constant":
            return None
        if mode == "replicate":
            return 0 if j < 0 else n - 1
        return -j if j < 0 else 2 * (n - 1) - j           # reflect

    for pos in itertools.product(*(range(v) for v in out)):
        src = [source(i, pos[i]) for i in range(nd)]
        y[(slice(None), slice(None), *pos)] = (
            value if None in src else x[(slice(None), slice(None), *src)])
    return y


def layernorm_naive(x, gamma, beta, eps):
    """Per sample and position: mean and biased variance over the channels, by loops."""
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros_like(x)
    c = x.shape[1]
    for n in range(x.shape[0]):
        for pos in itertools.product(*(range(v) for v in x.shape[2:])):
            column = [x[(n, ch, *pos)] for ch in range(c)]
            mean = sum(column) / c
            var = sum((v - mean) ** 2 for v in column) / c
            for ch in range(c):
                y[(n, ch, *pos)] = (column[ch] - mean) / math.sqrt(var + eps) * gamma[ch] + beta[ch]
    return y


def gelu_naive(x, approximate="none"):
    """GELU element by element with the standard library's ``math.erf``."""
    x = np.asarray(x, dtype=np.float64)
    if approximate == "tanh":
        f = lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))
    else:
        f = lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2)))
    return np.vectorize(f)(x)


# -- elementwise, merging and data-movement kinds (tests/test_every_kind.py) -----------
# Element by element with the standard library's math, or index arithmetic; float64.

def unary_naive(x, fn):
    """``fn`` (a float -> float function) applied element by element."""
    x = np.asarray(x, dtype=np.float64)
    return np.array([fn(float(v)) for v in x.ravel()]).reshape(x.shape)


def _sigmoid(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _hsigmoid(v):
    return min(max(v + 3, 0.0), 6.0) / 6


ACTIVATIONS = {
    "relu": lambda v: max(v, 0.0),
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "swish": lambda v: v * _sigmoid(v),
    "hsigmoid": _hsigmoid,
    "hswish": lambda v: v * _hsigmoid(v),
}


def softmax_naive(x):
    """exp(x_c − max) / Σ_c exp(x_c − max) over the channel axis, per sample and position."""
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros_like(x)
    for n in range(x.shape[0]):
        for pos in itertools.product(*(range(v) for v in x.shape[2:])):
            column = [float(x[(n, c, *pos)]) for c in range(x.shape[1])]
            top = max(column)
            exps = [math.exp(v - top) for v in column]
            for c, e in enumerate(exps):
                y[(n, c, *pos)] = e / sum(exps)
    return y


def batchnorm_naive(x, gamma, beta, mean, var, eps):
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros_like(x)
    for c in range(x.shape[1]):
        y[:, c] = (x[:, c] - float(mean[c])) / math.sqrt(float(var[c]) + eps) * float(gamma[c]) \
            + float(beta[c])
    return y


def lrn_naive(x, size, alpha, beta, k):
    """``a_c / (k + α/n · Σ a_j²)^β`` over channels j in [c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]."""
    x = np.asarray(x, dtype=np.float64)
    n, c = x.shape[:2]
    y = np.empty_like(x)
    for b in range(n):
        for ch in range(c):
            lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
            s = sum(x[b, j] ** 2 for j in range(lo, hi))
            y[b, ch] = x[b, ch] / (k + alpha / size * s) ** beta
    return y


def adaptive_avg_naive(x, out):
    """Window ``i`` of ``o`` over ``n``: ``[⌊i·n/o⌋, ⌈(i+1)·n/o⌉)``, by loops (any dims)."""
    x = np.asarray(x, dtype=np.float64)
    spatial = x.shape[2:]
    y = np.zeros((*x.shape[:2], *out))
    for pos in itertools.product(*(range(o) for o in out)):
        box = tuple(slice(p * n // o, -(-(p + 1) * n // o)) for p, n, o in zip(pos, spatial, out))
        window = x[(slice(None), slice(None), *box)]
        y[(slice(None), slice(None), *pos)] = window.sum(axis=tuple(range(2, x.ndim))) / \
            math.prod(s.stop - s.start for s in box)
    return y


def add_naive(xs):
    out = np.zeros(np.asarray(xs[0]).shape)
    for x in xs:
        out = out + np.asarray(x, dtype=np.float64)
    return out


def mul_naive(xs):
    """Product of same-shape inputs; a [N, C, 1, 1] input is repeated over positions."""
    full = max(xs, key=lambda a: a.size).shape
    out = np.ones(full)
    for x in xs:
        x = np.asarray(x, dtype=np.float64)
        for idx in itertools.product(*(range(v) for v in full)):
            src = tuple(i if x.shape[d] > 1 else 0 for d, i in enumerate(idx))
            out[idx] *= x[src]
    return out


def concat_naive(xs):
    """Output channel ``c`` is channel ``c − offset`` of the input that covers it."""
    total = sum(x.shape[1] for x in xs)
    y = np.zeros((xs[0].shape[0], total, *xs[0].shape[2:]))
    c = 0
    for x in xs:
        for j in range(x.shape[1]):
            y[:, c] = x[:, j]
            c += 1
    return y


def split_naive(x, sizes):
    out, start = [], 0
    for size in sizes:
        out.append(np.stack([x[:, start + j] for j in range(size)], axis=1).astype(np.float64))
        start += size
    return out


def shuffle_naive(x, groups):
    """Output channel ``j`` reads input channel ``(j mod g)·(C/g) + ⌊j/g⌋``."""
    c = x.shape[1]
    return np.stack([x[:, (j % groups) * (c // groups) + j // groups] for j in range(c)],
                    axis=1).astype(np.float64)


def linear_naive(x, w, b=None):
    """``y_o = Σ_i x_i·w_oi + b_o`` by loops; returns ``(y, mults)``."""
    x = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1)
    out, features = w.shape
    y = np.zeros((x.shape[0], out))
    mults = 0
    for n in range(x.shape[0]):
        for o in range(out):
            y[n, o] = sum(float(x[n, i]) * float(w[o, i]) for i in range(features))
            mults += features
            if b is not None:
                y[n, o] += float(b[o])
    return y, mults
