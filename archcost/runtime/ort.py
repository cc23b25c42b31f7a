"""Run an ONNX model in onnxruntime: latency, per-kernel times, fusions, drift probe.

What is measured, and how:

* **Whole-network latency**: ``warmup`` untimed runs, then ``runs`` timed runs
  (profiler off) with the inputs and outputs bound once (onnxruntime's IO binding,
  :class:`BoundSession`, as ``onnxruntime_perf_test`` runs a model): the runtime's own
  time, without Python's copy of each output into a new array (``session.run`` adds
  5–15 µs per output here, varying from run to run). The median, with the quartiles and
  the range as the spread. The input is seeded random float32. With one thread the
  calling thread's on-CPU time is kept too (``cpu``): on a loaded machine the wall time
  of a long run includes its waits for a CPU, the on-CPU time does not.
* **Per-kernel time**: a second session with ``SessionOptions.enable_profiling``; the
  profiler's trace (Chrome trace-event JSON written by ``end_profiling()``) has one
  ``"cat": "Node"`` event named ``<node>_kernel_time`` per kernel and run, ``dur`` in
  microseconds. Each kernel keeps the median of its timed runs.
* **What a kernel covers**: onnxruntime rewrites the graph before running it (constant
  folding, Conv+BatchNormalization folding, Conv+activation fusion, NCHWc layout
  kernels with a fused residual add...). The session writes the graph it runs
  (``optimized_model_filepath``); a kernel covers the original nodes whose outputs
  disappeared into it: walking back from its outputs through tensors the optimised
  graph no longer has, up to its inputs. A layout-conversion kernel the runtime inserts
  covers nothing. archcost's exporter names nodes ``/<layer>/<Op>``: :func:`layer_of`
  reads the layer back.
* **Drift probe**: a fixed kernel (a 3×3 convolution, 32 → 32 channels, 56×56, in its
  own session) timed right after every measurement. On a shared machine the same
  session's latency drifts 10–50% over minutes; times divided by the probe's time at
  the same moment can be compared across moments.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archcost.errors import SpecError
from archcost.layers.base import Shape
from archcost.layers.conv import Conv
from archcost.runtime.micro import single

if TYPE_CHECKING:
    import onnx

RUNTIME = "onnxruntime"
INSTALL_HINT = "Install it with: pip install 'archcost[onnx]' (or pip install onnx onnxruntime)."


class RuntimeMissing(SpecError):
    """The runtime (or onnx) is not installed: one line with the install command."""


def import_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or :class:`RuntimeMissing` with the install hint."""
    try:
        import onnxruntime  # an optional extra, loaded only when a runtime is used
    except ImportError:
        raise RuntimeMissing("onnxruntime is not installed.", hint=INSTALL_HINT) from None
    return onnxruntime


def import_onnx() -> Any:
    """The ``onnx`` module, or :class:`RuntimeMissing` with the install hint."""
    try:
        import onnx  # an optional extra, loaded only when a model is read or built
    except ImportError:
        raise RuntimeMissing("the onnx package is not installed.", hint=INSTALL_HINT) from None
    return onnx


def runtime_version() -> str:
    return str(import_onnxruntime().__version__)


# -- results ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Kernel:
    """One kernel the runtime executed, its median time and the original nodes it covers."""

    name: str
    op: str
    measured_s: float
    covers: tuple[str, ...]


@dataclass(frozen=True)
class Spread:
    """The distribution of timed runs: median, quartiles, range (seconds)."""

    median: float
    q1: float
    q3: float
    min: float
    max: float
    runs: int

    @classmethod
    def of(cls, samples: list[float]) -> Spread:
        """>>> Spread.of([4.0, 1.0, 3.0, 2.0]).median
        2.5
        """
        s = sorted(samples)
        if len(s) >= 2:
            q1, _, q3 = statistics.quantiles(s, n=4, method="inclusive")
        else:
            q1 = q3 = s[0]
        return cls(median=statistics.median(s), q1=q1, q3=q3, min=s[0], max=s[-1], runs=len(s))

    @property
    def relative_iqr(self) -> float:
        """``(q3 - q1) / median``: how noisy the runs were."""
        return (self.q3 - self.q1) / self.median if self.median else math.nan


