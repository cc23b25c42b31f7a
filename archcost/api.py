"""The Python API behind ``import archcost``: a :class:`Model` that analyses, validates,
explains and rewrites itself, :func:`compare` for several models (a :class:`Comparison`)
and the :class:`WhatIf` result of a rewrite.

It sits above the analysis and report layers (docs/architecture.md): the core
:class:`archcost.model.Model` knows the network and its counts and nothing above it;
this subclass adds the methods that call the backend, the explainer, the rewriter and
the table builder, so the core never imports upwards.

One spelling for one idea on every result object (Model, Comparison, WhatIf):
``totals`` (the counts), ``headline`` (sentences computed from the numbers),
``figures()`` (Plotly figure objects by section), ``html()`` (the page as a string),
``write_html(path)`` (the page as a file) and ``_repr_html_()`` (what a notebook shows);
``yaml`` is spec text (a WhatIf's rewritten spec), and ``text()`` is what the command
line prints (an :class:`~archcost.explain.Explanation`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from archcost import model as core
from archcost.explain import Explanation, explain
from archcost.report import notebook, tables
from archcost.rewrite import Rewrite, rewrite

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from archcost.profiles import Profile
    from archcost.report.compare import Analysis

Knob = int | float | bool | str
"""A knob's value (``width=0.5``, ``resolution=160``, ``use_bias=True``)."""

ModelArg: TypeAlias = "core.Model | str | os.PathLike[str]"
"""A model, or where to load one: a spec file or bundled name, ``@k=v,...`` allowed."""

PLOTLYJS = "inline"


class Model(core.Model):
    """A network built from a spec: ``graph``, ``costs()``, ``totals``, and the methods
    ``analyze()``, ``validate()``, ``explain()``, ``whatif()``, ``figures()``,
    ``html()`` and ``write_html()``."""

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

    def validate(
        self, *, batch: int = 1, seed: int = 0, max_memory: int | None = None
    ) -> pd.DataFrame:
        """Run the network with NumPy (:func:`archcost.backend.validate`) and compare
        shapes and MACs per layer, one row each; ``max_memory`` (bytes) refuses a run
        whose estimated peak is larger."""
        from archcost.backend import validate  # numpy loads only when a network runs

        return validate(self, batch=batch, seed=seed, max_memory=max_memory).frame()

    def explain(self, pattern: str, batch: int = 1, dtype: str = "float32") -> list[Explanation]:
        """Formulas with the numbers in for the layers matching ``pattern`` (a glob);
        ``print(e.text())`` prints one as ``archcost explain`` does."""
        return explain(self, pattern, batch=batch, dtype=dtype)

    def whatif(self, rule: str, only: str | None = None) -> WhatIf:
        """Rewrite matching convs by ``rule`` (``separable``, ``grouped:4``, ...); the result
        has ``.before`` and ``.after`` (Models), ``.changes`` and ``.yaml`` (the rewritten
        spec)."""
        result = rewrite(self, rule, only=only)
        return WhatIf(
            rule=result.rule,
            yaml=result.yaml,
            changes=result.changes,
            before=self,
            after=Model.of(result.after),
        )

    def figures(self, batch: int = 1, dtype: str = "float32") -> dict[str, go.Figure]:
        """The charts of this model's page as Plotly figures, by section (``layers``,
        ``hierarchy``, ``kinds``, ``cumulative``, ``intensity``, ``graph``)."""
        from archcost.report.figure_sets import model_figures  # plotly: only when asked

        return model_figures(self, batch=batch, dtype=dtype)

    def html(
        self,
        batch: int = 1,
        dtype: str = "float32",
        *,
        plotlyjs: str = PLOTLYJS,
        profile: Profile | None = None,
    ) -> str:
        """This model's self-contained HTML page (``archcost analyze --html``)."""
        from archcost.report.html import render_model_report  # plotly: only for a page

        return render_model_report(
            self, batch=batch, dtype=dtype, plotlyjs=plotlyjs, profile=profile
        )

    def write_html(
        self,
        path: str | os.PathLike[str],
        batch: int = 1,
        dtype: str = "float32",
        *,
        plotlyjs: str = PLOTLYJS,
        profile: Profile | None = None,
    ) -> Path:
        """Write :meth:`html` to ``path`` (parent folders created); returns the path."""
        return _write(path, self.html(batch, dtype, plotlyjs=plotlyjs, profile=profile))

    def _repr_html_(self) -> str:
        """Notebooks show the name, input, layer count and totals."""
        return notebook.model_html(self)


