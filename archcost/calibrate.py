"""Measure this machine as a roofline device profile (``archcost calibrate``).

Three microbenchmarks, each in the state a real backend run leaves the machine
(arrays allocated and touched once before timing, so first-touch page faults are not
timed — docs/design.md, "NumPy backend"):

* **peak**: a square float32 ``np.matmul`` of size ``n`` (``n³`` MACs), best of
  ``repeats``; the practical compute roof of the NumPy backend (BLAS, all its threads).
* **bandwidth**: ``np.copyto`` of a large float32 array (``2 · nbytes`` moved: read +
  written), best of ``repeats``; large enough to leave the caches.
* **overhead**: the time of one tiny NumPy call (``np.add`` on one element with
  ``out=``), the median over ``repeats`` batches of ``calls``; the floor of any layer.

The defaults take about two seconds on a 2-core machine; ``quick=True`` (what
``--device this-machine`` uses) about half a second.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import time
from typing import Any

import numpy as np

from archcost.profiles import Profile

FULL = {"gemm_size": 2048, "copy_bytes": 256 * 2**20, "repeats": 5, "overhead_calls": 2000}
QUICK = {"gemm_size": 1024, "copy_bytes": 64 * 2**20, "repeats": 3, "overhead_calls": 1000}


def measure_gemm(n: int, repeats: int) -> float:
    """Best float32 ``n x n @ n x n`` rate in MACs per second (``n³`` MACs per call)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    np.matmul(a, b, out=c)  # warm-up: threads started, pages touched
    best = min(_timed(lambda: np.matmul(a, b, out=c)) for _ in range(repeats))
    return n**3 / best


def measure_copy(nbytes: int, repeats: int) -> float:
    """Best ``np.copyto`` rate of a ``nbytes`` float32 array, in bytes moved (read +
    written) per second."""
    n = max(nbytes // 4, 1)
    src = np.ones(n, np.float32)
    dst = np.empty(n, np.float32)
    np.copyto(dst, src)  # warm-up: first touch of dst
    best = min(_timed(lambda: np.copyto(dst, src)) for _ in range(repeats))
    return 2 * src.nbytes / best


def measure_overhead(calls: int, repeats: int) -> float:
    """Median seconds of one tiny NumPy call (``np.add`` of one element, ``out=``)."""
    x = np.ones(1, np.float32)
    y = np.empty(1, np.float32)
    per_call = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            np.add(x, x, out=y)
        per_call.append((time.perf_counter() - t0) / calls)
    return statistics.median(per_call)


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def l2_cache_bytes() -> int | None:
    """The size of one core's level-2 cache from sysfs (Linux), else None."""
    from pathlib import Path

    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if level == "2" and kind in ("Unified", "Data") and size:
            number, unit = size.rstrip("KMG"), size[-1:]
            if number.isdigit():
                return int(number) * units.get(unit, 1)
    return None


def machine_info() -> dict[str, Any]:
    """What a measurement depends on: CPU, cores, NumPy and its BLAS, date."""
    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        info = config.get("Build Dependencies", {}).get("blas", {})
        blas = f"{info.get('name', 'unknown')} {info.get('version', '')}".strip()
    except Exception:  # the config layout differs between NumPy versions
        pass
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    return {
        "date": _dt.date.today().isoformat(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count() or 0,
        "blas_threads": threads or "default",
        "numpy": np.__version__,
        "blas": blas,
        "python": platform.python_version(),
    }


def calibrate(
    *,
    quick: bool = False,
    name: str = "this-machine",
    gemm_size: int | None = None,
    copy_bytes: int | None = None,
    repeats: int | None = None,
    overhead_calls: int | None = None,
) -> Profile:
    """Measure this machine and return its profile.

    Args:
        quick: smaller sizes and fewer repeats (about 0.5 s instead of 2 s).
        name: the profile's name.
        gemm_size: the square matmul's size ``n`` (default 2048, quick 1024).
        copy_bytes: bytes of the copied array (default 256 MiB, quick 64 MiB).
        repeats: timings per measurement, the best (GEMM, copy) or median (overhead) kept.
        overhead_calls: tiny calls per overhead timing.
    """
    base = QUICK if quick else FULL
    n = gemm_size or base["gemm_size"]
    nbytes = copy_bytes or base["copy_bytes"]
    reps = repeats or base["repeats"]
    calls = overhead_calls or base["overhead_calls"]
    peak = measure_gemm(n, reps)
    bandwidth = measure_copy(nbytes, reps)
    overhead = measure_overhead(calls, reps)
    info = machine_info()
    source = (
        f"measured by archcost calibrate on {info['date']}: {info['cpu']}, "
        f"{info['logical_cpus']} logical CPUs, numpy {info['numpy']} ({info['blas']})"
    )
    measured = {
        **info,
        "gemm_size": n,
        "copy_bytes": nbytes,
        "repeats": reps,
        "overhead_calls": calls,
    }
    # Four significant digits: more than the timings resolve, and what the YAML keeps.
    return Profile(
        name=name,
        source=source,
        peak_macs_per_s=_sig(peak),
        bandwidth_bytes_per_s=_sig(bandwidth),
        overhead_s=_sig(overhead),
        measured=measured,
    )


def _sig(x: float) -> float:
    """``x`` to four significant digits, as :func:`archcost.roofline.profile_yaml` writes it.

    >>> _sig(17904404314.18964)
    17900000000.0
    """
    return float(f"{x:.3e}")


def calibration_comment(profile: Profile) -> str:
    """The comment written above a calibrated profile: what each number means."""
    return (
        f"Device profile for archcost's roofline model ({profile.name}).\n"
        f"{profile.source}.\n"
        "peak_macs_per_s: best float32 square np.matmul, n^3 MACs per call (BLAS threads).\n"
        "bandwidth_bytes_per_s: best np.copyto of a large float32 array, bytes read + "
        "written.\n"
        "overhead_s: median time of one tiny NumPy call (np.add on one element).\n"
        "Use it with: archcost analyze SPEC --device THIS_FILE"
    )