@dataclass
class Measurement:
    """Whole-network latency, per-kernel times and the drift probe of one model."""

    threads: int
    latency: Spread
    kernels: list[Kernel] = field(default_factory=list)
    probe_s: float = math.nan
    load_before: float = math.nan
    runtime: str = RUNTIME
    version: str = ""
    #: on-CPU time of the runs (one thread only: onnxruntime then runs in the caller)
    cpu: Spread | None = None

    @property
    def measured_s(self) -> float:
        return self.latency.median

    def layer_times(self) -> dict[str, float]:
        """Each covered original node's share: a fused kernel's time goes to its first
        covered node (its head); the other covered nodes get 0."""
        times: dict[str, float] = {}
        for k in self.kernels:
            for i, node in enumerate(k.covers):
                times[node] = times.get(node, 0.0) + (k.measured_s if i == 0 else 0.0)
        return times


# -- sessions ----------------------------------------------------------------------------
def session_options(
    threads: int, *, profile_prefix: str | None = None, optimized_path: str | None = None
) -> Any:
    """Sequential execution on ``threads`` intra-op threads, every graph optimisation on
    (onnxruntime's default, what deployments run)."""
    ort = import_onnxruntime()
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 4  # errors become SpecErrors; no warning on saving NCHWc graphs
    if profile_prefix is not None:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    if optimized_path is not None:
        so.optimized_model_filepath = optimized_path
    return so


def open_session(model: bytes, threads: int, **options: Any) -> Any:
    """An ``InferenceSession`` on the CPU provider; a model the runtime refuses becomes a
    :class:`SpecError` naming the node (the layer) it failed on."""
    ort = import_onnxruntime()
    try:
        return ort.InferenceSession(
            model, session_options(threads, **options), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own (Fail, InvalidGraph, ...)
        raise runtime_error(exc, model) from None


def runtime_error(exc: Exception, model: bytes | None = None) -> SpecError:
    """onnxruntime's message, first line, with the node it names as the layer (a
    rewritten node's name, e.g. ``<tensor>_nchwc``, traced back to the original node
    of ``model`` when given).

    >>> str(runtime_error(RuntimeError("[ONNXRuntimeError] : 1 : FAIL : Node (pw1) Op (Conv) "
    ...                                "[ShapeInferenceError] bad")))[:47]
    "layer 'pw1': onnxruntime cannot run this model:"
    """
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    match = (
        re.search(r"[Nn]ode \(([^)]*)\)", text)
        or re.search(r"Name:'([^']*)'", text)
        or re.search(r"node ([\w./:-]+)", text)
    )
    layer = match.group(1) if match else None
    if layer and model is not None:
        try:
            original = import_onnx().load_from_string(model)
            names = node_names(original)
            producers = {
                t: n
                for node, n in zip(original.graph.node, names, strict=True)
                for t in node.output
            }
            layer = _own_node(layer, {n: i for i, n in enumerate(names)}, producers) or layer
        except Exception:  # the message stays useful without the original name
            pass
    return SpecError(
        f"onnxruntime cannot run this model: {text}",
        layer=layer or None,
        hint="Check that the runtime supports the layer's operator and "
        "attributes (archcost export writes the model it runs).",
    )


def input_feed(session: Any, seed: int = 0) -> dict[str, Any]:
    """Seeded random float32 inputs; symbolic dimensions (a batch axis) become 1."""

    rng = np.random.default_rng(seed)
    feed = {}
    for arg in session.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in arg.shape]
        feed[arg.name] = rng.standard_normal(shape, dtype=np.float32)
    return feed


