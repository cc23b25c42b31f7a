"""``archcost export``: write a spec as an ONNX model that runs in onnxruntime (the onnx extra)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archcost.commands.files import Output, check_outputs, write_output
from archcost.commands.options import SPEC_HELP, Parents, add_command, parse_sets, positive_int
from archcost.commands.output import wrote
from archcost.model import load

EPILOG = (
    "examples:\n  archcost export mobilenet_v2 -o mobilenet_v2.onnx\n"
    "  archcost export shufflenet_v1 --set groups=8 -o sn.onnx --opset 13\n"
)


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "export",
        [parents.knobs, parents.includes],
        help="write a spec as an ONNX model (runs in onnxruntime)",
        description="Write SPEC as an ONNX model: one node (or the standard "
        "decomposition) per layer, named /<layer>/<Op>, with the weights "
        "'archcost validate' draws (same --seed, same numbers). It passes "
        "onnx's checker with full shape inference and runs in "
        "onnxruntime. Needs the onnx extra: pip install 'archcost[onnx]'.",
        epilog=EPILOG,
    )
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="where to write the model (.onnx)"
    )
    p.add_argument(
        "--opset",
        type=positive_int,
        default=17,
        help="the ONNX opset (default 17; 13 .. the installed onnx's newest)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="the weights' seed, as for validate (default 0)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archcost.onnx.exporter import export  # onnx (optional extra) loads only here

    out = Output(
        "-o", Path(args.output), lambda tmp: export(model, tmp, opset=args.opset, seed=args.seed)
    )
    check_outputs([out], inputs=[args.spec])  # before the model is built
    model = load(args.spec, include_path=args.include_path, **parse_sets(args.set))
    write_output(out, inputs=model.spec.files)
    print(f"{model.label}: {len(model.layers)} layers, opset {args.opset}, seed {args.seed}")
    wrote(out.path)
    return 0
