"""Several models side by side: tidy per-layer rows and a totals table with ratios.

A model is given either as a loaded :class:`archcost.model.Model` or as a command-line
style argument ``"specs/mobilenet_v1.yaml@width=0.5,resolution=160"`` (see
:func:`parse_model_arg`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from archcost.costs import COLUMNS
from archcost.errors import SpecError
from archcost.expressions import parse_knob
from archcost.model import load
from archcost.report.tables import count_dtype, frame
from archcost.report.units import human, human_bytes
from archcost.sweeping import reported_accuracy

MODEL = "model"
"""Name of the column that says which model a row belongs to (the model's label)."""

TOTAL_COLUMNS = ("params", "macs", "flops", "memory_access", "peak_activation_bytes")
"""Totals compared across models, in table order."""

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPEC_SUFFIXES = (".yaml", ".yml")


def parse_model_arg(arg: str) -> tuple[str, dict[str, Any]]:
    """Split ``"SPEC@k=v,k=v"`` into the spec path and typed knob overrides.

    The overrides start at the last ``@``; a path that itself contains ``@`` works as
    long as it ends in ``.yaml``/``.yml`` when given without overrides.

    Args:
        arg: a spec path, optionally followed by ``@`` and comma-separated ``k=v``.

    Returns:
        ``(path, overrides)``; values are int, float, bool (``true``/``false``) or str.

    Raises:
        SpecError: an empty path, an item without ``=``, an empty or invalid name, an
            empty value, or a name given twice.

    >>> parse_model_arg("specs/mobilenet_v1.yaml@width=0.5,resolution=160")
    ('specs/mobilenet_v1.yaml', {'width': 0.5, 'resolution': 160})
    >>> parse_model_arg("specs/shufflenet_v1.yaml")
    ('specs/shufflenet_v1.yaml', {})
    """
    path, at, tail = arg.rpartition("@")
    if not at or tail.lower().endswith(_SPEC_SUFFIXES):
        return arg, {}
    example = f"{path or 'specs/net.yaml'}@width=0.5,resolution=160"
    if not path:
        raise SpecError(
            f"model argument {arg!r} has overrides but no spec path before '@'.",
            hint=f"Write it as {example}.",
        )
    overrides: dict[str, Any] = {}
    for item in tail.split(","):
        key, eq, value = (part.strip() for part in item.partition("="))
        if not eq:
            raise SpecError(
                f"model argument {arg!r}: expected k=v after '@', got {item!r}.",
                hint=f"Write it as {example}.",
            )
        if not _KEY.fullmatch(key):
            raise SpecError(
                f"model argument {arg!r}: {key!r} is not a knob name "
                "(letters, digits and '_', not starting with a digit).",
                hint=f"Write it as {example}.",
            )
        if key in overrides:
            raise SpecError(
                f"model argument {arg!r}: knob {key!r} is set twice.", hint="Give each knob once."
            )
        overrides[key] = parse_knob(
            f"model argument {arg!r}", key, value, hint=f"Write it as {example}."
        )
    return path, overrides


def load_models(models: Iterable[Any]) -> list[Any]:
    """Models as given, loading any ``str``/path item with :func:`parse_model_arg`."""
    loaded = []
    for m in models:
        if isinstance(m, (str, os.PathLike)):
            path, overrides = parse_model_arg(os.fspath(m))
            m = load(path, **overrides)
        loaded.append(m)
    if not loaded:
        raise SpecError("nothing to compare: give at least one model.")
    return loaded


def unique_labels(models: Sequence[Any]) -> list[str]:
    """Each model's ``label``, with `` #2``, `` #3`` appended to repeats so rows stay apart."""
    seen: dict[str, int] = {}
    labels = []
    for m in models:
        label = str(m.label)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return labels


@dataclass(frozen=True)
class Analysis:
    """One model's numbers at one batch/dtype, computed once and shared by the views."""

    model: Any
    label: str
    layers: pd.DataFrame  # analyze(): COLUMNS, one row per layer in network order
    totals: dict[str, int]


def analyses(models: Iterable[Any], *, batch: int = 1, dtype: str = "float32") -> list[Analysis]:
    """Analyse each model once (loading string arguments); labels made unique."""
    loaded = load_models(models)
    out = []
    for m, label in zip(loaded, unique_labels(loaded), strict=True):
        totals = dict(m.costs(batch=batch, dtype=dtype).totals)
        out.append(Analysis(m, label, frame(m.costs(batch=batch, dtype=dtype)), totals))
    return out


def tidy(items: Sequence[Analysis]) -> pd.DataFrame:
    """Per-layer rows of all models stacked, with the ``model`` column first."""
    frames = [a.layers.assign(**{MODEL: a.label}) for a in items]
    return pd.concat(frames, ignore_index=True)[[MODEL, *COLUMNS]]


def totals_frame(items: Sequence[Analysis]) -> pd.DataFrame:
    """One row per model: the totals and their ratios to the first model."""
    rows = []
    ref = items[0].totals
    for a in items:
        row: dict[str, Any] = {MODEL: a.label}
        row.update({c: int(a.totals[c]) for c in TOTAL_COLUMNS})
        for c in TOTAL_COLUMNS:
            row[f"{c}_ratio"] = _ratio(a.totals[c], ref[c])
        rows.append(row)
    found = [
        reported_accuracy(a.model.spec, a.model.knobs) if hasattr(a.model, "spec") else (None, "")
        for a in items
    ]
    if any(top1 is not None for top1, _ in found):
        # Published ImageNet top-1 where the spec reports the setting; blank elsewhere.
        for row, (top1, source) in zip(rows, found, strict=True):
            row["accuracy"], row["accuracy_source"] = top1, source or None
    df = pd.DataFrame(rows)
    for c in TOTAL_COLUMNS:
        df[c] = df[c].astype(count_dtype(df[c]))
    return df


def _ratio(value: int, ref: int) -> float:
    """value / ref as a float; NaN when ref is 0, inf past the float range.

    >>> _ratio(1, 4), _ratio(10**400, 1)
    (0.25, inf)
    """
    if not ref:
        return math.nan
    try:
        return value / ref
    except OverflowError:  # exact int division whose result exceeds 1e308
        return math.inf


def compare(models: Iterable[Any], *, batch: int = 1, dtype: str = "float32") -> pd.DataFrame:
    """Per-layer costs of several models in one tidy DataFrame.

    Args:
        models: loaded models or ``"spec.yaml@k=v,..."`` strings.
        batch: samples per batch (multiplies activations and ops, never params).
        dtype: element type that sets the bytes in ``memory_access``.

    Returns:
        ``model`` (each model's label, ``#2``... appended to repeated labels) followed by
        ``archcost.costs.COLUMNS``; each model's rows in network order, models in the
        order given.
    """
    return tidy(analyses(models, batch=batch, dtype=dtype))


def compare_totals(
    models: Iterable[Any], *, batch: int = 1, dtype: str = "float32"
) -> pd.DataFrame:
    """Totals of several models, one row each, with ratios to the first model.

    Returns:
        Columns ``model``, ``params``, ``macs``, ``flops``, ``memory_access``,
        ``peak_activation_bytes`` (int64, or exact Python ints past 2**63 - 1) and
        ``<column>_ratio`` (float; NaN where the first model's value is 0);
        ``accuracy`` and ``accuracy_source`` when a model's spec reports a published
        ImageNet top-1 for its setting (blank for the others).
    """
    return totals_frame(analyses(models, batch=batch, dtype=dtype))


# -- the headline: what the numbers say, in sentences ----------------------------------
HEADLINE_COSTS = (
    ("macs", "MACs", human),
    ("params", "params", human),
    ("memory_access", "memory traffic", human_bytes),
)
_short = human


def headline(items: Sequence[Analysis], top: int = 2) -> list[str]:
    """Sentences computed from the numbers, for the top of a compare or whatif page.

    For each cost: the cheapest model and by what factor it beats the most expensive.
    Then, for every model after the first: the MACs gap to the first model and the
    layer kinds that account for most of it (per-kind MAC sums before and after, and
    each kind's share of the gap). Nothing is written for particular models.

    Args:
        items: the analyses, the reference first.
        top: how many kinds to name per model.
    """
    lines: list[str] = []
    if len(items) < 2:
        return lines
    for key, label, fmt in HEADLINE_COSTS:
        values = [int(a.totals[key]) for a in items]
        lo, hi = min(values), max(values)
        cheapest = items[values.index(lo)].label
        dearest = items[values.index(hi)].label
        if lo == hi:
            lines.append(f"{label}: all {len(items)} models equal ({fmt(lo)}).")
        elif lo == 0:
            lines.append(f"{label}: {cheapest} has none; {dearest} has {fmt(hi)}.")
        else:
            lines.append(
                f"{label}: {cheapest} is cheapest ({fmt(lo)}), "
                f"{hi / lo:.1f}× less than {dearest} ({fmt(hi)})."
            )
    ref = items[0]
    ref_kinds = ref.layers.groupby("kind")["macs"].sum()
    for other in items[1:]:
        kinds = other.layers.groupby("kind")["macs"].sum()
        gap = int(ref.totals["macs"]) - int(other.totals["macs"])
        if gap == 0:
            lines.append(f"{other.label} has as many MACs as {ref.label}.")
            continue
        every = sorted(set(ref_kinds.index) | set(kinds.index))
        delta = {k: int(ref_kinds.get(k, 0)) - int(kinds.get(k, 0)) for k in every}
        # the kinds that move the total in the gap's direction, largest first
        movers = sorted((k for k in every if delta[k] * gap > 0), key=lambda k: -abs(delta[k]))
        parts = [
            f"{k} {_short(int(ref_kinds.get(k, 0)))} → {_short(int(kinds.get(k, 0)))} "
            f"({100 * delta[k] / gap:.0f}% of the gap)"
            for k in movers[:top]
        ]
        direction = "fewer" if gap > 0 else "more"
        lines.append(
            f"{other.label} needs {_short(abs(gap))} {direction} MACs than {ref.label}"
            + (": " + "; ".join(parts) + "." if parts else ".")
        )
    return lines
