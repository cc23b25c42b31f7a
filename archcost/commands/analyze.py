"""``archcost analyze``: the per-layer cost table of one spec, optionally an HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archcost.commands.files import Output, input_files, write_outputs
from archcost.commands.options import SPEC_HELP, Parents, add_command, parse_sets
from archcost.commands.output import default_report_path, show, warn, wrote
from archcost.model import load
from archcost.report import latency, tables
from archcost.roofline import estimate, load_profile

EPILOG = """examples:
  archcost analyze mobilenet_v1
  archcost analyze mobilenet_v1 --set width=0.5 --set resolution=160
  archcost analyze resnet50 --format json > resnet50.json
  archcost analyze shufflenet_v1 --set groups=8 --format markdown
  archcost analyze mobilenet_v2 --html          # reports/MobileNetV2.html
  archcost analyze vgg16 --batch 32 --dtype float16
  archcost analyze shufflenet_v2 --device this-machine   # + estimated time, bound
  archcost analyze mobilenet_v2 --device jetson-nano-fp32 --format csv
  archcost analyze shufflenet_v2 --device reports/this-machine-onnxruntime.yaml
"""


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "analyze",
        [
            parents.knobs,
            parents.includes,
            parents.fmt,
            parents.plotlyjs,
            parents.batch,
            parents.dtype,
        ],
        help="per-layer params, MACs, FLOPs and memory traffic",
        description="Count the cost of every layer of SPEC.",
        epilog=EPILOG,
    )
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument(
        "--html",
        nargs="?",
        const="",
        metavar="PATH",
        help="also write an HTML report (default reports/<name>.html)",
    )
    p.add_argument(
        "--device",
        metavar="PROFILE",
        help="add time estimates (estimated_s = latency_s, bound) for a device profile: "
        "a bundled name (jetson-nano-fp32, ...), this-machine (measured now), "
        "or a profile YAML path (archcost calibrate [--runtime onnxruntime] writes one); "
        "the HTML report gets a roofline chart and time per kind",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    model = load(args.spec, include_path=args.include_path, **parse_sets(args.set))
    costs = model.costs(batch=args.batch, dtype=args.dtype)
    profile = None
    if args.device:  # before anything is written: a bad profile writes nothing
        profile = load_profile(args.device)
    path = None
    if args.html is not None:
        # plotly loads only when a report is written (start-up time)
        from archcost.report.html import write_model_report

        path = Path(args.html) if args.html else default_report_path(model.name)
        report = Output(
            "--html",
            path,
            lambda tmp: write_model_report(
                model,
                tmp,
                batch=args.batch,
                dtype=args.dtype,
                plotlyjs=args.plotlyjs,
                profile=profile,
            ),
        )
        write_outputs([report], inputs=[*model.spec.files, *input_files(args.device)])
    if profile is not None:
        # runtime.predict loads only with --device (start-up time of the plain analyze)
        from archcost.runtime.predict import mismatch_warning

        message = mismatch_warning(profile)
        if message:
            warn(message)
        estimates = estimate(model, profile, batch=args.batch, dtype=args.dtype)
        if args.format == "json":
            show(latency.to_json(model, costs, estimates, profile) + "\n")
        elif args.format == "csv":
            show(latency.to_csv(costs, estimates))
        elif args.format == "markdown":
            show(latency.to_markdown(model, costs, estimates, profile) + "\n")
        else:
            show(latency.to_terminal(model, costs, estimates, profile), width=140)
    elif args.format == "json":
        show(tables.to_json(model, costs) + "\n")
    elif args.format == "csv":
        show(tables.to_csv(costs))
    elif args.format == "markdown":
        show(tables.to_markdown(model, costs) + "\n")
    else:
        show(tables.to_terminal(model, costs))
    if path is not None:
        wrote(path)
    return 0
