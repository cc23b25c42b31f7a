"""The NumPy executor: run the network on seeded random tensors and check the analysis.

For every layer, in topological order, it draws the layer's weights
(``Layer.init_weights``), calls the kind's ``forward`` (which calls :mod:`archcost.kernels`),
and records the executed output shape and the multiplications the kernels really
performed, beside the propagated shape and the analytic ``macs``. A tensor is freed
as soon as its last consumer has run; the live set is measured from the arrays
actually held (their ``nbytes``), independently of the analytic liveness schedule.

:func:`validate` is :func:`run` (one timed forward pass) on weights drawn one layer at
a time; :func:`prepare` draws the same input and weights up front, so benchmarks time
:func:`run` alone (``benchmarks/backend.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from archcost.errors import SpecError
from archcost.graph import INPUT, Node

if TYPE_CHECKING:
    import pandas as pd

    from archcost.model import Model

FLOAT_BYTES = 4


@dataclass(frozen=True)
class LayerCheck:
    """One layer's analysis beside its execution."""

    name: str
    kind: str
    propagated_shape: str
    executed_shape: str
    macs: int
    executed_macs: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.propagated_shape == self.executed_shape and self.macs == self.executed_macs


@dataclass
class Validation:
    """The result of :func:`validate`."""

    model: str
    batch: int
    seed: int
    checks: list[LayerCheck]
    measured_peak_bytes: int
    analytic_peak_bytes: int
    estimated_bytes: int
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def mismatches(self) -> list[LayerCheck]:
        return [c for c in self.checks if not c.ok]

    def frame(self) -> pd.DataFrame:
        import pandas as pd  # only when a table is built (start-up time)

        rows = [{**asdict(c), "ok": c.ok} for c in self.checks]
        return pd.DataFrame(rows).astype({"macs": "int64", "executed_macs": "int64"})


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or a conservative guess."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 1024**3


