"""Spec -> :class:`Network`: blocks expanded, names resolved, shapes propagated.

Each node is a frozen :class:`Node`, named by its full hierarchical name
(``stage2.unit3.gconv1``); the network input is the node ``input``. A node holds its
:class:`~archcost.layers.base.Layer`, its input names and ports, its input and output
shapes, where it was written (file, line), its position in the spec and the composite
(separable_conv, spatial_separable_conv) it came from. The topology is the nodes'
inputs; :meth:`Network.digraph` gives it as a ``networkx.DiGraph`` (edges are data
flow, ``graph.nodes[name]["node"]`` is the :class:`Node`), built only when asked for:
loading a spec needs only the standard library.

Expansion and shape inference interleave only where a block reads ``in_channels``:
that shape is computed on demand from the part of the graph already built.
"""

from __future__ import annotations

import heapq
import re
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archcost.errors import SpecError, SpecErrors, did_you_mean, shown
from archcost.expressions import names_used, render
from archcost.layers import REGISTRY
from archcost.layers.base import Layer, Shape, to_int
from archcost.layers.names import lookup, unknown_kind_hint
from archcost.shapes import infer
from archcost.spec import RESERVED_ITEM_KEYS, Block, Spec, YMap

if TYPE_CHECKING:
    import networkx as nx

MAX_LAYERS = 100_000
MAX_ERRORS = 20  # independent errors reported in one run, at most
INPUT = "input"
#: The stand-in for whatever a failed item would have defined: items that read it are
#: skipped silently (their errors would only repeat the first one).
FAILED = "<failed>"


class _Dependent(SpecError):
    """An item needs the result of an item that already failed: not reported."""


class _Stop(Exception):
    """MAX_ERRORS reached: stop building."""


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$")


@dataclass(frozen=True)
class Ref:
    """One output of one node: ``node`` and its output ``port`` (None = the only one)."""

    node: str
    port: int | None = None


@dataclass
class _Node:
    name: str
    kind: str
    layer: Layer | None
    inputs: list[Ref | tuple[_Scope, str, YMap]]  # (scope, name, item) until resolved
    file: str | None
    line: int | None
    order: int
    composite: tuple[str, Layer] | None = None


@dataclass
class _Scope:
    prefix: str
    input: Ref
    variables: dict[str, Any]
    parent: _Scope | None = None
    names: dict[str, Ref] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    last: Ref | None = None

    def auto_name(self, base: str) -> str:
        self.counters[base] = self.counters.get(base, 0) + 1
        return f"{base}{self.counters[base]}"


