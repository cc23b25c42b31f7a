"""Design-space sweeps: many knob settings of one spec, their totals and a Pareto front.

``sweep(spec, grid=["width=0.5,1.0", "resolution=96:224:32"])`` costs every
configuration of the grid (the product of the axes, first axis slowest) and returns a
DataFrame with one row per configuration, in grid order: the knob columns, every
total (exact ints), ``accuracy`` where the spec's ``reported:`` section has the
setting, ``pareto`` over the chosen objectives, and ``error``: a configuration the
spec refuses (a ``requires:`` rule, a shape rule) keeps its row and its message.

The spec is parsed once and shared by all configurations (``Model(spec, knobs)``),
which is what ``archcost.load(path, **knobs)`` builds, so each row equals ``archcost
analyze SPEC --set ...`` exactly; the configurations also share the layers, shapes,
counts and whole block expansions they have in common (:class:`archcost.graph.BuildCache`),
and identical configurations are costed once. Large sweeps run on Dask (see
:mod:`archcost.sweep_run`). The function is ``archcost.sweep`` (this module is named
``sweeping`` so that the name is free for it).
"""

from __future__ import annotations

import ast
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archcost.costs import TOTAL_KEYS
from archcost.errors import SpecError, did_you_mean
from archcost.expressions import ExpressionError, evaluate, names_used, parse_value, render
from archcost.onnx import is_onnx_path
from archcost.roofline import Profile, load_profile
from archcost.spec import Spec, load_spec
from archcost.sweep_run import run, run_onnx
from archcost.zoo import locate

if TYPE_CHECKING:
    import pandas as pd

MAX_CONFIGS = 20_000  # more needs yes=True (--yes): a typo should not run for hours
MAX_GRID_AXIS = 100_000  # values on one axis, before the product is formed
#: Short names ``--objectives`` also takes.
OBJECTIVE_ALIASES = {"latency": "latency_s", "memory": "memory_access", "top1": "accuracy"}
MAXIMISED = ("accuracy",)  # objectives where more is better; every other is minimised

Value = int | float | bool | str