def time_runs(
    session: Any, feed: dict[str, Any], *, warmup: int, runs: int, cpu: list[float] | None = None
) -> list[float]:
    """Seconds of ``runs`` calls of ``session.run`` after ``warmup`` untimed ones.

    ``cpu``, when given, receives each run's on-CPU time of the calling thread
    (``time.thread_time``): with one intra-op thread onnxruntime computes in the caller,
    so this is the run's time without the waits for a CPU that other processes cause.
    """
    for _ in range(warmup):
        session.run(None, feed)
    out = []
    for _ in range(runs):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        session.run(None, feed)
        out.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.thread_time() - c0)
    return out


class BoundSession:
    """A session whose inputs and outputs are bound once (onnxruntime's IO binding): a
    run neither wraps its inputs nor allocates its outputs, so timing it times the
    kernels and the runtime's fixed cost per run, nothing else.

    Calibration times micro-models this way: onnxruntime's profiler, used before, puts
    a graph output's allocation (page faults included) into the last kernel's duration
    and rounds to whole µs; a 1×1 convolution 58 → 6 channels at 7×7 took 2.7 µs of CPU
    here and 15.5 µs in the profiler.
    """

    def __init__(self, model: bytes, threads: int, seed: int = 0):
        ort = import_onnxruntime()
        self.model = model
        with tempfile.TemporaryDirectory(prefix="archcost-ort-") as tmp:
            optimized = os.path.join(tmp, "optimized.onnx")
            self.session = open_session(model, threads, optimized_path=optimized)
            graph = import_onnx().load(optimized, load_external_data=False).graph
        #: the operators the runtime runs after its rewrites, in order (layout
        #: conversions included).
        self.ops = tuple(node.op_type for node in graph.node)
        feed = input_feed(self.session, seed)
        self.binding = self.session.io_binding()
        #: the bound inputs (their memory is the runtime's input).
        self.inputs = list(feed.values())
        for name, array in feed.items():
            self.binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(array))
        for arg in self.session.get_outputs():
            self.binding.bind_output(arg.name, "cpu")
        self._run()  # allocates the outputs once; bind them for every later run
        for arg, value in zip(self.session.get_outputs(), self.binding.get_outputs(), strict=True):
            self.binding.bind_ortvalue_output(arg.name, value)

    def _run(self) -> None:
        try:
            self.session.run_with_iobinding(self.binding)
        except Exception as exc:
            raise runtime_error(exc, self.model) from None

    def warm(self, seconds: float = 0.05, at_least: int = 2) -> float:
        """Untimed runs until ``at_least`` ran and ``seconds`` passed (a new session's
        first runs are slower: its buffers and code are cold); the last run's seconds."""
        t0 = time.perf_counter()
        done, last = 0, 0.0
        while done < at_least or time.perf_counter() - t0 < seconds:
            t1 = time.perf_counter()
            self._run()
            last = time.perf_counter() - t1
            done += 1
        return last

    def times(
        self, runs: int, *, warmup: int = 2, before: Callable[[], None] | None = None
    ) -> tuple[list[float], list[float]]:
        """(wall seconds, on-CPU seconds of the calling thread) of ``runs`` runs after
        ``warmup`` untimed ones; ``before`` is called before each, untimed."""
        for _ in range(warmup):
            self._run()
        wall, cpu = [], []
        for _ in range(runs):
            if before is not None:
                before()
            c0 = time.thread_time()
            t0 = time.perf_counter()
            self._run()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        return wall, cpu


# -- the profiler ------------------------------------------------------------------------
def parse_profile(events: list[dict[str, Any]], *, skip: int = 0) -> dict[str, tuple[str, float]]:
    """Per kernel (node name): its op and the median of its ``*_kernel_time`` durations,
    in seconds, after the first ``skip`` runs of each.

    >>> ev = [{"cat": "Node", "name": "c_kernel_time", "dur": d, "args": {"op_name": "Conv"}}
    ...       for d in (900, 10, 30, 20)]
    >>> parse_profile(ev, skip=1)
    {'c': ('Conv', 2e-05)}
    """
    durations: dict[str, list[float]] = defaultdict(list)
    ops: dict[str, str] = {}
    for e in events:
        name = e.get("name", "")
        if e.get("cat") != "Node" or not name.endswith("_kernel_time"):
            continue
        node = name[: -len("_kernel_time")]
        durations[node].append(float(e.get("dur", 0)))  # microseconds
        ops[node] = str(e.get("args", {}).get("op_name", ""))
    return {
        node: (ops[node], statistics.median(d[skip:] or d) / 1e6) for node, d in durations.items()
    }


