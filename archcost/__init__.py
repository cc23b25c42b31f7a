"""archcost: what a convolutional network costs, layer by layer, and why.

>>> import archcost
>>> m = archcost.load("mobilenet_v1", width=0.5)   # a bundled network, or a spec file
>>> m.totals["macs"]
149497088
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archcost.errors import ArchcostError, SpecError
from archcost.model import Model, load

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ArchcostError", "Model", "SpecError", "compare", "load"]
__version__ = "0.1.0"
"""The release (CHANGELOG.md); pyproject.toml reads it from here."""


def compare(specs: list[Any], *, batch: int = 1, dtype: str = "float32") -> pd.DataFrame:
    """Tidy per-layer DataFrame of several models (``"spec.yaml@width=0.5"`` or Models),
    with a ``model`` column."""
    from archcost.report.compare import compare as _compare
    from archcost.report.compare import parse_model_arg

    models = []
    for spec in specs:
        if isinstance(spec, Model):
            models.append(spec)
        else:
            path, knobs = parse_model_arg(str(spec))
            models.append(load(path, **knobs))
    return _compare(models, batch=batch, dtype=dtype)
