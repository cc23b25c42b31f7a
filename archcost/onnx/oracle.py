"""A second execution oracle: the exported model run by onnxruntime, layer by layer.

:func:`compare` exports the spec with every layer's output exposed as a graph output
(:func:`archcost.onnx.exporter.build` with the weights ``validate`` draws), runs it in
onnxruntime on the input ``validate`` draws, then runs each layer's NumPy forward on
*onnxruntime's* values of that layer's inputs, with the same weights, and compares the
outputs. Feeding each layer the runtime's inputs checks every kernel on its own: float32
rounding does not accumulate through a deep network (a random-weight MobileNetV3 reaches
activations in the thousands), and the first layer that disagrees is the culprit, not
the first place an accumulated drift crosses the line. A layer agrees when
``max|numpy − onnxruntime| ≤ rtol · scale``, where ``scale`` is the largest magnitude the
layer sees (its inputs' and its output's, as onnxruntime computes them): an elementwise
ratio is meaningless where outputs cross 0, and a clipping layer (relu6) must not turn
its input's rounding into a large relative error of its smaller output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from archcost.backend import prepare
from archcost.errors import SpecError
from archcost.onnx import require
from archcost.onnx.exporter import build, layer_outputs

if TYPE_CHECKING:
    from archcost.model import Model

RTOL = 1e-4


@dataclass(frozen=True)
class LayerAgreement:
    """One layer's NumPy output beside onnxruntime's."""

    name: str
    kind: str
    shape: str
    max_abs: float  # the largest |onnxruntime| value of its inputs and output
    max_error: float  # max |numpy − onnxruntime|
    rtol: float

    @property
    def relative(self) -> float:
        return self.max_error / self.max_abs if self.max_abs > 0 else self.max_error

    @property
    def ok(self) -> bool:
        return self.max_error <= self.rtol * self.max_abs or self.max_error == 0.0


@dataclass
class OracleResult:
    model: str
    runtime: str
    layers: list[LayerAgreement]

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.layers)

    @property
    def first_divergence(self) -> LayerAgreement | None:
        return next((a for a in self.layers if not a.ok), None)


def compare(
    model: Model,
    *,
    batch: int = 1,
    seed: int = 0,
    rtol: float = RTOL,
    opset: int = 17,
    threads: int | None = None,
) -> OracleResult:
    """Run ``model`` in NumPy and in onnxruntime on the same input and weights and
    compare every layer's output (see the module docstring)."""
    ort = require("onnxruntime", file=model.path)

    x, weights = prepare(model, batch=batch, seed=seed)
    proto = build(model, opset=opset, seed=seed, expose=True, weights=weights)
    outputs = layer_outputs(model)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(
            proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        names = [t for ts in outputs.values() for t in ts]
        results = dict(zip(names, session.run(names, {"input": x}), strict=True))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(
            f"onnxruntime cannot run the exported model: {first}", file=model.path
        ) from None
    del proto
    layers: list[LayerAgreement] = []
    results["input"] = x
    magnitude = {"input": float(np.max(np.abs(x))) if x.size else 0.0}
    for name in model.layers:
        node = model.nodes[name]
        assert node.layer is not None
        ref = [results[t] for t in outputs[name]]
        magnitude[name] = max((float(np.max(np.abs(r))) if r.size else 0.0) for r in ref)
        xs = [
            results["input" if src == "input" else outputs[src][port or 0]]
            for src, port in zip(node.inputs, node.ports, strict=True)
        ]
        y, _ = node.layer.forward([np.ascontiguousarray(v) for v in xs], weights[name])
        ys = y if isinstance(y, list) else [y]
        error = 0.0 if len(ys) == len(ref) else math.inf
        # unequal counts are an error already (inf); compare what both have
        for a, b in zip(ys, ref, strict=False):
            if a.shape != b.shape:
                error = math.inf
                break
            if a.size:
                error = max(error, float(np.max(np.abs(a.astype(np.float64) - b))))
        scale = max([magnitude[name]] + [magnitude[i] for i in node.inputs])
        shape = "; ".join("x".join(map(str, r.shape[1:])) for r in ref)
        layers.append(LayerAgreement(name, node.kind, shape, scale, error, rtol))
    return OracleResult(model.label, f"onnxruntime {ort.__version__}", layers)
