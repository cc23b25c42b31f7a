"""``archcost validate``: run the network with NumPy; check every layer's shape and MACs.

Exit 0 when every layer agrees with the analysis, 1 naming the layers that differ.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from archcost.commands.options import SPEC_HELP, Parents, add_command, parse_sets, parse_size
from archcost.commands.output import LazyProgress, console, keep_freed_memory
from archcost.model import load
from archcost.onnx import require
from archcost.report.tables import plain_table
from archcost.report.units import human, human_bytes

if TYPE_CHECKING:
    from archcost.backend import Validation

EPILOG = (
    "examples:\n  archcost validate mobilenet_v2\n"
    "  archcost validate resnet50 --set resolution=112 --batch 2\n"
    "  archcost validate vgg16 --max-memory 1G\n"
)


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "validate",
        [parents.knobs, parents.includes, parents.seeded, parents.batch],
        help="run the network with NumPy and check shapes and MACs",
        description="Run SPEC on seeded random tensors; compare every layer's "
        "executed shape and multiplications with the analysis. Exit 0 "
        "when all agree, 1 naming the layers that differ.",
        epilog=EPILOG,
    )
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument(
        "--oracle",
        choices=["numpy", "onnxruntime"],
        default="numpy",
        help="onnxruntime: also run the exported model in onnxruntime with every layer's "
        "output exposed and check each layer's NumPy forward on the runtime's inputs "
        "against it (relative 1e-4; needs the onnx extra)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archcost.backend import validate  # numpy loads only for the commands that run it

    if args.oracle == "onnxruntime":  # before running anything: the extra is there
        require("onnx", file=args.spec)
        require("onnxruntime", file=args.spec)
    model = load(args.spec, include_path=args.include_path, **parse_sets(args.set))
    limit = parse_size(args.max_memory) if args.max_memory else None
    keep_freed_memory()
    bar = LazyProgress(sys.stdout.isatty())
    try:
        result = validate(model, batch=args.batch, seed=args.seed, max_memory=limit, progress=bar)
    finally:
        bar.close()
    code = print_validation(result, model.label)
    if args.oracle == "onnxruntime":
        from archcost.onnx.oracle import compare  # onnx: optional extra, loads only here

        oracle = compare(model, batch=args.batch, seed=args.seed)
        code = code or (0 if print_oracle(oracle) else 1)
    return code


def print_oracle(result: Any) -> bool:
    """Print the onnxruntime comparison (an :class:`archcost.onnx.oracle.OracleResult`);
    True when every layer agrees."""
    from rich.markup import escape  # rich: only when a table prints (start-up time)

    from archcost.onnx.oracle import RTOL  # onnx: optional extra, loads only here

    out = console(width=160)
    table = plain_table(
        f"{escape(result.model)} — each layer's NumPy forward on {result.runtime}'s "
        f"inputs vs its output (max error / max |value| ≤ {RTOL:g})",
        (
            ("layer", "left"),
            ("kind", "left"),
            ("shape", "left"),
            ("max |value|", "right"),
            ("rel. error", "right"),
            ("check", "left"),
        ),
    )
    for a in result.layers:
        mark = "[green]ok[/]" if a.ok else "[bold red]DIVERGES[/]"
        table.add_row(
            escape(a.name), a.kind, a.shape, f"{a.max_abs:.3g}", f"{a.relative:.1e}", mark
        )
    out.print(table)
    first = result.first_divergence
    if first is None:
        worst = max((a.relative for a in result.layers), default=0.0)
        out.print(
            f"[bold green]OK[/]: all {len(result.layers)} layers agree with {result.runtime} "
            f"(worst relative error {worst:.1e})"
        )
        return True
    bad = sum(not a.ok for a in result.layers)
    out.print(
        f"[bold red]DIVERGES[/]: first at layer '{escape(first.name)}' ({first.kind}): "
        f"relative error {first.relative:.1e} > {first.rtol:g}; {bad} of "
        f"{len(result.layers)} layers differ"
    )
    return False


def print_validation(result: Validation, label: str) -> int:
    """Print the per-layer checks and the verdict; return the exit code."""
    from rich.markup import escape  # rich loads only for terminal output (start-up time)

    out = console(width=160)
    table = plain_table(
        f"{escape(label)} — executed with NumPy, batch {result.batch}, seed {result.seed}",
        (
            ("layer", "left"),
            ("kind", "left"),
            ("shape", "left"),
            ("MACs", "right"),
            ("ms", "right"),
            ("check", "left"),
        ),
    )
    for c in result.checks:
        shape = (
            c.propagated_shape
            if c.propagated_shape == c.executed_shape
            else f"[red]{c.propagated_shape} ≠ executed {c.executed_shape}[/]"
        )
        macs = (
            f"{c.macs:,}"
            if c.macs == c.executed_macs
            else f"[red]{c.macs:,} ≠ executed {c.executed_macs:,}[/]"
        )
        mark = "[green]ok[/]" if c.ok else "[bold red]MISMATCH[/]"
        table.add_row(escape(c.name), c.kind, shape, macs, f"{c.seconds * 1e3:.2f}", mark)
    out.print(table)
    measured, analytic = result.measured_peak_bytes, result.analytic_peak_bytes
    delta = (measured - analytic) / analytic * 100 if analytic else 0.0
    out.print(
        f"peak live activations: measured {human_bytes(measured)} vs analytic "
        f"{human_bytes(analytic)} ({delta:+.1f}%); estimate before running "
        f"{human_bytes(result.estimated_bytes)}; total {result.seconds:.2f} s"
    )
    total = sum(c.executed_macs for c in result.checks)
    if result.ok:
        out.print(
            f"[bold green]OK[/]: all {len(result.checks)} layers agree — shapes and "
            f"{human(total)} MACs ({total:,}) confirmed by execution."
        )
        return 0
    bad = result.mismatches
    out.print(
        f"[bold red]FAILED[/]: {len(bad)} of {len(result.checks)} layers differ: "
        + ", ".join(escape(c.name) for c in bad[:20])
        + (" ..." if len(bad) > 20 else "")
    )
    return 1
