"""NumPy compute kernels of the backend: pure functions over float32 arrays.

Every layer kind's ``forward`` calls one of these. Arrays carry a batch axis first and
channels second: ``(N, C, H, W)`` in 2D, ``(N, C, D, H, W)`` in 3D (any number of
spatial dims works). Each kernel returns ``(y, mults)``: ``y`` is a fresh array (or the
caller's ``out=``) that is safe to keep, and ``mults`` is a Python int, **the number of
multiplications the kernel performed**, added up from the shapes of the array operations
it actually ran:

* a matmul of ``(..., M, K) @ (..., K, N)`` adds ``batch·M·K·N``;
* an elementwise multiply pass (a depthwise tap) adds the size of what it wrote.

The tally covers the multiply-accumulate work of convolutions and linear layers only,
because that is what the analytic ``macs`` convention counts; every other kernel
(pooling, batchnorm's scale, activations, shuffles) returns ``mults = 0`` even though
it may multiply (batchnorm does one multiplication per element). The backend checks
the tally against ``C_out·(C_in/g)·k·out`` per sample; padded positions are multiplied
like any other, so the two agree on every path.

How conv runs (:func:`conv` picks one; ``method=`` forces one):

* ``pointwise``: 1x1, stride 1, no padding: one matmul ``W @ X`` with the groups as a
  batch axis (ShuffleNet's grouped 1x1 convs included).
* ``depthwise``: ``C_in/groups == 1``: one shifted multiply and one add per kernel tap,
  each over the whole output at once. The input is laid out channels-last in a
  scratch buffer so that a tap's operands are long contiguous runs; a channel
  multiplier ``m > 1`` repeats every input channel ``m`` times in that buffer. Best
  for many channels on a small image (MobileNet's 14x14 and 7x7 stages).
* ``rows``: im2col by kernel rows: copy the ``kw`` horizontally shifted windows of the
  input once (``kh·kw`` for full im2col), then each kernel row is one batched matmul
  per group, ``(C_out/g x C_in/g·kw) @ (C_in/g·kw x P)``, accumulated over the ``kh``
  rows. Best for depthwise convs on large images (``(m x kw) @ (kw x P)`` per
  channel), where the shifted-multiply passes are memory bound, and for thin groups
  (ResNeXt).
* ``im2col_cf`` / ``im2col_cl``: everything else: copy the sliding windows
  (``as_strided``) into a column matrix and run one batched matmul over the groups.
  ``cf`` builds the columns from the channels-first input (long runs along the output
  width); ``cl`` from a channels-last copy (long runs along ``kw·C``), which is faster
  when there are many channels on a small image. For depthwise convs with stride 2
  ``im2col_cf`` is often the fastest. The cost model in
  :func:`conv_method` chooses among the paths that apply; every path's tally is the
  same ``N·C_out·(C_in/g)·k·out``.

Scratch space (padded inputs, im2col columns, depthwise accumulators) lives in a
per-thread workspace that is reused across calls, because touching fresh pages costs
about as much as the arithmetic here (docs/design.md, "NumPy backend"). It only grows; see
:func:`workspace_nbytes` and :func:`clear_workspace`. Outputs are never taken from it.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "output_length",
    "conv",
    "conv_method",
    "pool",
    "max_pool",
    "avg_pool",
    "global_avgpool",
    "linear",
    "batchnorm",
    "channel_shuffle",
    "relu",
    "relu6",
    "sigmoid",
    "hsigmoid",
    "hswish",
    "swish",
    "tanh",
    "softmax",
    "workspace_nbytes",
    "clear_workspace",
]

FLOAT = np.float32
Pads = tuple[tuple[int, int], ...]
IntOrTuple = int | Sequence[int]
PaddingArg = int | Sequence[Sequence[int]]  # every side, or (before, after) per dim

#: Conv methods :func:`conv` accepts for ``method=``.
METHODS = ("auto", "pointwise", "depthwise", "rows", "im2col_cf", "im2col_cl")

# Per-inner-loop overhead of a strided NumPy copy, in element copies (measured on the
# reference machine: ~7 ns per inner loop against ~0.13 ns per float32 element).
_LOOP_OVERHEAD = 55
# Fixed cost of one NumPy call from Python (~3 µs), in the same units.
_CALL = 23_000


# --------------------------------------------------------------------------- helpers


def output_length(
    n: int, k: int, s: int = 1, lo: int = 0, hi: int = 0, d: int = 1, ceil_mode: bool = False
) -> int:
    """Length of a conv/pool output along one dim: ``⌊(n + lo + hi − d·(k−1) − 1)/s⌋ + 1``.

    With ``ceil_mode`` the division rounds up, but the last window must start inside
    the input or the left padding (PyTorch's and Caffe's rule). The result may be
    zero or negative when the window does not fit; callers reject that.

    Args:
        n: input length.
        k: kernel length.
        s: stride.
        lo: padding before the input.
        hi: padding after the input.
        d: dilation.
        ceil_mode: round up instead of down.

    Returns:
        The number of output positions.

    >>> output_length(224, 3, 2, 1, 1)
    112
    >>> output_length(7, 3, 1, 0, 0, d=2)
    3
    >>> output_length(112, 3, 2, ceil_mode=True), output_length(112, 3, 2)
    (56, 55)
    >>> output_length(5, 2, 2, 1, 1, ceil_mode=True)
    3
    """
    span = n + lo + hi - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + lo:
        out -= 1
    return out


def _per_dim(value: IntOrTuple, nd: int, name: str) -> tuple[int, ...]:
    """An int for every spatial dim, or a sequence with one per dim.

    >>> _per_dim(3, 2, "kernel"), _per_dim([1, 2], 2, "stride")
    ((3, 3), (1, 2))
    """
    if isinstance(value, (int, np.integer)):
        return (int(value),) * nd
    out = tuple(int(v) for v in value)
    if len(out) != nd:
        raise ValueError(f"{name} needs one value per spatial dim ({nd}), got {list(out)}.")
    return out


def _pads(padding: PaddingArg, nd: int) -> Pads:
    """Padding as ``((lo, hi), ...)`` per spatial dim; an int pads every side.

    >>> _pads(1, 2)
    ((1, 1), (1, 1))
    >>> _pads([(0, 1), (2, 3)], 2)
    ((0, 1), (2, 3))
    """
    if isinstance(padding, (int, np.integer)):
        pads = ((int(padding), int(padding)),) * nd
    else:
        pads = tuple((int(lo), int(hi)) for lo, hi in padding)
    if len(pads) != nd:
        raise ValueError(
            f"padding needs one (lo, hi) pair per spatial dim ({nd}), got {list(pads)}."
        )
    if any(p < 0 for pair in pads for p in pair):
        raise ValueError(f"padding must not be negative, got {list(pads)}.")
    return pads


def _as_float(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=FLOAT)


def _fresh(shape: Sequence[int], out: np.ndarray | None) -> np.ndarray:
    """The output array: the caller's ``out`` (checked) or a new one."""
    shape = tuple(shape)
    if out is None:
        return np.empty(shape, FLOAT)
    if out.shape != shape or out.dtype != FLOAT or not out.flags.c_contiguous:
        raise ValueError(
            f"out must be a C-contiguous float32 array of shape {shape}, got "
            f"{out.dtype} {out.shape}."
        )
    return out


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> int:
    """``out = a @ b``; returns the multiplications it performed, ``batch·M·K·N``."""
    np.matmul(a, b, out=out)
    # out's leading dims are the broadcast batch dims of a and b.
    return math.prod(out.shape[:-2]) * a.shape[-2] * a.shape[-1] * b.shape[-1]


