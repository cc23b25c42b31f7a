"""The public object: a loaded, shaped and costed network."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archcost import costs
from archcost.errors import SpecError, did_you_mean, quoted, shown
from archcost.expressions import MAX_INT_BITS, names_used, render
from archcost.graph import INPUT, Network, Node, build_network
from archcost.layers.base import Shape, to_int
from archcost.onnx import is_onnx_path
from archcost.spec import Spec, load_spec, number_in_range
from archcost.zoo import locate

if TYPE_CHECKING:
    import networkx as nx


class Model:
    """A network built from a spec: ``graph``, ``costs()``, ``totals`` (the methods that
    analyse, validate, explain and rewrite it are :class:`archcost.api.Model`'s).

    Attributes:
        spec: the parsed spec.
        knobs: every param's value after overrides.
        overrides: the params that were set explicitly.
        input_shape: the evaluated per-sample input shape.
        network: the built :class:`~archcost.graph.Network`.
        nodes: its frozen :class:`~archcost.graph.Node` per name, in ``order``.
        order: the topological schedule (spec order wherever the data flow allows).
        counts: each node's per-sample :class:`~archcost.costs.Counts`.
        graph: the topology as a ``networkx.DiGraph`` (built on first use;
            ``graph.nodes[name]["node"]`` is the :class:`~archcost.graph.Node`).
    """

    def __init__(self, spec: Spec, overrides: Mapping[str, object] | None = None):
        self.spec = spec
        self.overrides = dict(overrides or {})
        self.knobs = apply_overrides(spec, self.overrides)
        self.input_shape = evaluate_input(spec, self.knobs)
        self.network: Network = build_network(spec, self.knobs, Shape(self.input_shape))
        self.nodes: dict[str, Node] = self.network.nodes
        self.order: list[str] = list(self.network.order)
        self.counts: dict[str, costs.Counts] = costs.count_all(self.nodes)
        self.imported: Any = None  # what an ONNX import knew about the file

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The topology as a ``networkx.DiGraph`` (``graph.nodes[name]["node"]``)."""
        return self.network.digraph()

    def consumers(self, name: str) -> tuple[str, ...]:
        """The distinct layers that read ``name``'s output(s), in schedule order."""
        return self.network.consumers[name]

    @property
    def name(self) -> str:
        """The spec's name, with ``${...}`` filled in from the knobs
        (``"ShuffleNetV1 ${width}x (g=${groups})"`` -> ``"ShuffleNetV1 1x (g=3)"``)."""
        return str(render(self.spec.name, self.knobs))

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def path(self) -> str:
        return self.spec.file

    @property
    def label(self) -> str:
        """The name, with explicitly set knobs: ``MobileNetV1 (width=0.5)``."""
        shown = {k: v for k, v in self.overrides.items() if k not in names_used(self.spec.name)}
        if not shown:
            return self.name
        return f"{self.name} (" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")"

    def costs(self, batch: int = 1, dtype: str = "float32") -> costs.Costs:
        """Per-layer rows and totals for ``batch`` samples of ``dtype``."""
        with _gc_paused():
            return costs.compute(self.nodes, self.counts, self.order, batch=batch, dtype=dtype)

    @cached_property
    def totals(self) -> dict[str, int]:
        """Totals at batch 1, float32."""
        return self.costs().totals

    @property
    def layers(self) -> list[str]:
        """Layer names in network order (the input node excluded)."""
        return [n for n in self.order if n != INPUT]

    def __repr__(self) -> str:
        return f"<archcost.Model {self.label}: {len(self.layers)} layers>"


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a spec is built: loading allocates
    many small objects and almost no cycles, and the collector's repeated passes over a
    growing heap made a 10,000-layer analysis nearly twice as slow."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(spec: str | Path, *, include_path: Sequence[str | Path] = (), **knobs: Any) -> Model:
    """Load a spec (or an ``.onnx`` file) and build the model, with ``knobs`` overriding
    its params (for an ONNX file only ``input="3x224x224"``, see :func:`load_onnx`).

    Args:
        spec: a spec file, or the name of a bundled network (``"mobilenet_v2"``; see
            :func:`archcost.zoo.locate`: an existing file of that name wins).
        include_path: more directories the spec may ``include`` from, besides its own
            directory tree and the bundled specs (docs/safety.md).
        knobs: param overrides, e.g. ``width=0.5``.

    >>> load("mobilenet_v2", width=0.5).label
    'MobileNetV2 (width=0.5)'
    """
    if is_onnx_path(spec):
        return load_onnx(spec, **knobs)
    with _gc_paused():
        return Model(load_spec(locate(spec), include_path), knobs)


def load_onnx(
    path: str | Path, *, input: Any = None, unsupported: str = "error", **knobs: Any
) -> Model:
    """Import an ONNX file as a model (see :mod:`archcost.onnx.importer`).

    Args:
        input: ``"3x224x224"`` or ``"name=3x224x224"``: the per-sample input shape, for
            files whose input is symbolic (or to resize one); ``--set input=...``.
        unsupported: ``"zero"`` counts the ops archcost cannot map as 0 ('unsupported'
            rows, listed in the description) instead of refusing the file.
    """
    # lazy: the ONNX importer (1,700 lines) loads only for .onnx files (start-up time)
    from archcost.onnx.importer import check_against_file, load_onnx_spec

    if knobs:
        key = next(iter(knobs))
        raise SpecError(
            f"unknown param '{key}'.",
            file=str(path),
            hint="An ONNX model takes input=CxHxW (its input shape) and unsupported=zero.",
        )
    spec, imported = load_onnx_spec(path, input=input, unsupported=str(unsupported))
    with _gc_paused():
        model = Model(spec)
    check_against_file(model, imported.expected)
    model.imported = imported
    return model


def apply_overrides(spec: Spec, overrides: dict[str, Any]) -> dict[str, Any]:
    knobs = dict(spec.params)
    for key, value in overrides.items():
        if key not in knobs:
            raise SpecError(
                f"unknown param '{key}'.",
                file=spec.file,
                hint=(did_you_mean(key, knobs) if knobs else "This spec has no params.")
                + (f" Params of {spec.name}: {', '.join(knobs)}." if knobs else ""),
            )
        default = knobs[key]
        numeric = (int, float)
        if (
            isinstance(default, bool) != isinstance(value, bool)
            or (isinstance(default, numeric) and not isinstance(value, numeric))
            or (isinstance(default, str) and not isinstance(value, str))
        ):
            raise SpecError(
                f"param {quoted(key)} expects a value like {shown(default)}, got {shown(value)}.",
                file=spec.file,
            )
        if not number_in_range(value):
            raise SpecError(
                f"param {quoted(key)} = {shown(value)} is out of range; numbers are finite and "
                f"at most 2**{MAX_INT_BITS}.",
                file=spec.file,
            )
        knobs[key] = value
    # Params may refer to each other ("${2 * base}"): evaluate in order.
    for key, value in knobs.items():
        if isinstance(value, str) and "${" in value:
            try:
                knobs[key] = render(value, knobs)
            except SpecError as exc:
                exc.located(file=spec.file, line=spec.line_of.get("params"))
                raise
    for rule in spec.requires:
        try:
            ok = render(rule["check"], knobs)
        except SpecError as exc:
            exc.located(file=rule.file, line=rule.line)
            raise
        if not ok:
            listed = ", ".join(f"{k}={v}" for k, v in knobs.items())
            raise SpecError(f"{rule['message']} (got {listed})", file=rule.file, line=rule.line)
    return knobs


def evaluate_input(spec: Spec, knobs: dict[str, Any]) -> tuple[int, ...]:
    dims = []
    for value in spec.input:
        try:
            dims.append(to_int(render(value, knobs), "input"))
        except SpecError as exc:
            exc.located(file=spec.file, line=spec.line_of.get("input"))
            raise
    return tuple(dims)
