"""Measure every layer's real time in the NumPy backend beside its roofline estimate.

``archcost bench SPEC`` answers the question ShuffleNet V2 asked: do MACs predict
speed? It runs the network ``warmup + repeats`` times with the executor's weights and
input (same seed, same draw order as :func:`archcost.backend.validate`), times each
layer's ``forward`` in every pass, and keeps the median of the timed passes. A whole
pass per repetition (not one layer in a tight loop) leaves the caches and the
allocator as a real run leaves them. Beside each time it puts the roofline estimate
(:mod:`archcost.roofline`) and reports two Spearman rank correlations over the
layers: estimated vs measured time, and MACs alone vs measured time. It reports
them over every layer and again over the layers that have MACs (conv and linear),
since MACs say nothing about the others.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archcost.backend import check_memory, estimate_peak_bytes, prepare
from archcost.backend import run as execute
from archcost.errors import SpecError
from archcost.model import Model, load
from archcost.roofline import THIS_MACHINE, Profile, estimate, load_profile

if TYPE_CHECKING:
    import pandas as pd

    from archcost.model import Model


@dataclass(frozen=True)
class LayerTiming:
    """One layer: its counts, its roofline estimate and its measured time."""

    name: str
    kind: str
    macs: int
    memory_access: int
    estimated_s: float
    bound: str
    measured_s: float
    min_s: float


@dataclass
class BenchResult:
    """The result of :func:`run`: per-layer timings, totals and rank correlations."""

    model: str
    batch: int
    repeats: int
    profile: Profile
    layers: list[LayerTiming]
    pass_seconds: float
    #: the 1-minute load average when the run started (NaN where unknown).
    load_before: float = math.nan
    cpus: int = 1

    @property
    def busy(self) -> bool:
        """True when other work was running: a load average above half the CPUs.

        Measured times then include waiting for the CPU, and multi-threaded BLAS calls
        suffer most (their threads wait for each other), so they mislead.
        """
        return self.load_before > self.cpus / 2

    @property
    def estimated_total_s(self) -> float:
        return math.fsum(t.estimated_s for t in self.layers)

    @property
    def measured_total_s(self) -> float:
        """Sum of the per-layer medians (``pass_seconds`` also counts the loop itself)."""
        return math.fsum(t.measured_s for t in self.layers)

    @property
    def macs(self) -> int:
        return sum(t.macs for t in self.layers)

    def correlations(self) -> dict[str, float]:
        """Spearman's rho of estimate and of MACs against measured time, over all
        layers and over the layers with MACs (NaN when undefined)."""
        measured = [t.measured_s for t in self.layers]
        with_macs = [t for t in self.layers if t.macs > 0]
        return {
            "estimate_vs_measured": spearman([t.estimated_s for t in self.layers], measured),
            "macs_vs_measured": spearman([t.macs for t in self.layers], measured),
            "estimate_vs_measured_mac_layers": spearman(
                [t.estimated_s for t in with_macs], [t.measured_s for t in with_macs]
            ),
            "macs_vs_measured_mac_layers": spearman(
                [t.macs for t in with_macs], [t.measured_s for t in with_macs]
            ),
        }

    def summary(self) -> dict[str, Any]:
        """Totals and correlations as plain values (the JSON output's head)."""
        return {
            "model": self.model,
            "batch": self.batch,
            "repeats": self.repeats,
            "device": self.profile.summary(),
            "layers": len(self.layers),
            "macs": self.macs,
            "estimated_s": self.estimated_total_s,
            "measured_s": self.measured_total_s,
            "pass_s": self.pass_seconds,
            "load_before": self.load_before,
            "cpus": self.cpus,
            "spearman": self.correlations(),
        }

    def frame(self) -> pd.DataFrame:
        """One row per layer; ``.attrs`` holds :meth:`summary`."""
        import pandas as pd  # pandas loads only where a DataFrame is asked for

        df = pd.DataFrame(
            [asdict(t) for t in self.layers], columns=[f for f in LayerTiming.__dataclass_fields__]
        )
        df = df.astype({"macs": "int64", "memory_access": "int64"})
        df.attrs.update(self.summary())
        return df


# -- rank correlation ----------------------------------------------------------------
def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing the average of the ranks they span.

    >>> average_ranks([10, 20, 20, 5])
    [2.0, 3.5, 3.5, 1.0]
    """
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's r of the average ranks (ties handled as
    scipy.stats.spearmanr does). NaN when fewer than two pairs or either side is
    constant.

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 40]), spearman([1, 2, 3], [3, 2, 1])
    (1.0, -1.0)
    """
    if len(x) != len(y):
        raise ValueError(f"spearman needs two sequences of one length, got {len(x)} and {len(y)}")
    if len(x) < 2:
        return math.nan
    rx, ry = average_ranks(x), average_ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = math.fsum((a - mx) ** 2 for a in rx)
    syy = math.fsum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return math.nan
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


# -- measurement -----------------------------------------------------------------------
def run(
    model: Model | str | Path,
    *,
    profile: Profile | str | None = None,
    repeats: int = 5,
    warmup: int = 1,
    batch: int = 1,
    seed: int = 0,
    max_memory: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> BenchResult:
    """Time every layer of ``model`` in the NumPy backend and estimate it on ``profile``.

    Args:
        model: a loaded model, or a spec path (loaded with its default params).
        profile: a :class:`Profile`, a bundled name or a path; default ``this-machine``
            (a quick calibration of the machine being measured).
        repeats: timed passes; each layer's time is their median.
        warmup: untimed passes first (the first call of a layer shape pays for
            allocation, page faults and BLAS thread start-up).
        batch: samples per pass.
        seed: seeds the input and the weights (the executor's draw order).
        max_memory: refuse (SpecError) when the estimated run is larger; default
            half of the available memory.
        progress: called as ``progress(done, total, label)`` after each pass.

    Raises:
        SpecError: repeats < 1, or the estimate exceeds ``max_memory``.
    """
    if not isinstance(model, Model):
        model = load(model)
    if repeats < 1 or warmup < 0:
        raise SpecError(
            f"bench needs repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}."
        )
    device = profile if isinstance(profile, Profile) else load_profile(profile or THIS_MACHINE)
    layers = model.layers
    weight_bytes = 4 * sum(model.counts[n].params + model.counts[n].buffers for n in layers)
    needed = estimate_peak_bytes(model, batch) + weight_bytes
    check_memory(
        needed,
        max_memory,
        f"benchmarking {model.label} at batch {batch} (all weights stay allocated)",
        "Lower --batch or the resolution (--set resolution=...).",
    )
    load_before = _load_average()
    x0, weights = prepare(model, batch=batch, seed=seed)  # validate's tensors
    times: list[list[float]] = [[] for _ in layers]
    passes: list[float] = []
    total = warmup + repeats
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection inside a timed call is noise, not the layer
    try:
        for p in range(total):
            started = time.perf_counter()
            executed = execute(model, x0, weights, inplace=True)  # as frameworks run
            if p >= warmup:
                passes.append(time.perf_counter() - started)
                for i, layer in enumerate(executed.layers):
                    times[i].append(layer.seconds)
            if progress:
                progress(p + 1, total, "warm-up" if p < warmup else f"pass {p - warmup + 1}")
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    estimates = estimate(model, device, batch=batch)
    rows = [
        LayerTiming(
            name=e.name,
            kind=e.kind,
            macs=e.macs,
            memory_access=e.memory_access,
            estimated_s=e.seconds,
            bound=e.bound,
            measured_s=statistics.median(ts),
            min_s=min(ts),
        )
        for e, ts in zip(estimates, times, strict=True)
    ]
    return BenchResult(
        model=model.label,
        batch=batch,
        repeats=repeats,
        profile=device,
        layers=rows,
        pass_seconds=statistics.median(passes),
        load_before=load_before,
        cpus=os.cpu_count() or 1,
    )


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):  # not on every platform
        return math.nan


def bench(model: Model | str | Path, **kwargs: Any) -> pd.DataFrame:
    """Per-layer measured and estimated times as a DataFrame (see :func:`run` for the
    arguments); ``df.attrs`` holds the totals and the Spearman correlations.

    >>> df = bench("examples/standard_vs_separable", repeats=3)  # a bundled example
    >>> list(df["name"]), df.attrs["macs"]
    (['standard', 'separable.dw', 'separable.pw'], 96675)
    >>> sorted(df.attrs["spearman"])[:2]
    ['estimate_vs_measured', 'estimate_vs_measured_mac_layers']
    """
    return run(model, **kwargs).frame()
