"""The one exception family of archcost.

User mistakes raise :class:`SpecError`, which knows where it happened (file, line,
layer) and how to fix it. Layer code raises the bare fact as :class:`ShapeError` or
:class:`FieldError`; the graph builder adds the file, line and layer name once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ArchcostError(Exception):
    """Base of every error archcost raises on purpose."""


class SpecError(ArchcostError):
    """A mistake in a spec or on the command line, reported without a traceback.

    Args:
        message: what was expected and what was found, in full sentences.
        file: the spec file, when known.
        line: the 1-based line in ``file``, when known.
        layer: the full layer name, when the error belongs to a layer.
        kind: the layer kind, shown beside the name.
        hint: how to fix it; printed on its own indented line.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 layer: str | None = None, kind: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.layer = layer
        self.kind = kind
        self.hint = hint

    def located(self, *, file: str | None = None, line: int | None = None,
                layer: str | None = None, kind: str | None = None) -> "SpecError":
        """Fill in whatever location this error does not know yet; returns self."""
        self.file = self.file or file
        self.line = self.line or line
        self.layer = self.layer or layer
        self.kind = self.kind or kind
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        if self.layer:
            where += f"layer '{self.layer}'" + (f" ({self.kind})" if self.kind else "") + ": "
        text = where + self.message
        if self.hint:
            text += "\n  " + self.hint
        return text


class FieldError(SpecError):
    """A layer field has a wrong value (raised by layer code, located by the builder)."""


class ShapeError(SpecError):
    """A layer cannot take the shapes it is given (raised by layer code)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing them all.

    >>> did_you_mean("reul", ["relu", "relu6", "tanh"])
    "Did you mean 'relu'?"
    """
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"Did you mean '{close[0]}'?"
    if not choices:
        return ""
    shown = ", ".join(choices[:25]) + (", ..." if len(choices) > 25 else "")
    return f"Valid choices: {shown}."
