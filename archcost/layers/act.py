"""Elementwise kinds: activations, batchnorm, dropout, identity, flatten.

FLOPs per element: relu, relu6, sigmoid, tanh 1 (one unit op each); swish 2
(x·sigmoid(x)); hsigmoid 3 (relu6(x + 3)/6: add, clamp, divide); hswish 4
(x·hsigmoid(x)); softmax 3 (exp, sum, divide); batchnorm 2 (inference: one multiply,
one add, after folding mean/var into scale/shift). dropout, identity, flatten 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from archcost.errors import FieldError
from archcost.layers.base import (
    KIND_COLORS,
    Calibration,
    Draw,
    KindStyle,
    Layer,
    Shape,
    near_one,
    register,
    small_normal,
)


def _kernels() -> ModuleType:
    from archcost import kernels  # lazy: numpy loads only on the paths that execute

    return kernels


def _torch() -> tuple[ModuleType, ModuleType]:
    import torch  # lazy: torch is optional (the reference benchmark and its tests)
    import torch.nn.functional as F

    return torch, F


@dataclass(frozen=True, kw_only=True)
class Activation(Layer):
    """An elementwise function: ``kernel`` picks its NumPy kernel from
    :mod:`archcost.kernels`, ``torch_op`` its PyTorch op (each given the module)."""

    flops_per_element = 1
    kernel: ClassVar[Callable[[ModuleType], Callable[..., tuple[Any, int]]]]
    torch_op: ClassVar[Callable[[ModuleType, ModuleType], Callable[..., Any]]]
    #: ``(graph, name, x) -> outputs``: the ONNX nodes (set below, per activation).
    onnx_op: ClassVar[Callable[[Any, str, str], list[str]]]

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any = None) -> tuple[Any, int]:
        fn = type(self).kernel(_kernels())
        if out is not None:
            return fn(xs[0], out=out)
        return fn(xs[0])

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        torch, F = _torch()
        if inplace and self.inplace:
            return type(self).torch_op(torch, F)(xs[0], inplace=True)
        return type(self).torch_op(torch, F)(xs[0])

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """The kind's ``onnx_op`` (its docstring says which nodes)."""
        return type(self).onnx_op(graph, name, inputs[0])


def _activation(
    name: str,
    kind: str,
    flops: int,
    doc: str,
    kernel: Callable[[ModuleType], Callable[..., tuple[Any, int]]],
    torch_op: Callable[[ModuleType, ModuleType], Callable[..., Any]],
    inplace: bool = False,
    after_conv: bool = True,
) -> type[Activation]:
    """An activation kind; ``after_conv``: calibration tries it after a convolution
    (every activation but softmax, which ends a classifier)."""
    cls: type[Activation] = dataclass(frozen=True, kw_only=True)(
        type(
            name,
            (Activation,),
            {
                "__doc__": doc,
                "flops_per_element": flops,
                "inplace": inplace,
                "__module__": __name__,
                "__qualname__": name,
                "style": KindStyle("activation", KIND_COLORS["activation"]),
                "calibration": Calibration(
                    (kind,), after_conv="activation" if after_conv else None
                ),
                "kernel": staticmethod(kernel),
                "torch_op": staticmethod(torch_op),
            },
        )
    )
    register(kind)(cls)
    return cls


