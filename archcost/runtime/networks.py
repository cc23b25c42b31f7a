"""Weights read cold in a network, fitted on synthetic networks.

Calibration times each kernel alone, a micro-model run over and over: its weights stay
in the caches between runs. Inside a network they do not: between two reads of a
layer's weights (one run apart) the rest of the network's weights and tensors pass
through the caches. On the machine this was built on (2 vCPUs of an AMD EPYC, 32 MiB of
L3 shared with other tenants, onnxruntime 1.32) whole networks ran up to 15% over the
sum of their kernels' predictions, the more the more weights they have (MobileNetV2,
14 MB of weights, 3–10%; synthetic networks of under 1 MB, none: docs/latency.md).

Calibration therefore ends by timing a few dozen **synthetic networks**: random CNNs
drawn by :func:`draw_network` as real ones are built (a stem, stages of plain 3×3
convolutions, ResNet bottlenecks, grouped bottlenecks or inverted residuals with
depthwise convolutions at halving resolution and growing width, a classifier), never
the networks ``benchmarks/latency.py`` evaluates on. Each is timed whole and predicted
kernel by kernel, and :func:`fit_cold_weights` fits the rate at which a network reads
the weights that do not stay in the caches: all but one core's L2 cache of them (a
cache size fitted as well came out poorly determined by these networks, 8 MiB in one
calibration, and priced the evaluation networks worse: docs/latency.md).
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from archcost.costs import CostRow, compute, count_all
from archcost.graph import Node
from archcost.layers.act import BatchNorm, Flatten, Relu, Relu6
from archcost.layers.base import Layer, Shape
from archcost.layers.conv import Conv, DepthwiseConv, GroupedConv, PointwiseConv
from archcost.layers.dense import Linear
from archcost.layers.merge import Add
from archcost.layers.pool import GlobalAvgPool, MaxPool
from archcost.runtime.micro import Step, nodes

#: channel counts a synthetic network's layers take: whole NCHWc blocks mostly, and
#: counts that are not (ShuffleNet's 58, 116, 232; odd widths), which run plain NCHW.
WIDTHS: tuple[int, ...] = (16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 256, 320)
WIDTHS += (384, 512, 640, 768, 960, 1024, 1280)
ODD_WIDTHS = (20, 36, 58, 60, 100, 116, 132, 180, 232, 300, 464, 488, 976)
#: a synthetic network's MACs stay under this (a run of a few ms on a 2-core machine).
MAX_NETWORK_MACS = 400_000_000
#: the weights a network keeps in the caches from one run to the next where the
#: machine does not say its L2 size: 1 MiB, a current server core's L2.
DEFAULT_CACHE_BYTES = 2**20


@dataclass(frozen=True)
class SyntheticNetwork:
    """A drawn network: its layers, its graph input, and what it is made of."""

    steps: tuple[Step, ...]
    inputs: dict[str, Shape]
    blocks: tuple[str, ...]

    def rows(self) -> tuple[list[CostRow], dict[str, Layer]]:
        """Its cost rows (network order, batch 1, float32) and layer objects, as
        :func:`archcost.runtime.predict.predict_rows` reads them."""
        graph = {
            name: Node(name, None, (), (), (), (shape,), None, None, -1)
            for name, shape in self.inputs.items()
        }
        graph.update((n.name, n) for n in nodes(self.steps, self.inputs))
        costs = compute(graph, count_all(graph), list(graph))
        return costs.rows, {n.name: n.layer for n in graph.values() if n.layer is not None}


class _Builder:
    """Appends layers, tracking the current tensor's name and shape, the MACs so far and
    the blocks the network is made of."""

    def __init__(self, x: Shape):
        self.steps: list[Step] = []
        self.blocks: list[str] = []
        self.shapes: dict[str, Shape] = {"x": x}
        self.names = (f"l{i}" for i in itertools.count())
        self.top = "x"
        self.macs = 0

    @property
    def shape(self) -> Shape:
        return self.shapes[self.top]

    def add(self, layer: Layer, *inputs: str) -> str:
        ins = inputs or (self.top,)
        shapes = tuple(self.shapes[i] for i in ins)
        name = next(self.names)
        self.steps.append(Step(name, layer, ins))
        self.shapes[name] = layer.out_shapes(shapes)[0]
        self.macs += layer.macs(shapes)
        self.top = name
        return name

    def conv(self, layer: Layer, act: Layer | None) -> str:
        self.add(layer)
        self.add(BatchNorm())
        return self.add(act) if act is not None else self.top

    def block(self, name: str, build: Callable[[], object]) -> bool:
        """Append a block (``build`` adds its layers) and name it in :attr:`blocks`;
        False, with the block taken back, when it would take the network over
        :data:`MAX_NETWORK_MACS`."""
        kept, top, macs = len(self.steps), self.top, self.macs
        build()
        if self.macs > MAX_NETWORK_MACS:
            del self.steps[kept:]
            self.top, self.macs = top, macs
            return False
        self.blocks.append(name)
        return True


def _width(rng: random.Random, target: float) -> int:
    """A channel count near ``target``: a whole-block one, or one in five times not."""
    pool = ODD_WIDTHS if rng.random() < 0.2 else WIDTHS
    return min(pool, key=lambda c: abs(c - target))


def draw_network(rng: random.Random) -> SyntheticNetwork:
    """A random CNN built as real ones are: a stem, then stages at halving resolution
    and growing width (each opened by a stride-2 block, 1–4 blocks of one kind), down
    to 7×7 or until :data:`MAX_NETWORK_MACS`, sometimes a wide 1×1 convolution, and a
    classifier half the time."""
    size = rng.choice((56, 112, 160, 224, 224))
    b = _Builder(Shape((3, size, size)))
    act = rng.choice((Relu, Relu6))
    stem = _width(rng, rng.choice((16, 24, 32, 48, 64, 96, 128)))
    b.block("stem", lambda: b.conv(Conv(out=stem, kernel=3, stride=2, padding=1), act()))
    if rng.random() < 0.3:
        b.block("maxpool", lambda: b.add(MaxPool(kernel=3, stride=2, padding=1)))
    growth = rng.choice((1.5, 2.0, 2.5))
    full = False
    last = rng.random() < 0.5  # a last stage at 7×7, as MobileNets and ResNets end
    while not full and (b.shape.dims[1] > 7 or last):
        last = last and b.shape.dims[1] > 7
        kind = rng.choice(("plain", "bottleneck", "grouped", "inverted", "inverted"))
        groups = rng.choice((2, 4, 8, 32))
        expansion = rng.choice((1, 3, 4, 6))
        k = rng.choice((3, 3, 5))
        width = _width(rng, min(b.shape.dims[0] * growth, 1024))
        for i in range(rng.randint(1, 4)):
            c = b.shape.dims[0]
            stride = 2 if i == 0 and b.shape.dims[1] > 7 else 1
            build = functools.partial(
                _block, b, kind, c, width, stride, act, rng, groups, expansion, k
            )
            if not b.block(kind, build):  # too big: stop
                full = True
                break
    if rng.random() < 0.4:
        wide = PointwiseConv(out=_width(rng, rng.choice((512, 1024, 1280))))
        b.block("wide 1x1", lambda: b.conv(wide, act()))
    if rng.random() < 0.5:
        head = (GlobalAvgPool(), Flatten(), Linear(out=rng.choice((10, 100, 1000))))
        b.block("classifier", lambda: [b.add(layer) for layer in head])
    return SyntheticNetwork(tuple(b.steps), {"x": b.shapes["x"]}, tuple(b.blocks))


def _block(
    b: _Builder,
    kind: str,
    c: int,
    out: int,
    stride: int,
    act: type[Layer],
    rng: random.Random,
    groups: int,
    expansion: int,
    k: int,
) -> None:
    """One block of ``kind`` from ``c`` to ``out`` channels (a residual add when the
    shapes allow)."""
    start = b.top
    if kind == "plain":
        b.conv(Conv(out=out, kernel=3, stride=stride, padding=1), act())
        return
    if kind in ("bottleneck", "grouped"):
        g = groups if kind == "grouped" else 1
        mid = max(g, _width(rng, out / 2 if g > 1 else out / 4) // g * g)
        b.conv(PointwiseConv(out=mid), act())
        middle = GroupedConv(out=mid, kernel=3, stride=stride, padding=1, groups=g)
        b.conv(middle if g > 1 else Conv(out=mid, kernel=3, stride=stride, padding=1), act())
        b.conv(PointwiseConv(out=out), None)
        if stride == 1 and out == c:
            b.add(Add(), start, b.top)
            b.add(act())
        return
    expand = _width(rng, c * expansion)
    if expand != c:
        b.conv(PointwiseConv(out=expand), act())
    b.conv(DepthwiseConv(kernel=k, stride=stride, padding=k // 2), act())
    b.conv(PointwiseConv(out=out), None)
    if stride == 1 and out == c:
        b.add(Add(), start, b.top)


@dataclass(frozen=True)
class Timed:
    """A synthetic network's predicted seconds (without the cold-weight term), the bytes
    of weights that term would read (:func:`~archcost.runtime.predict.network_weight_bytes`)
    and its measured seconds."""

    predicted: float
    weight_bytes: int
    measured: float


def fit_cold_weights(networks: Sequence[Timed], cache: int) -> tuple[float, float, float]:
    """The rate at which networks read their weights beyond ``cache`` bytes from memory,
    as (bytes per second, median |error| before, after).

    Of a network's W bytes of weights, ``max(0, 1 − cache / W)`` are read from memory at
    that rate besides what the kernel models predict (calibration gives one core's L2 as
    ``cache``). The rate is a one-parameter least-squares fit on the relative errors
    (non-negative), refitted without the networks more than 3 median deviations off the
    first fit (timed in a spell of interference). No gain (:func:`_trimmed`): ``inf``."""
    nets = [n for n in networks if 0 < n.measured < math.inf and 0 < n.predicted < math.inf]
    if not nets:
        return math.inf, math.nan, math.nan
    p = np.array([n.predicted for n in nets])
    m = np.array([n.measured for n in nets])
    w = np.array([n.weight_bytes for n in nets], dtype=float)
    cold = np.maximum(0.0, 1.0 - cache / np.maximum(w, 1.0)) * w  # bytes read cold
    e0 = p / m - 1
    a, b = cold / m, (m - p) / m
    kept = np.ones(len(nets), dtype=bool)
    k = 0.0
    for _ in range(2):  # fit, leave out the networks far off, fit again
        if not a[kept] @ a[kept]:
            return math.inf, float(np.median(np.abs(e0))), float(np.median(np.abs(e0)))
        k = max(0.0, float(a[kept] @ b[kept]) / float(a[kept] @ a[kept]))
        e = a * k - b
        spread = float(np.median(np.abs(e - np.median(e))))
        kept = np.abs(e - np.median(e)) <= 3 * spread + 1e-12
    if not k or _trimmed(e) >= _trimmed(e0):
        return math.inf, float(np.median(np.abs(e0))), float(np.median(np.abs(e0)))
    return 1.0 / k, float(np.median(np.abs(e0))), float(np.median(np.abs(e)))


def _trimmed(errors: np.ndarray) -> float:
    """The mean |error| of the 90% closest networks (a spell of interference spoils a
    few; most networks may carry no cold weights at all, so the median could be 0)."""
    e = np.sort(np.abs(errors))
    return float(np.mean(e[: max(1, math.ceil(0.9 * len(e)))]))
