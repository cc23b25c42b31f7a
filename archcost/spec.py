"""YAML -> :class:`Spec`: the raw network description, every item with its file:line.

Loading is safe by construction (docs/safety.md): only regular files are read, and
at most a size limit of them; YAML is composed by PyYAML's safe loader (libyaml when
available), only the standard scalar/sequence/mapping tags are accepted, numbers are
bounded as expression results are, and the node tree is converted by hand so that
alias bombs and recursive aliases are refused after a bounded amount of work, not
after exhausting memory. ``include`` reads only files inside the top-level spec's
directory tree, an explicit include path, or the bundled specs.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from archcost.errors import SpecError, did_you_mean, kind_of, quoted, shown
from archcost.expressions import MAX_INT_BITS
from archcost.zoo import ZOO

FORMAT_VERSION = 1
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_YAML_NODES = 200_000  # values after alias expansion; real specs use < 10,000
# The longest number literal read: 2**256 has 78 decimal digits, 0b... 258 characters.
MAX_NUMBER_CHARS = 300

TOP_LEVEL_KEYS = (
    "archcost",
    "name",
    "description",
    "input",
    "params",
    "requires",
    "defaults",
    "include",
    "blocks",
    "layers",
    "ranges",
    "reported",
)
BLOCK_KEYS = ("args", "layers", "output", "description")
RESERVED_ITEM_KEYS = ("type", "use", "name", "inputs", "when", "repeat")

_STANDARD_TAGS = {
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


class YMap(dict):
    """A YAML mapping that remembers where it (and each of its keys) stood."""

    file: str
    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YList(list):
    """A YAML sequence that remembers its line."""

    file: str
    line: int


_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR, _INT, _FLOAT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, with the implicit-tag resolution of plain scalars memoised
    (specs repeat the same few words thousands of times)."""

    _tags: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._tags) < 100_000:
                    self._tags[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


def _loader() -> type:
    return _Loader


def read_yaml(path: Path, display: str | None = None) -> Any:
    """Read one YAML document into YMap/YList/scalars, safely.

    Raises:
        SpecError: unreadable file, YAML syntax error, a non-standard tag, more than
            one document, an alias bomb or a recursive alias.
    """
    name = display or str(path)
    text = read_text(
        path,
        name,
        limit=MAX_FILE_BYTES,
        what="",
        too_large=f"specs are limited to {MAX_FILE_BYTES:,} bytes.",
        missing_hint="Check the path; bundled specs live in specs/.",
    )
    doc = parse_yaml(text, name)
    if doc is None:
        raise SpecError(
            "the document is empty.",
            file=name,
            hint="A spec is a mapping with at least 'archcost: 1', 'name', 'input' and 'layers'.",
        )
    return doc


def read_text(
    path: Path, name: str, *, limit: int, what: str, too_large: str, missing_hint: str
) -> str:
    """A small UTF-8 file's text, or a SpecError (missing, too large, unreadable).

    Args:
        path: the file.
        name: how messages name it.
        limit: the largest size accepted, in bytes.
        what: what the file is, in messages ("device profile"); empty for a spec.
        too_large: the sentence that follows "the file is N bytes;".
        missing_hint: how to fix a missing file.

    Only a regular file is read (a FIFO would hang, /dev/zero never ends), and at
    most ``limit + 1`` bytes of it whatever ``stat()`` says.
    """
    try:
        _require_regular(os.stat(path), name, what)  # before open: opening has effects
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SpecError(
            f"no such {what + ' ' if what else ''}file.", file=name, hint=missing_hint
        ) from None
    except OSError as exc:
        raise SpecError(
            f"cannot read the {what or 'file'}: {exc.strerror or exc}.", file=name
        ) from None
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fh.fileno())
            _require_regular(info, name, what)  # what was opened, not what was named
            if info.st_size > limit:
                raise SpecError(f"the file is {info.st_size:,} bytes; {too_large}", file=name)
            os.set_blocking(fh.fileno(), True)
            data = fh.read(limit + 1)
        except OSError as exc:
            raise SpecError(
                f"cannot read the {what or 'file'}: {exc.strerror or exc}.", file=name
            ) from None
    if len(data) > limit:
        raise SpecError(f"the file is more than {limit:,} bytes; {too_large}", file=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"the {what or 'file'} is not UTF-8 text (byte {exc.start:,}).", file=name
        ) from None


