"""Merging and branching: add, mul, concat, channel_split, channel_shuffle.

FLOPs: add and mul ``n − 1`` per output element for ``n`` inputs; concat, split and
shuffle 0 (they only move data; shuffle still costs memory traffic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archcost.errors import ShapeError
from archcost.layers.base import (
    KIND_COLORS,
    Calibration,
    Draw,
    KindStyle,
    Layer,
    Sections,
    Shape,
    register,
)


def _shapes(ins: Sequence[Shape]) -> str:
    return ", ".join(f"[{s}]" for s in ins)


@register("add")
@dataclass(frozen=True, kw_only=True)
class Add(Layer):
    """Elementwise sum of two or more same-shape inputs (residual connections)."""

    arity = (2, None)
    inplace = True
    style = KindStyle("merge", KIND_COLORS["movement"], "diamond")
    nchwc = "all_inputs"
    free_in_conv_kernel = True
    conv_sum = True
    calibration = Calibration(("add",), after_conv="residual")

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        if any(s != ins[0] for s in ins):
            raise ShapeError(
                f"add needs inputs of one shape, got {_shapes(ins)}.",
                hint="Make the branches agree (a projection shortcut, or a "
                "'when' that skips the add when shapes differ).",
            )
        return ins[0]

    def flops(self, ins: Sequence[Shape]) -> int:
        return (len(ins) - 1) * ins[0].numel

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        return "(n − 1)·elements", f"({len(ins)} − 1)·{ins[0].numel:,}"

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any = None) -> tuple[Any, int]:
        import numpy as np  # lazy: numpy loads only on the paths that execute

        out = np.add(xs[0], xs[1], out=out)  # out may be xs[0] itself
        for x in xs[2:]:
            out += x
        return out, 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        y = xs[0]
        for x in xs[1:]:
            y = y.add_(x) if inplace else y + x  # torchvision's `out += identity`
        return y

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Add`` of two inputs, ``Sum`` of more."""
        return graph.node("Add" if len(inputs) == 2 else "Sum", list(inputs), name, outputs=[name])


@register("mul")
@dataclass(frozen=True, kw_only=True)
class Mul(Layer):
    """Elementwise product; a [C, 1, 1] input broadcasts (squeeze-and-excite)."""

    arity = (2, None)
    style = KindStyle("merge", KIND_COLORS["movement"], "diamond")
    nchwc = "all_inputs"
    calibration = Calibration(("mul",))

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        full = max(ins, key=lambda s: s.numel)
        for s in ins:
            if s != full and not (s.c == full.c and s.is_flat and len(s.dims) == len(full.dims)):
                raise ShapeError(
                    f"mul needs inputs of one shape, or [C, 1, 1] beside "
                    f"[C, H, W]; got {_shapes(ins)}."
                )
        return full

    def flops(self, ins: Sequence[Shape]) -> int:
        return (len(ins) - 1) * self.out_shape(ins).numel

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        return "(n − 1)·elements", f"({len(ins)} − 1)·{self.out_shape(ins).numel:,}"

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        big = max(xs, key=lambda a: a.size)
        out = big.copy()
        for x in xs:
            if x is not big:
                out *= x
        return out, 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        y = xs[0]
        for x in xs[1:]:
            y = y * x  # a [C, 1, 1] input broadcasts (squeeze-and-excite)
        return y

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """A chain of ``Mul`` (broadcasting [C, 1, 1])."""
        out = inputs[0]
        for i, x in enumerate(inputs[1:], start=1):
            out = graph.node(
                "Mul",
                [out, x],
                name,
                suffix="" if i == 1 else f"_{i - 1}",
                outputs=[name] if i == len(inputs) - 1 else None,
            )[0]
        return [out]


