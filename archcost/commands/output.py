"""What commands share for output: the console, atomic writes, a lazy progress bar.

Only commands print or write files; these helpers are how they do it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def console(width: int = 120, file: IO[str] | None = None) -> Console:
    """A rich console on stdout: the terminal's width there, else ``width`` columns
    (pipes and files get stable, unwrapped lines)."""
    from rich.console import Console  # rich loads only for terminal output (start-up time)

    tty = (file or sys.stdout).isatty()
    return Console(file=file, highlight=False, soft_wrap=False, width=None if tty else width)


def show(parts: str | Sequence[Any], width: int = 120) -> None:
    """Print what a report formatted: text as it is, or rich renderables (tables, lines
    of rich markup) one after another on :func:`console` (``width`` off a terminal)."""
    if isinstance(parts, str):
        sys.stdout.write(parts)
        return
    out = console(width)
    for part in parts:
        out.print(part)


def warn(text: str) -> None:
    """A warning on stderr, one line: ``archcost: warning: ...``."""
    print(f"archcost: warning: {text}", file=sys.stderr)


def wrote(path: Path) -> None:
    """Tell the user, on stderr, where a file went (stdout stays the data)."""
    print(f"wrote {path}", file=sys.stderr)


def default_report_path(stem: str) -> Path:
    """``reports/<stem>.html``, with characters unsafe in file names replaced.

    >>> str(default_report_path("MobileNetV1 (width=0.5)"))
    'reports/MobileNetV1__width_0.5_.html'
    """
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem) or "report"
    return Path("reports") / f"{safe}.html"


def text_writer(text: str) -> Callable[[Path], Any]:
    """A :class:`~archcost.commands.files.Output` writer of ``text`` (UTF-8)."""
    return lambda tmp: tmp.write_text(text, encoding="utf-8")


class LazyProgress:
    """A rich progress bar that appears only after a second, and only when ``enabled``
    (pass ``sys.stdout.isatty()``): quick runs and pipes stay silent.

    Call it as ``progress(done, total, label)``, the signature
    :func:`archcost.backend.validate` and :func:`archcost.bench.run` take; ``close()``
    removes the bar.
    """

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int, name: str) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.started < 1.0:
                return
            from rich.progress import Progress  # rich loads only when a bar is shown

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("running", total=total)
        self.bar.update(self.task, completed=done, description=name[:40])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks (up to 32 MiB each) for reuse.

    By default glibc hands large freed blocks back to the system, so every layer's
    output lands on fresh pages and pays a page fault per 4 KiB (about 10,400 faults,
    ~25 ms, per ResNet-50 pass here). The command line calls this once for `validate`
    and `bench`; the library never does, because it changes the whole process's
    allocator. Returns False where it does not apply (not glibc).
    """
    # ctypes.util costs ~10 ms of start-up; only validate and bench need it.
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
        return bool(libc.mallopt(m_mmap_threshold, 32 * 2**20)) and bool(
            libc.mallopt(m_trim_threshold, 2**30)
        )
    except (OSError, AttributeError):
        return False
