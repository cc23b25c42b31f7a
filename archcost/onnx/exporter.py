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

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from archcost.backend import prepare
from archcost.errors import SpecError
from archcost.onnx import require

if TYPE_CHECKING:
    import onnx

    from archcost.graph import Node
    from archcost.layers.base import Layer, Shape
    from archcost.model import Model

DEFAULT_OPSET = 17
MIN_EXPORT_OPSET = 13  # Split's sizes and Squeeze's axes as inputs, Softmax on one axis


class OnnxBuilder:
    """Collects the nodes and initializers of one exported graph.

    Kinds call :meth:`node`, :meth:`weight` and :meth:`ints` from their ``to_onnx``.
    """

    def __init__(self, opset: int, weights: dict[str, dict[str, np.ndarray]] | None = None):
        self.onnx = require("onnx")
        self.opset = opset
        self.drawn = weights or {}
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

    def weight(self, layer: str, key: str, shape: Sequence[int] | None = None) -> str:
        """Layer ``layer``'s drawn tensor ``key`` (``weight``, ``bias``, ``gamma`` ...) as
        the float32 initializer ``<layer>.<key>``, reshaped to ``shape`` if given."""
        array = np.asarray(self.drawn[layer][key], np.float32)
        return self.const(f"{layer}.{key}", array if shape is None else array.reshape(shape))

    def const(self, name: str, array: np.ndarray) -> str:
        """A float32 initializer; returns its name."""
        from onnx import numpy_helper  # onnx is an optional extra: loaded on export only

        self.initializers.append(numpy_helper.from_array(np.asarray(array, np.float32), name))
        return name

    def ints(self, name: str, values: Sequence[int]) -> str:
        """An int64 initializer (shapes, sizes); returns its name."""
        from onnx import numpy_helper  # onnx is an optional extra: loaded on export only

        self.initializers.append(numpy_helper.from_array(np.array(list(values), np.int64), name))
        return name

    def floats(self, name: str, values: Sequence[float]) -> str:
        """A float32 vector initializer (Resize's scales); returns its name."""
        return self.const(name, np.array(list(values), np.float32))

    def scalar(self, name: str, value: float) -> str:
        from onnx import numpy_helper  # onnx is an optional extra: loaded on export only

        self.initializers.append(numpy_helper.from_array(np.array(value, np.float32), name))
        return name


def onnx_pads(pads: Sequence[tuple[int, int]]) -> list[int]:
    """``((before, after), ...)`` per dim -> ONNX ``[x1_begin, x2_begin, ..., x1_end, ...]``.

    >>> onnx_pads(((0, 1), (2, 3)))
    [0, 2, 1, 3]
    """
    return [lo for lo, _ in pads] + [hi for _, hi in pads]


def layer_to_onnx(
    layer: Layer, b: OnnxBuilder, name: str, xs: list[str], ins: list[Shape]
) -> list[str]:
    """The kind's ``to_onnx``, with a located error when the kind has none."""
    try:
        return layer.to_onnx(b, name, xs, ins)
    except NotImplementedError as exc:
        raise SpecError(f"no ONNX export: {exc}", layer=name, kind=layer.kind) from None


def build(
    model: Model,
    *,
    opset: int = DEFAULT_OPSET,
    seed: int = 0,
    expose: bool = False,
    weights: dict[str, dict[str, np.ndarray]] | None = None,
) -> onnx.ModelProto:
    """The exported ModelProto of ``model``.

    Args:
        opset: the default-domain opset (13 .. the installed onnx's newest).
        seed: the weights' seed (``archcost validate --seed``).
        expose: make every layer's output a graph output (for the oracle), named as
            :func:`layer_outputs` says.
        weights: the drawn weights, when the caller has them already (they must be
            :func:`archcost.backend.prepare`'s for ``seed``).
    """
    check_opset(opset, model.path)
    if weights is None:
        _, weights = prepare(model, batch=1, seed=seed)
    return graph_proto(
        [model.nodes[name] for name in model.layers],
        {"input": ["N", *model.input_shape]},
        weights,
        opset=opset,
        expose=expose,
        graph_name=_graph_name(model.name),
        doc=f"{model.label}: exported by archcost with weights seed {seed}",
        file=model.path,
    )


def check_opset(opset: int, file: str | None = None) -> ModuleType:
    """The ``onnx`` module, once ``opset`` is one this export supports (else one error
    line)."""
    onnx = require("onnx")
    newest = int(onnx.defs.onnx_opset_version())
    if not MIN_EXPORT_OPSET <= opset <= newest:
        raise SpecError(
            f"--opset {opset} is outside the supported range {MIN_EXPORT_OPSET}..{newest}.",
            file=file,
        )
    return onnx


def graph_proto(
    nodes: Sequence[Node],
    inputs: Mapping[str, Sequence[int | str]],
    weights: Mapping[str, Mapping[str, np.ndarray]],
    *,
    opset: int = DEFAULT_OPSET,
    expose: bool = False,
    graph_name: str = "archcost",
    doc: str = "",
    producer: str = "archcost",
    file: str | None = None,
) -> onnx.ModelProto:
    """The ModelProto of ``nodes`` (in an order where every input comes first), each
    written by its kind's ``to_onnx``, checked by onnx's checker with full shape
    inference.

    Args:
        inputs: graph input name -> its full shape, batch first (an int or a symbol).
        weights: per layer name its drawn tensors by name.
        expose: every layer's output is a graph output; otherwise the outputs no
            layer reads.
        file: the spec, for errors.
    """
    onnx = check_opset(opset, file)
    from onnx import TensorProto, helper  # onnx is an optional extra: loaded by check_opset

    b = OnnxBuilder(opset, {name: dict(tensors) for name, tensors in weights.items()})
    tensors: dict[str, list[str]] = {name: [name] for name in inputs}
    consumed: set[str] = set()
    for node in nodes:
        name = node.name
        xs = []
        for src, port in zip(node.inputs, node.ports, strict=True):
            outs = tensors[src]
            xs.append(outs[port or 0])
            consumed.add(src)
        assert node.layer is not None
        tensors[name] = layer_to_onnx(node.layer, b, name, xs, list(node.input_shapes))
        if tensors[name] != layer_outputs_of(node):
            raise SpecError(
                f"the ONNX export of kind '{node.kind}' names its outputs "
                f"{tensors[name]}; expected {layer_outputs_of(node)}.",
                layer=name,
                kind=node.kind,
            )
    graph_inputs = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))
        for name, shape in inputs.items()
    ]
    outputs = []
    for node in nodes:
        if expose or node.name not in consumed:
            for t in tensors[node.name]:
                outputs.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    g = helper.make_graph(b.nodes, graph_name, graph_inputs, outputs, b.initializers)
    proto = helper.make_model(
        g, opset_imports=[helper.make_opsetid("", opset)], producer_name=producer
    )
    proto.doc_string = doc
    try:
        proto = onnx.shape_inference.infer_shapes(
            proto, check_type=True, strict_mode=True, data_prop=True
        )
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(f"the exported model fails onnx's checker: {first}", file=file) from None
    return proto


def layer_outputs_of(node: Node) -> list[str]:
    """The ONNX tensors holding a layer's outputs: its name, or ``name:0``, ``name:1``
    ... for a layer with several outputs."""
    n = len(node.output_shapes)
    return [node.name] if n == 1 else [f"{node.name}:{i}" for i in range(n)]


def layer_outputs(model: Model) -> dict[str, list[str]]:
    """Every layer's output tensor names in the exported graph."""
    return {name: layer_outputs_of(model.nodes[name]) for name in model.layers}


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