class Comparison:
    """Several models side by side at one batch and dtype: what :func:`compare` returns.

    Attributes:
        models: the models (:class:`Model`), the reference first.
        labels: their labels, ``#2``, ``#3`` appended to repeats.
        batch, dtype: what the counts are for.
    """

    def __init__(
        self, models: Iterable[ModelArg], *, batch: int = 1, dtype: str = "float32"
    ) -> None:
        from archcost.report.compare import analyses  # pandas loads only when used

        self._items: list[Analysis] = analyses(models, batch=batch, dtype=dtype)
        self.models: list[Model] = [Model.of(a.model) for a in self._items]
        self.labels: list[str] = [a.label for a in self._items]
        self.batch = batch
        self.dtype = dtype

    @property
    def totals(self) -> pd.DataFrame:
        """One row per model: ``model``, the totals (exact ints) and ``<total>_ratio`` to
        the first model (see :func:`archcost.report.compare.compare_totals`)."""
        from archcost.report.compare import totals_frame  # pandas: only when asked

        return totals_frame(self._items)

    @property
    def layers(self) -> pd.DataFrame:
        """Every model's per-layer rows in one tidy DataFrame, ``model`` first."""
        from archcost.report.compare import tidy  # pandas: only when asked

        return tidy(self._items)

    @property
    def headline(self) -> list[str]:
        """The sentences at the top of the compare page, computed from the numbers: the
        cheapest model per cost, and which layer kinds make each model's MAC gap."""
        from archcost.report.compare import headline  # pandas: only when asked

        return headline(self._items)

    def figures(self) -> dict[str, go.Figure]:
        """The compare page's charts as Plotly figures, by section (``scatter``,
        ``stages``, ``kinds``, ``cumulative``, ``distributions``)."""
        from archcost.report.figure_sets import compare_figures  # plotly: only when asked

        return compare_figures(self._items)

    def html(self, *, plotlyjs: str = PLOTLYJS, profile: Profile | None = None) -> str:
        """The compare page (``archcost compare --html``) as a string."""
        from archcost.report.html import render_compare_report  # plotly: only for a page

        return render_compare_report(
            self.models, batch=self.batch, dtype=self.dtype, plotlyjs=plotlyjs, profile=profile
        )

    def write_html(
        self,
        path: str | os.PathLike[str],
        *,
        plotlyjs: str = PLOTLYJS,
        profile: Profile | None = None,
    ) -> Path:
        """Write :meth:`html` to ``path`` (parent folders created); returns the path."""
        return _write(path, self.html(plotlyjs=plotlyjs, profile=profile))

    def _repr_html_(self) -> str:
        """Notebooks show the headline and the totals with ratios to the first model."""
        return notebook.comparison_html(self.headline, self.totals)

    def __repr__(self) -> str:
        return f"Comparison({', '.join(self.labels)}; batch {self.batch}, {self.dtype})"


class WhatIf(Rewrite):
    """A rewrite's result (see :class:`archcost.rewrite.Rewrite`: ``rule``, ``yaml``,
    ``changes``, ``before``, ``after``) with the headline, figures and the whatif page;
    notebooks show the headline and the rewritten and skipped layers."""

    @property
    def comparison(self) -> Comparison:
        """Before against after."""
        return Comparison([self.before, self.after])

    @property
    def totals(self) -> pd.DataFrame:
        """Before and after, one row each, ratios to before."""
        return self.comparison.totals

    @property
    def headline(self) -> list[str]:
        """The whatif page's headline (before against after)."""
        return self.comparison.headline

    def figures(self) -> dict[str, go.Figure]:
        """The whatif page's charts (before against after), by section."""
        return self.comparison.figures()

    def html(self, *, plotlyjs: str = PLOTLYJS) -> str:
        """The whatif page (``archcost whatif --html``) as a string."""
        from archcost.report.html import render_whatif_report  # plotly: only for a page

        return render_whatif_report(self, plotlyjs=plotlyjs)

    def write_html(self, path: str | os.PathLike[str], *, plotlyjs: str = PLOTLYJS) -> Path:
        """Write :meth:`html` to ``path`` (parent folders created); returns the path."""
        return _write(path, self.html(plotlyjs=plotlyjs))

    def _repr_html_(self) -> str:
        return notebook.whatif_html(self)


def _write(path: str | os.PathLike[str], text: str) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def load(spec: str | Path, *, include_path: Sequence[str | Path] = (), **knobs: Knob) -> Model:
    """Load a spec (a file, a bundled network's name, or an ``.onnx`` file) with ``knobs``
    overriding its params; see :func:`archcost.model.load`.

    >>> load("mobilenet_v2", width=0.5).label
    'MobileNetV2 (width=0.5)'
    """
    return Model.of(core.load(spec, include_path=include_path, **knobs))


def compare(models: Iterable[ModelArg], *, batch: int = 1, dtype: str = "float32") -> Comparison:
    """Several models (Models or ``"spec.yaml@width=0.5"`` strings), the reference first,
    side by side: ``.totals`` (one row per model, ratios to the first), ``.layers`` (every
    layer, a ``model`` column first), ``.headline``, ``.figures()``, ``.html()``.

    >>> c = compare(["mobilenet_v1", "mobilenet_v1@width=0.5"])
    >>> c.totals[["model", "macs"]].values.tolist()
    [['MobileNetV1', 568740352], ['MobileNetV1 (width=0.5)', 149497088]]
    """
    return Comparison(models, batch=batch, dtype=dtype)


def compare_totals(
    models: Iterable[ModelArg], *, batch: int = 1, dtype: str = "float32"
) -> pd.DataFrame:
    """One row of totals per model, with ratios to the first (``compare(...).totals``)."""
    return Comparison(models, batch=batch, dtype=dtype).totals
