"""The layer protocol: :class:`Shape`, :class:`Layer`, the registry and field parsing.

A layer kind is one frozen dataclass whose fields are the YAML keys. Each kind says,
in one place, its output shape, its weight tensors (params are their sizes), its
multiply-accumulates and FLOPs, and its NumPy forward. Conventions (DESIGN.md): all
counts are per sample and exact Python ints.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from archcost.errors import FieldError, ShapeError, did_you_mean


@dataclass(frozen=True)
class Shape:
    """A per-sample tensor shape: ``(C, *spatial)``, or ``(F,)`` once flat.

    >>> Shape((32, 112, 112)).numel
    401408
    >>> str(Shape((32, 112, 112)))
    '32x112x112'
    """

    dims: tuple[int, ...]

    @property
    def c(self) -> int:
        return self.dims[0]

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.dims[1:]

    @property
    def numel(self) -> int:
        return math.prod(self.dims)

    @property
    def is_flat(self) -> bool:
        """True for ``[F]`` and for ``[C, 1, 1]`` (which a linear layer treats as flat)."""
        return all(d == 1 for d in self.spatial)

    def with_spatial(self, spatial: Sequence[int]) -> "Shape":
        return Shape((self.c, *spatial))

    def with_c(self, c: int) -> "Shape":
        return Shape((c, *self.spatial))

    def __str__(self) -> str:
        return "x".join(map(str, self.dims))


REGISTRY: dict[str, type["Layer"]] = {}


@functools.lru_cache(maxsize=None)
def _field_specs(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def register(kind: str) -> Callable[[type["Layer"]], type["Layer"]]:
    """Class decorator: make ``cls`` the implementation of layer kind ``kind``."""
    def wrap(cls: type[Layer]) -> type[Layer]:
        assert kind not in REGISTRY, f"layer kind {kind!r} registered twice"
        cls.kind = kind
        REGISTRY[kind] = cls
        return cls
    return wrap


@dataclass(frozen=True, kw_only=True)
class Layer:
    """Base of every layer kind. Subclasses are frozen, kw-only dataclasses."""

    kind: ClassVar[str] = ""
    #: (fewest, most) inputs; most=None means any number.
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    #: FLOPs per output element for simple elementwise kinds.
    flops_per_element: ClassVar[int] = 0
    #: True when frameworks implement the kind as a view: no memory traffic.
    is_view: ClassVar[bool] = False
    #: True when ``forward`` accepts ``out=`` and may write into its first input (the
    #: executor offers that only in timing runs, for an input no one reads later).
    inplace: ClassVar[bool] = False

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> "Layer":
        """Build the layer from evaluated YAML fields, validating every one.

        Raises:
            FieldError: unknown field (with a did-you-mean), missing required field,
                or a value of the wrong type.
        """
        spec = _field_specs(cls)
        for key in fields:
            if key not in spec:
                raise FieldError(f"unknown field '{key}' for kind '{cls.kind}'.",
                                 hint=did_you_mean(key, spec) + f" Fields of {cls.kind}: "
                                 + (", ".join(spec) or "none") + ".")
        values = {}
        for name, f in spec.items():
            if name in fields:
                values[name] = convert(f.type, fields[name], name)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise FieldError(f"missing required field '{name}' for kind '{cls.kind}'.",
                                 hint=f"Add '{name}: ...' to the layer.")
        layer = cls(**values)
        layer.check()
        return layer

    def check(self) -> None:
        """Validate field values that do not depend on shapes."""

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _field_specs(type(self))}

    def expand(self, name: str) -> list[tuple[str, "Layer"]] | None:
        """Composite kinds return their primitive rows; primitives return None."""
        return None

    # -- shapes ---------------------------------------------------------------------
    def out_shapes(self, ins: Sequence[Shape]) -> tuple[Shape, ...]:
        """Every output's shape (more than one only for channel_split)."""
        return (self.out_shape(ins),)

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        """The output shape; elementwise kinds keep their input's."""
        return ins[0]

    # -- counts (per sample) ----------------------------------------------------------
    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        """Trainable tensors, by name (params = their total size)."""
        return {}

    def buffer_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        """Non-trainable state (batchnorm's running mean and variance)."""
        return {}

    def params(self, ins: Sequence[Shape]) -> int:
        return sum(math.prod(s) for s in self.weight_shapes(ins).values())

    def buffers(self, ins: Sequence[Shape]) -> int:
        return sum(math.prod(s) for s in self.buffer_shapes(ins).values())

    def macs(self, ins: Sequence[Shape]) -> int:
        """Multiply-accumulates (the papers' mult-adds); 0 for all but conv/linear."""
        return 0

    def flops(self, ins: Sequence[Shape]) -> int:
        """Every floating-point operation, multiplications and additions separately."""
        return self.flops_per_element * sum(s.numel for s in self.out_shapes(ins))

    def formulas(self, ins: Sequence[Shape]) -> list[tuple[str, str, str, int]]:
        """``(quantity, symbolic formula, formula with the numbers, value)`` for `explain`.

        Kinds with weights or special FLOPs override this or :meth:`flops_formula`.
        """
        weights = self.weight_shapes(ins)
        params = " + ".join("·".join(map(str, s)) for s in weights.values())
        return [("params", "Σ weight sizes" if weights else "", params, self.params(ins)),
                ("macs", "", "", self.macs(ins)),
                ("flops", *self.flops_formula(ins), self.flops(ins))]

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        elements = sum(s.numel for s in self.out_shapes(ins))
        return (f"{self.flops_per_element}/element", f"{self.flops_per_element}·{elements:,}")

    # -- execution --------------------------------------------------------------------
    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        """Run the layer on batched float32 arrays; returns (output(s), multiplications).

        ``multiplications`` is tallied from the array operations actually run. Kinds
        with ``inplace = True`` also take ``out=`` (an array of the output's shape,
        possibly ``xs[0]``) and write the result there.
        """
        raise NotImplementedError(f"{self.kind} has no forward")


