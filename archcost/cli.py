"""The ``archcost`` command line: ``main(argv) -> exit code``.

A thin dispatcher: each command lives in its own module of :mod:`archcost.commands`.

Exit codes: 0 success; 1 a validation found a mismatch (or an internal bug); 2 a
mistake in the spec or the command line (one clear line on stderr, no traceback
unless ``--traceback``).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from archcost import __version__
from archcost.commands import COMMANDS
from archcost.commands.options import Parents
from archcost.errors import ArchcostError, SpecError, one_line


class UsageError(ArchcostError):
    """A command-line mistake found by argparse (an unknown option, a bad value...)."""

    def __init__(self, message: str, prog: str):
        super().__init__(message)
        self.prog = prog

    def __str__(self) -> str:
        text = self.args[0].rstrip(".")
        return one_line(f"{text}. Run '{self.prog} --help' for the options and examples.")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (no usage block): see :func:`main`.
    Sub-command parsers are of this class too (argparse makes them like the parent)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def build_parser() -> argparse.ArgumentParser:
    """The ``archcost`` parser with every command's sub-parser."""
    parser = _Parser(
        prog="archcost",
        description="What a convolutional network costs, layer by layer, and why.",
        epilog="Run 'archcost COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--traceback", action="store_true", help="show the Python stack on errors")
    parser.add_argument("--version", action="version", version=f"archcost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = Parents.build()
    for command in COMMANDS:
        command.register(sub, parents)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"archcost: error: {exc}", file=sys.stderr)
        return 2
    try:
        code: int = args.run(args)
        return code
    except ArchcostError as exc:
        if args.traceback:
            raise
        # A SpecError is one escaped line already; SpecErrors is one such line per mistake.
        text = str(exc) if isinstance(exc, SpecError) else one_line(str(exc))
        print(f"archcost: error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("archcost: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so, briefly
        if args.traceback:
            raise
        print(
            f"archcost: internal error: {type(exc).__name__}: {one_line(str(exc)[:500])} "
            "(run with --traceback and report it)",
            file=sys.stderr,
        )
        return 1
