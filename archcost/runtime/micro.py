"""Single-kernel ONNX micro-models, built with ``onnx.helper``, for calibration.

Each builder returns a serialized opset-17 ``ModelProto`` with one input ``x`` (batch 1,
float32), seeded weights as initializers and nodes named after what they are, so
onnxruntime's profiler and optimised graph can be read back. ``followers`` appends
nodes after a convolution, which is how :mod:`archcost.runtime.calibrate` finds out
which sequences the runtime fuses into one kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archcost.onnx import require

OPSET = 17

#: The follower nodes fusion detection tries after a convolution (archcost kind names
#: -> the ONNX ops that implement them).
FOLLOWERS = ("batchnorm", "relu", "relu6", "sigmoid", "hsigmoid", "hswish", "tanh", "add")


def _model(nodes: list[Any], inputs: list[Any], output: Any, inits: list[Any]) -> bytes:
    onnx = require("onnx")
    from onnx import helper

    graph = helper.make_graph(nodes, "micro", inputs, [output], inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="archcost-calibrate"
    )
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime >= 1.14
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def _value(name: str, shape: Sequence[int]) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, *shape])


def _weights(name: str, shape: Sequence[int], seed: int, positive: bool = False) -> Any:
    import numpy as np
    from onnx import numpy_helper

    rng = np.random.default_rng(seed)
    w = rng.standard_normal(tuple(shape), dtype=np.float32) * np.float32(0.1)
    if positive:
        w = np.abs(w) + np.float32(1)
    return numpy_helper.from_array(w, name)


def _scalar(name: str, value: float) -> Any:
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(value, np.float32), name)


def elementwise_nodes(
    kind: str, x: str, out: str, prefix: str, c: int, inits: list[Any], extra_inputs: list[str]
) -> list[Any]:
    """The ONNX nodes of one elementwise archcost kind from ``x`` to ``out``."""
    from onnx import helper

    if kind == "relu":
        return [helper.make_node("Relu", [x], [out], name=prefix)]
    if kind == "relu6":
        inits += [_scalar(f"{prefix}.lo", 0.0), _scalar(f"{prefix}.hi", 6.0)]
        return [helper.make_node("Clip", [x, f"{prefix}.lo", f"{prefix}.hi"], [out], name=prefix)]
    if kind == "sigmoid":
        return [helper.make_node("Sigmoid", [x], [out], name=prefix)]
    if kind == "tanh":
        return [helper.make_node("Tanh", [x], [out], name=prefix)]
    if kind == "hsigmoid":
        return [helper.make_node("HardSigmoid", [x], [out], name=prefix, alpha=1 / 6)]
    if kind == "hswish":
        return [helper.make_node("HardSwish", [x], [out], name=prefix)]
    if kind == "swish":
        return [
            helper.make_node("Sigmoid", [x], [f"{prefix}.s"], name=f"{prefix}.sigmoid"),
            helper.make_node("Mul", [x, f"{prefix}.s"], [out], name=prefix),
        ]
    if kind == "batchnorm":
        names = [f"{prefix}.{p}" for p in ("scale", "bias", "mean", "var")]
        inits += [
            _weights(names[0], (c,), 1),
            _weights(names[1], (c,), 2),
            _weights(names[2], (c,), 3),
            _weights(names[3], (c,), 4, positive=True),
        ]
        return [helper.make_node("BatchNormalization", [x, *names], [out], name=prefix)]
    if kind in ("add", "mul"):
        return [helper.make_node(kind.capitalize(), [x, *extra_inputs], [out], name=prefix)]
    if kind == "lrn":  # AlexNet's: 5 channels, as the exporter writes it
        return [
            helper.make_node(
                "LRN", [x], [out], name=prefix, size=5, alpha=1e-4, beta=0.75, bias=2.0
            )
        ]
    if kind == "softmax":
        return [helper.make_node("Softmax", [x], [out], name=prefix, axis=1)]
    raise ValueError(f"no micro-model for elementwise kind {kind!r}")


def conv_model(
    *,
    c_in: int,
    c_out: int,
    size: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    followers: Sequence[str] = (),
    seed: int = 0,
) -> bytes:
    """``Conv`` (same padding, bias) on ``c_in × size × size``, then ``followers``.

    An ``add`` follower adds a second graph input ``r`` of the conv's output shape (a
    residual), as in ResNet and MobileNet V2 blocks.
    """
    from onnx import helper

    pad = (kernel - 1) // 2
    out_size = (size + 2 * pad - kernel) // stride + 1
    inits = [
        _weights("conv.w", (c_out, c_in // groups, kernel, kernel), seed),
        _weights("conv.b", (c_out,), seed + 1),
    ]
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "conv.w", "conv.b"],
            ["conv"],
            name="conv",
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[pad] * 4,
            group=groups,
        )
    ]
    inputs = [_value("x", (c_in, size, size))]
    last = "conv"
    for i, kind in enumerate(followers):
        extra = []
        if kind == "add":
            inputs.append(_value("r", (c_out, out_size, out_size)))
            extra = ["r"]
        nodes += elementwise_nodes(kind, last, kind + str(i), kind + str(i), c_out, inits, extra)
        last = kind + str(i)
    return _model(nodes, inputs, _value(last, (c_out, out_size, out_size)), inits)


def linear_model(*, features_in: int, features_out: int, seed: int = 0) -> bytes:
    """``Gemm`` (transB, bias) of a ``[1, features_in]`` input, as exporters write a
    linear layer."""
    from onnx import TensorProto, helper

    inits = [
        _weights("fc.w", (features_out, features_in), seed),
        _weights("fc.b", (features_out,), seed + 1),
    ]
    node = helper.make_node("Gemm", ["x", "fc.w", "fc.b"], ["fc"], name="fc", transB=1)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, features_in])
    y = helper.make_tensor_value_info("fc", TensorProto.FLOAT, [1, features_out])
    return _model([node], [x], y, inits)


def pool_model(*, op: str, c: int, size: int, kernel: int, stride: int) -> bytes:
    """``MaxPool`` or ``AveragePool`` (padding ``(kernel-1)//2``), or
    ``GlobalAveragePool`` (``op="GlobalAveragePool"``; kernel and stride unused)."""
    from onnx import helper

    if op == "GlobalAveragePool":
        node = helper.make_node(op, ["x"], ["pool"], name="pool")
        return _model([node], [_value("x", (c, size, size))], _value("pool", (c, 1, 1)), [])
    pad = (kernel - 1) // 2
    out_size = (size + 2 * pad - kernel) // stride + 1
    node = helper.make_node(
        op,
        ["x"],
        ["pool"],
        name="pool",
        kernel_shape=[kernel, kernel],
        strides=[stride, stride],
        pads=[pad] * 4,
    )
    return _model(
        [node], [_value("x", (c, size, size))], _value("pool", (c, out_size, out_size)), []
    )


def elementwise_model(*, kind: str, c: int, size: int) -> bytes:
    """One elementwise archcost kind (an activation, batchnorm, or a two-input add/mul)
    on ``c × size × size``."""
    inits: list[Any] = []
    inputs = [_value("x", (c, size, size))]
    extra = []
    if kind in ("add", "mul"):
        inputs.append(_value("y", (c, size, size)))
        extra = ["y"]
    nodes = elementwise_nodes(kind, "x", "out", kind, c, inits, extra)
    return _model(nodes, inputs, _value("out", (c, size, size)), inits)


def concat_model(*, c: int, size: int, parts: int = 2) -> bytes:
    """``Concat`` of ``parts`` inputs of ``c`` channels each along the channel axis."""
    from onnx import helper

    names = [f"x{i}" if i else "x" for i in range(parts)]
    node = helper.make_node("Concat", names, ["cat"], name="concat", axis=1)
    return _model(
        [node],
        [_value(n, (c, size, size)) for n in names],
        _value("cat", (c * parts, size, size)),
        [],
    )


def shuffle_model(*, c: int, size: int, groups: int) -> bytes:
    """ShuffleNet's channel shuffle as exporters write it: Reshape → Transpose →
    Reshape (one archcost layer, several runtime kernels)."""
    import numpy as np
    from onnx import helper, numpy_helper

    inits = [
        numpy_helper.from_array(
            np.array([1, groups, c // groups, size, size], np.int64), "shuffle.s1"
        ),
        numpy_helper.from_array(np.array([1, c, size, size], np.int64), "shuffle.s2"),
    ]
    nodes = [
        helper.make_node("Reshape", ["x", "shuffle.s1"], ["shuffle.r"], name="shuffle.reshape"),
        helper.make_node(
            "Transpose",
            ["shuffle.r"],
            ["shuffle.t"],
            name="shuffle.transpose",
            perm=[0, 2, 1, 3, 4],
        ),
        helper.make_node("Reshape", ["shuffle.t", "shuffle.s2"], ["shuffle"], name="shuffle"),
    ]
    return _model(nodes, [_value("x", (c, size, size))], _value("shuffle", (c, size, size)), inits)


def split_model(*, c: int, size: int) -> bytes:
    """``Split`` of the channels in two halves (ShuffleNet V2's channel split), the halves
    added so the graph has one output."""
    import numpy as np
    from onnx import helper, numpy_helper

    inits = [numpy_helper.from_array(np.array([c // 2, c - c // 2], np.int64), "split.sizes")]
    nodes = [
        helper.make_node(
            "Split", ["x", "split.sizes"], ["split.a", "split.b"], name="split", axis=1
        ),
        helper.make_node("Add", ["split.a", "split.b"], ["out"], name="join"),
    ]
    return _model(nodes, [_value("x", (c, size, size))], _value("out", (c // 2, size, size)), inits)