Relu = _activation(
    "Relu", "relu", 1, "max(x, 0).", lambda k: k.relu, lambda t, F: F.relu, inplace=True
)
Relu6 = _activation(
    "Relu6",
    "relu6",
    1,
    "min(max(x, 0), 6) (MobileNet).",
    lambda k: k.relu6,
    lambda t, F: F.relu6,
    inplace=True,
)
Sigmoid = _activation(
    "Sigmoid",
    "sigmoid",
    1,
    "1 / (1 + exp(−x)).",
    lambda k: k.sigmoid,
    lambda t, F: t.sigmoid,
)
Tanh = _activation("Tanh", "tanh", 1, "tanh(x).", lambda k: k.tanh, lambda t, F: t.tanh)
Swish = _activation(
    "Swish", "swish", 2, "x · sigmoid(x) (SiLU).", lambda k: k.swish, lambda t, F: F.silu
)
HSigmoid = _activation(
    "HSigmoid",
    "hsigmoid",
    3,
    "relu6(x + 3) / 6 (MobileNet V3).",
    lambda k: k.hsigmoid,
    lambda t, F: F.hardsigmoid,
)
HSwish = _activation(
    "HSwish",
    "hswish",
    4,
    "x · hsigmoid(x) (MobileNet V3).",
    lambda k: k.hswish,
    lambda t, F: F.hardswish,
)
Softmax = _activation(
    "Softmax",
    "softmax",
    3,
    "exp(x) / Σ exp(x) over the channel (feature) axis.",
    lambda k: k.softmax,
    lambda t, F: lambda x: F.softmax(x, dim=1),
    after_conv=False,
)


def _onnx(op: str, **attrs: Any) -> Callable[[Any, str, str], list[str]]:
    """One ONNX node ``op`` on the input, named after the layer."""

    def export(graph: Any, name: str, x: str) -> list[str]:
        return graph.node(op, [x], name, outputs=[name], **attrs)

    shown = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in attrs.items()
    )
    export.__doc__ = f"``{op}``" + (f" ({shown})" if shown else "")
    return export


def _onnx_relu6(graph: Any, name: str, x: str) -> list[str]:
    """``Clip`` (min 0, max 6)."""
    low, high = graph.scalar(f"{name}.min", 0.0), graph.scalar(f"{name}.max", 6.0)
    return graph.node("Clip", [x, low, high], name, outputs=[name])


def _onnx_swish(graph: Any, name: str, x: str) -> list[str]:
    """``Sigmoid`` and ``Mul``: x·σ(x), as PyTorch exports SiLU."""
    return graph.node("Mul", [x, graph.node("Sigmoid", [x], name)[0]], name, outputs=[name])


# onnxruntime's NCHWc kernels take these activations as they come (and ReLU for free
# inside a convolution's kernel); the others run plain NCHW.
for _cls in (Relu, Sigmoid, Tanh, Swish):
    _cls.nchwc = "follow"
Relu.free_in_conv_kernel = True

for _cls, _export in (
    (Relu, _onnx("Relu")),
    (Relu6, _onnx_relu6),
    (Sigmoid, _onnx("Sigmoid")),
    (Tanh, _onnx("Tanh")),
    (Swish, _onnx_swish),
    (HSigmoid, _onnx("HardSigmoid", alpha=1 / 6, beta=0.5)),
    (HSwish, _onnx("HardSwish")),
    (Softmax, _onnx("Softmax", axis=1)),
):
    _cls.onnx_op = staticmethod(_export)


