"""Spec -> ``.onnx``: one node (or the standard decomposition) per layer.

Each node is named ``/<layer name>/<Op>``, so that PyTorch-style tools (and archcost's
own importer) read the layer name back as the module path. Weights are drawn exactly as
``archcost validate`` draws them (:func:`archcost.backend.prepare`: same seed, same
numbers), stored as initializers named ``<layer>.<weight>``. The model passes
``onnx.checker`` with full shape inference and runs in onnxruntime.

How one kind becomes ONNX nodes is the kind's own business (its ``to_onnx``); this module
holds the :class:`OnnxBuilder` they write into and the driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archcost.errors import SpecError
from archcost.onnx import require

if TYPE_CHECKING:
    import onnx

    from archcost.layers.base import Layer, Shape
    from archcost.model import Model

DEFAULT_OPSET = 17
MIN_EXPORT_OPSET = 13  # Split's sizes and Squeeze's axes as inputs, Softmax on one axis


class OnnxBuilder:
    """Collects the nodes and initializers of one exported graph.

    Kinds call :meth:`node`, :meth:`weight` and :meth:`ints` from their ``to_onnx``.
    """

    def __init__(self, opset: int):
        self.onnx = require("onnx")
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = set()

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        layer: str,
        *,
        outputs: Sequence[str] | None = None,
        suffix: str = "",
        **attrs: Any,
    ) -> list[str]:
        """Add one node of layer ``layer``; returns its output tensor names.

        Args:
            op: the ONNX op type.
            inputs: input tensor names ('' for an omitted optional input).
            layer: the archcost layer name (the node is ``/<layer>/<op><suffix>``).
            outputs: output tensor names (default: one, ``<layer>/<op><suffix>``).
        """
        name = f"/{layer}/{op}{suffix}"
        outs = list(outputs) if outputs is not None else [f"{layer}/{op}{suffix}"]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), outs, name=name, **attrs))
        return outs

    def weight(self, name: str, array: np.ndarray) -> str:
        """A float32 initializer; returns its name."""
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(array, np.float32), name))
        return name

    def ints(self, name: str, values: Sequence[int]) -> str:
        """An int64 initializer (shapes, sizes); returns its name."""
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.array(list(values), np.int64), name))
        return name

    def scalar(self, name: str, value: float) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.array(value, np.float32), name))
        return name


def onnx_pads(pads: Sequence[tuple[int, int]]) -> list[int]:
    """``((before, after), ...)`` per dim -> ONNX ``[x1_begin, x2_begin, ..., x1_end, ...]``.

    >>> onnx_pads(((0, 1), (2, 3)))
    [0, 2, 1, 3]
    """
    return [lo for lo, _ in pads] + [hi for _, hi in pads]


def layer_to_onnx(
    layer: Layer,
    b: OnnxBuilder,
    name: str,
    xs: list[str],
    ins: list[Shape],
    weights: dict[str, np.ndarray],
) -> list[str]:
    """The kind's ``to_onnx``, with a located error when the kind has none."""
    from archcost.onnx import kinds

    try:
        return kinds.to_onnx(layer, b, name, xs, ins, weights)
    except NotImplementedError as exc:
        raise SpecError(
            f"kind '{layer.kind}' has no ONNX export" + (f": {exc}" if str(exc) else "") + ".",
            layer=name,
            kind=layer.kind,
        ) from None


def build(
    model: Model, *, opset: int = DEFAULT_OPSET, seed: int = 0, expose: bool = False
) -> onnx.ModelProto:
    """The exported ModelProto of ``model``.

    Args:
        opset: the default-domain opset (13 .. the installed onnx's newest).
        seed: the weights' seed (``archcost validate --seed``).
        expose: make every layer's output a graph output (for the oracle).
    """
    onnx = require("onnx")
    from onnx import TensorProto, helper

    from archcost.backend import prepare

    newest = int(onnx.defs.onnx_opset_version())
    if not MIN_EXPORT_OPSET <= opset <= newest:
        raise SpecError(
            f"--opset {opset} is outside the supported range {MIN_EXPORT_OPSET}..{newest}.",
            file=model.path,
        )
    _, weights = prepare(model, batch=1, seed=seed)
    b = OnnxBuilder(opset)
    tensors: dict[str, list[str]] = {"input": ["input"]}
    consumed: set[str] = set()
    for name in model.layers:
        node = model.nodes[name]
        xs = []
        for src, port in zip(node.inputs, node.ports):
            outs = tensors[src]
            xs.append(outs[port or 0])
            consumed.add(src)
        tensors[name] = layer_to_onnx(
            node.layer, b, name, xs, list(node.input_shapes), weights[name]
        )
    batch = "N"
    inputs = [
        helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, *model.input_shape])
    ]
    outputs = []
    for name in model.layers:
        if expose or name not in consumed:
            for t in tensors[name]:
                outputs.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    g = helper.make_graph(b.nodes, _graph_name(model.name), inputs, outputs, b.initializers)
    proto = helper.make_model(
        g, opset_imports=[helper.make_opsetid("", opset)], producer_name="archcost"
    )
    proto.doc_string = f"{model.label}: exported by archcost with weights seed {seed}"
    try:
        proto = onnx.shape_inference.infer_shapes(
            proto, check_type=True, strict_mode=True, data_prop=True
        )
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(
            f"the exported model fails onnx's checker: {first}", file=model.path
        ) from None
    return proto


def _graph_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in text) or "archcost"


def export(model: Model, path: str | Path, *, opset: int = DEFAULT_OPSET, seed: int = 0) -> Path:
    """Write ``model`` as an ONNX file (atomically: never a half-written file)."""
    onnx = require("onnx")
    proto = build(model, opset=opset, seed=seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        onnx.save(proto, str(tmp))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
