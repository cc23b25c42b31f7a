"""``.onnx`` -> spec: the graph of an exported model as archcost layers.

The importer reads the file, fixes the input shape (batch 1), runs onnx's shape
inference, folds every subgraph that only computes constants or shapes (Shape, Gather,
Constant, Unsqueeze, Concat of ints, ...), and maps each remaining node to a layer kind
(:data:`OPS` lists them). It produces the same data a YAML spec holds: a document
``{archcost: 1, name, input, layers}`` that :func:`to_yaml` writes out and
:func:`load_onnx_spec` turns into a :class:`~archcost.spec.Spec` for the ordinary graph
builder, so every count comes from the same kind classes as for a hand-written spec.

Counting what the file holds: a layer's params are the floating initializers it uses
as weight and bias (exporters fold BatchNorm into the preceding conv, which then has a
bias); after the model is built, :func:`check_against_file` compares each layer's shape
and params with the file's, so a mapping mistake is an error, never a wrong number.

Layer names come from node names: ``/layer1/layer1.0/conv1/Conv`` becomes
``layer1.0.conv1`` (PyTorch's module path), so stages roll up as they do for the zoo.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from archcost.errors import SpecError
from archcost.onnx import require
from archcost.spec import Spec, YMap

if TYPE_CHECKING:
    import onnx

    from archcost.model import Model
    from archcost.spec import Spec

MIN_OPSET = 9
MAX_FILE_BYTES = 2**31  # protobuf's own limit for one ModelProto
FOLD_LIMIT = 1 << 24  # constants larger than this many elements are not folded


# ---------------------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------------------
def max_opset() -> int:
    """The newest default-domain opset the installed onnx package knows."""
    onnx = require("onnx")
    return int(onnx.defs.onnx_opset_version())


def read_model(path: str | Path) -> onnx.ModelProto:
    """Load and check an ONNX file (weights stay on disk when stored externally).

    Raises:
        SpecError: missing, truncated or corrupt file, not an ONNX model, external weight
            data missing or outside the model's folder, an opset outside the supported range.
    """
    onnx = require("onnx", file=str(path))
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SpecError("no such file.", file=name, hint="Check the path.") from None
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc}.", file=name) from None
    if size > MAX_FILE_BYTES:
        raise SpecError(
            f"the file is {size:,} bytes; one ONNX protobuf is limited to 2 GiB "
            "(larger models keep their weights as external data).",
            file=name,
        )
    try:
        model = onnx.load(str(path), load_external_data=False)
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc}.", file=name) from None
    except Exception:
        raise SpecError(
            "not a readable ONNX model (truncated or corrupt protobuf).",
            file=name,
            hint="Re-export the model, e.g. torch.onnx.export(model, x, 'model.onnx').",
        ) from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise SpecError("not an ONNX model: no graph (is it really an .onnx file?).", file=name)
    check_opset(model, name)
    check_external_data(model, path)
    for t in model.graph.initializer:
        if (
            t.data_location != onnx.TensorProto.EXTERNAL
            and math.prod(t.dims)
            and not any(
                len(getattr(t, f))
                for f in (
                    "raw_data",
                    "float_data",
                    "double_data",
                    "int32_data",
                    "int64_data",
                    "string_data",
                )
            )
        ):
            raise SpecError(
                f"not a valid ONNX model: initializer '{t.name}' holds no data.", file=name
            )
    # The graph itself is validated by onnx's strict shape inference (infer_shapes).
    strip_weights(model)
    return model


def check_opset(model: onnx.ModelProto, name: str) -> int:
    """The default-domain opset, checked against the supported range."""
    versions = {o.domain: o.version for o in model.opset_import}
    opset = versions.get("", versions.get("ai.onnx"))
    newest = max_opset()
    if opset is None:
        raise SpecError("the model imports no default-domain opset.", file=name)
    if not MIN_OPSET <= opset <= newest:
        raise SpecError(
            f"opset {opset} is outside the supported range {MIN_OPSET}..{newest}.",
            file=name,
            hint="Re-export with opset_version=17, or convert it with onnx.version_converter.",
        )
    return int(opset)


def check_external_data(model: onnx.ModelProto, path: Path) -> None:
    """Every externally stored tensor must live in a file inside the model's folder,
    and that file must hold the bytes the tensor claims."""
    onnx = require("onnx")
    base = path.resolve().parent
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        target = (base / location).resolve()
        if not location or Path(location).is_absolute() or base not in target.parents:
            raise SpecError(
                f"initializer '{tensor.name}' keeps its data at '{location}', "
                "outside the model's folder; refused.",
                file=str(path),
            )
        try:
            available = target.stat().st_size
        except OSError:
            raise SpecError(
                f"the external weight data '{location}' of initializer '{tensor.name}' is missing.",
                file=str(path),
                hint="Keep the data file next to the .onnx file.",
            ) from None
        offset = int(info.get("offset", 0) or 0)
        length = info.get("length")
        need = offset + (int(length) if length else 0)
        if need > available:
            raise SpecError(
                f"the external weight data '{location}' is truncated ({available:,} "
                f"bytes; initializer '{tensor.name}' needs {need:,}).",
                file=str(path),
            )


def parse_input(text: Any) -> tuple[str | None, tuple[int, ...]]:
    """``"3x224x224"`` or ``"image=3x224x224"`` -> (input name or None, per-sample dims).

    >>> parse_input("3x224x224"), parse_input("x=1x28x28")
    ((None, (3, 224, 224)), ('x', (1, 28, 28)))
    """
    text = str(text).strip()
    name, sep, dims = text.rpartition("=")
    try:
        shape = tuple(int(d) for d in dims.lower().split("x"))
    except ValueError:
        shape = ()
    if not shape or any(d < 1 for d in shape):
        raise SpecError(f"input shape '{text}' is not like 3x224x224 (or NAME=3x224x224).")
    return (name.strip() or None) if sep else None, shape


def _dims(value_info: Any) -> list[int | str]:
    dims: list[int | str] = []
    for d in value_info.type.tensor_type.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?"))
    return dims


def fix_input(
    model: onnx.ModelProto, name: str, override: Any = None
) -> tuple[str, tuple[int, ...]]:
    """Choose the data input and fix its shape to ``[1, *per_sample]`` in place.

    Returns:
        (input name, per-sample shape).
    """
    inits = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    wanted, shape = parse_input(override) if override is not None else (None, None)
    if not inputs:
        raise SpecError("the model has no graph input.", file=name)
    if wanted is None and len(inputs) > 1:
        names = ", ".join(i.name for i in inputs)
        raise SpecError(
            f"the model has {len(inputs)} graph inputs ({names}); archcost analyses one.",
            file=name,
            hint=f"Choose one: --input {inputs[0].name}=CxHxW.",
        )
    if wanted is not None:
        chosen = [i for i in inputs if i.name == wanted]
        if not chosen:
            raise SpecError(
                f"the model has no graph input named '{wanted}'; it has "
                + ", ".join(i.name for i in inputs)
                + ".",
                file=name,
            )
        inp = chosen[0]
    else:
        inp = inputs[0]
    dims = _dims(inp)
    if len(dims) not in (4, 5):
        raise SpecError(
            f"input '{inp.name}' has {len(dims)} dims; archcost reads image "
            "models with [N, C, H, W] (or [N, C, D, H, W]) inputs.",
            file=name,
        )
    if shape is None:
        if any(not isinstance(d, int) or d < 1 for d in dims[1:]):
            shown = "x".join(str(d) for d in dims[1:])
            raise SpecError(
                f"input '{inp.name}' has symbolic dimensions [{shown}].",
                file=name,
                hint="Give the per-sample shape: --input 3x224x224.",
            )
        shape = tuple(int(d) for d in dims[1:])
    elif len(shape) != len(dims) - 1:
        raise SpecError(
            f"input '{inp.name}' takes {len(dims) - 1} per-sample dims; "
            f"got {'x'.join(map(str, shape))}.",
            file=name,
        )
    tensor_shape = inp.type.tensor_type.shape
    del tensor_shape.dim[:]
    for d in (1, *shape):
        tensor_shape.dim.add().dim_value = d
    return inp.name, shape


def infer_shapes(model: onnx.ModelProto, name: str) -> dict[str, tuple[int, ...]]:
    """Every tensor's static shape after onnx's shape inference (batch fixed to 1)."""
    onnx = require("onnx")
    # Shapes recorded by the exporter may disagree with a new input size: drop them.
    del model.graph.value_info[:]
    for out in model.graph.output:
        out.type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(f"onnx shape inference failed: {first}", file=name) from None
    shapes: dict[str, tuple[int, ...]] = {}
    for vi in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
            continue
        dims = _dims(vi)
        if all(isinstance(d, int) for d in dims):
            shapes[vi.name] = tuple(int(d) for d in dims)
    for t in model.graph.initializer:
        shapes[t.name] = tuple(t.dims)
    return shapes


# ---------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------
_PIECE = re.compile(r"[^A-Za-z0-9_\-]")


def module_path(node_name: str) -> str:
    """The module path in a node name, as a dotted archcost name ('' when there is none).

    >>> module_path("/layer1/layer1.0/conv1/Conv")
    'layer1.0.conv1'
    >>> module_path("/features/features.0/features.0.0/Conv")
    'features.0.0'
    >>> module_path("/Flatten"), module_path("conv_1"), module_path("")
    ('', 'conv_1', '')
    """
    if "/" in node_name:
        segments = [s for s in node_name.strip("/").split("/")[:-1] if s]
    else:
        segments = [node_name] if node_name else []
    path = ""
    for seg in segments:
        path = seg if not path or seg.startswith(path + ".") else f"{path}.{seg}"
    pieces = [_PIECE.sub("_", p) for p in path.split(".") if p]
    pieces = [p for p in pieces if p.strip("_")]
    if pieces and not re.match(r"[A-Za-z_]", pieces[0]):
        pieces[0] = "n" + pieces[0]
    return ".".join(pieces)


# ---------------------------------------------------------------------------------------
# The mapping
# ---------------------------------------------------------------------------------------
@dataclass
class Value:
    """A tensor computed by a layer: which output of which layer, and its ONNX shape."""

    layer: int  # index into Importer.layers; -1 = the network input
    port: int | None
    shape: tuple[int, ...]  # as ONNX has it ([1, H, W, C] when ``last``)
    last: bool = False  # channels-last: a Transpose (0, 2, 3, 1) of a layer's output


@dataclass
class Emitted:
    """One layer of the imported spec (named at the end)."""

    node: str  # the ONNX node name it came from
    op: str
    kind: str
    fields: dict[str, Any]
    inputs: list[Value]
    file_params: int  # floating initializer elements it uses
    shapes: list[tuple[int, ...]]  # the ONNX shapes of its outputs
    name: str = ""
    path: str = ""  # the module path (from the node's name or its exporter metadata)


@dataclass
class Unsupported:
    op: str
    node: str
    reason: str


@dataclass
class Importer:
    """Walks one shape-inferred graph; see :func:`import_model`."""

    model: Any
    file: str
    opset: int
    shapes: dict[str, tuple[int, ...]]
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, Value] = field(default_factory=dict)
    layers: list[Emitted] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)
    consumers: dict[str, list[Any]] = field(default_factory=dict)
    producer: dict[str, Any] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)  # ids of nodes consumed by a pattern
    zero: bool = False  # --unsupported zero: unmapped ops become 'unsupported' rows
    hard: list[Unsupported] = field(default_factory=list)  # ones even that cannot hold

    # -- constants --------------------------------------------------------------------
    def const(self, name: str) -> np.ndarray | None:
        if not name:
            return None
        return self.consts.get(name)

    def fold(self, node: Any) -> bool:
        """Evaluate ``node`` when all its inputs are constants (or it reads a known shape)."""
        onnx = require("onnx")
        if node.op_type == "Shape":
            src = node.input[0]
            if src in self.shapes and src not in self.consts:
                shape = np.array(self.shapes[src], dtype=np.int64)
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
                start, end = attrs.get("start", 0), attrs.get("end", None)
                self.consts[node.output[0]] = shape[start:end]
                return True
        if node.op_type == "Constant":
            from onnx import numpy_helper  # optional extra: loaded on import only

            attr = node.attribute[0]
            value = onnx.helper.get_attribute_value(attr)
            if attr.name == "value":
                self.consts[node.output[0]] = numpy_helper.to_array(value)
            elif attr.name in ("value_float", "value_int"):
                self.consts[node.output[0]] = np.array(value)
            elif attr.name in ("value_floats", "value_ints"):
                self.consts[node.output[0]] = np.array(list(value))
            else:
                return False
            return True
        if node.domain not in ("", "ai.onnx") or not node.input:
            return False
        inputs = [self.consts.get(i) if i else None for i in node.input]
        if any(i and v is None for i, v in zip(node.input, inputs, strict=True)):
            return False
        if sum(v.size for v in inputs if v is not None) > FOLD_LIMIT or not self.small_result(
            node, inputs
        ):
            return False
        if node.op_type in ("Identity", "Dropout") and inputs[0] is not None:
            self.consts[node.output[0]] = inputs[0]
            return True
        from onnx.reference import ReferenceEvaluator  # optional extra: loaded on import only

        try:
            evaluator = ReferenceEvaluator(node)
            feeds = {n: v for n, v in zip(node.input, inputs, strict=True) if n}
            results = evaluator.run(None, feeds)
        except Exception:
            return False
        # the evaluator's results may leave out trailing optional outputs
        for name, result in zip(node.output, results, strict=False):
            if name:
                self.consts[name] = np.asarray(result)
        return True

    def small_result(self, node: Any, inputs: list[np.ndarray | None]) -> bool:
        """May folding ``node`` run? Never an op with a subgraph (Loop, If, Scan: a file
        could make it spin), nor one whose result would exceed FOLD_LIMIT elements (a
        file could ask ConstantOfShape for [10^12]): a specs-are-untrusted guard."""
        if any(a.type in (5, 10) for a in node.attribute):  # GRAPH, GRAPHS
            return False
        for out in node.output:
            shape = self.shapes.get(out)
            if shape is not None and math.prod(shape) > FOLD_LIMIT:
                return False
        try:
            if node.op_type in ("ConstantOfShape", "Expand") and inputs[-1] is not None:
                return math.prod(int(d) for d in np.ravel(inputs[-1])) <= FOLD_LIMIT
            if node.op_type == "Tile" and inputs[0] is not None and inputs[1] is not None:
                return inputs[0].size * math.prod(int(r) for r in np.ravel(inputs[1])) <= FOLD_LIMIT
            if node.op_type == "Range" and all(v is not None for v in inputs[:3]):
                start, limit, delta = (float(np.ravel(np.asarray(v))[0]) for v in inputs[:3])
                return delta != 0 and abs((limit - start) / delta) <= FOLD_LIMIT
        except (TypeError, ValueError, OverflowError):
            return False
        return node.op_type not in ("Resize", "Upsample", "Pad") or bool(
            self.shapes.get(node.output[0])
        )

    # -- helpers for handlers ---------------------------------------------------------
    def value(self, name: str) -> Value | None:
        return self.values.get(name)

    def shape(self, name: str) -> tuple[int, ...]:
        return self.shapes.get(name, ())

    def emit(
        self,
        node: Any,
        kind: str,
        fields: dict[str, Any],
        inputs: list[Value],
        outputs: list[str] | None = None,
        params: int = 0,
    ) -> int:
        """Add a layer; its outputs keep the first input's layout (channels-last or not)."""
        outs = list(node.output[:1]) if outputs is None else outputs
        index = len(self.layers)
        last = bool(inputs) and inputs[0].last
        shapes = [channels_first(self.shape(o)) if last else self.shape(o) for o in outs]
        self.layers.append(
            Emitted(
                node.name, node.op_type, kind, fields, inputs, params, shapes, path=node_path(node)
            )
        )
        for port, out in enumerate(outs):
            if out:
                self.values[out] = Value(
                    index, port if len(outs) > 1 else None, self.shape(out), last
                )
        return index

    def alias(self, out: str, value: Value) -> None:
        self.values[out] = value

    def refuse(self, node: Any, reason: str) -> None:
        """Record an op archcost cannot map; with ``zero``, count it as an 'unsupported'
        row (0 everything, the file's output shape) so the rest can be counted."""
        problem = Unsupported(node.op_type, node.name, reason)
        self.unsupported.append(problem)
        if self.zero:
            ins = [self.values[i] for i in node.input if i in self.values]
            outs = [o for o in node.output if o]
            used = [o for o in outs[1:] if self.consumers.get(o)]
            shape = self.shape(outs[0]) if outs else ()
            if ins and outs and not used and len(shape) >= 2 and not any(v.last for v in ins):
                self.emit(
                    node,
                    "unsupported",
                    {"op": node.op_type, "shape": list(shape[1:])},
                    ins,
                    outputs=outs[:1],
                )
                return
            self.hard.append(problem)
        for out in node.output:
            if out:
                self.values[out] = Value(-2, None, self.shape(out))

    def only_consumer(self, tensor: str) -> Any | None:
        users = self.consumers.get(tensor, [])
        outputs = {o.name for o in self.model.graph.output}
        return users[0] if len(users) == 1 and tensor not in outputs else None

    def float_size(self, name: str) -> int:
        v = self.const(name)
        return int(v.size) if v is not None and v.dtype.kind == "f" else 0

    # -- the walk ---------------------------------------------------------------------
    def run(self, input_name: str) -> None:
        """Fold the constant subgraphs (re-inferring shapes until nothing more folds),
        then map every remaining node."""
        graph = self.model.graph
        for t in graph.initializer:
            self.consts[t.name] = tensor_value(t, Path(self.file).resolve().parent)
        self.shapes[input_name] = tuple(
            int(d) for d in _dims(next(i for i in graph.input if i.name == input_name))
        )
        self.values[input_name] = Value(-1, None, self.shapes[input_name])
        for _ in range(8):
            self.shapes.update(infer_shapes(self.model, self.file))
            if not self.fold_round():
                break
        for node in graph.node:
            for i in node.input:
                if i:
                    self.consumers.setdefault(i, []).append(node)
            for o in node.output:
                self.producer[o] = node
        for node in graph.node:
            if id(node) in self.done:
                continue
            if not any(i in self.values for i in node.input if i):
                self.refuse(node, "cannot be evaluated as a constant")
                continue
            handler = OPS.get(node.op_type)
            if handler is None or node.domain not in ("", "ai.onnx"):
                self.refuse(node, "no archcost kind")
                continue
            handler.map(self, node)

    def fold_round(self) -> bool:
        """Fold every node whose inputs are constants (or that reads a known shape),
        replace the folded nodes by initializers, and say whether any folded: their
        values let onnx's next shape inference resolve what reads them (a Slice whose
        bounds came from Shape -> Gather -> Div)."""
        from onnx import numpy_helper  # optional extra: loaded on import only

        graph = self.model.graph
        keep, folded = [], False
        for node in graph.node:
            reads_data = any(i in self.values for i in node.input if i)
            if (node.op_type == "Shape" or not reads_data) and self.fold(node):
                folded = True
                continue
            keep.append(node)
        if not folded:
            return False
        known = {t.name for t in graph.initializer}
        used = {i for node in keep for i in node.input} | {o.name for o in graph.output}
        for name in sorted((used & set(self.consts)) - known):
            value = self.consts[name]
            if value.size > 1024:  # only its shape matters (see tensor_value)
                graph.initializer.append(placeholder(name, value))
            else:
                graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        del graph.node[:]
        graph.node.extend(keep)
        return True


