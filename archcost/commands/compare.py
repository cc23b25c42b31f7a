"""``archcost compare``: the totals of several specs or knob settings, ratios to the first."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archcost.commands.files import Output, input_files, write_outputs
from archcost.commands.options import SPEC_HELP, Parents, add_command
from archcost.commands.output import default_report_path, show, wrote
from archcost.errors import SpecError
from archcost.model import load
from archcost.report.latency import network_seconds
from archcost.report.tables import COMPARE_FORMATS
from archcost.roofline import estimate, load_profile

EPILOG = """examples:
  archcost compare mobilenet_v1 shufflenet_v2
  archcost compare mobilenet_v1@width=0.5 mobilenet_v1@resolution=128
  archcost compare mobilenet_v1 mobilenet_v2 \\
      shufflenet_v1 shufflenet_v2 --html reports/mobilenet_vs_shufflenet.html
"""


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "compare",
        [parents.includes, parents.fmt, parents.plotlyjs, parents.batch, parents.dtype],
        help="several specs or knob settings side by side",
        description="Compare totals of several models; SPEC@k=v,... sets knobs.",
        epilog=EPILOG,
    )
    p.add_argument(
        "specs", nargs="+", metavar="SPEC[@k=v,...]", help=f"{SPEC_HELP}; @k=v,... sets knobs"
    )
    p.add_argument(
        "--html",
        nargs="?",
        const="",
        metavar="PATH",
        help="also write an HTML compare report (default reports/compare.html)",
    )
    p.add_argument(
        "--device",
        metavar="PROFILE",
        help="add each model's predicted latency (latency_s) beside its MACs, from a "
        "device profile (see analyze --device)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # pandas (and plotly for --html) load only for this command (start-up time)
    from archcost.report.compare import compare_totals, parse_model_arg

    models = []
    for text in args.specs:
        try:
            path, knobs = parse_model_arg(text)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        models.append(load(path, include_path=args.include_path, **knobs))
    totals = compare_totals(models, batch=args.batch, dtype=args.dtype)
    profile = None
    if args.device:  # predicted latency beside MACs
        profile = load_profile(args.device)
        seconds = [
            network_seconds(estimate(m, profile, batch=args.batch, dtype=args.dtype), profile)
            for m in models
        ]
        totals["latency_s"] = seconds
        totals["latency_s_ratio"] = [
            x / seconds[0] if seconds[0] else float("nan") for x in seconds
        ]
    report = None
    if args.html is not None:
        from archcost.report.html import write_compare_report  # plotly: only for --html

        report = Path(args.html) if args.html else default_report_path("compare")
        html = Output(
            "--html",
            report,
            lambda tmp: write_compare_report(
                models,
                tmp,
                batch=args.batch,
                dtype=args.dtype,
                plotlyjs=args.plotlyjs,
                profile=profile,
            ),
        )
        inputs = [f for m in models for f in m.spec.files]
        write_outputs([html], inputs=[*inputs, *input_files(args.device)])
    show(COMPARE_FORMATS[args.format](totals), width=140)
    if report is not None:
        wrote(report)
    return 0
