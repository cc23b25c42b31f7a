"""Per-layer cost rows and totals, under one set of counting conventions.

Conventions (per sample; ``--batch`` multiplies activations, MACs, FLOPs and the
activation part of memory traffic, never params). ``k`` = product of kernel dims,
``out`` = product of output spatial dims, ``g`` = groups:

* **params**: trainable only, as PyTorch counts them. conv ``C_out·(C_in/g)·k +
  C_out·bias``; linear ``in·out + out·bias``; batchnorm ``2C`` (γ, β; the running
  mean and variance are *buffers*, reported in their own column).
* **macs** (multiply-accumulates, the papers' "mult-adds"): conv
  ``C_out·(C_in/g)·k·out``; linear ``in·out``; 0 for every other kind. Padded
  positions count (the dense convention of every paper).
* **flops**: multiplications and additions counted separately: conv ``macs +
  C_out·out·((C_in/g)·k − 1 + bias)``; linear ``macs + out·(in − 1 + bias)``;
  batchnorm 2/element; relu, relu6, sigmoid, tanh 1/element; swish 2, hsigmoid 3,
  hswish 4, softmax 3; maxpool ``k − 1`` per output; avgpool ``k`` per output;
  global average ``n`` per channel; add and mul ``n − 1`` per element for ``n``
  inputs; shuffle, concat, split, flatten, dropout, identity 0.
* **memory_access**: bytes read and written: ``dtype_bytes·(batch·(input elements +
  output elements) + params + buffers)`` (ShuffleNet V2's MAC). Views (flatten,
  dropout, identity, channel_split) move nothing and count 0; a shuffle or concat
  counts its full traffic although it has 0 FLOPs.
* **activations**: output elements. **peak_activation_bytes**: the largest set of
  live tensors (network input included) over the topological schedule, a tensor
  being freed after its last consumer; while a layer runs, its inputs and outputs
  are both live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from archcost.errors import SpecError, did_you_mean
from archcost.graph import Node, active_cache
from archcost.layers.base import Formula, formula

CONVENTIONS = (
    "Per sample × batch. params: trainable (conv/linear weights + bias, BN γβ); "
    "MACs: multiply-accumulates of conv (C_out·C_in/g·k·out, padding counted), transposed "
    "conv (C_in·C_out/g·k·in) and linear (in·out), 0 elsewhere; FLOPs: multiplies and adds "
    "counted separately; "
    "memory: bytes read + written (inputs, weights, outputs)."
)

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}

COUNT_COLUMNS = ["params", "macs", "flops", "memory_access", "activations", "buffers"]
COLUMNS = ["name", "kind", "inputs", "input_shapes", "output_shape", *COUNT_COLUMNS]
TOTAL_KEYS = [
    "params",
    "macs",
    "flops",
    "memory_access",
    "activations",
    "peak_activation_bytes",
    "buffers",
]


@dataclass(frozen=True)
class CostRow:
    """One layer's counts (exact ints) and shapes."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...] | tuple[tuple[int, ...], ...]
    params: int
    macs: int
    flops: int
    memory_access: int
    activations: int
    buffers: int

    def as_json(self) -> dict[str, Any]:
        row = asdict(self)
        row = {"name": row.pop("name"), "type": row.pop("kind"), **row}
        row["inputs"] = list(self.inputs)
        row["input_shapes"] = [list(s) for s in self.input_shapes]
        shape = self.output_shape
        row["output_shape"] = (
            [list(s) for s in shape] if shape and isinstance(shape[0], tuple) else list(shape)
        )
        return row


@dataclass(frozen=True)
class Costs:
    """All rows of a network plus their totals."""

    rows: list[CostRow]
    totals: dict[str, int]
    batch: int
    dtype: str


def dtype_bytes(dtype: str) -> int:
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise SpecError(
            f"unknown dtype '{dtype}'.", hint=did_you_mean(dtype, DTYPE_BYTES)
        ) from None


def memory_access(
    *,
    is_view: bool,
    nbytes: int,
    batch: int,
    in_elements: int,
    out_elements: int,
    params: int,
    buffers: int,
) -> int:
    """Bytes read and written by one layer (the convention above; 0 for a view).

    >>> memory_access(is_view=False, nbytes=4, batch=1, in_elements=147, out_elements=75,
    ...               params=27, buffers=0)
    996
    """
    if is_view:
        return 0
    return nbytes * (batch * (in_elements + out_elements) + params + buffers)


def memory_formula(
    *,
    is_view: bool,
    nbytes: int,
    batch: int,
    in_elements: int,
    out_elements: int,
    params: int,
    buffers: int,
) -> Formula:
    """:func:`memory_access` as an explained :class:`Formula` (``archcost explain``)."""
    if is_view:
        return formula("memory", "0 (a view: nothing is moved)", "0")
    row = formula(
        "memory",
        "bytes·(batch·(in + out) + params + buffers)",
        f"{nbytes}·({batch}·({in_elements:,} + {out_elements:,}) + {params:,} + {buffers:,})",
    )
    assert row.value == memory_access(
        is_view=is_view,
        nbytes=nbytes,
        batch=batch,
        in_elements=in_elements,
        out_elements=out_elements,
        params=params,
        buffers=buffers,
    )
    return row


