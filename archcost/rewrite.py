"""``archcost whatif``: rewrite convolutions by a rule and price the result.

The rewritten network is written as a *flat* spec: one item per layer, with its full
hierarchical name (dotted names keep the stage/block roll-ups), its kind, every field
and explicit ``inputs``, knobs baked in. archcost loads it back like any spec, so the
numbers it prints are the numbers anyone re-running the file gets.

Rules:

* ``separable``: a k×k standard conv -> depthwise k×k + pointwise 1×1.
* ``spatial``: a k×k standard conv -> k×1 then 1×k (2D, square kernel, no dilation).
* ``grouped:G``: a k×k standard conv -> the same conv in G groups.
* ``shuffled:G``: grouped:G followed by a channel shuffle of G groups (ShuffleNet).
* ``pointwise-grouped:G``: a 1×1 conv -> G groups (ShuffleNet's pointwise GConv).
* ``resize-conv``: a transposed conv -> nearest resize by its stride, then a stride-1
  conv with the same kernel, padded to the same output size (no checkerboard
  artifacts; the same params, about s^d times the MACs).
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from archcost.errors import SpecError, did_you_mean
from archcost.layers.conv import (
    Conv,
    GroupedConv,
    PointwiseConv,
    SeparableConv,
    SpatialSeparableConv,
)
from archcost.layers.merge import ChannelShuffle
from archcost.layers.resample import Upsample
from archcost.model import Model
from archcost.spec import load_spec

if TYPE_CHECKING:
    from archcost.model import Model

RULES = ("separable", "spatial", "grouped", "shuffled", "pointwise-grouped", "resize-conv")


@dataclass(frozen=True)
class Change:
    """What a rule did (or why it did not) to one layer."""

    name: str
    applied: bool
    reason: str
    macs_before: int = 0
    macs_after: int = 0
    params_before: int = 0
    params_after: int = 0


@dataclass
class Rewrite:
    """The rewritten spec (``yaml``, its text), the per-layer changes, and both models."""

    rule: str
    yaml: str
    changes: list[Change]
    before: Model
    after: Model


def parse_rule(text: str) -> tuple[str, int]:
    """``grouped:4`` -> ``("grouped", 4)``; ``separable`` -> ``("separable", 1)``."""
    name, _, arg = text.partition(":")
    if name not in RULES:
        raise SpecError(
            f"unknown rewrite rule '{text}'.",
            hint=did_you_mean(name, RULES) + " Rules: separable, spatial, grouped:G, "
            "shuffled:G, pointwise-grouped:G, resize-conv.",
        )
    needs_g = name in ("grouped", "shuffled", "pointwise-grouped")
    if needs_g != bool(arg):
        raise SpecError(
            f"rule '{name}' "
            + (f"needs a group count, e.g. '{name}:4'." if needs_g else "takes no argument.")
        )
    groups = 1
    if arg:
        if not arg.isdigit() or int(arg) < 2:
            raise SpecError(f"the group count in '{text}' must be an integer >= 2.")
        groups = int(arg)
    return name, groups


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _item(name: str, kind: str, fields: dict[str, Any], inputs: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "inputs": inputs,
        **{k: _plain(v) for k, v in fields.items()},
    }


def _per(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _apply(
    rule: str,
    groups: int,
    name: str,
    fields: dict[str, Any],
    c_in: int,
    ndim: int,
    inputs: list[str],
) -> tuple[list[dict[str, Any]] | None, str, str]:
    """New items for one layer, the name consumers should read, or (None, reason)."""
    f = fields
    kernel = _per(f.get("kernel", 1))
    k = math.prod(kernel) if len(kernel) > 1 else kernel[0] ** ndim
    if rule == "pointwise-grouped":
        if f["groups"] != 1:
            return None, "", f"already grouped (groups={f['groups']})"
        if c_in % groups or f["out"] % groups:
            return (
                None,
                "",
                (f"channels not divisible by {groups} (in_channels={c_in}, out={f['out']})"),
            )
        if f.get("padding", 0) not in (0, "valid") or _per(f.get("dilation", 1)) != (1,):
            return None, "", "a padded or dilated 1×1 conv is not a pointwise conv"
        new = {"out": f["out"], "stride": f["stride"], "groups": groups, "bias": f["bias"]}
        return [_item(name, PointwiseConv.kind, new, inputs)], name, ""
    if f["groups"] != 1:
        return None, "", f"not a standard conv (groups={f['groups']})"
    if k == 1:
        return None, "", "a 1×1 conv: nothing to factor (see pointwise-grouped:G)"
    if rule == "separable":
        new = {
            key: f[key]
            for key in ("out", "kernel", "stride", "padding", "pad_value", "dilation", "bias")
        }
        return [_item(name, SeparableConv.kind, new, inputs)], name, ""
    if rule == "spatial":
        if ndim != 2:
            return None, "", "spatial separation is 2D only"
        if len(set(kernel)) != 1:
            return None, "", f"the kernel {list(kernel)} is not square"
        if _per(f["dilation"]) not in ((1,), (1, 1)) or f["pad_value"] != 0:
            return (
                None,
                "",
                "dilation or a non-zero pad_value is not supported by spatial_separable_conv",
            )
        new = {
            "out": f["out"],
            "kernel": kernel[0],
            "stride": f["stride"],
            "padding": f["padding"],
            "bias": f["bias"],
        }
        return [_item(name, SpatialSeparableConv.kind, new, inputs)], name, ""
    if c_in % groups or f["out"] % groups:
        return (
            None,
            "",
            (f"channels not divisible by {groups} (in_channels={c_in}, out={f['out']})"),
        )
    new = dict(f, groups=groups)
    if rule == "grouped":
        return [_item(name, GroupedConv.kind, new, inputs)], name, ""
    return (
        [
            _item(f"{name}.gconv", GroupedConv.kind, new, inputs),
            _item(f"{name}.shuffle", ChannelShuffle.kind, {"groups": groups}, [f"{name}.gconv"]),
        ],
        f"{name}.shuffle",
        "",
    )


def _resize_conv(
    name: str, layer: Any, x: Any, inputs: list[str]
) -> tuple[list[dict[str, Any]] | None, str, str]:
    """A transposed conv as ``<name>.resize`` (nearest) then ``<name>.conv``."""
    fields = layer.as_resize_conv(x)
    if isinstance(fields, str):
        return None, "", fields
    upsample, conv = fields
    return (
        [
            _item(f"{name}.resize", Upsample.kind, upsample, inputs),
            _item(f"{name}.conv", Conv.kind, conv, [f"{name}.resize"]),
        ],
        f"{name}.conv",
        "",
    )


def rewrite(model: Model, rule_text: str, only: str | None = None) -> Rewrite:
    """Rewrite every matching layer of ``model``; load the result back.

    Args:
        model: the network to rewrite.
        rule_text: one of the rules, e.g. ``separable`` or ``grouped:4``.
        only: a glob over layer names; default every layer.
    """
    rule, groups = parse_rule(rule_text)
    items: list[dict[str, Any]] = []
    renamed: dict[str, str] = {}
    pending: list[tuple[str, str]] = []  # (original name, output name) of rewrites
    changes: list[Change] = []

    def ref(src: str, port: int | None) -> str:
        base = renamed.get(src, src)
        return base if port is None else f"{base}:{port}"

    for name in model.layers:
        node = model.nodes[name]
        inputs = [ref(s, p) for s, p in zip(node.inputs, node.ports, strict=True)]
        layer = node.layer
        assert layer is not None
        kind, fields = layer.kind, layer.fields()
        matched = only is None or fnmatch.fnmatchcase(name, only)
        if matched and layer.rewrite_candidate(rule):
            x = node.input_shapes[0]
            if rule == "resize-conv":
                new, out_name, reason = _resize_conv(name, layer, x, inputs)
            else:
                new, out_name, reason = _apply(
                    rule, groups, name, fields, x.c, len(x.spatial), inputs
                )
            if new is not None:
                items += new
                renamed[name] = out_name
                pending.append((name, out_name))
                continue
            changes.append(Change(name=name, applied=False, reason=reason))
        items.append(_item(name, kind, fields, inputs))
    if not pending:
        reasons = "; ".join(f"{c.name}: {c.reason}" for c in changes[:5])
        raise SpecError(
            f"the rule '{rule_text}' applies to no layer"
            + (f" matching '{only}'" if only else "")
            + ".",
            hint=f"Skipped: {reasons}."
            if reasons
            else "No layer of the kinds this rule rewrites was found.",
        )
    knobs = ", ".join(f"{k}={v}" for k, v in model.knobs.items())
    doc = {
        "archcost": 1,
        "name": f"{model.name} ({rule_text})",
        "description": f"{model.name} with '{rule_text}' applied"
        + (f" to layers matching '{only}'" if only else "")
        + (f"; knobs {knobs}" if knobs else "")
        + ".",
        "input": list(model.input_shape),
    }
    lines = [
        f"# Generated by: archcost whatif {model.path} --rewrite {rule_text}"
        + (f" --only '{only}'" if only else ""),
        "# A flat spec: every layer with its full name, fields and inputs; knobs baked in.",
    ]
    lines += [
        f"{key}: "
        + yaml.safe_dump(value, default_flow_style=True, width=100_000)
        .strip()
        .removesuffix("...")
        .strip()
        for key, value in doc.items()
    ]
    lines.append("layers:")
    lines += [
        "  - "
        + yaml.safe_dump(item, default_flow_style=True, sort_keys=False, width=100_000).strip()
        for item in items
    ]
    text = "\n".join(lines) + "\n"
    after = Model(load_spec("(rewritten)", text=text), {})
    before_rows = {r.name: r for r in model.costs().rows}
    after_rows = after.costs().rows
    for name, _ in pending:
        mine = [r for r in after_rows if r.name == name or r.name.startswith(name + ".")]
        changes.append(
            Change(
                name=name,
                applied=True,
                reason=rule_text,
                macs_before=before_rows[name].macs,
                macs_after=sum(r.macs for r in mine),
                params_before=before_rows[name].params,
                params_after=sum(r.params for r in mine),
            )
        )
    order = {n: i for i, n in enumerate(model.layers)}
    changes.sort(key=lambda c: order[c.name])
    return Rewrite(rule=rule_text, yaml=text, changes=changes, before=model, after=after)