@register("concat")
@dataclass(frozen=True, kw_only=True)
class Concat(Layer):
    """Concatenation along the channel axis."""

    arity = (1, None)
    style = KindStyle("movement", KIND_COLORS["movement"], "square")
    nchwc = "channel_blocks"
    calibration = Calibration(("concat",))

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """Two branches of the same drawn shape (an Inception or DenseNet join)."""
        x = draw.feature_map()
        return cls(), (x, x)

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        if any(s.spatial != ins[0].spatial or len(s.dims) != len(ins[0].dims) for s in ins):
            raise ShapeError(
                f"concat needs the same spatial size on every input, got {_shapes(ins)}.",
                hint="Downsample the other branch too (e.g. an avgpool with the same stride).",
            )
        return ins[0].with_c(sum(s.c for s in ins))

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        import numpy as np  # lazy: numpy loads only on the paths that execute

        return np.concatenate(xs, axis=1), 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        import torch  # lazy: torch is optional (the reference benchmark and its tests)

        return torch.cat(xs, dim=1)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Concat`` (axis 1)."""
        return graph.node("Concat", list(inputs), name, outputs=[name], axis=1)


@register("channel_split")
@dataclass(frozen=True, kw_only=True)
class ChannelSplit(Layer):
    """Split the channels into parts: outputs ``name:0``, ``name:1``, ... (ShuffleNet V2);
    ``sections`` is a count N of equal parts or a list of channel counts.

    A view in the frameworks, so no memory traffic is counted.
    """

    sections: Sections = 2
    is_view = True
    style = KindStyle("movement", KIND_COLORS["movement"], "triangle-right")
    #: a view in archcost's counts, but onnxruntime copies (calibration counts the copy)
    runtime_copy = True
    calibration = Calibration(("channel_split",))

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """Halves of a drawn feature map with an even channel count (ShuffleNet V2)."""
        x = draw.feature_map()
        return (cls(), (x,)) if x.c % 2 == 0 else None

    def sizes(self, x: Shape) -> tuple[int, ...]:
        if isinstance(self.sections, int):
            if x.c % self.sections:
                raise ShapeError(
                    f"channel_split: in_channels={x.c} is not divisible by "
                    f"sections={self.sections}.",
                    hint="Give the sizes as a list, e.g. sections: [a, b].",
                )
            return (x.c // self.sections,) * self.sections
        if sum(self.sections) != x.c:
            raise ShapeError(
                f"channel_split: sections {list(self.sections)} add up to "
                f"{sum(self.sections)}, but the input has {x.c} channels."
            )
        return tuple(self.sections)

    def out_shapes(self, ins: Sequence[Shape]) -> tuple[Shape, ...]:
        return tuple(ins[0].with_c(c) for c in self.sizes(ins[0]))

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return self.out_shapes(ins)[0]

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        import numpy as np  # lazy: numpy loads only on the paths that execute

        bounds = np.cumsum(self.sizes(Shape(tuple(xs[0].shape[1:]))))[:-1]
        # Views, as in the frameworks (and as the zero-traffic convention counts it).
        return np.split(xs[0], bounds, axis=1), 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        import torch  # lazy: torch is optional (the reference benchmark and its tests)

        return list(torch.split(xs[0], list(self.sizes(ins[0])), dim=1))

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Split`` along the channels; outputs ``name:0``, ``name:1`` ..."""
        sizes = self.sizes(ins[0])
        return graph.node(
            "Split",
            [inputs[0], graph.ints(f"{name}.sizes", sizes)],
            name,
            outputs=[f"{name}:{i}" for i in range(len(sizes))],
            axis=1,
        )


@register("channel_shuffle")
@dataclass(frozen=True, kw_only=True)
class ChannelShuffle(Layer):
    """ShuffleNet's permutation: reshape C to (g, C/g), transpose, flatten."""

    groups: int
    style = KindStyle("movement", KIND_COLORS["movement"], "star")
    dynamic_reshape = True
    calibration = Calibration(("channel_shuffle",))

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """2, 3, 4 or 8 groups dividing a drawn feature map's channels."""
        x = draw.feature_map()
        groups = [g for g in (2, 3, 4, 8) if x.c % g == 0]
        return (cls(groups=draw.choice(groups)), (x,)) if groups else None

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        if ins[0].c % self.groups:
            raise ShapeError(
                f"channel_shuffle: in_channels={ins[0].c} is not divisible by groups={self.groups}."
            )
        return ins[0]

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels  # lazy: numpy loads only on the paths that execute

        return kernels.channel_shuffle(xs[0], self.groups)

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        # torchvision's ShuffleNetV2 idiom: view, transpose, contiguous, view.
        x = xs[0]
        n, c, *rest = x.shape
        g = self.groups
        return x.view(n, g, c // g, *rest).transpose(1, 2).contiguous().view(n, c, *rest)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Reshape`` to (g, C/g), ``Transpose``, ``Reshape`` back: what PyTorch exports."""
        x, g = ins[0], self.groups
        grouped = graph.ints(f"{name}.grouped", [-1, g, x.c // g, *x.spatial])
        five = graph.node("Reshape", [inputs[0], grouped], name)[0]
        swapped = graph.node(
            "Transpose", [five], name, perm=[0, 2, 1, *range(3, 3 + len(x.spatial))]
        )[0]
        return graph.node(
            "Reshape",
            [swapped, graph.ints(f"{name}.shape", [-1, *x.dims])],
            name,
            outputs=[name],
            suffix="_1",
        )
