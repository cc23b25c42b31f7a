"""``archcost zoo [NAME]``: the bundled networks, or one of them's sources and path."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from archcost import zoo
from archcost.commands.options import Parents, add_command
from archcost.model import load
from archcost.spec import load_spec

EPILOG = "examples:\n  archcost zoo\n  archcost zoo mobilenet_v2\n  archcost zoo --format json\n"


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "zoo",
        [],
        help="the bundled networks: knobs, params, MACs, sources",
        description="List the networks that ship with archcost (give one by name wherever "
        "a SPEC is accepted) with their knobs and the values the sources tabulate, "
        "default params and MACs, and what each reproduces; with NAME, print that "
        "spec's header (sources, corrections) and its path.",
        epilog=EPILOG,
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="a bundled network")
    p.add_argument(
        "--format", default="table", choices=["table", "json"], help="output format (default: text)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.name:
        show(args.name)
        return 0
    entries = [entry(name) for name in zoo.names()]
    if args.format == "json":
        print(json.dumps(entries, indent=1))
        return 0
    width = max(len(e["name"]) for e in entries)
    for e in entries:
        print(f"{e['name']:<{width}}  {e['params']:>13,} params  {e['macs']:>17,} MACs")
        print(f"{'':<{width}}  {e['description']}")
        if e["knobs"]:
            print(f"{'':<{width}}  knobs: {knobs_text(e['knobs'], e['ranges'])}")
    print("\nknobs: default [the values the sources tabulate]; set one with --set k=v or NAME@k=v.")
    print(
        "Params and MACs at the defaults, batch 1. Give a name wherever a SPEC goes "
        "(archcost analyze mobilenet_v2, compare mobilenet_v1 shufflenet_v2@width=0.5); "
        "'archcost zoo NAME' prints its sources and path. Worked examples: "
        f"{', '.join(zoo.examples())}."
    )
    return 0


def entry(name: str) -> dict[str, Any]:
    """One bundled network's row: description, knobs, ranges, default totals, path."""
    path = zoo.find(name)
    model = load(path)
    return {
        "name": name,
        "description": model.description,
        "knobs": dict(model.spec.params),
        "ranges": model.spec.ranges,
        "params": model.totals["params"],
        "macs": model.totals["macs"],
        "path": str(path),
    }


def show(name: str) -> None:
    """The header comment of the bundled spec ``name``, its knobs and where it lives."""
    path = zoo.find(name)
    spec = load_spec(path)
    print(zoo.header(path) or spec.description)
    print(f"\nknobs: {knobs_text(spec.params, spec.ranges) or 'none'}")
    print(f"path:  {path}")
    included = sorted({b.file for b in spec.blocks.values()} - {spec.file})
    if included:
        rel = ", ".join(Path(f).relative_to(path.parent).as_posix() for f in included)
        print(f"It includes {rel}: copy the directory (cp -r {path.parent} my_specs) to edit it.")
    else:
        print(f"To edit it: cp {path} my_net.yaml && archcost analyze my_net.yaml")


def knobs_text(params: dict[str, Any], ranges: dict[str, Any]) -> str:
    """Each knob's default and, in brackets, the values its sources tabulate.

    >>> knobs_text({"width": 1.0, "resolution": 224}, {"width": [0.5, 1.0]})
    'width 1.0 [0.5, 1.0]; resolution 224'
    """

    def shown(values: Any) -> str:
        return ", ".join(map(str, values)) if isinstance(values, list) else str(values)

    return "; ".join(
        f"{k} {v}" + (f" [{shown(ranges[k])}]" if k in ranges else "") for k, v in params.items()
    )