def number_in_range(value: Any) -> bool:
    """False for a number past what a spec may hold: 2**256 (as expression results),
    infinity or NaN; True for everything else (bools, strings, ...).

    >>> number_in_range(224), number_in_range(10**100), number_in_range(float("inf"))
    (True, False, False)
    """
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value.bit_length() <= MAX_INT_BITS
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) < 2.0**MAX_INT_BITS
    return True


def _require_regular(info: os.stat_result, name: str, what: str) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    found = (
        "a directory"
        if stat.S_ISDIR(info.st_mode)
        else "a FIFO"
        if stat.S_ISFIFO(info.st_mode)
        else "a device"
        if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
        else "a socket"
        if stat.S_ISSOCK(info.st_mode)
        else "not a regular file"
    )
    raise SpecError(
        f"this is {found}; a {what or 'spec'} is read only from a regular file.",
        file=name,
        hint="Give the path of a YAML file.",
    )


def parse_yaml(text: str, name: str) -> Any:
    """Parse one YAML document safely into YMap/YList/scalars; None when it is empty.

    Args:
        text: the document.
        name: the file name for messages.

    Raises:
        SpecError: YAML syntax error, a non-standard tag, more than one document, an
            alias bomb or a recursive alias.
    """
    try:
        node = yaml.compose(text, Loader=_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}.", file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}.", file=name) from None
    except RecursionError:
        raise SpecError("the YAML document is nested too deeply.", file=name) from None
    if node is None:
        return None
    return _Converter(name).convert(node)


