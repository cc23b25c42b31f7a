"""Pooling: max, average (with Caffe's ceil_mode), and global average.

FLOPs: maxpool ``k − 1`` comparisons per output, avgpool ``k`` per output (k − 1 adds
and one division), global average ``n`` per channel over ``n`` positions. MACs are 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archcost.errors import ShapeError
from archcost.layers.base import (IntOrTuple, Layer, Padding, Shape, conv_out_len, per_dim,
                                  register, require_spatial, resolve_padding)


def pool_out_len(n: int, k: int, s: int, lo: int, hi: int, ceil_mode: bool) -> int:
    """Pooled length; with ``ceil_mode`` round up, but never start a window in the
    right padding (PyTorch's and Caffe's rule).

    >>> pool_out_len(112, 3, 2, 0, 0, False), pool_out_len(112, 3, 2, 0, 0, True)
    (55, 56)
    >>> pool_out_len(55, 3, 2, 0, 0, True)
    27
    """
    if not ceil_mode:
        return conv_out_len(n, k, s, lo + hi)
    out = -(-(n + lo + hi - k) // s) + 1
    if (out - 1) * s >= n + lo:
        out -= 1
    return out


@dataclass(frozen=True, kw_only=True)
class Pool(Layer):
    kernel: IntOrTuple
    stride: IntOrTuple | None = None
    padding: Padding = 0
    ceil_mode: bool = False

    def fields(self) -> dict[str, Any]:
        fields = super().fields()
        if fields["stride"] is None:          # the default: stride = kernel
            fields["stride"] = self.kernel
        return fields

    def window(self, x: Shape) -> tuple[tuple[int, ...], tuple[int, ...],
                                        tuple[tuple[int, int], ...], tuple[int, ...]]:
        require_spatial(x, self.kind)
        ndim = len(x.spatial)
        kernel = per_dim(self.kernel, ndim, "kernel")
        stride = kernel if self.stride is None else per_dim(self.stride, ndim, "stride")
        pads = resolve_padding(self.padding, x.spatial, kernel, stride, (1,) * ndim)
        out = []
        for n, k, s, (lo, hi) in zip(x.spatial, kernel, stride, pads):
            length = pool_out_len(n, k, s, lo, hi, self.ceil_mode)
            if length < 1:
                raise ShapeError(f"the pooling window ({k}) is larger than the padded input "
                                 f"({n} + {lo + hi} padding); input [{x}].",
                                 hint="Use a smaller kernel or remove a downsampling layer "
                                      "before it.")
            out.append(length)
        return kernel, stride, pads, tuple(out)

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return ins[0].with_spatial(self.window(ins[0])[3])

    def per_output(self, k: int) -> int:
        raise NotImplementedError

    def flops(self, ins: Sequence[Shape]) -> int:
        kernel, _, _, out = self.window(ins[0])
        return self.per_output(math.prod(kernel)) * ins[0].c * math.prod(out)

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        kernel, _, _, out = self.window(ins[0])
        k, o = "·".join(map(str, kernel)), "·".join(map(str, out))
        if self.op == "max":
            return "(k − 1)·C·out", f"({k} − 1)·{ins[0].c}·({o})"
        return "k·C·out", f"({k})·{ins[0].c}·({o})"

    def formulas(self, ins: Sequence[Shape]) -> list[tuple[str, str, str, int]]:
        kernel, stride, pads, out = self.window(ins[0])
        rule = "⌈(n + p − k)/s⌉ + 1" if self.ceil_mode else "⌊(n + p − k)/s⌋ + 1"
        bracket = ("⌈", "⌉") if self.ceil_mode else ("⌊", "⌋")
        lines = super().formulas(ins)
        for axis, (n, k, s, (lo, hi), o) in enumerate(zip(ins[0].spatial, kernel, stride, pads, out)):
            lines.append((f"out[{axis}]", rule,
                          f"{bracket[0]}({n} + {lo + hi} − {k})/{s}{bracket[1]} + 1", o))
        return lines

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels
        kernel, stride, pads, _ = self.window(Shape(tuple(xs[0].shape[1:])))
        return kernels.pool(xs[0], self.op, kernel, stride, pads, self.ceil_mode)


@register("maxpool")
@dataclass(frozen=True, kw_only=True)
class MaxPool(Pool):
    """Max over each window (padding holds -inf)."""

    op = "max"

    def per_output(self, k: int) -> int:
        return k - 1


@register("avgpool")
@dataclass(frozen=True, kw_only=True)
class AvgPool(Pool):
    """Mean over each window (PyTorch's count_include_pad=True)."""

    op = "avg"

    def per_output(self, k: int) -> int:
        return k


@register("global_avgpool")
@dataclass(frozen=True, kw_only=True)
class GlobalAvgPool(Layer):
    """Mean over all spatial positions: [C, ...] -> [C, 1, 1] (or [C, 1, 1, 1])."""

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        require_spatial(ins[0], self.kind)
        return ins[0].with_spatial((1,) * len(ins[0].spatial))

    def flops(self, ins: Sequence[Shape]) -> int:
        return ins[0].numel

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        return "C·n (n per channel)", f"{ins[0].c}·({'·'.join(map(str, ins[0].spatial))})"

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels
        return kernels.global_avgpool(xs[0])


def adaptive_windows(n: int, o: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows: ``[⌊i·n/o⌋, ⌈(i+1)·n/o⌉)`` for ``i < o``.

    >>> adaptive_windows(7, 7)[:2], adaptive_windows(10, 3)
    ([(0, 1), (1, 2)], [(0, 4), (3, 7), (6, 10)])
    """
    return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


@register("adaptive_avgpool")
@dataclass(frozen=True, kw_only=True)
class AdaptiveAvgPool(Layer):
    """Average pooling to a fixed output size (torchvision's VGG and AlexNet heads).

    FLOPs: the window size per output (k − 1 adds and one division), summed.
    """

    out: IntOrTuple

    def sizes(self, x: Shape) -> tuple[int, ...]:
        require_spatial(x, self.kind)
        return per_dim(self.out, len(x.spatial), "out")

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return ins[0].with_spatial(self.sizes(ins[0]))

    def flops(self, ins: Sequence[Shape]) -> int:
        x = ins[0]
        total = x.c
        for n, o in zip(x.spatial, self.sizes(x)):
            total *= sum(hi - lo for lo, hi in adaptive_windows(n, o))
        return total

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        x = ins[0]
        parts = [f"({' + '.join(str(hi - lo) for lo, hi in adaptive_windows(n, o))})"
                 for n, o in zip(x.spatial, self.sizes(x))]
        return "C·Σ window sizes", f"{x.c}·" + "·".join(parts)

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        import numpy as np
        y = xs[0]
        # Averages over a box of intervals are separable: one axis at a time.
        for axis, o in enumerate(self.sizes(Shape(tuple(y.shape[1:]))), start=2):
            n = y.shape[axis]
            parts = [y.take(range(lo, hi), axis=axis).mean(axis=axis, keepdims=True)
                     for lo, hi in adaptive_windows(n, o)]
            y = np.concatenate(parts, axis=axis)
        return np.ascontiguousarray(y, dtype=np.float32), 0
