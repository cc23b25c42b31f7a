"""The kinds table of ``docs/kinds.md``, rendered from the registry.

``scripts/gen_kinds_doc.py`` writes it; ``tests/test_every_kind.py`` fails when the file
in the repository differs from :func:`render`.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from typing import Any, Literal, Union

from archcost.layers import REGISTRY
from archcost.layers.base import AtLeast, Layer
from archcost.layers.names import ALIASES

HEADER = """\
# Layer kinds

Generated from the registry by `scripts/gen_kinds_doc.py`; do not edit by hand (a test
fails when this file and the code disagree). Each kind is one class in
`archcost/layers/`; its docstring, fields, inputs and report style are listed here.
Counting conventions are in each class's module docstring and in `archcost/costs.py`.

| kind | category | inputs | fields | what it computes | class |
|---|---|---|---|---|---|
"""


def type_text(tp: Any) -> str:
    """A field type as a reader writes it in YAML terms.

    >>> from archcost.layers.base import Padding
    >>> type_text(Padding)
    "int ≥ 0 or 'same' or 'valid' or list of int ≥ 0"
    """
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(tp)
        minimum = next((e.minimum for e in extras if isinstance(e, AtLeast)), None)
        return type_text(base) + (f" ≥ {minimum}" if minimum is not None else "")
    if origin is Literal:
        return " or ".join(repr(v) for v in typing.get_args(tp))
    if origin is tuple:
        return f"list of {type_text(typing.get_args(tp)[0])}"
    if origin in (Union, types.UnionType):
        return " or ".join(type_text(m) for m in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return " or ".join(repr(m.value) for m in tp)
    return getattr(tp, "__name__", str(tp))


def _fields(cls: type[Layer]) -> str:
    hints = typing.get_type_hints(cls, include_extras=True)
    parts = []
    for f in dataclasses.fields(cls):
        text = f"`{f.name}`: {type_text(hints[f.name])}"
        if f.default is not dataclasses.MISSING:
            text += f" = {_yaml(f.default)}"
        parts.append(text)
    return "<br>".join(parts) or "—"


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return repr(value) if isinstance(value, str) else str(value)


def _arity(cls: type[Layer]) -> str:
    fewest, most = cls.arity
    if most is None:
        return f"{fewest}+"
    return str(fewest) if fewest == most else f"{fewest}–{most}"


def render() -> str:
    """The whole of ``docs/kinds.md``."""
    rows = []
    for kind in sorted(REGISTRY):
        cls = REGISTRY[kind]
        doc = " ".join((inspect.getdoc(cls) or "").split("\n\n")[0].split())
        where = f"`{cls.__module__.removeprefix('archcost.')}.{cls.__qualname__}`"
        cells = [
            f"`{kind}`",
            cls.style.category,
            _arity(cls),
            _fields(cls),
            doc.replace("|", "\\|"),
            where,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return HEADER + "\n".join(rows) + "\n" + _aliases()


def _aliases() -> str:
    """The accepted spellings of kinds (:data:`archcost.layers.names.ALIASES`)."""
    lines = ", ".join(f"`{alias}` → `{kind}`" for alias, kind in sorted(ALIASES.items()))
    return (
        "\nAliases (PyTorch's names; a layer written with one is built as its kind): "
        f"{lines}. Other framework names (`ReLU`, `bn`, `fc`, `dense`, `gap`, `Conv2d`, ...) "
        "are errors whose hint names the kind they usually mean.\n"
    )