class _Converter:
    def __init__(self, file: str):
        self.file = file
        self.count = 0
        self.active: set[int] = set()
        self.scalars = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node) -> Any:
        try:
            return self._convert(node)
        except RecursionError:
            raise SpecError("the YAML document is nested too deeply.", file=self.file) from None

    def _convert(self, node: yaml.Node) -> Any:
        line = node.start_mark.line + 1
        self.count += 1
        if self.count > MAX_YAML_NODES:
            raise SpecError(
                f"the document expands to more than {MAX_YAML_NODES:,} values "
                "(an alias bomb?); refused.",
                file=self.file,
                line=line,
            )
        if node.tag not in _STANDARD_TAGS:
            raise SpecError(
                f"the YAML tag {quoted(node.tag)} is not allowed.",
                file=self.file,
                line=line,
                hint="Specs use plain YAML: mappings, lists, numbers, strings, booleans and null.",
            )
        if id(node) in self.active:
            raise SpecError("a recursive YAML alias refers to itself.", file=self.file, line=line)
        if isinstance(node, yaml.ScalarNode):
            value, tag = node.value, node.tag
            # Fast paths for the common scalars; the constructor handles the rest
            # (bools, nulls, 0x/0o ints, 1_000, .inf, timestamps-as-strings ...).
            if tag == _STR:
                return value
            if tag in (_INT, _FLOAT) and len(value) > MAX_NUMBER_CHARS:
                raise SpecError(
                    f"a number of {len(value):,} characters is too large; numbers "
                    f"in a spec are limited to 2**{MAX_INT_BITS}.",
                    file=self.file,
                    line=line,
                )
            if tag == _INT and value.isascii() and value.isdigit():
                return self._bounded(int(value), line)
            if tag == _FLOAT and value.isascii() and value.replace(".", "", 1).isdigit():
                return self._bounded(float(value), line)
            try:
                result = self.scalars.construct_object(node)
            except yaml.YAMLError as exc:
                raise SpecError(f"bad scalar: {exc}.", file=self.file, line=line) from None
            except (ValueError, TypeError, KeyError, IndexError, OverflowError):
                # PyYAML's constructors raise these for '!!float abc', '!!int x', '!!bool 2'.
                expected = {_INT: "an integer", _FLOAT: "a number"}.get(
                    tag, "a " + tag.rsplit(":", 1)[-1]
                )
                raise SpecError(
                    f"{quoted(value)} is tagged {tag.rsplit(':', 1)[-1]} but is not {expected}.",
                    file=self.file,
                    line=line,
                    hint="Remove the !! tag or fix the value.",
                ) from None
            return self._bounded(result, line)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                out = YList(self._convert(item) for item in node.value)
                out.file, out.line = self.file, line
                return out
            assert isinstance(node, yaml.MappingNode)  # the composer's third kind of node
            self.scalars.flatten_mapping(node)  # YAML merge keys (<<)
            mapping = YMap()
            mapping.file, mapping.line, mapping.key_lines = self.file, line, {}
            for key_node, value_node in node.value:
                key = self._convert(key_node)
                if not isinstance(key, str | int | float | bool):
                    raise SpecError(
                        "mapping keys must be plain strings.",
                        file=self.file,
                        line=key_node.start_mark.line + 1,
                    )
                key = str(key)
                if key in mapping:
                    raise SpecError(
                        f"the key {quoted(key)} appears twice in one mapping.",
                        file=self.file,
                        line=key_node.start_mark.line + 1,
                    )
                mapping[key] = self._convert(value_node)
                mapping.key_lines[key] = key_node.start_mark.line + 1
            return mapping
        finally:
            self.active.discard(id(node))

    def _bounded(self, value: Any, line: int) -> Any:
        """Numbers as large as expression results may be, and finite."""
        if number_in_range(value):
            return value
        if isinstance(value, int):
            raise SpecError(
                f"the integer {shown(value)} is too large; numbers here are "
                f"limited to 2**{MAX_INT_BITS}.",
                file=self.file,
                line=line,
            )
        raise SpecError(
            f"the number {value!r} is out of range; numbers here are "
            f"finite and below 2**{MAX_INT_BITS}.",
            file=self.file,
            line=line,
        )


@dataclass
class Block:
    """A reusable sub-network: its args (None = required), layers and output."""

    name: str
    args: dict[str, Any]
    layers: list[YMap]
    output: str | None
    file: str
    line: int


@dataclass
class Spec:
    """A parsed spec file: everything still unevaluated (expressions stay text)."""

    name: str
    description: str
    input: list[Any]
    params: dict[str, Any]
    defaults: dict[str, dict[str, Any]]
    blocks: dict[str, Block]
    layers: list[YMap]
    file: str
    line_of: dict[str, int] = field(default_factory=dict)
    requires: list[YMap] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    """Every file read: the spec, then its includes (outputs must never be one)."""
    ranges: dict[str, list[Any] | str] = field(default_factory=dict)
    """Per param, the values its sources tabulate, or a sentence (``ranges:``)."""
    reported: list[dict[str, Any]] = field(default_factory=list)
    """Published ImageNet top-1 (%) per knob setting: {"knobs", "top1", "source"} each."""


