"""Dense-prediction kinds: transposed convolution, upsampling, crop and pad.

``transposed_conv`` (the "deconvolution", e.g. U-Net's 2x2 up-convolution):

* out   = ``(n − 1)·s − 2p + d·(k − 1) + output_padding + 1`` per spatial dim
* params = ``C_in·(C_out/g)·k + C_out·bias``
* macs  = ``C_in·(C_out/g)·k·in`` — every input element meets every kernel weight of
  its group (the convention PyTorch-based counters use; products that fall in the
  cropped border still count, as the scatter forms them)
* flops = ``2·macs + C_out·out·bias`` (each product is one multiply and one add into
  the output)

``upsample`` FLOPs: nearest 0; (bi/tri)linear ``2^d`` multiplications and ``2^d − 1``
additions per output element (a weighted sum of the ``2^d`` neighbours), so 7 in 2D and
15 in 3D. ``crop`` is a view (no FLOPs, no traffic); ``pad`` copies (no FLOPs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archcost.errors import FieldError, ShapeError, did_you_mean
from archcost.layers.base import (
    Formula,
    IntOrTuple,
    KindStyle,
    Layer,
    Padding,
    Shape,
    formula,
    he_normal,
    per_dim,
    register,
    require_spatial,
    small_normal,
)


def _pairs(padding: int | tuple[int, ...], ndim: int, name: str) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` per spatial dim from an int, one value per dim, or 2 per dim.

    >>> _pairs(1, 2, "padding"), _pairs((1, 2, 3, 4), 2, "padding")
    (((1, 1), (1, 1)), ((1, 2), (3, 4)))
    """
    if isinstance(padding, int):
        return ((padding, padding),) * ndim
    if len(padding) == ndim:
        return tuple((p, p) for p in padding)
    if len(padding) == 2 * ndim:
        return tuple((padding[2 * i], padding[2 * i + 1]) for i in range(ndim))
    raise ShapeError(
        f"'{name}' has {len(padding)} values but the input has {ndim} spatial dims.",
        hint=f"Give one value, {ndim} (one per dim) or {2 * ndim} (before and after for each dim).",
    )


def _no_string(value: Any, name: str) -> None:
    if isinstance(value, str):
        raise FieldError(f"field '{name}' expects an integer or a list of them, got {value!r}.")


