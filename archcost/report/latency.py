"""Text forms of roofline estimates and bench results: terminal, JSON, CSV, Markdown.

``archcost analyze SPEC --device PROFILE`` shows the usual cost table with two more
per-layer columns, ``estimated_s`` (seconds) and ``bound`` (compute, memory, or none
for views), and the total estimated time; ``archcost bench`` shows measured beside
estimated times and the rank correlations. Like :mod:`archcost.report.tables`, the
JSON, CSV and Markdown forms are strings built with the standard library (no pandas,
no plotly), and the terminal form is a list of rich renderables; the commands print
them (:func:`archcost.commands.output.show`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from archcost.costs import CONVENTIONS, Costs
from archcost.report.columns import (
    DEVICE_CSV,
    DEVICE_JSON,
    DEVICE_MARKDOWN,
    DEVICE_TERMINAL,
    human_seconds,
    view,
)
from archcost.report.tables import (
    _md_escape,
    csv_text,
    json_document,
    markdown_table,
    pairs,
    plain_table,
    shape_text,
    terminal_table,
)
from archcost.report.units import human, human_bytes
from archcost.roofline import LayerEstimate, Profile, total_seconds

if TYPE_CHECKING:
    from archcost.bench import BenchResult, LayerTiming
    from archcost.runtime.bench import RuntimeBench
    from archcost.runtime.predict import RuntimeProfile

RUNTIME_NOTE = (
    "Predicted per kernel the runtime runs after its fusions: fixed + MACs / "
    "fitted rate + bytes / fitted rate per kernel type (archcost calibrate "
    "--runtime); fused layers take 0 and name their kernel."
)
ROOFLINE_NOTE = (
    "Roofline estimate per layer: max(MACs / peak, memory bytes / bandwidth) + "
    "overhead; layers run one after another."
)


def _rate(value: float, unit: str) -> str:
    return f"{human(value)} {unit}"


def device_line(profile: Profile) -> str:
    """One line describing the device: peak, bandwidth, overhead, ridge, source."""
    if getattr(profile, "runtime", None):
        p: Any = profile
        return (
            f"device {profile.name}: {p.runtime} {p.runtime_version}, {p.threads} "
            f"thread(s), {len(p.kernels)} kernel models, {len(p.fusions)} fusions, probe "
            f"{human_seconds(p.probe_s)}" + (f" ({profile.source})" if profile.source else "")
        )
    text = (
        f"device {profile.name}: peak {_rate(profile.peak_macs_per_s, 'MAC/s')}, "
        f"bandwidth {human_bytes(profile.bandwidth_bytes_per_s)}/s, overhead "
        f"{human_seconds(profile.overhead_s)}/layer, ridge {profile.ridge:.3g} MAC/B"
    )
    return text + (f" ({profile.source})" if profile.source else "")


def network_seconds(estimates: list[LayerEstimate], profile: Profile) -> float:
    """The network's time: its layers one after another, plus the fixed cost per run of a
    runtime-calibrated profile (0 for a plain roofline)."""
    return total_seconds(estimates) + getattr(profile, "run_overhead_s", 0.0)


# -- analyze --device ----------------------------------------------------------------
def to_json(model: Any, costs: Costs, estimates: list[LayerEstimate], profile: Profile) -> str:
    """The JSON object of docs/design.md, plus ``device``, ``totals.estimated_s`` and
    ``latency_s`` (the same number: the predicted network time) and per layer
    ``estimated_s`` = ``latency_s``, ``bound`` (compute, memory, none for views, fused),
    ``intensity`` (MACs per byte) and, for a layer the runtime fuses into another's
    kernel, ``fused_into``. A runtime
    profile's ``device`` has ``probe_s``, the drift probe's time at calibration."""
    total = network_seconds(estimates, profile)
    head = {
        "name": model.name,
        "input_shape": list(model.input_shape),
        "batch": costs.batch,
        "dtype": costs.dtype,
        "knobs": model.knobs,
        "device": _no_nan(profile.summary()),
        "totals": {**costs.totals, "estimated_s": total, "latency_s": total},
    }
    return json_document(head, pairs(costs, estimates), view(DEVICE_JSON))


def to_csv(costs: Costs, estimates: list[LayerEstimate]) -> str:
    """The analyze CSV with ``estimated_s`` and ``bound`` appended."""
    return csv_text(pairs(costs, estimates), view(DEVICE_CSV))


def _totals(costs: Costs, estimates: list[LayerEstimate], profile: Profile) -> dict[str, Any]:
    return {**costs.totals, "estimated_s": network_seconds(estimates, profile)}


def to_markdown(model: Any, costs: Costs, estimates: list[LayerEstimate], profile: Profile) -> str:
    lines = [
        f"# {_md_escape(model.label)}",
        "",
        f"Input {shape_text(model.input_shape)}, batch {costs.batch}, {costs.dtype}. "
        f"{_md_escape(device_line(profile))}.",
        "",
        *markdown_table(
            pairs(costs, estimates), view(DEVICE_MARKDOWN), _totals(costs, estimates, profile)
        ),
        "",
        ROOFLINE_NOTE,
        CONVENTIONS,
        "",
    ]
    return "\n".join(lines)


def to_terminal(
    model: Any, costs: Costs, estimates: list[LayerEstimate], profile: Profile
) -> list[Any]:
    """The analyze table with estimated time and bound columns and the total time, then
    the compute/memory split, the device and the notes: rich renderables in order."""
    from rich.markup import escape  # rich loads only for terminal output (start-up time)

    t = costs.totals
    total = network_seconds(estimates, profile)
    title = (
        f"{escape(model.label)} — input {shape_text(model.input_shape)}, "
        f"batch {costs.batch}, {costs.dtype}"
    )
    split = []
    for bound in ("compute", "memory", "fused"):
        group = [e for e in estimates if e.bound == bound]
        if bound == "fused" and not group:
            continue
        if bound == "fused":
            split.append(f"{len(group)} layers fused into a convolution's kernel")
        else:
            seconds = human_seconds(total_seconds(group))
            split.append(f"{bound}-bound {len(group)} layers ({seconds})")
    parts: list[Any] = [
        terminal_table(
            title,
            pairs(costs, estimates),
            view(DEVICE_TERMINAL),
            _totals(costs, estimates, profile),
        ),
        f"[bold]{len(costs.rows)} layers[/]: MACs {t['macs']:,} · memory "
        f"{t['memory_access']:,} B · estimated {human_seconds(total)}: " + ", ".join(split),
        escape(device_line(profile)),
    ]
    if getattr(profile, "runtime", None):
        parts.append(
            f"[dim]{RUNTIME_NOTE} Fixed cost per run: "
            f"{human_seconds(profile.run_overhead_s)}. {CONVENTIONS}[/]"  # type: ignore[attr-defined]
        )
    else:
        parts.append(f"[dim]{ROOFLINE_NOTE} {CONVENTIONS}[/]")
    return parts


# -- bench ------------------------------------------------------------------------------
BENCH_CSV_COLUMNS = [
    "name",
    "type",
    "macs",
    "memory_access",
    "bound",
    "estimated_s",
    "measured_s",
    "min_s",
]


def _rho(x: float) -> str:
    return "undefined" if math.isnan(x) else f"{x:+.2f}"


def bench_verdict(result: BenchResult) -> list[str]:
    """Plain sentences: did MACs predict time here, and did the roofline do better?"""
    c = result.correlations()
    lines = [
        f"Spearman rank correlation with measured per-layer time, over all "
        f"{len(result.layers)} layers: roofline estimate {_rho(c['estimate_vs_measured'])}, "
        f"MACs alone {_rho(c['macs_vs_measured'])}.",
        f"Over the {sum(1 for t in result.layers if t.macs)} layers with MACs (conv, linear): "
        f"roofline {_rho(c['estimate_vs_measured_mac_layers'])}, MACs "
        f"{_rho(c['macs_vs_measured_mac_layers'])}.",
    ]
    est, macs = c["estimate_vs_measured"], c["macs_vs_measured"]
    if not (math.isnan(est) or math.isnan(macs)):
        better = (
            "better than"
            if est > macs + 0.02
            else "worse than"
            if est < macs - 0.02
            else "about as well as"
        )
        lines.append(f"The roofline ranked the layers {better} MACs alone.")
    return lines


def _bench_title(result: BenchResult) -> str:
    return (
        f"{result.model} — NumPy backend, batch {result.batch}, median of "
        f"{result.repeats} passes, estimated on {result.profile.name}"
    )


def _bench_record(t: LayerTiming, number: Callable[[float], Any]) -> dict[str, Any]:
    return {
        "name": t.name,
        "type": t.kind,
        "macs": t.macs,
        "memory_access": t.memory_access,
        "bound": t.bound,
        "estimated_s": number(t.estimated_s),
        "measured_s": number(t.measured_s),
        "min_s": number(t.min_s),
    }


def bench_json(result: BenchResult) -> str:
    """The bench summary as JSON with a ``per_layer`` list, one layer per line."""
    head = json.dumps(_no_nan(result.summary()))[:-1]
    layers = ",\n ".join(
        json.dumps(_bench_record(t, lambda seconds: seconds)) for t in result.layers
    )
    return f'{head}, "per_layer": [\n {layers}\n]}}\n'


def bench_csv(result: BenchResult) -> str:
    """One CSV line per layer, :data:`BENCH_CSV_COLUMNS`, times as exact floats."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BENCH_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for t in result.layers:
        writer.writerow(_bench_record(t, repr))
    return out.getvalue()


