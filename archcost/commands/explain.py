"""``archcost explain``: every count of the matching layers as its formula with the numbers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from archcost.commands.options import SPEC_HELP, Parents, add_command, parse_sets
from archcost.explain import explain, render
from archcost.model import load

EPILOG = (
    "examples:\n  archcost explain examples/standard_vs_separable "
    "separable\n  archcost explain mobilenet_v1 'dw_separable2.*'\n"
)


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "explain",
        [parents.knobs, parents.includes, parents.batch, parents.dtype],
        help="every count of a layer as its formula with the numbers",
        description="Explain the layers of SPEC whose name matches LAYER (a name or "
        "a glob such as 'stage2.*'): fields, shapes, output-size "
        "arithmetic, and each count's formula with the numbers in.",
        epilog=EPILOG,
    )
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument("layer", help="a layer name or glob")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    model = load(args.spec, include_path=args.include_path, **parse_sets(args.set))
    sys.stdout.write(render(explain(model, args.layer, batch=args.batch, dtype=args.dtype)))
    return 0