def _choice(value: str, name: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise FieldError(
            f"field '{name}' must be one of {', '.join(choices)}; got {value!r}.",
            hint=did_you_mean(str(value), choices),
        )


@dataclass(frozen=True)
class TransposedGeometry:
    c_in: int
    c_out: int
    groups: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    output_padding: tuple[int, ...]
    out: tuple[int, ...]

    @property
    def k(self) -> int:
        return math.prod(self.kernel)


@register("transposed_conv")
@dataclass(frozen=True, kw_only=True)
class TransposedConv(Layer):
    """Transposed convolution ("deconvolution", "up-convolution"), 2D and 3D, PyTorch's
    ConvTranspose: ``padding`` is cropped from both ends of the full output,
    ``output_padding`` adds cells at the end (each below the stride or the dilation)."""

    out: int
    kernel: IntOrTuple
    stride: IntOrTuple = 1
    padding: Padding = 0
    output_padding: Padding = 0
    dilation: IntOrTuple = 1
    groups: int = 1
    bias: bool = True
    style = KindStyle("conv", "#6baed6")

    def check(self) -> None:
        _no_string(self.padding, "padding")
        _no_string(self.output_padding, "output_padding")

    def geometry(self, x: Shape) -> TransposedGeometry:
        require_spatial(x, self.kind)
        nd = len(x.spatial)
        kernel = per_dim(self.kernel, nd, "kernel")
        stride = per_dim(self.stride, nd, "stride")
        dilation = per_dim(self.dilation, nd, "dilation")
        pads = _pairs(self.padding, nd, "padding")  # type: ignore[arg-type]
        extra = per_dim(self.output_padding, nd, "output_padding")  # type: ignore[arg-type]
        for op, s, d in zip(extra, stride, dilation):
            if op >= max(s, d):
                raise ShapeError(
                    f"output_padding {op} must be smaller than the stride ({s}) "
                    f"or the dilation ({d}).",
                    hint="output_padding only picks among the output sizes a "
                    "stride allows; use padding or a crop for more.",
                )
        for c, what in ((x.c, "in_channels"), (self.out, "out_channels")):
            if c % self.groups:
                raise ShapeError(
                    f"{what}={c} is not divisible by groups={self.groups}.",
                    hint="Use groups dividing both channel counts.",
                )
        out = []
        for n, k, s, d, (lo, hi), op in zip(x.spatial, kernel, stride, dilation, pads, extra):
            length = (n - 1) * s - lo - hi + d * (k - 1) + op + 1
            if length < 1:
                raise ShapeError(
                    f"the padding ({lo} + {hi}) crops away the whole output along "
                    f"a spatial dim; input [{x}].",
                    hint="Use less padding.",
                )
            out.append(length)
        return TransposedGeometry(
            x.c, self.out, self.groups, kernel, stride, dilation, pads, extra, tuple(out)
        )

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return Shape((self.out, *self.geometry(ins[0]).out))

    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        g = self.geometry(ins[0])
        shapes = {"weight": (g.c_in, g.c_out // g.groups, *g.kernel)}
        if self.bias:
            shapes["bias"] = (g.c_out,)
        return shapes

    def macs(self, ins: Sequence[Shape]) -> int:
        g = self.geometry(ins[0])
        return g.c_in * (g.c_out // g.groups) * g.k * math.prod(ins[0].spatial)

    def flops(self, ins: Sequence[Shape]) -> int:
        g = self.geometry(ins[0])
        return 2 * self.macs(ins) + g.c_out * math.prod(g.out) * self.bias

    def formulas(self, ins: Sequence[Shape]) -> list[Formula]:
        g = self.geometry(ins[0])
        kern = "·".join(map(str, g.kernel))
        spatial = "·".join(map(str, ins[0].spatial))
        outs = "·".join(map(str, g.out))
        cog = g.c_out // g.groups
        lines = [
            formula(
                "params",
                "C_in·(C_out/g)·k + C_out·bias",
                f"{g.c_in}·{cog}·({kern})" + (f" + {g.c_out}" if self.bias else ""),
            ),
            formula("macs", "C_in·(C_out/g)·k·in", f"{g.c_in}·{cog}·({kern})·({spatial})"),
            formula(
                "flops",
                "2·macs + C_out·out·bias",
                f"2·{self.macs(ins):,} + {g.c_out}·({outs})·{int(self.bias)}",
            ),
        ]
        for axis, (n, k, s, d, (lo, hi), op) in enumerate(
            zip(ins[0].spatial, g.kernel, g.stride, g.dilation, g.padding, g.output_padding)
        ):
            lines.append(
                formula(
                    f"out[{axis}]",
                    "(n − 1)·s − 2p + d·(k − 1) + output_padding + 1",
                    f"({n} − 1)·{s} − {lo + hi} + {d}·({k} − 1) + {op} + 1",
                )
            )
        return lines

    def init_weights(self, ins: Sequence[Shape], rng: Any) -> dict[str, Any]:
        """He-scaled weight; bias from N(0, 0.1²)."""
        shapes = self.weight_shapes(ins)
        out = {"weight": he_normal(rng, shapes["weight"])}
        if "bias" in shapes:
            out["bias"] = small_normal(rng, shapes["bias"])
        return out

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense

        g = self.geometry(Shape(tuple(xs[0].shape[1:])))
        return kernels_dense.transposed_conv(
            xs[0],
            weights["weight"],
            weights.get("bias"),
            stride=g.stride,
            padding=g.padding,
            dilation=g.dilation,
            output_padding=g.output_padding,
            groups=g.groups,
        )


UPSAMPLE_MODES = ("nearest", "bilinear", "trilinear")


@register("upsample")
@dataclass(frozen=True, kw_only=True)
class Upsample(Layer):
    """Resize the spatial dims by an integer ``scale`` (one, or one per dim), to a
    ``size``, or to the size of a second input. Modes: ``nearest``, ``bilinear`` (2D),
    ``trilinear`` (3D); ``align_corners`` as in PyTorch (linear modes only)."""

    scale: IntOrTuple | None = None
    size: IntOrTuple | None = None
    mode: str = "nearest"
    align_corners: bool = False
    arity = (1, 2)
    style = KindStyle("movement", "#74c476")

    def check(self) -> None:
        _choice(self.mode, "mode", UPSAMPLE_MODES)
        if self.align_corners and self.mode == "nearest":
            raise FieldError(
                "align_corners only applies to the bilinear and trilinear modes.",
                hint="Remove 'align_corners', or use mode: bilinear.",
            )

    def target(self, ins: Sequence[Shape]) -> tuple[int, ...]:
        x = ins[0]
        require_spatial(x, self.kind)
        nd = len(x.spatial)
        given = sum(v is not None for v in (self.scale, self.size)) + (len(ins) == 2)
        if given != 1:
            raise ShapeError(
                "upsample needs exactly one of 'scale', 'size' or a second input "
                "whose spatial size it takes.",
                hint="e.g. {type: upsample, scale: 2} or {type: upsample, inputs: [x, skip]}.",
            )
        if self.mode != "nearest" and {"bilinear": 2, "trilinear": 3}[self.mode] != nd:
            raise ShapeError(
                f"mode {self.mode} does not fit a [{x}] input.",
                hint="Use bilinear on [C, H, W] and trilinear on [C, D, H, W].",
            )
        if len(ins) == 2:
            if len(ins[1].spatial) != nd:
                raise ShapeError(
                    f"upsample to [{ins[1]}] needs an input with as many spatial dims; got [{x}]."
                )
            return ins[1].spatial
        if self.size is not None:
            return per_dim(self.size, nd, "size")
        return tuple(n * s for n, s in zip(x.spatial, per_dim(self.scale, nd, "scale")))  # type: ignore[arg-type]

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return ins[0].with_spatial(self.target(ins))

    def per_element(self, ins: Sequence[Shape]) -> int:
        return 0 if self.mode == "nearest" else 2 * 2 ** len(ins[0].spatial) - 1

    def flops(self, ins: Sequence[Shape]) -> int:
        return self.per_element(ins) * self.out_shape(ins).numel

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        if self.mode == "nearest":
            return "0 (nearest copies)", "0"
        d = len(ins[0].spatial)
        return (
            "(2^d mults + 2^d − 1 adds)/element",
            f"(2·{2**d} − 1)·{self.out_shape(ins).numel:,}",
        )

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense

        ins = [Shape(tuple(x.shape[1:])) for x in xs]
        size = self.target(ins)
        ratios = None
        if self.scale is not None and not self.align_corners:
            ratios = [1 / s for s in per_dim(self.scale, len(size), "scale")]
        mode = "nearest" if self.mode == "nearest" else "linear"
        return kernels_dense.upsample(xs[0], size, mode, self.align_corners, ratios)


@register("crop")
@dataclass(frozen=True, kw_only=True)
class Crop(Layer):
    """Centre crop to ``size``, or to the spatial size of a second input (U-Net's
    skip connections). The window starts at ``⌊(n − t)/2⌋``. A view: no FLOPs."""

    size: IntOrTuple | None = None
    arity = (1, 2)
    is_view = True
    style = KindStyle("movement", "#a1d99b")

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        require_spatial(x, self.kind)
        nd = len(x.spatial)
        if (self.size is None) == (len(ins) == 1):
            raise ShapeError(
                "crop needs exactly one of 'size' or a second input whose spatial size it takes.",
                hint="e.g. {type: crop, size: 56} or {type: crop, inputs: [enc4, up1]}.",
            )
        target = per_dim(self.size, nd, "size") if self.size is not None else ins[1].spatial
        if len(target) != nd or any(t > n for t, n in zip(target, x.spatial)):
            raise ShapeError(
                f"cannot crop [{x}] to a {'x'.join(map(str, target))} window.",
                hint="A crop only shrinks: the target must fit in the input.",
            )
        return x.with_spatial(target)

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense

        target = self.out_shape([Shape(tuple(x.shape[1:])) for x in xs]).spatial
        return kernels_dense.crop(xs[0], target)


PAD_MODES = ("constant", "reflect", "replicate")


@register("pad")
@dataclass(frozen=True, kw_only=True)
class Pad(Layer):
    """Pad the spatial dims: one amount, one per dim, or before/after for each dim.
    ``constant`` fills with ``value``; ``reflect`` mirrors without repeating the edge;
    ``replicate`` repeats the edge. A copy: memory traffic, no FLOPs."""

    padding: Padding
    mode: str = "constant"
    value: float = 0.0
    style = KindStyle("movement", "#c7e9c0")

    def check(self) -> None:
        _no_string(self.padding, "padding")
        _choice(self.mode, "mode", PAD_MODES)

    def pads(self, x: Shape) -> tuple[tuple[int, int], ...]:
        require_spatial(x, self.kind)
        pads = _pairs(self.padding, len(x.spatial), "padding")  # type: ignore[arg-type]
        if self.mode == "reflect" and any(max(p) >= n for p, n in zip(pads, x.spatial)):
            raise ShapeError(
                f"reflect padding must be smaller than the input along each dim; "
                f"input [{x}], padding {[list(p) for p in pads]}.",
                hint="Use replicate or constant padding, or pad less.",
            )
        return pads

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        pads = self.pads(ins[0])
        return ins[0].with_spatial([n + lo + hi for n, (lo, hi) in zip(ins[0].spatial, pads)])

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense

        pads = self.pads(Shape(tuple(xs[0].shape[1:])))
        return kernels_dense.pad(xs[0], pads, self.mode, self.value)