def _bench_totals(result: BenchResult) -> tuple[str, str, str]:
    return (
        human(result.macs),
        human_seconds(result.estimated_total_s),
        human_seconds(result.measured_total_s),
    )


def bench_markdown(result: BenchResult) -> str:
    totals = _bench_totals(result)
    lines = [
        f"# {_md_escape(_bench_title(result))}",
        "",
        "| layer | kind | MACs | memory (B) | bound | estimated | measured | measured/est. |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for t in result.layers:
        lines.append(
            f"| {_md_escape(t.name)} | {t.kind} | {t.macs:,} | {t.memory_access:,} | "
            f"{t.bound} | {human_seconds(t.estimated_s)} | "
            f"{human_seconds(t.measured_s)} | {_ratio(t)} |"
        )
    lines.append(f"| **total** | | **{result.macs:,}** | | | **{totals[1]}** | **{totals[2]}** | |")
    lines += ["", _md_escape(device_line(result.profile)) + ".", "", *bench_verdict(result), ""]
    if result.busy:
        lines += [f"Warning: {busy_warning(result)}", ""]
    return "\n".join(lines) + "\n"


def bench_terminal(result: BenchResult) -> list[Any]:
    """The per-layer bench table (totals footer), the device, the whole-pass time and
    the verdict: rich renderables in order."""
    from rich.markup import escape  # rich loads only for terminal output (start-up time)

    totals = _bench_totals(result)
    table = plain_table(
        escape(_bench_title(result)),
        (
            ("layer", "left"),
            ("kind", "left"),
            ("MACs", "right"),
            ("memory", "right"),
            ("bound", "left"),
            ("estimated", "right"),
            ("measured", "right"),
            ("meas./est.", "right"),
        ),
        footers=("total", "", totals[0], "", "", totals[1], totals[2], ""),
    )
    for t in result.layers:
        table.add_row(
            escape(t.name),
            t.kind,
            human(t.macs),
            human_bytes(t.memory_access),
            t.bound,
            human_seconds(t.estimated_s),
            human_seconds(t.measured_s),
            _ratio(t),
        )
    parts: list[Any] = [
        table,
        escape(device_line(result.profile)),
        f"whole passes: median {human_seconds(result.pass_seconds)} (the per-layer "
        "medians plus the executor's own bookkeeping)",
        *bench_verdict(result),
    ]
    if result.busy:
        parts.append(f"[bold yellow]warning[/]: {busy_warning(result)}")
    return parts


BENCH_FORMATS: dict[str, Callable[[BenchResult], str | list[Any]]] = {
    "table": bench_terminal,
    "json": bench_json,
    "csv": bench_csv,
    "markdown": bench_markdown,
}
"""``archcost bench --format`` -> its formatter: text, or rich renderables for the terminal."""


def busy_warning(result: BenchResult) -> str:
    return (
        f"the machine was busy (load average {result.load_before:.1f} on {result.cpus} "
        "CPUs) when the bench started: times include waiting for other processes, and "
        "multi-threaded BLAS calls can be many times slower. Re-run on a quiet machine."
    )


def _ratio(t: Any) -> str:
    return f"×{t.measured_s / t.estimated_s:.1f}" if t.estimated_s else "–"


def _no_nan(value: Any) -> Any:
    """NaN (an undefined correlation) -> None, so the JSON stays standard."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# -- calibrate --runtime onnxruntime ----------------------------------------------------
def calibration_lines(profile: RuntimeProfile) -> list[str]:
    """A runtime calibration in plain lines: the device, each kernel type's fitted
    model (fixed cost, rates, samples, median error), the fusions found, the cold-weight
    term."""
    lines = [device_line(profile)]
    for kind, m in sorted(profile.kernels.items()):
        rates = []
        if m.macs_per_s != float("inf"):
            rates.append(f"{m.macs_per_s / 1e9:.3g} G MAC/s")
        if m.bytes_per_s != float("inf"):
            rates.append(f"{m.bytes_per_s / 1e9:.3g} GB/s")
        lines.append(
            f"  {kind:16} fixed {human_seconds(m.fixed_s):>8}  "
            f"{', '.join(rates) or '–':28} {m.samples:3} samples, median error "
            f"{m.error * 100:.0f}%"
        )
    lines.append("  fusions: " + "; ".join("+".join(f) for f in profile.fusions))
    if math.isfinite(profile.cold_weight_bytes_per_s):
        lines.append(
            f"  cold weights: a network's weights beyond "
            f"{human_bytes(int(profile.weight_cache_bytes))} read at "
            f"{human_bytes(int(profile.cold_weight_bytes_per_s))}/s"
        )
    return lines


# -- bench --runtime onnxruntime --------------------------------------------------------
def runtime_bench_json(result: RuntimeBench) -> str:
    """One JSON object: latency with its spread, probe, on-CPU time, one entry per kernel."""
    return json.dumps(result.as_json()) + "\n"


def runtime_bench_csv(result: RuntimeBench) -> str:
    """One CSV line per kernel: name, op, measured_s, the layers it covers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "op", "measured_s", "covers"])
    for t in result.layers:
        writer.writerow([t.name, t.op, repr(t.measured_s), " ".join(t.covers)])
    return out.getvalue()