@register("batchnorm")
@dataclass(frozen=True, kw_only=True)
class BatchNorm(Layer):
    """Inference batchnorm: γ, β trainable (2C params), mean and variance buffers (2C)."""

    eps: float = 1e-5
    flops_per_element = 2
    inplace = True
    style = KindStyle("norm", KIND_COLORS["norm"])
    nchwc = "follow"
    free_in_conv_kernel = True
    calibration = Calibration(("batchnorm",), after_conv="norm")

    def check(self) -> None:
        if self.eps <= 0:
            raise FieldError(f"field 'eps' must be positive, got {self.eps}.")

    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        return {"gamma": (ins[0].c,), "beta": (ins[0].c,)}

    def buffer_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        return {"running_mean": (ins[0].c,), "running_var": (ins[0].c,)}

    def forward(self, xs: list[Any], weights: dict[str, Any], out: Any = None) -> tuple[Any, int]:
        return _kernels().batchnorm(
            xs[0],
            weights["gamma"],
            weights["beta"],
            weights["running_mean"],
            weights["running_var"],
            self.eps,
            out=out,
        )

    def init_weights(self, ins: Sequence[Shape], rng: Any) -> dict[str, Any]:
        """γ and the running variance near 1, β and the running mean near 0."""
        c = (ins[0].c,)
        return {
            "gamma": near_one(rng, c),
            "beta": small_normal(rng, c),
            "running_mean": small_normal(rng, c),
            "running_var": near_one(rng, c),
        }

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        _, F = _torch()  # torchvision's batchnorm is not in place
        return F.batch_norm(
            xs[0],
            weights["running_mean"],
            weights["running_var"],
            weights["gamma"],
            weights["beta"],
            training=False,
            momentum=0.0,
            eps=self.eps,
        )

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``BatchNormalization`` (inference)."""
        tensors = [graph.weight(name, w) for w in ("gamma", "beta", "running_mean", "running_var")]
        return graph.node(
            "BatchNormalization", [inputs[0], *tensors], name, outputs=[name], epsilon=self.eps
        )


@register("dropout")
@dataclass(frozen=True, kw_only=True)
class Dropout(Layer):
    """Identity at inference; ``p`` is kept for the record."""

    p: float = 0.5
    is_view = True
    style = KindStyle("movement", KIND_COLORS["movement"])
    nchwc = "transparent"

    def check(self) -> None:
        if not 0 <= self.p < 1:
            raise FieldError(f"field 'p' must be in [0, 1), got {self.p}.")

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        return xs[0].copy(), 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        return xs[0]  # inference

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Dropout`` with its ratio (an identity at inference)."""
        ratio = graph.scalar(f"{name}.ratio", self.p)
        return graph.node("Dropout", [inputs[0], ratio], name, outputs=[name])


@register("identity")
@dataclass(frozen=True, kw_only=True)
class Identity(Layer):
    """Passes its input through."""

    is_view = True
    style = KindStyle("movement", KIND_COLORS["movement"])
    nchwc = "transparent"

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        return xs[0].copy(), 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        return xs[0]

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Identity``."""
        return graph.node("Identity", inputs[:1], name, outputs=[name])


@register("flatten")
@dataclass(frozen=True, kw_only=True)
class Flatten(Layer):
    """[C, H, W] -> [C·H·W] (a view: no FLOPs, no memory traffic)."""

    is_view = True
    style = KindStyle("movement", KIND_COLORS["movement"])

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return Shape((ins[0].numel,))

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        return xs[0].reshape(xs[0].shape[0], -1).copy(), 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        torch, _ = _torch()
        return torch.flatten(xs[0], 1)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``Flatten`` (axis 1)."""
        return graph.node("Flatten", inputs[:1], name, outputs=[name], axis=1)


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
    style = KindStyle("norm", KIND_COLORS["norm"])
    calibration = Calibration(("lrn",), generic=False)

    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """AlexNet's LRN (n = 5, α = 1e-4, β = 0.75, k = 2) on a drawn feature map."""
        return cls(size=5, alpha=1e-4, beta=0.75, k=2.0), (draw.feature_map(),)

    def flops(self, ins: Sequence[Shape]) -> int:
        return (2 * self.size + 3) * ins[0].numel

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        return "(2n + 3)/element", f"(2·{self.size} + 3)·{ins[0].numel:,}"

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        import numpy as np  # lazy: numpy loads only on the paths that execute

        x = xs[0]
        sq = np.square(x, dtype=np.float64)
        pad = [(0, 0)] * x.ndim
        pad[1] = (self.size // 2, (self.size - 1) // 2)
        csum = np.cumsum(np.pad(sq, pad), axis=1)
        csum = np.concatenate([np.zeros_like(csum[:, :1]), csum], axis=1)
        window = csum[:, self.size :] - csum[:, : -self.size]
        div = (self.k + self.alpha / self.size * window) ** self.beta
        return (x / div).astype(np.float32), 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        _, F = _torch()
        return F.local_response_norm(xs[0], self.size, alpha=self.alpha, beta=self.beta, k=self.k)

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """``LRN`` (bias = k)."""
        return graph.node(
            "LRN",
            inputs[:1],
            name,
            outputs=[name],
            size=self.size,
            alpha=self.alpha,
            beta=self.beta,
            bias=self.k,
        )
