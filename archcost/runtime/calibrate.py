"""Calibrate a kernel-level latency predictor for onnxruntime on this machine.

``archcost calibrate --runtime onnxruntime [--threads N] -o PROFILE.yaml``:

1. **Drift probe**: the fixed probe kernel (:data:`archcost.runtime.ort.PROBE_DESCRIPTION`)
   is timed at the start, middle and end; the profile keeps the median (``probe_s``),
   which ``bench`` re-measures so absolute times can be compared across moments.
2. **Fusions**: for each candidate sequence after a convolution (every kind in the
   roles :data:`FUSION_PATTERNS` lists: a norm, an activation, a residual add, as each
   kind's ``calibration.after_conv`` says) a two-convolution micro-model is run once
   with the profiler; the sequence is fused when the second convolution's kernel
   covers every layer of it.
3. **Kernels**: single-layer micro-models (:mod:`archcost.runtime.micro`) per kernel
   type. The kinds say which types they are timed for (``calibration.types``: dense,
   stem, pointwise, depthwise and grouped convolutions, linear, max/average/global
   pools, the activations, batchnorm, LRN, add, mul, concat, channel shuffle and split)
   and draw a layer of each as CNNs use it (``calibration_sample``, from the channel
   counts and resolutions below); each kind's ``to_onnx`` writes it, so adding a kind
   never touches this module. A sample is the profiler's median time of the kernel(s)
   computing it; with one thread, a kernel longer than 200 µs is timed by its median
   on-CPU time per run (the calling thread's CPU time: onnxruntime computes in the
   caller) less the fixed cost of a run and the layout conversions the runtime adds
   around a lone kernel, so waits for a CPU on a shared machine do not count.
4. **Adaptive sampling**: after a few samples per type, each round refits every type
   on bootstrap resamples of its samples and measures, per type, the candidate
   configurations whose predictions the refits disagree on most, until the time
   budget is spent.
5. **Fit**: :func:`archcost.runtime.predict.fit` per type, and, for kinds without a
   model of their own, over the samples of the kinds whose ``calibration.generic`` is
   set.

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from archcost.calibrate import cpu_model
from archcost.costs import CostRow, memory_access
from archcost.layers import REGISTRY
from archcost.layers.act import Relu, Sigmoid
from archcost.layers.base import Draw, Layer, Shape
from archcost.layers.conv import Conv, PointwiseConv
from archcost.layers.pool import MaxPool
from archcost.profiles import profile_yaml as roofline_yaml
from archcost.runtime import micro
from archcost.runtime.ort import (
    LAYOUT_OPS,
    PROBE_DESCRIPTION,
    Probe,
    import_onnxruntime,
    input_feed,
    layer_of,
    open_session,
    probe_model,
    profile_kernels,
    runtime_version,
    time_runs,
)
from archcost.runtime.predict import (
    GENERIC,
    LAYOUT_TYPES,
    NCHW_TYPES,
    RuntimeProfile,
    conv_geometry,
    fit,
    nchwc_conv,
    output_rows,
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
    macs: int
    nbytes: int
    seconds: float = math.nan
    #: output rows (channels × height), the per-row term of the model.
    rows: int = 0


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
        if config.macs > MAX_MACS or config.nbytes > MAX_BYTES:
            continue
        g = conv_geometry(config.row, config.layer) if block and config.macs else None
        if g is not None and nchwc_conv(g.c_out, g.c_in_per_group, g.groups, block, align) == plain:
            continue
        return config
    raise RuntimeError(f"no configuration of {kernel_type} within the limits")


def build(config: Config) -> bytes:
    """The micro-model of a configuration: its layer alone, exported by its kind."""
    return micro.single(config.layer, config.ins, name=config.layer.kind)


def on_cpu(model: bytes, runs: int) -> float:
    """Median on-CPU time of one run of ``model`` with one thread (the caller computes)."""
    session = open_session(model, 1)
    feed = input_feed(session)
    cpu: list[float] = []
    time_runs(session, feed, warmup=2, runs=runs, cpu=cpu)
    return statistics.median(cpu)


def run_baseline(runs: int = 40) -> float:
    """The on-CPU cost of a run beyond its kernels: a run of a one-element ReLU model."""
    return on_cpu(micro.single(Relu(), [Shape((1, 1, 1))], name="relu"), runs)


def trivial_chain(n: int) -> bytes:
    """``n`` one-element kernels in a row (ReLU and sigmoid alternating: nothing to fuse)."""
    steps = [
        micro.Step(f"k{i}", Sigmoid() if i % 2 else Relu(), (f"k{i - 1}" if i else "x",))
        for i in range(n)
    ]
    return micro.network(steps, {"x": Shape((1, 1, 1))})


def run_costs(runs: int = 100, n: int = 16, repeats: int = 5) -> tuple[float, float, float]:
    """One thread's fixed costs, as (run, kernel, profiler) seconds: the on-CPU cost of a
    run beyond its kernels, of one trivial kernel (from runs of 1 and of ``n`` one-element
    kernels), and what onnxruntime's profiler adds to each kernel's duration (a trivial
    kernel's profiled median less its on-CPU cost: 3-5 µs here against well under 1 µs
    of work, so short samples would otherwise carry the profiler into every fixed cost).
    Each is the median of ``repeats`` measurements (they are noisy on a loaded machine)."""
    out = []
    for _ in range(repeats):
        one = on_cpu(trivial_chain(1), runs)
        many = on_cpu(trivial_chain(n), runs)
        kernel = max((many - one) / (n - 1), 0.0)
        kernels = profile_kernels(trivial_chain(n), 1, warmup=2, runs=runs // 4)
        profiled = statistics.median(k.measured_s for k in kernels if k.op not in LAYOUT_OPS)
        out.append((max(one - kernel, 0.0), kernel, max(profiled - kernel, 0.0)))
    run, kernel, profiler = (statistics.median(x) for x in zip(*out, strict=True))
    return run, kernel, profiler


#: Kernels longer than this are timed by their on-CPU time (one thread): a scheduler
#: slice is a few ms, so on a loaded machine the profiler's wall durations of long
#: kernels include waits for a CPU, while short ones mostly run uninterrupted (and their
#: on-CPU time, less a run's fixed cost, is too small to measure that way).
LONG_KERNEL_S = 200e-6


def measure_sample(
    kernel_type: str,
    config: Config,
    threads: int,
    runs: int,
    baseline: float | None = None,
    profiler_s: float = 0.0,
) -> Sample:
    """Time one micro-model: the profiler's median time of the kernels computing it, each
    less what the profiler adds (``profiler_s``); for a kernel longer than
    :data:`LONG_KERNEL_S` with one thread (and a ``baseline``), its on-CPU time per run
    less the run's fixed cost and the layout conversions the runtime adds around a lone
    kernel (their profiled time)."""
    model = build(config)
    kernels = profile_kernels(model, threads, warmup=2, runs=runs)

    def work(k: Any) -> float:
        return max(k.measured_s - profiler_s, 0.1 * k.measured_s)

    main = math.fsum(work(k) for k in kernels if k.op not in LAYOUT_OPS)
    seconds = main
    if kernel_type in LAYOUT_TYPES:
        op = "ReorderInput" if kernel_type == "reorder_input" else "ReorderOutput"
        seconds = math.fsum(work(k) for k in kernels if k.op == op)
    elif threads == 1 and baseline is not None and main > LONG_KERNEL_S:
        layout = math.fsum(k.measured_s for k in kernels if k.op in LAYOUT_OPS)
        cpu = on_cpu(model, runs) - baseline
        seconds = max(cpu - layout, 0.25 * cpu)
    return Sample(
        type=kernel_type,
        config=config.described(),
        macs=config.macs,
        nbytes=config.nbytes,
        seconds=max(seconds, 1e-7),
        rows=config.rows,
    )


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


def two_conv_model(followers: Sequence[type[Layer]], c: int = 32, size: int = 28) -> bytes:
    """1×1 conv ``a`` → 3×3 conv ``b`` → ``followers`` → 1×1 conv ``c`` (each follower
    with its default fields, named ``f0_<kind>``, ``f1_<kind>`` ...; a second input is
    ``a``'s output: the residual comes from a convolution, as in a network; ``c`` keeps
    the followers off the graph's output, which onnxruntime does not fuse into a conv)."""
    steps = [
        micro.Step("a", PointwiseConv(out=c, bias=False), ("x",)),
        micro.Step("b", Conv(out=c, kernel=3, padding=1, bias=False), ("a",)),
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
    ``[conv, kind, ...]``: every ONNX node of every follower is covered by the kernel of
    convolution ``b`` (a follower exported as several nodes, such as swish's Sigmoid and
    Mul, is fused only if all of them are)."""
    fused = []
    for followers in fusion_candidates():
        kernels = profile_kernels(two_conv_model(followers), threads, warmup=0, runs=1)
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
            fused.append(["conv", *(kind.kind for kind in followers)])
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
def _uncertainty(
    samples: list[Sample],
    candidates: list[tuple[Any, int, int]],
    rng: random.Random,
    refits: int = 12,
) -> list[float]:
    """Relative spread (std / mean) of each candidate's prediction over refits on
    bootstrap resamples."""
    preds = []
    for _ in range(refits):
        pick = [samples[rng.randrange(len(samples))] for _ in samples]
        try:
            m = fit(
                [s.macs for s in pick],
                [s.nbytes for s in pick],
                [s.seconds for s in pick],
                [s.rows for s in pick],
            )
        except ValueError:
            continue
        preds.append(
            [
                m.seconds(macs, nbytes, config.rows if config else 0)
                for config, macs, nbytes in candidates
            ]
        )
    if len(preds) < 2:
        return [1.0] * len(candidates)
    p = np.asarray(preds)
    return list(np.std(p, axis=0) / np.maximum(np.mean(p, axis=0), 1e-12))


def calibrate(
    *,
    threads: int = 1,
    budget_s: float = 200.0,
    seed: int = 0,
    runs: int = 7,
    initial: int = 5,
    name: str = "this-machine-onnxruntime",
    progress: Callable[[str], None] | None = None,
    types: tuple[str, ...] = TYPES,
    record: list[Sample] | None = None,
) -> RuntimeProfile:
    """Calibrate onnxruntime on this machine within about ``budget_s`` seconds of
    sampling (plus fusion detection and the probe, a few seconds).

    Args:
        threads: intra-op threads, as the predictions will assume.
        budget_s: seconds for kernel sampling; the whole run stays under 5 minutes with
            the default on a 2-core machine.
        seed: seeds the configurations drawn.
        runs: profiled runs per micro-model (the median is kept).
        initial: samples per kernel type before adaptive sampling starts.
        types: the kernel types to calibrate (tests use a few).
        record: when given, every measured sample is appended to it (to refit later).
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
    baseline, profiler_s, run_s, profile_share = None, 0.0, None, math.nan
    if threads == 1:
        run_s, kernel_s, measured_profiler_s = run_costs()
        baseline = run_s + kernel_s
        # Measured and recorded, not subtracted: taking it off every short sample left
        # trivial kernels at a fraction of a µs, the relative-error fit followed them,
        # the kernel models' errors doubled and networks of many short kernels came out
        # 25-40% low (docs/latency.md, the 05:19 and 05:31 runs).
        profile_share = measured_profiler_s
    say("sampling kernels")
    for kind in types:
        for _ in range(initial):
            cfg = draw(kind, rng, block, align)
            samples[kind].append(measure_sample(kind, cfg, threads, runs, baseline, profiler_s))
    probes.append(probe.measure())
    deadline = started + budget_s
    rounds = 0
    while time.perf_counter() < deadline:
        rounds += 1
        for kind in types:
            if time.perf_counter() >= deadline:
                break
            pool = [draw(kind, rng, block, align) for _ in range(24)]
            spread = _uncertainty(samples[kind], [(c, c.macs, c.nbytes) for c in pool], rng)
            pick = max(range(len(pool)), key=spread.__getitem__)
            samples[kind].append(
                measure_sample(kind, pool[pick], threads, runs, baseline, profiler_s)
            )
        say(f"round {rounds}: {sum(len(v) for v in samples.values())} samples")
    probes.append(probe.measure())
    if record is not None:
        record.extend(s for v in samples.values() for s in v)
    overhead = run_s if run_s is not None else run_overhead(threads, baseline)
    models = {
        kind: fit(
            [s.macs for s in v], [s.nbytes for s in v], [s.seconds for s in v], [s.rows for s in v]
        )
        for kind, v in samples.items()
    }
    # the generic model is for kinds never measured: cheap elementwise work (the kinds
    # whose calibration says so: not convolutions, linear layers or LRN; no conversions)
    generic = {
        t
        for t, cls in kernel_types().items()
        if t not in LAYOUT_TYPES and cls.calibration and cls.calibration.generic
    }
    flat = [s for kind, v in samples.items() if kind in generic for s in v]
    if flat:
        models[GENERIC] = fit(
            [0] * len(flat),
            [s.nbytes for s in flat],
            [s.seconds for s in flat],
            [s.rows for s in flat],
        )
    mac_rates = [s.macs / s.seconds for v in samples.values() for s in v if s.macs]
    byte_rates = [s.nbytes / s.seconds for s in flat]
    date = _dt.date.today().isoformat()
    version = runtime_version()
    cpus = os.cpu_count() or 0
    load = _load()
    elapsed = time.perf_counter() - started
    source = (
        f"measured by archcost calibrate --runtime onnxruntime on {date}: {cpu_model()}, "
        f"{cpus} logical CPUs, onnxruntime {version}, {threads} thread(s), "
        f"{sum(len(v) for v in samples.values())} micro-models in {elapsed:.0f} s, "
        f"load average {load:.1f}"
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
        "profiler_overhead_s": (
            float(f"{profile_share:.3e}") if math.isfinite(profile_share) else None
        ),
    }
    return RuntimeProfile(
        name=name,
        source=source,
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
        kernels=models,
        fusions=tuple(tuple(f) for f in fusions),
    )


def run_overhead(threads: int, baseline: float | None) -> float:
    """The runtime's fixed cost per run beyond its kernels: with one thread the on-CPU
    ``baseline`` (a run of a one-element ReLU); otherwise the probe model's wall time less
    its kernels' profiled time (median of three)."""
    if threads == 1 and baseline is not None:
        return baseline
    model = probe_model()
    values = []
    for _ in range(3):
        session = open_session(model, threads)
        feed = input_feed(session)
        wall = statistics.median(time_runs(session, feed, warmup=3, runs=15))
        kernels = profile_kernels(model, threads, warmup=3, runs=15)
        values.append(wall - math.fsum(k.measured_s for k in kernels if k.op not in LAYOUT_OPS))
    return max(statistics.median(values), 0.0)


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
        "Per kernel type: seconds = fixed_s + macs / macs_per_s + bytes / bytes_per_s,\n"
        "fitted on single-kernel ONNX micro-models (median_error: median |pred/meas - 1|).\n"
        "fusions: layer sequences the runtime runs as one kernel (conv = any convolution).\n"
        "probe_s: the drift probe's time at calibration (" + PROBE_DESCRIPTION + ");\n"
        "archcost bench re-measures it: divide times by it to compare moments.\n"
        "peak_macs_per_s / bandwidth_bytes_per_s: best measured rates (roofline chart).\n"
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
        "fusions": [list(f) for f in profile.fusions],
        "kernels": {k: m.as_yaml() for k, m in sorted(profile.kernels.items())},
    }
    return text + yaml.safe_dump(doc, sort_keys=False, width=10_000, default_flow_style=None)