@dataclass(frozen=True)
class Axis:
    """One knob's values: a list (``values``) or an interval to sample (``low``, ``high``)."""

    name: str
    values: tuple[Value, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False

    @property
    def interval(self) -> bool:
        return self.low is not None


def _decimal(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise SpecError(
            f"{where}: '{text}' is not a number.",
            hint="Ranges are START:STOP:STEP, e.g. resolution=96:224:32.",
        ) from None
    if not value.is_finite():
        raise SpecError(f"{where}: '{text}' is not a finite number.")
    return value


def _number(value: Decimal) -> int | float:
    """An int when written without a fraction ("96"), else a float ("1.0", "0.75")."""
    exponent = value.as_tuple().exponent
    integral = isinstance(exponent, int) and exponent >= 0
    return int(value) if integral and value == value.to_integral_value() else float(value)


def parse_axis(text: str, flag: str = "--grid") -> Axis:
    """``--grid`` text -> an :class:`Axis`.

    ``name=v1,v2,...`` a list; ``name=START:STOP[:STEP]`` an inclusive range (exact
    decimal steps: ``0.5:1:0.25`` is 0.5, 0.75, 1.0); ``name=LOW..HIGH`` an interval,
    sampled by ``--sample``.

    >>> parse_axis("resolution=96:224:32").values
    (96, 128, 160, 192, 224)
    >>> parse_axis("width=0.5:1.0:0.25").values
    (0.5, 0.75, 1.0)
    >>> parse_axis("width=0.35..1.4")
    Axis(name='width', values=(), low=0.35, high=1.4, integer=False)

    ``integer`` (set by :func:`check_axes` for int knobs) samples an interval's ints.
    """
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name or not rest.strip():
        raise SpecError(
            f"--grid expects KNOB=VALUES, got '{text}'.",
            hint="e.g. --grid width=0.5,0.75,1.0 or --grid resolution=96:224:32 "
            "or --grid width=0.35..1.4 with --sample N.",
        )
    where = f"{flag} {name}" if flag == "--grid" else flag
    if ".." in rest:
        lo_text, _, hi_text = rest.partition("..")
        lo, hi = _decimal(lo_text, where), _decimal(hi_text, where)
        if lo >= hi:
            raise SpecError(
                f"{where}: the interval {rest} is empty or inverted.",
                hint="Write LOW..HIGH with LOW < HIGH.",
            )
        return Axis(name, low=float(lo), high=float(hi))
    if ":" in rest:
        parts = rest.split(":")
        if len(parts) == 2:
            parts.append("1")  # START:STOP steps by 1
        if len(parts) != 3:
            raise SpecError(
                f"{where}: a range is START:STOP:STEP, got '{rest}'.",
                hint="e.g. resolution=96:224:32 (96, 128, ..., 224).",
            )
        start, stop, step = (_decimal(p, where) for p in parts)
        if step <= 0:
            raise SpecError(f"{where}: the step must be positive, got {parts[2]}.")
        if start > stop:
            raise SpecError(
                f"{where}: the range {rest} is inverted (START > STOP).",
                hint=f"Did you mean {parts[1]}:{parts[0]}:{parts[2]}?",
            )
        count = int((stop - start) / step) + 1
        if count > MAX_GRID_AXIS:
            raise SpecError(
                f"{where}: the range {rest} has {count:,} values; the limit is {MAX_GRID_AXIS:,}."
            )
        return Axis(name, values=tuple(_number(start + i * step) for i in range(count)))
    items = [t for t in rest.split(",")]
    if any(not t.strip() for t in items):
        raise SpecError(
            f"{where}: an empty value in '{rest}'.",
            hint="Separate values by commas: width=0.5,0.75,1.0.",
        )
    values = tuple(dict.fromkeys(parse_value(t) for t in items))  # duplicates once
    return Axis(name, values=values)


def check_axes(axes: Sequence[Axis], params: dict[str, Any], spec_name: str) -> list[Axis]:
    """Every axis names a param of the spec once, with values of the param's type.
    Returns the axes, intervals of int params marked ``integer``."""
    seen: set[str] = set()
    checked = []
    for axis in axes:
        if axis.name not in params:
            raise SpecError(
                f"--grid: unknown knob '{axis.name}'.",
                hint=(
                    did_you_mean(axis.name, params)
                    + f" Knobs of {spec_name}: "
                    + ", ".join(params)
                    + "."
                )
                if params
                else f"{spec_name} has no params to sweep.",
            )
        if axis.name in seen:
            raise SpecError(
                f"--grid: the knob '{axis.name}' is given twice.",
                hint="Give each knob once, with all its values.",
            )
        seen.add(axis.name)
        default = params[axis.name]
        for value in axis.values or (axis.low,):
            if not _same_type(default, value):
                raise SpecError(
                    f"--grid {axis.name}: expects values like {default!r}, got {value!r}."
                )
        integer = isinstance(default, int) and not isinstance(default, bool)
        checked.append(replace(axis, integer=axis.interval and integer))
    return checked


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float)
    return isinstance(value, str)


def grid_size(axes: Sequence[Axis]) -> int:
    return math.prod(len(a.values) for a in axes)


def configurations(
    axes: Sequence[Axis], *, sample: int | None = None, seed: int = 0, method: str = "random"
) -> list[dict[str, Value]]:
    """The configurations, in order.

    Without ``sample``: the product of the axes' lists, the first axis varying slowest
    (intervals are refused). With ``sample`` = N: N configurations; ``method`` "random"
    draws each knob independently (intervals uniformly, lists uniformly by index);
    "lhs" is a Latin hypercube: each knob's range (or list) is cut into N equal strata
    and every stratum is used exactly once. Integer intervals (``96..224``) give ints;
    float samples are rounded to 6 decimals (the row then holds the value used).
    """
    if sample is None:
        open_axes = [a.name for a in axes if a.interval]
        if open_axes:
            raise SpecError(
                f"--grid {open_axes[0]}: an interval LOW..HIGH needs --sample N.",
                hint="Add --sample 100 (and --seed S), or give a list or a START:STOP:STEP range.",
            )
        return [
            dict(zip([a.name for a in axes], combo, strict=True))
            for combo in itertools.product(*(a.values for a in axes))
        ]
    if sample < 1:
        raise SpecError(f"--sample expects a positive number, got {sample}.")
    if method not in ("random", "lhs"):
        raise SpecError(f"--sampler: unknown method '{method}'.", hint="Use random or lhs.")
    import numpy as np  # only for --sample (start-up time of the other sweeps)

    rng = np.random.default_rng(seed)
    columns: list[list[Value]] = []
    for axis in axes:
        if method == "lhs":
            u = (rng.permutation(sample) + rng.random(sample)) / sample
        else:
            u = rng.random(sample)
        columns.append([_pick(axis, float(x)) for x in u])
    return [
        dict(zip([a.name for a in axes], row, strict=True)) for row in zip(*columns, strict=True)
    ]


def _pick(axis: Axis, u: float) -> Value:
    """The value at ``u`` in [0, 1) of an axis: a list index or a point of the interval."""
    if not axis.interval:
        return axis.values[min(int(u * len(axis.values)), len(axis.values) - 1)]
    assert axis.low is not None and axis.high is not None
    if axis.integer:
        span = int(axis.high) - int(axis.low) + 1
        return int(axis.low) + min(int(u * span), span - 1)
    return round(axis.low + u * (axis.high - axis.low), 6)


# -- compound scaling ---------------------------------------------------------------------
COMPOUND_KNOBS = ("depth", "width", "resolution")


def compound_configurations(
    params: dict[str, Any], coefficients: str | Sequence[float], phi: str
) -> tuple[list[dict[str, Value]], list[dict[str, Value]]]:
    """EfficientNet's compound scaling (Tan & Le 2019, Sec. 3.3, Eq. 3): for each phi,
    depth = alpha**phi, width = beta**phi, resolution = gamma**phi times the spec's default
    resolution, rounded to the nearest pixel. The spec rounds the rest as the reference
    implementation does (channels to multiples of 8, repeats up). Returns the
    configurations and their ``phi`` labels.

    >>> configs, labels = compound_configurations(
    ...     {"width": 1.0, "depth": 1.0, "resolution": 224}, "1.2,1.1,1.15", "0:2")
    >>> [(c["depth"], c["width"], c["resolution"]) for c in configs]
    [(1.0, 1.0, 224), (1.2, 1.1, 258), (1.44, 1.21, 296)]
    """
    missing = [k for k in COMPOUND_KNOBS if k not in params]
    if missing:
        raise SpecError(
            f"--compound needs the knobs depth, width and resolution; the spec has no "
            f"'{missing[0]}'.",
            hint="Compound scaling walks EfficientNet-style specs (specs/efficientnet.yaml).",
        )
    if isinstance(coefficients, str):
        parts = [p.strip() for p in coefficients.split(",")]
        if len(parts) != 3:
            raise SpecError(
                f"--compound expects ALPHA,BETA,GAMMA (depth, width, resolution), got "
                f"'{coefficients}'.",
                hint="EfficientNet's: --compound 1.2,1.1,1.15",
            )
        values = [float(_decimal(p, "--compound")) for p in parts]
    else:
        values = [float(v) for v in coefficients]
    if any(v < 1 for v in values):
        raise SpecError(f"--compound: the coefficients must be >= 1, got {values}.")
    axis = parse_axis(f"phi={phi}", "--phi")
    if axis.interval or not all(isinstance(v, int | float) for v in axis.values):
        raise SpecError(f"--phi expects numbers or START:STOP:STEP, got '{phi}'.")
    alpha, beta, gamma = values
    base = params["resolution"]
    if isinstance(base, bool) or not isinstance(base, int | float):
        raise SpecError(f"--compound: the default resolution {base!r} is not a number.")
    configs: list[dict[str, Value]] = []
    labels: list[dict[str, Value]] = []
    for p in axis.values:
        assert isinstance(p, int | float)  # checked above
        configs.append(
            {
                "depth": round(alpha**p, 6),
                "width": round(beta**p, 6),
                "resolution": int(round(base * gamma**p)),
            }
        )
        labels.append({"phi": p})
    return configs, labels


def sweep_title(spec: Spec, columns: Iterable[str]) -> str:
    """The spec's name for a sweep over ``columns``: a ``${...}`` that mentions a swept
    knob shows its expression, any other is filled in from the defaults.

    >>> from archcost.spec import load_spec
    >>> from archcost.zoo import locate
    >>> sweep_title(load_spec(locate("shufflenet_v1")), ["groups"])
    'ShuffleNetV1 1x (g=groups)'
    """
    swept = set(columns)
    shown = re.sub(
        r"\$\{(.*?)\}",
        lambda m: m.group(1).strip() if names_used(m.group(0)) & swept else m.group(0),
        spec.name,
    )
    try:
        return str(render(shown, spec.params))
    except SpecError:
        return shown


# -- --where -------------------------------------------------------------------------------
def compile_where(text: str, columns: Iterable[str]) -> Callable[[dict[str, Any]], bool]:
    """A row filter from ``text`` ("macs <= 300e6 and params <= 3e6"), by the spec
    expression evaluator (no Python eval). Names must be ``columns``.

    Raises:
        SpecError: a syntax error, a construct the evaluator refuses, an unknown column.
    """
    columns = list(columns)
    source = text.strip()
    if not source:
        raise SpecError(
            "--where: the expression is empty.",
            hint='e.g. --where "macs <= 300e6 and params <= 3e6"',
        )
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise SpecError(
            f"--where: cannot parse '{source}': {exc.msg}.",
            hint="Use column names, numbers, comparisons and and/or/not, e.g. "
            '"macs <= 300e6 and params <= 3e6".',
        ) from None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Name)
            and node.id not in columns
            and node.id not in ("true", "false", "True", "False")
        ):
            call = any(isinstance(n, ast.Call) and n.func is node for n in ast.walk(tree))
            if not call:
                raise SpecError(
                    f"--where: unknown column '{node.id}'.",
                    hint=did_you_mean(node.id, columns) + " Columns: " + ", ".join(columns) + ".",
                )
    blank = {c: 0 for c in columns}
    try:  # refuse unsafe constructs before the sweep
        evaluate(source, blank)
    except ExpressionError as exc:
        if "division by zero" not in exc.message:
            raise SpecError(
                f"--where: {exc.message.replace('${' + source + '}', source)}", hint=exc.hint
            ) from None

    def keep(row: dict[str, Any]) -> bool:
        names = {k: v for k, v in row.items() if v is not None}
        try:
            return bool(evaluate(source, names))
        except ExpressionError:
            return False  # a blank value (unknown accuracy) or x / 0: no match

    return keep