def load_spec(
    path: str | Path, include_path: Iterable[str | Path] = (), *, text: str | None = None
) -> Spec:
    """Read and check the structure of a spec file (and the files it includes).

    Args:
        path: the spec file.
        include_path: more directories whose files ``include`` may read, besides the
            spec's own directory tree and the bundled specs.
        text: the spec's text, already in memory (a spec archcost generated, such as a
            whatif's rewrite); ``path`` then only names it and anchors its includes.
    """
    path = Path(path)
    if text is None:
        doc = read_yaml(path)
    else:
        doc = parse_yaml(text, str(path))
        if doc is None:
            raise SpecError("the document is empty.", file=str(path))
    file = str(path)
    _check_mapping(doc, file, what="a spec")
    unknown = [k for k in doc if k not in TOP_LEVEL_KEYS]
    if unknown:
        key = unknown[0]
        raise SpecError(
            f"unknown top-level key {quoted(key)}.",
            file=file,
            line=doc.line_of(key),
            hint=did_you_mean(key, TOP_LEVEL_KEYS),
        )
    version = doc.get("archcost")
    if version is None:
        raise SpecError(
            "missing 'archcost: 1' (the format version).",
            file=file,
            line=doc.line,
            hint="Add 'archcost: 1' as the first line.",
        )
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise SpecError(
            f"unsupported format version archcost: {shown(version)}; this archcost "
            f"reads version {FORMAT_VERSION}.",
            file=file,
            line=doc.line_of("archcost"),
        )
    for key in ("name", "input", "layers"):
        if key not in doc:
            raise SpecError(f"missing required key '{key}'.", file=file, line=doc.line)
    name = doc["name"]
    if not isinstance(name, str | int | float) or isinstance(name, bool) or str(name) == "":
        raise SpecError(
            f"'name' must be a non-empty string, got {shown(name)}.",
            file=file,
            line=doc.line_of("name"),
        )
    inp = doc["input"]
    if not isinstance(inp, list) or len(inp) not in (3, 4):
        raise SpecError(
            f"'input' must be [C, H, W] or [C, D, H, W], got {shown(inp)}.",
            file=file,
            line=doc.line_of("input"),
            hint="Give the per-sample shape without the batch axis, e.g. [3, 224, 224].",
        )
    params = doc.get("params") or YMap()
    _check_mapping(params, file, what="'params'", line=doc.line_of("params"))
    for key, value in params.items():
        if not isinstance(value, int | float | bool | str):
            raise SpecError(
                f"param {quoted(key)} must be a number, bool or string, got {shown(value)}.",
                file=file,
                line=params.line_of(key),
            )
    defaults = doc.get("defaults") or YMap()
    _check_mapping(defaults, file, what="'defaults'", line=doc.line_of("defaults"))
    for kind, fields in defaults.items():
        _check_mapping(
            fields, file, what=f"defaults for {quoted(kind)}", line=defaults.line_of(kind)
        )
    requires = doc.get("requires") or YList()
    if not isinstance(requires, list):
        raise SpecError(
            "'requires' must be a list of {check: '${...}', message: '...'}.",
            file=file,
            line=doc.line_of("requires"),
        )
    for rule in requires:
        if not isinstance(rule, dict) or set(rule) != {"check", "message"}:
            raise SpecError(
                "each 'requires' entry is {check: '${...}', message: '...'}, got "
                f"{shown(rule)}.",
                file=file,
                line=getattr(rule, "line", doc.line_of("requires")),
            )
    reported = _read_reported(doc, file, params)
    description = doc.get("description") or ""
    ranges = _read_ranges(doc, file, params)
    blocks: dict[str, Block] = {}
    roots = [
        path.parent.resolve(),
        *(Path(p).resolve() for p in include_path),
        *bundled_spec_dirs(),
    ]
    files = [path]
    _read_includes(doc, path, blocks, seen={path.resolve()}, roots=roots, files=files)
    _read_blocks(doc, file, blocks)
    layers = doc["layers"]
    _check_items(layers, file, doc.line_of("layers"), "'layers'")
    return Spec(
        name=str(name),
        description=str(description),
        input=list(inp),
        params=dict(params),
        defaults={k: dict(v) for k, v in defaults.items()},
        blocks=blocks,
        layers=list(layers),
        file=file,
        line_of={k: doc.line_of(k) for k in doc},
        requires=list(requires),
        files=files,
        ranges=ranges,
        reported=reported,
    )


