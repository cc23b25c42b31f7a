"""The one exception family of archcost.

User mistakes raise :class:`SpecError`, which knows where it happened (file, line,
layer) and how to fix it. Layer code raises the bare fact as :class:`ShapeError` or
:class:`FieldError`; the graph builder adds the file, line and layer name once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

MAX_SHOWN_CHARS = 80  # a quoted user string is cut after this many characters
MAX_SHOWN_ITEMS = 8  # a longer list or mapping is summarised by its length
MAX_MESSAGE_CHARS = 2000  # the last guard on a message's length
MAX_FILE_CHARS = 300  # a longer file name is cut in the "file:line:" prefix
MAX_SHOWN_INT_BITS = 256  # larger integers are summarised by their digit count

# C0/C1 controls and Unicode line/paragraph separators: anything that could break the
# one-line error or drive the terminal (ESC sequences).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        layer: str | None = None,
        kind: str | None = None,
        hint: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.layer = layer
        self.kind = kind
        self.hint = hint

    def located(
        self,
        *,
        file: str | None = None,
        line: int | None = None,
        layer: str | None = None,
        kind: str | None = None,
    ) -> SpecError:
        """Fill in whatever location this error does not know yet; returns self."""
        self.file = self.file or file
        self.line = self.line or line
        self.layer = self.layer or layer
        self.kind = self.kind or kind
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            file = (
                self.file
                if len(self.file) <= MAX_FILE_CHARS
                else self.file[:MAX_FILE_CHARS] + "..."
            )
            where = f"{file}:{self.line}: " if self.line else f"{file}: "
        if self.layer:
            where += f"layer {quoted(self.layer)}" + (f" ({self.kind})" if self.kind else "") + ": "
        message = self.message
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS] + f"... ({len(message):,} characters)"
        text = where + message
        if self.hint:
            text += " " + self.hint
        return one_line(text)


class SpecErrors(SpecError):
    """Several independent mistakes in one spec, reported together (in spec order).

    Printed as one ``archcost: error:`` line per mistake, exactly as each would be
    printed alone; the first is also this error's own location.
    """

    def __init__(self, errors: list[SpecError], *, stopped: bool = False):
        super().__init__(
            errors[0].message,
            file=errors[0].file,
            line=errors[0].line,
            layer=errors[0].layer,
            kind=errors[0].kind,
            hint=errors[0].hint,
        )
        self.errors = errors
        self.stopped = stopped

    def __str__(self) -> str:
        text = "\narchcost: error: ".join(str(e) for e in self.errors)
        if self.stopped:
            text += (
                f"\narchcost: error: stopped after {len(self.errors)} errors; fix these "
                "and run again."
            )
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
    if len(word) > MAX_SHOWN_CHARS:  # difflib is quadratic; a long word is no typo
        close = []
    else:
        close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"Did you mean {quoted(close[0])}?"
    if not choices:
        return ""
    listed = ", ".join(choices[:25]) + (", ..." if len(choices) > 25 else "")
    return f"Valid choices: {listed}."


def one_line(text: str) -> str:
    r"""Escape control characters (newlines, ESC, ...) so ``text`` stays one plain line.

    >>> print(one_line("a\nb\x1b[31m"))
    a\nb\x1b[31m
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def quoted(text: object) -> str:
    r"""A user-supplied string as messages quote it: escaped, cut after 80 characters.

    >>> print(quoted("conv1"), quoted("a\nb"), quoted("x" * 100)[-6:])
    'conv1' 'a\nb' xx...'
    """
    text = str(text)
    if len(text) > MAX_SHOWN_CHARS:
        return f"'{one_line(text[:MAX_SHOWN_CHARS])}...'"
    return f"'{one_line(text)}'"


def shown(value: Any, *, _depth: int = 0) -> str:
    r"""A value as messages show it: short values in full, long ones summarised.

    Strings are quoted and escaped (:func:`quoted`); lists and mappings of more than
    8 items, or nested deeper than two levels, become "a list of N items"; integers
    beyond 2**256 become "an integer of N digits".

    >>> print(shown([3, 224, 224]), shown(list(range(100000))), shown("a\nb"), sep="; ")
    [3, 224, 224]; a list of 100,000 items; 'a\nb'
    """
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > MAX_SHOWN_INT_BITS:
            digits = int(value.bit_length() * 0.30103) + 1
            return f"an integer of about {digits:,} digits"
        return repr(value)
    if isinstance(value, list | tuple):
        if len(value) > MAX_SHOWN_ITEMS or _depth >= 2:
            return f"a list of {len(value):,} item{'s' if len(value) != 1 else ''}"
        text = "[" + ", ".join(shown(v, _depth=_depth + 1) for v in value) + "]"
        return text if len(text) <= 2 * MAX_SHOWN_CHARS else f"a list of {len(value):,} items"
    if isinstance(value, dict):
        if len(value) > MAX_SHOWN_ITEMS or _depth >= 2:
            return f"a mapping of {len(value):,} key{'s' if len(value) != 1 else ''}"
        text = (
            "{"
            + ", ".join(
                f"{shown(k, _depth=_depth + 1)}: {shown(v, _depth=_depth + 1)}"
                for k, v in value.items()
            )
            + "}"
        )
        return text if len(text) <= 2 * MAX_SHOWN_CHARS else f"a mapping of {len(value):,} keys"
    return f"a {type(value).__name__}"


def kind_of(value: Any) -> str:
    """What a value is, never what it holds (for messages about whole files).

    >>> kind_of("root:x:0:0"), kind_of([1, 2]), kind_of(None)
    ('a string', 'a list', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