# -- Pareto -----------------------------------------------------------------------------------
def pareto_mask(
    points: Sequence[Sequence[float | int] | None], maximise: Sequence[bool] | None = None
) -> list[bool]:
    """Which points no other point dominates (all objectives minimised, except those
    flagged in ``maximise``). ``None`` points (errors, unknown values) are never on the
    front and dominate nothing. Equal points are both on the front.

    >>> pareto_mask([(1, 5), (2, 2), (3, 3), (5, 1), None])
    [True, True, False, True, False]
    """
    keyed: list[tuple[tuple[Any, ...], int]] = []
    for i, p in enumerate(points):
        if p is None:
            continue
        flip = maximise or [False] * len(p)
        keyed.append((tuple(-v if m else v for v, m in zip(p, flip, strict=True)), i))
    keyed.sort()
    front: list[tuple[Any, ...]] = []
    mask = [False] * len(points)
    for key, i in keyed:
        # Lexicographic order: only an earlier point can dominate this one.
        if any(
            all(f <= k for f, k in zip(other, key, strict=True)) and other != key for other in front
        ):
            continue
        front.append(key)
        mask[i] = True
    return mask


# -- evaluation -----------------------------------------------------------------------------
def reported_accuracy(spec: Spec, knobs: dict[str, Any]) -> tuple[float | None, str]:
    """ImageNet top-1 (%) and its source from the spec's ``reported:`` entries whose
    knobs equal ``knobs`` (unlisted knobs at their defaults); ``(None, "")`` otherwise:
    never interpolated."""
    full = {**spec.params, **knobs}
    for entry in getattr(spec, "reported", None) or []:
        setting = {**spec.params, **entry["knobs"]}
        if all(_equal(full.get(k), v) for k, v in setting.items()):
            return entry["top1"], entry["source"]
    return None, ""


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def result_frame(
    spec: Spec | OnnxFile,
    configs: Sequence[dict[str, Value]],
    results: Sequence[dict[str, Any]],
    *,
    objectives: Sequence[str] = ("macs", "params"),
    where: str | None = None,
    latency: bool = False,
    labels: Sequence[dict[str, Value]] | None = None,
) -> pd.DataFrame:
    """Rows in ``configs`` order: ``labels`` (e.g. ``phi``), knobs, totals,
    ``latency_s``, ``accuracy`` and its source, ``pareto``, ``error``; ``where`` keeps
    matching rows (and every error row)."""
    import pandas as pd  # only when the frame is built (start-up time)

    labels = labels or [{} for _ in configs]
    knob_names = (list(labels[0]) + list(configs[0])) if configs else []
    count_columns = list(TOTAL_KEYS) + (["latency_s"] if latency else [])
    has_reported = isinstance(spec, Spec) and bool(spec.reported)
    columns = knob_names + count_columns + (["accuracy", "accuracy_source"] if has_reported else [])
    check_objectives(objectives, count_columns + ["accuracy"], has_reported)
    rows = []
    for label, knobs, result in zip(labels, configs, results, strict=True):
        row: dict[str, Any] = {**label, **knobs}
        for key in count_columns:
            row[key] = result.get(key)
        if isinstance(spec, Spec) and has_reported:
            full = dict(spec.params)
            full.update(knobs)
            row["accuracy"], row["accuracy_source"] = reported_accuracy(spec, full)
            if row["accuracy"] is None:
                row["accuracy_source"] = None
        row["error"] = result.get("error")
        rows.append(row)
    if where:
        keep = compile_where(where, columns)
        rows = [r for r in rows if r["error"] is not None or keep(r)]
    points = [
        None
        if r["error"] is not None or any(r.get(o) is None for o in objectives)
        else tuple(r[o] for o in objectives)
        for r in rows
    ]
    mask = pareto_mask(points, [o in MAXIMISED for o in objectives])
    for row, flag in zip(rows, mask, strict=True):
        row["pareto"] = flag
    frame = pd.DataFrame(rows, columns=columns + ["pareto", "error"])
    for key in TOTAL_KEYS:
        frame[key] = frame[key].astype("Int64")  # exact ints; <NA> on error rows
    if has_reported:
        frame["accuracy"] = frame["accuracy"].astype("Float64")
    return frame


