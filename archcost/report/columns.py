"""One column model for every per-layer table: terminal, JSON, CSV, Markdown and HTML.

A :class:`Column` knows its name (the JSON key and CSV header), its label and unit (the
header people read), how to get its value from a layer's cost row and, with
``--device``, its time estimate, and how to show that value: raw (JSON, CSV), exact
(Markdown, HTML cells) or short (terminal). The writers in
:mod:`archcost.report.tables` take a list of columns; the per-layer views
(:data:`CSV`, :data:`MARKDOWN`, :data:`TERMINAL` and their ``--device`` versions) are
lists of column names, so adding a column is one entry here.

Only the standard library is used: ``archcost analyze --format json`` stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from archcost.costs import CostRow
from archcost.report.units import human, human_bytes
from archcost.roofline import LayerEstimate

Getter = Callable[[CostRow, "LayerEstimate | None"], Any]


def shape_text(shape: Any) -> str:
    """``(32, 112, 112)`` -> ``32x112x112``; several shapes joined by ``; ``.

    >>> shape_text((32, 112, 112)), shape_text([(3, 7, 7), (3, 7, 7)])
    ('32x112x112', '3x7x7; 3x7x7')
    """
    if shape and isinstance(shape[0], tuple | list):
        return "; ".join(shape_text(s) for s in shape)
    return "x".join(map(str, shape))


def human_seconds(seconds: float) -> str:
    """Seconds with a unit and three significant digits.

    >>> human_seconds(0.0123), human_seconds(4.5e-05), human_seconds(2.0), human_seconds(0)
    ('12.3 ms', '45 µs', '2 s', '0')
    """
    if seconds == 0:
        return "0"
    if not math.isfinite(seconds):
        return "–"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def _count(value: Any) -> str:
    return f"{value:,}"


def _intensity(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


@dataclass(frozen=True)
class Column:
    """One per-layer column.

    Attributes:
        name: the column's name (``memory_access``); also its JSON key and CSV header
            unless ``key`` says otherwise.
        label: the header people read (``memory``).
        unit: the unit of the raw value (``B``, ``s``), shown in exact headers.
        get: the value of one layer, from its cost row and time estimate (None
            without ``--device``).
        raw: the CSV cell (default ``str``; floats keep every digit).
        exact: the Markdown/HTML cell (default: counts with thousands separators).
        short: the terminal cell (default: a count with an SI suffix).
        numeric: a number (right-aligned, summed in the totals row).
        key: the JSON key and CSV header when not ``name`` (the kind is ``type``).
        json: the JSON value when not ``get``'s (lists for shapes and inputs).
        optional: left out of a JSON record when its value is None.
    """

    name: str
    label: str
    get: Getter
    unit: str = ""
    raw: Callable[[Any], str] = str
    exact: Callable[[Any], str] = str
    short: Callable[[Any], str] = str
    numeric: bool = False
    key: str = ""
    json: Getter | None = None
    optional: bool = False

    @property
    def field(self) -> str:
        """The JSON key and CSV header."""
        return self.key or self.name

    def json_value(self, row: CostRow, estimate: LayerEstimate | None) -> Any:
        return (self.json or self.get)(row, estimate)

    def header(self, with_unit: bool = True) -> str:
        """``memory (B)``, or ``memory`` for views whose cells carry the unit."""
        return f"{self.label} ({self.unit})" if with_unit and self.unit else self.label


def _cost(name: str, label: str, short: Callable[[Any], str] = human, unit: str = "") -> Column:
    return Column(
        name,
        label,
        lambda r, e: getattr(r, name),
        unit=unit,
        exact=_count,
        short=short,
        numeric=True,
    )


def _est(e: LayerEstimate | None) -> LayerEstimate:
    assert e is not None, "a --device column without estimates"
    return e


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _shape_json(shape: Any) -> list[Any]:
    return [list(s) for s in shape] if shape and isinstance(shape[0], tuple) else list(shape)


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column("name", "layer", lambda r, e: r.name),
        # The JSON and CSV schema (docs/design.md) calls the kind "type".
        Column("kind", "kind", lambda r, e: r.kind, key="type"),
        Column(
            "inputs", "inputs", lambda r, e: ", ".join(r.inputs), json=lambda r, e: list(r.inputs)
        ),
        Column(
            "input_shapes",
            "input shapes",
            lambda r, e: shape_text(r.input_shapes),
            json=lambda r, e: [list(s) for s in r.input_shapes],
        ),
        Column(
            "output_shape",
            "output",
            lambda r, e: shape_text(r.output_shape),
            json=lambda r, e: _shape_json(r.output_shape),
        ),
        _cost("params", "params"),
        _cost("macs", "MACs"),
        _cost("flops", "FLOPs"),
        _cost("memory_access", "memory", human_bytes, unit="B"),
        _cost("activations", "activations"),
        _cost("buffers", "buffers"),
        # MACs per byte moved; "–" for layers without MACs (views, elementwise)
        Column(
            "intensity",
            "MAC/B",
            lambda r, e: _est(e).intensity if _est(e).macs else None,
            exact=_intensity,
            short=_intensity,
            numeric=True,
            json=lambda r, e: _finite(_est(e).intensity),
        ),
        # Cells carry their unit (human_seconds), so the header does not.
        Column(
            "estimated_s",
            "est. time",
            lambda r, e: _est(e).seconds,
            raw=repr,
            exact=human_seconds,
            short=human_seconds,
            numeric=True,
        ),
        # The same number under the name the runtime profiles use (docs/latency.md).
        Column(
            "latency_s",
            "latency",
            lambda r, e: _est(e).seconds,
            raw=repr,
            exact=human_seconds,
            short=human_seconds,
            numeric=True,
        ),
        Column("bound", "bound", lambda r, e: _est(e).bound),
        Column("fused_into", "fused into", lambda r, e: _est(e).fused_into, optional=True),
    )
}
"""Every per-layer column, by name."""

# The views: which columns each output shows, in order.
JSON = (
    "name",
    "kind",
    "inputs",
    "input_shapes",
    "output_shape",
    "params",
    "macs",
    "flops",
    "memory_access",
    "activations",
    "buffers",
)
DEVICE_JSON = (*JSON, "estimated_s", "latency_s", "bound", "intensity", "fused_into")
CSV = JSON  # one row per layer, the same fields as the JSON layers
MARKDOWN = (
    "name",
    "kind",
    "output_shape",
    "params",
    "macs",
    "flops",
    "memory_access",
    "activations",
)
TERMINAL = ("name", "kind", "output_shape", "params", "macs", "flops", "memory_access")
DEVICE_CSV = (*CSV, "estimated_s", "bound")
DEVICE_MARKDOWN = (
    "name",
    "kind",
    "output_shape",
    "params",
    "macs",
    "memory_access",
    "estimated_s",
    "bound",
)
DEVICE_TERMINAL = (
    "name",
    "kind",
    "output_shape",
    "params",
    "macs",
    "memory_access",
    "intensity",
    "estimated_s",
    "bound",
)


def view(names: Sequence[str]) -> list[Column]:
    """The columns of a view, in order."""
    return [COLUMNS[n] for n in names]
