"""The safe ``${...}`` expression language.

Expressions are parsed by :func:`ast.parse` (which only parses, never runs) and then
turned, once per expression text, into nested Python closures by a small compiler
that accepts a whitelist of node types: numbers, bools,
names, arithmetic, comparisons, ``and``/``or``/``not``, conditional expressions and a
handful of functions, and string constants (``'hswish' if hs else 'relu'``; strings
may be compared and chosen between, never computed with). Anything else (attributes,
subscripts, lambdas, comprehensions, keyword arguments) is refused. Nothing is ever
handed to Python's ``eval``.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from archcost.errors import SpecError, did_you_mean, shown

Number = int | float | bool

MAX_EXPRESSION_LENGTH = 500
MAX_INT_BITS = 256  # a spec has no business with numbers above 2**256
MAX_EXPONENT = 256

_TEMPLATE = re.compile(r"\$\{(.*?)\}")


_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?")


def parse_value(text: str) -> int | float | bool | str:
    """A knob value written as text (``--set k=v``, ``spec.yaml@k=v``), typed: an
    integer, a finite decimal number, ``true``/``false`` (any case), else the text.

    Only plain decimal notation counts as a number, so ``nan``, ``inf`` and ``1_000``
    stay text, and a numeric param then refuses them with a clear message.

    >>> parse_value("160"), parse_value("0.5"), parse_value("1e-3"), parse_value("True")
    (160, 0.5, 0.001, True)
    >>> parse_value("nan"), parse_value("inf"), parse_value(" relu6 ")
    ('nan', 'inf', 'relu6')
    """
    text = text.strip()
    if len(text) > 300:  # no number: int() refuses 4,300+ digits, and specs cap at 2**256
        return text
    if _INT_TEXT.fullmatch(text):
        return int(text)
    if _FLOAT_TEXT.fullmatch(text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_knob(where: str, key: str, text: str, *, hint: str = "") -> int | float | bool | str:
    """A knob override's value (``--set key=text``, ``spec.yaml@key=text``) typed by
    :func:`parse_value`; an empty value is refused, one line naming the knob.

    >>> parse_knob("--set", "width", "0.5")
    0.5
    >>> parse_knob("--set", "width", " ")
    Traceback (most recent call last):
    archcost.errors.SpecError: --set: knob 'width' has an empty value.
    """
    if not text.strip():
        raise SpecError(f"{where}: knob {key!r} has an empty value.", hint=hint)
    return parse_value(text)


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to a multiple of ``divisor``, never more than 10% down.

    torchvision's ``_make_divisible`` (MobileNet V2/V3), used for width multipliers.

    >>> make_divisible(32 * 0.75)
    24
    >>> make_divisible(16 * 0.35)
    8
    >>> make_divisible(1280 * 1.4)
    1792
    """
    if divisor <= 0:
        raise ValueError(f"make_divisible: divisor must be positive, got {divisor}")
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return int(new_value)


def _to_int(value: Number) -> int:
    return int(value)


FUNCTIONS: dict[str, Callable[..., Number]] = {
    "int": _to_int,
    "round": round,
    "min": min,
    "max": max,
    "abs": abs,
    "ceil": math.ceil,
    "floor": math.floor,
    "make_divisible": make_divisible,
}

CONSTANTS: dict[str, bool] = {"true": True, "false": False}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class ExpressionError(SpecError):
    """An expression is malformed, unsafe, or names something unknown."""


@lru_cache(maxsize=4096)
def _parse(source: str) -> ast.Expression:
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"expression is {len(source)} characters long; the limit is {MAX_EXPRESSION_LENGTH}."
        )
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            f"cannot parse expression '${{{source}}}': {exc.msg}.",
            hint="Expressions use numbers, names, + - * / // % **, "
            "comparisons, and/or/not, 'x if c else y' and "
            "int round min max ceil floor make_divisible.",
        ) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"expression '${{{source[:40]}...}}' is nested too deeply.") from None
    return tree


