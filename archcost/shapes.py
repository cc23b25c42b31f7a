"""Shape inference for one node: arity checks, then the kind's ``out_shapes``.

Layer code raises bare facts (:class:`~archcost.errors.ShapeError`); this is the one
place that adds the file, line, layer name and kind to them.
"""

from __future__ import annotations

from collections.abc import Sequence

from archcost.errors import SpecError
from archcost.layers.base import Layer, Shape


def infer(
    layer: Layer, in_shapes: Sequence[Shape], *, name: str, file: str | None, line: int | None
) -> tuple[Shape, ...]:
    """Output shapes of ``layer`` on ``in_shapes``, or a located SpecError."""
    fewest, most = layer.arity
    n = len(in_shapes)
    if n < fewest or (most is not None and n > most):
        want = (
            f"exactly {fewest}"
            if fewest == most
            else (f"at least {fewest}" if most is None else f"{fewest} to {most}")
        )
        hint = (
            "Name them with 'inputs: [a, b]'."
            if fewest > 1
            else "Give it one input ('inputs: name'), or merge the branches first."
        )
        raise SpecError(
            f"{layer.kind} takes {want} input(s), got {n}.",
            file=file,
            line=line,
            layer=name,
            kind=layer.kind,
            hint=hint,
        )
    try:
        shapes = layer.out_shapes(in_shapes)
    except SpecError as exc:
        exc.located(file=file, line=line, layer=name, kind=layer.kind)
        raise
    for shape in shapes:
        if any(d < 1 for d in shape.dims):
            raise SpecError(
                f"the output shape [{shape}] has a size below 1.",
                file=file,
                line=line,
                layer=name,
                kind=layer.kind,
            )
    return shapes
