"""Small ONNX models built with onnx.helper, for the importer's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

onnx = __import__("pytest").importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def weight(name: str, *shape: int, dtype: Any = np.float32) -> Any:
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(dtype), name)


def ints(name: str, values: list[int]) -> Any:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(name: str, values: Any) -> Any:
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def node(
    op: str, inputs: list[str], outputs: list[str], name: str | None = None, **attrs: Any
) -> Any:
    return helper.make_node(
        op, inputs, outputs, name=name if name is not None else outputs[0], **attrs
    )


def model(
    nodes: list[Any],
    inits: list[Any] = (),
    *,
    shape: list[Any] = (1, 3, 8, 8),
    output: str = "y",
    opset: int = 17,
    inputs: list[Any] | None = None,
) -> Any:
    graph_inputs = (
        inputs
        if inputs is not None
        else [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))]
    )
    graph = helper.make_graph(
        nodes,
        "net",
        graph_inputs,
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        list(inits),
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    # The checker wants a shape on outputs: let onnx infer them.
    return onnx.shape_inference.infer_shapes(m)


def save(m: Any, path: Path) -> Path:
    onnx.save(m, str(path))
    return path