@dataclass(frozen=True)
class Counts:
    """One node's per-sample counts (batch 1), from its kind and shapes alone."""

    params: int
    buffers: int
    macs: int
    flops: int
    activations: int
    in_elements: int


def count(node: Node) -> Counts:
    """The per-sample counts of one node (the input node: only its activations)."""
    layer, ins = node.layer, node.input_shapes
    activations = sum(s.numel for s in node.output_shapes)
    if layer is None:
        return Counts(params=0, buffers=0, macs=0, flops=0, activations=activations, in_elements=0)
    return Counts(
        params=layer.params(ins),
        buffers=layer.buffers(ins),
        macs=layer.macs(ins),
        flops=layer.flops(ins),
        activations=activations,
        in_elements=sum(s.numel for s in ins),
    )


def count_all(nodes: Mapping[str, Node]) -> dict[str, Counts]:
    """:func:`count` for every node; inside :func:`archcost.graph.sharing`, once per
    (layer, input shapes, output shapes) across builds (all that a count reads)."""
    cache = active_cache()
    if cache is None:
        return {name: count(node) for name, node in nodes.items()}
    found: dict[str, Counts] = {}
    for name, node in nodes.items():
        key = (node.layer, node.input_shapes, node.output_shapes)
        counts = cache.counts.get(key)
        if counts is None:
            counts = count(node)
            cache.remember(cache.counts, key, counts)
        found[name] = counts
    return found


def compute(
    nodes: Mapping[str, Node],
    counts: Mapping[str, Counts],
    order: Sequence[str],
    *,
    batch: int = 1,
    dtype: str = "float32",
    rows: bool = True,
) -> Costs:
    """Cost rows (network order, input node excluded) and totals: new frozen rows,
    nothing is stored on the nodes.

    Args:
        nodes: the network's nodes (:class:`archcost.graph.Network`).
        counts: their per-sample :class:`Counts` (:func:`count_all`).
        order: the topological schedule to report and to free tensors by.
        batch: samples per forward pass.
        dtype: element type for the byte counts.
        rows: False computes the totals only (``Costs.rows`` is empty): a sweep's path.
    """
    if batch < 1:
        raise SpecError(f"batch must be >= 1, got {batch}.")
    nbytes = dtype_bytes(dtype)
    table = []
    params = macs = flops = traffic_sum = activations = buffers = 0
    for name in order:
        node = nodes[name]
        if node.layer is None:
            continue
        c = counts[name]
        traffic = memory_access(
            is_view=node.layer.is_view,
            nbytes=nbytes,
            batch=batch,
            in_elements=c.in_elements,
            out_elements=c.activations,
            params=c.params,
            buffers=c.buffers,
        )
        params += c.params
        macs += batch * c.macs
        flops += batch * c.flops
        traffic_sum += traffic
        activations += batch * c.activations
        buffers += c.buffers
        if not rows:
            continue
        out = node.output_shapes
        table.append(
            CostRow(
                name=name,
                kind=node.layer.kind,
                inputs=node.inputs,
                input_shapes=tuple(s.dims for s in node.input_shapes),
                output_shape=out[0].dims if len(out) == 1 else tuple(s.dims for s in out),
                params=c.params,
                macs=batch * c.macs,
                flops=batch * c.flops,
                memory_access=traffic,
                activations=batch * c.activations,
                buffers=c.buffers,
            )
        )
    totals = {
        "params": params,
        "macs": macs,
        "flops": flops,
        "memory_access": traffic_sum,
        "activations": activations,
        "peak_activation_bytes": peak_live_elements(nodes, counts, order) * batch * nbytes,
        "buffers": buffers,
    }
    assert list(totals) == TOTAL_KEYS
    return Costs(rows=table, totals=totals, batch=batch, dtype=dtype)


def peak_live_elements(
    nodes: Mapping[str, Node], counts: Mapping[str, Counts], order: Sequence[str]
) -> int:
    """Largest number of live activation elements per sample over ``order``.

    A tensor is live from the step that produces it to the step of its last
    consumer (network outputs stay live to the end); during a step the layer's
    inputs and outputs are both live.
    """
    last_use = dict.fromkeys(order, len(order))  # outputs stay live to the end
    for step, name in enumerate(order):
        for src in nodes[name].inputs:
            last_use[src] = step  # steps grow: the last write wins
    frees: dict[int, list[str]] = {}
    for name, step in last_use.items():
        frees.setdefault(step, []).append(name)
    live = peak = 0
    for step, name in enumerate(order):
        live += counts[name].activations
        peak = max(peak, live)
        for done in frees.get(step, ()):
            live -= counts[done].activations
    return peak
