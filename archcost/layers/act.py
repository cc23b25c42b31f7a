"""Elementwise kinds: activations, batchnorm, dropout, identity, flatten.

FLOPs per element: relu, relu6, sigmoid, tanh 1 (one unit op each); swish 2
(x·sigmoid(x)); hsigmoid 3 (relu6(x + 3)/6: add, clamp, divide); hswish 4
(x·hsigmoid(x)); softmax 3 (exp, sum, divide); batchnorm 2 (inference: one multiply,
one add, after folding mean/var into scale/shift). dropout, identity, flatten 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archcost.errors import FieldError
from archcost.layers.base import Layer, Shape, register


@dataclass(frozen=True, kw_only=True)
class Activation(Layer):
    """An elementwise function; the forward is ``kernels.<kind>``."""

    flops_per_element = 1

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any = None) -> tuple[Any, int]:
        from archcost import kernels
        if out is not None:
            return getattr(kernels, self.kind)(xs[0], out=out)
        return getattr(kernels, self.kind)(xs[0])


def _activation(kind: str, flops: int, doc: str, inplace: bool = False) -> type[Layer]:
    cls = dataclass(frozen=True, kw_only=True)(
        type(kind.capitalize(), (Activation,), {"__doc__": doc, "flops_per_element": flops,
                                                "inplace": inplace, "__module__": __name__}))
    return register(kind)(cls)


Relu = _activation("relu", 1, "max(x, 0).", inplace=True)
Relu6 = _activation("relu6", 1, "min(max(x, 0), 6) (MobileNet).", inplace=True)
Sigmoid = _activation("sigmoid", 1, "1 / (1 + exp(−x)).")
Tanh = _activation("tanh", 1, "tanh(x).")
Swish = _activation("swish", 2, "x · sigmoid(x) (SiLU).")
HSigmoid = _activation("hsigmoid", 3, "relu6(x + 3) / 6 (MobileNet V3).")
HSwish = _activation("hswish", 4, "x · hsigmoid(x) (MobileNet V3).")
Softmax = _activation("softmax", 3, "exp(x) / Σ exp(x) over the channel (feature) axis.")


@register("batchnorm")
@dataclass(frozen=True, kw_only=True)
class BatchNorm(Layer):
    """Inference batchnorm: γ, β trainable (2C params), mean and variance buffers (2C)."""

    eps: float = 1e-5
    flops_per_element = 2
    inplace = True

    def check(self) -> None:
        if self.eps <= 0:
            raise FieldError(f"field 'eps' must be positive, got {self.eps}.")

    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        return {"gamma": (ins[0].c,), "beta": (ins[0].c,)}

    def buffer_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        return {"running_mean": (ins[0].c,), "running_var": (ins[0].c,)}

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any = None) -> tuple[Any, int]:
        from archcost import kernels
        return kernels.batchnorm(xs[0], weights["gamma"], weights["beta"],
                                 weights["running_mean"], weights["running_var"], self.eps,
                                 out=out)


@register("dropout")
@dataclass(frozen=True, kw_only=True)
class Dropout(Layer):
    """Identity at inference; ``p`` is kept for the record."""

    p: float = 0.5
    is_view = True

    def check(self) -> None:
        if not 0 <= self.p < 1:
            raise FieldError(f"field 'p' must be in [0, 1), got {self.p}.")

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        return xs[0].copy(), 0


@register("identity")
@dataclass(frozen=True, kw_only=True)
class Identity(Layer):
    """Passes its input through."""

    is_view = True

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        return xs[0].copy(), 0


@register("flatten")
@dataclass(frozen=True, kw_only=True)
class Flatten(Layer):
    """[C, H, W] -> [C·H·W] (a view: no FLOPs, no memory traffic)."""

    is_view = True

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return Shape((ins[0].numel,))

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        return xs[0].reshape(xs[0].shape[0], -1).copy(), 0


@register("lrn")
@dataclass(frozen=True, kw_only=True)
class LocalResponseNorm(Layer):
    """Local response normalisation across channels (AlexNet, Sec. 3.3), PyTorch's form:
    ``b_c = a_c / (k + α/n · Σ_{c' near c} a_c'²)^β`` over ``n`` neighbouring channels.

    FLOPs per element: ``2n + 3`` (n squares, n − 1 adds, the α/n scale, + k, the
    power, the division). No weights.
    """

    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def flops(self, ins: Sequence[Shape]) -> int:
        return (2 * self.size + 3) * ins[0].numel

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        return "(2n + 3)/element", f"(2·{self.size} + 3)·{ins[0].numel:,}"

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        import numpy as np
        x = xs[0]
        sq = np.square(x, dtype=np.float64)
        pad = [(0, 0)] * x.ndim
        pad[1] = (self.size // 2, (self.size - 1) // 2)
        csum = np.cumsum(np.pad(sq, pad), axis=1)
        csum = np.concatenate([np.zeros_like(csum[:, :1]), csum], axis=1)
        window = csum[:, self.size:] - csum[:, :-self.size]
        div = (self.k + self.alpha / self.size * window) ** self.beta
        return (x / div).astype(np.float32), 0
