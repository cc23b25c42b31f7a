"""The backend's speed benchmark (docs/performance.md): the NumPy backend against PyTorch's CPU time.

Run from the repository root, on a machine as quiet as you can get (docs/performance.md)::

    python benchmarks/backend.py [--rounds 7] [--repeats 3] [--threads N] [SPEC ...]

Where OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set for the sake of older OpenBLAS
builds, they slow a current numpy: unset both for this one command only
(``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/backend.py``); the
header prints which OpenBLAS kernel then runs.

For MobileNetV2, ShuffleNetV2 and ResNet-50 at 224x224, batch 1, it prints:

* the NumPy backend's forward time: :func:`archcost.backend.run` on an input and
  weights drawn beforehand (:func:`archcost.backend.prepare`), only the forward timed;
* when torch is importable, the same graph as PyTorch CPU ops on the same weights
  (``benchmarks/torch_reference.py``: eager ops, no fusion, like the backend), with
  ``torch.set_num_threads`` set to the thread count of numpy's BLAS (``--threads``
  overrides); their ratio; the largest absolute difference of the outputs, that
  relative to the output's largest magnitude, the same for the logits (a final
  softmax saturates to one-hot on random weights) and for the worst layer;
* the backend's GFLOP/s (2·MACs / time) beside a plain float32 GEMM's
  (1024x1024 @ 1024x1024, measured in the same run: the practical limit);
* where the time goes: per layer kind, and per conv category from the geometry
  (standard k>1, 1x1, depthwise, grouped), with GFLOP/s and the fraction of the GEMM's.

How it measures: each side runs in its own worker process (its own heap and thread
pools: in one process, each side's allocator state and idle threads change the
other's time), after two warm-up passes. The parent runs rounds: one block of
``--repeats`` timed passes on each side, alternating which goes first. A round counts
only when a short 2-thread GEMM probe, run before and after it, is at full speed
(:class:`Probe`): on a shared machine two lock-step threads lose far more than a fair
share when one is switched out. Times are medians over the counted passes; np/torch
is the median over rounds of the two sides' medians within the round (paired).

Goals (docs/design.md, "Performance goals"): within 2x of PyTorch's time on each
network, outputs equal within 1e-4 relative, standard convolutions at >= half of the
GEMM's GFLOP/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import archcost  # noqa: E402
from archcost.backend import prepare, run  # noqa: E402
from archcost.layers.conv import ConvLike  # noqa: E402

SPECS = ["mobilenet_v2", "shufflenet_v2", "resnet50"]
GEMM_N = 1024
#: seconds between one party's work and the next (see bench_spec)
SETTLE = 0.25
#: glibc malloc settings for --tuned-malloc: blocks up to 32 MiB come from the heap, and
#: up to 1 GiB of freed heap is kept for reuse instead of being returned to the system
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20),
                "MALLOC_TRIM_THRESHOLD_": str(2**30)}
#: (seconds of the whole pass, seconds of each layer)
Pass = tuple[float, list[float]]


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# -- machine -------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> tuple[str, int | None]:
    """numpy's BLAS (name, version, kernel) and its thread count, via threadpoolctl
    when installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS unknown (pip install threadpoolctl to see it)", None
    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
            text = f"{pool.get('internal_api')} {pool.get('version')}"
            if pool.get("architecture"):
                text += f" ({pool['architecture']} kernel)"
            return text, pool.get("num_threads")
    return "BLAS not found by threadpoolctl", None


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return math.nan


class Probe:
    """Is the machine running at full speed right now? A short 2-thread GEMM tells.

    On a shared machine (a VM whose neighbours take the host's cores, or another
    process here) two BLAS or OpenMP threads lose far more than a fair share: when one
    is switched out, its partner waits at the next barrier, and a 2-thread GEMM can
    drop to a tenth of its speed for seconds at a time (seen here). A round counts
    only when this probe, run before and after it, reaches ``keep`` of the best rate
    seen in the run.
    """

    N = 512

    def __init__(self, keep: float = 0.75):
        rng = np.random.default_rng(1)
        self.a = rng.standard_normal((self.N, self.N), dtype=np.float32)
        self.c = np.empty_like(self.a)
        self.keep = keep
        self.best = 0.0
        for _ in range(5):
            self.rate()

    def rate(self) -> float:
        """GFLOP/s of the median of 7 GEMMs; raises the best seen. Then it pauses, so
        that its own idle BLAS threads stop spinning before anything else runs."""
        rate = self._rate()
        time.sleep(SETTLE)
        return rate

    def _rate(self) -> float:
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            np.matmul(self.a, self.a, out=self.c)
            times.append(time.perf_counter() - t0)
        rate = 2 * self.N**3 / statistics.median(times) / 1e9
        self.best = max(self.best, rate)
        return rate

    def fast(self) -> bool:
        return self.rate() >= self.keep * self.best

    def wait(self, max_wait: float) -> bool:
        """Wait up to ``max_wait`` seconds for full speed; False when it never came."""
        deadline = time.monotonic() + max_wait
        while not self.fast():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
        return True