LAYOUT_OPS = frozenset({"ReorderInput", "ReorderOutput"})  # onnxruntime's NCHWc conversions


def _own_node(name: str, nodes: dict[str, int], producers: dict[str, str]) -> str | None:
    """The original node an optimised node's name refers to: the same name; or
    ``<tensor>_nchwc`` (onnxruntime names an NCHWc kernel after the original tensor it
    computes); or ``<node>/<Fusion>/`` (a fusion's new node); or ``fused <node>``.

    >>> _own_node("/f0_swish/Mul/QuickGeluFusion/", {"/f0_swish/Mul": 0}, {})
    '/f0_swish/Mul'
    >>> _own_node("conv/ConvFusion/", {"conv": 0}, {})
    'conv'
    >>> _own_node("fused /fc6/Gemm", {"/fc6/Gemm": 0}, {})
    '/fc6/Gemm'
    """
    for candidate in (
        name,
        # ``fused <node>``: a Gemm or Conv with its activation (FusedGemm, FusedConv)
        name.removeprefix("fused ") if name.startswith("fused ") else None,
        name[: -len("_nchwc")] if name.endswith("_nchwc") else None,
        # <node>/<Fusion>/, where <node> may itself hold slashes (archcost's exporter
        # names nodes /<layer>/<Op>)
        name[:-1].rsplit("/", 1)[0] if name.endswith("/") and "/" in name[:-1] else None,
        name.split("/", 1)[0] if "/" in name else None,
    ):
        if not candidate:
            continue
        if candidate in nodes:
            return candidate
        if candidate in producers:
            return producers[candidate]
    return None


