"""The archcost graph as PyTorch CPU ops, on the weights the NumPy backend used.

A reference for ``benchmarks/backend.py``: it times the same network in PyTorch and
compares the outputs, so every layer must compute what the NumPy backend computes.
The translation is generic: each node's kind picks one torch function, and the node's
attributes (the layer's fields, its resolved conv/pool geometry, its input and
output shapes, its input ports) give the arguments. Nothing is specific to a spec.

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

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from archcost.graph import INPUT
from archcost.layers.base import Layer
from archcost.layers.conv import ConvLike
from archcost.layers.pool import Pool

Tensor = torch.Tensor
#: One layer kind's translation: ``(layer, node attributes, inputs, weights) -> output``.
Op = Callable[[Layer, dict[str, Any], list[Tensor], dict[str, Tensor]], Any]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAXPOOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGPOOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_ADAPTIVE = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}


def _flat_pads(pads: Sequence[tuple[int, int]]) -> list[int]:
    """``((lo, hi) per spatial dim)`` -> F.pad's order: last dim first.

    >>> _flat_pads(((1, 2), (3, 4)))
    [3, 4, 1, 2]
    """
    return [p for lo_hi in reversed(pads) for p in lo_hi]


def _output_spatial(a: dict[str, Any]) -> tuple[int, ...]:
    return tuple(a["output_shapes"][0].spatial)


# -- convolution ---------------------------------------------------------------------
def _conv(layer: Layer, a: dict[str, Any], xs: list[Tensor], w: dict[str, Tensor]) -> Tensor:
    """Every conv kind (standard, grouped, pointwise, depthwise with a multiplier):
    one ``F.convNd`` with the node's resolved geometry. Symmetric zero padding goes to
    the conv itself (what a torch model does); anything else is an explicit ``F.pad``
    with the layer's ``pad_value`` first."""
    assert isinstance(layer, ConvLike)
    g = layer.geometry(a["input_shapes"][0])
    x = xs[0]
    pad_value = float(getattr(layer, "pad_value", 0.0))
    symmetric = all(lo == hi for lo, hi in g.padding)
    if symmetric and pad_value == 0.0:
        padding: tuple[int, ...] = tuple(lo for lo, _ in g.padding)
    else:
        x = F.pad(x, _flat_pads(g.padding), value=pad_value)
        padding = (0,) * len(g.kernel)
    return _CONV[len(g.kernel)](x, w["weight"], w.get("bias"), g.stride, padding, g.dilation,
                                g.groups)


# -- pooling ---------------------------------------------------------------------------
def _pool(layer: Layer, a: dict[str, Any], xs: list[Tensor], w: dict[str, Tensor]) -> Tensor:
    """maxpool/avgpool with PyTorch's own padding and ceil_mode where torch accepts
    them (symmetric, at most half the kernel); otherwise an explicit pad (−inf for max,
    zeros for avg, which then count in the average as ``count_include_pad=True``
    does), the pool with ``ceil_mode``, and a crop to the propagated size, since
    torch would also start a last window in the explicit right padding."""
    assert isinstance(layer, Pool)
    kernel, stride, pads, out = layer.window(a["input_shapes"][0])
    nd = len(kernel)
    x = xs[0]
    fn = _MAXPOOL[nd] if layer.op == "max" else _AVGPOOL[nd]
    extra = {} if layer.op == "max" else {"count_include_pad": True}
    native = all(lo == hi and 2 * lo <= k for (lo, hi), k in zip(pads, kernel))
    if native:
        return fn(x, kernel, stride, tuple(lo for lo, _ in pads), ceil_mode=layer.ceil_mode,
                  **extra)
    fill = -math.inf if layer.op == "max" else 0.0
    y = fn(F.pad(x, _flat_pads(pads), value=fill), kernel, stride, 0,
           ceil_mode=layer.ceil_mode, **extra)
    return y[(Ellipsis, *(slice(0, o) for o in out))]


