"""ConvNeXt's kinds: layer norm over channels, GELU, and the per-channel layer scale.

FLOPs: ``layernorm`` 7 per element (add for the mean, subtract it, square, add for the
variance, multiply by 1/σ, γ multiply, β add) and 4 per position (two divisions by C,
``+ eps``, the reciprocal square root); ``gelu`` 5 per element
(``½·x·(1 + erf(x/√2))``: divide, erf, add, two multiplies) or 9 with
``approximate: tanh`` (x³ 2, ·0.044715 1, + x 1, ·√(2/π) 1, tanh 1, + 1 1,
·x 1, ·½ 1); ``scale`` 1 per element. Params: layernorm 2C (γ, β), scale C (γ).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from archcost.errors import FieldError
from archcost.layers.base import KindStyle, Layer, Shape, near_one, register, small_normal


@register("layernorm")
@dataclass(frozen=True, kw_only=True)
class LayerNorm(Layer):
    """Layer norm over the channels at each position (ConvNeXt's LayerNorm2d; on a flat
    [F] input, over the features): γ and β, C params each."""

    eps: float = 1e-6
    style = KindStyle("norm", "#969696")

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
        from archcost import kernels_dense

        return kernels_dense.layernorm(xs[0], weights["gamma"], weights["beta"], self.eps)

    def init_weights(self, ins: Sequence[Shape], rng: Any) -> dict[str, Any]:
        c = (ins[0].c,)
        return {"gamma": near_one(rng, c), "beta": small_normal(rng, c)}


@register("gelu")
@dataclass(frozen=True, kw_only=True)
class Gelu(Layer):
    """``x·Φ(x)`` (exact, with erf), or PyTorch's ``approximate: tanh`` form."""

    approximate: Literal["none", "tanh"] = "none"
    style = KindStyle("activation", "#9c9ede")

    @property
    def flops_per_element(self) -> int:  # type: ignore[override]
        return 9 if self.approximate == "tanh" else 5

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        import torch.nn.functional as F  # lazy: torch is optional (benchmarks, tests)

        return F.gelu(xs[0], approximate=self.approximate)

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        from archcost import kernels_dense

        return kernels_dense.gelu(xs[0], self.approximate)


@register("scale")
@dataclass(frozen=True, kw_only=True)
class Scale(Layer):
    """A learnable per-channel multiplier γ (ConvNeXt's layer scale): C params."""

    flops_per_element = 1
    style = KindStyle("norm", "#bdbdbd")

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
        from archcost import kernels_dense

        return kernels_dense.scale(xs[0], weights["gamma"])

    def init_weights(self, ins: Sequence[Shape], rng: Any) -> dict[str, Any]:
        return {"gamma": near_one(rng, (ins[0].c,))}