def coverage(original: onnx.ModelProto, optimized: onnx.ModelProto) -> dict[str, tuple[str, ...]]:
    """For every node of the optimised graph (by :func:`node_names`), the original nodes
    it covers, in original order.

    onnxruntime keeps a node's name, or names a rewritten node after the original tensor
    it computes (``<tensor>_nchwc``) or the node it grew from (``<node>/<Fusion>/``).
    An original node no kernel is named after was fused (or eliminated): it belongs to
    the kernel of the node it feeds when it feeds exactly one node and that node is
    fused into a kernel the same way (Conv → BatchNormalization → Relu, named after the
    Relu); otherwise to the kernel of its latest producer (an Add fused into the Conv
    before it). Kernels without a name of their own (a decomposition's pieces) cover
    the original node whose tensor they lead to; layout conversions cover nothing.
    """
    onames = node_names(original)
    order = {name: i for i, name in enumerate(onames)}
    producers: dict[str, str] = {}
    consumers: dict[str, list[str]] = defaultdict(list)
    inputs_of: dict[str, list[str]] = {}
    for node, name in zip(original.graph.node, onames, strict=True):
        for t in node.output:
            if t:
                producers[t] = name
        inputs_of[name] = [t for t in node.input if t]
        for t in node.input:
            if t:
                consumers[t].append(name)
    kernel_of: dict[str, str] = {}  # original node -> optimised node
    opt_nodes = list(zip(optimized.graph.node, node_names(optimized), strict=True))
    unnamed = []
    for node, name in opt_nodes:
        if node.op_type in LAYOUT_OPS:
            continue
        own = _own_node(node.name, order, producers) if node.name else None
        if own is not None and own not in kernel_of:
            kernel_of[own] = name
        elif own is None:
            unnamed.append((node, name))
    # pieces of a decomposition: follow the outputs to the first original tensor
    opt_consumers: dict[str, list[Any]] = defaultdict(list)
    for node, name in opt_nodes:
        for t in node.input:
            opt_consumers[t].append((node, name))
    extra: dict[str, str] = {}
    for node, name in unnamed:
        frontier, seen = list(node.output), set()
        while frontier:
            t = frontier.pop(0)
            if t in seen:
                continue
            seen.add(t)
            if t in producers:
                extra[name] = producers[t]
                break
            for n2, _ in opt_consumers.get(t, []):
                frontier.extend(n2.output)

    kernel_op = {name: node.op_type for node, name in opt_nodes}

    def op(node: str) -> str:
        return str(original.graph.node[order[node]].op_type)

    def fused_into(node: str) -> str | None:
        # Follow single consumers to a node a kernel is named after; a node of the
        # kernel's own op on the way is the kernel's head, and ``node`` lies before it.
        path, current = [node], node
        while current not in kernel_of and len(path) <= 64:
            outs = [
                c for t in original.graph.node[order[current]].output for c in consumers.get(t, [])
            ]
            if len(outs) != 1:
                return None
            current = outs[0]
            path.append(current)
        if current not in kernel_of:
            return None
        kernel = kernel_of[current]
        head_op = kernel_op[kernel].removeprefix("Fused")  # FusedGemm computes a Gemm
        if any(op(x) == head_op for x in path[1:-1]) or (len(path) > 1 and op(path[-1]) == head_op):
            return None
        return kernel

    covers: dict[str, list[str]] = defaultdict(list)
    assigned: dict[str, str] = {}
    for name in onames:  # consumers first (BN, Conv -> Relu)
        target = fused_into(name)
        if target is not None:
            assigned[name] = target
    for name in onames:  # then the latest producer (Add -> Conv)
        if name in assigned:
            continue
        made = [producers[t] for t in inputs_of[name] if t in producers]
        made = [m for m in made if m in assigned]
        if made:
            assigned[name] = assigned[max(made, key=order.__getitem__)]
    for kernel, node in extra.items():
        if node not in kernel_of:
            covers[kernel].append(node)
            assigned.pop(node, None)
    for node, kernel in assigned.items():
        covers[kernel].append(node)
    return {
        name: tuple(sorted(set(covers.get(name, ())), key=order.__getitem__))
        for _, name in opt_nodes
    }


def layer_of(node: str) -> str:
    """The archcost layer an ONNX node belongs to: the exporter names nodes
    ``/<layer>/<Op><suffix>``; other names are kept as they are.

    >>> layer_of("/stage2.unit1.pw1/Conv"), layer_of("/s.shuffle/Reshape_1"), layer_of("fc")
    ('stage2.unit1.pw1', 's.shuffle', 'fc')
    """
    if node.startswith("/") and node.count("/") >= 2:
        return node[1:].rsplit("/", 1)[0]
    return node


def node_names(model: onnx.ModelProto) -> list[str]:
    """Node names, ``<op>_<position>`` for nodes without one."""
    return [n.name or f"{n.op_type}_{i}" for i, n in enumerate(model.graph.node)]


class ProfiledSession:
    """A session with onnxruntime's profiler on, run as often as wanted (interleaved with
    other work), then read once: per-kernel medians and what each kernel covers."""

    def __init__(self, model: bytes, threads: int, seed: int = 0):
        self.model = model
        self._tmp = tempfile.TemporaryDirectory(prefix="archcost-ort-")
        self._optimized = os.path.join(self._tmp.name, "optimized.onnx")
        self.session = open_session(
            model,
            threads,
            profile_prefix=os.path.join(self._tmp.name, "profile"),
            optimized_path=self._optimized,
        )
        self.feed = input_feed(self.session, seed)
        self.runs = 0

    def run(self, times: int = 1) -> None:
        try:
            for _ in range(times):
                self.session.run(None, self.feed)
        except Exception as exc:
            raise runtime_error(exc, self.model) from None
        self.runs += times

    def kernels(self, skip: int = 0) -> list[Kernel]:
        """Each kernel's median time over the runs after the first ``skip``, in the order
        the runtime ran them; ends the profiling (call once)."""
        onnx = import_onnx()
        try:
            trace = self.session.end_profiling()
            events = json.loads(Path(trace).read_text(encoding="utf-8"))
            optimized = onnx.load(self._optimized, load_external_data=False)
        finally:
            self.session = None
            self._tmp.cleanup()
        times = parse_profile(events, skip=skip)
        covers = coverage(onnx.load_from_string(self.model), optimized)
        # Profile names of unnamed nodes carry the runtime's internal index, not the
        # saved position: match those by op type, in order.
        unnamed_saved: dict[str, list[str]] = defaultdict(list)
        for node, name in zip(optimized.graph.node, node_names(optimized), strict=True):
            if not node.name:
                unnamed_saved[node.op_type].append(name)
        kernels = []
        for name, (op, seconds) in times.items():
            key = name
            if name not in covers and unnamed_saved.get(op):
                key = unnamed_saved[op].pop(0)
            kernels.append(Kernel(name=name, op=op, measured_s=seconds, covers=covers.get(key, ())))
        return kernels