# -- field converters ----------------------------------------------------------------
IntOrTuple = int | tuple[int, ...]
Padding = int | str | tuple[int, ...]
Sections = int | tuple[int, ...]


def to_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """An integer field: ints, and floats that are integral (48.0 -> 48).

    >>> to_int(64 * 0.75, "out")
    48
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"field '{name}' expects an integer, got {value!r}.")
    if isinstance(value, float):
        if not value.is_integer():
            raise FieldError(f"field '{name}' expects an integer, got {value!r}.",
                             hint=f"Round it explicitly: '${{round(...)}}', '${{int(...)}}' or "
                                  f"'${{make_divisible(..., 8)}}'.")
        value = int(value)
    if value < minimum:
        raise FieldError(f"field '{name}' must be >= {minimum}, got {value}.")
    return value


def to_int_tuple(value: Any, name: str, *, minimum: int = 1) -> int | tuple[int, ...]:
    if isinstance(value, list | tuple):
        if not value:
            raise FieldError(f"field '{name}' expects an integer or a list of them, got [].")
        return tuple(to_int(v, name, minimum=minimum) for v in value)
    return to_int(value, name, minimum=minimum)


def to_padding(value: Any, name: str) -> int | str | tuple[int, ...]:
    if isinstance(value, str):
        if value.lower() in ("same", "valid"):
            return value.lower()
        raise FieldError(f"field '{name}' expects an integer, a list, 'same' or 'valid', "
                         f"got {value!r}.", hint=did_you_mean(value.lower(), ["same", "valid"]))
    return to_int_tuple(value, name, minimum=0)


def to_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise FieldError(f"field '{name}' expects true or false, got {value!r}.")


def to_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"field '{name}' expects a number, got {value!r}.")
    return float(value)


def to_str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise FieldError(f"field '{name}' expects a string, got {value!r}.")
    return value


def to_sections(value: Any, name: str) -> int | tuple[int, ...]:
    return to_int_tuple(value, name)


_CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    "int": to_int, "IntOrTuple": to_int_tuple, "Padding": to_padding, "bool": to_bool,
    "float": to_float, "str": to_str, "Sections": to_sections, "int | None": lambda v, n: None if v is None else to_int(v, n),
    "IntOrTuple | None": lambda v, n: None if v is None else to_int_tuple(v, n),
}


def convert(annotation: Any, value: Any, name: str) -> Any:
    return _CONVERTERS[str(annotation)](value, name)


# -- geometry shared by conv and pool --------------------------------------------------
def conv_out_len(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length along one axis: ``floor((n + p - d*(k-1) - 1)/s) + 1``.

    ``p`` is the total padding of the axis (both sides).

    >>> conv_out_len(224, 3, 2, 2)
    112
    >>> conv_out_len(7, 3, 1, 0, 2)
    3
    """
    return (n + p - d * (k - 1) - 1) // s + 1


def per_dim(value: int | tuple[int, ...], ndim: int, name: str) -> tuple[int, ...]:
    """Broadcast an int to every spatial dim, or check a list has one per dim."""
    if isinstance(value, int):
        return (value,) * ndim
    if len(value) != ndim:
        raise ShapeError(f"'{name}' has {len(value)} values but the input has {ndim} "
                         f"spatial dims.", hint=f"Give one value, or {ndim} (one per dim).")
    return tuple(value)


def resolve_padding(padding: int | str | tuple[int, ...], spatial: Sequence[int],
                    kernel: Sequence[int], stride: Sequence[int],
                    dilation: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """(before, after) padding per spatial dim.

    ``same`` is TensorFlow's rule: output ``ceil(n/s)``, the odd pixel after.

    >>> resolve_padding("same", (224, 224), (3, 3), (2, 2), (1, 1))
    ((0, 1), (0, 1))
    >>> resolve_padding((1, 2, 3, 4), (8, 8), (3, 3), (1, 1), (1, 1))
    ((1, 2), (3, 4))
    """
    ndim = len(spatial)
    if padding == "valid":
        return ((0, 0),) * ndim
    if padding == "same":
        pads = []
        for n, k, s, d in zip(spatial, kernel, stride, dilation):
            out = -(-n // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, int):
        return ((padding, padding),) * ndim
    if len(padding) == ndim:
        return tuple((p, p) for p in padding)
    if len(padding) == 2 * ndim:
        return tuple((padding[2 * i], padding[2 * i + 1]) for i in range(ndim))
    raise ShapeError(f"'padding' has {len(padding)} values but the input has {ndim} spatial "
                     f"dims.", hint=f"Give one value, {ndim} (one per dim) or {2 * ndim} "
                                    "(before and after for each dim).")


def require_spatial(x: Shape, kind: str) -> None:
    if len(x.spatial) not in (2, 3):
        raise ShapeError(f"{kind} needs a [C, H, W] or [C, D, H, W] input, got [{x}].",
                         hint="Is there a flatten or linear layer before it?")