def total_memory() -> int:
    """Bytes of physical memory (MemTotal): no --max-memory can let a run past it."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 16 * 1024**3


def mib(n: int) -> str:
    """Bytes as MiB for messages, exact-safe for ints of any size.

    >>> mib(5 * 2**30), mib(10**400)
    ('5,120 MiB', '9.54e+393 MiB')
    """
    if n < 2**20 * 10**12:
        return f"{n / 2**20:,.0f} MiB"
    return f"{Decimal(n) / 2**20:.2e} MiB"


def check_memory(needed: int, max_memory: int | None, doing: str, hint: str) -> None:
    """Refuse (SpecError, before anything is allocated) a run estimated to need more
    than ``max_memory`` (default: half the memory available now) or than the machine
    has at all, whatever ``max_memory`` says.

    Args:
        needed: the estimate, in bytes.
        max_memory: the user's limit, or None.
        doing: what would run, for the message ("running MobileNetV2 at batch 1").
        hint: how to make the run smaller.
    """
    limit = max_memory if max_memory is not None else available_memory() // 2
    machine = total_memory()
    if needed > machine:
        raise SpecError(
            f"{doing} needs about {mib(needed)}, more than this machine's "
            f"{mib(machine)} of memory; refused before allocating anything.",
            hint=hint,
        )
    if needed > limit:
        raise SpecError(
            f"{doing} needs about {mib(needed)}, over the limit of {mib(limit)}; "
            "refused before allocating anything.",
            hint=hint + " Or raise --max-memory.",
        )


def estimate_peak_bytes(model: Model, batch: int) -> int:
    """Upper estimate of the run's memory: live activations + the largest layer's
    weights and scratch (padded input, and what ``Layer.scratch_elements`` declares:
    im2col columns, a transposed conv's products and uncropped output)."""
    worst = 0
    for name in model.layers:
        node, counts = model.nodes[name], model.counts[name]
        layer = node.layer
        assert layer is not None  # model.layers holds layers, not the input
        weights = counts.params + counts.buffers
        scratch = 2 * counts.in_elements * batch  # a padded copy, a layout copy
        scratch += batch * layer.scratch_elements(node.input_shapes)  # im2col columns ...
        worst = max(worst, weights + scratch)
    return FLOAT_BYTES * worst + model.costs(batch=batch).totals["peak_activation_bytes"]


def _shape_text(arrays: Any) -> str:
    if isinstance(arrays, list):
        return "; ".join(_shape_text(a) for a in arrays)
    return "x".join(map(str, arrays.shape[1:]))


def draw_input(model: Model, batch: int, rng: np.random.Generator) -> np.ndarray:
    """The random input ``(batch, *input_shape)``: the first draw from the executor's RNG."""
    return rng.standard_normal((batch, *model.input_shape), dtype=np.float32)


def prepare(
    model: Model, *, batch: int = 1, seed: int = 0
) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """The input and every layer's weights, drawn up front in the executor's order.

    The draws equal the ones :func:`validate` makes with the same seed (the input
    first, then each layer's weights in network order), so a timed :func:`run` on them
    computes exactly what ``archcost validate`` runs, without drawing inside the loop.
    Every weight stays allocated, unlike in :func:`validate`, which draws one layer's
    weights at a time.

    Args:
        model: a loaded model.
        batch: samples in the input.
        seed: seeds the input and every weight.

    Returns:
        ``(x, weights)``: the input, and per layer name its tensors by name (the
        layer's ``weight_shapes`` and ``buffer_shapes``).
    """
    rng = np.random.default_rng(seed)
    x = draw_input(model, batch, rng)
    nodes = model.nodes
    return x, {name: _init(nodes[name], rng) for name in model.layers}


class _DrawnWeights(Mapping[str, dict[str, np.ndarray]]):
    """Weights drawn from ``rng`` when a layer asks for them, and not kept.

    :func:`run` asks once per layer in network order, so the draws come out as in
    :func:`prepare`, while only one layer's weights are held at a time.
    """

    def __init__(self, model: Model, rng: np.random.Generator):
        self.model = model
        self.rng = rng

    def __getitem__(self, name: str) -> dict[str, np.ndarray]:
        return _init(self.model.nodes[name], self.rng)

    def __iter__(self) -> Iterator[str]:
        return iter(self.model.layers)

    def __len__(self) -> int:
        return len(self.model.layers)


@dataclass(frozen=True)
class LayerRun:
    """What one layer's forward did: its output shape, multiplications and time."""

    name: str
    executed_shape: str
    executed_macs: int
    seconds: float


@dataclass
class Execution:
    """The result of :func:`run`."""

    #: the tensors still held at the end: every layer no other layer consumes.
    outputs: dict[str, Any]
    layers: list[LayerRun]
    #: the largest live set of activation bytes (the input included), from ``nbytes``.
    peak_bytes: int


def _init(node: Node, rng: np.random.Generator) -> dict[str, np.ndarray]:
    assert node.layer is not None
    return node.layer.init_weights(node.input_shapes, rng)


def _donatable(
    value: Any, src: str, port: int | None, node: Node, remaining: dict[str, int]
) -> bool:
    """May this layer write its output into its first input? Only when no later
    layer reads that input, it is not the caller's network input (a bench reuses it)
    and it is a plain float32 array owning its memory (not a split's view)."""
    return (
        src != INPUT
        and port is None
        and remaining[src] == 1
        and node.inputs.count(src) == 1
        and isinstance(value, np.ndarray)
        and value.base is None
        and value.dtype == np.float32
        and value.flags.c_contiguous
        and value.flags.writeable
    )


class _WritesInto(Protocol):
    """A kind with ``inplace = True``: its forward may write its output into ``out``."""

    def forward(
        self, xs: list[Any], weights: dict[str, Any], out: Any = None
    ) -> tuple[Any, int]: ...


def run(
    model: Model,
    x: np.ndarray,
    weights: Mapping[str, dict[str, np.ndarray]],
    *,
    progress: Callable[[int, int, str], None] | None = None,
    inplace: bool = False,
) -> Execution:
    """One forward pass over ``x``, freeing each tensor after its last consumer.

    Only each layer's ``forward`` call is timed; fetching its weights is not.

    Args:
        model: a loaded model.
        x: the input ``(batch, *model.input_shape)``, float32.
        weights: per layer name its tensors, as :func:`prepare` returns them; read
            once per layer, in network order.
        progress: called as ``progress(done, total, layer_name)`` after each layer.
        inplace: let elementwise kinds (``Layer.inplace``: relu, relu6, batchnorm, add)
            write into an input no later layer reads, as frameworks do (PyTorch's
            ``inplace=True``). For timing (``bench``, the benchmarks); ``validate``
            keeps it off so the measured live set follows the analytic convention
            (inputs and outputs both live while a layer runs).

    Returns:
        The outputs, per-layer shapes, multiplications and seconds, and the peak.
    """
    nodes = model.nodes
    remaining = {n: len(model.consumers(n)) for n in model.order}
    values: dict[str, Any] = {INPUT: x}
    live = x.nbytes
    peak = live
    ran = []
    layers = model.layers
    clock = time.perf_counter
    for i, name in enumerate(layers):
        node = nodes[name]
        xs = []
        for src, port in zip(node.inputs, node.ports, strict=True):
            value = values[src]
            if isinstance(value, list):  # a layer with several outputs: the graph names one
                assert port is not None, f"{name}: input {src} has several outputs, no port"
                value = value[port]
            xs.append(value)
        w = weights[name]
        layer = node.layer
        assert layer is not None
        donate = (
            inplace
            and layer.inplace
            and _donatable(xs[0], node.inputs[0], node.ports[0], node, remaining)
        )
        t0 = clock()
        if donate:  # layer.inplace: its forward also takes out= (the kind contract)
            y, mults = cast(_WritesInto, layer).forward(xs, w, out=xs[0])
        else:
            y, mults = layer.forward(xs, w)
        seconds = clock() - t0
        del w
        values[name] = y
        if not donate:  # a donated input's buffer is the output's: counted once
            live += sum(v.nbytes for v in y) if isinstance(y, list) else y.nbytes
        peak = max(peak, live)
        ran.append(
            LayerRun(
                name=name, executed_shape=_shape_text(y), executed_macs=int(mults), seconds=seconds
            )
        )
        for src in set(node.inputs):
            remaining[src] -= 1
            if remaining[src] == 0:
                freed = values.pop(src)
                if donate and src == node.inputs[0]:
                    continue  # its buffer lives on as this layer's output
                live -= sum(v.nbytes for v in freed) if isinstance(freed, list) else freed.nbytes
        if progress:
            progress(i + 1, len(layers), name)
    return Execution(outputs=values, layers=ran, peak_bytes=peak)


def validate(
    model: Model,
    *,
    batch: int = 1,
    seed: int = 0,
    max_memory: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    keep_output: bool = False,
) -> Validation:
    """Run ``model`` on seeded random input; compare shapes and MACs per layer.

    Args:
        model: a loaded model.
        batch: samples in the random input.
        seed: seeds the input and every weight.
        max_memory: refuse (SpecError, nothing allocated) when the estimated peak is
            larger; default half of the memory available now.
        progress: called as ``progress(done, total, layer_name)`` after each layer.
        keep_output: keep the final outputs on ``Validation.outputs`` (tests).

    Raises:
        SpecError: the estimate exceeds ``max_memory`` or the machine's memory, or the
            run runs out of memory.
    """
    estimate = estimate_peak_bytes(model, batch)
    check_memory(
        estimate,
        max_memory,
        f"running {model.label} at batch {batch}",
        "Lower --batch or the resolution (--set resolution=...).",
    )
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    try:
        x = draw_input(model, batch, rng)
        execution = run(model, x, _DrawnWeights(model, rng), progress=progress)
    except MemoryError:
        raise SpecError(
            f"running {model.label} at batch {batch} ran out of memory (estimated "
            f"{mib(estimate)}).",
            hint="Lower --batch or the resolution, or "
            "--max-memory to refuse such runs before they start.",
        ) from None
    checks = []
    for r in execution.layers:
        node = model.nodes[r.name]
        checks.append(
            LayerCheck(
                name=r.name,
                kind=node.kind,
                propagated_shape="; ".join(str(s) for s in node.output_shapes),
                executed_shape=r.executed_shape,
                macs=batch * model.counts[r.name].macs,
                executed_macs=r.executed_macs,
                seconds=r.seconds,
            )
        )
    result = Validation(
        model=model.label,
        batch=batch,
        seed=seed,
        checks=checks,
        measured_peak_bytes=execution.peak_bytes,
        analytic_peak_bytes=model.costs(batch=batch).totals["peak_activation_bytes"],
        estimated_bytes=estimate,
        seconds=time.perf_counter() - started,
    )
    if keep_output:
        result.outputs = execution.outputs  # type: ignore[attr-defined]
    return result
