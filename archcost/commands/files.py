"""Output files: every path checked before any is written, then all written atomically.

Commands write files only through this module (reports are rendered by
:mod:`archcost.report` into the temporary path it hands them). A command that writes
files (``--html``, ``-o``) first describes them as :class:`Output` values and hands
them to :func:`write_outputs`, which

1. refuses, before anything is written, an output that is one of the inputs (the
   same file, through symlinks, hard links or ``./`` spellings), two outputs that
   are one file, a directory, a device or FIFO, a path under a regular file, or an
   unwritable directory (missing directories are created, inside a writable one);
2. writes each output to a unique temporary file in its target's directory;
3. only when every write succeeded, moves each into place (``os.replace``).

A temporary file never outlives the process's normal end, an error, Ctrl-C
(SIGINT) or SIGTERM: SIGTERM is turned into an exception while outputs are being
written, so the cleanup runs, then the process ends with status 143.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from archcost.errors import SpecError, quoted


@dataclass(frozen=True)
class Output:
    """One file a command will write.

    Attributes:
        option: how the user named it, for messages (``--html``, ``-o``).
        path: the file.
        write: ``write(tmp_path)`` writes the whole content to ``tmp_path``.
    """

    option: str
    path: Path
    write: Callable[[Path], object]


def check_outputs(outputs: Sequence[Output], inputs: Iterable[str | Path] = ()) -> list[Path]:
    """Refuse every bad output path before anything is written; returns the targets.

    The target of an output that is a symbolic link is the file it points to (so
    ``-o link`` updates the linked file, and ``-o /dev/stdout`` is refused as a device).

    Raises:
        SpecError: naming the option and path, for the first bad output.
    """
    existing_inputs = [Path(p) for p in inputs if _exists(Path(p))]
    targets: list[Path] = []
    for out in outputs:
        target = _target(out)
        for inp in existing_inputs:
            if target.exists() and os.path.samefile(target, inp):
                raise SpecError(
                    f"{out.option} {quoted(out.path)} is an input of this command "
                    f"({quoted(inp)}); archcost never overwrites its inputs.",
                    hint="Write to another file.",
                )
        # targets holds the outputs before this one: the zip stops there on purpose
        for other, earlier in zip(outputs, targets, strict=False):
            if target == earlier:
                raise SpecError(
                    f"{out.option} {quoted(out.path)} and {other.option} "
                    f"{quoted(other.path)} are the same file.",
                    hint="Give each output its own path.",
                )
        targets.append(target)
    return targets


def write_outputs(outputs: Sequence[Output], inputs: Iterable[str | Path] = ()) -> list[Path]:
    """Check all outputs, write each to a temporary file, then move all into place.

    Returns:
        The paths as the user gave them, for "wrote PATH" messages.

    Raises:
        SpecError: a bad output path (nothing written) or a write that failed
            (nothing moved into place).
    """
    targets = check_outputs(outputs, inputs)
    with _terminate_cleanly():
        staged: list[Path] = []
        created: list[Path] = []
        done = False
        try:
            for out, target in zip(outputs, targets, strict=True):
                created += _make_parent(out, target)
                staged.append(_stage(out, target))
            for tmp, target in zip(staged, targets, strict=True):
                os.replace(tmp, target)
            done = True
        finally:
            for tmp in staged:
                tmp.unlink(missing_ok=True)
            if not done:  # leave no empty directory behind either
                for directory in reversed(created):
                    with contextlib.suppress(OSError):
                        directory.rmdir()
    return [out.path for out in outputs]


def write_output(out: Output, inputs: Iterable[str | Path] = ()) -> Path:
    """:func:`write_outputs` for one output."""
    return write_outputs([out], inputs)[0]


def input_files(*paths: str | Path | None) -> list[Path]:
    """Those of ``paths`` that name existing files: inputs such as ``--device``, which
    may also be a bundled name."""
    return [Path(p) for p in paths if p and _exists(Path(p)) and Path(p).is_file()]


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _target(out: Output) -> Path:
    """The checked, absolute file that ``out`` will replace."""
    path = out.path
    if str(path) in ("", "."):
        raise SpecError(f"{out.option} needs a file path, got {quoted(path)}.")
    try:
        target = Path(os.path.realpath(path))  # follows symlinks, keeps a missing tail
    except (OSError, RuntimeError, ValueError):
        raise SpecError(f"{out.option} {quoted(path)}: the path cannot be resolved.") from None
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        raise SpecError(
            f"{out.option} {quoted(path)}: a part of the path is a file, not a directory.",
            hint="Check the path.",
        ) from None
    except OSError as exc:
        raise SpecError(f"{out.option} {quoted(path)}: {exc.strerror or exc}.") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise SpecError(
                f"{out.option} {quoted(path)} is a directory; give a file path.",
                hint=f"e.g. {out.option} {Path(path) / 'report.html'}",
            )
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(
                f"{out.option} {quoted(path)} is not a regular file (a device, "
                "FIFO or socket); archcost writes only regular files."
            )
    # Missing directories are created (after every check passed), inside the nearest
    # existing one, which must be a writable directory.
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    _require_writable_dir(out, ancestor)
    return target


def _require_writable_dir(out: Output, directory: Path) -> None:
    if not directory.exists():
        raise SpecError(
            f"{out.option} {quoted(out.path)}: the directory {quoted(directory)} does not exist.",
            hint="Create it first, or check the path.",
        )
    if not directory.is_dir():
        raise SpecError(
            f"{out.option} {quoted(out.path)}: {quoted(directory)} is a file, not a directory.",
            hint="Check the path.",
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise SpecError(
            f"{out.option} {quoted(out.path)}: the directory {quoted(directory)} is not writable.",
            hint="Write somewhere else.",
        )


def _make_parent(out: Output, target: Path) -> list[Path]:
    """Create the missing directories above ``target``; returns them, outermost first."""
    missing: list[Path] = []
    directory = target.parent
    while not directory.exists():
        missing.insert(0, directory)
        directory = directory.parent
    made: list[Path] = []
    try:
        for directory in missing:
            directory.mkdir()
            made.append(directory)
    except OSError as exc:
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise SpecError(
            f"{out.option} {quoted(out.path)}: cannot create the directory "
            f"{quoted(target.parent)}: {exc.strerror or exc}."
        ) from None
    return missing


def _stage(out: Output, target: Path) -> Path:
    """Write ``out`` to a fresh temporary file beside ``target``; returns its path."""
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name[:100]}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise SpecError(
            f"{out.option} {quoted(out.path)}: cannot write in "
            f"{quoted(target.parent)}: {exc.strerror or exc}."
        ) from None
    os.close(fd)
    tmp = Path(name)
    try:
        out.write(tmp)
        # mkstemp makes the file private (0600); give it the mode a new file would get.
        os.chmod(tmp, _mode_for(target))
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpecError(
            f"{out.option} {quoted(out.path)}: writing failed: {exc.strerror or exc}."
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)  # replacing a file keeps its mode
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


class Terminated(BaseException):
    """SIGTERM arrived while outputs were being written (cleanup runs, then exit 143)."""


@contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (so ``finally`` cleanup runs)
    instead of ending the process at once; afterwards the process exits 143."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    ):
        yield
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except Terminated:
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
