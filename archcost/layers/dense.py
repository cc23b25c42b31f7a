"""Fully connected layers.

params = ``in·out + out·bias``; macs = ``in·out``; flops = ``macs + out·(in − 1 + bias)``.
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
    Formula,
    KindStyle,
    Layer,
    Shape,
    formula,
    he_normal,
    register,
    small_normal,
)


@register("linear")
@dataclass(frozen=True, kw_only=True)
class Linear(Layer):
    """Fully connected on a flat [F] input; [C, 1, 1] counts as flat."""

    out: int
    bias: bool = True
    style = KindStyle("dense", KIND_COLORS["dense"])
    calibration = Calibration(("linear",), generic=False, cold_weights=True)

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A classifier or bottleneck layer: 128–4096 features in, 10–4096 out."""
        features = draw.choice((128, 256, 512, 1024, 1280, 2048, 4096))
        return cls(out=draw.choice((10, 100, 256, 1000, 1024, 4096))), (Shape((features,)),)

    def features(self, x: Shape) -> int:
        if not x.is_flat:
            raise ShapeError(
                f"linear needs a flat input, got [{x}].",
                hint="Add {type: flatten} (or a global_avgpool) before it.",
            )
        return x.numel

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        self.features(ins[0])
        return Shape((self.out,))

    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {"weight": (self.out, self.features(ins[0]))}
        if self.bias:
            shapes["bias"] = (self.out,)
        return shapes

    def macs(self, ins: Sequence[Shape]) -> int:
        return self.features(ins[0]) * self.out

    def flops(self, ins: Sequence[Shape]) -> int:
        return self.macs(ins) + self.out * (self.features(ins[0]) - 1 + self.bias)

    def formulas(self, ins: Sequence[Shape]) -> list[Formula]:
        f = self.features(ins[0])
        return [
            formula(
                "params",
                "in·out + out·bias",
                f"{f}·{self.out}" + (f" + {self.out}" if self.bias else ""),
            ),
            formula("macs", "in·out", f"{f}·{self.out}"),
            formula(
                "flops",
                "macs + out·(in − 1 + bias)",
                f"{self.macs(ins):,} + {self.out}·({f} − 1 + {int(self.bias)})",
            ),
        ]

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels  # lazy: numpy loads only on the paths that execute

        x = xs[0].reshape(xs[0].shape[0], -1)
        return kernels.linear(x, weights["weight"], weights.get("bias"))

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
        import torch  # lazy: torch is optional (the reference benchmark and its tests)
        import torch.nn.functional as F

        # A [C, 1, 1] input counts as flat.
        return F.linear(torch.flatten(xs[0], 1), weights["weight"], weights.get("bias"))

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Gemm`` (B transposed, as PyTorch stores it), after a ``Flatten`` of a
        [C, 1, 1] input."""
        x = inputs[0]
        if len(ins[0].dims) > 1:
            x = graph.node("Flatten", [x], name, axis=1)[0]
        tensors = [x, graph.weight(name, "weight")]
        if self.bias:
            tensors.append(graph.weight(name, "bias"))
        return graph.node("Gemm", tensors, name, outputs=[name], transB=1)