def _multiply(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> int:
    """``out = a * b`` elementwise; returns the multiplications performed, ``out.size``."""
    np.multiply(a, b, out=out)
    return out.size


# ------------------------------------------------------------------------- workspace


class _Workspace(threading.local):
    """Scratch buffers by role, one flat float32 array each, grown on demand."""

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}


_WORKSPACE = _Workspace()


def _scratch(role: str, shape: Sequence[int]) -> np.ndarray:
    """A C-contiguous float32 array of ``shape`` backed by the workspace buffer ``role``.

    Its contents are garbage, and it is overwritten by the next call that uses the same
    role, so it must never be returned to a caller.
    """
    size = math.prod(shape)
    buf = _WORKSPACE.buffers.get(role)
    if buf is None or buf.size < size:
        buf = np.empty(size, FLOAT)
        _WORKSPACE.buffers[role] = buf
    return buf[:size].reshape(shape)


def workspace_nbytes() -> int:
    """Bytes held by this thread's scratch workspace (not counted as activations)."""
    return sum(buf.nbytes for buf in _WORKSPACE.buffers.values())


def clear_workspace() -> None:
    """Release this thread's scratch workspace; the next call allocates afresh."""
    _WORKSPACE.buffers.clear()


def _pad_into(
    src: np.ndarray, axes: Sequence[int], pads: Pads, value: float, role: str
) -> np.ndarray:
    """Copy ``src`` into a workspace buffer padded by ``pads`` along ``axes``.

    Only the border is filled with ``value``; the interior is one copy of ``src`` (which
    may be a transposed or broadcast view, so this is also where layouts change).
    """
    shape = list(src.shape)
    for ax, (lo, hi) in zip(axes, pads, strict=True):
        shape[ax] += lo + hi
    buf = _scratch(role, shape)
    interior = [slice(None)] * len(shape)
    for ax, (lo, hi) in zip(axes, pads, strict=True):
        interior[ax] = slice(lo, lo + src.shape[ax])
        border = [slice(None)] * len(shape)
        if lo:
            border[ax] = slice(0, lo)
            buf[tuple(border)] = value
        if hi:
            border[ax] = slice(shape[ax] - hi, shape[ax])
            buf[tuple(border)] = value
    buf[tuple(interior)] = src
    return buf


