"""archcost: what a convolutional network costs, layer by layer, and why.

>>> import archcost
>>> m = archcost.load("mobilenet_v1", width=0.5)   # a bundled network, or a spec file
>>> m.totals["macs"]
149497088
"""

from __future__ import annotations

from archcost.api import Model, compare, compare_totals, load
from archcost.errors import ArchcostError, SpecError

__all__ = ["ArchcostError", "Model", "SpecError", "compare", "compare_totals", "load"]
__version__ = "0.1.0"
"""The release (CHANGELOG.md); pyproject.toml reads it from here."""