def tensor_value(t: Any, base: Path) -> np.ndarray:
    """An initializer's value; for a large one (stored externally or inline) only an
    array of the right shape and dtype: the importer reads weights' sizes, never their
    numbers, so their bytes are not decoded."""
    from onnx import helper, numpy_helper  # optional extra: loaded on import only

    n = math.prod(t.dims)
    if n > 1024 or t.data_location == 1 and n > 64:
        dtype = helper.tensor_dtype_to_np_dtype(t.data_type)
        return np.lib.stride_tricks.as_strided(
            np.zeros(1, dtype), shape=tuple(t.dims), strides=(0,) * len(t.dims)
        )
    return numpy_helper.to_array(t, base_dir=str(base))


def placeholder(name: str, value: np.ndarray) -> Any:
    """An initializer with a name, type and dims but no data (for shape inference)."""
    from onnx import TensorProto, helper  # optional extra: loaded on import only

    t = TensorProto()
    t.name = name
    t.data_type = helper.np_dtype_to_tensor_dtype(value.dtype)
    t.dims.extend(value.shape)
    return t


def strip_weights(model: Any) -> None:
    """Drop the bytes of large initializers in place (their shapes stay): shape
    inference and the mapping need only the dims, and serialising 100 MB of weights for
    each inference round would cost seconds."""
    for t in model.graph.initializer:
        if math.prod(t.dims) > 1024 and t.data_location != 1:
            for field_name in ("raw_data", "float_data", "double_data", "int32_data", "int64_data"):
                t.ClearField(field_name)