def objective_names(text: str | Sequence[str]) -> list[str]:
    """``"macs, latency"`` -> ``["macs", "latency_s"]``: the column names, short names
    (:data:`OBJECTIVE_ALIASES`) resolved.

    >>> objective_names("macs,latency")
    ['macs', 'latency_s']
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [o.strip() for o in items if o.strip()]
    return [OBJECTIVE_ALIASES.get(o, o) for o in names]


def check_objectives(objectives: Sequence[str], columns: Sequence[str], has_reported: bool) -> None:
    if not objectives:
        raise SpecError("--objectives: name at least one column, e.g. macs,params.")
    for name in objectives:
        if name == "accuracy" and not has_reported:
            raise SpecError(
                "--objectives: this spec has no reported: accuracy, so "
                "'accuracy' cannot be an objective.",
                hint="Zoo specs carry ImageNet top-1 in their reported: section.",
            )
        if name == "latency_s" and "latency_s" not in columns:
            raise SpecError("--objectives: 'latency_s' needs --device PROFILE.")
        if name not in columns:
            raise SpecError(
                f"--objectives: unknown column '{name}'.",
                hint=did_you_mean(name, columns) + " Objectives: " + ", ".join(columns) + ".",
            )


@dataclass(frozen=True)
class OnnxFile:
    """An ONNX file as a sweep sees it: its knobs are ``load_onnx``'s, ``input``
    (``3x224x224``: the input shape) and ``unsupported`` (``zero``)."""

    file: str
    params: dict[str, Any]
    reported: None = None

    @property
    def name(self) -> str:
        return Path(self.file).name

    @property
    def files(self) -> list[str]:
        return [self.file]


def sweep_spec(spec: Any) -> Any:
    """What a sweep costs: a parsed :class:`~archcost.spec.Spec` (from a spec file or a
    bundled network's name, or given), or an :class:`OnnxFile`."""
    if isinstance(spec, Spec | OnnxFile):
        return spec
    if is_onnx_path(spec):
        if not Path(spec).is_file():
            raise SpecError(f"{spec}: no such ONNX file.")
        return OnnxFile(str(spec), {"input": "", "unsupported": "error"})
    return load_spec(locate(spec))


def sweep(
    spec: str | Spec | OnnxFile,
    grid: Sequence[str] | dict[str, Sequence[Value]] = (),
    *,
    sample: int | None = None,
    seed: int = 0,
    sampler: str = "random",
    where: str | None = None,
    objectives: Sequence[str] = ("macs", "params"),
    batch: int = 1,
    dtype: str = "float32",
    device: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    max_configs: int = MAX_CONFIGS,
    yes: bool = False,
    progress: Callable[[int, int], None] | None = None,
    compound: str | Sequence[float] | None = None,
    phi: str = "0:3",
) -> pd.DataFrame:
    """Cost every configuration of ``grid``; one row each, in grid order.

    Args:
        spec: a spec path, a bundled network's name (``"mobilenet_v2"``), a parsed
            :class:`~archcost.spec.Spec`, or an ONNX file (``model.onnx``: its knobs are
            ``input``, e.g. ``grid=["input=3x160x160,3x224x224"]``, and ``unsupported``;
            costed in this process).
        grid: ``["width=0.5,1.0", "resolution=96:224:32"]`` or ``{"width": [0.5, 1.0]}``.
        sample: draw this many configurations instead of the product (``sampler``
            "random" or "lhs", ``seed``); intervals ``LOW..HIGH`` need it.
        where: keep rows matching this expression over the columns (error rows stay).
        objectives: the columns the ``pareto`` flag is computed over (minimised;
            ``accuracy`` maximised).
        device: a roofline profile (name, path or Profile) adds ``latency_s``.
        scheduler: None (in-process, or a LocalCluster above a threshold), ``"serial"``,
            ``"local"`` (a LocalCluster of ``workers`` processes, default one per core),
            or a Dask scheduler address ``tcp://HOST:PORT``.
        max_configs: refuse more configurations than this unless ``yes``.
        progress: called as ``progress(done, total)``.
        compound: ``"ALPHA,BETA,GAMMA"``: walk EfficientNet's compound scaling over
            ``phi`` (values or START:STOP:STEP), see :func:`compound_configurations`;
            a ``phi`` column comes first, and ``grid`` may add other knobs.
    """
    parsed = sweep_spec(spec)
    objectives = objective_names(objectives)
    if isinstance(grid, dict):
        axes = [Axis(k, values=tuple(v)) for k, v in grid.items()]
        for axis in axes:
            if not axis.values:
                raise SpecError(f"--grid {axis.name}: no values.")
    else:
        axes = [parse_axis(g) for g in grid]
    axes = check_axes(axes, parsed.params, parsed.name)
    walk: list[dict[str, Value]] = [{}]
    labels: list[dict[str, Value]] | None = None
    if compound is not None:
        walk, labels = compound_configurations(parsed.params, compound, phi)
        clash = [a.name for a in axes if a.name in COMPOUND_KNOBS]
        if clash:
            raise SpecError(f"--grid {clash[0]}: --compound sets depth, width and resolution.")
        if sample is not None:
            raise SpecError("--compound walks phi; it does not combine with --sample.")
    total = (sample if sample is not None else grid_size(axes)) * len(walk)
    if total > max_configs and not yes:
        raise SpecError(
            f"the sweep has {total:,} configurations, more than the limit of {max_configs:,}.",
            hint="Pass --yes (yes=True) to run it anyway, or raise --max-configs.",
        )
    configs = configurations(axes, sample=sample, seed=seed, method=sampler)
    if compound is not None:
        assert labels is not None
        labels = [label for label in labels for _ in configs]
        configs = [{**w, **c} for w in walk for c in configs]
    profile = None
    if device is not None:
        profile = device if isinstance(device, Profile) else load_profile(device)
    knob_columns = (["phi", *COMPOUND_KNOBS] if compound is not None else []) + [
        a.name for a in axes
    ]
    columns = knob_columns + list(TOTAL_KEYS) + (["latency_s"] if profile else [])
    has_reported = bool(getattr(parsed, "reported", None))
    check_objectives(objectives, columns + ["accuracy"], has_reported)
    if where:  # refuse a bad expression before any work
        compile_where(where, columns + (["accuracy"] if has_reported else []))
    if isinstance(parsed, OnnxFile):
        if scheduler not in (None, "serial"):
            raise SpecError(
                "--scheduler: an ONNX file is swept in this process.",
                hint="Leave out --scheduler, or export the network's spec for a cluster.",
            )
        results = run_onnx(parsed.file, configs, batch, dtype, profile, progress)
    else:
        results = run(
            parsed,
            configs,
            batch=batch,
            dtype=dtype,
            profile=profile,
            scheduler=scheduler,
            workers=workers,
            progress=progress,
        )
    return result_frame(
        parsed,
        configs,
        results,
        objectives=objectives,
        where=where,
        latency=profile is not None,
        labels=labels,
    )
