"""The Python API behind ``import archcost``: a :class:`Model` that analyses, validates,
explains and rewrites itself, and :func:`compare` for several models.

It sits above the analysis and report layers (docs/architecture.md): the core
:class:`archcost.model.Model` knows the network and its counts and nothing above it;
this subclass adds the methods that call the backend, the explainer, the rewriter and
the table builder, so the core never imports upwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archcost import model as core
from archcost.explain import Explanation, explain
from archcost.report import notebook, tables
from archcost.rewrite import Rewrite, rewrite

if TYPE_CHECKING:
    import pandas as pd


class Model(core.Model):
    """A network built from a spec: ``graph``, ``costs()``, ``totals``, and the methods
    ``analyze()``, ``validate()``, ``explain()`` and ``whatif()``."""

    @classmethod
    def of(cls, model: core.Model) -> Model:
        """The same network (shared, not rebuilt) with this class's methods."""
        if isinstance(model, cls):
            return model
        public = cls.__new__(cls)
        public.__dict__.update(model.__dict__)
        return public

    def analyze(self, batch: int = 1, dtype: str = "float32") -> pd.DataFrame:
        """One row per layer (columns :data:`archcost.costs.COLUMNS`, counts as int64)."""
        return tables.frame(self.costs(batch, dtype))

    def validate(self, **kwargs: Any) -> pd.DataFrame:
        """Run the network with NumPy and compare shapes and MACs per layer; the keyword
        arguments are :func:`archcost.backend.validate`'s."""
        from archcost.backend import validate  # numpy loads only when a network runs

        return validate(self, **kwargs).frame()

    def explain(self, pattern: str, batch: int = 1, dtype: str = "float32") -> list[Explanation]:
        """Formulas with the numbers in for the layers matching ``pattern`` (a glob);
        ``str(e.text())`` prints one as ``archcost explain`` does."""
        return explain(self, pattern, batch=batch, dtype=dtype)

    def whatif(self, rule: str, only: str | None = None) -> WhatIf:
        """Rewrite matching convs by ``rule`` (``separable``, ``grouped:4``, ...); the result
        has ``.before`` and ``.after`` (Models), ``.changes`` and ``.text`` (the YAML)."""
        result = rewrite(self, rule, only=only)
        return WhatIf(
            rule=result.rule,
            text=result.text,
            changes=result.changes,
            before=self,
            after=Model.of(result.after),
        )

    def _repr_html_(self) -> str:
        """Notebooks show the name, input, layer count and totals."""
        return notebook.model_html(self)


class WhatIf(Rewrite):
    """A rewrite's result (see :class:`archcost.rewrite.Rewrite`) that notebooks show as
    the headline and the rewritten and skipped layers."""

    def _repr_html_(self) -> str:
        return notebook.whatif_html(self)


def load(spec: str | Path, *, include_path: Sequence[str | Path] = (), **knobs: Any) -> Model:
    """Load a spec (a file, a bundled network's name, or an ``.onnx`` file) with ``knobs``
    overriding its params; see :func:`archcost.model.load`.

    >>> load("mobilenet_v2", width=0.5).label
    'MobileNetV2 (width=0.5)'
    """
    return Model.of(core.load(spec, include_path=include_path, **knobs))


def compare(models: Iterable[Any], *, batch: int = 1, dtype: str = "float32") -> pd.DataFrame:
    """Per-layer rows of several models (Models or ``"spec.yaml@width=0.5"`` strings) in
    one tidy DataFrame with a ``model`` column; see :func:`archcost.report.compare.compare`."""
    from archcost.report import compare as comparison  # pandas loads only when used

    return comparison.compare(models, batch=batch, dtype=dtype)


def compare_totals(
    models: Iterable[Any], *, batch: int = 1, dtype: str = "float32"
) -> pd.DataFrame:
    """One row of totals per model, with ratios to the first; see
    :func:`archcost.report.compare.compare_totals`."""
    from archcost.report import compare as comparison  # pandas loads only when used

    return comparison.compare_totals(models, batch=batch, dtype=dtype)
