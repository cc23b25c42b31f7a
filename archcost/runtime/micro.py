"""Micro-models for calibration: small archcost networks exported to ONNX.

A micro-model is a few layers (instances of archcost's kinds, :class:`Step`) wired by
name, exported by archcost's own exporter (:func:`archcost.onnx.exporter.graph_proto`):
every kernel is written by its kind's ``to_onnx``, exactly as ``archcost export``
writes it inside a network, so a new kind never needs a builder here. Shapes come from
each kind's ``out_shapes``, weights from its ``init_weights`` (seeded). Graph inputs
have batch 1; the outputs are the layers no other layer reads. ONNX node names are
``/<layer>/<Op>`` (:func:`archcost.runtime.ort.layer_of` reads the layer back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from archcost.graph import Node
from archcost.layers.base import Layer, Shape
from archcost.onnx.exporter import graph_proto


@dataclass(frozen=True)
class Step:
    """One layer of a micro-model: its name, the kind instance, the names it reads
    (graph inputs or earlier steps)."""

    name: str
    layer: Layer
    inputs: tuple[str, ...]


def nodes(steps: Sequence[Step], inputs: Mapping[str, Shape]) -> list[Node]:
    """The graph nodes of ``steps`` on the graph ``inputs`` (name -> per-sample shape),
    with their shapes (each kind's ``out_shapes``)."""
    shapes: dict[str, Shape] = dict(inputs)
    out = []
    for order, step in enumerate(steps):
        ins = tuple(shapes[name] for name in step.inputs)
        outs = step.layer.out_shapes(ins)
        shapes[step.name] = outs[0]
        out.append(
            Node(
                name=step.name,
                layer=step.layer,
                inputs=step.inputs,
                ports=(None,) * len(ins),
                input_shapes=ins,
                output_shapes=outs,
                file=None,
                line=None,
                order=order,
            )
        )
    return out


def network(steps: Sequence[Step], inputs: Mapping[str, Shape], *, seed: int = 0) -> bytes:
    """The serialized ONNX model of ``steps`` on the graph ``inputs`` (name -> per-sample
    shape)."""
    graph = nodes(steps, inputs)
    rng = np.random.default_rng(seed)
    weights = {n.name: n.layer.init_weights(n.input_shapes, rng) for n in graph if n.layer}
    proto = graph_proto(
        graph,
        {name: [1, *shape.dims] for name, shape in inputs.items()},
        weights,
        graph_name="micro",
        producer="archcost-calibrate",
    )
    proto.ir_version = min(proto.ir_version, 8)  # readable by onnxruntime >= 1.14
    return bytes(proto.SerializeToString())


def single(layer: Layer, ins: Sequence[Shape], *, name: str = "layer", seed: int = 0) -> bytes:
    """One layer on graph inputs ``x``, ``x1``, ... of the shapes ``ins``."""
    inputs = {f"x{i}" if i else "x": shape for i, shape in enumerate(ins)}
    return network([Step(name, layer, tuple(inputs))], inputs, seed=seed)
