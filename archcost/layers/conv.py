"""Convolutions: standard, grouped, pointwise, depthwise, and the two composites.

Every conv kind reduces to one geometry (:class:`ConvGeometry`) and one cost:

* params = ``C_out·(C_in/g)·k + C_out·bias``
* macs   = ``C_out·(C_in/g)·k·out``  (padded positions count)
* flops  = ``macs + C_out·out·((C_in/g)·k − 1 + bias)``

with ``k`` the product of the kernel dims, ``out`` the product of the output spatial
dims and ``g`` the groups. The composites (``separable_conv``,
``spatial_separable_conv``) expand into two primitive rows, so their costs are sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from archcost.errors import FieldError, ShapeError
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
    he_normal,
    per_dim,
    register,
    require_spatial,
    resolve_padding,
    small_normal,
)

#: The ``whatif`` rules that rewrite a standard convolution (see archcost.rewrite).
STANDARD_CONV_RULES = frozenset({"separable", "spatial", "grouped", "shuffled"})
#: Kernel sizes and strides latency calibration draws (3×3 most often).
CALIBRATION_KERNELS = (3, 3, 3, 5, 7)
CALIBRATION_STRIDES = (1, 1, 1, 2)
#: the most weights a calibration convolution has: ResNet-50's largest, 512·512·3·3
#: (a 7×7 convolution of 960 channels to 512 is in no network, and its 18 MB of weights
#: would make it a weight-streaming benchmark).
CALIBRATION_MAX_WEIGHTS = 512 * 512 * 3 * 3


@dataclass(frozen=True)
class ConvGeometry:
    """Everything a convolution's shape, cost and forward depend on."""

    c_in: int
    c_out: int
    groups: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    out: tuple[int, ...]
    bias: bool

    @property
    def k(self) -> int:
        return math.prod(self.kernel)

    @property
    def out_numel(self) -> int:
        return math.prod(self.out)


@lru_cache(maxsize=8192)
def conv_geometry(
    x: Shape,
    *,
    kind: str,
    c_out: int,
    groups: int,
    kernel: IntOrTuple,
    stride: IntOrTuple,
    dilation: IntOrTuple,
    padding: Padding,
    bias: bool,
) -> ConvGeometry:
    """Check a convolution against its input and compute its output size.

    Raises:
        ShapeError: channels not divisible by groups, wrong number of dims, or a
            kernel larger than the padded input.
    """
    require_spatial(x, kind)
    ndim = len(x.spatial)
    kernel_t = per_dim(kernel, ndim, "kernel")
    stride_t = per_dim(stride, ndim, "stride")
    dilation_t = per_dim(dilation, ndim, "dilation")
    pads = resolve_padding(padding, x.spatial, kernel_t, stride_t, dilation_t)
    if x.c % groups:
        divisors = [g for g in range(1, x.c + 1) if x.c % g == 0]
        shown = ", ".join(map(str, divisors[:16])) + (", ..." if len(divisors) > 16 else "")
        raise ShapeError(
            f"in_channels={x.c} is not divisible by groups={groups}.",
            hint=f"Use groups in {{{shown}}}, or change the channels of the layer before it.",
        )
    if c_out % groups:
        raise ShapeError(
            f"out_channels={c_out} is not divisible by groups={groups}.",
            hint=f"Use out a multiple of {groups}.",
        )
    out = []
    for n, k, s, d, (lo, hi) in zip(x.spatial, kernel_t, stride_t, dilation_t, pads, strict=True):
        length = conv_out_len(n, k, s, lo + hi, d)
        if length < 1:
            raise ShapeError(
                f"the kernel ({d * (k - 1) + 1} wide with dilation) is larger than "
                f"the padded input ({n} + {lo + hi} padding) along a spatial dim; "
                f"input [{x}], kernel {list(kernel_t)}.",
                hint="Use a smaller kernel, more padding, or fewer stride-2 layers "
                "before this one.",
            )
        out.append(length)
    return ConvGeometry(
        c_in=x.c,
        c_out=c_out,
        groups=groups,
        kernel=kernel_t,
        stride=stride_t,
        dilation=dilation_t,
        padding=pads,
        out=tuple(out),
        bias=bias,
    )


