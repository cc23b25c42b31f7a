"""NumPy kernels of the dense-prediction and ConvNeXt kinds.

Transposed convolution, upsampling, crop and pad (U-Net, FCN, FPN necks), and layer
norm over channels, GELU and per-channel scale (ConvNeXt). Same conventions as
:mod:`archcost.kernels`: float32 arrays, batch axis first, channels second, any number
of spatial dims where the operation allows; each kernel returns ``(y, mults)`` with
``y`` a fresh array and ``mults`` the multiplications of multiply-accumulate work it
performed (only the transposed convolution does any; the others return 0, as their
analytic ``macs`` are 0).

How the transposed convolution runs: one batched matmul per group forms every product
of an input element with a kernel weight, ``(C_out/g·k × C_in/g) @ (C_in/g × P_in)``,
then each kernel tap's plane of products is added into the output at stride ``s``
(a scatter, "col2im"). Products that land in the cropped border (``padding``) are still
formed, so the tally is exactly ``N·C_in·(C_out/g)·k·in`` — the convention PyTorch-based
counters use.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = [
    "transposed_out_length",
    "transposed_conv",
    "upsample_source",
    "upsample",
    "crop",
    "pad",
    "layernorm",
    "gelu",
    "scale",
]

FLOAT = np.float32
Pads = tuple[tuple[int, int], ...]


def _as_float(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=FLOAT)


def _channel_vector(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=FLOAT).reshape((-1,) + (1,) * (x.ndim - 2))


# ------------------------------------------------------------------ transposed conv


def transposed_out_length(
    n: int, k: int, s: int = 1, lo: int = 0, hi: int = 0, d: int = 1, output_padding: int = 0
) -> int:
    """Output length of a transposed conv: ``(n − 1)·s − lo − hi + d·(k − 1) + op + 1``.

    >>> transposed_out_length(28, 2, 2)          # U-Net's 2x2 up-convolution
    56
    >>> transposed_out_length(7, 3, 2, 1, 1, output_padding=1)
    14
    """
    return (n - 1) * s - lo - hi + d * (k - 1) + output_padding + 1


def transposed_conv(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: Sequence[int],
    padding: Pads,
    dilation: Sequence[int],
    output_padding: Sequence[int],
    groups: int = 1,
) -> tuple[np.ndarray, int]:
    """Transposed convolution (the gradient of a conv with respect to its input).

    Args:
        x: ``(N, C_in, *in)``.
        w: ``(C_in, C_out/groups, *kernel)`` (PyTorch's ConvTranspose layout).
        b: ``(C_out,)`` or None.
        stride, dilation, output_padding: one per spatial dim.
        padding: ``(lo, hi)`` per spatial dim, cropped from the full output.
        groups: input and output channels split into this many groups.

    Returns:
        ``(y, mults)``, ``y`` of shape ``(N, C_out, *out)`` with ``out`` from
        :func:`transposed_out_length`, ``mults = N·C_in·(C_out/g)·k·in``.
    """
    x = _as_float(x)
    w = _as_float(w)
    n, c_in = x.shape[:2]
    spatial = x.shape[2:]
    nd = len(spatial)
    kernel = w.shape[2:]
    if w.shape[0] != c_in or c_in % groups or len(kernel) != nd:
        raise ValueError(
            f"expected w (C_in={c_in}, C_out/g, *kernel[{nd}]) with C_in "
            f"divisible by groups={groups}, got w {w.shape}."
        )
    cog = w.shape[1]
    cig = c_in // groups
    c_out = cog * groups
    k = math.prod(kernel)
    p_in = math.prod(spatial)
    out = tuple(
        transposed_out_length(
            spatial[i], kernel[i], stride[i], *padding[i], dilation[i], output_padding[i]
        )
        for i in range(nd)
    )
    if any(o < 1 for o in out):
        raise ValueError(f"transposed conv output would be {list(out)}.")
    # Every product: (N, g, C_out/g·k, P_in) = W_g^T (C_out/g·k × C_in/g) @ X_g (C_in/g × P_in).
    wt = w.reshape(groups, cig, cog * k).transpose(0, 2, 1)
    cols = np.matmul(wt, x.reshape(n, groups, cig, p_in))
    mults = n * groups * (cog * k) * cig * p_in
    cols = cols.reshape(n, c_out, *kernel, *spatial)
    # The full (uncropped) output, long enough for output_padding past the last tap.
    full_len = [
        max(
            (spatial[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1, padding[i][0] + out[i]
        )
        for i in range(nd)
    ]
    full = np.zeros((n, c_out, *full_len), FLOAT)
    for tap in itertools.product(*(range(kk) for kk in kernel)):
        dst = tuple(
            slice(
                tap[i] * dilation[i],
                tap[i] * dilation[i] + (spatial[i] - 1) * stride[i] + 1,
                stride[i],
            )
            for i in range(nd)
        )
        full[(slice(None), slice(None), *dst)] += cols[(slice(None), slice(None), *tap)]
    y = np.ascontiguousarray(
        full[
            (
                slice(None),
                slice(None),
                *(slice(padding[i][0], padding[i][0] + out[i]) for i in range(nd)),
            )
        ]
    )
    if b is not None:
        y += _channel_vector(b, y)
    return y, mults


# ------------------------------------------------------------------------- upsample


def upsample_source(
    out: int, n: int, mode: str, align_corners: bool, ratio: float | None = None
) -> np.ndarray:
    """For each output index, its (fractional) source index on an input of length ``n``.

    ``ratio`` is ``in/out`` as PyTorch uses it: ``1/scale_factor`` when the layer gives
    a scale factor, else ``n/out``. Nearest: ``⌊dst·ratio⌋`` (PyTorch's "nearest").
    Linear, ``align_corners=False``: ``max((dst + ½)·ratio − ½, 0)``; with
    ``align_corners=True``: ``dst·(n − 1)/(out − 1)``.

    >>> upsample_source(4, 2, "nearest", False).tolist()
    [0.0, 0.0, 1.0, 1.0]
    >>> upsample_source(4, 2, "linear", False).tolist()
    [0.0, 0.25, 0.75, 1.25]
    >>> upsample_source(3, 2, "linear", True).tolist()
    [0.0, 0.5, 1.0]
    """
    dst = np.arange(out, dtype=np.float64)
    if ratio is None:
        ratio = n / out
    if mode == "nearest":
        return np.minimum(np.floor(dst * ratio), n - 1)
    if align_corners:
        return dst * ((n - 1) / (out - 1)) if out > 1 else np.zeros(out)
    return np.maximum((dst + 0.5) * ratio - 0.5, 0.0)


def upsample(
    x: np.ndarray,
    size: Sequence[int],
    mode: str = "nearest",
    align_corners: bool = False,
    ratios: Sequence[float | None] | None = None,
) -> tuple[np.ndarray, int]:
    """Resize the spatial dims to ``size``: nearest, or (multi)linear one axis at a time.

    Args:
        x: ``(N, C, *in)``.
        size: the output's spatial size.
        mode: ``"nearest"`` or ``"linear"`` (bilinear in 2D, trilinear in 3D).
        align_corners: linear only; see :func:`upsample_source`.
        ratios: per dim, ``1/scale_factor`` when the layer gave one (else None).

    Returns:
        ``(y, 0)``.
    """
    y = _as_float(x)
    nd = y.ndim - 2
    ratios = ratios or (None,) * nd
    for axis in range(nd):
        n, o = y.shape[2 + axis], int(size[axis])
        src = upsample_source(o, n, mode, align_corners, ratios[axis])
        if mode == "nearest":
            y = np.take(y, src.astype(np.intp), axis=2 + axis)
            continue
        i0 = np.minimum(np.floor(src).astype(np.intp), n - 1)
        i1 = np.minimum(i0 + 1, n - 1)
        lam = (src - i0).astype(FLOAT).reshape((-1,) + (1,) * (nd - 1 - axis))
        a = np.take(y, i0, axis=2 + axis)
        y = a + lam * (np.take(y, i1, axis=2 + axis) - a)
    return np.ascontiguousarray(y, dtype=FLOAT), 0


# ----------------------------------------------------------------------- crop, pad


def crop(x: np.ndarray, size: Sequence[int]) -> tuple[np.ndarray, int]:
    """Centre crop of the spatial dims to ``size``: the window starts at ``⌊(n − t)/2⌋``
    (Ronneberger et al.'s crop; the odd pixel is dropped at the end).

    >>> crop(np.arange(5, dtype=np.float32).reshape(1, 1, 5), [2])[0].ravel().tolist()
    [1.0, 2.0]
    """
    x = _as_float(x)
    spatial = x.shape[2:]
    if len(size) != len(spatial) or any(t > n or t < 1 for t, n in zip(size, spatial, strict=True)):
        raise ValueError(f"cannot crop {list(spatial)} to {list(size)}.")
    window = tuple(
        slice((n - t) // 2, (n - t) // 2 + t) for n, t in zip(spatial, size, strict=True)
    )
    return np.array(x[(slice(None), slice(None), *window)], dtype=FLOAT), 0


_NP_PAD_MODES: dict[str, Literal["reflect", "edge"]] = {"reflect": "reflect", "replicate": "edge"}


def pad(
    x: np.ndarray, padding: Pads, mode: str = "constant", value: float = 0.0
) -> tuple[np.ndarray, int]:
    """Pad the spatial dims by ``(lo, hi)`` each: ``constant`` (``value``), ``reflect``
    (mirror without repeating the edge) or ``replicate`` (repeat the edge).

    >>> a = np.arange(3, dtype=np.float32).reshape(1, 1, 3)
    >>> pad(a, ((2, 1),), "reflect")[0].ravel().tolist()
    [2.0, 1.0, 0.0, 1.0, 2.0, 1.0]
    """
    x = _as_float(x)
    widths = [(0, 0), (0, 0), *padding]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=FLOAT(value)), 0
    return np.pad(x, widths, mode=_NP_PAD_MODES[mode]), 0


# ------------------------------------------------------------------------- ConvNeXt


def layernorm(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-6
) -> tuple[np.ndarray, int]:
    """Layer norm over the channels at each position (ConvNeXt's LayerNorm2d):
    ``y = (x − μ)/√(σ² + eps)·γ + β`` with μ, σ² the mean and biased variance over C.

    Returns:
        ``(y, 0)``.
    """
    x = _as_float(x)
    mean = x.mean(axis=1, keepdims=True, dtype=np.float64)
    centred = x - mean.astype(FLOAT)
    var = np.square(centred, dtype=np.float64).mean(axis=1, keepdims=True)
    inv = (1.0 / np.sqrt(var + eps)).astype(FLOAT)
    y = centred * inv
    y *= _channel_vector(gamma, y)
    y += _channel_vector(beta, y)
    return y, 0


def _erfc(z: np.ndarray) -> np.ndarray:
    """Complementary error function in float64, fractional error < 1.2e-7 everywhere
    (Numerical Recipes' ``erfcc``, a Chebyshev fit; NumPy has no erf)."""
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t
                    * (
                        0.27886807
                        + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                    )
                )
            )
        )
    )
    r = t * np.exp(-a * a + poly)
    return np.where(z >= 0, r, 2.0 - r)


def gelu(x: np.ndarray, approximate: str = "none") -> tuple[np.ndarray, int]:
    """GELU: ``x·Φ(x) = ½·x·erfc(−x/√2)``, or with ``approximate="tanh"``
    ``½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`` (PyTorch's two forms).

    Returns:
        ``(y, 0)``.
    """
    x64 = _as_float(x).astype(np.float64)
    if approximate == "tanh":
        y = 0.5 * x64 * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x64 + 0.044715 * x64**3)))
    else:
        y = 0.5 * x64 * _erfc(-x64 / math.sqrt(2.0))
    return y.astype(FLOAT), 0


def scale(x: np.ndarray, gamma: np.ndarray) -> tuple[np.ndarray, int]:
    """A learnable per-channel multiplier, ``y = γ_c·x`` (ConvNeXt's layer scale).

    Returns:
        ``(y, 0)``: one multiplication per element, not multiply-accumulate work.
    """
    x = _as_float(x)
    return x * _channel_vector(gamma, x), 0