def evaluate(source: str, names: Mapping[str, Any]) -> Number:
    """Evaluate the expression ``source`` (the text inside ``${...}``).

    Args:
        source: the expression text.
        names: the variables in scope (params, block args, ``in_channels``, ...).
            A value may be a zero-argument callable, evaluated only when used.

    Returns:
        An int, float or bool.

    Raises:
        ExpressionError: on a syntax error, a construct outside the whitelist, an
            unknown name (with a did-you-mean), or an arithmetic error.

    >>> evaluate("make_divisible(32 * width, 8)", {"width": 0.75})
    24
    >>> evaluate("2 if stride == 1 and c > 3 else 1", {"stride": 1, "c": 4})
    2
    """
    return _compiled(source)(names)


def render(value: Any, names: Mapping[str, Any]) -> Any:
    """Replace ``${...}`` in a spec value by its value.

    A string that is exactly one ``${...}`` becomes the expression's value (a number,
    bool or string); a string with text around ``${...}`` stays a string with the values
    interpolated; every other value is returned unchanged. Lists are rendered item
    by item.

    >>> render("${64 * width}", {"width": 0.5})
    32.0
    >>> render("stage${i}", {"i": 2})
    'stage2'
    >>> render("${'hswish' if hs else 'relu'}", {"hs": False})
    'relu'
    """
    if isinstance(value, str) and "${" in value:
        whole, parts = _template(value)
        if whole is not None:
            return evaluate(whole, names)
        # parts alternate text and expression sources: text, source, text, ...
        return "".join(
            part if i % 2 == 0 else _format(evaluate(part, names)) for i, part in enumerate(parts)
        )
    if isinstance(value, list):
        return [render(v, names) for v in value]
    return value


@lru_cache(maxsize=8192)
def _template(text: str) -> tuple[str | None, tuple[str, ...]]:
    """``text`` split once: ``(source, ())`` when it is exactly one ``${source}``,
    else ``(None, parts)`` with the text between expressions at even positions and
    the expression sources at odd ones."""
    whole = _TEMPLATE.fullmatch(text.strip())
    if whole:
        return whole.group(1), ()
    return None, tuple(_TEMPLATE.split(text))


def names_used(value: Any) -> set[str]:
    """The variable names that ``value``'s expressions mention."""
    found: set[str] = set()
    if isinstance(value, str):
        for match in _TEMPLATE.finditer(value):
            for node in ast.walk(_parse(match.group(1))):
                if isinstance(node, ast.Name):
                    found.add(node.id)
    elif isinstance(value, list):
        for item in value:
            found |= names_used(item)
    return found


def _format(value: Number) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


Compiled = Callable[[Mapping[str, Any]], Any]


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Compiled:
    """``source`` parsed once and turned into nested closures, one per AST node: the
    same whitelist, checks and messages as a tree walk, without re-dispatching on node
    types at every evaluation (a sweep evaluates the same few hundred expressions
    thousands of times). A refused construct compiles to a closure that raises when
    it is reached, so ``x if c else foo.bar`` fails only where the walk would."""
    tree = _parse(source)
    try:
        return _Compiler(source).compile(tree.body)
    except RecursionError:
        raise ExpressionError(f"expression '${{{source[:40]}...}}' is nested too deeply.") from None


