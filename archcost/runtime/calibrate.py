"""Calibrate a kernel-level latency predictor for onnxruntime on this machine.

``archcost calibrate --runtime onnxruntime [--threads N] -o PROFILE.yaml``:

1. **Drift probe**: the fixed probe kernel (:data:`archcost.runtime.ort.PROBE_DESCRIPTION`)
   is timed at the start, middle and end; the profile keeps the median (``probe_s``),
   which ``bench`` re-measures so absolute times can be compared across moments.
2. **Fusions**: for each candidate sequence after a convolution (batchnorm, each
   activation, a residual add, and their combinations) a two-convolution micro-model is
   run once with the profiler; the sequence is fused when the second convolution's
   kernel covers every node of it.
3. **Kernels**: single-kernel micro-models (:mod:`archcost.runtime.micro`) per kernel
   type — dense, pointwise, depthwise and grouped convolutions, linear, max/average/
   global pools, every elementwise kind, concat, channel shuffle, channel split — with
   configurations drawn from the channel counts, resolutions, kernel sizes and strides
   CNNs use. A sample is the profiler's median time of the kernel(s) computing it; with
   one thread, a kernel longer than 200 µs is timed by its median on-CPU time per run
   (the calling thread's CPU time: onnxruntime computes in the caller) less the fixed
   cost of a run and the layout conversions the runtime adds around a lone kernel, so
   waits for a CPU on a shared machine do not count.
4. **Adaptive sampling**: after a few samples per type, each round refits every type
   on bootstrap resamples of its samples and measures, per type, the candidate
   configurations whose predictions the refits disagree on most, until the time
   budget is spent.
5. **Fit**: :func:`archcost.runtime.predict.fit` per type, and over all zero-MAC
   samples for kinds without their own model.

Nothing is written until the calibration is complete (an interrupted run writes
nothing).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from archcost.calibrate import cpu_model
from archcost.profiles import profile_yaml as roofline_yaml
from archcost.runtime import micro
from archcost.runtime.ort import (
    LAYOUT_OPS,
    PROBE_DESCRIPTION,
    Probe,
    import_onnxruntime,
    input_feed,
    open_session,
    probe_model,
    profile_kernels,
    runtime_version,
    time_runs,
)
from archcost.runtime.predict import (
    GENERIC,
    LAYOUT_TYPES,
    MAC_TYPES,
    NCHW_TYPES,
    KernelModel,
    RuntimeProfile,
    fit,
    nchwc_conv,
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
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "hsigmoid", "hswish", "swish")
ELEMENTWISE = ("batchnorm", *ACTIVATIONS, "add", "mul", "lrn", "softmax")
OTHER = ("maxpool", "avgpool", "global_avgpool", "concat", "channel_shuffle", "channel_split")
#: kinds whose micro-model is a one-layer spec exported by archcost's own exporter
#: (the ONNX nodes a network of them exports: GELU's erf form, LayerNorm's transposes).
FROM_SPEC = ("gelu", "layernorm")
TYPES = (*MAC_TYPES, *ELEMENTWISE, *FROM_SPEC, *OTHER, *LAYOUT_TYPES)
CONV_KINDS = ("conv", "pointwise", "depthwise", "grouped", "stem")
MAX_MACS = 120_000_000
MAX_BYTES = 24 * 2**20


@dataclass(frozen=True)
class Sample:
    """One micro-model: its kernel type, configuration, counts and measured time."""

    type: str
    config: tuple[tuple[str, int], ...]
    macs: int
    nbytes: int
    seconds: float = math.nan
    #: output rows (channels × height), the per-row term of the model.
    rows: int = 0


# -- configurations: (model builder, archcost's MACs and bytes) -----------------------------
def _conv_counts(c_in: int, c_out: int, size: int, k: int, s: int, g: int) -> tuple[int, int, int]:
    pad = (k - 1) // 2
    out = (size + 2 * pad - k) // s + 1
    params = c_out * (c_in // g) * k * k + c_out
    macs = c_out * (c_in // g) * k * k * out * out
    return macs, F32 * (c_in * size * size + c_out * out * out + params), out


def build(kind: str, cfg: dict[str, int]) -> tuple[bytes, int, int]:
    """The micro-model of a configuration and its MACs and memory traffic as
    :mod:`archcost.costs` counts them (float32, batch 1)."""
    c, size = cfg.get("c", 0), cfg.get("size", 0)
    kind = kind.removesuffix("_nchw")
    if kind in LAYOUT_TYPES:  # the conversions around a 1×1 max pool (a no-op)
        model = micro.pool_model(op="MaxPool", c=c, size=size, kernel=1, stride=1)
        return model, 0, 2 * F32 * c * size * size
    if kind in CONV_KINDS:
        c_in, c_out, k, s, g = cfg["c_in"], cfg["c_out"], cfg["k"], cfg["s"], cfg["g"]
        macs, nbytes, _ = _conv_counts(c_in, c_out, size, k, s, g)
        return (
            micro.conv_model(c_in=c_in, c_out=c_out, size=size, kernel=k, stride=s, groups=g),
            macs,
            nbytes,
        )
    if kind == "linear":
        i, o = cfg["in"], cfg["out"]
        return micro.linear_model(features_in=i, features_out=o), i * o, F32 * (i + o + i * o + o)
    if kind in ("maxpool", "avgpool"):
        k, s = cfg["k"], cfg["s"]
        out = (size + 2 * ((k - 1) // 2) - k) // s + 1
        op = "MaxPool" if kind == "maxpool" else "AveragePool"
        return (
            micro.pool_model(op=op, c=c, size=size, kernel=k, stride=s),
            0,
            F32 * c * (size * size + out * out),
        )
    if kind == "global_avgpool":
        return (
            micro.pool_model(op="GlobalAveragePool", c=c, size=size, kernel=0, stride=0),
            0,
            F32 * c * (size * size + 1),
        )
    n = c * size * size
    if kind in FROM_SPEC:
        return _spec_model(kind, c, size)
    if kind == "concat":
        return micro.concat_model(c=c, size=size), 0, F32 * 4 * n
    if kind == "channel_shuffle":
        return micro.shuffle_model(c=c, size=size, groups=cfg["g"]), 0, F32 * 2 * n
    if kind == "channel_split":  # a view in archcost's counts; the runtime copies
        return micro.split_model(c=c, size=size), 0, F32 * 2 * n
    if kind in ("add", "mul"):
        return micro.elementwise_model(kind=kind, c=c, size=size), 0, F32 * 3 * n
    if kind == "batchnorm":
        return micro.elementwise_model(kind=kind, c=c, size=size), 0, F32 * (2 * n + 4 * c)
    return micro.elementwise_model(kind=kind, c=c, size=size), 0, F32 * 2 * n


def _spec_model(kind: str, c: int, size: int) -> tuple[bytes, int, int]:
    """A one-layer network of ``kind`` on a c×size×size input, exported as archcost
    exports networks, and its MACs and memory traffic as archcost counts them."""
    import tempfile

    from archcost.model import load
    from archcost.runtime.bench import export_bytes

    text = (
        f"archcost: 1\nname: {kind}\ninput: [{c}, {size}, {size}]\n"
        f"layers:\n  - {{name: x, type: {kind}}}\n"
    )
    with tempfile.TemporaryDirectory(prefix="archcost-cal-") as tmp:
        path = Path(tmp) / f"{kind}.yaml"
        path.write_text(text, encoding="utf-8")
        model = load(path)
        row = next(r for r in model.costs().rows if r.name == "x")
        return export_bytes(model), row.macs, row.memory_access


def rows_of(kind: str, cfg: dict[str, int]) -> int:
    """The output rows of a configuration, as :func:`archcost.runtime.predict.output_rows`
    counts them on the layer's output shape."""
    kind = kind.removesuffix("_nchw")
    size = cfg.get("size", 0)
    if kind in CONV_KINDS:
        _, _, out = _conv_counts(cfg["c_in"], cfg["c_out"], size, cfg["k"], cfg["s"], cfg["g"])
        return cfg["c_out"] * out
    if kind == "linear":
        return 1
    if kind in ("maxpool", "avgpool"):
        k = cfg["k"]
        return cfg["c"] * ((size + 2 * ((k - 1) // 2) - k) // cfg["s"] + 1)
    if kind == "global_avgpool":
        return cfg["c"]
    if kind == "concat":
        return 2 * cfg["c"] * size
    return cfg["c"] * size


def draw(kind: str, rng: random.Random, block: int = 0, align: int = 0) -> dict[str, int]:
    """A random configuration of ``kind`` within the calibration's size limits; with an
    NCHWc ``block``, a convolution type runs blocked and its ``_nchw`` twin does not."""
    plain = kind.endswith("_nchw")
    kind = kind.removesuffix("_nchw")
    pool = CHANNELS + NCHW_CHANNELS if plain else CHANNELS
    for _ in range(400):
        size = rng.choice(SIZES)
        if kind in CONV_KINDS:
            c_in, c_out = rng.choice(pool), rng.choice(pool)
            k = (
                1
                if kind == "pointwise"
                else rng.choice((3, 3, 3, 5, 7) if kind != "grouped" else (1, 3, 3))
            )
            s = rng.choice((1, 1, 2)) if kind != "pointwise" else 1
            g = 1
            if kind == "stem":  # a network's first convolution, on an RGB (or grey) input
                c_in, c_out = rng.choice((1, 3, 3, 3)), rng.choice((1, 8, 16, 24, 32, 48, 64))
                # small inputs too, so the fixed cost is measured, not extrapolated
                size = rng.choice((8, 16, 32, 56, 112, 128, 160, 224))
            if kind == "depthwise":
                c_out = g = c_in
            if kind == "grouped":
                g = rng.choice(
                    [d for d in (2, 3, 4, 8, 16, 32) if c_in % d == 0 and c_out % d == 0] or [1]
                )
                if g == 1:
                    continue
            if block and nchwc_conv(c_out, c_in // g, g, block, align) == plain:
                continue
            macs, nbytes, _ = _conv_counts(c_in, c_out, size, k, s, g)
            if macs <= MAX_MACS and nbytes <= MAX_BYTES:
                return {"c_in": c_in, "c_out": c_out, "size": size, "k": k, "s": s, "g": g}
            continue
        if kind == "linear":
            return {
                "in": rng.choice((128, 256, 512, 1024, 1280, 2048, 4096)),
                "out": rng.choice((10, 100, 256, 1000, 1024, 4096)),
            }
        c = rng.choice(CHANNELS)
        if F32 * c * size * size * 3 > MAX_BYTES:
            continue
        cfg = {"c": c, "size": size}
        if kind in ("maxpool", "avgpool"):
            cfg.update(k=rng.choice((2, 3)), s=2)
        if kind == "global_avgpool":
            cfg["size"] = rng.choice((7, 14, 28))
        if kind == "channel_shuffle":
            g = rng.choice([d for d in (2, 3, 4, 8) if c % d == 0] or [2])
            if c % g:
                continue
            cfg["g"] = g
        if kind == "channel_split" and c % 2:
            continue
        if kind in LAYOUT_TYPES and block and c % block:
            continue
        return cfg
    raise RuntimeError(f"no configuration of {kind} within the limits")


def on_cpu(model: bytes, runs: int) -> float:
    """Median on-CPU time of one run of ``model`` with one thread (the caller computes)."""
    session = open_session(model, 1)
    feed = input_feed(session)
    cpu: list[float] = []
    time_runs(session, feed, warmup=2, runs=runs, cpu=cpu)
    return statistics.median(cpu)


def run_baseline(runs: int = 40) -> float:
    """The on-CPU cost of a run beyond its kernels: a run of a one-element ReLU model."""
    return on_cpu(micro.elementwise_model(kind="relu", c=1, size=1), runs)


#: Kernels longer than this are timed by their on-CPU time (one thread): a scheduler
#: slice is a few ms, so on a loaded machine the profiler's wall durations of long
#: kernels include waits for a CPU, while short ones mostly run uninterrupted (and their
#: on-CPU time, less a run's fixed cost, is too small to measure that way).
LONG_KERNEL_S = 200e-6


def measure_sample(
    kind: str, cfg: dict[str, int], threads: int, runs: int, baseline: float | None = None
) -> Sample:
    """Time one micro-model: the profiler's median time of the kernels computing it; for a
    kernel longer than :data:`LONG_KERNEL_S` with one thread (and a ``baseline``), its
    on-CPU time per run less the run's fixed cost and the layout conversions the runtime
    adds around a lone kernel (their profiled time)."""
    model, macs, nbytes = build(kind, cfg)
    kernels = profile_kernels(model, threads, warmup=2, runs=runs)
    main = math.fsum(k.measured_s for k in kernels if k.op not in LAYOUT_OPS)
    seconds = main
    if kind in LAYOUT_TYPES:
        op = "ReorderInput" if kind == "reorder_input" else "ReorderOutput"
        seconds = math.fsum(k.measured_s for k in kernels if k.op == op)
    elif threads == 1 and baseline is not None and main > LONG_KERNEL_S:
        layout = math.fsum(k.measured_s for k in kernels if k.op in LAYOUT_OPS)
        cpu = on_cpu(model, runs) - baseline
        seconds = max(cpu - layout, 0.25 * cpu)
    return Sample(
        type=kind,
        config=tuple(sorted(cfg.items())),
        macs=macs,
        nbytes=nbytes,
        seconds=max(seconds, 1e-7),
        rows=rows_of(kind, cfg),
    )


# -- fusions -----------------------------------------------------------------------------
FUSION_CANDIDATES: tuple[tuple[str, ...], ...] = (
    ("batchnorm",),
    *((a,) for a in ACTIVATIONS),
    ("add",),
    *(("batchnorm", a) for a in ACTIVATIONS),
    ("batchnorm", "add"),
    ("add", "relu"),
    ("add", "relu6"),
    ("batchnorm", "add", "relu"),
    ("batchnorm", "add", "relu6"),
    ("relu", "add"),
    ("batchnorm", "relu", "add"),
)


def two_conv_model(followers: tuple[str, ...], c: int = 32, size: int = 28) -> bytes:
    """1×1 conv ``a`` → 3×3 conv ``b`` → ``followers`` → 1×1 conv ``c`` (an add adds
    ``a``'s output: the residual comes from a convolution, as in a network; ``c`` keeps
    the followers off the graph's output, which onnxruntime does not fuse into a conv)."""
    from onnx import helper

    inits = [micro._weights("a.w", (c, c, 1, 1), 0), micro._weights("b.w", (c, c, 3, 3), 1)]
    nodes = [
        helper.make_node("Conv", ["x", "a.w"], ["a"], name="a", kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a", "b.w"], ["b"], name="b", kernel_shape=[3, 3], pads=[1] * 4),
    ]
    last = "b"
    for i, kind in enumerate(followers):
        name = f"f{i}_{kind}"
        nodes += micro.elementwise_nodes(kind, last, name, name, c, inits, ["a"])
        last = name
    inits.append(micro._weights("c.w", (c, c, 1, 1), 2))
    nodes.append(helper.make_node("Conv", [last, "c.w"], ["c"], name="c", kernel_shape=[1, 1]))
    last = "c"
    return micro._model(
        nodes, [micro._value("x", (c, size, size))], micro._value(last, (c, size, size)), inits
    )


def detect_fusions(threads: int) -> list[list[str]]:
    """The sequences after a convolution that the runtime runs inside its kernel, as
    ``[conv, kind, ...]``."""
    fused = []
    for followers in FUSION_CANDIDATES:
        kernels = profile_kernels(two_conv_model(followers), threads, warmup=0, runs=1)
        covered = next((set(k.covers) for k in kernels if "b" in k.covers), set())
        names = {f"f{i}_{kind}" for i, kind in enumerate(followers)}
        if names <= covered:
            fused.append(["conv", *followers])
    return fused


def detect_nchwc(threads: int) -> tuple[int, int]:
    """onnxruntime's NCHWc channel block and alignment here, as (block, align): the
    smallest per-group channel count of a grouped convolution it converts to NCHWc
    (grouped ones need whole blocks), and the smallest channel count of a depthwise one
    it converts; (0, 0) when it converts none."""

    def blocked(c_in: int, c_out: int, groups: int) -> bool:
        model = micro.conv_model(c_in=c_in, c_out=c_out, size=8, kernel=3, stride=1, groups=groups)
        return any(k.op in LAYOUT_OPS for k in profile_kernels(model, threads, warmup=0, runs=1))

    block = next((b for b in (4, 8, 16, 32) if blocked(2 * b, 2 * b, 2)), 0)
    if not block:
        return 0, 0
    align = next((a for a in (2, 4, 8, 16, 32) if a <= block and blocked(a, a, a)), block)
    return block, align


# -- the calibration ----------------------------------------------------------------------
def _uncertainty(
    samples: list[Sample],
    candidates: list[tuple[dict[str, int], int, int]],
    rng: random.Random,
    refits: int = 12,
) -> list[float]:
    """Relative spread (std / mean) of each candidate's prediction over refits on
    bootstrap resamples."""
    import numpy as np

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
        kind = samples[0].type
        preds.append(
            [
                m.seconds(macs, nbytes, rows_of(kind, cfg) if cfg else 0)
                for cfg, macs, nbytes in candidates
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
    baseline = run_baseline() if threads == 1 else None
    say("sampling kernels")
    for kind in types:
        for _ in range(initial):
            samples[kind].append(
                measure_sample(kind, draw(kind, rng, block, align), threads, runs, baseline)
            )
    probes.append(probe.measure())
    deadline = started + budget_s
    rounds = 0
    while time.perf_counter() < deadline:
        rounds += 1
        for kind in types:
            if time.perf_counter() >= deadline:
                break
            pool = []
            for _ in range(24):
                cfg = draw(kind, rng, block, align)
                _, macs, nbytes = build(kind, cfg)
                pool.append((cfg, macs, nbytes))
            spread = _uncertainty(samples[kind], pool, rng)
            pick = max(range(len(pool)), key=spread.__getitem__)
            samples[kind].append(measure_sample(kind, pool[pick][0], threads, runs, baseline))
        say(f"round {rounds}: {sum(len(v) for v in samples.values())} samples")
    probes.append(probe.measure())
    if record is not None:
        record.extend(s for v in samples.values() for s in v)
    overhead = run_overhead(threads, baseline)
    models = {
        kind: fit(
            [s.macs for s in v], [s.nbytes for s in v], [s.seconds for s in v], [s.rows for s in v]
        )
        for kind, v in samples.items()
    }
    # the generic model is for kinds never measured: cheap elementwise work, not LRN
    flat = [
        s
        for kind, v in samples.items()
        if kind not in (*MAC_TYPES, *LAYOUT_TYPES, "lrn")
        for s in v
    ]
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


def write_profile(profile: RuntimeProfile, path: str | Path) -> Path:
    """Write atomically: a temporary file moved into place, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(profile_yaml(profile), encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def kernel_model_table(profile: RuntimeProfile) -> list[tuple[str, KernelModel]]:
    return sorted(profile.kernels.items())