class _Builder:
    def __init__(self, spec: Spec, knobs: dict[str, Any], input_shape: Shape):
        self.spec = spec
        self.knobs = knobs
        self.nodes: dict[str, _Node] = {}
        self.shapes: dict[str, tuple[Shape, ...]] = {INPUT: (input_shape,)}
        self.block_stack: list[str] = []
        self.errors: list[SpecError] = []
        self.listed_kinds = False  # the list of kinds goes with the first unknown kind only
        self.failed: set[str] = set()  # nodes whose shapes could not be inferred
        self.nodes[INPUT] = _Node(INPUT, INPUT, None, [], spec.file, spec.line_of.get("input"), 0)

    # -- names ----------------------------------------------------------------------
    def lookup(self, scope: _Scope, text: str) -> Ref | None:
        name, port = text, None
        if ":" in text:
            name, _, port_text = text.rpartition(":")
            if not port_text.isdigit():
                return None
            port = int(port_text)
        s: _Scope | None = scope
        ref = None
        while s is not None and ref is None:
            ref = s.input if name == INPUT else s.names.get(name)
            s = s.parent
        if ref is None and name in self.nodes:
            ref = Ref(name)
        if ref is None:
            return None
        return Ref(ref.node, port) if port is not None else ref

    def resolve(self, scope: _Scope, text: str, item: YMap) -> Ref:
        ref = self.lookup(scope, text)
        if ref is None:
            known = [INPUT] + list(scope.names) + [n for n in self.nodes if n != INPUT]
            s = scope.parent
            while s is not None:
                known += list(s.names)
                s = s.parent
            raise SpecError(
                f"undefined input name '{text}'.",
                file=item.file,
                line=item.line_of("inputs"),
                hint=did_you_mean(text.split(":")[0], known),
            )
        return ref

    # -- shapes (on demand) ---------------------------------------------------------
    def shape_of(self, ref: Ref, item: YMap | _Node | None = None) -> Shape:
        """The shape of one output; ``item`` (the consumer) locates errors."""
        shapes = self.output_shapes(ref.node, item)
        if ref.port is None and len(shapes) == 1:
            return shapes[0]
        where = dict(
            file=getattr(item, "file", None),
            line=getattr(item, "line", None),
            layer=getattr(item, "name", None) if isinstance(item, _Node) else None,
        )
        if ref.port is None:
            if len(shapes) > 1:
                raise SpecError(
                    f"'{ref.node}' has {len(shapes)} outputs; name one as "
                    f"'{ref.node}:0' ... '{ref.node}:{len(shapes) - 1}'.",
                    **where,
                )
            return shapes[0]
        if ref.port >= len(shapes):
            raise SpecError(
                f"'{ref.node}' has {len(shapes)} output(s); there is no output {ref.port}.", **where
            )
        return shapes[ref.port]

    def output_shapes(self, name: str, item: YMap | _Node | None = None) -> tuple[Shape, ...]:
        if name in self.shapes:
            return self.shapes[name]
        if name == FAILED or name in self.failed:
            raise _Dependent(f"'{name}' failed earlier.")
        try:
            return self._infer(name, item)
        except SpecError:
            self.failed.add(name)
            raise

    def _infer(self, name: str, item: YMap | _Node | None) -> tuple[Shape, ...]:
        node = self.nodes[name]
        ins = []
        for ref in node.inputs:
            if not isinstance(ref, Ref):
                raise SpecError(
                    f"'{ref[1]}' is used before it is defined, and the shape of "
                    f"'{name}' is needed here (in_channels).",
                    file=getattr(item, "file", None),
                    line=getattr(item, "line", None),
                    hint="Define layers before the blocks that read their channels.",
                )
            ins.append(self.shape_of(ref, node))
        assert node.layer is not None
        cache = _ACTIVE
        if cache is None:
            shapes = infer(node.layer, ins, name=name, file=node.file, line=node.line)
        else:
            key = (node.layer, *ins)
            found = cache.shapes.get(key)
            if found is None:
                found = infer(node.layer, ins, name=name, file=node.file, line=node.line)
                cache.remember(cache.shapes, key, found)
            shapes = found
        self.shapes[name] = shapes
        return shapes

    # -- expansion ------------------------------------------------------------------
    def build(self) -> None:
        top = _Scope(prefix="", input=Ref(INPUT), variables=dict(self.knobs))
        top.variables["in_channels"] = lambda: self.shape_of(top.input).c
        try:
            self.run_items(self.spec.layers, top)
            for node in self.nodes.values():
                try:
                    resolved = [
                        r if isinstance(r, Ref) else self.resolve(r[0], r[1], r[2])
                        for r in node.inputs
                    ]
                except SpecError as exc:
                    self.record(exc)
                    resolved = [Ref(FAILED)]
                node.inputs = [*resolved]
                if any(r.node == FAILED for r in resolved):
                    self.failed.add(node.name)
        except _Stop:
            self.raise_errors()

    # -- errors ---------------------------------------------------------------------
    def record(self, exc: SpecError) -> None:
        """Keep an independent error (once); stop after MAX_ERRORS."""
        if isinstance(exc, _Dependent):
            return
        errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
        for error in errors:
            key = (error.file, error.line, error.message)
            if all((e.file, e.line, e.message) != key for e in self.errors):
                self.errors.append(error)
        if len(self.errors) >= MAX_ERRORS:
            raise _Stop

    def raise_errors(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise SpecErrors(self.errors, stopped=len(self.errors) >= MAX_ERRORS)

    def run_items(self, items: list[YMap], scope: _Scope) -> None:
        """Run every item; a failing item's error is recorded and whatever it would
        have defined is marked failed, so that independent mistakes further on are
        reported in the same run."""
        for item in items:
            try:
                self.run_item(item, scope)
            except SpecError as exc:
                self.record(exc)
                self.poison(item, scope)

    def poison(self, item: YMap, scope: _Scope) -> None:
        failed = Ref(FAILED)
        base = item.get("name")
        if isinstance(base, str) and "${" not in base and base not in scope.names:
            scope.names[base] = failed
        scope.last = failed

    def evaluate(self, value: Any, variables: dict[str, Any], item: YMap, key: str) -> Any:
        try:
            return render(value, variables)
        except SpecError as exc:
            exc.located(file=item.file, line=item.line_of(key))
            raise

    def run_item(self, item: YMap, scope: _Scope) -> None:
        kind, block = item.get("type"), item.get("use")
        if (kind is None) == (block is None):
            raise SpecError(
                "each layer needs exactly one of 'type: KIND' or 'use: BLOCK'.",
                file=item.file,
                line=item.line,
                hint="e.g. {type: conv, out: 32, kernel: 3} or {use: bottleneck}.",
            )
        repeat = to_count(
            self.evaluate(item.get("repeat", 1), scope.variables, item, "repeat"), item
        )
        base = item.get("name")
        if base is not None:
            base = str(self.evaluate(base, scope.variables, item, "name"))
            if not _NAME.match(base):
                raise SpecError(
                    f"invalid name '{base}': names use letters, digits, '_' and "
                    "'-', start with a letter or '_', and may be dotted to place the "
                    "layer in a hierarchy (stage2.unit1.conv); ':' is reserved for "
                    "outputs.",
                    file=item.file,
                    line=item.line_of("name"),
                )
        for index in range(repeat):
            # An item with 'repeat' sees its own index; others keep the enclosing one (a
            # block used with repeat passes its index into the block's layers).
            variables = (
                dict(scope.variables, repeat_index=index) if "repeat" in item else scope.variables
            )
            if kind is not None:
                kind = self.layer_kind(item, variables)
            if base is None:
                local = scope.auto_name(str(kind or block))
            elif repeat == 1:
                local = base
            else:
                local = f"{base}{'_' if base[-1].isdigit() else ''}{index + 1}"
            inputs = self.item_inputs(item, scope, variables)
            if "when" in item:
                cond = self.evaluate(item["when"], variables, item, "when")
                if not isinstance(cond, bool | int | float):
                    raise SpecError(
                        f"'when' must be a condition, got {shown(cond)}.",
                        file=item.file,
                        line=item.line_of("when"),
                    )
                if not cond:
                    # A skipped item is as if the line were not there: one input passes
                    # through; a merge of several passes the previous item's output.
                    through = inputs[0] if len(inputs) == 1 else (scope.last or scope.input)
                    if not isinstance(through, Ref):
                        raise SpecError(
                            "a skipped layer needs a defined input to pass through.",
                            file=item.file,
                            line=item.line,
                        )
                    self.define(scope, local, through, item)
                    continue
            if kind is not None:
                out = self.add_layer(item, scope, local, str(kind), inputs, variables)
            else:
                out = self.add_block(item, scope, local, str(block), inputs, variables)
            self.define(scope, local, out, item)
            if base is not None and repeat > 1 and index == repeat - 1:
                scope.names[base] = out

    def layer_kind(self, item: YMap, variables: dict[str, Any]) -> str:
        """The item's ``type``, which may be an expression (``type: "${act}"``)."""
        kind = self.evaluate(item["type"], variables, item, "type")
        if not isinstance(kind, str):
            raise SpecError(
                f"'type' must name a layer kind, got {shown(kind)}.",
                file=item.file,
                line=item.line_of("type"),
                hint=unknown_kind_hint(str(kind)),
            )
        return kind

    def define(self, scope: _Scope, local: str, ref: Ref, item: YMap) -> None:
        if local in scope.names:
            raise SpecError(
                f"duplicate name '{scope.prefix}{local}'.",
                file=item.file,
                line=item.line_of("name"),
                hint="Names must be unique in their scope.",
            )
        scope.names[local] = ref
        scope.last = ref

    def item_inputs(self, item: YMap, scope: _Scope, variables: dict[str, Any]) -> list:
        if "inputs" not in item:
            return [scope.last or scope.input]
        raw = self.evaluate(item["inputs"], variables, item, "inputs")
        names = raw if isinstance(raw, list) else [raw]
        if not names or not all(isinstance(n, str) for n in names):
            raise SpecError(
                f"'inputs' must be a layer name or a list of names, got {shown(raw)}.",
                file=item.file,
                line=item.line_of("inputs"),
            )
        return [self.lookup(scope, n) or (scope, n, item) for n in names]

    def add_node(
        self,
        name: str,
        kind: str,
        layer: Layer,
        inputs: list,
        item: YMap,
        composite: tuple[str, Layer] | None = None,
    ) -> Ref:
        if name in self.nodes:
            raise SpecError(
                f"duplicate name '{name}'.",
                file=item.file,
                line=item.line_of("name"),
                hint=f"'{name}' is also defined at line {self.nodes[name].line}.",
            )
        if len(self.nodes) > MAX_LAYERS:
            raise SpecError(
                f"the spec expands to more than {MAX_LAYERS:,} layers; refused.",
                file=item.file,
                line=item.line,
                hint="Check 'repeat' values and block nesting.",
            )
        self.nodes[name] = _Node(
            name, kind, layer, inputs, item.file, item.line, len(self.nodes), composite
        )
        return Ref(name)

    def add_layer(
        self,
        item: YMap,
        scope: _Scope,
        local: str,
        kind: str,
        inputs: list,
        variables: dict[str, Any],
    ) -> Ref:
        cls = lookup(kind)
        full = scope.prefix + local
        if cls is None:
            hint = unknown_kind_hint(kind, list_kinds=not self.listed_kinds)
            self.listed_kinds = True
            if kind in self.spec.blocks:
                hint = f"'{kind}' is a block: write 'use: {kind}'."
            raise SpecError(
                f"unknown layer kind '{kind}'.",
                file=item.file,
                line=item.line_of("type"),
                layer=full,
                hint=hint,
            )
        kind = cls.kind  # an alias (silu) becomes its kind (swish)
        raw = dict(self.spec.defaults.get(kind, {}))
        raw.update({k: v for k, v in item.items() if k not in RESERVED_ITEM_KEYS})
        try:
            fields = {k: self.evaluate(v, variables, item, k) for k, v in raw.items()}
            layer = layer_from_fields(cls, fields)
            rows = layer.expand(full)
        except SpecError as exc:
            bad = next((k for k in raw if f"'{k}'" in exc.message), None)
            exc.located(
                file=item.file, line=item.line_of(bad) if bad else item.line, layer=full, kind=kind
            )
            raise
        if any(isinstance(r, Ref) and r.node == FAILED for r in inputs):
            return Ref(FAILED)  # checked; its input failed earlier
        if rows is None:
            return self.add_node(full, kind, layer, inputs, item)
        ref: Ref | None = None
        for row_name, row in rows:
            ref = self.add_node(
                row_name,
                row.kind,
                row,
                inputs if ref is None else [ref],
                item,
                (full, layer),
            )
        assert ref is not None
        return ref

    def add_block(
        self,
        item: YMap,
        scope: _Scope,
        local: str,
        name: str,
        inputs: list,
        variables: dict[str, Any],
    ) -> Ref:
        full = scope.prefix + local
        block = self.spec.blocks.get(name)
        if block is None:
            hint = (
                did_you_mean(name, self.spec.blocks)
                if self.spec.blocks
                else "This spec defines no blocks; add them under 'blocks:' or 'include:' a file."
            )
            if name in REGISTRY:
                hint = f"'{name}' is a layer kind: write 'type: {name}'."
            raise SpecError(
                f"unknown block '{name}'.",
                file=item.file,
                line=item.line_of("use"),
                layer=full,
                hint=hint,
            )
        if name in self.block_stack:
            raise SpecError(
                f"block '{name}' uses itself (through {' -> '.join(self.block_stack + [name])}).",
                file=item.file,
                line=item.line,
                layer=full,
            )
        if len(inputs) != 1:
            raise SpecError(
                f"a block takes one input; got {len(inputs)}.",
                file=item.file,
                line=item.line_of("inputs"),
                layer=full,
                hint="Merge the branches (add/concat) before the block.",
            )
        if not isinstance(inputs[0], Ref):
            raise SpecError(
                f"the input '{inputs[0][1]}' of block '{full}' is used before it is defined.",
                file=item.file,
                line=item.line_of("inputs"),
                layer=full,
            )
        args = {}
        for key, value in item.items():
            if key in RESERVED_ITEM_KEYS:
                continue
            if key not in block.args:
                raise SpecError(
                    f"block '{name}' has no arg '{key}'.",
                    file=item.file,
                    line=item.line_of(key),
                    layer=full,
                    hint=did_you_mean(key, block.args)
                    + f" Args of {name}: "
                    + (", ".join(block.args) or "none")
                    + ".",
                )
            args[key] = self.evaluate(value, variables, item, key)
        inner = _Scope(
            prefix=full + ".", input=inputs[0], parent=scope, variables={**self.knobs, **args}
        )
        inner.variables["in_channels"] = lambda: self.shape_of(inner.input, item).c
        if "repeat_index" in variables:
            inner.variables["repeat_index"] = variables["repeat_index"]
        # Defaults may be expressions over params, the args before them and in_channels.
        for key, default in block.args.items():
            if key in args:
                continue
            if default is None:
                raise SpecError(
                    f"block '{name}' needs the arg '{key}'.",
                    file=item.file,
                    line=item.line,
                    layer=full,
                    hint=f"Add '{key}: ...'.",
                )
            try:
                inner.variables[key] = render(default, inner.variables)
            except SpecError as exc:
                exc.located(file=block.file, line=block.line, layer=full)
                raise
        cache = _ACTIVE
        clean = not self.errors and not self.failed  # only error-free builds are shared
        key = self.block_key(cache, block, inner) if cache is not None and clean else None
        if key is not None:
            assert cache is not None
            found = cache.blocks.get(key)
            if found is not None and found[1] is not None:
                replayed = self.replay(found[1], full, inner.input)
                if replayed is not None:
                    return replayed
        mark = len(self.nodes)
        self.block_stack.append(name)
        try:
            self.run_items(block.layers, inner)
        finally:
            self.block_stack.pop()
        if block.output is not None:
            out = self.lookup(inner, block.output)
            if out is None:
                raise SpecError(
                    f"block '{name}' names output '{block.output}', which is not "
                    "one of its layers.",
                    file=block.file,
                    line=block.line,
                    hint=did_you_mean(block.output, inner.names),
                )
        else:
            assert inner.last is not None
            out = inner.last
        if key is not None and not self.errors and not self.failed:
            # Recorded the second time the key is met: many keys (a block over a knob
            # that every configuration sets differently) are never met again.
            assert cache is not None
            if key not in cache.blocks:
                cache.remember(cache.blocks, key, (block, None))
            else:
                recorded = self.record_block(mark, full, inner.input, out)
                if recorded is not None:
                    cache.remember(cache.blocks, key, (block, recorded))
        return out

    # -- a sweep's reuse of whole block expansions (inside sharing()) ----------------
    def block_key(self, cache: BuildCache, block: Block, inner: _Scope) -> tuple[Any, ...] | None:
        """What a use of ``block`` expands from: the block, the typed values of every
        name its items (nested blocks included) and the spec's defaults mention, in
        its scope and among the params, and its input's shape. None when that cannot
        be known without side effects (the input's shape is not inferable yet)."""
        names = cache.block_names.get(id(block))
        if names is None or names[0] is not block:
            names = (block, tuple(sorted(self.names_in_block(block, set()))))
            cache.block_names[id(block)] = names
        try:
            shape = self.probe_shape(inner.input)
        except SpecError:
            return None
        values: list[Any] = [id(block), shape]
        for scope in (inner.variables, self.knobs):
            for name in names[1]:
                value = scope.get(name, _MISSING)
                if name == "in_channels" and callable(value):
                    continue  # the input's shape is in the key
                values.append((name, type(value), value))
        key = tuple(values)
        try:
            hash(key)
        except TypeError:  # a list value: not shared
            return None
        return key

    def probe_shape(self, ref: Ref) -> Shape:
        """The shape of ``ref``, inferred if need be; on failure the builder is left
        as it was (the failure is reported where the spec itself needs that shape)."""
        if ref.node in self.shapes:
            return self.shape_of(ref)
        before = set(self.failed)
        try:
            return self.shape_of(ref)
        except SpecError:
            self.failed = before
            raise

    def names_in_block(self, block: Block, seen: set[str]) -> set[str]:
        names = set() if block.name in seen else names_in(block.layers) | names_in(block.args)
        seen.add(block.name)
        names |= names_in(self.spec.defaults)
        for item in block.layers:
            use = item.get("use") if isinstance(item, dict) else None
            nested = self.spec.blocks.get(use) if isinstance(use, str) else None
            if nested is not None and nested.name not in seen:
                names |= self.names_in_block(nested, seen)
        return names

    def record_block(
        self, mark: int, full: str, start: Ref, out: Ref
    ) -> tuple[list[tuple[Any, ...]], tuple[str | None, int | None]] | None:
        """The nodes a block use added (since ``mark``), relative to its name ``full``
        and its input ``start``; None unless they are self-contained (every input is
        the block's input or one of them, every name under ``full.``)."""
        added = list(self.nodes.values())[mark:]
        prefix = full + "."
        inside = {n.name for n in added}

        def relative(ref: Any) -> tuple[str | None, int | None] | None:
            if not isinstance(ref, Ref):
                return None
            if ref.node in inside:
                return ref.node[len(prefix) :], ref.port
            if ref == start:
                return None, -1
            return None

        before = set(self.failed)
        try:  # the shapes go with the record (a pure function of the input's shape)
            shapes = [self.output_shapes(node.name) for node in added]
        except SpecError:
            self.failed = before
            return None
        nodes = []
        for node, outs in zip(added, shapes, strict=True):
            inputs = [relative(r) for r in node.inputs]
            if not node.name.startswith(prefix) or any(r is None for r in inputs):
                return None
            composite = None
            if node.composite is not None:
                if not node.composite[0].startswith(prefix):
                    return None
                composite = (node.composite[0][len(prefix) :], node.composite[1])
            suffix = node.name[len(prefix) :]
            nodes.append(
                (suffix, node.kind, node.layer, inputs, node.file, node.line, composite, outs)
            )
        end = relative(out)
        if end is None:
            return None
        return nodes, end

    def replay(
        self,
        recorded: tuple[list[tuple[Any, ...]], tuple[str | None, int | None]],
        full: str,
        start: Ref,
    ) -> Ref | None:
        """Add a recorded block expansion under the name ``full``, reading ``start``;
        None (nothing added) where a name is taken or the layer limit would be passed,
        so that the ordinary expansion reports it."""
        nodes, end = recorded
        prefix = full + "."
        if len(self.nodes) + len(nodes) > MAX_LAYERS + 1 or any(
            prefix + n[0] in self.nodes for n in nodes
        ):
            return None

        def absolute(rel: tuple[str | None, int | None]) -> Ref:
            return start if rel[0] is None else Ref(prefix + rel[0], rel[1])

        for suffix, kind, layer, inputs, file, line, composite, outs in nodes:
            name = prefix + suffix
            self.shapes[name] = outs
            self.nodes[name] = _Node(
                name,
                kind,
                layer,
                [absolute(r) for r in inputs],
                file,
                line,
                len(self.nodes),
                None if composite is None else (prefix + composite[0], composite[1]),
            )
        return absolute(end)


class BuildCache:
    """What many builds of one spec may share: layers are frozen, shapes and counts are
    pure functions of (layer, input shapes), so a sweep's configurations, which rebuild
    the same layers on the same shapes again and again, compute each once.

    Active only inside :func:`sharing` (the sweep's path); ``archcost.load`` builds
    without it. Only successes are kept (a failure is recomputed, with its location);
    a table is emptied when it reaches ``limit`` entries.
    """

    def __init__(self, limit: int = 200_000):
        self.limit = limit
        self.layers: dict[tuple[Any, ...], Layer] = {}
        self.shapes: dict[tuple[Any, ...], tuple[Shape, ...]] = {}
        self.counts: dict[tuple[Any, ...], Any] = {}
        self.blocks: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self.block_names: dict[int, tuple[Any, tuple[str, ...]]] = {}

    def remember(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        # A block record holds a whole expansion: a tenth as many of them.
        if len(table) >= (self.limit // 10 if table is self.blocks else self.limit):
            table.clear()
        table[key] = value

    def clear(self) -> None:
        self.layers.clear()
        self.shapes.clear()
        self.counts.clear()
        self.blocks.clear()
        self.block_names.clear()


_ACTIVE: BuildCache | None = None


@contextmanager
def sharing(cache: BuildCache) -> Iterator[None]:
    """Builds (and :func:`archcost.costs.count_all`) inside share ``cache``."""
    global _ACTIVE
    previous, _ACTIVE = _ACTIVE, cache
    try:
        yield
    finally:
        _ACTIVE = previous


def active_cache() -> BuildCache | None:
    """The :class:`BuildCache` of the enclosing :func:`sharing`, if any."""
    return _ACTIVE


_MISSING = object()


def names_in(value: Any) -> set[str]:
    """Every name an expression anywhere in ``value`` (a spec mapping, list or text)
    mentions."""
    if isinstance(value, dict):
        found: set[str] = set()
        for item in value.values():
            found |= names_in(item)
        return found
    if isinstance(value, list | tuple):
        found = set()
        for item in value:
            found |= names_in(item)
        return found
    return names_used(value) if isinstance(value, str) else set()


def layer_from_fields(cls: type[Layer], fields: dict[str, Any]) -> Layer:
    """``cls.from_fields(fields)``; inside :func:`sharing`, one instance for every
    build that evaluates the same fields to the same values of the same types
    (``True`` and ``1`` are different fields, although equal in Python)."""
    cache = _ACTIVE
    if cache is None:
        return cls.from_fields(fields)
    try:
        key = (cls, *((k, type(v), v) for k, v in fields.items()))
        layer = cache.layers.get(key)
    except TypeError:  # an unhashable value (a list): nothing to share
        return cls.from_fields(fields)
    if layer is None:
        layer = cls.from_fields(fields)
        cache.remember(cache.layers, key, layer)
    return layer


def to_count(value: Any, item: YMap) -> int:
    try:
        count = to_int(value, "repeat")
    except SpecError as exc:
        exc.located(file=item.file, line=item.line_of("repeat"))
        raise
    if count > MAX_LAYERS:
        raise SpecError(
            f"repeat: {count:,} is more than the {MAX_LAYERS:,} layers a spec may have; refused.",
            file=item.file,
            line=item.line_of("repeat"),
        )
    return count


@dataclass(frozen=True)
class Node:
    """One node of the network: a layer (or the input) with its wiring and shapes.

    Attributes:
        name: the full hierarchical name.
        layer: the kind instance; None for the network input.
        inputs: the names of the nodes it reads, in order.
        ports: which output of each input (None = its only output).
        input_shapes: the shape of each input.
        output_shapes: every output's shape (several only for channel_split).
        file, line: where the layer was written.
        order: its position in the spec (definition order).
        composite: ``(name, layer)`` of the composite it is a row of, else None.
    """

    name: str
    layer: Layer | None
    inputs: tuple[str, ...]
    ports: tuple[int | None, ...]
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape, ...]
    file: str | None
    line: int | None
    order: int
    composite: tuple[str, Layer] | None = None

    @property
    def kind(self) -> str:
        """The layer's kind; ``input`` for the network input."""
        return self.layer.kind if self.layer is not None else INPUT

    @property
    def fields(self) -> dict[str, Any]:
        """The layer's fields (none for the input)."""
        return self.layer.fields() if self.layer is not None else {}

    @property
    def output_shape(self) -> Shape:
        """The only output's shape (the first of several)."""
        return self.output_shapes[0]


@dataclass(frozen=True)
class Network:
    """The built network: nodes in schedule order, and who consumes what.

    Attributes:
        name: the spec's name.
        nodes: every node (the input first), in ``order``.
        order: the topological schedule: spec order wherever the data flow allows.
        consumers: per node, the distinct nodes that read it, in schedule order.
    """

    name: str
    nodes: dict[str, Node]
    order: tuple[str, ...]
    consumers: dict[str, tuple[str, ...]]

    def digraph(self) -> nx.DiGraph:
        """The topology as a ``networkx.DiGraph``: one node per :class:`Node` (in
        definition order, ``graph.nodes[name]["node"]``), edges from input to consumer."""
        import networkx as nx  # lazy: loading and costing a spec never needs networkx

        graph = nx.DiGraph(name=self.name)
        by_definition = sorted(self.nodes.values(), key=lambda n: n.order)
        for node in by_definition:
            graph.add_node(node.name, node=node)
        for node in by_definition:
            for src in node.inputs:
                graph.add_edge(src, node.name)
        return graph


def schedule(nodes: dict[str, list[str]]) -> list[str]:
    """A topological order of ``nodes`` (name -> input names, in definition order):
    among the nodes ready to run, always the earliest defined (the spec order wherever
    the data flow allows).

    >>> schedule({"input": [], "a": ["input", "b"], "b": ["input"]})
    ['input', 'b', 'a']

    Raises:
        CycleError: the inputs form a cycle.
    """
    position = {name: i for i, name in enumerate(nodes)}
    if all(position[src] < position[name] for name, srcs in nodes.items() for src in srcs):
        return list(nodes)
    waiting = {name: len(set(srcs)) for name, srcs in nodes.items()}
    consumers: dict[str, list[str]] = {name: [] for name in nodes}
    for name, srcs in nodes.items():
        for src in dict.fromkeys(srcs):
            consumers[src].append(name)
    ready = [position[name] for name, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    names = list(nodes)
    order = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for consumer in consumers[name]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                heapq.heappush(ready, position[consumer])
    if len(order) < len(nodes):
        raise CycleError(find_cycle(consumers))
    return order


class CycleError(Exception):
    """The nodes' inputs form a cycle: ``cycle`` lists its nodes."""

    def __init__(self, cycle: list[str]):
        super().__init__(" -> ".join(cycle + cycle[:1]))
        self.cycle = cycle


def find_cycle(successors: dict[str, list[str]]) -> list[str]:
    """The first cycle a depth-first search meets (nodes and successors in their
    given order), as the list of its nodes; [] when there is none.

    >>> find_cycle({"input": ["a"], "a": ["b"], "b": ["a"]})
    ['a', 'b']
    """
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for root in successors:
        if root in state:
            continue
        path = [root]
        state[root] = 1
        stack = [iter(successors[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                state[path.pop()] = 2
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(successors[nxt]))
    return []


def build_network(spec: Spec, knobs: dict[str, Any], input_shape: Shape) -> Network:
    """Expand ``spec`` into a :class:`Network` with shapes on every node.

    Raises:
        SpecError: anything wrong with the spec (undefined names, cycles, shapes, ...).
    """
    builder = _Builder(spec, knobs, input_shape)
    builder.build()
    # After build() every input is resolved to a Ref (or build() raised).
    refs = {n.name: typing.cast(list[Ref], n.inputs) for n in builder.nodes.values()}
    try:
        order = schedule(
            {name: [r.node for r in inputs if r.node != FAILED] for name, inputs in refs.items()}
        )
    except CycleError as exc:
        first = builder.nodes[exc.cycle[0]]
        raise SpecError(
            f"the layers form a cycle: {exc}.",
            file=first.file,
            line=first.line,
            hint="Check the 'inputs' of these layers; data must flow one way.",
        ) from None
    shapes: dict[str, tuple[tuple[Shape, ...], tuple[Shape, ...]]] = {}
    try:
        for name in order:
            # Independent shape errors are all reported; a layer fed by a failed one
            # is skipped (its error would only repeat the first).
            b = builder.nodes[name]
            try:
                outs = builder.output_shapes(name)
                shapes[name] = (tuple(builder.shape_of(r, b) for r in refs[name]), outs)
            except SpecError as exc:
                builder.record(exc)
    except _Stop:
        pass
    builder.raise_errors()
    nodes = {}
    consumers: dict[str, list[str]] = {name: [] for name in order}
    for name in order:
        b = builder.nodes[name]
        for ref in refs[name]:
            if not consumers[ref.node] or consumers[ref.node][-1] != name:
                consumers[ref.node].append(name)
        input_shapes, output_shapes = shapes[name]
        nodes[name] = Node(
            name=name,
            layer=b.layer,
            inputs=tuple(r.node for r in refs[name]),
            ports=tuple(r.port for r in refs[name]),
            input_shapes=input_shapes,
            output_shapes=output_shapes,
            file=b.file,
            line=b.line,
            order=b.order,
            composite=b.composite,
        )
    return Network(
        name=spec.name,
        nodes=nodes,
        order=tuple(order),
        consumers={k: tuple(v) for k, v in consumers.items()},
    )