def _strided(
    base: np.ndarray, shape: Sequence[int], strides: Sequence[int], offset: int = 0
) -> np.ndarray:
    """A read-only view of ``base`` with the given shape and byte strides, starting
    ``offset`` bytes into it.

    Builds the ndarray directly when ``base`` is contiguous (a few µs cheaper per call
    than ``as_strided``, which matters for the many small layers of a mobile net, and
    bounds-checked against ``base``).
    """
    if base.flags.c_contiguous:
        view = np.ndarray(
            tuple(shape), base.dtype, buffer=base, offset=offset, strides=tuple(strides)
        )
        view.flags.writeable = False
        return view
    assert offset == 0, "an offset view needs a contiguous base"
    return as_strided(base, shape=tuple(shape), strides=tuple(strides), writeable=False)


def _channels_last(a: np.ndarray) -> np.ndarray:
    """``(N, C, *spatial)`` viewed as ``(N, *spatial, C)`` (no copy)."""
    return a.transpose(0, *range(2, a.ndim), 1)


def _tap_slices(
    tap: Sequence[int], dilation: Sequence[int], stride: Sequence[int], out: Sequence[int]
) -> tuple[slice, ...]:
    """Per spatial dim, the slice of a padded input that kernel tap ``tap`` reads.

    >>> _tap_slices((1, 2), (1, 2), (2, 1), (3, 4))
    (slice(1, 6, 2), slice(4, 8, 1))
    """
    return tuple(
        slice(t * d, t * d + s * (o - 1) + 1, s)
        for t, d, s, o in zip(tap, dilation, stride, out, strict=True)
    )


# ----------------------------------------------------------------------------- conv


