"""Pooling: max, average (with Caffe's ceil_mode), and global average.

FLOPs: maxpool ``k − 1`` comparisons per output, avgpool ``k`` per output (k − 1 adds
and one division), global average ``n`` per channel over ``n`` positions. MACs are 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from archcost.errors import ShapeError
from archcost.layers.base import (
    KIND_COLORS,
    Calibration,
    Draw,
    Formula,
    IntOrTuple,
    KindStyle,
    Layer,
    Padding,
    Shape,
    conv_out_len,
    flat_pads,
    formula,
    per_dim,
    register,
    require_spatial,
    resolve_padding,
)


def _kernels() -> ModuleType:
    from archcost import kernels  # lazy: numpy loads only on the paths that execute

    return kernels


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
    onnx_op: ClassVar[str] = ""  #: MaxPool or AveragePool
    """A windowed reduction; the subclass says which (its kernel, fill, FLOPs)."""

    #: What padded cells hold (the torch translation pads explicitly with it).
    fill: ClassVar[float]

    kernel: IntOrTuple
    stride: IntOrTuple | None = None
    padding: Padding = 0
    ceil_mode: bool = False

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A 2×2 or 3×3 window, stride 2, padding ``(k − 1)/2`` on a drawn feature map."""
        k = draw.choice((2, 3))
        return cls(kernel=k, stride=2, padding=(k - 1) // 2), (draw.feature_map(),)

    def fields(self) -> dict[str, Any]:
        fields = super().fields()
        if fields["stride"] is None:  # the default: stride = kernel
            fields["stride"] = self.kernel
        return fields

    def window(
        self, x: Shape
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...], tuple[int, ...]]:
        require_spatial(x, self.kind)
        ndim = len(x.spatial)
        kernel = per_dim(self.kernel, ndim, "kernel")
        stride = kernel if self.stride is None else per_dim(self.stride, ndim, "stride")
        pads = resolve_padding(self.padding, x.spatial, kernel, stride, (1,) * ndim)
        out = []
        for n, k, s, (lo, hi) in zip(x.spatial, kernel, stride, pads, strict=True):
            length = pool_out_len(n, k, s, lo, hi, self.ceil_mode)
            if length < 1:
                raise ShapeError(
                    f"the pooling window ({k}) is larger than the padded input "
                    f"({n} + {lo + hi} padding); input [{x}].",
                    hint="Use a smaller kernel or remove a downsampling layer before it.",
                )
            out.append(length)
        return kernel, stride, pads, tuple(out)

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return ins[0].with_spatial(self.window(ins[0])[3])

    @staticmethod
    def reduction(kernels: ModuleType) -> Callable[..., tuple[Any, int]]:
        """The NumPy kernel, from the :mod:`archcost.kernels` module it is given."""
        raise NotImplementedError

    def per_output(self, k: int) -> int:
        raise NotImplementedError

    def per_output_formula(self, k: str) -> tuple[str, str]:
        """``(symbolic, substituted)`` FLOPs of one output, for a window of ``k`` cells."""
        raise NotImplementedError

    def flops(self, ins: Sequence[Shape]) -> int:
        kernel, _, _, out = self.window(ins[0])
        return self.per_output(math.prod(kernel)) * ins[0].c * math.prod(out)

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        kernel, _, _, out = self.window(ins[0])
        symbolic, per = self.per_output_formula("·".join(map(str, kernel)))
        return f"{symbolic}·C·out", f"{per}·{ins[0].c}·({'·'.join(map(str, out))})"

    def formulas(self, ins: Sequence[Shape]) -> list[Formula]:
        kernel, stride, pads, out = self.window(ins[0])
        rule = "⌈(n + p − k)/s⌉ + 1" if self.ceil_mode else "⌊(n + p − k)/s⌋ + 1"
        bracket = ("⌈", "⌉") if self.ceil_mode else ("⌊", "⌋")
        lines = super().formulas(ins)
        for axis, (n, k, s, (lo, hi), o) in enumerate(
            zip(ins[0].spatial, kernel, stride, pads, out, strict=True)
        ):
            text = f"{bracket[0]}({n} + {lo + hi} − {k})/{s}{bracket[1]} + 1"
            symbolic = rule
            if self.ceil_mode and -(-(n + lo + hi - k) // s) + 1 != o:
                # ceil_mode never starts a window in the right padding (pool_out_len).
                text += " − 1"
                symbolic += " − 1 (no window starts in the right padding)"
            lines.append(formula(f"out[{axis}]", symbolic, text))
        return lines

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        kernel, stride, pads, _ = self.window(Shape(tuple(xs[0].shape[1:])))
        return type(self).reduction(_kernels())(xs[0], kernel, stride, pads, self.ceil_mode)

    def torch_pool(self, F: ModuleType, nd: int) -> Callable[..., Any]:
        raise NotImplementedError

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        """PyTorch's own padding and ceil_mode where torch accepts them (symmetric, at
        most half the kernel); otherwise an explicit pad with :attr:`fill`, the pool
        with ``ceil_mode``, and a crop to the propagated size, since torch would also
        start a last window in the explicit right padding."""
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        kernel, stride, pads, out = self.window(ins[0])
        fn = self.torch_pool(F, len(kernel))
        x = xs[0]
        if all(lo == hi and 2 * lo <= k for (lo, hi), k in zip(pads, kernel, strict=True)):
            return fn(x, kernel, stride, tuple(lo for lo, _ in pads), ceil_mode=self.ceil_mode)
        y = fn(
            F.pad(x, flat_pads(pads), value=self.fill), kernel, stride, 0, ceil_mode=self.ceil_mode
        )
        return y[(Ellipsis, *(slice(0, o) for o in out))]

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``MaxPool`` / ``AveragePool`` (padding counted in the average, as here)."""
        kernel, stride, pads, _ = self.window(ins[0])
        attrs: dict[str, Any] = {
            "kernel_shape": list(kernel),
            "strides": list(stride),
            "pads": [lo for lo, _ in pads] + [hi for _, hi in pads],
            "ceil_mode": int(self.ceil_mode),
        }
        if self.onnx_op == "AveragePool":
            attrs["count_include_pad"] = 1
        return graph.node(self.onnx_op, inputs[:1], name, outputs=[name], **attrs)


@register("maxpool")
@dataclass(frozen=True, kw_only=True)
class MaxPool(Pool):
    """Max over each window (padding holds -inf)."""

    onnx_op: ClassVar[str] = "MaxPool"

    style = KindStyle("pool", KIND_COLORS["pool"])
    nchwc = "pool"
    calibration = Calibration(("maxpool", "maxpool3d"))
    fill = -math.inf

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """As :meth:`Pool.calibration_sample`; a ``maxpool3d`` as C3D's on a clip
        (:meth:`Draw.clip`): 1×2×2 (its first, which keeps the frames) or 2×2×2."""
        if kernel_type != "maxpool3d":
            return super().calibration_sample(kernel_type, draw)
        k = draw.choice(((1, 2, 2), (2, 2, 2)))
        x = draw.clip()
        if x.dims[1] < k[0]:
            return None
        return cls(kernel=k, stride=k), (x,)

    @staticmethod
    def reduction(kernels: ModuleType) -> Callable[..., tuple[Any, int]]:
        return kernels.max_pool

    def per_output(self, k: int) -> int:
        return k - 1

    def per_output_formula(self, k: str) -> tuple[str, str]:
        return "(k − 1)", f"({k} − 1)"

    def torch_pool(self, F: ModuleType, nd: int) -> Callable[..., Any]:
        return {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]


@register("avgpool")
@dataclass(frozen=True, kw_only=True)
class AvgPool(Pool):
    """Mean over each window (PyTorch's count_include_pad=True)."""

    onnx_op: ClassVar[str] = "AveragePool"

    style = KindStyle("pool", KIND_COLORS["pool"])
    nchwc = "pool"
    calibration = Calibration(("avgpool",))
    fill = 0.0

    @staticmethod
    def reduction(kernels: ModuleType) -> Callable[..., tuple[Any, int]]:
        return kernels.avg_pool

    def per_output(self, k: int) -> int:
        return k

    def per_output_formula(self, k: str) -> tuple[str, str]:
        return "k", f"({k})"

    def torch_pool(self, F: ModuleType, nd: int) -> Callable[..., Any]:
        avg = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
        # Zero padding counts in the average, as the NumPy kernel does.
        return lambda *args, **kw: avg(*args, count_include_pad=True, **kw)


@register("global_avgpool")
@dataclass(frozen=True, kw_only=True)
class GlobalAvgPool(Layer):
    """Mean over all spatial positions: [C, ...] -> [C, 1, 1] (or [C, 1, 1, 1])."""

    style = KindStyle("pool", KIND_COLORS["pool"])
    nchwc = "global"
    calibration = Calibration(("global_avgpool",))

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A classifier head's input: 7×7, 14×14 or 28×28."""
        return cls(), (draw.feature_map(size=draw.choice((7, 14, 28))),)

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        require_spatial(ins[0], self.kind)
        return ins[0].with_spatial((1,) * len(ins[0].spatial))

    def flops(self, ins: Sequence[Shape]) -> int:
        return ins[0].numel

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        return "C·n (n per channel)", f"{ins[0].c}·({'·'.join(map(str, ins[0].spatial))})"

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        return _kernels().global_avgpool(xs[0])

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        x = xs[0]
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``GlobalAveragePool``."""
        return graph.node("GlobalAveragePool", inputs[:1], name, outputs=[name])


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
    style = KindStyle("pool", KIND_COLORS["pool"])
    nchwc = "global"

    def sizes(self, x: Shape) -> tuple[int, ...]:
        require_spatial(x, self.kind)
        return per_dim(self.out, len(x.spatial), "out")

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return ins[0].with_spatial(self.sizes(ins[0]))

    def flops(self, ins: Sequence[Shape]) -> int:
        x = ins[0]
        total = x.c
        for n, o in zip(x.spatial, self.sizes(x), strict=True):
            total *= sum(hi - lo for lo, hi in adaptive_windows(n, o))
        return total

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        x = ins[0]
        parts = [
            f"({' + '.join(str(hi - lo) for lo, hi in adaptive_windows(n, o))})"
            for n, o in zip(x.spatial, self.sizes(x), strict=True)
        ]
        return "C·Σ window sizes", f"{x.c}·" + "·".join(parts)

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        import numpy as np  # lazy: numpy loads only on the paths that execute

        y = xs[0]
        # Averages over a box of intervals are separable: one axis at a time.
        for axis, o in enumerate(self.sizes(Shape(tuple(y.shape[1:]))), start=2):
            n = y.shape[axis]
            parts = [
                y.take(range(lo, hi), axis=axis).mean(axis=axis, keepdims=True)
                for lo, hi in adaptive_windows(n, o)
            ]
            y = np.concatenate(parts, axis=axis)
        return np.ascontiguousarray(y, dtype=np.float32), 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        out = self.sizes(ins[0])
        fn: dict[int, Any] = {
            1: F.adaptive_avg_pool1d,
            2: F.adaptive_avg_pool2d,
            3: F.adaptive_avg_pool3d,
        }
        return fn[len(out)](xs[0], out)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``GlobalAveragePool`` to 1x1, else an ``AveragePool`` when the windows are even
        (ONNX has no adaptive pooling)."""
        sizes = self.sizes(ins[0])
        spatial = ins[0].spatial
        if all(o == 1 for o in sizes):
            return graph.node("GlobalAveragePool", inputs[:1], name, outputs=[name])
        if any(n % o for n, o in zip(spatial, sizes, strict=True)):
            raise NotImplementedError(
                f"adaptive windows of {list(spatial)} -> {list(sizes)} "
                "are uneven; ONNX has no adaptive pooling."
            )
        kernel = [n // o for n, o in zip(spatial, sizes, strict=True)]
        return graph.node(
            "AveragePool", inputs[:1], name, outputs=[name], kernel_shape=kernel, strides=kernel
        )