def _global_avgpool(layer: Layer, a: dict[str, Any], xs: list[Tensor],
                    w: dict[str, Tensor]) -> Tensor:
    x = xs[0]
    return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


def _adaptive_avgpool(layer: Layer, a: dict[str, Any], xs: list[Tensor],
                      w: dict[str, Tensor]) -> Tensor:
    out = _output_spatial(a)
    return _ADAPTIVE[len(out)](xs[0], out)


# -- normalisation, dense, activations ---------------------------------------------
def _batchnorm(layer: Layer, a: dict[str, Any], xs: list[Tensor], w: dict[str, Tensor]) -> Tensor:
    return F.batch_norm(xs[0], w["running_mean"], w["running_var"], w["gamma"], w["beta"],
                        training=False, momentum=0.0, eps=layer.eps)


def _lrn(layer: Layer, a: dict[str, Any], xs: list[Tensor], w: dict[str, Tensor]) -> Tensor:
    return F.local_response_norm(xs[0], layer.size, alpha=layer.alpha, beta=layer.beta,
                                 k=layer.k)


def _linear(layer: Layer, a: dict[str, Any], xs: list[Tensor], w: dict[str, Tensor]) -> Tensor:
    # A [C, 1, 1] input counts as flat (DESIGN.md).
    return F.linear(torch.flatten(xs[0], 1), w["weight"], w.get("bias"))


def _unary(fn: Callable[[Tensor], Tensor]) -> Op:
    return lambda layer, a, xs, w: fn(xs[0])


# -- merging and branching -----------------------------------------------------------
def _add(layer: Layer, a: dict[str, Any], xs: list[Tensor], w: dict[str, Tensor]) -> Tensor:
    y = xs[0]
    for x in xs[1:]:
        y = y + x
    return y


def _mul(layer: Layer, a: dict[str, Any], xs: list[Tensor], w: dict[str, Tensor]) -> Tensor:
    y = xs[0]
    for x in xs[1:]:
        y = y * x          # a [C, 1, 1] input broadcasts (squeeze-and-excite)
    return y


def _concat(layer: Layer, a: dict[str, Any], xs: list[Tensor], w: dict[str, Tensor]) -> Tensor:
    return torch.cat(xs, dim=1)


def _channel_split(layer: Layer, a: dict[str, Any], xs: list[Tensor],
                   w: dict[str, Tensor]) -> list[Tensor]:
    return list(torch.split(xs[0], [s.c for s in a["output_shapes"]], dim=1))