class _Compiler:
    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str, hint: str | None = None) -> ExpressionError:
        return ExpressionError(f"in '${{{self.source}}}': {message}", hint=hint)

    def refuse(self, message: str, hint: str | None = None) -> Compiled:
        def refused(names: Mapping[str, Any]) -> Any:
            raise self.fail(message, hint)

        return refused

    def compile(self, node: ast.AST) -> Compiled:
        method = getattr(self, "compile_" + type(node).__name__, None)
        if method is None:
            return self.refuse(
                f"'{type(node).__name__}' is not allowed in an expression.",
                hint="Only numbers, names, arithmetic, comparisons, and/or/not, "
                "'x if c else y' and whitelisted functions are allowed.",
            )
        compiled: Compiled = method(node)
        return compiled

    def compile_Constant(self, node: ast.Constant) -> Compiled:
        value = node.value
        if isinstance(value, bool | int | float | str):
            return lambda names: value
        return self.refuse(f"the constant {value!r} is not a number or a string.")

    def compile_Name(self, node: ast.Name) -> Compiled:
        name = node.id

        def lookup(names: Mapping[str, Any]) -> Any:
            if name in names:
                value = names[name]
                return value() if callable(value) else value
            if name in CONSTANTS:
                return CONSTANTS[name]
            if name in ("True", "False"):
                return name == "True"
            known = [n for n in names] + list(FUNCTIONS)
            raise self.fail(f"unknown name '{name}'.", hint=did_you_mean(name, known))

        return lookup

    def compile_UnaryOp(self, node: ast.UnaryOp) -> Compiled:
        operand = self.compile(node.operand)
        op = node.op
        number = self.number

        def unary(names: Mapping[str, Any]) -> Any:
            value = operand(names)
            if isinstance(op, ast.Not):
                return not value
            number(value)
            if isinstance(op, ast.USub):
                return -value
            if isinstance(op, ast.UAdd):
                return +value
            raise self.fail("'~' is not allowed.")

        return unary

    def compile_BinOp(self, node: ast.BinOp) -> Compiled:
        op = _BINARY.get(type(node.op))
        if op is None:
            return self.refuse(f"the operator '{type(node.op).__name__}' is not allowed.")
        left, right = self.compile(node.left), self.compile(node.right)
        is_pow = isinstance(node.op, ast.Pow)
        number, bounded = self.number, self.bounded

        def binary(names: Mapping[str, Any]) -> Any:
            a, b = number(left(names)), number(right(names))
            if is_pow and (
                abs(b) > MAX_EXPONENT or (abs(a) > 1 and abs(b) * math.log2(abs(a)) > MAX_INT_BITS)
            ):
                raise self.fail(f"{a} ** {b} is too large.")
            try:
                result = op(a, b)
            except ZeroDivisionError:
                raise self.fail("division by zero.") from None
            except (OverflowError, ValueError) as exc:
                raise self.fail(f"arithmetic error: {exc}.") from None
            return bounded(result)

        return binary

    def compile_BoolOp(self, node: ast.BoolOp) -> Compiled:
        items = [self.compile(v) for v in node.values]
        if isinstance(node.op, ast.And):

            def both(names: Mapping[str, Any]) -> Any:
                value: Any = True
                for item in items:
                    value = item(names)
                    if not value:
                        return value
                return value

            return both

        def either(names: Mapping[str, Any]) -> Any:
            value: Any = False
            for item in items:
                value = item(names)
                if value:
                    return value
            return value

        return either

    def compile_Compare(self, node: ast.Compare) -> Compiled:
        first = self.compile(node.left)
        steps: list[tuple[Callable[[Any, Any], bool] | None, str, Compiled]] = [
            (_COMPARE.get(type(o)), type(o).__name__, self.compile(r))
            for o, r in zip(node.ops, node.comparators, strict=True)
        ]

        def compare(names: Mapping[str, Any]) -> bool:
            left = first(names)
            for op, op_name, right_of in steps:
                if op is None:
                    raise self.fail(f"the comparison '{op_name}' is not allowed.")
                right = right_of(names)
                if isinstance(left, str) != isinstance(right, str) and op not in (
                    operator.eq,
                    operator.ne,
                ):
                    raise self.fail(
                        f"cannot order {left!r} and {right!r}.",
                        hint="Strings can only be compared with == and !=.",
                    )
                if not op(left, right):
                    return False
                left = right
            return True

        return compare

    def compile_IfExp(self, node: ast.IfExp) -> Compiled:
        test, body, orelse = (self.compile(n) for n in (node.test, node.body, node.orelse))
        return lambda names: body(names) if test(names) else orelse(names)

    def compile_Call(self, node: ast.Call) -> Compiled:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            return self.refuse(
                f"calling '{name}' is not allowed.",
                hint=did_you_mean(name, FUNCTIONS)
                + " The functions are: "
                + ", ".join(FUNCTIONS)
                + ".",
            )
        if node.keywords:
            return self.refuse("keyword arguments are not allowed.")
        name = node.func.id
        function = FUNCTIONS[name]
        args = [self.compile(a) for a in node.args]
        number, bounded = self.number, self.bounded

        def call(names: Mapping[str, Any]) -> Any:
            values = [number(a(names)) for a in args]
            try:
                return bounded(function(*values))
            except (TypeError, ValueError, OverflowError) as exc:
                raise self.fail(f"{name}(): {exc}.") from None

        return call

    def number(self, value: Any) -> Number:
        if not isinstance(value, bool | int | float):
            raise self.fail(f"expected a number, got {shown(value)}.")
        return value

    def bounded(self, value: Number) -> Number:
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise self.fail("the result is too large.")
        return value