def gemm_gflops(probe: Probe, max_wait: float, tries: int = 3, repeats: int = 10) -> float:
    """GFLOP/s of a plain float32 ``(N x N) @ (N x N)`` matmul into ``out``: the median
    of ``repeats`` calls, best of ``tries`` tries each started at full speed."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    b = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    c = np.empty((GEMM_N, GEMM_N), np.float32)
    for _ in range(3):
        np.matmul(a, b, out=c)
    rates = []
    for _ in range(tries):
        probe.wait(max_wait)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.matmul(a, b, out=c)
            times.append(time.perf_counter() - t0)
        rates.append(2 * GEMM_N**3 / statistics.median(times) / 1e9)
    return max(rates)


# -- the two sides -------------------------------------------------------------------
def load_model(spec: str) -> Any:
    """A zoo name (``resnet50``) or a spec path, at 224x224 when it has the knob."""
    path = Path(spec) if spec.endswith(".yaml") else ROOT / "specs" / f"{spec}.yaml"
    model = archcost.load(path)
    return archcost.load(path, resolution=224) if "resolution" in model.knobs else model


def make_pass(side: str, spec: str, threads: int) -> Callable[[], list[float]]:
    """A function running one forward pass of ``spec`` on ``side`` ('numpy' or
    'torch'), returning per-layer seconds. Same seed, so both sides get the same input
    and weights."""
    model = load_model(spec)
    x, weights = prepare(model, batch=1, seed=0)
    if side == "numpy":
        # In place where frameworks are (relu, add; and batchnorm here), on both sides.
        return lambda: [r.seconds for r in run(model, x, weights, inplace=True).layers]
    import torch
    from torch_reference import TorchNet
    torch.set_num_threads(threads)
    net = TorchNet(model, weights)
    xt = torch.from_numpy(x)

    def torch_pass() -> list[float]:
        times: list[float] = []
        net(xt, times)
        return times
    return torch_pass


def _timed(fn: Callable[[], list[float]]) -> Pass:
    t0 = time.perf_counter()
    per_layer = fn()
    return time.perf_counter() - t0, per_layer


def worker(conn: Any, side: str, spec: str, threads: int) -> None:
    """A worker process: builds its side, warms up, then on each request ``n`` runs one
    untimed and ``n`` timed passes and sends the timings back; ``None`` ends it."""
    fn = make_pass(side, spec, threads)
    gc.disable()           # a collection inside a timed pass is noise, not the network
    for _ in range(2):
        fn()
    conn.send("ready")
    while (n := conn.recv()) is not None:
        fn()
        conn.send([_timed(fn) for _ in range(n)])
        gc.collect()


@dataclass
class Timing:
    """Counted passes: whole-pass seconds, per-layer seconds, per-round medians."""

    passes: list[float] = field(default_factory=list)
    layers: list[list[float]] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)

    def add_round(self, samples: list[Pass]) -> None:
        for total, per_layer in samples:
            self.passes.append(total)
            if not self.layers:
                self.layers = [[] for _ in per_layer]
            for acc, t in zip(self.layers, per_layer):
                acc.append(t)
        self.rounds.append(statistics.median(t for t, _ in samples))

    @property
    def median(self) -> float:
        return statistics.median(self.passes)

    def layer_medians(self) -> list[float]:
        return [statistics.median(ts) for ts in self.layers]


@dataclass
class Result:
    spec: str
    model: Any
    macs: int
    numpy: Timing
    torch: Timing | None
    #: rounds thrown away because the probe found the machine slowed down
    discarded: int = 0
    #: the network's output(s): largest |torch − numpy|, and that over the output's
    #: largest magnitude
    abs_diff: float = math.nan
    rel_diff: float = math.nan
    #: the logits (the last layer with MACs: a final softmax saturates on random weights)
    logits_rel: float = math.nan
    #: the worst layer: its name and |torch − numpy| over its output's largest magnitude
    worst_layer: str = ""
    worst_rel: float = math.nan

    @property
    def ratio(self) -> float:
        """numpy / torch: the median over rounds of the two sides' medians in a round."""
        if not self.torch:
            return math.nan
        return statistics.median(a / b for a, b in zip(self.numpy.rounds, self.torch.rounds))


