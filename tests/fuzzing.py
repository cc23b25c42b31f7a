"""Seeded mutations of the bundled specs, and the promise every run must keep.

Used by tests/test_fuzz.py (a few hundred cases) and runnable by hand for a longer
hunt: ``python tests/fuzzing.py 5000 --seed 7`` prints every case that breaks the
promise and saves it under tests/fuzz_corpus/new/.

The promise (docs/safety.md): exit 0, or exit 2 with one stderr line per mistake
(one, or a few for a spec with several independent mistakes), each starting
"archcost: error: ", and no traceback; no file written except the intended
outputs; bounded time (a watchdog) and memory.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
CASE_SECONDS = 20  # a hang guard, far above any real case (they take ~0.1 s)
MAX_ERROR_CHARS = 4000  # a summarised message is far shorter (errors.MAX_MESSAGE_CHARS)
MAX_ERROR_LINES = 21  # 20 mistakes and "stopped after 20 errors" (errors.SpecErrors)

# Values a careless or hostile author might put anywhere.
HOSTILE_SCALARS: list[Any] = [
    0,
    -1,
    1,
    2**31,
    2**63,
    10**30,
    10**77,
    10**400,
    -(10**400),
    1.5,
    -0.0,
    1e308,
    1e-308,
    True,
    False,
    None,
    "",
    " ",
    "x",
    "a\nb",
    "\x1b[31mred",
    "\u2028",
    "😀" * 3,
    "'quote'",
    "\\",
    "%s%n",
    "{}",
    "[",
    "${",
    "${}",
    "${1/0}",
    "${10 ** 10 ** 10}",
    "${2 ** 300}",
    "${__import__('os').system('true')}",
    "${x.__class__}",
    "${[1] * 10}",
    "${'a' * 9}",
    "${in_channels * 1000000}",
    "${-1}",
    "${1e400}",
    "${0.5}",
    "${lambda: 1}",
    "${" + "(" * 200 + "1" + ")" * 200 + "}",
    "${" + "1+" * 300 + "1}",
    "x" * 5000,
    "same",
    "valid",
    "full",
    "../x",
    "/etc/passwd",
    "conv",
    "relu",
    "input",
    "s:0",
    "s:9",
]
HOSTILE_TAGGED = [
    "!!float abc",
    "!!int x",
    "!!bool maybe",
    "!!int ''",
    "!!float ''",
    "!!null x",
    "!!binary aGVsbG8=",
    "!!timestamp 2001-12-14",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!custom 1",
    "!!str 3",
    "!!int 0x" + "f" * 100,
    "!!float 1.0e+999",
    "!!int " + "9" * 5000,
    "&a [*a]",
    "0b" + "1" * 400,
    "0o777",
    "1_000",
    ".inf",
    "-.inf",
    ".nan",
    "2001-12-14",
    "~",
    "<<: {a: 1}",
]
INCLUDES = [
    "../../../../etc/passwd",
    "/etc/passwd",
    "/dev/zero",
    "/dev/null",
    "pipe.yaml",
    "net.yaml",
    "nope.yaml",
    ".",
    "sub",
    "a\nb.yaml",
    "\x00",
    "",
    "link_out.yaml",
    "sub/../../outside.yaml",
    "blocks.yaml",
]


@dataclass
class Case:
    """One fuzz input: files to create, the command line, the outputs it may write."""

    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def bundled_specs() -> list[Path]:
    return sorted(SPECS.glob("*.yaml")) + sorted((SPECS / "examples").glob("*.yaml"))


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.6 or depth > 1:
        return rng.choice(HOSTILE_SCALARS)
    if roll < 0.75:
        return [_value(rng, depth + 1) for _ in range(rng.choice([0, 1, 3, 5, 200]))]
    if roll < 0.85:
        return [rng.choice([1, 3, 0, -1, 10**9])] * rng.choice([2, 3, 4, 5])
    return {
        str(rng.choice(HOSTILE_SCALARS)): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))
    }


def _dump(doc: Any) -> str:
    try:
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, width=2**16)
    except (yaml.YAMLError, ValueError, OverflowError):
        return "archcost: 1\n"


def _text_mutation(rng: random.Random, text: str) -> str | bytes:
    lines = text.splitlines(keepends=True) or ["\n"]
    kind = rng.randrange(9)
    i = rng.randrange(len(lines))
    if kind == 0:  # a tagged scalar somewhere
        line = lines[i]
        if ":" in line:
            head = line.split(":", 1)[0]
            lines[i] = f"{head}: {rng.choice(HOSTILE_TAGGED)}\n"
        else:
            lines.insert(i, f"x{i}: {rng.choice(HOSTILE_TAGGED)}\n")
    elif kind == 1:
        del lines[i]
    elif kind == 2:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif kind == 3:
        return "".join(lines)[: rng.randrange(len(text) + 1)]
    elif kind == 4:
        lines[i] = (" " * rng.choice([1, 2, 3, 8])) + lines[i]
    elif kind == 5:
        data = bytearray("".join(lines).encode())
        for _ in range(rng.randint(1, 5)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    elif kind == 6:
        lines.insert(
            i,
            rng.choice(
                [
                    "---\n",
                    "...\n",
                    "%YAML 1.1\n",
                    "\t\n",
                    "\x00\n",
                    "? [a, b]\n: c\n",
                    "*undefined\n",
                    "&x\n",
                ]
            ),
        )
    elif kind == 7:
        lines[i] = lines[i].replace("3", rng.choice(["3" * 400, "-3", "0", "3.5", "1e9"]), 1)
    else:
        lines[i] = lines[i].replace("${", rng.choice(["${(", "${[", "${1/0 + ", "${10**"]), 1)
    return "".join(lines)


def make_case(rng: random.Random, index: int) -> Case:
    """One mutated spec and a command to run it with (deterministic in ``rng``)."""
    source = rng.choice(bundled_specs())
    text = source.read_text(encoding="utf-8").replace("../blocks/", "blocks/")
    files: dict[str, str | bytes] = {}
    roll = rng.random()
    if roll < 0.5:  # structural
        doc = yaml.safe_load(text)
        for _ in range(rng.randint(1, 3)):
            paths = list(_paths(doc))
            doc = _set(doc, rng.choice(paths), _value(rng))
        if isinstance(doc, dict) and rng.random() < 0.2:
            doc["include"] = rng.choice(INCLUDES)
        body: str | bytes = _dump(doc)
    elif roll < 0.9:
        body = _text_mutation(rng, text)
    else:  # an include, odd or not
        body = text.replace("archcost: 1\n", f"archcost: 1\ninclude: {rng.choice(INCLUDES)!r}\n", 1)
        if "include:" not in text:
            body = body.replace("include:", "include:", 1)
    if "blocks/" in text:  # keep the real includes working
        for sub in (SPECS / "blocks").glob("*.yaml"):
            files[f"blocks/{sub.name}"] = sub.read_text(encoding="utf-8")
    spec_name = rng.choice(["net.yaml"] * 8 + ["odd name ü.yaml", "-dash.yaml", "a\nb.yaml"])
    files[spec_name] = body
    files["blocks.yaml"] = "blocks:\n  extra: {layers: [{type: relu}]}\n"
    files["outside.yaml"] = "root:x:0:0:SECRET\n"
    argv, outputs = _command(rng, spec_name)
    return Case(name=f"{index:04d}-{source.stem}", files=files, argv=argv, outputs=outputs)


def _command(rng: random.Random, spec: str) -> tuple[list[str], list[str]]:
    spec_arg = spec if not spec.startswith("-") else f"./{spec}"
    if rng.random() < 0.03:  # odd spec paths: too long, a directory, a FIFO, a device
        spec_arg = rng.choice(["a" * 5000, "a/" * 3000 + "x.yaml", "sub", "pipe.yaml", "/dev/null"])
    roll = rng.random()
    if roll < 0.55:
        return [
            "analyze",
            spec_arg,
            "--format",
            rng.choice(["json", "json", "csv", "table", "markdown"]),
        ], []
    if roll < 0.62:
        return ["analyze", spec_arg, "--format", "json", "--html", "out.html"], ["out.html"]
    if roll < 0.72:
        return ["compare", spec_arg, f"{spec_arg}@resolution=64", "--format", "json"], []
    if roll < 0.82:
        return ["explain", spec_arg, rng.choice(["*", "conv1", "x\ny"])], []
    if roll < 0.92:
        out = rng.choice(["rewritten.yaml", spec, "sub", "missing/x.yaml"])
        return [
            "whatif",
            spec_arg,
            "--rewrite",
            rng.choice(["separable", "grouped:2", "bogus"]),
            "-o",
            out,
        ], [out] if out not in (spec, "sub") else []
    return [
        "analyze",
        spec_arg,
        "--set",
        rng.choice(["width=0.5", "resolution=" + "9" * 500, "x=1", "resolution=-5", "width=nan"]),
    ], []


class Hang(Exception):
    """A case ran past the watchdog."""


@contextlib.contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def materialise(case: Case, workdir: Path) -> None:
    """Write the case's files under ``workdir/tree`` (plus a FIFO, symlinks, a subdir)."""
    tree = workdir / "tree"
    (tree / "sub").mkdir(parents=True)
    for rel, content in case.files.items():
        path = tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogateescape")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tree / "pipe.yaml")
    (tree / "link_out.yaml").symlink_to(workdir / "outside.yaml")
    (workdir / "outside.yaml").write_text("root:x:0:0:SECRET\n")


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``directory`` with its size and mtime (to see what was written)."""
    found = {}
    for path in sorted(directory.rglob("*")):
        info = path.lstat()
        is_dir = path.is_dir() and not path.is_symlink()
        found[str(path.relative_to(directory))] = (
            (0, 0) if is_dir else (info.st_size, info.st_mtime_ns)
        )
    return found


def run_case(case: Case, workdir: Path) -> list[str]:
    """Run one case in-process (cwd = its tree); returns the broken promises (empty: kept)."""
    from archcost.cli import main

    materialise(case, workdir)
    tree = workdir / "tree"
    before = snapshot(workdir)
    out, err = io.StringIO(), io.StringIO()
    old_cwd = Path.cwd()
    os.chdir(tree)
    started = time.monotonic()
    problems: list[str] = []
    try:
        with (
            watchdog(CASE_SECONDS),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = main(list(case.argv))
    except Hang as exc:
        code, problems = -1, [f"hang: {exc}"]
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # the promise: nothing escapes main()
        code, problems = -1, [f"raised {type(exc).__name__}: {str(exc)[:200]}"]
    finally:
        os.chdir(old_cwd)
    elapsed = time.monotonic() - started
    text = err.getvalue()
    if code not in (0, 2) and not problems:
        problems.append(f"exit {code}: {text[:300]!r}")
    lines = text.splitlines()
    if code == 2:
        # One line per mistake: usually one; a spec with several independent mistakes gets
        # one each, at most MAX_ERROR_LINES (errors.SpecErrors).
        if (
            not lines
            or len(lines) > MAX_ERROR_LINES
            or not all(line.startswith("archcost: error: ") for line in lines)
            or not text.endswith("\n")
        ):
            problems.append(f"not error lines: {text[:300]!r}")
    if any(len(line) > MAX_ERROR_CHARS for line in lines):
        problems.append(f"an error line of {max(len(x) for x in lines):,} characters")
    if "Traceback" in text or "internal error" in text:
        problems.append(f"traceback or internal error: {text[:300]!r}")
    after = snapshot(workdir)
    allowed = set()
    for o in case.outputs:  # an output, and the directories made for it
        path = Path("tree") / o
        allowed |= {str(path), *(str(p) for p in path.parents if p != Path("."))}
    changed = sorted(
        k
        for k in after.keys() | before.keys()
        if after.get(k) != before.get(k) and not (k in allowed and code == 0)
    )
    if changed:
        problems.append(f"files changed: {changed[:5]}")
    if elapsed > CASE_SECONDS:
        problems.append(f"took {elapsed:.0f} s")
    return problems


def save(case: Case, directory: Path) -> Path:
    """Store a breaking case as a corpus entry: the spec, with the command in a header."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = next(
        k
        for k in case.files
        if k not in ("blocks.yaml", "outside.yaml") and not k.startswith("blocks/")
    )
    body = case.files[spec]
    data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogateescape")
    argv = " ".join("SPEC" if a == spec or a == f"./{spec}" else a for a in case.argv)
    path = directory / f"{case.name}.yaml"
    path.write_bytes(f"# argv: {argv}\n".encode() + data)
    return path


if __name__ == "__main__":  # a longer hunt by hand
    import argparse
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("cases", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bad = 0
    for i in range(args.cases):
        case = make_case(rng, i)
        with tempfile.TemporaryDirectory() as tmp:
            problems = run_case(case, Path(tmp))
        if problems:
            bad += 1
            where = save(case, ROOT / "tests" / "fuzz_corpus" / "new")
            print(f"{case.name} {case.argv}: {problems} -> {where}", file=sys.__stdout__)
    print(f"{bad} of {args.cases} cases broke the promise", file=sys.__stdout__)
