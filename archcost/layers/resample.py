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
from typing import Any, Literal

from archcost.errors import FieldError, ShapeError
from archcost.layers.base import (
    KIND_COLORS,
    Calibration,
    Draw,
    Formula,
    IntOrTuple,
    KindStyle,
    Layer,
    NonNegative,
    Shape,
    flat_pads,
    formula,
    he_normal,
    per_dim,
    register,
    require_spatial,
    small_normal,
)

#: Padding amounts: one for every side, one per dim, or before/after for each dim.
Amounts = NonNegative | tuple[NonNegative, ...]


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
    ``output_padding`` adds cells at the end (each below the stride or the dilation), so
    ``out = (n − 1)·s − 2p + d·(k − 1) + output_padding + 1`` per dim; MACs
    ``C_in·(C_out/g)·k·in`` (every input cell meets every kernel tap)."""

    out: int
    kernel: IntOrTuple
    stride: IntOrTuple = 1
    padding: Amounts = 0
    output_padding: Amounts = 0
    dilation: IntOrTuple = 1
    groups: int = 1
    bias: bool = True
    style = KindStyle("conv", KIND_COLORS["conv"])
    nchwc_conv = False  # onnxruntime has no NCHWc ConvTranspose
    # onnxruntime's ConvTranspose is a GEMM then col2im, plain NCHW: kernel types of its
    # own, timed as decoders use it. col2im writes each output cell once when the kernel
    # windows tile the output (k ≤ s: U-Net's 2×2 of stride 2) and accumulates where
    # they overlap (DCGAN's 4×4 of stride 2): one linear model fitted across both
    # missed 2×2 up-convolutions by +10…+20% on 2026-12-02, two fit their samples within
    # 3–4% (median) each.
    calibration = Calibration(("transposed_conv", "transposed_conv_tiled"), generic=False)

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A ×2 up-convolution as decoders have them, from a map of at least 32
        channels (what decoders upsample) to half as many or as many channels: 2×2
        (U-Net) for ``transposed_conv_tiled``; 4×4 with padding 1 (DCGAN, FCN) or 3×3
        with output padding 1 for ``transposed_conv``."""
        x = draw.feature_map(draw.choice([c for c in draw.channels if c >= 32] or draw.channels))
        if kernel_type == "transposed_conv_tiled":
            kernel, padding, extra = 2, 0, 0
        else:
            kernel, padding, extra = draw.choice(((4, 1, 0), (3, 1, 1)))
        out = draw.choice((max(x.c // 2, 1), x.c))
        return cls(out=out, kernel=kernel, stride=2, padding=padding, output_padding=extra), (x,)

    def runtime_kernel(self) -> str:
        """``transposed_conv_tiled`` when the kernel windows do not overlap (each dim's
        dilated kernel at most its stride), else ``transposed_conv``: onnxruntime runs
        every one with its ConvTranspose kernel
        (:func:`archcost.runtime.predict.kernel_type`).

        >>> TransposedConv(out=8, kernel=2, stride=2).runtime_kernel()
        'transposed_conv_tiled'
        >>> TransposedConv(out=8, kernel=[3, 1], stride=2, padding=1).runtime_kernel()
        'transposed_conv'
        """
        dims = max(
            len(v) if isinstance(v, tuple | list) else 1
            for v in (self.kernel, self.stride, self.dilation)
        )
        k, s, d = (
            per_dim(v if isinstance(v, int) else tuple(v), dims, name)
            for v, name in (
                (self.kernel, "kernel"),
                (self.stride, "stride"),
                (self.dilation, "dilation"),
            )
        )
        tiled = all(di * (ki - 1) + 1 <= si for ki, si, di in zip(k, s, d, strict=True))
        return "transposed_conv_tiled" if tiled else "transposed_conv"

    def geometry(self, x: Shape) -> TransposedGeometry:
        require_spatial(x, self.kind)
        nd = len(x.spatial)
        kernel = per_dim(self.kernel, nd, "kernel")
        stride = per_dim(self.stride, nd, "stride")
        dilation = per_dim(self.dilation, nd, "dilation")
        pads = _pairs(self.padding, nd, "padding")
        extra = per_dim(self.output_padding, nd, "output_padding")
        for op, s, d in zip(extra, stride, dilation, strict=True):
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
        for n, k, s, d, (lo, hi), op in zip(
            x.spatial, kernel, stride, dilation, pads, extra, strict=True
        ):
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

    def scratch_elements(self, ins: Sequence[Shape]) -> int:
        """Every product, ``C_out·k·in``, and the uncropped output the forward scatters
        them into, ``C_out·Π max((n − 1)·s + d·(k − 1) + 1, p_before + out)``."""
        g = self.geometry(ins[0])
        full = math.prod(
            max((n - 1) * s + d * (k - 1) + 1, lo + o)
            for n, k, s, d, (lo, _), o in zip(
                ins[0].spatial, g.kernel, g.stride, g.dilation, g.padding, g.out, strict=True
            )
        )
        return g.c_out * g.k * math.prod(ins[0].spatial) + g.c_out * full

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
            zip(
                ins[0].spatial,
                g.kernel,
                g.stride,
                g.dilation,
                g.padding,
                g.output_padding,
                strict=True,
            )
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

    def rewrite_candidate(self, rule: str) -> bool:
        return rule == "resize-conv"

    def as_resize_conv(self, x: Shape) -> tuple[dict[str, Any], dict[str, Any]] | str:
        """The checkerboard-free alternative (Odena et al. 2016): a nearest resize by the
        stride, then a stride-1 conv with the same kernel, dilation, groups and bias,
        padded to give the same output size. Returns the two layers' fields, or why
        it cannot.

        Per dim the conv needs ``P = T − n·s + d·(k − 1)`` padding in total (``T`` the
        transposed conv's output), i.e. ``2d·(k − 1) + output_padding + 1 − s − 2p``,
        split with the odd one after.
        """
        g = self.geometry(x)
        pads = []
        for n, k, s, d, o in zip(x.spatial, g.kernel, g.stride, g.dilation, g.out, strict=True):
            total = o - n * s + d * (k - 1)
            if total < 0:
                return (
                    f"the padding crops more than a conv over the resized map can: it "
                    f"would need {total} padding"
                )
            pads += [total // 2, total - total // 2]
        upsample = {"scale": list(g.stride), "mode": "nearest"}
        conv = {
            "out": self.out,
            "kernel": list(g.kernel),
            "stride": 1,
            "padding": pads,
            "pad_value": 0.0,
            "dilation": list(g.dilation),
            "groups": self.groups,
            "bias": self.bias,
        }
        return upsample, conv

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        """``F.conv_transposeNd``; padding that is not symmetric is cropped afterwards."""
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        g = self.geometry(ins[0])
        op = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[len(g.out)]
        if all(lo == hi for lo, hi in g.padding):
            return op(
                xs[0],
                weights["weight"],
                weights.get("bias"),
                g.stride,
                tuple(lo for lo, _ in g.padding),
                g.output_padding,
                g.groups,
                g.dilation,
            )
        y = op(
            xs[0],
            weights["weight"],
            weights.get("bias"),
            g.stride,
            0,
            g.output_padding,
            g.groups,
            g.dilation,
        )
        window = tuple(slice(lo, lo + o) for (lo, _), o in zip(g.padding, g.out, strict=True))
        return y[(slice(None), slice(None), *window)]

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense  # lazy: numpy loads only on the paths that execute

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

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``ConvTranspose``."""
        g = self.geometry(ins[0])
        tensors = [inputs[0], graph.weight(name, "weight")]
        if self.bias:
            tensors.append(graph.weight(name, "bias"))
        return graph.node(
            "ConvTranspose",
            tensors,
            name,
            outputs=[name],
            group=g.groups,
            kernel_shape=list(g.kernel),
            strides=list(g.stride),
            dilations=list(g.dilation),
            pads=[lo for lo, _ in g.padding] + [hi for _, hi in g.padding],
            output_padding=list(g.output_padding),
        )


@register("upsample")
@dataclass(frozen=True, kw_only=True)
class Upsample(Layer):
    """Resize the spatial dims by an integer ``scale`` (one, or one per dim), to a
    ``size``, or to the size of a second input. Modes: ``nearest``, ``bilinear`` (2D),
    ``trilinear`` (3D); ``align_corners`` as in PyTorch (linear modes only)."""

    scale: IntOrTuple | None = None
    size: IntOrTuple | None = None
    mode: Literal["nearest", "bilinear", "trilinear"] = "nearest"
    align_corners: bool = False
    arity = (1, 2)
    style = KindStyle("movement", KIND_COLORS["movement"])
    nchwc = "follow"
    # nearest is a copy, priced well by the generic element-wise model; onnxruntime's
    # linear Resize runs plain NCHW even after a blocked convolution and costs about
    # 20x as much per element (measured: 64x28x28 x2 bilinear 240 µs, nearest 12 µs),
    # so it is a kernel type of its own, timed as decoders use it
    calibration = Calibration(("upsample_linear",), generic=False)
    plain_kernels = frozenset({"upsample_linear"})  # converted back to NCHW first

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A bilinear ×2 on a drawn feature map."""
        return cls(scale=2, mode="bilinear"), (draw.feature_map(),)

    def runtime_kernel(self) -> str:
        """``upsample_linear`` for bilinear and trilinear modes (another kernel)."""
        return self.kind if self.mode == "nearest" else "upsample_linear"

    def check(self) -> None:
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
        assert self.scale is not None  # exactly one of scale, size, a second input
        return tuple(
            n * s for n, s in zip(x.spatial, per_dim(self.scale, nd, "scale"), strict=True)
        )

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return ins[0].with_spatial(self.target(ins))

    def per_element(self, ins: Sequence[Shape]) -> int:
        return 0 if self.mode == "nearest" else 2 * 2 ** len(ins[0].spatial) - 1

    def flops(self, ins: Sequence[Shape]) -> int:
        return self.per_element(ins) * self.out_shape(ins).numel

    def formulas(self, ins: Sequence[Shape]) -> list[Formula]:
        """Counts, then each output length: ``n·scale``, or the size it is given."""
        lines = super().formulas(ins)
        target = self.target(ins)
        if self.scale is not None and len(ins) == 1:
            scales = per_dim(self.scale, len(target), "scale")
            for axis, (n, sc) in enumerate(zip(ins[0].spatial, scales, strict=True)):
                lines.append(formula(f"out[{axis}]", "n·scale", f"{n}·{sc}"))
        else:
            source = "size" if len(ins) == 1 else "the second input's size"
            for axis, t in enumerate(target):
                lines.append(formula(f"out[{axis}]", source, str(t)))
        return lines

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        if self.mode == "nearest":
            return "0 (nearest copies)", "0"
        d = len(ins[0].spatial)
        return (
            "(2^d mults + 2^d − 1 adds)/element",
            f"(2·{2**d} − 1)·{self.out_shape(ins).numel:,}",
        )

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        """``F.interpolate`` with the scale factor when one is given (PyTorch's source
        index then uses 1/scale), else the size."""
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        extra = {} if self.mode == "nearest" else {"align_corners": self.align_corners}
        if self.scale is not None and not self.align_corners:
            scales = [float(s) for s in per_dim(self.scale, len(ins[0].spatial), "scale")]
            return F.interpolate(xs[0], scale_factor=scales, mode=self.mode, **extra)
        return F.interpolate(xs[0], size=list(self.target(ins)), mode=self.mode, **extra)

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense  # lazy: numpy loads only on the paths that execute

        ins = [Shape(tuple(x.shape[1:])) for x in xs]
        size = self.target(ins)
        ratios = None
        if self.scale is not None and not self.align_corners:
            ratios = [1 / s for s in per_dim(self.scale, len(size), "scale")]
        mode = "nearest" if self.mode == "nearest" else "linear"
        return kernels_dense.upsample(xs[0], size, mode, self.align_corners, ratios)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Resize`` by the scales (or to the sizes) PyTorch's interpolate uses: nearest
        is ``asymmetric``/``floor``; linear ``pytorch_half_pixel`` or ``align_corners``."""
        nd = len(ins[0].spatial)
        if self.mode == "nearest":
            attrs: dict[str, Any] = {
                "mode": "nearest",
                "nearest_mode": "floor",
                "coordinate_transformation_mode": "asymmetric",
            }
        else:
            attrs = {
                "mode": "linear",
                "coordinate_transformation_mode": "align_corners"
                if self.align_corners
                else "pytorch_half_pixel",
            }
        if self.scale is not None and len(ins) == 1:
            scales = [1.0, 1.0, *map(float, per_dim(self.scale, nd, "scale"))]
            args = [inputs[0], "", graph.floats(f"{name}.scales", scales)]
        else:
            # Resize takes the whole output size; N and C come from the input at run time.
            nc = graph.node("Shape", inputs[:1], name, start=0, end=2)[0]
            size = graph.ints(f"{name}.size", self.target(ins))
            full = graph.node("Concat", [nc, size], name, axis=0)[0]
            args = [inputs[0], "", "", full]
        return graph.node("Resize", args, name, outputs=[name], **attrs)


@register("crop")
@dataclass(frozen=True, kw_only=True)
class Crop(Layer):
    """Centre crop to ``size``, or to the spatial size of a second input (U-Net's
    skip connections). The window starts at ``⌊(n − t)/2⌋``. A view: no FLOPs."""

    size: IntOrTuple | None = None
    arity = (1, 2)
    is_view = True
    style = KindStyle("movement", KIND_COLORS["movement"])

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
        if len(target) != nd or any(t > n for t, n in zip(target, x.spatial, strict=True)):
            raise ShapeError(
                f"cannot crop [{x}] to a {'x'.join(map(str, target))} window.",
                hint="A crop only shrinks: the target must fit in the input.",
            )
        return x.with_spatial(target)

    def formulas(self, ins: Sequence[Shape]) -> list[Formula]:
        """Counts (all 0: a view), then where each window starts: ``⌊(n − t)/2⌋``."""
        lines = super().formulas(ins)
        target = self.out_shape(ins).spatial
        for axis, (n, t) in enumerate(zip(ins[0].spatial, target, strict=True)):
            lines.append(formula(f"start[{axis}]", "⌊(n − t)/2⌋", f"⌊({n} − {t})/2⌋"))
        return lines

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        """A slice, as torchvision's center_crop (offset ⌊(n − t)/2⌋ here)."""
        target = self.out_shape(ins).spatial
        window = tuple(
            slice((n - t) // 2, (n - t) // 2 + t)
            for n, t in zip(ins[0].spatial, target, strict=True)
        )
        return xs[0][(slice(None), slice(None), *window)]

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense  # lazy: numpy loads only on the paths that execute

        target = self.out_shape([Shape(tuple(x.shape[1:])) for x in xs]).spatial
        return kernels_dense.crop(xs[0], target)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Slice`` of the centre window along the spatial axes."""
        x = ins[0]
        target = self.out_shape(ins).spatial
        starts = [(n - t) // 2 for n, t in zip(x.spatial, target, strict=True)]
        axes = list(range(2, 2 + len(target)))
        return graph.node(
            "Slice",
            [
                inputs[0],
                graph.ints(f"{name}.starts", starts),
                graph.ints(f"{name}.ends", [s + t for s, t in zip(starts, target, strict=True)]),
                graph.ints(f"{name}.axes", axes),
            ],
            name,
            outputs=[name],
        )


@register("pad")
@dataclass(frozen=True, kw_only=True)
class Pad(Layer):
    """Pad the spatial dims: one amount, one per dim, or before/after for each dim.
    ``constant`` fills with ``value``; ``reflect`` mirrors without repeating the edge;
    ``replicate`` repeats the edge. A copy: memory traffic, no FLOPs."""

    padding: Amounts
    mode: Literal["constant", "reflect", "replicate"] = "constant"
    value: float = 0.0
    style = KindStyle("movement", KIND_COLORS["movement"])

    def pads(self, x: Shape) -> tuple[tuple[int, int], ...]:
        require_spatial(x, self.kind)
        pads = _pairs(self.padding, len(x.spatial), "padding")
        if self.mode == "reflect" and any(
            max(p) >= n for p, n in zip(pads, x.spatial, strict=True)
        ):
            raise ShapeError(
                f"reflect padding must be smaller than the input along each dim; "
                f"input [{x}], padding {[list(p) for p in pads]}.",
                hint="Use replicate or constant padding, or pad less.",
            )
        return pads

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        pads = self.pads(ins[0])
        return ins[0].with_spatial(
            [n + lo + hi for n, (lo, hi) in zip(ins[0].spatial, pads, strict=True)]
        )

    def formulas(self, ins: Sequence[Shape]) -> list[Formula]:
        """Counts (all 0), then each output length: ``n + before + after``."""
        lines = super().formulas(ins)
        for axis, (n, (lo, hi)) in enumerate(zip(ins[0].spatial, self.pads(ins[0]), strict=True)):
            lines.append(formula(f"out[{axis}]", "n + before + after", f"{n} + {lo} + {hi}"))
        return lines

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        pads = flat_pads(self.pads(ins[0]))
        if self.mode == "constant":
            return F.pad(xs[0], pads, value=self.value)
        return F.pad(xs[0], pads, mode=self.mode)

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense  # lazy: numpy loads only on the paths that execute

        pads = self.pads(Shape(tuple(xs[0].shape[1:])))
        return kernels_dense.pad(xs[0], pads, self.mode, self.value)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Pad`` (constant, reflect, or edge for replicate) of the spatial axes."""
        pads = self.pads(ins[0])
        full = [0, 0, *(lo for lo, _ in pads), 0, 0, *(hi for _, hi in pads)]
        args = [inputs[0], graph.ints(f"{name}.pads", full)]
        if self.mode == "constant":
            args.append(graph.scalar(f"{name}.value", self.value))
        mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[self.mode]
        return graph.node("Pad", args, name, outputs=[name], mode=mode)
