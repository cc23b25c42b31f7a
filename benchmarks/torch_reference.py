"""The archcost graph as PyTorch CPU ops, on the weights the NumPy backend used.

A reference for ``benchmarks/backend.py``: it times the same network in PyTorch and
compares the outputs, so every layer must compute what the NumPy backend computes.
The translation is each kind's own ``Layer.to_torch`` (in archcost/layers/), given
the layer's input shapes and weights. Nothing is specific to a spec.

It consumes exactly the arrays of :func:`archcost.backend.prepare` (as zero-copy
tensors): conv ``weight``/``bias`` in torch's ``(C_out, C_in/g, *kernel)`` layout,
batchnorm ``gamma``/``beta``/``running_mean``/``running_var``, linear
``weight``/``bias``. torch is optional for archcost; only the benchmark and
``tests/test_torch_reference.py`` import this module.

Usage::

    x, weights = archcost.backend.prepare(model, seed=0)
    net = TorchNet(model, weights)
    outputs = net(torch.from_numpy(x))        # {layer name: tensor} for the sinks
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from archcost.graph import INPUT, Node
from archcost.layers.base import Layer

Tensor = torch.Tensor
#: One layer's translation: ``(inputs, inplace) -> output``.
Op = Callable[[list[Tensor], bool], Any]


def op_for(layer: Layer, input_shapes: Sequence[Any], weights: dict[str, Tensor]) -> Op:
    """The layer's own PyTorch translation (``Layer.to_torch``), bound to its input
    shapes and weights.

    Raises:
        NotImplementedError: a kind without ``to_torch`` (``tests/test_torch_reference.py``
            covers the registry).
    """
    if type(layer).to_torch is Layer.to_torch:
        layer.to_torch([], {}, input_shapes)      # raises the kind's NotImplementedError
    return lambda xs, inplace: layer.to_torch(xs, weights, input_shapes, inplace=inplace)


class TorchNet:
    """The model's graph run with torch ops, freeing tensors after their last consumer.

    Args:
        model: a loaded :class:`archcost.Model`.
        weights: per layer name its arrays, as :func:`archcost.backend.prepare` returns
            them; wrapped without copying (``torch.from_numpy``).
    """

    def __init__(self, model: Any, weights: Mapping[str, dict[str, np.ndarray]]):
        self.model = model
        self.steps: list[tuple[str, Op, Layer, Node]] = []
        for name in model.layers:
            node = model.nodes[name]
            tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights[name].items()}
            self.steps.append((name, op_for(node.layer, node.input_shapes, tensors),
                               node.layer, node))
        self.consumers = {n: len(model.consumers(n)) for n in model.order}

    @torch.inference_mode()
    def __call__(self, x: Tensor, times: list[float] | None = None,
                 keep_all: bool = False, inplace: bool = False) -> dict[str, Any]:
        """One forward pass; returns the tensors no layer consumes (the outputs).

        Args:
            x: the input ``(N, *input_shape)``.
            times: when given, one entry per layer is appended: the seconds its op took
                (torch's CPU ops run synchronously, so the clock brackets the work).
            keep_all: keep every layer's output (tests), not only the final ones.
            inplace: let kinds with ``Layer.inplace`` run in place where the input dies
                here (the NumPy side's ``archcost.backend.run(..., inplace=True)``), as
                torchvision does (``ReLU(inplace=True)``, ``out += identity``).
        """
        remaining = dict(self.consumers)
        values: dict[str, Any] = {INPUT: x}
        clock = time.perf_counter
        for name, op, layer, a in self.steps:  # a: the Node
            xs = []
            for src, port in zip(a.inputs, a.ports):
                value = values[src]
                xs.append(value[port] if isinstance(value, list) else value)
            src0 = a.inputs[0] if a.inputs else None
            if (inplace and not keep_all and layer.inplace and src0 != INPUT
                    and a.ports[0] is None and remaining[src0] == 1
                    and a.inputs.count(src0) == 1 and xs[0]._base is None
                    # identity/dropout hand on the same tensor: no other holder may see it
                    and not any(v is xs[0] for k, v in values.items() if k != src0)):
                run_op = lambda: op(xs, True)  # noqa: E731
            else:
                run_op = lambda: op(xs, False)  # noqa: E731
            if times is None:
                values[name] = run_op()
            else:
                t0 = clock()
                values[name] = run_op()
                times.append(clock() - t0)
            for src in set(a.inputs):
                remaining[src] -= 1
                if remaining[src] == 0 and not keep_all:
                    del values[src]
        return values