def _read_ranges(doc: YMap, file: str, params: dict[str, Any]) -> dict[str, list[Any] | str]:
    """``ranges:``, documentation of the knobs: per param, the values its sources
    tabulate (a list) or a sentence ("any multiple of 32"). Nothing is enforced by it
    (``requires`` does that); ``archcost zoo`` shows it."""
    ranges = doc.get("ranges") or YMap()
    _check_mapping(ranges, file, what="'ranges'", line=doc.line_of("ranges"))
    for key, values in ranges.items():
        line = ranges.line_of(key)
        if key not in params:
            raise SpecError(
                f"'ranges' names {quoted(key)}, which is not a param.",
                file=file,
                line=line,
                hint=did_you_mean(key, params) if params else "Declare it under 'params' first.",
            )
        scalars = (
            isinstance(values, list)
            and values
            and all(isinstance(v, int | float | str) and not isinstance(v, bool) for v in values)
        )
        if not (scalars or (isinstance(values, str) and values.strip())):
            raise SpecError(
                f"'ranges' for {quoted(key)} must be a list of values or a "
                f"sentence, got {shown(values)}.",
                file=file,
                line=line,
                hint="e.g. ranges: {width: [0.5, 1.0], resolution: 'any >= 32'}",
            )
    return {k: list(v) if isinstance(v, list) else str(v) for k, v in ranges.items()}