@dataclass(frozen=True, kw_only=True)
class ConvLike(Layer):
    """Shared cost and forward of every primitive convolution kind."""

    def geometry(self, x: Shape) -> ConvGeometry:
        raise NotImplementedError

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        g = self.geometry(ins[0])
        return Shape((g.c_out, *g.out))

    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        g = self.geometry(ins[0])
        shapes = {"weight": (g.c_out, g.c_in // g.groups, *g.kernel)}
        if g.bias:
            shapes["bias"] = (g.c_out,)
        return shapes

    def scratch_elements(self, ins: Sequence[Shape]) -> int:
        """The im2col columns: ``C_in·k·out``."""
        g = self.geometry(ins[0])
        return g.c_in * g.k * g.out_numel

    def macs(self, ins: Sequence[Shape]) -> int:
        g = self.geometry(ins[0])
        return g.c_out * (g.c_in // g.groups) * g.k * g.out_numel

    def flops(self, ins: Sequence[Shape]) -> int:
        g = self.geometry(ins[0])
        return self.macs(ins) + g.c_out * g.out_numel * ((g.c_in // g.groups) * g.k - 1 + g.bias)

    def macs_formula(self, x: Shape) -> str:
        """The MACs with the numbers in: ``C_out·(k·C_in/g)·(out)``, e.g. ``3·(3·3·1)·(5·5)``."""
        g = self.geometry(x)
        return (
            f"{g.c_out}·({'·'.join(map(str, g.kernel))}·{g.c_in // g.groups})·"
            f"({'·'.join(map(str, g.out))})"
        )

    def formulas(self, ins: Sequence[Shape]) -> list[Formula]:
        g = self.geometry(ins[0])
        kern = "·".join(map(str, g.kernel))
        outs = "·".join(map(str, g.out))
        cin = g.c_in // g.groups
        lines = [
            formula(
                "params",
                "C_out·(k·C_in/g) + C_out·bias",
                f"{g.c_out}·({kern}·{cin})" + (f" + {g.c_out}" if g.bias else ""),
            ),
            formula("macs", "C_out·(k·C_in/g)·out", self.macs_formula(ins[0])),
            formula(
                "flops",
                "macs + C_out·out·(k·C_in/g − 1 + bias)",
                f"{self.macs(ins):,} + {g.c_out}·({outs})·({cin * g.k} − 1 + {int(g.bias)})",
            ),
        ]
        for axis, (n, k, s, d, (lo, hi)) in enumerate(
            zip(ins[0].spatial, g.kernel, g.stride, g.dilation, g.padding, strict=True)
        ):
            lines.append(
                formula(
                    f"out[{axis}]",
                    "⌊(n + p − d·(k−1) − 1)/s⌋ + 1",
                    f"⌊({n} + {lo + hi} − {d}·({k}−1) − 1)/{s}⌋ + 1",
                )
            )
        return lines

    @property
    def fill(self) -> float:
        """The value padded positions hold (``pad_value`` where the kind has one)."""
        return 0.0

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels  # lazy: numpy loads only on the paths that execute

        x = xs[0]
        g = self.geometry(Shape(tuple(x.shape[1:])))
        return kernels.conv(
            x,
            weights["weight"],
            weights.get("bias"),
            stride=g.stride,
            padding=g.padding,
            dilation=g.dilation,
            groups=g.groups,
            pad_value=self.fill,
        )

    def init_weights(self, ins: Sequence[Shape], rng: Any) -> dict[str, Any]:
        """He-scaled weight; bias from N(0, 0.1²)."""
        shapes = self.weight_shapes(ins)
        out = {"weight": he_normal(rng, shapes["weight"])}
        if "bias" in shapes:
            out["bias"] = small_normal(rng, shapes["bias"])
        return out

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        """One ``F.convNd`` with the resolved geometry. Symmetric zero padding goes to
        the conv itself (what a torch model does); anything else is an explicit
        ``F.pad`` with the fill value first."""
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        g = self.geometry(ins[0])
        x = xs[0]
        symmetric = all(lo == hi for lo, hi in g.padding)
        if symmetric and self.fill == 0.0:
            padding: tuple[int, ...] = tuple(lo for lo, _ in g.padding)
        else:
            x = F.pad(x, flat_pads(g.padding), value=self.fill)
            padding = (0,) * len(g.kernel)
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(g.kernel)]
        return conv(
            x, weights["weight"], weights.get("bias"), g.stride, padding, g.dilation, g.groups
        )

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """One ``Conv`` (after a constant ``Pad`` when ``pad_value`` is not zero)."""
        g = self.geometry(ins[0])
        x = inputs[0]
        pads = [lo for lo, _ in g.padding] + [hi for _, hi in g.padding]
        pad_value = float(getattr(self, "pad_value", 0.0))
        if pad_value and any(pads):
            nd = len(g.out)
            full = [0, 0, *pads[:nd], 0, 0, *pads[nd:]]
            x = graph.node(
                "Pad",
                [x, graph.ints(f"{name}.pads", full), graph.scalar(f"{name}.pad_value", pad_value)],
                name,
                mode="constant",
            )[0]
            pads = [0] * len(pads)
        tensors = [x, graph.weight(name, "weight")]
        if g.bias:
            tensors.append(graph.weight(name, "bias"))
        return graph.node(
            "Conv",
            tensors,
            name,
            outputs=[name],
            group=g.groups,
            kernel_shape=list(g.kernel),
            strides=list(g.stride),
            dilations=list(g.dilation),
            pads=pads,
        )


@register("conv")
@dataclass(frozen=True, kw_only=True)
class Conv(ConvLike):
    """Standard convolution, 2D on [C,H,W] and 3D on [C,D,H,W]."""

    style = KindStyle("conv", KIND_COLORS["conv"])
    calibration = Calibration(("conv", "stem", "conv3d"), generic=False)

    out: int
    kernel: IntOrTuple
    stride: IntOrTuple = 1
    padding: Padding = 0
    pad_value: float = 0.0
    dilation: IntOrTuple = 1
    groups: int = 1
    bias: bool = True

    def geometry(self, x: Shape) -> ConvGeometry:
        return conv_geometry(
            x,
            kind=self.kind,
            c_out=self.out,
            groups=self.groups,
            kernel=self.kernel,
            stride=self.stride,
            dilation=self.dilation,
            padding=self.padding,
            bias=self.bias,
        )

    @property
    def fill(self) -> float:
        return self.pad_value

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A k×k convolution, same padding; a ``stem`` is a network's first, up to 64
        filters on an RGB (or grey) input of 8–224 pixels (small ones too, so its fixed
        cost is measured, not extrapolated). The others as networks have them: stride 2
        from 14×14 up, at most :data:`CALIBRATION_MAX_WEIGHTS` weights; a ``conv3d`` as
        C3D's, 3×3×3 on a clip (:meth:`Draw.clip`), as many or twice as many filters as
        input channels."""
        k, s = draw.choice(CALIBRATION_KERNELS), draw.choice(CALIBRATION_STRIDES)
        if kernel_type == "conv3d":  # C3D's: 3×3×3, same padding, on a clip
            x = draw.clip()
            out = draw.choice((32, 64)) if x.c <= 4 else draw.choice((x.c, 2 * x.c))
            return cls(out=out, kernel=3, padding=1), (x,)
        if kernel_type == "stem":
            size = draw.choice((8, 16, 32, 56, 112, 128, 160, 224))
            x = draw.feature_map(draw.choice((1, 3, 3, 3)), size)
            out = draw.choice((1, 8, 16, 24, 32, 48, 64))
        else:
            x = draw.feature_map()
            out = draw.c_out(x.c)
            if k > x.spatial[0] or out * x.c * k * k > CALIBRATION_MAX_WEIGHTS:
                return None
            if x.spatial[0] < 14:
                s = 1
        return cls(out=out, kernel=k, stride=s, padding=(k - 1) // 2), (x,)

    def rewrite_candidate(self, rule: str) -> bool:
        """Every rule for standard convs; pointwise-grouped only for a 1×1 kernel."""
        if rule == "pointwise-grouped":
            return math.prod(self.kernel if isinstance(self.kernel, tuple) else (self.kernel,)) == 1
        return rule in STANDARD_CONV_RULES


@register("grouped_conv")
@dataclass(frozen=True, kw_only=True)
class GroupedConv(Conv):
    """Convolution split into ``groups`` independent groups (AlexNet, ResNeXt)."""

    style = KindStyle("conv", KIND_COLORS["grouped"])
    calibration = Calibration(("grouped",), generic=False)

    groups: int = field()  # required: a bare annotation would inherit Conv's default of 1

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """1×1 or 3×3 with 2–32 groups dividing both channel counts (ResNeXt,
        ShuffleNet V1)."""
        k, s = draw.choice((1, 3, 3)), draw.choice(CALIBRATION_STRIDES)
        x = draw.feature_map()
        out = draw.c_out(x.c)
        if x.spatial[0] < 14:
            s = 1
        groups = [g for g in (2, 3, 4, 8, 16, 32) if x.c % g == 0 and out % g == 0]
        if not groups:
            return None
        layer = cls(out=out, kernel=k, stride=s, padding=(k - 1) // 2, groups=draw.choice(groups))
        return layer, (x,)


@register("pointwise_conv")
@dataclass(frozen=True, kw_only=True)
class PointwiseConv(ConvLike):
    """1x1 convolution; grouped when ``groups`` > 1 (ShuffleNet's pointwise GConv)."""

    style = KindStyle("conv", KIND_COLORS["pointwise"])
    calibration = Calibration(("pointwise",), generic=False)

    out: int
    stride: IntOrTuple = 1
    groups: int = 1
    bias: bool = True

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A 1×1 convolution, stride 1, between drawn channel counts."""
        x = draw.feature_map()
        return cls(out=draw.c_out(x.c)), (x,)

    def geometry(self, x: Shape) -> ConvGeometry:
        return conv_geometry(
            x,
            kind=self.kind,
            c_out=self.out,
            groups=self.groups,
            kernel=1,
            stride=self.stride,
            dilation=1,
            padding=0,
            bias=self.bias,
        )

    def rewrite_candidate(self, rule: str) -> bool:
        return rule == "pointwise-grouped"


@register("depthwise_conv")
@dataclass(frozen=True, kw_only=True)
class DepthwiseConv(ConvLike):
    """``multiplier`` k x k filters per input channel (groups = C_in)."""

    style = KindStyle("conv", KIND_COLORS["depthwise"])
    calibration = Calibration(("depthwise",), generic=False)

    kernel: IntOrTuple
    stride: IntOrTuple = 1
    padding: Padding = 0
    pad_value: float = 0.0
    dilation: IntOrTuple = 1
    multiplier: int = 1
    bias: bool = True

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A k×k filter per channel, same padding (MobileNet)."""
        k, s = draw.choice(CALIBRATION_KERNELS), draw.choice(CALIBRATION_STRIDES)
        x = draw.feature_map()
        if k > x.spatial[0]:
            return None
        if x.spatial[0] < 14:
            s = 1
        return cls(kernel=k, stride=s, padding=(k - 1) // 2), (x,)

    def geometry(self, x: Shape) -> ConvGeometry:
        return conv_geometry(
            x,
            kind=self.kind,
            c_out=x.c * self.multiplier,
            groups=x.c,
            kernel=self.kernel,
            stride=self.stride,
            dilation=self.dilation,
            padding=self.padding,
            bias=self.bias,
        )

    @property
    def fill(self) -> float:
        return self.pad_value


@register("separable_conv")
@dataclass(frozen=True, kw_only=True)
class SeparableConv(Layer):
    """Depthwise then pointwise (Xception, MobileNet): two rows, ``.dw`` and ``.pw``; as
    in Keras' SeparableConv2D, only the pointwise row carries the bias."""

    style = KindStyle("composite", KIND_COLORS["conv"])

    out: int
    kernel: IntOrTuple
    stride: IntOrTuple = 1
    padding: Padding = 0
    pad_value: float = 0.0
    dilation: IntOrTuple = 1
    bias: bool = True

    def expand(self, name: str) -> list[tuple[str, Layer]]:
        return [
            (
                f"{name}.dw",
                DepthwiseConv(
                    kernel=self.kernel,
                    stride=self.stride,
                    padding=self.padding,
                    pad_value=self.pad_value,
                    dilation=self.dilation,
                    bias=False,
                ),
            ),
            (f"{name}.pw", PointwiseConv(out=self.out, bias=self.bias)),
        ]


@register("spatial_separable_conv")
@dataclass(frozen=True, kw_only=True)
class SpatialSeparableConv(Layer):
    """A k x 1 conv then a 1 x k conv (the Sobel trick): rows ``.kx1`` and ``.1xk``. The
    first maps C_in -> out with the H part of stride and padding, the second out -> out
    with the W part; only the second carries the bias. 2D only."""

    style = KindStyle("composite", KIND_COLORS["conv"])

    out: int
    kernel: int
    stride: IntOrTuple = 1
    padding: Padding = 0
    bias: bool = True

    def expand(self, name: str) -> list[tuple[str, Layer]]:
        k = self.kernel
        sh, sw = (
            (self.stride, self.stride)
            if isinstance(self.stride, int)
            else self._pair(self.stride, "stride")
        )
        p = self.padding
        first_p: Padding
        second_p: Padding
        if isinstance(p, str):
            first_p, second_p = p, p
        elif isinstance(p, int):
            first_p, second_p = (p, 0), (0, p)
        elif len(p) == 2:
            first_p, second_p = (p[0], 0), (0, p[1])
        elif len(p) == 4:
            first_p, second_p = (p[0], p[1], 0, 0), (0, 0, p[2], p[3])
        else:
            raise FieldError(
                f"'padding' has {len(p)} values; spatial_separable_conv is 2D and takes 1, 2 or 4."
            )
        return [
            (
                f"{name}.{k}x1",
                Conv(out=self.out, kernel=(k, 1), stride=(sh, 1), padding=first_p, bias=False),
            ),
            (
                f"{name}.1x{k}",
                Conv(out=self.out, kernel=(1, k), stride=(1, sw), padding=second_p, bias=self.bias),
            ),
        ]

    @staticmethod
    def _pair(value: tuple[int, ...], name: str) -> tuple[int, int]:
        if len(value) != 2:
            raise FieldError(f"'{name}' has {len(value)} values; spatial_separable_conv is 2D.")
        return value[0], value[1]