def bench_spec(spec: str, repeats: int, rounds: int, threads: int | None, probe: Probe,
               max_wait: float) -> Result:
    """Time ``rounds`` counted rounds (up to ``3·rounds`` tries) in worker processes."""
    model = load_model(spec)
    sides = ["numpy"] + (["torch"] if threads else [])
    ctx = mp.get_context("spawn")        # no fork after BLAS/OpenMP threads exist
    workers = {}
    for side in sides:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker, args=(child, side, spec, threads or 1), daemon=True)
        proc.start()
        workers[side] = (proc, parent)
    try:
        for _, conn in workers.values():
            assert conn.recv() == "ready"
        result = Result(spec=Path(spec).stem, model=model, macs=model.totals["macs"],
                        numpy=Timing(), torch=Timing() if threads else None)
        timings = {"numpy": result.numpy, "torch": result.torch}
        tries = 0
        while len(result.numpy.rounds) < rounds and tries < 3 * rounds:
            tries += 1
            probe.wait(max_wait)
            order = sides if tries % 2 else sides[::-1]
            samples = {}
            for side in order:
                # Idle BLAS and OpenMP threads spin for a while (up to ~0.1 s) before
                # they sleep; let them, so one party's spinning never slows the next.
                time.sleep(SETTLE)
                conn = workers[side][1]
                conn.send(repeats)
                samples[side] = conn.recv()
            time.sleep(SETTLE)
            if not probe.fast():
                result.discarded += 1
                continue
            for side in sides:
                timings[side].add_round(samples[side])
    finally:
        for proc, conn in workers.values():
            try:
                conn.send(None)
            except OSError:
                pass
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
    if not result.numpy.rounds:
        raise SystemExit(f"{spec}: the machine never ran at full speed for a whole round; "
                         "try again when it is quieter, or raise --max-wait.")
    if threads:
        compare(result, threads)
    return result


# -- numerical agreement -------------------------------------------------------------
def numpy_every_layer(model: Any, x: np.ndarray, weights: dict) -> dict[str, Any]:
    """Every layer's NumPy output (the executor frees them; here all are kept)."""
    values: dict[str, Any] = {"input": x}
    for name in model.layers:
        node = model.nodes[name]
        xs = [values[s][p] if isinstance(values[s], list) else values[s]
              for s, p in zip(node.inputs, node.ports)]
        values[name], _ = node.layer.forward(xs, weights[name])
    return values


def _diff(got: Any, want: Any) -> tuple[float, float]:
    """(max |got − want|, that over max |want|), the worst part of a split."""
    pairs = zip(got, want) if isinstance(want, list) else [(got, want)]
    worst = (0.0, 0.0)
    for t, w in pairs:
        d = float(np.abs(t.numpy() - w).max()) if w.size else 0.0
        scale = float(np.abs(w).max()) if w.size else 0.0
        worst = max(worst, (d, d / scale if scale else d), key=lambda v: v[1])
    return worst


def compare(result: Result, threads: int) -> None:
    """Fill in the output, logits and worst-layer differences (in this process)."""
    import torch
    from torch_reference import TorchNet
    torch.set_num_threads(threads)
    model = result.model
    x, weights = prepare(model, batch=1, seed=0)
    want = numpy_every_layer(model, x, weights)
    got = TorchNet(model, weights)(torch.from_numpy(x), keep_all=True)
    outputs = [n for n in model.layers if not model.consumers(n)]
    result.abs_diff, result.rel_diff = max((_diff(got[n], want[n]) for n in outputs),
                                           key=lambda v: v[1])
    logits = [n for n in model.layers if model.counts[n].macs][-1]
    result.logits_rel = _diff(got[logits], want[logits])[1]
    result.worst_rel, result.worst_layer = max((_diff(got[n], want[n])[1], n)
                                               for n in model.layers)