def _read_reported(doc: YMap, file: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """``reported:``: a list of {KNOB: value, ..., top1: %, source: "..."}, the published
    ImageNet top-1 accuracy of the setting (unlisted knobs at their defaults)."""
    items = doc.get("reported")
    if items is None:
        return []
    form = "{KNOB: value, ..., top1: 70.6, source: 'paper, table'}"
    if not isinstance(items, list):
        raise SpecError(
            f"'reported' must be a list of {form}.", file=file, line=doc.line_of("reported")
        )
    out: list[dict[str, Any]] = []
    for item in items:
        line = getattr(item, "line", doc.line_of("reported"))
        if not isinstance(item, dict):
            raise SpecError(
                f"each 'reported' entry is {form}, got {shown(item)}.", file=file, line=line
            )
        top1, source = item.get("top1"), item.get("source")
        if isinstance(top1, bool) or not isinstance(top1, int | float) or not 0 <= top1 <= 100:
            raise SpecError(
                f"'reported' needs top1: a percentage in 0..100, got {shown(top1)}.",
                file=file,
                line=line,
            )
        if not isinstance(source, str) or not source.strip():
            raise SpecError(
                "'reported' needs source: where the number was published.", file=file, line=line
            )
        knobs = {k: v for k, v in item.items() if k not in ("top1", "source")}
        for key, value in knobs.items():
            if key not in params:
                raise SpecError(
                    f"'reported' names the unknown param {shown(key)}.",
                    file=file,
                    line=line,
                    hint=did_you_mean(key, params),
                )
            if isinstance(value, bool) != isinstance(params[key], bool) or (
                isinstance(value, str) != isinstance(params[key], str)
            ):
                raise SpecError(
                    f"'reported': param '{key}' expects a value like "
                    f"{shown(params[key])}, got {shown(value)}.",
                    file=file,
                    line=line,
                )
        setting = {**params, **knobs}
        if any({**params, **e["knobs"]} == setting for e in out):
            raise SpecError("'reported' lists the same setting twice.", file=file, line=line)
        out.append({"knobs": knobs, "top1": float(top1), "source": source.strip()})
    return out


def _check_mapping(value: Any, file: str, *, what: str, line: int | None = None) -> None:
    if not isinstance(value, dict):
        # What it is, never what it holds: the value may be a whole file's text.
        raise SpecError(
            f"{what} must be a mapping, got {kind_of(value)}.",
            file=file,
            line=getattr(value, "line", None) or line,
        )


def _check_items(items: Any, file: str, line: int, what: str) -> None:
    if not isinstance(items, list) or not items:
        raise SpecError(f"{what} must be a non-empty list of layers.", file=file, line=line)
    for item in items:
        if not isinstance(item, dict):
            raise SpecError(
                f"each entry of {what} must be a mapping like "
                f"{{type: conv, out: 32, kernel: 3}}, got {shown(item)}.",
                file=file,
                line=getattr(item, "line", line),
            )


def _read_blocks(doc: YMap, file: str, blocks: dict[str, Block]) -> None:
    raw = doc.get("blocks") or YMap()
    _check_mapping(raw, file, what="'blocks'", line=doc.line_of("blocks"))
    for name, body in raw.items():
        line = raw.line_of(name)
        _check_mapping(body, file, what=f"block {quoted(name)}", line=line)
        unknown = [k for k in body if k not in BLOCK_KEYS]
        if unknown:
            raise SpecError(
                f"unknown key {quoted(unknown[0])} in block {quoted(name)}.",
                file=file,
                line=body.line_of(unknown[0]),
                hint=did_you_mean(unknown[0], BLOCK_KEYS),
            )
        if name in blocks:
            raise SpecError(
                f"block {quoted(name)} is defined twice (also at {blocks[name].file}:"
                f"{blocks[name].line}).",
                file=file,
                line=line,
            )
        args = body.get("args") or YMap()
        _check_mapping(args, file, what=f"args of block {quoted(name)}", line=body.line_of("args"))
        if "layers" not in body:
            raise SpecError(f"block {quoted(name)} has no 'layers'.", file=file, line=line)
        _check_items(body["layers"], file, body.line_of("layers"), f"block {quoted(name)}")
        output = body.get("output")
        blocks[name] = Block(
            name=str(name),
            args=dict(args),
            layers=list(body["layers"]),
            output=None if output is None else str(output),
            file=file,
            line=line,
        )


def bundled_spec_dirs() -> list[Path]:
    """The directories of the bundled specs (the zoo); any spec may include their files."""
    return [ZOO.resolve()] if ZOO.is_dir() else []


def _inside(target: Path, roots: list[Path]) -> bool:
    return any(target == root or target.is_relative_to(root) for root in roots)


def _read_includes(
    doc: YMap,
    path: Path,
    blocks: dict[str, Block],
    seen: set[Path],
    roots: list[Path],
    files: list[Path],
) -> None:
    include = doc.get("include")
    if include is None:
        return
    paths = include if isinstance(include, list) else [include]
    line = doc.line_of("include")
    for rel in paths:
        if not isinstance(rel, str) or not rel or "\0" in rel:
            raise SpecError(
                f"'include' takes a file path or a list of them, got {shown(rel)}.",
                file=str(path),
                line=line,
            )
        target = path.parent / rel
        display = str(target)
        try:
            real = target.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            raise SpecError(
                f"included file {quoted(rel)} cannot be resolved (a symlink loop?).",
                file=str(path),
                line=line,
            ) from None
        if not _inside(real, roots):
            raise SpecError(
                f"included file {quoted(rel)} is outside the spec's directory "
                f"({quoted(roots[0])}); a spec includes only files in its own "
                "directory tree.",
                file=str(path),
                line=line,
                hint="Move the file under the spec's directory, or allow its "
                "directory with --include-path DIR.",
            )
        if real in seen:
            raise SpecError(f"{quoted(rel)} is included recursively.", file=str(path), line=line)
        if not target.exists():
            raise SpecError(
                f"included file {quoted(rel)} does not exist (looked for {quoted(display)}).",
                file=str(path),
                line=line,
            )
        sub = read_yaml(target, display)
        files.append(target)
        _check_mapping(sub, display, what="an included file")
        unknown = [k for k in sub if k not in ("archcost", "include", "blocks", "description")]
        if unknown:
            raise SpecError(
                f"an included file holds only 'blocks' (and 'include'); found "
                f"{quoted(unknown[0])}.",
                file=display,
                line=sub.line_of(unknown[0]),
            )
        _read_includes(sub, target, blocks, seen | {real}, roots, files)
        _read_blocks(sub, display, blocks)
