"""``archcost whatif``: rewrite convolutions by a rule and print the cost before and after."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archcost.commands.files import Output, write_outputs
from archcost.commands.options import SPEC_HELP, Parents, add_command, parse_sets
from archcost.commands.output import console, default_report_path, text_writer, wrote
from archcost.model import load
from archcost.report.tables import plain_table
from archcost.report.units import human
from archcost.rewrite import Rewrite, rewrite

DESCRIPTION = (
    "Rewrite every matching conv of SPEC by RULE: separable (k×k -> depthwise + "
    "pointwise), spatial (k×k -> k×1 + 1×k), grouped:G, shuffled:G (grouped + "
    "channel shuffle), pointwise-grouped:G (1×1 convs in G groups), resize-conv (a "
    "transposed conv -> nearest resize + conv of the same output size). Prints the "
    "per-layer before/after and the totals; -o writes the rewritten spec, which "
    "archcost loads like any other."
)

EPILOG = (
    "examples:\n  archcost whatif vgg16 --rewrite separable\n"
    "  archcost whatif resnet50 --rewrite grouped:32 --only "
    "'layer*.conv2' -o resnet50_grouped.yaml\n"
    "  archcost whatif vgg16 --rewrite shuffled:4 --html\n"
    "  archcost whatif unet --rewrite resize-conv\n"
)


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "whatif",
        [parents.knobs, parents.includes, parents.plotlyjs],
        help="rewrite convolutions by a rule and compare the cost",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument(
        "--rewrite",
        required=True,
        metavar="RULE",
        help="separable | spatial | grouped:G | shuffled:G | pointwise-grouped:G | resize-conv",
    )
    p.add_argument("--only", metavar="GLOB", help="rewrite only layers whose name matches")
    p.add_argument("-o", "--output", metavar="PATH", help="write the rewritten spec (YAML)")
    p.add_argument(
        "--html",
        nargs="?",
        const="",
        metavar="PATH",
        help="write a compare report of before and after (default reports/<name>_whatif.html)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    model = load(args.spec, include_path=args.include_path, **parse_sets(args.set))
    result = rewrite(model, args.rewrite, only=args.only)
    outputs = []
    if args.output:
        outputs.append(Output("-o", Path(args.output), text_writer(result.yaml)))
    if args.html is not None:
        from archcost.report.html import write_whatif_report  # plotly: only for --html

        path = Path(args.html) if args.html else default_report_path(f"{model.name}_whatif")
        outputs.append(
            Output(
                "--html",
                path,
                lambda tmp: write_whatif_report(result, tmp, plotlyjs=args.plotlyjs),
            )
        )
    written = write_outputs(outputs, inputs=model.spec.files)  # all checked, then all written
    print_rewrite(result)
    for path in written:
        wrote(path)
    return 0


def print_rewrite(result: Rewrite) -> None:
    """The per-layer before/after table, the skipped layers with reasons, and totals."""
    from rich.markup import escape  # rich loads only for terminal output (start-up time)

    out = console(width=140)
    table = plain_table(
        f"{escape(result.before.label)} — whatif {escape(result.rule)}",
        (
            ("layer", "left"),
            ("MACs before", "right"),
            ("after", "right"),
            ("after/before", "right"),
            ("params before", "right"),
            ("after", "right"),
        ),
    )
    for c in result.changes:
        if c.applied:
            table.add_row(
                escape(c.name),
                f"{c.macs_before:,}",
                f"{c.macs_after:,}",
                f"{c.macs_after / c.macs_before:.4f}" if c.macs_before else "–",
                f"{c.params_before:,}",
                f"{c.params_after:,}",
            )
    out.print(table)
    skipped = [c for c in result.changes if not c.applied]
    if skipped:
        out.print(f"[bold]skipped {len(skipped)}[/]:")
        for c in skipped:
            out.print(f"  {escape(c.name)}: {escape(c.reason)}")
    b, a = result.before.totals, result.after.totals
    for key, label in (
        ("macs", "MACs"),
        ("params", "params"),
        ("flops", "FLOPs"),
        ("memory_access", "memory"),
    ):
        change = a[key] / b[key] - 1 if b[key] else 0.0
        if a[key] == b[key]:
            verdict = "unchanged"
        else:
            verdict = f"{-change:.1%} less" if change < 0 else f"{change:.1%} more"
        out.print(
            f"{label:>7}: {b[key]:,} -> {a[key]:,} ({human(b[key])} -> {human(a[key])}, {verdict})"
        )
