"""``archcost explain``: every count of a layer as its formula with the numbers in.

For a composite (separable_conv, spatial_separable_conv) it also sets the two rows
against the standard convolution they replace; for a grouped conv, against the same
conv with one group — the comparisons the MobileNet and ShuffleNet papers make.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from archcost.costs import dtype_bytes, memory_formula
from archcost.errors import SpecError, did_you_mean
from archcost.layers.base import Formula, Layer, Shape, formula
from archcost.layers.conv import Conv, ConvLike, SeparableConv

if TYPE_CHECKING:
    from archcost.model import Model

Line = Formula  # (quantity, symbolic, with numbers, value)


@dataclass
class Explanation:
    """One layer (or composite) explained: fields, shapes and formula lines."""

    name: str
    kind: str
    where: str
    fields: dict[str, Any]
    input_shapes: list[str]
    output_shape: str
    lines: list[Line]
    rows: list[Explanation] = field(default_factory=list)

    def value(self, quantity: str) -> Any:
        """The value of the first line named ``quantity``."""
        return next(line.value for line in self.lines if line.quantity == quantity)

    def text(self, indent: str = "") -> str:
        fields = ", ".join(f"{k}={_show(v)}" for k, v in self.fields.items())
        out = [
            f"{indent}{self.name} — {self.kind} ({self.where})",
            f"{indent}  fields       {fields or '(none)'}",
            f"{indent}  shapes       {' + '.join(f'[{s}]' for s in self.input_shapes)} -> "
            f"[{self.output_shape}]",
        ]
        for quantity, symbolic, numbers, value in self.lines:
            shown = f"{value:,}" if isinstance(value, int) else str(value)
            parts = [p for p in (symbolic, numbers) if p and p != shown] + [shown]
            formula = " = ".join(parts)
            out.append(f"{indent}  {quantity:<12} {formula}")
        for row in self.rows:
            out.append("")
            out.append(row.text(indent + "  "))
        return "\n".join(out)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def explain(
    model: Model, pattern: str, *, batch: int = 1, dtype: str = "float32"
) -> list[Explanation]:
    """Explain every layer whose name (or composite name) matches ``pattern`` (a glob).

    Raises:
        SpecError: nothing matches (with a did-you-mean).
    """
    nodes = model.nodes
    found: list[Explanation] = []
    done: set[str] = set()
    for name in model.layers:
        composite = nodes[name].composite
        if composite and fnmatch.fnmatchcase(composite[0], pattern):
            if composite[0] not in done:
                done.add(composite[0])
                rows = [n for n in model.layers if (nodes[n].composite or ("",))[0] == composite[0]]
                found.append(_composite(model, composite[0], composite[1], rows, batch, dtype))
            continue
        if fnmatch.fnmatchcase(name, pattern):
            found.append(_layer(model, name, batch, dtype))
    if not found:
        names = model.layers + [c[0] for c in (nodes[n].composite for n in model.layers) if c]
        raise SpecError(
            f"no layer matches '{pattern}'.",
            file=model.path,
            hint=did_you_mean(pattern, names) + " Globs work too: 'stage2.*'.",
        )
    return found


def _layer(model: Model, name: str, batch: int, dtype: str) -> Explanation:
    node = model.nodes[name]
    layer = node.layer
    assert layer is not None
    ins = node.input_shapes
    lines: list[Line] = list(layer.formulas(ins))
    inputs = sum(s.numel for s in ins)
    outputs = sum(s.numel for s in node.output_shapes)
    lines.append(
        memory_formula(
            is_view=layer.is_view,
            nbytes=dtype_bytes(dtype),
            batch=batch,
            in_elements=inputs,
            out_elements=outputs,
            params=layer.params(ins),
            buffers=layer.buffers(ins),
        )
    )
    if batch != 1:
        lines = [
            formula(q, s, f"{batch}·({n})") if q in ("macs", "flops") else line
            for line in lines
            for q, s, n, _ in [line]
        ]
    lines.append(
        formula(
            "activations",
            "output elements",
            f"{batch}·{outputs:,}" if batch != 1 else f"{outputs:,}",
        )
    )
    if isinstance(layer, ConvLike):
        geo = layer.geometry(ins[0])
        if geo.groups > 1 and geo.c_in // geo.groups > 1:
            standard = Conv(
                out=geo.c_out,
                kernel=geo.kernel,
                stride=geo.stride,
                padding=tuple(p for pair in geo.padding for p in pair),
                dilation=geo.dilation,
                bias=geo.bias,
            )
            std = standard.macs(ins)
            assert Fraction(layer.macs(ins), std) == Fraction(1, geo.groups)
            lines.append(
                Formula(
                    "vs standard",
                    f"the one-group conv ({geo.groups}× this)",
                    standard.macs_formula(ins[0]),
                    std,
                )
            )
    where = (f"{node.file}:{node.line}" if node.line else node.file) if node.file else "spec"
    return Explanation(
        name=name,
        kind=node.kind,
        where=where,
        fields=node.fields,
        input_shapes=[str(s) for s in ins],
        output_shape="; ".join(str(s) for s in node.output_shapes),
        lines=lines,
    )


def _composite(
    model: Model, name: str, layer: Layer, rows: list[str], batch: int, dtype: str
) -> Explanation:
    first, last = model.nodes[rows[0]], model.nodes[rows[-1]]
    x: Shape = first.input_shapes[0]
    parts = [_layer(model, r, batch, dtype) for r in rows]
    macs = [model.counts[r].macs for r in rows]
    labels = (
        ["depthwise", "pointwise"]
        if isinstance(layer, SeparableConv)
        else [r.rsplit(".", 1)[1] for r in rows]
    )
    lines: list[Line] = []
    for label, r in zip(labels, rows, strict=True):
        row = model.nodes[r]
        assert isinstance(row.layer, ConvLike)
        lines.append(formula(label, "", row.layer.macs_formula(row.input_shapes[0])))
    fields = layer.fields()
    standard = Conv(
        out=fields["out"],
        kernel=fields["kernel"],
        stride=fields["stride"],
        padding=fields["padding"],
        dilation=fields.get("dilation", 1),
        bias=False,
    )
    std = standard.macs([x])
    total = sum(macs)
    lines.append(formula("total", " + ".join(labels), " + ".join(f"{m:,}" for m in macs)))
    lines.append(
        Formula("standard", "the standard conv it replaces", standard.macs_formula(x), std)
    )
    lines.append(Formula("vs standard", "total/standard", "", f"{100 * total / std:.1f}%"))
    if isinstance(layer, SeparableConv):
        k = standard.geometry(x).k
        n_out = fields["out"]
        k_text = "k²" if len(set(standard.geometry(x).kernel)) == 1 and len(x.spatial) == 2 else "k"
        ratio = 1 / n_out + 1 / k
        lines.append(
            Formula("ratio", f"1/N + 1/{k_text}", "", f"{ratio:.4f}  (N = {n_out}, {k_text} = {k})")
        )
    where = (f"{first.file}:{first.line}" if first.line else first.file) if first.file else "spec"
    return Explanation(
        name=name,
        kind=layer.kind,
        where=where,
        fields=fields,
        input_shapes=[str(x)],
        output_shape="; ".join(str(s) for s in last.output_shapes),
        lines=lines,
        rows=parts,
    )


def render(explanations: list[Explanation]) -> str:
    return "\n\n".join(e.text() for e in explanations) + "\n"
