"""archcost: what a convolutional network costs, layer by layer, and why.

>>> import archcost
>>> m = archcost.load("mobilenet_v1", width=0.5)   # a bundled network, or a spec file
>>> m.totals["macs"]
149497088
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archcost.api import Comparison, Model, WhatIf, compare, compare_totals, load
from archcost.errors import ArchcostError, SpecError

if TYPE_CHECKING:
    from archcost.sweeping import sweep

__all__ = [
    "ArchcostError",
    "Comparison",
    "Model",
    "SpecError",
    "WhatIf",
    "compare",
    "compare_totals",
    "load",
    "sweep",
    "write_compare_report",
    "write_model_report",
    "write_whatif_report",
]
_WRITERS = ("write_model_report", "write_compare_report", "write_whatif_report")
__version__ = "0.1.0"
"""The release (CHANGELOG.md); pyproject.toml reads it from here."""


def __getattr__(name: str) -> object:
    """The HTML writers, ``archcost.write_model_report`` and friends, from
    :mod:`archcost.report.html`; ``archcost.sweep``, from :mod:`archcost.sweeping`
    (both loaded on first use: ``import archcost`` stays light)."""
    if name == "sweep":
        from archcost.sweeping import sweep  # on first use: `import archcost` stays light

        return sweep
    if name in _WRITERS:
        from archcost.report import html  # plotly loads only when a page is written

        return getattr(html, name)
    raise AttributeError(f"module 'archcost' has no attribute {name!r}")