# -- report --------------------------------------------------------------------------
def conv_category(layer: Any, in_shape: Any) -> str | None:
    """A conv's category from its geometry (not its kind's name): depthwise, 1x1,
    grouped or standard (k > 1, groups = 1); None for other layers."""
    if not isinstance(layer, ConvLike):
        return None
    g = layer.geometry(in_shape)
    if g.groups > 1 and g.c_in == g.groups:
        return "depthwise"
    if g.k == 1:
        return "1x1 conv" if g.groups == 1 else "1x1 grouped"
    return "standard conv" if g.groups == 1 else "grouped conv"


def standard_conv_gflops(result: Result) -> float:
    m = result.model
    std = [(m.counts[n].macs, s) for n, s in zip(m.layers, result.numpy.layer_medians())
           if conv_category(m.nodes[n].layer, m.nodes[n].input_shapes[0]) == "standard conv"]
    return 2 * sum(m for m, _ in std) / sum(s for _, s in std) / 1e9 if std else math.nan


def breakdown(result: Result, gemm: float) -> list[str]:
    """Per-kind and per-conv-category time (sums of per-layer medians), share,
    torch's time and GFLOP/s."""
    model = result.model
    layers = model.layers
    np_t = result.numpy.layer_medians()
    t_t = result.torch.layer_medians() if result.torch else [math.nan] * len(layers)
    total = sum(np_t)
    rows: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0])
    cats: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0])
    for name, a_t, b_t in zip(layers, np_t, t_t):
        node = model.nodes[name]
        for table, key in ((rows, node.kind),
                           (cats, conv_category(node.layer, node.input_shapes[0]))):
            if key is None:
                continue
            row = table[key]
            row[0] += a_t
            row[1] += b_t
            row[2] += model.counts[name].macs
            row[3] += 1
    lines = [f"  {'kind':<17} {'n':>3} {'numpy ms':>9} {'share':>6} {'torch ms':>9} "
             f"{'np/torch':>8} {'GFLOP/s':>8} {'/GEMM':>6}"]

    def line(key: str, row: list[float]) -> str:
        a_t, b_t, macs, count = row
        text = (f"  {key:<17} {count:>3} {a_t * 1e3:9.2f} {a_t / total:6.1%} "
                f"{b_t * 1e3:9.2f} {a_t / b_t if b_t else math.nan:8.2f}")
        if macs:
            rate = 2 * macs / a_t / 1e9
            text += f" {rate:8.1f} {rate / gemm:6.2f}"
        return text

    for key, row in sorted(rows.items(), key=lambda kv: -kv[1][0]):
        lines.append(line(key, row))
    lines.append("  by conv category (from the geometry):")
    for key, row in sorted(cats.items(), key=lambda kv: -kv[1][0]):
        lines.append(line(key, row))
    return lines


