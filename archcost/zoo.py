"""The bundled model zoo: the specs that ship inside the package, found by name.

The zoo is package data under ``archcost/zoo/``. In the repository that directory is a
symbolic link to ``specs/`` (the one copy people read and edit); building the wheel
copies the files behind it into the package, so an installed archcost answers
``archcost analyze mobilenet_v2`` without a clone.

A spec argument means a file when such a file exists, and a bundled network otherwise
(:func:`locate`): ``mobilenet_v2``, ``mobilenet_v2.yaml`` or ``examples/sobel_separable``.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from archcost.errors import SpecError

ZOO = Path(__file__).resolve().parent / "zoo"
"""Where the bundled specs live (``specs/`` of the repository, or its copy in a wheel)."""

SUFFIXES = (".yaml", ".yml")


def names() -> list[str]:
    """The bundled networks (the top-level specs; blocks and examples are not networks).

    >>> "mobilenet_v2" in names() and "shufflenet_v1" in names()
    True
    """
    return sorted(p.stem for p in ZOO.glob("*.yaml"))


def examples() -> list[str]:
    """The bundled worked examples, addressed as ``examples/NAME``.

    >>> "examples/standard_vs_separable" in examples()
    True
    """
    return sorted(f"examples/{p.stem}" for p in (ZOO / "examples").glob("*.yaml"))


def locate(spec: str | Path) -> Path:
    """The file a spec argument means: the path itself when it exists, else the bundled
    network of that name.

    Args:
        spec: a path, or a zoo name with or without ``.yaml`` (``examples/NAME`` for a
            worked example).

    Raises:
        SpecError: neither a file nor a bundled name, with the closest bundled names.

    >>> locate("mobilenet_v2").name
    'mobilenet_v2.yaml'
    >>> try:
    ...     locate("mobilenetv2")
    ... except SpecError as exc:
    ...     print(exc.message); print(exc.hint)
    'mobilenetv2' is neither a spec file nor a bundled network.
    Did you mean 'mobilenet_v2'? Run 'archcost zoo' to list the bundled networks.
    """
    path = Path(spec)
    try:
        exists = path.exists()
        found = None if exists else _bundled(str(spec))
    except (OSError, ValueError) as exc:  # a name too long, an embedded NUL byte ...
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecError(f"cannot use this path: {reason}.", file=str(spec)) from None
    if exists:
        return path
    text = str(spec)
    if found is not None:
        return found
    stem = path.name
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    listing = "Run 'archcost zoo' to list the bundled networks."
    if "/" in text or "\\" in text or text.endswith(SUFFIXES):  # meant as a path
        if stem in names():
            hint = f"For the bundled network of that name, give its name alone: '{stem}'."
        else:
            hint = " ".join(filter(None, ["Check the path.", _closest(stem), listing]))
        raise SpecError("no such file.", file=text, hint=hint)
    raise SpecError(
        f"'{text}' is neither a spec file nor a bundled network.",
        hint=" ".join(filter(None, [_closest(stem) or f"Bundled: {', '.join(names())}.", listing])),
    )


def find(name: str) -> Path:
    """The bundled spec called ``name`` (a network or ``examples/NAME``), never a file
    elsewhere.

    Raises:
        SpecError: no bundled spec has that name (with the closest ones).
    """
    found = _bundled(name)
    if found is None:
        raise SpecError(
            f"'{name}' is not a bundled network.",
            hint=_closest(name.removesuffix(".yaml")) or f"Bundled: {', '.join(names())}.",
        )
    return found


def _bundled(text: str) -> Path | None:
    """The zoo file named ``text`` (``NAME``, ``NAME.yaml``, ``examples/NAME``), if any."""
    rel = text if text.endswith(SUFFIXES) else f"{text}.yaml"
    candidate = (ZOO / rel).resolve()
    root = ZOO.resolve()
    if root not in candidate.parents or not candidate.is_file():
        return None  # only files inside the zoo: never '../../somewhere'
    return candidate


def _closest(stem: str) -> str:
    """ "Did you mean ...?" naming the bundled names close to ``stem``, or "" when none is.

    >>> _closest("shufflenet")
    "Did you mean 'shufflenet_v1' or 'shufflenet_v2'?"
    """
    known = names() + examples()
    close = [n for n in known if n.startswith(stem)] if len(stem) >= 3 else []
    close = close or difflib.get_close_matches(stem, known, n=1, cutoff=0.6)
    if not close:
        return ""
    quoted = [f"'{n}'" for n in close]
    return (
        "Did you mean "
        + (" or ".join([", ".join(quoted[:-1]), quoted[-1]]) if len(quoted) > 1 else quoted[0])
        + "?"
    )


def header(path: Path) -> str:
    """The comment block at the top of a spec (its sources and corrections), uncommented.

    >>> header(locate("mobilenet_v1")).splitlines()[0].startswith("MobileNet V1")
    True
    """
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return "\n".join(lines)
