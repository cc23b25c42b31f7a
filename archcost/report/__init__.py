"""Reports: the only place that formats numbers for people.

The Plotly/pandas modules load lazily, so ``import archcost`` stays light:
``archcost.report.write_model_report`` imports :mod:`archcost.report.html` on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "write_model_report": "archcost.report.html",
    "write_compare_report": "archcost.report.html",
    "compare": "archcost.report.compare",
    "compare_totals": "archcost.report.compare",
    "parse_model_arg": "archcost.report.compare",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'archcost.report' has no attribute {name!r}")
