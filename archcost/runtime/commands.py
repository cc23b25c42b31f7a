"""The command-line side of :mod:`archcost.runtime`: what ``calibrate --runtime
onnxruntime``, ``bench --runtime onnxruntime`` and ``analyze --device PROFILE`` run.

The command modules parse the options and call these; nothing here parses argv.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archcost.errors import SpecError

if TYPE_CHECKING:
    from archcost.costs import Costs
    from archcost.model import Model
    from archcost.roofline import LayerEstimate, Profile

RUNTIMES = ("numpy", "onnxruntime")


def warn(text: str) -> None:
    print(f"archcost: warning: {text}", file=sys.stderr)


def estimates(model: Model, costs: Costs, profile: Profile) -> list[LayerEstimate]:
    """Per-layer estimates for ``analyze --device``: the roofline, or a runtime profile's
    kernel predictions (warning when it was calibrated on another runtime or version)."""
    from archcost.roofline import estimate_rows

    if not getattr(profile, "runtime", None):
        return estimate_rows(costs.rows, profile)
    from archcost.runtime.predict import mismatch_warning, predict_rows

    message = mismatch_warning(profile)
    if message:
        warn(message)
    layers = {r.name: model.nodes[r.name].layer for r in costs.rows}
    return predict_rows(costs.rows, layers, profile)  # type: ignore[arg-type]


def calibrate(*, output: str | Path, threads: int, budget: float, name: str, progress: bool) -> int:
    """``archcost calibrate --runtime onnxruntime``: calibrate, then write atomically (an
    interrupted calibration writes nothing)."""
    from archcost.commands.files import Output, check_outputs, write_output
    from archcost.report.latency import device_line, human_seconds
    from archcost.runtime.calibrate import calibrate as run
    from archcost.runtime.calibrate import write_profile

    # Checked before the measuring, written through the one safe writer afterwards.
    out = Output("-o", Path(output), lambda tmp: write_profile(profile, tmp))
    check_outputs([out])
    say = (lambda text: print(f"calibrate: {text}", file=sys.stderr)) if progress else None
    profile = run(threads=threads, budget_s=budget, name=name, progress=say)
    path = write_output(out)
    print(device_line(profile))
    for kind, m in sorted(profile.kernels.items()):
        rates = []
        if m.macs_per_s != float("inf"):
            rates.append(f"{m.macs_per_s / 1e9:.3g} G MAC/s")
        if m.bytes_per_s != float("inf"):
            rates.append(f"{m.bytes_per_s / 1e9:.3g} GB/s")
        print(
            f"  {kind:16} fixed {human_seconds(m.fixed_s):>8}  "
            f"{', '.join(rates) or '–':28} {m.samples:3} samples, median error "
            f"{m.error * 100:.0f}%"
        )
    print("  fusions: " + "; ".join("+".join(f) for f in profile.fusions))
    print(f"wrote {path}", file=sys.stderr)
    return 0


def bench(spec: str, knobs: dict[str, Any], *, threads: int, fmt: str, runs: int) -> int:
    """``archcost bench SPEC|MODEL.onnx --runtime onnxruntime``."""
    from archcost.runtime.bench import bench as run
    from archcost.runtime.bench import print_result
    from archcost.runtime.ort import import_onnxruntime

    import_onnxruntime()  # the install hint before any work
    if str(spec).lower().endswith(".onnx"):
        if knobs:
            raise SpecError("--set applies to specs, not to an .onnx model.", file=str(spec))
        source: Any = spec
    else:
        from archcost.model import load

        source = load(spec, **knobs)
    if fmt == "markdown":
        fmt = "table"
    print_result(run(source, threads=threads, runs=runs), fmt)
    return 0