def attrs_of(node: Any) -> dict[str, Any]:
    onnx = require("onnx")
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _compact(values: list[int] | tuple[int, ...]) -> int | list[int]:
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def spec_padding(pads: list[int], ndim: int) -> int | list[int]:
    """ONNX ``pads`` ``[x1_begin, x2_begin, ..., x1_end, x2_end, ...]`` -> the spec's
    padding: an int, one per dim, or ``[before, after]`` per dim.

    >>> spec_padding([1, 1, 1, 1], 2), spec_padding([1, 2, 1, 2], 2), spec_padding([0, 0, 1, 1], 2)
    (1, [1, 2], [0, 1, 0, 1])
    """
    if not pads:
        return 0
    begins, ends = list(pads[:ndim]), list(pads[ndim:])
    if begins == ends:
        return _compact(begins)
    return [int(v) for pair in zip(begins, ends, strict=True) for v in pair]


def window_padding(
    node: Any,
    attrs: dict[str, Any],
    spatial: tuple[int, ...],
    kernel: list[int],
    strides: list[int],
    dilations: list[int],
) -> int | str | list[int]:
    """Conv/pool padding from ``auto_pad`` and ``pads``."""
    ndim = len(spatial)
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto == "VALID":
        return 0
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads_b, pads_e = [], []
        # attribute lengths come from the (untrusted) file; shape inference checked them
        for n, k, s, d in zip(spatial, kernel, strides, dilations, strict=False):
            out = -(-n // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
            small, big = total // 2, total - total // 2
            pads_b.append(small if auto == "SAME_UPPER" else big)
            pads_e.append(big if auto == "SAME_UPPER" else small)
        return spec_padding(pads_b + pads_e, ndim)
    return spec_padding(list(attrs.get("pads", [0] * 2 * ndim)), ndim)


# -- handlers ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    """How one ONNX op type maps to archcost kinds (one row of the README's table)."""

    kinds: str  # what it becomes
    note: str  # conditions, in words
    map: Callable[[Importer, Any], None]


def channels_first(shape: tuple[int, ...]) -> tuple[int, ...]:
    """[N, *spatial, C] -> [N, C, *spatial].

    >>> channels_first((1, 7, 7, 96))
    (1, 96, 7, 7)
    """
    return (shape[0], shape[-1], *shape[1:-1]) if len(shape) > 2 else shape


def _data_input(imp: Importer, node: Any, *, any_layout: bool = False) -> Value | None:
    """The node's first input as a layer output; refused when it is a constant, or
    channels-last for an op that reads the channel axis (unless ``any_layout``)."""
    v = imp.value(node.input[0])
    if v is None:
        imp.refuse(node, "its data input is a constant")
    elif v.last and not any_layout:
        imp.refuse(node, "a channels-last input (after a Transpose) where it reads axis 1")
        return None
    return v


def map_conv(imp: Importer, node: Any, padded: tuple[Value, Any, float] | None = None) -> None:
    """Conv by group and kernel; ``padded``: (input, padding, value) of a constant Pad in
    the same module that feeds it (archcost's export of a conv with ``pad_value``)."""
    x = padded[0] if padded is not None else _data_input(imp, node)
    if x is None:
        return
    w = imp.const(node.input[1])
    if w is None:
        imp.refuse(node, "weights are not constant")
        return
    a = attrs_of(node)
    spatial = x.shape[2:]
    ndim = len(spatial)
    if ndim not in (2, 3):
        imp.refuse(node, f"{ndim}D convolution")
        return
    c_in, c_out, kernel = x.shape[1], int(w.shape[0]), [int(k) for k in w.shape[2:]]
    groups = int(a.get("group", 1))
    strides = list(a.get("strides", [1] * ndim))
    dilations = list(a.get("dilations", [1] * ndim))
    padding = window_padding(node, a, spatial, kernel, strides, dilations)
    if padded is not None:
        padding = padded[1]
    has_bias = len(node.input) > 2 and bool(node.input[2])
    if has_bias and imp.const(node.input[2]) is None:
        imp.refuse(node, "bias is not constant")
        return
    params = imp.float_size(node.input[1]) + (imp.float_size(node.input[2]) if has_bias else 0)
    fields: dict[str, Any] = {}
    one_by_one = all(k == 1 for k in kernel) and padding == 0 and all(d == 1 for d in dilations)
    if groups > 1 and groups == c_in and c_out % c_in == 0:
        kind = "depthwise_conv"
        fields["kernel"] = _compact(kernel)
        if c_out != c_in:
            fields["multiplier"] = c_out // c_in
    elif one_by_one:
        kind = "pointwise_conv"
        fields["out"] = c_out
        if groups > 1:
            fields["groups"] = groups
    else:
        kind = "conv" if groups == 1 else "grouped_conv"
        fields["out"] = c_out
        fields["kernel"] = _compact(kernel)
        if groups > 1:
            fields["groups"] = groups
    if any(s != 1 for s in strides):
        fields["stride"] = _compact(strides)
    if kind != "pointwise_conv":
        if padding != 0:
            fields["padding"] = padding
            if padded is not None and padded[2] != 0.0:
                fields["pad_value"] = padded[2]
        if any(d != 1 for d in dilations):
            fields["dilation"] = _compact(dilations)
    if not has_bias:
        fields["bias"] = False
    imp.emit(node, kind, fields, [x], params=params)


def map_gemm(imp: Importer, node: Any) -> None:
    a = attrs_of(node)
    x = _data_input(imp, node)
    if x is None:
        return
    w = imp.const(node.input[1])
    if (
        w is None
        or w.ndim != 2
        or a.get("transA", 0)
        or a.get("alpha", 1.0) != 1.0
        or (len(node.input) > 2 and node.input[2] and a.get("beta", 1.0) != 1.0)
    ):
        imp.refuse(node, "only A·B(ᵀ) + C with constant B, alpha = beta = 1 is a linear layer")
        return
    out = int(w.shape[0] if a.get("transB", 0) else w.shape[1])
    has_bias = len(node.input) > 2 and bool(node.input[2])
    bias = imp.const(node.input[2]) if has_bias else None
    if has_bias and (bias is None or bias.size != out):
        imp.refuse(node, "bias is not a constant vector of the output size")
        return
    params = imp.float_size(node.input[1]) + (imp.float_size(node.input[2]) if has_bias else 0)
    imp.emit(
        node,
        "linear",
        {"out": out} if has_bias else {"out": out, "bias": False},
        [x],
        params=params,
    )


def map_matmul(imp: Importer, node: Any) -> None:
    """[1, F] × constant [F, N] -> linear; channels-last [1, H, W, C] × [C, N] (a linear
    layer at every position, ConvNeXt's) -> pointwise_conv, the same counts: H·W·C·N MACs.
    A following Add of a constant [N] is the bias."""
    x = imp.value(node.input[0])
    w = imp.const(node.input[1])
    flat = x is not None and len(x.shape) == 2 and not x.last
    if x is None or w is None or w.ndim != 2 or not (flat or x.last) or (x.shape[-1] != w.shape[0]):
        imp.refuse(
            node,
            "only [1, F] (or channels-last [1, H, W, C]) × a constant matrix is a linear layer",
        )
        return
    out = int(w.shape[1])
    params = imp.float_size(node.input[1])
    outputs = [node.output[0]]
    bias = False
    add = imp.only_consumer(node.output[0])
    if add is not None and add.op_type == "Add":
        other = [i for i in add.input if i != node.output[0]]
        b = imp.const(other[0]) if len(other) == 1 else None
        if b is not None and b.size == out and b.shape[-1:] == (out,) and b.dtype.kind == "f":
            imp.done.add(id(add))
            outputs = [add.output[0]]
            bias = True
            params += int(b.size)
    fields: dict[str, Any] = {"out": out} if bias else {"out": out, "bias": False}
    imp.emit(
        node, "linear" if flat else "pointwise_conv", fields, [x], outputs=outputs, params=params
    )


def map_transpose(imp: Importer, node: Any) -> None:
    """To channels-last (0, 2, 3, 1) and back (0, 3, 1, 2): no layer, the next ops read
    the layout (layer norm, MatMul over channels, elementwise)."""
    x = _data_input(imp, node, any_layout=True)
    if x is None:
        return
    rank = len(x.shape)
    perm = list(attrs_of(node).get("perm", reversed(range(rank))))
    to_last = [0, *range(2, rank), 1]
    to_first = [0, rank - 1, *range(1, rank - 1)]
    if rank > 2 and not x.last and perm == to_last:
        imp.alias(node.output[0], Value(x.layer, x.port, imp.shape(node.output[0]), True))
    elif rank > 2 and x.last and perm == to_first:
        imp.alias(node.output[0], Value(x.layer, x.port, imp.shape(node.output[0]), False))
    else:
        imp.refuse(
            node, f"Transpose {perm} (only to channels-last and back, or in a channel shuffle)"
        )


def map_layernorm(imp: Importer, node: Any) -> None:
    """Over the channels: the last axis of a channels-last or a flat tensor."""
    x = _data_input(imp, node, any_layout=True)
    if x is None:
        return
    a = attrs_of(node)
    axis = a.get("axis", -1) % len(x.shape)
    if axis != len(x.shape) - 1 or not (x.last or len(x.shape) == 2):
        imp.refuse(node, "LayerNormalization over more than the channels")
        return
    if (
        len(node.input) < 2
        or imp.const(node.input[1]) is None
        or (len(node.input) > 2 and node.input[2] and imp.const(node.input[2]) is None)
    ):
        imp.refuse(node, "scale or bias is not constant")
        return
    has_bias = len(node.input) > 2 and bool(node.input[2])
    if not has_bias:
        imp.refuse(node, "LayerNormalization without a bias (archcost's has γ and β)")
        return
    eps = float(a.get("epsilon", 1e-5))
    imp.emit(
        node,
        "layernorm",
        {"eps": eps},
        [x],
        params=imp.float_size(node.input[1]) + imp.float_size(node.input[2]),
    )


def _const_close(imp: Importer, name: str, value: float) -> bool:
    c = imp.const(name)
    return c is not None and c.size == 1 and math.isclose(float(c), value, rel_tol=1e-5)


def _other(node: Any, name: str) -> str | None:
    rest = [i for i in node.input if i != name]
    return rest[0] if len(rest) == 1 else None


def map_div(imp: Importer, node: Any) -> None:
    """x / √2 -> Erf -> + 1 -> · x -> · ½ (and the order with ½·x first): GELU, as
    PyTorch exports it before opset 20."""
    x = _data_input(imp, node, any_layout=True)
    if x is None:
        return
    src = node.input[0]
    erf = imp.only_consumer(node.output[0])
    add = imp.only_consumer(erf.output[0]) if erf is not None and erf.op_type == "Erf" else None
    if (
        erf is None
        or erf.op_type != "Erf"
        or not _const_close(imp, node.input[1], math.sqrt(2))
        or add is None
        or add.op_type != "Add"
        or not _const_close(imp, _other(add, erf.output[0]) or "", 1.0)
    ):
        imp.refuse(node, "Div (other than in x·½·(1 + erf(x/√2)))")
        return
    mul = imp.only_consumer(add.output[0])
    if mul is None or mul.op_type != "Mul":
        imp.refuse(node, "Div (other than in x·½·(1 + erf(x/√2)))")
        return
    other = _other(mul, add.output[0])
    half = imp.producer.get(other or "")
    if other == src:
        last = imp.only_consumer(mul.output[0])
        if (
            last is None
            or last.op_type != "Mul"
            or not _const_close(imp, _other(last, mul.output[0]) or "", 0.5)
        ):
            imp.refuse(node, "Div (other than in x·½·(1 + erf(x/√2)))")
            return
        done, out = [erf, add, mul, last], last.output[0]
    elif (
        half is not None
        and half.op_type == "Mul"
        and src in half.input
        and _const_close(imp, _other(half, src) or "", 0.5)
    ):
        done, out = [erf, add, mul, half], mul.output[0]
    else:
        imp.refuse(node, "Div (other than in x·½·(1 + erf(x/√2)))")
        return
    imp.done.update(id(n) for n in done)
    imp.emit(node, "gelu", {}, [x], outputs=[out])


def map_gelu(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node, any_layout=True)
    if x is not None:
        form = attrs_of(node).get("approximate", "none")
        form = form.decode() if isinstance(form, bytes) else str(form)
        imp.emit(node, "gelu", {} if form == "none" else {"approximate": form}, [x])


def map_scale(imp: Importer, node: Any, x: Value, gamma: np.ndarray, name: str) -> None:
    """x · γ with γ a constant per channel ([C, 1, 1] channels-first, [C] channels-last):
    the layer scale."""
    c = x.shape[-1] if x.last else x.shape[1]
    wanted = (c,) if x.last else (c, *[1] * (len(x.shape) - 2))
    if gamma.dtype.kind != "f" or tuple(gamma.shape[-len(wanted) :]) != wanted or gamma.size != c:
        imp.refuse(
            node, f"Mul by a constant of shape {list(gamma.shape)} (only a per-channel scale)"
        )
        return
    imp.emit(node, "scale", {}, [x], params=int(gamma.size))


def map_convtranspose(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    w = imp.const(node.input[1])
    a = attrs_of(node)
    auto = a.get("auto_pad", b"NOTSET")
    if (
        w is None
        or (auto.decode() if isinstance(auto, bytes) else auto) != "NOTSET"
        or "output_shape" in a
    ):
        imp.refuse(node, "ConvTranspose with non-constant weights, auto_pad or output_shape")
        return
    nd = len(x.shape) - 2
    groups = int(a.get("group", 1))
    kernel = [int(k) for k in w.shape[2:]]
    fields: dict[str, Any] = {"out": int(w.shape[1]) * groups, "kernel": _compact(kernel)}
    for key, field_name in (
        ("strides", "stride"),
        ("dilations", "dilation"),
        ("output_padding", "output_padding"),
    ):
        values = list(a.get(key, [1 if key != "output_padding" else 0] * nd))
        if any(v != (0 if key == "output_padding" else 1) for v in values):
            fields[field_name] = _compact(values)
    padding = spec_padding(list(a.get("pads", [0] * 2 * nd)), nd)
    if padding != 0:
        fields["padding"] = padding
    if groups > 1:
        fields["groups"] = groups
    has_bias = len(node.input) > 2 and bool(node.input[2])
    if not has_bias:
        fields["bias"] = False
    params = imp.float_size(node.input[1]) + (imp.float_size(node.input[2]) if has_bias else 0)
    imp.emit(node, "transposed_conv", fields, [x], params=params)


def map_resize(imp: Importer, node: Any) -> None:
    """Resize/Upsample of the spatial axes -> upsample (nearest, or (bi/tri)linear)."""
    x = _data_input(imp, node)
    if x is None:
        return
    a = attrs_of(node)
    text = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.items()}
    mode = text.get("mode", "nearest")
    out = imp.shape(node.output[0])
    nd = len(x.shape) - 2
    if len(out) != len(x.shape) or out[:2] != x.shape[:2] or mode not in ("nearest", "linear"):
        imp.refuse(node, f"{node.op_type} in mode {mode} or of the batch/channel axes")
        return
    fields: dict[str, Any] = {}
    if mode == "linear":
        if nd not in (2, 3):
            imp.refuse(node, "linear Resize of other than 2 or 3 spatial axes")
            return
        fields["mode"] = "bilinear" if nd == 2 else "trilinear"
        if text.get("coordinate_transformation_mode") == "align_corners":
            fields["align_corners"] = True
    spatial_in, spatial_out = x.shape[2:], out[2:]
    if all(o % n == 0 for n, o in zip(spatial_in, spatial_out, strict=True)):
        fields["scale"] = _compact([o // n for n, o in zip(spatial_in, spatial_out, strict=True)])
    else:
        fields["size"] = _compact(list(spatial_out))
    imp.emit(node, "upsample", fields, [x])


def map_pad(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    a = attrs_of(node)
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if imp.opset < 11:
        pads, value = list(a.get("pads", [])), float(a.get("value", 0.0))
    else:
        p = imp.const(node.input[1]) if len(node.input) > 1 else None
        v = imp.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if (
            p is None
            or (len(node.input) > 2 and node.input[2] and v is None)
            or (len(node.input) > 3 and node.input[3])
        ):
            imp.refuse(node, "Pad with non-constant pads or explicit axes")
            return
        pads, value = [int(i) for i in p.ravel()], float(v) if v is not None else 0.0
    rank = len(x.shape)
    modes = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}
    if (
        len(pads) != 2 * rank
        or any(pads[i] or pads[rank + i] for i in (0, 1))
        or mode not in modes
        or any(v < 0 for v in pads)
    ):
        imp.refuse(node, "Pad of the batch or channel axes, negative pads, or mode " + mode)
        return
    begins, ends = pads[2:rank], pads[rank + 2 :]
    conv = imp.only_consumer(node.output[0])
    if (
        conv is not None
        and conv.op_type == "Conv"
        and mode == "constant"
        and node_path(node)
        and node_path(conv) == node_path(node)
        and not any(attrs_of(conv).get("pads", []))
        and attrs_of(conv).get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
    ):
        # A constant Pad in the module of the Conv it feeds: the conv's own padding,
        # with its fill value (how archcost exports a conv with pad_value).
        imp.done.add(id(conv))
        map_conv(imp, conv, padded=(x, spec_padding(begins + ends, rank - 2), value))
        return
    fields: dict[str, Any] = {"padding": spec_padding(begins + ends, rank - 2)}
    if modes[mode] != "constant":
        fields["mode"] = modes[mode]
    elif value != 0.0:
        fields["value"] = value
    imp.emit(node, "pad", fields, [x])


def map_batchnorm(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    a = attrs_of(node)
    if a.get("training_mode", 0) or len([o for o in node.output if o]) > 1:
        imp.refuse(node, "training-mode BatchNormalization")
        return
    if any(imp.const(i) is None for i in node.input[1:5]):
        imp.refuse(node, "scale, bias, mean or variance is not constant")
        return
    eps = float(a.get("epsilon", 1e-5))
    fields = {} if math.isclose(eps, 1e-5, rel_tol=1e-6) else {"eps": eps}
    imp.emit(
        node,
        "batchnorm",
        fields,
        [x],
        params=imp.float_size(node.input[1]) + imp.float_size(node.input[2]),
    )


def _elementwise(kind: str, any_layout: bool = True) -> Callable[[Importer, Any], None]:
    def handler(imp: Importer, node: Any) -> None:
        x = _data_input(imp, node, any_layout=any_layout)
        if x is not None:
            imp.emit(node, kind, {}, [x])

    return handler


def map_sigmoid(imp: Importer, node: Any) -> None:
    """Sigmoid, or x·sigmoid(x) (SiLU as exporters write it) -> swish."""
    x = _data_input(imp, node, any_layout=True)
    if x is None:
        return
    mul = imp.only_consumer(node.output[0])
    if (
        mul is not None
        and mul.op_type == "Mul"
        and sorted(mul.input) == sorted([node.input[0], node.output[0]])
    ):
        imp.done.add(id(mul))
        imp.emit(node, "swish", {}, [x], outputs=[mul.output[0]])
        return
    imp.emit(node, "sigmoid", {}, [x])


def map_clip(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node, any_layout=True)
    if x is None:
        return
    a = attrs_of(node)
    if imp.opset < 11:
        lo, hi = a.get("min", -math.inf), a.get("max", math.inf)
    else:
        bounds = []
        for i, default in ((1, -math.inf), (2, math.inf)):
            if len(node.input) > i and node.input[i]:
                c = imp.const(node.input[i])
                if c is None:
                    imp.refuse(node, "Clip bounds are not constant")
                    return
                bounds.append(float(c))
            else:
                bounds.append(default)
        lo, hi = bounds
    if lo == 0 and hi == 6:
        imp.emit(node, "relu6", {}, [x])
    elif lo == 0 and hi == math.inf:
        imp.emit(node, "relu", {}, [x])
    else:
        imp.refuse(node, f"Clip({lo:g}, {hi:g}) (only Clip(0, 6) = relu6 and Clip(0, ∞) = relu)")


def map_hardsigmoid(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node, any_layout=True)
    if x is None:
        return
    a = attrs_of(node)
    alpha, beta = a.get("alpha", 0.2), a.get("beta", 0.5)
    if math.isclose(alpha, 1 / 6, rel_tol=1e-5) and math.isclose(beta, 0.5, rel_tol=1e-6):
        imp.emit(node, "hsigmoid", {}, [x])
    else:
        imp.refuse(node, f"HardSigmoid(alpha={alpha:g}, beta={beta:g}) is not relu6(x + 3)/6")


def map_softmax(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    rank = len(x.shape)
    axis = attrs_of(node).get("axis", 1 if imp.opset < 13 else -1)
    if axis % rank != 1:
        imp.refuse(node, f"Softmax over axis {axis} (archcost's is over the channels)")
        return
    imp.emit(node, "softmax", {}, [x])


def map_lrn(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    a = attrs_of(node)
    imp.emit(
        node,
        "lrn",
        {
            "size": int(a["size"]),
            "alpha": float(a.get("alpha", 1e-4)),
            "beta": float(a.get("beta", 0.75)),
            "k": float(a.get("bias", 1.0)),
        },
        [x],
    )


def _pool(kind: str) -> Callable[[Importer, Any], None]:
    def handler(imp: Importer, node: Any) -> None:
        x = _data_input(imp, node)
        if x is None:
            return
        a = attrs_of(node)
        kernel = list(a["kernel_shape"])
        ndim = len(kernel)
        if any(d != 1 for d in a.get("dilations", [1] * ndim)):
            imp.refuse(node, "dilated pooling")
            return
        if len([o for o in node.output if o]) > 1 and imp.consumers.get(node.output[1]):
            imp.refuse(node, "MaxPool indices are used")
            return
        strides = list(a.get("strides", [1] * ndim))
        padding = window_padding(node, a, x.shape[2:], kernel, strides, [1] * ndim)
        fields: dict[str, Any] = {"kernel": _compact(kernel), "stride": _compact(strides)}
        if padding != 0:
            fields["padding"] = padding
        if a.get("ceil_mode", 0):
            fields["ceil_mode"] = True
        imp.emit(node, kind, fields, [x])

    return handler


def map_reducemean(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    a = attrs_of(node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        c = imp.const(node.input[1])
        axes = None if c is None else [int(v) for v in c.ravel()]
    rank = len(x.shape)
    if axes is None or sorted(v % rank for v in axes) != list(range(2, rank)):
        imp.refuse(node, "ReduceMean over axes other than all spatial ones")
        return
    imp.emit(node, "global_avgpool", {}, [x])


def map_add_mul(imp: Importer, node: Any) -> None:
    ins = [imp.value(i) for i in node.input]
    consts = [imp.const(i) for i in node.input]
    if (
        node.op_type == "Mul"
        and len(ins) == 2
        and sum(v is not None for v in ins) == 1
        and sum(c is not None for c in consts) == 1
    ):
        x = ins[0] if ins[0] is not None else ins[1]
        gamma = consts[1] if consts[1] is not None else consts[0]
        assert x is not None and gamma is not None
        map_scale(imp, node, x, gamma, node.name)
        return
    if any(v is None for v in ins):
        imp.refuse(node, f"{node.op_type} with a constant operand")
        return
    kind = "mul" if node.op_type == "Mul" else "add"
    if len({v.last for v in ins if v is not None}) > 1:
        imp.refuse(node, f"{node.op_type} of channels-first and channels-last tensors")
        return
    shapes = [v.shape for v in ins if v is not None]
    if kind == "add" and len(set(shapes)) != 1:
        imp.refuse(node, "Add with broadcasting")
        return
    imp.emit(node, kind, {}, [v for v in ins if v is not None])


def map_concat(imp: Importer, node: Any) -> None:
    ins = [imp.value(i) for i in node.input]
    rank = len(imp.shape(node.output[0])) or 4
    if any(v is None for v in ins) or attrs_of(node).get("axis", 1) % rank != 1:
        imp.refuse(node, "Concat of constants or along an axis other than the channels")
        return
    imp.emit(node, "concat", {}, [v for v in ins if v is not None])


def map_split(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    a = attrs_of(node)
    if a.get("axis", 0) % len(x.shape) != 1:
        imp.refuse(node, "Split along an axis other than the channels")
        return
    sizes = [imp.shape(o)[1] for o in node.output]
    if not all(sizes):
        imp.refuse(node, "unknown split sizes")
        return
    imp.emit(
        node,
        "channel_split",
        {"sections": sizes if len(set(sizes)) > 1 else len(sizes)},
        [x],
        outputs=list(node.output),
    )


def _slice_range(imp: Importer, node: Any, channels: int) -> tuple[int, int] | None:
    """The [start, end) channel range of a Slice along axis 1 with step 1, else None."""
    a = attrs_of(node)
    if imp.opset < 10:
        starts, ends, axes, steps = a.get("starts"), a.get("ends"), a.get("axes"), None
    else:
        vals = [imp.const(i) if i else None for i in list(node.input[1:]) + [""] * 4]
        if any(node.input[i + 1] and vals[i] is None for i in range(len(node.input) - 1)):
            return None
        starts, ends, axes, steps = vals[0], vals[1], vals[2], vals[3]
    if starts is None or ends is None:
        return None
    first = [int(v) for v in np.ravel(starts)]
    last = [int(v) for v in np.ravel(ends)]
    along = list(range(len(first))) if axes is None else [int(v) for v in np.ravel(axes)]
    step = [1] * len(first) if steps is None else [int(v) for v in np.ravel(steps)]
    if along != [1] and [v % 4 for v in along] != [1]:
        return None
    if step != [1]:
        return None
    lo, hi = first[0], last[0]
    lo = max(0, min(channels, lo + channels if lo < 0 else lo))
    hi = max(0, min(channels, hi + channels if hi < 0 else hi))
    return (lo, hi) if hi > lo else None


def _centre_crop(imp: Importer, node: Any, x: Value) -> list[int] | None:
    """The target spatial size when ``node`` slices the centre window of the spatial
    axes (start ``⌊(n − t)/2⌋``, step 1), else None."""
    out = imp.shape(node.output[0])
    if len(out) != len(x.shape) or out[:2] != x.shape[:2]:
        return None
    if imp.opset < 10:
        return None
    vals = [imp.const(i) if i else None for i in node.input[1:]]
    if any(i and v is None for i, v in zip(node.input[1:], vals, strict=True)) or len(vals) < 2:
        return None
    rank = len(x.shape)
    if vals[0] is None:
        return None
    starts = [int(v) for v in np.ravel(vals[0])]
    axes = (
        [int(v) % rank for v in np.ravel(vals[2])]
        if len(vals) > 2 and vals[2] is not None
        else list(range(len(starts)))
    )
    steps = (
        [int(v) for v in np.ravel(vals[3])]
        if len(vals) > 3 and vals[3] is not None
        else [1] * len(starts)
    )
    if any(a < 2 for a in axes) or any(s != 1 for s in steps):
        return None
    # axes and starts are inputs of the (untrusted) file, not equal-length by construction
    for axis, start in zip(axes, starts, strict=False):
        n, t = x.shape[axis], out[axis]
        if (start + n if start < 0 else start) != (n - t) // 2:
            return None
    return list(out[2:])


def map_slice(imp: Importer, node: Any) -> None:
    """Slices of one tensor along the channels -> one channel_split (ShuffleNet V2); the
    centre window of the spatial axes -> crop (U-Net)."""
    x = _data_input(imp, node)
    if x is None:
        return
    target = _centre_crop(imp, node, x)
    if target is not None:
        imp.emit(node, "crop", {"size": _compact(target)}, [x])
        return
    channels = x.shape[1]
    slices = []
    for user in imp.consumers.get(node.input[0], []):
        if user.op_type == "Slice" and user.input[0] == node.input[0]:
            r = _slice_range(imp, user, channels)
            if r is not None:
                slices.append((r, user))
    if not any(user is node for _, user in slices):
        imp.refuse(node, "Slice other than a contiguous part of the channels")
        return
    slices.sort(key=lambda item: item[0])
    bounds, outputs, pos = [], [], 0
    ok = True
    for (lo, hi), user in slices:
        if lo < pos:
            ok = False
            break
        if lo > pos:
            bounds.append(lo - pos)
            outputs.append("")
        bounds.append(hi - lo)
        outputs.append(user.output[0])
        pos = hi
    if not ok:
        imp.refuse(node, "overlapping channel slices")
        return
    if pos < channels:
        bounds.append(channels - pos)
        outputs.append("")
    for (lo, hi), user in slices:
        imp.done.add(id(user))
        # Bounds computed at run time can leave onnx's inference without a shape.
        imp.shapes.setdefault(user.output[0], (x.shape[0], hi - lo, *x.shape[2:]))
    sections: Any = bounds if len(set(bounds)) > 1 else len(bounds)
    imp.emit(node, "channel_split", {"sections": sections}, [x], outputs=outputs)


def map_reshape(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    out = imp.shape(node.output[0])
    if len(out) == 2 and out[0] == 1:
        if len(x.shape) == 2:
            imp.alias(node.output[0], x)
        else:
            imp.emit(node, "flatten", {}, [x])
        return
    # Reshape [1, C, H, W] -> [1, g, C/g, H, W], Transpose (0, 2, 1, 3, 4), Reshape back.
    if (
        len(x.shape) == 4
        and len(out) == 5
        and out[1] * out[2] == x.shape[1]
        and out[3:] == x.shape[2:]
    ):
        tr = imp.only_consumer(node.output[0])
        if (
            tr is not None
            and tr.op_type == "Transpose"
            and list(attrs_of(tr).get("perm", [])) == [0, 2, 1, 3, 4]
        ):
            back = imp.only_consumer(tr.output[0])
            if (
                back is not None
                and back.op_type in ("Reshape", "Flatten")
                and imp.shape(back.output[0]) == x.shape
            ):
                imp.done.update({id(tr), id(back)})
                imp.emit(
                    node, "channel_shuffle", {"groups": int(out[1])}, [x], outputs=[back.output[0]]
                )
                return
    imp.refuse(
        node, f"Reshape {list(x.shape)} -> {list(out)} (only to [1, F] or a channel shuffle)"
    )


def map_flatten(imp: Importer, node: Any) -> None:
    x = _data_input(imp, node)
    if x is None:
        return
    user = imp.only_consumer(node.output[0])
    if attrs_of(node).get("axis", 1) != 1:
        imp.refuse(node, "Flatten at an axis other than 1")
    elif len(x.shape) == 2 or (
        user is not None
        and user.op_type == "Gemm"
        and all(d == 1 for d in x.shape[2:])
        and module_path(user.name)
        and module_path(user.name) == module_path(node.name)
    ):
        # A Flatten inside the module of its Gemm (archcost's own export of a linear
        # layer on [C, 1, 1]) is part of that linear layer.
        imp.alias(node.output[0], x)
    else:
        imp.emit(node, "flatten", {}, [x])


def map_squeeze(imp: Importer, node: Any) -> None:
    """[1, C, 1, 1] -> [1, C]: archcost already treats [C, 1, 1] as flat."""
    x = _data_input(imp, node)
    if x is None:
        return
    out = imp.shape(node.output[0])
    if len(out) == 2 and out[1] == x.shape[1] and math.prod(x.shape) == math.prod(out):
        imp.alias(node.output[0], x)
    else:
        imp.refuse(node, f"{node.op_type} {list(x.shape)} -> {list(out)}")


def map_passthrough(imp: Importer, node: Any) -> None:
    """Dropout and Identity: kept as the zero-cost rows they are in a spec (dropout
    with its ratio), so the file's graph is counted as it is and an exported spec comes
    back with the same rows. (Identity nodes that read initializers, the exporters'
    deduplicated weights, are folded as constants and never become rows.)"""
    x = _data_input(imp, node, any_layout=True)
    if x is None:
        return
    if len(node.output) > 1 and node.output[1] and imp.consumers.get(node.output[1]):
        imp.refuse(node, "the Dropout mask is used")
        return
    if node.op_type == "Identity":
        imp.emit(node, "identity", {}, [x])
        return
    ratio = attrs_of(node).get("ratio", 0.5)
    if len(node.input) > 1 and node.input[1]:
        value = imp.const(node.input[1])
        if value is None:
            imp.refuse(node, "the Dropout ratio is not constant")
            return
        ratio = float(value)
    imp.emit(node, "dropout", {} if ratio == 0.5 else {"p": float(ratio)}, [x])


OPS: dict[str, Op] = {
    "Conv": Op(
        "conv, pointwise_conv, depthwise_conv, grouped_conv",
        "by group and kernel; pads, strides, dilations, auto_pad",
        map_conv,
    ),
    "Gemm": Op("linear", "constant B, alpha = beta = 1", map_gemm),
    "MatMul": Op(
        "linear", "[1, F] × constant [F, N], with a following Add of a constant bias", map_matmul
    ),
    "BatchNormalization": Op("batchnorm", "inference mode", map_batchnorm),
    "Relu": Op("relu", "", _elementwise("relu")),
    "Clip": Op("relu6 (relu)", "Clip(0, 6) (Clip(0, ∞))", map_clip),
    "Sigmoid": Op("sigmoid, swish", "x·Sigmoid(x) becomes one swish", map_sigmoid),
    "HardSigmoid": Op("hsigmoid", "alpha = 1/6, beta = 0.5", map_hardsigmoid),
    "HardSwish": Op("hswish", "", _elementwise("hswish")),
    "Tanh": Op("tanh", "", _elementwise("tanh")),
    "Softmax": Op("softmax", "over the channels", map_softmax),
    "LRN": Op("lrn", "", map_lrn),
    "MaxPool": Op("maxpool", "pads, strides, ceil_mode, auto_pad", _pool("maxpool")),
    "AveragePool": Op("avgpool", "pads, strides, ceil_mode, auto_pad", _pool("avgpool")),
    "GlobalAveragePool": Op("global_avgpool", "", _elementwise("global_avgpool", False)),
    "ReduceMean": Op("global_avgpool", "over all spatial axes", map_reducemean),
    "Add": Op("add", "same-shape inputs", map_add_mul),
    "Sum": Op("add", "same-shape inputs", map_add_mul),
    "Mul": Op(
        "mul, scale",
        "same shape, or [C, 1, 1] broadcast (squeeze-excite); by a constant per channel: scale",
        map_add_mul,
    ),
    "Concat": Op("concat", "along the channels", map_concat),
    "Split": Op("channel_split", "along the channels", map_split),
    "Slice": Op(
        "channel_split, crop",
        "slices along the channels, step 1; the centre window of the spatial axes",
        map_slice,
    ),
    "Reshape": Op(
        "flatten, channel_shuffle",
        "to [1, F]; Reshape–Transpose–Reshape is a channel shuffle",
        map_reshape,
    ),
    "Flatten": Op("flatten", "axis = 1", map_flatten),
    "Squeeze": Op("(dropped)", "[1, C, 1, 1] -> [1, C]", map_squeeze),
    "Transpose": Op(
        "(layout)",
        "to channels-last (0, 2, 3, 1) and back: the ops between read the channels last",
        map_transpose,
    ),
    "LayerNormalization": Op(
        "layernorm", "over the channels (channels-last or flat)", map_layernorm
    ),
    "Div": Op("gelu", "x·½·(1 + erf(x/√2)) (Div, Erf, Add, Mul, Mul)", map_div),
    "Gelu": Op("gelu", "opset 20", map_gelu),
    "ConvTranspose": Op(
        "transposed_conv", "pads, strides, dilations, output_padding, group", map_convtranspose
    ),
    "Resize": Op("upsample", "nearest or linear, of the spatial axes", map_resize),
    "Upsample": Op("upsample", "nearest or linear, of the spatial axes", map_resize),
    "Pad": Op("pad", "constant, reflect or edge, spatial axes", map_pad),
    "Dropout": Op("dropout", "inference (no mask used)", map_passthrough),
    "Identity": Op("identity", "on data; on initializers it is folded", map_passthrough),
}


# ---------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------
def node_path(node: Any) -> str:
    """A node's module path: from its name (``/layer1/layer1.0/conv1/Conv``, the
    TorchScript exporter), else from the ``pkg.torch.onnx.name_scopes`` metadata the
    dynamo exporter writes (``['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d']``:
    the scopes are qualified; the last is the op's own name)."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = [str(s) for s in ast.literal_eval(prop.value) if s]
            except (ValueError, SyntaxError, TypeError):
                break
            if len(scopes) >= 2:
                return module_path(scopes[-2].replace("/", "."))
            break
    return module_path(node.name)


def _assign_names(layers: list[Emitted]) -> None:
    paths = [layer.path for layer in layers]
    groups: dict[str, int] = {}
    for p in paths:
        groups[p] = groups.get(p, 0) + 1
    prefixes = {p[:i] for p in paths for i, ch in enumerate(p) if ch == "."}
    taken: set[str] = {"input"}
    suffixes: dict[tuple[str, str], int] = {}
    for layer, path in zip(layers, paths, strict=True):
        if path and groups[path] == 1 and path not in prefixes and path not in taken:
            name = path
        else:
            base = f"{path}.{layer.kind}" if path else layer.kind
            n = suffixes.get((path, layer.kind), 0) + 1
            suffixes[(path, layer.kind)] = n
            name = base if n == 1 else f"{base}_{n}"
        while name in taken:
            name += "_"
        taken.add(name)
        layer.name = name


def unsupported_message(items: list[Unsupported]) -> str:
    """All unsupported ops in one sentence: op type, how many, some node names, why."""
    by_op: dict[str, list[Unsupported]] = {}
    for u in items:
        by_op.setdefault(u.op, []).append(u)
    parts = []
    for op, us in sorted(by_op.items()):
        names = ", ".join(u.node or "?" for u in us[:3]) + (", ..." if len(us) > 3 else "")
        parts.append(f"{op} ×{len(us)} ({names}: {us[0].reason})")
    total = len(items)
    return f"{total} unsupported ONNX op{'s' if total != 1 else ''}: " + "; ".join(parts) + "."


@dataclass
class Imported:
    """An imported model: the spec document and what the file says about each layer."""

    doc: dict[str, Any]
    expected: dict[str, tuple[tuple[int, ...] | None, int]]  # name -> (per-sample shape, params)
    unsupported: list[Unsupported]


def import_model(path: str | Path, *, input: Any = None, unsupported: str = "error") -> Imported:
    """Read ``path`` and map it to a spec document.

    Args:
        path: the .onnx file.
        input: ``"3x224x224"`` or ``"name=3x224x224"`` when the file's input is
            symbolic or several (also re-sizes a fixed input).
        unsupported: ``"error"`` (the default: refuse the file, listing every op it
            cannot map) or ``"zero"`` (count them as 0, as 'unsupported' rows).

    Raises:
        SpecError: bad file (see :func:`read_model`), an ambiguous or symbolic input,
            or unsupported ops (all listed in one line).
    """
    name = str(path)
    model = read_model(path)
    opset = check_opset(model, name)
    input_name, per_sample = fix_input(model, name, input)
    if unsupported not in ("error", "zero"):
        raise SpecError(f"unsupported={unsupported!r}: expected 'error' or 'zero'.", file=name)
    imp = Importer(model, name, opset, {}, zero=unsupported == "zero")
    imp.run(input_name)
    if imp.unsupported and not imp.zero:
        raise SpecError(
            unsupported_message(imp.unsupported),
            file=name,
            hint="archcost counts only what it can map exactly; --unsupported zero counts "
            "them as 0, marked in every output.",
        )
    if imp.hard:
        raise SpecError(
            unsupported_message(imp.hard) + " Even counted as 0 they cannot "
            "stand in the graph (no data input, several used outputs, unknown "
            "or channels-last shape).",
            file=name,
        )
    _assign_names(imp.layers)
    last = len(imp.layers) - 1
    items = []
    expected = {}
    for index, layer in enumerate(imp.layers):
        item: dict[str, Any] = {"name": layer.name, "type": layer.kind}
        refs = []
        for v in layer.inputs:
            ref = "input" if v.layer == -1 else imp.layers[v.layer].name
            refs.append(ref if v.port is None else f"{ref}:{v.port}")
        implicit = ["input"] if index == 0 else [imp.layers[index - 1].name]
        if refs != implicit:
            item["inputs"] = refs
        item.update(layer.fields)
        items.append(item)
        shape = layer.shapes[0][1:] if layer.shapes and layer.shapes[0] else None
        expected[layer.name] = (shape, layer.file_params)
    del last
    stem = Path(path).stem
    description = f"Imported from {Path(path).name} (opset {opset})."
    if imp.unsupported:
        description = (
            "⚠ INCOMPLETE: "
            + unsupported_message(imp.unsupported)
            .replace("unsupported ONNX op", "ONNX op", 1)
            .rstrip(".")
            + " — counted as 0 (unsupported: "
            "zero). " + description
        )
    doc = {
        "archcost": 1,
        "name": stem,
        "description": description,
        "input": list(per_sample),
        "layers": items,
    }
    return Imported(doc, expected, imp.unsupported)


def to_yaml(doc: dict[str, Any]) -> str:
    """The document as a spec file: one flow mapping per layer, as the zoo writes them."""

    def flow(value: Any) -> str:
        # Dumped inside a list so that a plain scalar gets no document-end marker.
        return yaml.safe_dump(
            [value], default_flow_style=True, width=10**9, sort_keys=False, allow_unicode=True
        ).strip()[1:-1]

    lines = [f"archcost: {doc['archcost']}", f"name: {flow(doc['name'])}"]
    if doc.get("description"):
        lines.append(f"description: {flow(doc['description'])}")
    lines.append(f"input: {flow(doc['input'])}")
    lines.append("layers:")
    lines += [f"  - {flow(item)}" for item in doc["layers"]]
    return "\n".join(lines) + "\n"


def spec_from_doc(doc: dict[str, Any], file: str) -> Spec:
    """The :class:`~archcost.spec.Spec` the YAML loader would give for ``doc``."""

    def ymap(d: dict[str, Any]) -> YMap:
        m = YMap(d)
        m.file, m.line, m.key_lines = file, 0, {}
        return m

    return Spec(
        name=str(doc["name"]),
        description=str(doc.get("description", "")),
        input=list(doc["input"]),
        params={},
        defaults={},
        blocks={},
        layers=[ymap(item) for item in doc["layers"]],
        file=file,
        line_of={},
        files=[Path(file)],
    )


def check_against_file(
    model: Model, expected: dict[str, tuple[tuple[int, ...] | None, int]]
) -> None:
    """Each layer's shape and params as archcost computes them == as the file has them
    (a size-1 axis may differ: archcost's [C, 1, 1] is ONNX's [C] after a squeeze)."""
    rows = {row.name: row for row in model.costs().rows}
    for name, (shape, params) in expected.items():
        row = rows[name]
        out = row.output_shape
        out = out[0] if out and isinstance(out[0], tuple) else out
        if (
            shape is not None
            and tuple(out) != tuple(shape)
            and [d for d in out if d != 1] != [d for d in shape if d != 1]
        ):
            raise SpecError(
                f"archcost computes an output of [{'x'.join(map(str, out))}] but "
                f"the file says [{'x'.join(map(str, shape))}].",
                file=model.path,
                layer=name,
                kind=row.kind,
                hint="Please report this: the ONNX mapping is wrong for this node.",
            )
        if row.params != params:
            raise SpecError(
                f"archcost counts {row.params:,} params but the node uses "
                f"{params:,} floating initializer elements.",
                file=model.path,
                layer=name,
                kind=row.kind,
                hint="Please report this: the ONNX mapping is wrong for this node.",
            )


def load_onnx_spec(
    path: str | Path, *, input: Any = None, unsupported: str = "error"
) -> tuple[Spec, Imported]:
    imported = import_model(path, input=input, unsupported=unsupported)
    return spec_from_doc(imported.doc, str(path)), imported