def _channel_shuffle(layer: Layer, a: dict[str, Any], xs: list[Tensor],
                     w: dict[str, Tensor]) -> Tensor:
    # torchvision's ShuffleNetV2 idiom: view, transpose, contiguous, view.
    x = xs[0]
    n, c, *rest = x.shape
    g = layer.groups
    return x.view(n, g, c // g, *rest).transpose(1, 2).contiguous().view(n, c, *rest)


#: Every primitive kind's translation (composites expand into primitives in the graph;
#: conv and pool kinds are found by their class, before this table).
OPS: dict[str, Op] = {
    "global_avgpool": _global_avgpool,
    "adaptive_avgpool": _adaptive_avgpool,
    "batchnorm": _batchnorm,
    "lrn": _lrn,
    "linear": _linear,
    "relu": _unary(F.relu),
    "relu6": _unary(F.relu6),
    "sigmoid": _unary(torch.sigmoid),
    "tanh": _unary(torch.tanh),
    "swish": _unary(F.silu),
    "hswish": _unary(F.hardswish),
    "hsigmoid": _unary(F.hardsigmoid),
    "softmax": _unary(lambda x: F.softmax(x, dim=1)),
    "dropout": _unary(lambda x: x),          # inference
    "identity": _unary(lambda x: x),
    "flatten": _unary(lambda x: torch.flatten(x, 1)),
    "add": _add,
    "mul": _mul,
    "concat": _concat,
    "channel_split": _channel_split,
    "channel_shuffle": _channel_shuffle,
}


def op_for(layer: Layer) -> Op:
    """The translation of ``layer``'s kind.

    Raises:
        NotImplementedError: a kind this module does not know (a new kind needs a line
            in :data:`OPS`; ``tests/test_torch_reference.py`` covers the registry).
    """
    if isinstance(layer, ConvLike):
        return _conv
    if isinstance(layer, Pool):
        return _pool
    try:
        return OPS[layer.kind]
    except KeyError:
        raise NotImplementedError(f"no torch translation for layer kind '{layer.kind}'; "
                                  "add one to benchmarks/torch_reference.py OPS.") from None


def _add_into(xs: list[Tensor]) -> Tensor:
    out = xs[0]
    for x in xs[1:]:
        out.add_(x)
    return out


class TorchNet:
    """The model's graph run with torch ops, freeing tensors after their last consumer.

    Args:
        model: a loaded :class:`archcost.Model`.
        weights: per layer name its arrays, as :func:`archcost.backend.prepare` returns
            them; wrapped without copying (``torch.from_numpy``).
    """

    def __init__(self, model: Any, weights: Mapping[str, dict[str, np.ndarray]]):
        self.model = model
        g = model.graph
        self.steps: list[tuple[str, Op, Layer, dict[str, Any], dict[str, Tensor]]] = []
        for name in model.layers:
            a = g.nodes[name]
            tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights[name].items()}
            self.steps.append((name, op_for(a["layer"]), a["layer"], a, tensors))
        self.consumers = {n: g.out_degree(n) for n in model.order}

    #: Kinds run in place on an input no later layer reads, as torchvision does
    #: (``ReLU(inplace=True)``, ``out += identity``); its batchnorm is not in place.
    INPLACE: dict[str, Any] = {
        "relu": lambda xs: F.relu_(xs[0]),
        "relu6": lambda xs: F.relu6(xs[0], inplace=True),
        "add": lambda xs: _add_into(xs),
    }

    @torch.inference_mode()
    def __call__(self, x: Tensor, times: list[float] | None = None,
                 keep_all: bool = False, inplace: bool = False) -> dict[str, Any]:
        """One forward pass; returns the tensors no layer consumes (the outputs).

        Args:
            x: the input ``(N, *input_shape)``.
            times: when given, one entry per layer is appended: the seconds its op took
                (torch's CPU ops run synchronously, so the clock brackets the work).
            keep_all: keep every layer's output (tests), not only the final ones.
            inplace: run :data:`INPLACE` kinds in place where the input dies here (the
                NumPy side's ``archcost.backend.run(..., inplace=True)``).
        """
        remaining = dict(self.consumers)
        values: dict[str, Any] = {INPUT: x}
        clock = time.perf_counter
        for name, op, layer, a, w in self.steps:
            xs = []
            for src, port in zip(a["inputs"], a["ports"]):
                value = values[src]
                xs.append(value[port] if isinstance(value, list) else value)
            src0 = a["inputs"][0] if a["inputs"] else None
            if (inplace and not keep_all and layer.kind in self.INPLACE and src0 != INPUT
                    and a["ports"][0] is None and remaining[src0] == 1
                    and a["inputs"].count(src0) == 1 and xs[0]._base is None
                    # identity/dropout hand on the same tensor: no other holder may see it
                    and not any(v is xs[0] for k, v in values.items() if k != src0)):
                run_op = lambda: self.INPLACE[layer.kind](xs)  # noqa: E731
            else:
                run_op = lambda: op(layer, a, xs, w)  # noqa: E731
            if times is None:
                values[name] = run_op()
            else:
                t0 = clock()
                values[name] = run_op()
                times.append(clock() - t0)
            for src in set(a["inputs"]):
                remaining[src] -= 1
                if remaining[src] == 0 and not keep_all:
                    del values[src]
        return values