def runtime_bench_terminal(result: RuntimeBench) -> list[Any]:
    """The per-kernel table and the latency, on-CPU, probe and busy lines (rich markup)."""
    from rich.markup import escape  # rich loads only for terminal output (start-up time)

    m = result.measurement
    s = m.latency
    table = plain_table(
        escape(
            f"{result.model} — onnxruntime {m.version}, {m.threads} "
            f"thread(s), per-kernel medians of the profiler"
        ),
        (("kernel (layer)", "left"), ("op", "left"), ("time", "right"), ("covers", "left")),
        wrap=("covers",),
    )
    for t in result.layers:
        table.add_row(
            escape(t.name),
            t.op,
            human_seconds(t.measured_s),
            escape(", ".join(t.covers[1:])) if len(t.covers) > 1 else "",
        )
    parts: list[Any] = [
        table,
        f"latency: median {human_seconds(s.median)} of {s.runs} warm runs "
        f"(quartiles {human_seconds(s.q1)} – {human_seconds(s.q3)}, range "
        f"{human_seconds(s.min)} – {human_seconds(s.max)}); kernels sum "
        f"{human_seconds(math.fsum(t.measured_s for t in result.layers))} "
        "(profiled separately)",
    ]
    if m.cpu:
        parts.append(
            f"on-CPU time: median {human_seconds(m.cpu.median)} (the runs without their waits "
            "for a CPU: what a quiet machine would take)"
        )
    parts.append(
        f"drift probe: {human_seconds(m.probe_s)} (divide by it to compare "
        "measurements taken at different moments)"
    )
    if result.busy:
        parts.append(
            f"[bold yellow]warning[/]: the machine was busy (load average "
            f"{m.load_before:.1f} on {result.cpus} CPUs): times include waiting for "
            "other processes."
        )
    return parts


RUNTIME_BENCH_FORMATS: dict[str, Callable[[RuntimeBench], str | list[Any]]] = {
    "table": runtime_bench_terminal,
    "json": runtime_bench_json,
    "csv": runtime_bench_csv,
    "markdown": runtime_bench_terminal,  # the table (no Markdown form of kernel timings)
}
"""``archcost bench --runtime onnxruntime --format`` -> its formatter."""