def slowest(result: Result, gemm: float, count: int) -> list[str]:
    """The ``count`` layers with the largest NumPy time, with the conv path taken."""
    from archcost import kernels
    model = result.model
    np_t = result.numpy.layer_medians()
    t_t = result.torch.layer_medians() if result.torch else [math.nan] * len(np_t)
    lines = [f"  {'slowest layers':<40} {'kind':<15} {'input':<12} {'path':<15} "
             f"{'numpy ms':>8} {'torch ms':>8} {'np/torch':>8} {'GFLOP/s':>7}"]
    ranked = sorted(zip(result.model.layers, np_t, t_t), key=lambda row: -row[1])[:count]
    for name, a_t, b_t in ranked:
        node, macs = model.nodes[name], model.counts[name].macs
        layer, x = node.layer, node.input_shapes[0]
        path = ""
        if isinstance(layer, ConvLike):
            geo = layer.geometry(x)
            path = kernels.conv_method((1, *x.dims), (geo.c_out, geo.c_in // geo.groups,
                                                      *geo.kernel),
                                       geo.stride, geo.padding, geo.dilation, geo.groups)
        rate = f"{2 * macs / a_t / 1e9:7.1f}" if macs else ""
        lines.append(f"  {name[:40]:<40} {node.kind:<15} {str(x):<12} {path:<15} "
                     f"{a_t * 1e3:8.3f} {b_t * 1e3:8.3f} {a_t / b_t:8.2f} {rate}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=SPECS,
                        help="zoo names or spec paths (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per block")
    parser.add_argument("--rounds", type=int, default=7,
                        help="counted rounds of one block on each side (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: as many as numpy's BLAS uses)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument("--top", type=int, default=0, metavar="N",
                        help="also list the N slowest layers of each network")
    parser.add_argument("--tuned-malloc", action="store_true",
                        help="run both workers with glibc's malloc keeping freed memory "
                             "(MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_), to see what "
                             "page faults on fresh outputs cost")
    parser.add_argument("--max-wait", type=float, default=60.0,
                        help="seconds to wait for full speed before a round (default: "
                             "%(default)s)")
    args = parser.parse_args(argv)

    blas, blas_threads = blas_info()
    use_torch = not args.no_torch and have_torch()
    threads = (args.threads or blas_threads or os.cpu_count() or 1) if use_torch else None
    print(f"# {dt.datetime.now().isoformat(timespec='minutes')}  {cpu_model()}, "
          f"nproc {os.cpu_count()}, Python {platform.python_version()}")
    print(f"# numpy {np.__version__}, {blas}, {blas_threads or '?'} threads; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}")
    if use_torch:
        import torch
        print(f"# torch {torch.__version__}, torch.set_num_threads({threads}) to match numpy")
    elif args.no_torch:
        print("# --no-torch: no PyTorch comparison")
    else:
        print("# torch is not installed: no PyTorch comparison "
              "(pip install torch==2.13.0, the optional 'bench' extra)")
    if args.tuned_malloc:
        # Read by glibc when a process starts: the spawned workers get them.
        os.environ.update(TUNED_MALLOC)
        print("# --tuned-malloc: workers run with " +
              " ".join(f"{k}={v}" for k, v in TUNED_MALLOC.items()))
    probe = Probe()
    gemm = gemm_gflops(probe, args.max_wait)
    print(f"# load average {load_average():.2f}; plain float32 GEMM {GEMM_N}^3: {gemm:.1f} "
          f"GFLOP/s")
    results = []
    for spec in args.specs:
        if results:          # the limit is the best GEMM rate measured in the run
            gemm = max(gemm, gemm_gflops(probe, args.max_wait))
        r = bench_spec(spec, args.repeats, args.rounds, threads, probe, args.max_wait)
        results.append(r)
        print(f"\n## {r.model.label} @ {'x'.join(map(str, r.model.input_shape[1:]))}, batch 1, "
              f"{r.macs / 1e6:,.0f} M MACs; {len(r.numpy.rounds)} rounds x {args.repeats} "
              f"passes each side ({r.discarded} rounds discarded: machine slowed down); "
              f"load average {load_average():.2f}")
        print("\n".join(breakdown(r, gemm)))
        if args.top:
            print("\n".join(slowest(r, gemm, args.top)))
    gemm_after = gemm_gflops(probe, args.max_wait)
    gemm = max(gemm, gemm_after)
    print(f"\n# GEMM again at the end: {gemm_after:.1f} GFLOP/s; the best, {gemm:.1f}, is the "
          f"reference below; 512^3 probe best {probe.best:.1f} GFLOP/s; load average "
          f"{load_average():.2f}")
    print(f"\n{'network':<14} {'numpy ms':>8} {'torch ms':>8} {'np/torch':>8} {'out |diff|':>10} "
          f"{'out rel':>8} {'logit rel':>9} {'GFLOP/s':>7} {'/GEMM':>5} {'std conv/GEMM':>13}"
          f"  worst layer (rel diff)")
    for r in results:
        t = r.numpy.median
        rate = 2 * r.macs / t / 1e9
        tt = r.torch.median if r.torch else math.nan
        if r.torch:
            vs = (f"{tt * 1e3:8.1f} {r.ratio:8.2f} {r.abs_diff:10.1e} {r.rel_diff:8.1e} "
                  f"{r.logits_rel:9.1e}")
            worst = f"{r.worst_layer} ({r.worst_rel:.1e})"
        else:
            vs, worst = f"{'-':>8} {'-':>8} {'-':>10} {'-':>8} {'-':>9}", "-"
        print(f"{r.spec:<14} {t * 1e3:8.1f} {vs} {rate:7.1f} {rate / gemm:5.2f} "
              f"{standard_conv_gflops(r) / gemm:13.2f}  {worst}")
    print("goals: np/torch <= 2; outputs within 1e-4 relative; standard convs >= 0.5 of the "
          "GEMM's GFLOP/s (GFLOP/s = 2·MACs / time).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
