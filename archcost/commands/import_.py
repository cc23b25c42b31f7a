"""``archcost import``: write an ONNX model as an equivalent spec (the onnx extra)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from archcost.commands.files import Output, check_outputs, write_output
from archcost.commands.options import Parents, add_command
from archcost.commands.output import text_writer, wrote
from archcost.model import load_onnx

EPILOG = (
    "examples:\n  archcost import resnet18.onnx -o resnet18.yaml\n"
    "  archcost import model.onnx -o model.yaml --input 3x160x160\n"
    "  archcost analyze model.onnx --input 3x224x224   # symbolic input\n"
)


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "import",
        [],
        help="write an ONNX model as an equivalent spec",
        description="Map every node of MODEL.onnx to an archcost layer (names from "
        "the node names, shapes from onnx's shape inference) and write "
        "the spec; it loads back to the same counts. Every command that "
        "takes a SPEC also takes the .onnx file itself. Needs the onnx "
        "extra: pip install 'archcost[onnx]'.",
        epilog=EPILOG,
    )
    p.add_argument("model", help="the .onnx file")
    p.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="where to write the spec (YAML)"
    )
    p.add_argument(
        "--input",
        metavar="[NAME=]CxHxW",
        help="the per-sample input shape, for a symbolic input (or to choose one "
        "of several graph inputs)",
    )
    p.add_argument(
        "--unsupported",
        choices=["error", "zero"],
        default="error",
        help="ops archcost cannot map: refuse the file, listing them all (default), or "
        "count them as 0, as 'unsupported' rows marked in every output",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archcost.onnx.importer import to_yaml  # onnx (optional extra) loads only here

    out = Path(args.output)
    check_outputs([Output("-o", out, text_writer(""))], inputs=[args.model])
    model = load_onnx(args.model, input=args.input, unsupported=args.unsupported)
    text = to_yaml(model.imported.doc)
    write_output(Output("-o", out, text_writer(text)), inputs=[args.model])
    if model.imported.unsupported:
        print(f"archcost: warning: {model.description.split(' — ')[0]}", file=sys.stderr)
    totals = model.totals
    print(
        f"{model.name}: {len(model.layers)} layers, {totals['params']:,} params, "
        f"{totals['macs']:,} MACs"
    )
    wrote(out)
    return 0
