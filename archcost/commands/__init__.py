"""The command line's commands, one module each; the only layer that prints, parses
command-line values or writes files other than reports.

Each module defines ``register(subparsers, parents)``, which adds its sub-command and
sets ``run(args) -> exit code`` as the parser default; :mod:`archcost.cli` dispatches.
Heavy packages (numpy, pandas, plotly, rich) load inside ``run`` only for the commands
that need them, so ``archcost analyze X --format json`` starts fast.
"""

from __future__ import annotations

from archcost.commands import (
    analyze,
    bench,
    calibrate,
    compare,
    explain,
    export,
    import_,
    sweep,
    validate,
    whatif,
    zoo,
)

COMMANDS = (
    analyze,
    compare,
    sweep,
    explain,
    whatif,
    validate,
    calibrate,
    bench,
    import_,
    export,
    zoo,
)
"""In the order ``archcost --help`` lists them."""
