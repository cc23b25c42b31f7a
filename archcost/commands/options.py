"""Options shared by several commands, and the parsers of command-line values.

Each shared option is an argparse *parent* parser, defined once here and listed by the
commands that take it (:class:`Parents`). The value parsers turn command-line text into
typed values and raise :class:`~archcost.errors.SpecError` (one clear line, exit 2) or
``argparse.ArgumentTypeError`` on bad input.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archcost.costs import DTYPE_BYTES
from archcost.errors import SpecError
from archcost.expressions import parse_knob

SPEC_HELP = "a spec file, or the name of a bundled network (see 'archcost zoo')"
"""The help of every SPEC argument: a file wins over a bundled network of that name."""


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` items -> knob overrides, typed (an empty value is refused) by
    :func:`~archcost.expressions.parse_knob`.

    >>> parse_sets(["width=0.5", "resolution=160"])
    {'width': 0.5, 'resolution': 160}
    """
    knobs: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--set expects KEY=VALUE, got '{item}'.", hint="e.g. --set width=0.5")
        knobs[key.strip()] = parse_knob("--set", key.strip(), value, hint="e.g. --set width=0.5")
    return knobs


def positive_int(text: str) -> int:
    """An argparse ``type=`` for counts: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def parse_size(text: str) -> int:
    """``2G``, ``512M``, ``1.5GB``, ``100k`` or plain bytes -> bytes (powers of 1024).

    >>> parse_size("512M"), parse_size("2G"), parse_size("1000")
    (536870912, 2147483648, 1000)
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match:
        raise SpecError(f"--max-memory expects a size like 512M or 2G, got '{text}'.")
    scale = 1024 ** " kmgt".index(match.group(2) or " ")
    return int(float(match.group(1)) * scale)


class HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions to the terminal; keeps the examples epilog's lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _parent(*adders: Callable[[argparse.ArgumentParser], Any]) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    for add in adders:
        add(parent)
    return parent


@dataclass(frozen=True)
class Parents:
    """The shared options, one parent parser each; a command lists those it takes."""

    hidden: argparse.ArgumentParser
    knobs: argparse.ArgumentParser
    batch: argparse.ArgumentParser
    dtype: argparse.ArgumentParser
    fmt: argparse.ArgumentParser
    plotlyjs: argparse.ArgumentParser
    seeded: argparse.ArgumentParser
    includes: argparse.ArgumentParser

    @classmethod
    def build(cls) -> Parents:
        return cls(
            # --traceback is accepted after the command too, without showing in its help.
            hidden=_parent(
                lambda p: p.add_argument(
                    "--traceback",
                    action="store_true",
                    default=argparse.SUPPRESS,
                    help=argparse.SUPPRESS,
                )
            ),
            knobs=_parent(
                lambda p: p.add_argument(
                    "--set",
                    action="append",
                    metavar="KEY=VALUE",
                    help="override a param, e.g. --set width=0.75 (repeatable)",
                ),
                # For an .onnx SPEC: shorthands of --set input=... and --set unsupported=...
                lambda p: p.add_argument(
                    "--input",
                    dest="set",
                    action="append",
                    type=lambda v: f"input={v}",
                    metavar="[NAME=]CxHxW",
                    help="an .onnx model's per-sample input shape (for a symbolic input, or "
                    "to pick one of several)",
                ),
                lambda p: p.add_argument(
                    "--unsupported",
                    dest="set",
                    action="append",
                    type=lambda v: f"unsupported={v}",
                    metavar="error|zero",
                    help="an .onnx model's ops archcost cannot map: refuse (default) or "
                    "count them as 0, marked as 'unsupported' rows",
                ),
            ),
            batch=_parent(
                lambda p: p.add_argument(
                    "--batch", type=positive_int, default=1, help="samples per pass (default 1)"
                )
            ),
            dtype=_parent(
                lambda p: p.add_argument(
                    "--dtype",
                    default="float32",
                    choices=list(DTYPE_BYTES),
                    help="element type for byte counts (default float32)",
                )
            ),
            fmt=_parent(
                lambda p: p.add_argument(
                    "--format",
                    default="table",
                    choices=["table", "json", "csv", "markdown"],
                    help="output format (default: a terminal table)",
                )
            ),
            plotlyjs=_parent(
                lambda p: p.add_argument(
                    "--plotlyjs",
                    default="inline",
                    choices=["inline", "cdn"],
                    help="inline Plotly's JavaScript (works offline; default) "
                    "or load it from a CDN",
                )
            ),
            seeded=_parent(
                lambda p: p.add_argument(
                    "--seed", type=int, default=0, help="random seed (default 0)"
                ),
                lambda p: p.add_argument(
                    "--max-memory",
                    metavar="SIZE",
                    help="refuse runs whose estimated peak exceeds SIZE (e.g. 2G, 512M); "
                    "default: half of the available memory",
                ),
            ),
            includes=_parent(
                lambda p: p.add_argument(
                    "--include-path",
                    action="append",
                    metavar="DIR",
                    default=[],
                    help="also let the spec 'include' files under DIR (repeatable); by default "
                    "only files in the spec's own directory tree and the bundled specs",
                )
            ),
        )


Subparsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(
    sub: Any, parents: Parents, name: str, takes: list[argparse.ArgumentParser], **kwargs: Any
) -> argparse.ArgumentParser:
    """Add the sub-command ``name`` with the shared options it ``takes``."""
    return sub.add_parser(
        name, parents=[parents.hidden, *takes], formatter_class=HelpFormatter, **kwargs
    )