def conv_method(
    in_shape: Sequence[int],
    w_shape: Sequence[int],
    stride: Sequence[int],
    padding: Pads,
    dilation: Sequence[int],
    groups: int,
) -> str:
    """The conv path :func:`conv` takes for ``method='auto'``.

    Args:
        in_shape: ``(N, C_in, *spatial)``.
        w_shape: ``(C_out, C_in/groups, *kernel)``.
        stride: per spatial dim.
        padding: ``(lo, hi)`` per spatial dim.
        dilation: per spatial dim.
        groups: channel groups.

    Returns:
        One of :data:`METHODS` other than ``'auto'``.

    >>> conv_method((1, 384, 14, 14), (384, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 384)
    'depthwise'
    >>> conv_method((1, 144, 56, 56), (144, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 144)
    'rows'
    >>> conv_method((1, 96, 112, 112), (96, 1, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 96)
    'im2col_cf'
    >>> conv_method((1, 256, 56, 56), (64, 256, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    'pointwise'
    >>> conv_method((1, 3, 224, 224), (64, 3, 7, 7), (2, 2), ((3, 3), (3, 3)), (2, 2), 1)
    'im2col_cf'
    >>> conv_method((1, 64, 56, 56), (64, 64, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    'im2col_cl'
    """
    n, c_in, c_out = in_shape[0], in_shape[1], w_shape[0]
    cg, kernel = w_shape[1], tuple(w_shape[2:])
    taps = math.prod(kernel)
    pointwise = (
        all(k == 1 for k in kernel)
        and all(s == 1 for s in stride)
        and all(p == 0 for pair in padding for p in pair)
    )
    if pointwise and cg > 1:
        return "pointwise"
    out = [
        output_length(size, k, s, lo, hi, d)
        for size, k, s, (lo, hi), d in zip(
            in_shape[2:], kernel, stride, padding, dilation, strict=True
        )
    ]
    elems = n * c_out * math.prod(out)  # output elements
    x_elems = math.prod(in_shape)
    cols = elems // c_out * c_in * taps  # im2col column entries
    # Costs in units of one streamed float32 element (~0.13 ns here); an inner loop of a
    # strided NumPy copy costs _LOOP_OVERHEAD units, a NumPy call ~_CALL units. The
    # channels-first copy's inner loops run along the output width.
    cost_cf = cols * (1 + _LOOP_OVERHEAD / out[-1]) + 3 * _CALL
    if cg == 1 and groups > 1:
        # im2col_cf's matmuls: one (1 x k) @ (k x P) per channel, read once, ~0.2 µs each.
        cost_cf += cols + 1500 * n * c_out
        # depthwise: a multiply and an add per tap over the output, whose inner loops run
        # along W_out·C (stride 1) or C; plus the transposing copies in and out of
        # channels-last (~5 units per element, measured) that repeat the input m times.
        run = c_out * (out[-1] if stride[-1] == 1 else 1)
        cost_dw = (
            taps * (2 * elems * (1 + _LOOP_OVERHEAD / run) + 2 * _CALL)
            + 5 * x_elems * (c_out // c_in)
            + 5 * elems
        )
        # rows: copy kt = prod(kernel[1:]) shifted windows of the input (rows
        # split by stride phase), then per first-dim tap one (m x kt) @ (kt x P) matmul
        # per channel (~0.2 µs each) and an accumulating add.
        kt, m = taps // kernel[0], c_out // c_in
        rows = (in_shape[2] + sum(padding[0])) // stride[0] + 1
        row_copy = n * c_in * kt * rows * math.prod(out[1:])
        cost_rows = (
            x_elems
            + row_copy * (1 + _LOOP_OVERHEAD / out[-1])
            + kernel[0] * (1500 * n * c_in + _CALL + (kt + m) * elems // m)
            + (kernel[0] - 1) * 2 * elems
        )
        best = min((cost_dw, "depthwise"), (cost_rows, "rows"), (cost_cf, "im2col_cf"))
        return best[1]
    if pointwise:
        return "pointwise"
    candidates = []
    if groups > 1 and cg <= 8:
        # rows (grouped): copy kt shifted windows, then per first-dim tap one small matmul
        # per group (~0.2 µs each) after slicing that tap's weights, and an add. Only
        # for thin groups (ResNeXt's 4 to 8 channels), where the matmuls are memory
        # bound anyway; with wide groups the longer matmuls of im2col win.
        kt = taps // kernel[0]
        rows = (in_shape[2] + sum(padding[0])) // stride[0] + 1
        row_copy = n * c_in * kt * rows * math.prod(out[1:])
        cost_rows = (
            x_elems
            + row_copy * (1 + _LOOP_OVERHEAD / out[-1])
            + kernel[0] * (1500 * n * groups + _CALL + 3 * c_out * cg * kt)
            + (kernel[0] - 1) * 2 * elems
        )
        candidates.append((cost_rows, "rows"))
    # channels-last: inner loops along a group's channels (times kw when taps are
    # adjacent), after transposing the input and the weights.
    run_cl = cg * (kernel[-1] if dilation[-1] == 1 and groups == 1 else 1)
    cost_cl = cols * (1 + _LOOP_OVERHEAD / run_cl) + 3 * _CALL + 3 * x_elems + c_out * cg * taps
    return min(candidates + [(cost_cl, "im2col_cl"), (cost_cf, "im2col_cf")])[1]


def conv(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: IntOrTuple,
    padding: PaddingArg,
    dilation: IntOrTuple,
    groups: int,
    pad_value: float = 0.0,
    out: np.ndarray | None = None,
    method: str = "auto",
) -> tuple[np.ndarray, int]:
    """N-d convolution (cross-correlation, as in deep learning), grouped, any padding.

    ``y[n, o] = b[o] + Σ_{c in group(o)} Σ_taps w[o, c, tap] · xpad[n, c, s·pos + d·tap]``,
    output length per dim ``⌊(n + lo + hi − d·(k−1) − 1)/s⌋ + 1``; output channel ``o``
    belongs to group ``o // (C_out/groups)`` (PyTorch's layout).

    Args:
        x: input ``(N, C_in, *spatial)``.
        w: weights ``(C_out, C_in/groups, *kernel)``.
        b: bias ``(C_out,)`` or None. Adding it is not counted as a multiplication.
        stride: per spatial dim (an int means every dim).
        padding: ``(lo, hi)`` per spatial dim, already resolved (an int pads every side).
        dilation: per spatial dim (an int means every dim).
        groups: channel groups; ``groups == C_in`` with ``C_out = m·C_in`` is depthwise
            with channel multiplier ``m``.
        pad_value: what the padding holds.
        out: optional C-contiguous float32 output array to write into.
        method: ``'auto'`` or one of :data:`METHODS` to force a path (tests, benchmarks).

    Returns:
        ``(y, mults)``: ``y`` of shape ``(N, C_out, *out)``; ``mults`` the
        multiplications performed, ``N·C_out·(C_in/g)·k·out`` on every path.

    Raises:
        ValueError: inconsistent shapes, a window larger than the padded input, or a
            forced method that does not apply.
    """
    x = _as_float(x)
    w = _as_float(w)
    if x.ndim < 3 or w.ndim != x.ndim:
        raise ValueError(
            f"expected x (N, C, *spatial) and w (C_out, C_in/groups, *kernel) "
            f"with the same rank, got x {x.shape} and w {w.shape}."
        )
    nd = x.ndim - 2
    n, c_in = x.shape[:2]
    c_out, cg = w.shape[:2]
    kernel = w.shape[2:]
    stride_t = _per_dim(stride, nd, "stride")
    dilation_t = _per_dim(dilation, nd, "dilation")
    pads = _pads(padding, nd)
    if groups < 1 or c_in % groups or c_out % groups or cg * groups != c_in:
        raise ValueError(
            f"expected C_in={c_in} and C_out={c_out} divisible by groups={groups} "
            f"and w.shape[1] == C_in/groups, got w {w.shape}."
        )
    if min(stride_t) < 1 or min(dilation_t) < 1:
        raise ValueError(
            f"stride and dilation must be positive, got stride={stride_t}, dilation={dilation_t}."
        )
    if b is not None:
        b = _as_float(b)
        if b.shape != (c_out,):
            raise ValueError(f"expected bias of shape ({c_out},), got {b.shape}.")
    out_sp = tuple(
        output_length(size, k, s, lo, hi, d)
        for size, k, s, (lo, hi), d in zip(
            x.shape[2:], kernel, stride_t, pads, dilation_t, strict=True
        )
    )
    if min(out_sp) < 1:
        raise ValueError(
            f"the kernel {tuple(kernel)} (dilation {dilation_t}) does not fit "
            f"the padded input {x.shape[2:]} + {list(pads)}."
        )
    if method == "auto":
        method = conv_method(x.shape, w.shape, stride_t, pads, dilation_t, groups)
    elif method == "depthwise" and cg != 1:
        raise ValueError(f"method={method!r} needs C_in/groups == 1, got {cg}.")
    elif method == "pointwise" and (
        any(k != 1 for k in kernel)
        or any(s != 1 for s in stride_t)
        or any(p for pair in pads for p in pair)
    ):
        raise ValueError("method='pointwise' needs a 1x1 kernel, stride 1 and no padding.")
    elif method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}.")

    y = _fresh((n, c_out, *out_sp), out)
    if method == "depthwise":
        # The bias is fused into the final layout copy.
        return y, _conv_depthwise(x, w, b, stride_t, pads, dilation_t, pad_value, y)
    if method == "pointwise":
        mults = _conv_pointwise(x, w, groups, y)
    elif method == "rows":
        mults = _conv_rows(x, w, stride_t, pads, dilation_t, groups, pad_value, y)
    elif method == "im2col_cf":
        mults = _conv_im2col_cf(x, w, stride_t, pads, dilation_t, groups, pad_value, y)
    else:
        mults = _conv_im2col_cl(x, w, stride_t, pads, dilation_t, groups, pad_value, y)
    if b is not None:
        y += b.reshape((c_out,) + (1,) * nd)
    return y, mults


def _conv_pointwise(x: np.ndarray, w: np.ndarray, groups: int, y: np.ndarray) -> int:
    """1x1 stride-1 conv: ``Y[n, g] = W[g] @ X[n, g]`` with ``X[n, g]`` of shape (C/g, P)."""
    n, c_in = x.shape[:2]
    c_out = w.shape[0]
    x = np.ascontiguousarray(x)
    p = math.prod(x.shape[2:])
    xg = x.reshape(n, groups, c_in // groups, p)
    wg = w.reshape(groups, c_out // groups, c_in // groups)
    return _matmul(wg, xg, y.reshape(n, groups, c_out // groups, p))


def _conv_im2col_cf(
    x: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, ...],
    pads: Pads,
    dilation: tuple[int, ...],
    groups: int,
    pad_value: float,
    y: np.ndarray,
) -> int:
    """im2col from the channels-first input: columns ``(N, g, C/g·k, P)``, rows ordered
    like ``w``'s ``(C/g, *kernel)``, so the weights are used as they are."""
    n, c_in = x.shape[:2]
    nd = x.ndim - 2
    c_out, cg = w.shape[:2]
    kernel = w.shape[2:]
    out_sp = y.shape[2:]
    if any(p for pair in pads for p in pair):
        xp = _pad_into(x, range(2, 2 + nd), pads, pad_value, "pad")
    else:
        xp = x
    st = xp.strides
    windows = _strided(
        xp,
        (n, groups, cg, *kernel, *out_sp),
        (
            st[0],
            st[1] * cg,
            st[1],
            *(st[2 + i] * dilation[i] for i in range(nd)),
            *(st[2 + i] * stride[i] for i in range(nd)),
        ),
    )
    cols = _scratch("cols", windows.shape)
    np.copyto(cols, windows)
    k = cg * math.prod(kernel)
    p = math.prod(out_sp)
    return _matmul(
        w.reshape(groups, c_out // groups, k),
        cols.reshape(n, groups, k, p),
        y.reshape(n, groups, c_out // groups, p),
    )


def _conv_im2col_cl(
    x: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, ...],
    pads: Pads,
    dilation: tuple[int, ...],
    groups: int,
    pad_value: float,
    y: np.ndarray,
) -> int:
    """im2col from a channels-last copy: columns ``(N, g, P, k·C/g)``, multiplied
    transposed, so the output still comes out channels-first."""
    n, c_in = x.shape[:2]
    nd = x.ndim - 2
    c_out, cg = w.shape[:2]
    kernel = w.shape[2:]
    out_sp = y.shape[2:]
    xp = _pad_into(_channels_last(x), range(1, 1 + nd), pads, pad_value, "pad")
    st = xp.strides
    windows = _strided(
        xp,
        (n, groups, *out_sp, *kernel, cg),
        (
            st[0],
            st[-1] * cg,
            *(st[1 + i] * stride[i] for i in range(nd)),
            *(st[1 + i] * dilation[i] for i in range(nd)),
            st[-1],
        ),
    )
    cols = _scratch("cols", windows.shape)
    np.copyto(cols, windows)
    k = cg * math.prod(kernel)
    p = math.prod(out_sp)
    w_cl = _channels_last(w).reshape(groups, c_out // groups, k)
    return _matmul(
        w_cl,
        cols.reshape(n, groups, p, k).swapaxes(-1, -2),
        y.reshape(n, groups, c_out // groups, p),
    )


def _conv_rows(
    x: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, ...],
    pads: Pads,
    dilation: tuple[int, ...],
    groups: int,
    pad_value: float,
    y: np.ndarray,
) -> int:
    """Conv as one batched matmul per tap of the first kernel dim (im2col by rows).

    A partial im2col over the trailing spatial dims only (``kw`` copies of the input
    in 2D, instead of im2col's ``kh·kw``) holds, for every channel, rows
    ``R[j, r, w] = xpad[phase + s·r, d·j + s·w]``, split into ``s`` row phases so
    that the rows one kernel row reads are contiguous. Kernel row ``i`` is then a
    ``(C_out/g x C_in/g·kw) @ (C_in/g·kw x P)`` matmul per group (for depthwise,
    ``(m x kw) @ (kw x P)`` per channel, ``m`` the channel multiplier), accumulated
    over the ``kh`` rows.
    """
    n, c_in = x.shape[:2]
    nd = x.ndim - 2
    c_out, cg = w.shape[:2]
    kernel = w.shape[2:]
    out_sp = y.shape[2:]
    xp = (
        _pad_into(x, range(2, 2 + nd), pads, pad_value, "pad")
        if any(p for pair in pads for p in pair)
        else np.ascontiguousarray(x)
    )
    st = xp.strides
    s0, d0, o0 = stride[0], dilation[0], out_sp[0]
    k_rest, o_rest = kernel[1:], out_sp[1:]
    # Each tap of the first kernel dim reads phase (i·d) % s from row (i·d) // s on.
    starts = [(i * d0 % s0, i * d0 // s0) for i in range(kernel[0])]
    rows = max(r0 for _, r0 in starts) + o0
    cols = _scratch("cols", (n, c_in, *k_rest, s0, rows, *o_rest))
    for phase in sorted({ph for ph, _ in starts}):
        needed = max(r0 for ph, r0 in starts if ph == phase) + o0
        window = _strided(
            xp,
            (n, c_in, *k_rest, needed, *o_rest),
            (
                st[0],
                st[1],
                *(st[3 + i] * dilation[1 + i] for i in range(nd - 1)),
                st[2] * s0,
                *(st[3 + i] * stride[1 + i] for i in range(nd - 1)),
            ),
            offset=phase * st[2],
        )
        np.copyto(cols[(slice(None),) * (2 + nd - 1) + (phase, slice(0, needed))], window)
    kt = math.prod(k_rest)
    p = math.prod(out_sp)
    cs = cols.strides
    y_g = y.reshape(n, groups, c_out // groups, p)
    tmp = _scratch("acc", y_g.shape) if kernel[0] > 1 else y_g
    mults = 0
    for i, (phase, r0) in enumerate(starts):
        # (N, g, C_in/g·kt, P): a channel's kt windows sit one after another, and whole
        # rows r0 .. r0+o0-1 are taken, so both merged axes have a single stride.
        b_mat = _strided(
            cols,
            (n, groups, cg * kt, p),
            (cs[0], cs[1] * cg, cs[1] // kt, cs[-1]),
            offset=phase * cs[nd + 1] + r0 * cs[nd + 2],
        )
        a_mat = w[:, :, i].reshape(groups, c_out // groups, cg * kt)
        if i == 0:
            mults += _matmul(a_mat, b_mat, y_g)
        else:
            mults += _matmul(a_mat, b_mat, tmp)
            y_g += tmp
    return mults


def _conv_depthwise(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, ...],
    pads: Pads,
    dilation: tuple[int, ...],
    pad_value: float,
    y: np.ndarray,
) -> int:
    """Depthwise conv as one multiply and one add per kernel tap over the whole output.

    Works channels-last: the tap views of the padded input are then contiguous along
    ``(W_out, C)`` (stride 1), and the tap's weights, tiled to ``(W_out, C)``, line up
    with them, so every pass is a few long runs instead of ``N·C·H`` short rows.
    """
    n, c_in = x.shape[:2]
    nd = x.ndim - 2
    c_out = w.shape[0]
    m = c_out // c_in
    kernel = w.shape[2:]
    out_sp = y.shape[2:]
    xt = _channels_last(x)
    if m > 1:
        # Output channel c·m + j reads input channel c: repeat each channel m times.
        xt = np.broadcast_to(xt[..., None], xt.shape + (m,))
    xp = _pad_into(xt, range(1, 1 + nd), pads, pad_value, "pad")
    xp = xp.reshape(xp.shape[: 1 + nd] + (c_out,))
    acc = _scratch("acc", (n, *out_sp, c_out))
    tmp = _scratch("tmp", acc.shape) if math.prod(kernel) > 1 else acc
    # Tap-major weights tiled along the last output dim: (taps, W_out, C_out).
    w_taps = w.reshape(c_out, -1).T
    w_tiled = np.broadcast_to(w_taps[:, None, :], (w_taps.shape[0], out_sp[-1], c_out)).copy()
    mults = 0
    for t, tap in enumerate(itertools.product(*map(range, kernel))):
        view = xp[(slice(None), *_tap_slices(tap, dilation, stride, out_sp))]
        if t == 0:
            mults += _multiply(view, w_tiled[t], acc)
        else:
            mults += _multiply(view, w_tiled[t], tmp)
            np.add(acc, tmp, out=acc)
    y_cl = _channels_last(y)
    if b is None:
        np.copyto(y_cl, acc)
    else:
        np.add(acc, b, out=y_cl)
    return mults


# ---------------------------------------------------------------------------- pooling


def pool(
    x: np.ndarray,
    op: str,
    kernel: IntOrTuple,
    stride: IntOrTuple,
    padding: PaddingArg,
    ceil_mode: bool = False,
    *,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Max or average pooling over the spatial dims, PyTorch semantics.

    ``max`` pads with −inf. ``avg`` pads with zeros and divides by the window's size
    clipped to the padded extent (``count_include_pad=True``): explicit padding counts,
    the extra right-side cells that ``ceil_mode`` adds do not. With ``ceil_mode`` the
    output rounds up, but the last window must start inside the input or left padding.
    Both reductions are separable, so they run one spatial dim at a time (``k_h + k_w``
    passes in 2D instead of ``k_h·k_w``).

    Args:
        x: input ``(N, C, *spatial)``.
        op: ``'max'`` or ``'avg'``.
        kernel: window per spatial dim (an int means every dim).
        stride: per spatial dim (an int means every dim).
        padding: ``(lo, hi)`` per spatial dim (an int pads every side).
        ceil_mode: round the output length up.
        out: optional C-contiguous float32 output array.

    Returns:
        ``(y, 0)``: comparisons and additions are not multiply-accumulates.

    Raises:
        ValueError: an unknown ``op`` or a window that does not fit.
    """
    if op not in ("max", "avg"):
        raise ValueError(f"op must be 'max' or 'avg', got {op!r}.")
    x = _as_float(x)
    nd = x.ndim - 2
    kernel_t = _per_dim(kernel, nd, "kernel")
    stride_t = _per_dim(stride, nd, "stride")
    pads = _pads(padding, nd)
    spatial = x.shape[2:]
    out_sp = tuple(
        output_length(size, k, s, lo, hi, 1, ceil_mode)
        for size, k, s, (lo, hi) in zip(spatial, kernel_t, stride_t, pads, strict=True)
    )
    if min(out_sp) < 1:
        raise ValueError(
            f"the pooling window {kernel_t} does not fit the padded input {spatial} + {list(pads)}."
        )
    # ceil_mode may need cells beyond the explicit right padding for the last window.
    full = tuple(
        (lo, max(hi, (o - 1) * s + k - n - lo))
        for n, k, s, (lo, hi), o in zip(spatial, kernel_t, stride_t, pads, out_sp, strict=True)
    )
    fill = -np.inf if op == "max" else 0.0
    cur = (
        _pad_into(x, range(2, 2 + nd), full, fill, "pool_pad")
        if any(p for pair in full for p in pair)
        else x
    )
    y = _fresh((*x.shape[:2], *out_sp), out)
    reduce = np.maximum if op == "max" else np.add
    for i in range(nd):
        axis = 2 + i
        shape = (*y.shape[: axis + 1], *cur.shape[axis + 1 :])
        dst = y if i == nd - 1 else _scratch(f"pool_stage{i % 2}", shape)
        for t in range(kernel_t[i]):
            index = [slice(None)] * cur.ndim
            index[axis] = slice(t, t + stride_t[i] * (out_sp[i] - 1) + 1, stride_t[i])
            if t == 0:
                np.copyto(dst, cur[tuple(index)])
            else:
                reduce(dst, cur[tuple(index)], out=dst)
        cur = dst
    if op == "avg":
        divisor = np.ones((), FLOAT)
        for n, k, s, (lo, hi), o in zip(spatial, kernel_t, stride_t, pads, out_sp, strict=True):
            starts = np.arange(o) * s
            counts = np.minimum(starts + k, n + lo + hi) - starts
            divisor = np.multiply.outer(divisor, counts.astype(FLOAT))
        y /= divisor
    return y, 0


def max_pool(
    x: np.ndarray,
    kernel: IntOrTuple,
    stride: IntOrTuple,
    padding: PaddingArg,
    ceil_mode: bool = False,
    *,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """:func:`pool` with ``op='max'``."""
    return pool(x, "max", kernel, stride, padding, ceil_mode, out=out)


def avg_pool(
    x: np.ndarray,
    kernel: IntOrTuple,
    stride: IntOrTuple,
    padding: PaddingArg,
    ceil_mode: bool = False,
    *,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """:func:`pool` with ``op='avg'``."""
    return pool(x, "avg", kernel, stride, padding, ceil_mode, out=out)


def global_avgpool(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Mean over every spatial dim: ``(N, C, *spatial) → (N, C, 1, ...)``; mults 0."""
    x = _as_float(x)
    # np.asarray: numpy's stubs type a mean as possibly a scalar; keepdims makes it an array
    return np.asarray(np.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True, dtype=FLOAT)), 0


# ---------------------------------------------------------------------- dense, norm


def linear(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, out: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Fully connected layer ``y = x @ wᵀ + b`` with torch's weight layout.

    Args:
        x: ``(N, in)``.
        w: ``(out, in)``.
        b: ``(out,)`` or None; adding it is not a multiplication.
        out: optional C-contiguous float32 output array ``(N, out)``.

    Returns:
        ``(y, mults)`` with ``mults = N·in·out`` as performed by the matmul.
    """
    x = _as_float(x)
    w = _as_float(w)
    if x.ndim != 2 or w.ndim != 2 or w.shape[1] != x.shape[1]:
        raise ValueError(f"expected x (N, in) and w (out, in), got x {x.shape} and w {w.shape}.")
    y = _fresh((x.shape[0], w.shape[0]), out)
    mults = _matmul(x, w.T, y)
    if b is not None:
        y += _as_float(b)
    return y, mults


def _channel_vector(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A per-channel ``(C,)`` vector shaped to broadcast over ``x``'s axis 1."""
    return np.asarray(v, dtype=FLOAT).reshape((-1,) + (1,) * (x.ndim - 2))


def batchnorm(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float = 1e-5,
    *,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Inference batchnorm over axis 1: ``y = (x − mean)·γ/√(var + eps) + β``.

    Folded into one scale and one shift per channel, so it multiplies once per
    element; that is not multiply-accumulate work, so ``mults`` is 0 (the analytic
    macs of batchnorm are 0; its flops count the 2 operations per element).

    Returns:
        ``(y, 0)``.
    """
    x = _as_float(x)
    scale = _as_float(gamma) / np.sqrt(_as_float(var) + FLOAT(eps))
    shift = _as_float(beta) - _as_float(mean) * scale
    y = np.multiply(x, _channel_vector(scale, x), out=out)  # out may be x itself
    y += _channel_vector(shift, x)
    return y, 0


def channel_shuffle(x: np.ndarray, groups: int) -> tuple[np.ndarray, int]:
    """ShuffleNet's channel shuffle: ``(N, g, C/g, ...) → transpose → (N, C, ...)``.

    Output channel ``j·g + i`` is input channel ``i·(C/g) + j``.

    Returns:
        ``(y, 0)``.

    >>> y, _ = channel_shuffle(np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1), 2)
    >>> y.ravel().tolist()
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """
    x = _as_float(x)
    n, c = x.shape[:2]
    if groups < 1 or c % groups:
        raise ValueError(f"channels={c} are not divisible by groups={groups}.")
    rest = x.shape[2:]
    y = np.empty(x.shape, FLOAT)
    # One copy, into a fresh array even when the permutation is the identity.
    np.copyto(
        y.reshape(n, c // groups, groups, *rest),
        x.reshape(n, groups, c // groups, *rest).swapaxes(1, 2),
    )
    return y, 0


# ------------------------------------------------------------------------ activations


def relu(x: np.ndarray, *, out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """``max(x, 0)`` (into ``out`` when given, which may be ``x``); returns ``(y, 0)``."""
    return np.maximum(_as_float(x), FLOAT(0), out=out), 0


def relu6(x: np.ndarray, *, out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """``min(max(x, 0), 6)`` (into ``out`` when given, which may be ``x``); returns ``(y, 0)``."""
    return np.clip(_as_float(x), FLOAT(0), FLOAT(6), out=out), 0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5·(1 + tanh(x/2)) never overflows, unlike 1/(1 + exp(−x)) for x << 0.
    y = np.multiply(x, FLOAT(0.5))
    np.tanh(y, out=y)
    y += FLOAT(1)
    y *= FLOAT(0.5)
    return y


def sigmoid(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``1 / (1 + exp(−x))``; returns ``(y, 0)``."""
    return _sigmoid(_as_float(x)), 0


def _hsigmoid(x: np.ndarray) -> np.ndarray:
    y = np.add(x, FLOAT(3))
    np.clip(y, FLOAT(0), FLOAT(6), out=y)
    y /= FLOAT(6)
    return y


def hsigmoid(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``relu6(x + 3) / 6`` (MobileNetV3); returns ``(y, 0)``."""
    return _hsigmoid(_as_float(x)), 0


def hswish(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``x · relu6(x + 3) / 6`` (MobileNetV3); returns ``(y, 0)``."""
    x = _as_float(x)
    y = _hsigmoid(x)
    y *= x
    return y, 0


def swish(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``x · sigmoid(x)`` (SiLU); returns ``(y, 0)``."""
    x = _as_float(x)
    y = _sigmoid(x)
    y *= x
    return y, 0


def tanh(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``tanh(x)``; returns ``(y, 0)``."""
    return np.tanh(_as_float(x)), 0


def softmax(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Softmax over axis 1 (channels, or features of an ``(N, F)`` input), max-shifted so
    large inputs do not overflow; returns ``(y, 0)``."""
    x = _as_float(x)
    y = np.subtract(x, x.max(axis=1, keepdims=True))
    np.exp(y, out=y)
    y /= y.sum(axis=1, keepdims=True)
    return y, 0
