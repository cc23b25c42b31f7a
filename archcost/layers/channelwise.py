"""ConvNeXt's kinds: layer norm over channels, GELU, and the per-channel layer scale.

FLOPs: ``layernorm`` 7 per element (add for the mean, subtract it, square, add for the
variance, multiply by 1/σ, γ multiply, β add) and 4 per position (two divisions by C,
``+ eps``, the reciprocal square root); ``gelu`` 5 per element
(``½·x·(1 + erf(x/√2))``: divide, erf, add, two multiplies) or 9 with
``approximate: tanh`` (x³ 2, ·0.044715 1, + x 1, ·√(2/π) 1, tanh 1, + 1 1,
·x 1, ·½ 1); ``scale`` 1 per element. Params: layernorm 2C (γ, β), scale C (γ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from archcost.errors import FieldError
from archcost.layers.base import (
    KIND_COLORS,
    Calibration,
    KindStyle,
    Layer,
    Shape,
    near_one,
    register,
    small_normal,
)


@register("layernorm")
@dataclass(frozen=True, kw_only=True)
class LayerNorm(Layer):
    """Layer norm over the channels at each position (ConvNeXt's LayerNorm2d; on a flat
    [F] input, over the features): γ and β, C params each."""

    eps: float = 1e-6
    style = KindStyle("norm", KIND_COLORS["norm"])
    calibration = Calibration(("layernorm",))

    def check(self) -> None:
        if self.eps <= 0:
            raise FieldError(f"field 'eps' must be positive, got {self.eps}.")

    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        return {"gamma": (ins[0].c,), "beta": (ins[0].c,)}

    def flops(self, ins: Sequence[Shape]) -> int:
        positions = ins[0].numel // ins[0].c
        return 7 * ins[0].numel + 4 * positions

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        positions = ins[0].numel // ins[0].c
        return "7·elements + 4·positions", f"7·{ins[0].numel:,} + 4·{positions:,}"

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        """``F.layer_norm`` over the channels moved last (torchvision's LayerNorm2d)."""
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        x = xs[0].movedim(1, -1)
        y = F.layer_norm(x, (ins[0].c,), weights["gamma"], weights["beta"], self.eps)
        return y.movedim(-1, 1)

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense  # lazy: numpy loads only on the paths that execute

        return kernels_dense.layernorm(xs[0], weights["gamma"], weights["beta"], self.eps)

    def init_weights(self, ins: Sequence[Shape], rng: Any) -> dict[str, Any]:
        c = (ins[0].c,)
        return {"gamma": near_one(rng, c), "beta": small_normal(rng, c)}

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``LayerNormalization`` over the last axis; on [C, H, W] between a
        ``Transpose`` to channels-last and one back (PyTorch's LayerNorm2d export)."""
        if graph.opset < 17:
            raise NotImplementedError(
                "LayerNormalization needs opset 17 or newer; export with --opset 17"
            )
        gamma, beta = graph.weight(name, "gamma"), graph.weight(name, "beta")
        nd = len(ins[0].spatial)
        if nd == 0:
            return graph.node(
                "LayerNormalization",
                [inputs[0], gamma, beta],
                name,
                outputs=[name],
                axis=-1,
                epsilon=self.eps,
            )
        last = graph.node("Transpose", inputs[:1], name, perm=[0, *range(2, 2 + nd), 1])[0]
        normed = graph.node(
            "LayerNormalization", [last, gamma, beta], name, axis=-1, epsilon=self.eps
        )[0]
        return graph.node(
            "Transpose",
            [normed],
            name,
            outputs=[name],
            suffix="_1",
            perm=[0, 1 + nd, *range(1, 1 + nd)],
        )


@register("gelu")
@dataclass(frozen=True, kw_only=True)
class Gelu(Layer):
    """``x·Φ(x)`` (exact, with erf), or PyTorch's ``approximate: tanh`` form."""

    approximate: Literal["none", "tanh"] = "none"
    style = KindStyle("activation", KIND_COLORS["activation"])
    nchwc = "follow"
    calibration = Calibration(("gelu",))

    @property
    def flops_per_element(self) -> int:  # type: ignore[override]
        return 9 if self.approximate == "tanh" else 5

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        return F.gelu(xs[0], approximate=self.approximate)

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense  # lazy: numpy loads only on the paths that execute

        return kernels_dense.gelu(xs[0], self.approximate)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Gelu`` from opset 20; before it the decomposition exporters write:
        ``x·½·(1 + erf(x/√2))`` (Div, Erf, Add, Mul, Mul), or the tanh form."""
        x = inputs[0]
        if graph.opset >= 20:
            return graph.node("Gelu", [x], name, outputs=[name], approximate=self.approximate)
        half, one = graph.scalar(f"{name}.half", 0.5), graph.scalar(f"{name}.one", 1.0)
        if self.approximate == "tanh":
            cube = graph.node(
                "Mul", [x, graph.node("Mul", [x, x], name, suffix="_sq")[0]], name, suffix="_cube"
            )[0]
            inner = graph.node(
                "Add",
                [
                    x,
                    graph.node(
                        "Mul", [cube, graph.scalar(f"{name}.c", 0.044715)], name, suffix="_c"
                    )[0],
                ],
                name,
                suffix="_in",
            )[0]
            scaled = graph.node(
                "Mul", [inner, graph.scalar(f"{name}.k", math.sqrt(2 / math.pi))], name, suffix="_k"
            )[0]
            t = graph.node("Tanh", [scaled], name)[0]
        else:
            scaled = graph.node("Div", [x, graph.scalar(f"{name}.sqrt2", math.sqrt(2))], name)[0]
            t = graph.node("Erf", [scaled], name)[0]
        plus = graph.node("Add", [t, one], name)[0]
        xs = graph.node("Mul", [x, plus], name)[0]
        return graph.node("Mul", [xs, half], name, outputs=[name], suffix="_1")


@register("scale")
@dataclass(frozen=True, kw_only=True)
class Scale(Layer):
    """A learnable per-channel multiplier γ (ConvNeXt's layer scale): C params."""

    flops_per_element = 1
    style = KindStyle("norm", KIND_COLORS["norm"])

    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        return {"gamma": (ins[0].c,)}

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        gamma = weights["gamma"].reshape((-1,) + (1,) * (xs[0].dim() - 2))
        if inplace:
            return xs[0].mul_(gamma)
        return xs[0] * gamma

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense  # lazy: numpy loads only on the paths that execute

        return kernels_dense.scale(xs[0], weights["gamma"])

    def init_weights(self, ins: Sequence[Shape], rng: Any) -> dict[str, Any]:
        return {"gamma": near_one(rng, (ins[0].c,))}

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Mul`` by γ stored as [C, 1, 1] (the layer scale as PyTorch exports it)."""
        shape = (ins[0].c, *(1 for _ in ins[0].spatial))
        return graph.node(
            "Mul", [inputs[0], graph.weight(name, "gamma", shape)], name, outputs=[name]
        )
