"""Each kind's ONNX export: the nodes one layer becomes.

Every function takes ``(layer, b, name, xs, ins, weights)``: the layer, the
:class:`~archcost.onnx.exporter.OnnxBuilder`, the layer's name, its input tensor names,
its input shapes (per sample) and its drawn weights; it returns the output tensor names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from archcost.layers import act, conv, dense, merge, pool

if TYPE_CHECKING:
    from archcost.layers.base import Layer, Shape
    from archcost.onnx.exporter import OnnxBuilder

Exporter = Callable[..., list[str]]


def _conv(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    from archcost.onnx.exporter import onnx_pads

    g = layer.geometry(ins[0])
    x = xs[0]
    pads = onnx_pads(g.padding)
    pad_value = float(getattr(layer, "pad_value", 0.0))
    if pad_value != 0.0 and any(pads):
        x = b.node(
            "Pad",
            [
                x,
                b.ints(f"{name}.pads", [0, 0, *pads[: len(g.out)], 0, 0, *pads[len(g.out) :]]),
                b.scalar(f"{name}.pad_value", pad_value),
            ],
            name,
            mode="constant",
        )[0]
        pads = [0] * len(pads)
    inputs = [x, b.weight(f"{name}.weight", weights["weight"])]
    if g.bias:
        inputs.append(b.weight(f"{name}.bias", weights["bias"]))
    return b.node(
        "Conv",
        inputs,
        name,
        outputs=[name],
        group=g.groups,
        kernel_shape=list(g.kernel),
        strides=list(g.stride),
        dilations=list(g.dilation),
        pads=pads,
    )


def _linear(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    x = xs[0]
    if len(ins[0].dims) > 1:  # [C, 1, 1] counts as flat; Gemm wants [N, F]
        x = b.node("Flatten", [x], name, axis=1)[0]
    inputs = [x, b.weight(f"{name}.weight", weights["weight"])]
    if layer.bias:
        inputs.append(b.weight(f"{name}.bias", weights["bias"]))
    return b.node("Gemm", inputs, name, outputs=[name], transB=1)


def _batchnorm(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    inputs = [xs[0]] + [
        b.weight(f"{name}.{w}", weights[w])
        for w in ("gamma", "beta", "running_mean", "running_var")
    ]
    return b.node("BatchNormalization", inputs, name, outputs=[name], epsilon=layer.eps)


def _unary(op: str, **attrs: Any) -> Exporter:
    def export(
        layer: Any,
        b: OnnxBuilder,
        name: str,
        xs: list[str],
        ins: list[Shape],
        weights: dict[str, np.ndarray],
    ) -> list[str]:
        return b.node(op, xs[:1], name, outputs=[name], **attrs)

    return export


def _relu6(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    return b.node(
        "Clip",
        [xs[0], b.scalar(f"{name}.min", 0.0), b.scalar(f"{name}.max", 6.0)],
        name,
        outputs=[name],
    )


def _swish(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    s = b.node("Sigmoid", xs[:1], name)[0]
    return b.node("Mul", [xs[0], s], name, outputs=[name])


def _dropout(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    # Inference: an identity; the ratio is kept for the record (and the round trip).
    return b.node("Dropout", [xs[0], b.scalar(f"{name}.ratio", layer.p)], name, outputs=[name])


def _flatten(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    return b.node("Flatten", xs[:1], name, outputs=[name], axis=1)


def _lrn(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    return b.node(
        "LRN",
        xs[:1],
        name,
        outputs=[name],
        size=layer.size,
        alpha=layer.alpha,
        beta=layer.beta,
        bias=layer.k,
    )


def _pool(op: str) -> Exporter:
    def export(
        layer: Any,
        b: OnnxBuilder,
        name: str,
        xs: list[str],
        ins: list[Shape],
        weights: dict[str, np.ndarray],
    ) -> list[str]:
        from archcost.onnx.exporter import onnx_pads

        kernel, stride, pads, _ = layer.window(ins[0])
        attrs: dict[str, Any] = {
            "kernel_shape": list(kernel),
            "strides": list(stride),
            "pads": onnx_pads(pads),
            "ceil_mode": int(layer.ceil_mode),
        }
        if op == "AveragePool":
            attrs["count_include_pad"] = 1
        return b.node(op, xs[:1], name, outputs=[name], **attrs)

    return export


def _adaptive_avgpool(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    sizes = layer.sizes(ins[0])
    spatial = ins[0].spatial
    if all(o == 1 for o in sizes):
        return b.node("GlobalAveragePool", xs[:1], name, outputs=[name])
    if any(n % o for n, o in zip(spatial, sizes)):
        raise NotImplementedError(f"uneven adaptive windows ({list(spatial)} -> {list(sizes)})")
    kernel = [n // o for n, o in zip(spatial, sizes)]
    return b.node("AveragePool", xs[:1], name, outputs=[name], kernel_shape=kernel, strides=kernel)


def _merge(op: str) -> Exporter:
    def export(
        layer: Any,
        b: OnnxBuilder,
        name: str,
        xs: list[str],
        ins: list[Shape],
        weights: dict[str, np.ndarray],
    ) -> list[str]:
        if op == "Add" and len(xs) > 2:
            return b.node("Sum", xs, name, outputs=[name])
        out = xs[0]
        for i, x in enumerate(xs[1:], start=1):
            last = i == len(xs) - 1
            out = b.node(
                op,
                [out, x],
                name,
                outputs=[name] if last else None,
                suffix="" if i == 1 else f"_{i - 1}",
            )[0]
        return [out]

    return export


def _concat(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    return b.node("Concat", xs, name, outputs=[name], axis=1)


def _channel_split(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    sizes = layer.sizes(ins[0])
    return b.node(
        "Split",
        [xs[0], b.ints(f"{name}.sizes", sizes)],
        name,
        outputs=[f"{name}:{i}" for i in range(len(sizes))],
        axis=1,
    )


def _channel_shuffle(
    layer: Any,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    x = ins[0]
    g = layer.groups
    five = b.node(
        "Reshape", [xs[0], b.ints(f"{name}.grouped", [-1, g, x.c // g, *x.spatial])], name
    )[0]
    perm = [0, 2, 1, *range(3, 3 + len(x.spatial))]
    t = b.node("Transpose", [five], name, perm=perm)[0]
    return b.node(
        "Reshape", [t, b.ints(f"{name}.shape", [-1, *x.dims])], name, outputs=[name], suffix="_1"
    )


EXPORTERS: list[tuple[type, Exporter]] = [
    (conv.ConvLike, _conv),
    (dense.Linear, _linear),
    (act.BatchNorm, _batchnorm),
    (act.Relu, _unary("Relu")),
    (act.Relu6, _relu6),
    (act.Sigmoid, _unary("Sigmoid")),
    (act.Tanh, _unary("Tanh")),
    (act.Swish, _swish),
    (act.HSigmoid, _unary("HardSigmoid", alpha=1 / 6, beta=0.5)),
    (act.HSwish, _unary("HardSwish")),
    (act.Softmax, _unary("Softmax", axis=1)),
    (act.Dropout, _dropout),
    (act.Identity, _unary("Identity")),
    (act.Flatten, _flatten),
    (act.LocalResponseNorm, _lrn),
    (pool.MaxPool, _pool("MaxPool")),
    (pool.AvgPool, _pool("AveragePool")),
    (pool.GlobalAvgPool, _unary("GlobalAveragePool")),
    (pool.AdaptiveAvgPool, _adaptive_avgpool),
    (merge.Add, _merge("Add")),
    (merge.Mul, _merge("Mul")),
    (merge.Concat, _concat),
    (merge.ChannelSplit, _channel_split),
    (merge.ChannelShuffle, _channel_shuffle),
]


def to_onnx(
    layer: Layer,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    for cls, export in EXPORTERS:
        if isinstance(layer, cls):
            return export(layer, b, name, xs, ins, weights)
    raise NotImplementedError
