"""Calibrate a kernel-level latency predictor for onnxruntime on this machine.

``archcost calibrate --runtime onnxruntime [--threads N] -o PROFILE.yaml``:

1. **Drift probe**: the fixed probe kernel (:data:`archcost.runtime.ort.PROBE_DESCRIPTION`)
   is timed at the start, every half second while sampling and at the end; the
   profile keeps the median (``probe_s``), which ``bench`` re-measures so absolute
   times can be compared across moments.
2. **Fusions**: for each candidate sequence after a convolution (every kind in the
   roles :data:`FUSION_PATTERNS` lists: a norm, an activation, a residual add, as each
   kind's ``calibration.after_conv`` says) a two-convolution micro-model is run once
   with the profiler; the sequence is fused when the second convolution's kernel
   covers every layer of it.
3. **Kernels**: single-layer micro-models (:mod:`archcost.runtime.micro`) per kernel
   type. The kinds say which types they are timed for (``calibration.types``: dense,
   stem, pointwise, depthwise, grouped and 3-D convolutions, linear, max/average/global
   pools and 3-D max pools, the activations, batchnorm, LRN, bilinear upsample, add, mul,
   concat, channel shuffle and split)
   and draw a layer of each as CNNs use it (``calibration_sample``, from the channel
   counts and resolutions below, channels growing as the resolution falls); each
   kind's ``to_onnx`` writes it, so adding a kind never touches this module. A sample
   is timed on a bound session (:class:`Timer`: inputs and outputs bound once, as
   ``bench`` measures): the median run (on-CPU time with one thread, so waits for a CPU
   on a shared machine do not count) less that of a one-element ReLU model timed right
   after it (the runtime's fixed cost per run), less the layout conversions the runtime
   adds around a lone blocked convolution (the conversions' own models, fitted first
   from chains of 1×1 max pools). A kind whose weights a network reads cold
   (``calibration.cold_weights``: linear layers) is timed with the caches flushed
   before each run. A sample under 20 µs is timed again as copies side by side
   (:func:`per_copy`). The drift probe is timed every half second, and each sample's
   time divided by the drift around it (:func:`drift_corrected`).
4. **Adaptive sampling**: after a few samples per type, each round refits every type
   on bootstrap resamples of its samples and measures, per type, the candidate
   configuration (not measured before) whose predictions the refits disagree on most
   (their spread divided by the mean prediction plus :data:`UNCERTAINTY_FLOOR_S`, so
   kernels of a few µs do not win every round), until the time budget is spent.
5. **Fit**: :func:`archcost.runtime.predict.fit_robust` per type (relative error, with
   a 2 µs floor: :data:`FIT_FLOOR_S`; samples that came out at or below zero and those
   timed in a spell of interference left out), and, for kinds without a model of their
   own, over the samples of the kinds whose ``calibration.generic`` is set.
6. **Cold weights**: :data:`NETWORKS` synthetic networks are timed whole and predicted
   with the fitted models (:func:`time_networks`), and the rate at which a network
   reads the weights that did not stay in the caches (all but one core's L2 of them)
   fitted on them (:func:`archcost.runtime.networks.fit_cold_weights`).

Nothing is written until the calibration is complete (an interrupted run writes
nothing).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import yaml

from archcost.calibrate import cpu_model, l2_cache_bytes
from archcost.costs import CostRow, memory_access
from archcost.errors import SpecError
from archcost.layers import REGISTRY
from archcost.layers.act import Relu, Sigmoid
from archcost.layers.base import Draw, Layer, Shape
from archcost.layers.conv import Conv, PointwiseConv
from archcost.layers.pool import MaxPool
from archcost.layers.resample import TransposedConv
from archcost.profiles import profile_yaml as roofline_yaml
from archcost.runtime import micro
from archcost.runtime.networks import (
    DEFAULT_CACHE_BYTES,
    Timed,
    draw_network,
    fit_cold_weights,
)
from archcost.runtime.ort import (
    LAYOUT_OPS,
    PROBE_DESCRIPTION,
    BoundSession,
    Probe,
    import_onnxruntime,
    input_feed,
    layer_of,
    open_session,
    profile_kernels,
    runtime_version,
    time_runs,
)
from archcost.runtime.predict import (
    GENERIC,
    LAYOUT_TYPES,
    NCHW_TYPES,
    TRANSPOSED,
    VOLUME_TYPES,
    KernelModel,
    RuntimeProfile,
    conv_geometry,
    conversion_seconds,
    fit,
    fit_robust,
    kernel_work,
    nchwc_conv,
    network_weight_bytes,
    output_rows,
    predict_rows,
)

F32 = 4
CHANNELS = (
    8,
    16,
    24,
    32,
    48,
    58,
    64,
    96,
    116,
    128,
    144,
    160,
    192,
    232,
    256,
    320,
    384,
    464,
    512,
    576,
    728,
    960,
    1024,
)
#: channel counts that are not whole NCHWc blocks (ShuffleNet's 58 and 116, odd widths):
#: the plain-NCHW convolution types draw from these too.
NCHW_CHANNELS = (6, 12, 20, 36, 58, 60, 68, 100, 116, 132, 180, 196, 244, 300, 388, 580, 732)
SIZES = (7, 14, 28, 56, 112)
MAX_MACS = 120_000_000
MAX_BYTES = 24 * 2**20
#: the limits for a kernel over a clip ([C, D, H, W]): C3D's first convolution is
#: 1.04 GMACs with a 51 MB output, and its pools read as much.
MAX_MACS_VOLUME = 1_500_000_000
MAX_BYTES_VOLUME = 128 * 2**20


def kernel_types() -> dict[str, type[Layer]]:
    """Every kernel type calibration measures -> the kind whose micro-models measure it,
    from the registry (each kind's ``calibration.types``), with the plain-NCHW twin of a
    convolution type (``conv_nchw`` ...: the same kind, drawn where the runtime's NCHWc
    rewrite leaves it plain) and the layout conversions (``reorder_input``/``_output``:
    the ones around a 1×1 max pool, a no-op the runtime runs blocked)."""
    owners: dict[str, type[Layer]] = {}
    for cls in REGISTRY.values():
        for kernel_type in cls.calibration.types if cls.calibration else ():
            for t in (kernel_type, f"{kernel_type}_nchw"):
                if t == kernel_type or t in NCHW_TYPES:
                    assert t not in owners, f"two kinds calibrate {t!r}"
                    owners[t] = cls
    return {**owners, **dict.fromkeys(LAYOUT_TYPES, MaxPool)}


TYPES = tuple(kernel_types())


@dataclass(frozen=True)
class Sample:
    """One micro-model: its kernel type, configuration, counts and measured time."""

    type: str
    config: tuple[tuple[str, Any], ...]
    #: the MACs its kernel computes: a blocked convolution's with its channels padded to
    #: whole blocks (:func:`~archcost.runtime.predict.blocked_macs`)
    macs: int
    nbytes: int
    seconds: float = math.nan
    #: output rows (channels × height), the per-row term of the model.
    rows: int = 0
    #: the ``col`` term's elements (:func:`~archcost.runtime.predict.kernel_work`): the
    #: GEMM matrices a plain convolution builds, the matrix a transposed one's col2im
    #: scatters, a depthwise kernel's output elements.
    col: int = 0
    #: the layer's own MACs, as ``analyze`` counts them (``macs`` may count padding):
    #: the roofline's peak rate is computed from these; None: ``macs``.
    layer_macs: int | None = None
    #: the drift probe's time around the sample (the mean of its timings just before
    #: and just after it) over its median in the calibration: 1.2 while other processes
    #: slowed this machine by about 20%. ``seconds`` is divided by it.
    drift: float = 1.0


@dataclass(frozen=True)
class Config:
    """A drawn layer and its input shapes, with its MACs and the bytes it moves as
    :mod:`archcost.costs` counts them (float32, batch 1; a view is counted as the copy
    the runtime makes)."""

    layer: Layer
    ins: tuple[Shape, ...]
    macs: int
    nbytes: int

    @property
    def rows(self) -> int:
        """Its output rows, as :func:`archcost.runtime.predict.output_rows` counts them."""
        return sum(output_rows(y.dims) for y in self.layer.out_shapes(self.ins))

    @property
    def row(self) -> CostRow:
        """The cost row the predictor reads (kernel type, convolution geometry)."""
        outs = self.layer.out_shapes(self.ins)
        return CostRow(
            name=self.layer.kind,
            kind=self.layer.kind,
            inputs=(),
            input_shapes=tuple(x.dims for x in self.ins),
            output_shape=outs[0].dims,
            params=self.layer.params(self.ins),
            macs=self.macs,
            flops=self.layer.flops(self.ins),
            memory_access=self.nbytes,
            activations=sum(y.numel for y in outs),
            buffers=self.layer.buffers(self.ins),
        )

    @classmethod
    def of(cls, layer: Layer, ins: tuple[Shape, ...]) -> Config:
        nbytes = memory_access(
            is_view=False,
            nbytes=F32,
            batch=1,
            in_elements=sum(x.numel for x in ins),
            out_elements=sum(y.numel for y in layer.out_shapes(ins)),
            params=layer.params(ins),
            buffers=layer.buffers(ins),
        )
        return cls(layer, ins, layer.macs(ins), nbytes)

    def described(self) -> tuple[tuple[str, Any], ...]:
        return (*sorted(self.layer.fields().items()), ("input", [x.dims for x in self.ins]))

    def described_key(self) -> str:
        """:meth:`described` as one hashable string (adaptive sampling skips repeats)."""
        return repr(self.described())


def draw(kernel_type: str, rng: random.Random, block: int = 0, align: int = 0) -> Config:
    """A random configuration of ``kernel_type`` (its kind's ``calibration_sample``)
    within the calibration's size limits; with an NCHWc ``block``, a convolution type
    runs blocked and its ``_nchw`` twin does not (``align``: see
    :func:`archcost.runtime.predict.nchwc_conv`)."""
    base = kernel_type.removesuffix("_nchw")
    plain = base != kernel_type
    space = Draw(rng, CHANNELS + NCHW_CHANNELS if plain else CHANNELS, SIZES)
    for _ in range(400):
        if kernel_type in LAYOUT_TYPES:  # the conversions around a 1×1 max pool
            x = space.feature_map()
            if block and x.c % block:
                continue
            sample: tuple[Layer, tuple[Shape, ...]] | None = (MaxPool(kernel=1, stride=1), (x,))
        else:
            sample = kernel_types()[kernel_type].calibration_sample(base, space)
        if sample is None:
            continue
        config = Config.of(*sample)
        volume = len(config.ins[0].dims) == 4
        if config.macs > (MAX_MACS_VOLUME if volume else MAX_MACS):
            continue
        if config.nbytes > (MAX_BYTES_VOLUME if volume else MAX_BYTES):
            continue
        g = conv_geometry(config.row, config.layer) if block and config.macs else None
        if g is not None and len(g.kernel) == 2:  # 2-D: blocked, or its _nchw twin
            if nchwc_conv(g.c_out, g.c_in_per_group, g.groups, block, align) == plain:
                continue
        return config
    raise RuntimeError(f"no configuration of {kernel_type} within the limits")


def build(config: Config, copies: int = 1) -> bytes:
    """The micro-model of a configuration: its layer alone, exported by its kind; with
    ``copies``, that many copies side by side, each on inputs of its own (so the runtime
    cannot merge them as one common subexpression) with weights of its own."""
    if copies == 1:
        return micro.single(config.layer, config.ins, name=config.layer.kind)
    steps: list[micro.Step] = []
    inputs: dict[str, Shape] = {}
    for i in range(copies):
        names = tuple(f"x{i}_{j}" for j in range(len(config.ins)))
        inputs.update(zip(names, config.ins, strict=True))
        steps.append(micro.Step(f"{config.layer.kind}{i}", config.layer, names))
    return micro.network(steps, inputs)


def run_time(model: bytes, runs: int, threads: int = 1) -> float:
    """Median time of one plain ``session.run`` of ``model`` (inputs wrapped, outputs
    copied into new arrays), fixed costs included: on-CPU with one thread (the caller
    computes), else wall time."""
    session = open_session(model, threads)
    feed = input_feed(session)
    cpu: list[float] = []
    wall = time_runs(session, feed, warmup=2, runs=runs, cpu=cpu)
    return statistics.median(cpu if threads == 1 else wall)


def trivial_chain(n: int) -> bytes:
    """``n`` one-element kernels in a row (ReLU and sigmoid alternating: nothing to fuse)."""
    steps = [
        micro.Step(f"k{i}", Sigmoid() if i % 2 else Relu(), (f"k{i - 1}" if i else "x",))
        for i in range(n)
    ]
    return micro.network(steps, {"x": Shape((1, 1, 1))})


def run_costs(
    threads: int = 1, runs: int = 100, n: int = 16, repeats: int = 5
) -> tuple[float, float, float]:
    """The runtime's fixed costs, as (run, kernel, profiler) seconds: the cost of a plain
    ``session.run`` beyond its kernels (:func:`run_time`; recorded in the profile), of
    one trivial kernel (from runs of 1 and of ``n`` one-element kernels), and what
    onnxruntime's profiler adds to each kernel's duration (a trivial kernel's profiled
    median less its on-CPU cost; recorded, not used). Each is the median of
    ``repeats`` measurements."""
    out = []
    for _ in range(repeats):
        one = run_time(trivial_chain(1), runs, threads)
        many = run_time(trivial_chain(n), runs, threads)
        kernel = max((many - one) / (n - 1), 0.0)
        kernels = profile_kernels(trivial_chain(n), threads, warmup=2, runs=runs // 4)
        profiled = statistics.median(k.measured_s for k in kernels if k.op not in LAYOUT_OPS)
        out.append((max(one - kernel, 0.0), kernel, max(profiled - kernel, 0.0)))
    run, kernel, profiler = (statistics.median(x) for x in zip(*out, strict=True))
    return run, kernel, profiler


class Timer:
    """Times micro-models' kernels: a bound session's median run (on-CPU with one
    thread: onnxruntime computes in the caller, and a wait for a CPU on a shared machine
    does not count; wall time with more) less the same of a one-element ReLU model timed
    right after it (the runtime's fixed cost per run and that trivial kernel,
    ``trivial_s``, added back)."""

    def __init__(self, threads: int, trivial_s: float = 0.0, target_s: float = 0.03):
        self.threads = threads
        self.trivial_s = trivial_s
        self.target_s = target_s
        self.base = BoundSession(trivial_chain(1), threads)
        #: every fixed cost measured (one per sample)
        self.fixed_s: list[float] = []

    def _median(self, session: BoundSession, runs: int, cold: bool = False) -> float:
        before = None
        if cold:

            def before() -> None:  # evict the weights; the input is back in cache
                flush_caches()
                for x in session.inputs:
                    float(x.sum())

        wall, cpu = session.times(runs, before=before)
        return statistics.median(cpu if self.threads == 1 else wall)

    def _runs(self, session: BoundSession, cold: bool = False) -> int:
        session.warm(0.005)  # a new session's first runs are slower
        first = self._median(session, 3, cold)
        return int(min(max(self.target_s / max(first, 1e-7), 7), 15 if cold else 101))

    def fixed(self) -> float:
        """The runtime's fixed cost of a bound run (each value is kept in ``fixed_s``)."""
        value = max(self._median(self.base, 31) - self.trivial_s, 0.0)
        self.fixed_s.append(value)
        return value

    def seconds(self, session: BoundSession, cold: bool = False) -> float:
        """The kernels' seconds per run of ``session`` (about ``target_s`` of runs);
        ``cold``: with the caches flushed before each run (:func:`flush_caches`)."""
        total = self._median(session, self._runs(session, cold), cold)
        return total - self.fixed()


#: bytes written to push everything else out of the caches: twice the largest
#: last-level cache of current x86 server parts per core complex (32 MiB).
FLUSH_BYTES = 64 * 2**20
_FLUSH: list[np.ndarray] = []


def flush_caches() -> None:
    """Evict the caches' contents by writing :data:`FLUSH_BYTES` of memory."""
    if not _FLUSH:
        _FLUSH.append(np.zeros(FLUSH_BYTES // 8))
    _FLUSH[0] += 1.0


def pool_chain(x: Shape, n: int, copies: int = 1) -> bytes:
    """``n`` 1×1 max pools in a row: blocked kernels between two layout conversions;
    ``copies`` such chains side by side, each on an input of its own."""
    steps = [
        micro.Step(f"p{c}_{i}", MaxPool(kernel=1, stride=1), (f"p{c}_{i - 1}" if i else f"x{c}",))
        for c in range(copies)
        for i in range(n)
    ]
    return micro.network(steps, {f"x{c}": x for c in range(copies)})


#: seconds of one conversion of a tensor (its per-sample dims), by ONNX op type.
LayoutCost = Callable[[str, tuple[int, ...]], float]


def per_copy(time: Callable[[int], float]) -> float:
    """A kernel's seconds from ``time(copies)`` (seconds per copy of ``copies`` timed side
    by side): alone, and when that is under :data:`SIDE_BY_SIDE_BELOW_S` (a difference
    of two medians a few tenths of a µs apart from run to run) again as about
    :data:`SIDE_BY_SIDE_S` of copies, so the run's fixed cost and its noise are shared
    out."""
    seconds = time(1)
    if seconds >= SIDE_BY_SIDE_BELOW_S:
        return seconds
    return time(min(SIDE_BY_SIDE_MAX, math.ceil(SIDE_BY_SIDE_S / max(seconds, 1e-7))))


def measure_sample(
    kernel_type: str, config: Config, timer: Timer, layout_cost: LayoutCost | None = None
) -> Sample:
    """Time one micro-model's kernels on a bound session (:class:`Timer`).

    A convolution the runtime runs blocked is converted to NCHWc before it and back after
    it (onnxruntime's ``ReorderInput``/``ReorderOutput``, read from the graph it runs):
    their cost (``layout_cost``) is taken off. A layout conversion is timed as the
    difference of a chain of three 1×1 max pools (which run blocked) and a lone one:
    the pool's own time is half that difference, and the two conversions share the rest
    equally."""
    if kernel_type in LAYOUT_TYPES:
        (x,) = config.ins

        def conversion(copies: int) -> float:
            one = timer.seconds(BoundSession(pool_chain(x, 1, copies), timer.threads))
            three = timer.seconds(BoundSession(pool_chain(x, 3, copies), timer.threads))
            return (one - (three - one) / 2) / 2 / copies

        seconds = per_copy(conversion)
    else:
        calibration = kernel_types()[kernel_type].calibration
        cold = bool(calibration and calibration.cold_weights)

        def kernel(copies: int) -> float:
            session = BoundSession(build(config, copies), timer.threads)
            seconds = timer.seconds(session, cold=cold)
            if layout_cost is not None:
                out = config.layer.out_shapes(config.ins)[0].dims
                for op in session.ops:
                    if op == "ReorderInput":
                        seconds -= layout_cost(op, config.ins[0].dims)
                    elif op == "ReorderOutput":
                        seconds -= layout_cost(op, out)
            return seconds / copies

        # weights read cold are timed alone: copies would share the flushed caches
        seconds = kernel(1) if cold else per_copy(kernel)
    return Sample(
        type=kernel_type,
        config=config.described(),
        macs=config.macs,
        nbytes=config.nbytes,
        seconds=max(seconds, MIN_SAMPLE_S),
        rows=config.rows,
    )


#: samples of each layout conversion measured before any convolution (whose samples
#: take the conversions' fitted cost off).
LAYOUT_INITIAL = 12


#: the fit's floor (:func:`archcost.runtime.predict.fit`): a sample's time is the
#: difference of two medians, a few tenths of a µs apart from run to run.
FIT_FLOOR_S = 2e-6


def _fit_samples(samples: Sequence[Sample]) -> KernelModel:
    """A type's model: :func:`~archcost.runtime.predict.fit_robust` (samples that came
    out at or below zero, and those timed in a spell of interference, left out)."""
    return fit_robust(
        [s.macs for s in samples],
        [s.nbytes for s in samples],
        [s.seconds for s in samples],
        [s.rows for s in samples],
        [s.col for s in samples],
        floor_s=FIT_FLOOR_S,
        least_s=MIN_SAMPLE_S,
    )


#: the drift probe is timed about this often while sampling, so each sample has a
#: probe timing just before and just after it.
PROBE_EVERY_S = 0.5


def drift_corrected(
    samples: Sequence[Sample], probed: Sequence[int], probes: Sequence[float]
) -> list[Sample]:
    """``samples`` with their time divided by the drift around them: interference from
    other processes comes in spells of seconds to minutes that slow every kernel, the
    drift probe too (15–40% for a network here; the probe's slowdown follows the
    networks' round by round), so a sample timed in one is brought back to the
    calibration's typical moment (the probe's median). ``probed``: for each sample,
    how many probe timings came before it (at least one; the last sample's "after" is
    the last probe timing).

    >>> s = [Sample("relu", (), 0, 8, 2e-6), Sample("relu", (), 0, 8, 3e-6)]
    >>> [round(x.seconds * 1e6, 3) for x in drift_corrected(s, [1, 2], [1.0, 1.0, 2.0])]
    [2.0, 2.0]
    """
    typical = statistics.median(probes)
    out = []
    for sample, j in zip(samples, probed, strict=True):
        drift = (probes[j - 1] + probes[min(j, len(probes) - 1)]) / 2 / typical
        out.append(replace(sample, seconds=sample.seconds / drift, drift=drift))
    return out


#: a sample that takes less than this alone is timed again as copies side by side
#: (:func:`build`): about :data:`SIDE_BY_SIDE_S` of them, at most
#: :data:`SIDE_BY_SIDE_MAX`, so the run's fixed cost and its noise are shared out.
SIDE_BY_SIDE_BELOW_S = 20e-6
SIDE_BY_SIDE_S = 60e-6
SIDE_BY_SIDE_MAX = 32

#: the smallest time a sample keeps (a difference of two medians can come out at or
#: below zero for a trivial kernel).
MIN_SAMPLE_S = 1e-7


# -- fusions -----------------------------------------------------------------------------
#: The sequences after a convolution fusion detection tries, by the role each kind
#: declares (``calibration.after_conv``): every kind of a role in every pattern.
FUSION_PATTERNS: tuple[tuple[str, ...], ...] = (
    ("norm",),
    ("activation",),
    ("residual",),
    ("norm", "activation"),
    ("norm", "residual"),
    ("residual", "activation"),
    ("norm", "residual", "activation"),
    ("activation", "residual"),
    ("norm", "activation", "residual"),
)


def fusion_candidates() -> list[tuple[type[Layer], ...]]:
    """The follower sequences to try, from the registry's roles and the patterns."""
    by_role: dict[str, list[type[Layer]]] = defaultdict(list)
    for cls in REGISTRY.values():
        if cls.calibration and cls.calibration.after_conv:
            by_role[cls.calibration.after_conv].append(cls)
    return [
        combo
        for pattern in FUSION_PATTERNS
        for combo in itertools.product(*(by_role[role] for role in pattern))
    ]


def follower_name(i: int, kind: type[Layer]) -> str:
    return f"f{i}_{kind.kind}"


def two_conv_model(
    followers: Sequence[type[Layer]], c: int = 32, size: int = 28, head: str = "conv"
) -> bytes:
    """1×1 conv ``a`` → 3×3 conv ``b`` (a transposed one, stride 1, for ``head``
    ``transposed_conv``) → ``followers`` → 1×1 conv ``c`` (each follower with its
    default fields, named ``f0_<kind>``, ``f1_<kind>`` ...; a second input is ``a``'s
    output: the residual comes from a convolution, as in a network; ``c`` keeps the
    followers off the graph's output, which onnxruntime does not fuse into a conv)."""
    b: Layer = (
        TransposedConv(out=c, kernel=3, padding=1, bias=False)
        if head == TRANSPOSED
        else Conv(out=c, kernel=3, padding=1, bias=False)
    )
    steps = [
        micro.Step("a", PointwiseConv(out=c, bias=False), ("x",)),
        micro.Step("b", b, ("a",)),
    ]
    last = "b"
    for i, kind in enumerate(followers):
        name = follower_name(i, kind)
        steps.append(micro.Step(name, kind(), (last, *("a",) * (kind.arity[0] - 1))))
        last = name
    steps.append(micro.Step("c", PointwiseConv(out=c, bias=False), (last,)))
    return micro.network(steps, {"x": Shape((c, size, size))})


def detect_fusions(threads: int) -> list[list[str]]:
    """The sequences after a convolution that the runtime runs inside its kernel, as
    ``[conv, kind, ...]`` (``[transposed_conv, kind, ...]`` after a transposed one: its
    own kernel, which folds a batchnorm but no activation in onnxruntime 1.x): every
    ONNX node of every follower is covered by the kernel of convolution ``b`` (a
    follower exported as several nodes, such as swish's Sigmoid and Mul, is fused only
    if all of them are)."""
    fused = []
    for head, followers in itertools.product(("conv", TRANSPOSED), fusion_candidates()):
        model = two_conv_model(followers, head=head)
        kernels = profile_kernels(model, threads, warmup=0, runs=1)
        covered: set[str] = set()
        elsewhere: set[str] = set()
        for k in kernels:
            layers = {layer_of(n) for n in k.covers}
            if "b" in layers:
                covered |= layers
            else:
                elsewhere |= layers
        names = {follower_name(i, kind) for i, kind in enumerate(followers)}
        if names <= covered and not names & elsewhere:
            fused.append([head, *(kind.kind for kind in followers)])
    return fused


def detect_nchwc(threads: int) -> tuple[int, int]:
    """onnxruntime's NCHWc channel block and alignment here, as (block, align): the
    smallest per-group channel count of a grouped convolution it converts to NCHWc
    (grouped ones need whole blocks), and the smallest channel count of a depthwise one
    it converts; (0, 0) when it converts none."""

    def blocked(c_in: int, c_out: int, groups: int) -> bool:
        conv = Conv(out=c_out, kernel=3, padding=1, groups=groups)
        model = micro.single(conv, [Shape((c_in, 8, 8))], name="conv")
        return any(k.op in LAYOUT_OPS for k in profile_kernels(model, threads, warmup=0, runs=1))

    block = next((b for b in (4, 8, 16, 32) if blocked(2 * b, 2 * b, 2)), 0)
    if not block:
        return 0, 0
    align = next((a for a in (2, 4, 8, 16, 32) if a <= block and blocked(a, a, a)), block)
    return block, align


# -- the calibration ----------------------------------------------------------------------
#: adaptive sampling's floor: a candidate's spread is relative to its predicted time plus
#: this, so a kernel of a few µs, whose fixed cost the refits disagree on most in relative
#: terms but which weighs little in a network and times noisily, is not what every round
#: measures.
UNCERTAINTY_FLOOR_S = 20e-6


def _uncertainty(
    samples: list[Sample],
    candidates: list[tuple[Any, int, int, int]],
    rng: random.Random,
    refits: int = 12,
) -> list[float]:
    """Spread of each candidate's prediction over refits on bootstrap resamples: their
    std / (mean + :data:`UNCERTAINTY_FLOOR_S`)."""
    preds = []
    for _ in range(refits):
        pick = [samples[rng.randrange(len(samples))] for _ in samples]
        try:
            m = fit(
                [s.macs for s in pick],
                [s.nbytes for s in pick],
                [s.seconds for s in pick],
                [s.rows for s in pick],
                [s.col for s in pick],
            )
        except ValueError:
            continue
        preds.append(
            [
                m.seconds(macs, nbytes, config.rows if config else 0, col)
                for config, macs, nbytes, col in candidates
            ]
        )
    if len(preds) < 2:
        return [1.0] * len(candidates)
    p = np.asarray(preds)
    return list(np.std(p, axis=0) / (np.maximum(np.mean(p, axis=0), 0) + UNCERTAINTY_FLOOR_S))


#: synthetic networks timed for the cold-weight term (twice each: 10–15 s).
NETWORKS = 40


def time_networks(
    profile: RuntimeProfile,
    timer: Timer,
    probe: Probe,
    rng: random.Random,
    count: int = NETWORKS,
    rounds: int = 2,
) -> list[Timed]:
    """Draw ``count`` synthetic networks (:func:`archcost.runtime.networks.draw_network`),
    predict each with ``profile`` (without a cold-weight term) and time each whole
    ``rounds`` times, interleaved (:class:`Timer`: the kernels' seconds per run), each
    time divided by the drift probe around it over the profile's probe time; a network
    keeps its quickest round. Networks with a kernel type the profile has no model for
    are left out."""
    profile = replace(profile, cold_weight_bytes_per_s=math.inf)
    planned = []
    for network in (draw_network(rng) for _ in range(count)):
        rows, layers = network.rows()
        try:
            predicted = math.fsum(e.seconds for e in predict_rows(rows, layers, profile))
        except SpecError:  # a kernel type this calibration did not measure
            continue
        model = micro.network(network.steps, network.inputs)
        planned.append((model, predicted, network_weight_bytes(rows)))
    best = [math.inf] * len(planned)
    for _ in range(rounds):
        for i, (model, _, _) in enumerate(planned):
            before = probe.measure()
            try:
                seconds = timer.seconds(BoundSession(model, timer.threads))
            except Exception:  # noqa: BLE001 onnxruntime's own error types: this network
                continue  # is left out rather than the whole calibration lost
            drift = (before + probe.measure()) / 2 / profile.probe_s
            best[i] = min(best[i], seconds / drift)
    return [
        Timed(predicted, weights, seconds)
        for (_, predicted, weights), seconds in zip(planned, best, strict=True)
        if math.isfinite(seconds)
    ]


def calibrate(
    *,
    threads: int = 1,
    budget_s: float = 200.0,
    seed: int = 0,
    initial: int = 5,
    name: str = "this-machine-onnxruntime",
    progress: Callable[[str], None] | None = None,
    types: tuple[str, ...] = TYPES,
    record: list[Sample] | None = None,
    networks: int = NETWORKS,
    timed: list[Timed] | None = None,
) -> RuntimeProfile:
    """Calibrate onnxruntime on this machine within about ``budget_s`` seconds of
    sampling (plus fusion detection and the probe, a few seconds, and the synthetic
    networks of the cold-weight term, 10–15 s).

    Args:
        threads: intra-op threads, as the predictions will assume.
        budget_s: seconds for kernel sampling; the whole run stays under 5 minutes with
            the default on a 2-core machine.
        seed: seeds the configurations drawn.
        initial: samples per kernel type before adaptive sampling starts.
        types: the kernel types to calibrate (tests use a few).
        record: when given, every measured sample is appended to it (to refit later).
        networks: synthetic networks timed for the cold-weight term
            (:func:`time_networks`; 0: none, no such term).
        timed: when given, the synthetic networks' timings are appended to it.
    """
    import_onnxruntime()
    say = progress or (lambda _: None)
    started = time.perf_counter()
    rng = random.Random(seed)
    probe = Probe(threads)
    probes = [probe.measure()]
    say("detecting fusions")
    fusions = detect_fusions(threads)
    block, align = detect_nchwc(threads)
    if not block:  # no blocked layouts: one convolution model per type, no conversions
        types = tuple(t for t in types if t not in (*NCHW_TYPES, *LAYOUT_TYPES))

    samples: dict[str, list[Sample]] = defaultdict(list)
    # the profiler's share is recorded, not used: micro-models are timed on bound
    # sessions without it (Timer)
    run_s, kernel_s, profile_share = run_costs(threads)
    timer = Timer(threads, kernel_s)
    seen: dict[str, set[Any]] = defaultdict(set)
    # per type, for each sample the number of probe timings before it
    probed: dict[str, list[int]] = defaultdict(list)
    last_probe = [time.perf_counter()]

    def probe_now() -> None:
        probes.append(probe.measure())
        last_probe[0] = time.perf_counter()

    def measure(kind: str, cfg: Config, layout_cost: LayoutCost | None) -> None:
        seen[kind].add(cfg.described_key())
        sample = measure_sample(kind, cfg, timer, layout_cost)
        macs, col = kernel_work(cfg.row, cfg.layer, kind, block)  # as predict counts them
        samples[kind].append(replace(sample, macs=macs, col=col, layer_macs=cfg.macs))
        probed[kind].append(len(probes))
        if time.perf_counter() - last_probe[0] >= PROBE_EVERY_S:
            probe_now()

    say("sampling kernels")
    # the layout conversions first: the convolutions' samples take them off
    layout_types = [t for t in types if t in LAYOUT_TYPES]
    for kind in layout_types:
        for _ in range(LAYOUT_INITIAL):
            measure(kind, draw(kind, rng, block, align), None)
    probe_now()
    layout_models = {
        op: _fit_samples(drift_corrected(samples[kind], probed[kind], probes))
        for op, kind in (("ReorderInput", "reorder_input"), ("ReorderOutput", "reorder_output"))
        if samples.get(kind)
    }

    def layout_cost(op: str, dims: tuple[int, ...]) -> float:
        model = layout_models.get(op)
        return conversion_seconds(model, dims) if model else 0.0

    for kind in types:
        for _ in range(initial if kind not in LAYOUT_TYPES else 0):
            measure(kind, draw(kind, rng, block, align), layout_cost)
    probe_now()
    deadline = started + budget_s
    rounds = 0
    while time.perf_counter() < deadline:
        rounds += 1
        for kind in types:
            if time.perf_counter() >= deadline:
                break
            pool = [draw(kind, rng, block, align) for _ in range(24)]
            pool = [c for c in pool if c.described_key() not in seen[kind]] or pool
            work = [kernel_work(c.row, c.layer, kind, block) for c in pool]
            candidates = [(c, m, c.nbytes, k) for c, (m, k) in zip(pool, work, strict=True)]
            spread = _uncertainty(samples[kind], candidates, rng)
            pick = max(range(len(pool)), key=spread.__getitem__)
            measure(kind, pool[pick], layout_cost)
        probe_now()
        say(f"round {rounds}: {sum(len(v) for v in samples.values())} samples")
    probe_now()
    # every sample brought back to the calibration's typical moment
    final = {kind: drift_corrected(v, probed[kind], probes) for kind, v in samples.items()}
    if record is not None:
        record.extend(s for v in final.values() for s in v)
    models = {kind: _fit_samples(v) for kind, v in final.items()}
    # the fixed cost of a run with its inputs and outputs bound, as bench measures: it
    # was measured beside every sample; a µs of work slows 2× in a spell of
    # interference, so its median moves with them (4.2 µs in one calibration here, 9.0
    # in another): the 10th percentile is the quiet machine's
    overhead = float(np.percentile(timer.fixed_s, 10)) if timer.fixed_s else timer.fixed()
    # the generic model is for kinds never measured: cheap elementwise work (the kinds
    # whose calibration says so: not convolutions, linear layers or LRN; no conversions,
    # no pools over clips, whose tensors do not fit a cache)
    generic = {
        t
        for t, cls in kernel_types().items()
        if t not in (*LAYOUT_TYPES, *VOLUME_TYPES) and cls.calibration and cls.calibration.generic
    }
    flat = [s for kind, v in final.items() if kind in generic for s in v]
    if flat:
        models[GENERIC] = _fit_samples([replace(s, macs=0) for s in flat])
    # the roofline's two numbers: the best rates of samples that measured a time
    fitted = [s for v in final.values() for s in v if s.seconds > MIN_SAMPLE_S]
    # (the roofline prices a layer's own MACs, so its peak is a rate of those)
    layer_macs = [(s.macs if s.layer_macs is None else s.layer_macs, s.seconds) for s in fitted]
    mac_rates = [macs / seconds for macs, seconds in layer_macs if macs]
    byte_rates = [s.nbytes / s.seconds for s in flat if s.seconds > MIN_SAMPLE_S]
    date = _dt.date.today().isoformat()
    version = runtime_version()
    cpus = os.cpu_count() or 0
    load = _load()
    elapsed = time.perf_counter() - started

    def source(timed_networks: int, elapsed: float) -> str:
        what = f"{sum(len(v) for v in samples.values())} micro-models"
        if timed_networks:
            what += f" and {timed_networks} synthetic networks"
        return (
            f"measured by archcost calibrate --runtime onnxruntime on {date}: {cpu_model()}, "
            f"{cpus} logical CPUs, onnxruntime {version}, {threads} thread(s), "
            f"{what} in {elapsed:.0f} s, load average {load:.1f}"
        )

    measured = {
        "date": date,
        "cpu": cpu_model(),
        "logical_cpus": cpus,
        "load_average": round(load, 2),
        "seconds": round(elapsed, 1),
        "samples": sum(len(v) for v in samples.values()),
        "rounds": rounds,
        "probe": PROBE_DESCRIPTION,
        "probe_spread": round(max(probes) / min(probes), 3),
        # what a plain session.run costs per run instead (its outputs copied into new
        # arrays): the predictions assume bound inputs and outputs, as bench measures
        "session_run_fixed_s": float(f"{run_s:.3e}"),
        "profiler_overhead_s": (
            float(f"{profile_share:.3e}") if math.isfinite(profile_share) else None
        ),
    }
    profile = RuntimeProfile(
        name=name,
        source=source(0, elapsed),
        peak_macs_per_s=max(mac_rates) if mac_rates else 1.0,
        bandwidth_bytes_per_s=max(byte_rates) if byte_rates else 1.0,
        overhead_s=0.0,
        measured=measured,
        runtime="onnxruntime",
        runtime_version=version,
        threads=threads,
        probe_s=statistics.median(probes),
        run_overhead_s=overhead,
        nchwc_block=block,
        nchwc_align=align,
        padded_macs=bool(block),
        kernels=models,
        fusions=tuple(tuple(f) for f in fusions),
    )
    if not networks:
        return profile
    say("timing synthetic networks")
    nets = time_networks(profile, timer, probe, rng, networks)
    if timed is not None:
        timed.extend(nets)
    # each thread's core keeps its share of the weights in its own L2
    cache = (l2_cache_bytes() or DEFAULT_CACHE_BYTES) * threads
    rate, before, after = fit_cold_weights(nets, cache)
    elapsed = time.perf_counter() - started
    measured = {
        **measured,
        "seconds": round(elapsed, 1),
        "networks": len(nets),
        # the synthetic networks' median |predicted / measured - 1|, without and with
        # the cold-weight term
        "network_error": round(before, 4) if math.isfinite(before) else None,
        "network_error_fitted": round(after, 4) if math.isfinite(after) else None,
    }
    return replace(
        profile,
        source=source(len(nets), elapsed),
        cold_weight_bytes_per_s=rate,
        weight_cache_bytes=cache,
        measured=measured,
    )


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return math.nan


# -- the profile file ---------------------------------------------------------------------
def profile_yaml(profile: RuntimeProfile) -> str:
    """The calibrated profile as commented YAML (read back by ``load_profile``)."""
    head = (
        f"Device profile for archcost's kernel-level predictor ({profile.name}).\n"
        f"{profile.source}.\n"
        "Per kernel type: seconds = fixed_s + macs / macs_per_s + bytes / bytes_per_s\n"
        "+ rows / rows_per_s + col / col_per_s (col: im2col elements of a plain conv,\n"
        "output elements of a depthwise conv, col2im elements of a transposed conv;\n"
        "padded_macs: a blocked conv's macs count whole channel blocks), fitted on\n"
        "single-kernel ONNX micro-models (median_error: median |pred/meas - 1|).\n"
        "fusions: layer sequences the runtime runs as one kernel (conv = any convolution\n"
        "but a transposed one, transposed_conv).\n"
        "probe_s: the drift probe's time at calibration (" + PROBE_DESCRIPTION + ");\n"
        "archcost bench re-measures it: divide times by it to compare moments.\n"
        "peak_macs_per_s / bandwidth_bytes_per_s: best measured rates (roofline chart).\n"
        "cold_weight_bytes_per_s, weight_cache_bytes: in a network, of W bytes of weights\n"
        "max(0, 1 - weight_cache_bytes / W) are read from memory at that rate (fitted on\n"
        "synthetic networks; null: no such term).\n"
        "Use it with: archcost analyze SPEC --device THIS_FILE"
    )
    text = roofline_yaml(profile, head)
    doc = {
        "runtime": profile.runtime,
        "runtime_version": profile.runtime_version,
        "threads": profile.threads,
        "probe_s": float(f"{profile.probe_s:.4e}") if math.isfinite(profile.probe_s) else None,
        "run_overhead_s": float(f"{profile.run_overhead_s:.4e}"),
        "nchwc_block": profile.nchwc_block,
        "nchwc_align": profile.nchwc_align,
        "padded_macs": profile.padded_macs,
        "fusions": [list(f) for f in profile.fusions],
        "cold_weight_bytes_per_s": (
            float(f"{profile.cold_weight_bytes_per_s:.4e}")
            if math.isfinite(profile.cold_weight_bytes_per_s)
            else None
        ),
        "weight_cache_bytes": int(profile.weight_cache_bytes),
        "kernels": {k: m.as_yaml() for k, m in sorted(profile.kernels.items())},
    }
    return text + yaml.safe_dump(doc, sort_keys=False, width=10_000, default_flow_style=None)