def profile_kernels(
    model: bytes, threads: int, *, warmup: int = 2, runs: int = 10, seed: int = 0
) -> list[Kernel]:
    """Per-kernel median times from onnxruntime's profiler, with what each covers, in
    the order the runtime ran them."""
    profiled = ProfiledSession(model, threads, seed)
    profiled.run(warmup + runs)
    return profiled.kernels(skip=warmup)


# -- the drift probe -----------------------------------------------------------------------
PROBE_DESCRIPTION = "3x3 conv, 32 -> 32 channels, 56x56, float32, one session"


def probe_model() -> bytes:
    """The drift probe's model: one fixed 3×3 convolution with seeded weights."""
    return single(Conv(out=32, kernel=3, padding=1), [Shape((32, 56, 56))], name="probe")


class Probe:
    """Times the fixed probe kernel (median of ``runs`` warm calls) on demand."""

    def __init__(self, threads: int, runs: int = 15):
        self.session = BoundSession(probe_model(), threads)
        self.runs = runs
        self.session.times(1, warmup=3)

    def measure(self) -> float:
        return statistics.median(self.session.times(self.runs, warmup=1)[0])


# -- one measurement ---------------------------------------------------------------------
def measure(
    model: bytes,
    *,
    threads: int = 1,
    warmup: int = 5,
    runs: int = 30,
    profile_runs: int = 10,
    kernels: bool = True,
    probe: Probe | None = None,
    seed: int = 0,
) -> Measurement:
    """Latency of ``model`` (serialized ONNX) in onnxruntime on ``threads`` threads.

    Args:
        model: the serialized ``ModelProto``.
        threads: intra-op threads.
        warmup: untimed runs first (allocations, thread-pool start, caches); they go
            on for 50 ms at least, which a network of µs needs.
        runs: timed runs; the latency is their median.
        profile_runs: profiled runs for the per-kernel times (0 or ``kernels=False``:
            none).
        probe: the drift probe to time right after; a new one when None.

    Raises:
        SpecError: the runtime cannot load or run the model (naming the node).
    """
    if threads < 1 or runs < 1 or warmup < 0:
        raise SpecError(
            f"a measurement needs threads >= 1, runs >= 1 and warmup >= 0, got "
            f"threads={threads}, runs={runs}, warmup={warmup}."
        )
    load = _load_average()
    session = BoundSession(model, threads, seed)
    session.warm(0.05 if warmup else 0.0, at_least=warmup)
    samples, cpu = session.times(runs, warmup=0)
    del session
    probe = probe or Probe(threads)
    probe_s = probe.measure()
    found = (
        profile_kernels(model, threads, runs=profile_runs, seed=seed)
        if kernels and profile_runs > 0
        else []
    )
    return Measurement(
        threads=threads,
        latency=Spread.of(samples),
        kernels=found,
        probe_s=probe_s,
        load_before=load,
        version=runtime_version(),
        cpu=Spread.of(cpu) if threads == 1 else None,
    )


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return math.nan
