"""Predict each layer's time on a calibrated runtime: fused kernels, a model per kernel type.

The predictor follows nn-Meter (Zhang et al., MobiSys 2021): divide the network into
the kernels the runtime executes after its fusions, predict each kernel, sum.

* **Kernel types.** A layer with MACs is a convolution or a linear layer; its type
  comes from its weight shape ``(C_out, C_in/g, *kernel)`` and input channels, not its
  kind's name: ``depthwise`` (g = C_in > 1, one input channel per group),
  ``grouped`` (1 < g), ``pointwise`` (1×1, g = 1), ``stem`` (k×k, g = 1, at most 4
  input channels: a network's first convolution), ``conv`` (other k×k, g = 1),
  ``conv3d`` (a k×k×k weight: video networks), ``linear`` (a 2-D weight);
  ``transposed_conv`` for a transposed convolution (onnxruntime's ConvTranspose, a
  GEMM then col2im in plain NCHW, whose weight reads ``(C_in, C_out/g, *kernel)``:
  its kind says so, ``Layer.nchwc_conv``), ``transposed_conv_tiled`` for one whose
  kernel windows tile the output without overlapping (k ≤ stride: col2im writes each
  output cell once). A layer
  that moves no memory (a view) takes no time. Every other layer is its own type,
  named by its kind (``batchnorm``, ``relu``, ``concat``...; ``maxpool3d`` for a max
  pool over a clip, when its kind is calibrated for one); a kind the profile never
  measured uses the ``elementwise`` model fitted over all zero-MAC kernels.
* **The model of a type** is a roofline with fitted efficiency and fixed cost,
  additive rather than a max so it can be fitted by least squares::

      seconds = fixed_s + macs / macs_per_s + bytes / bytes_per_s
                + rows / rows_per_s + col / col_per_s

  with ``macs`` and ``bytes`` (memory traffic) exactly as :mod:`archcost.costs` counts
  them (a blocked convolution's ``macs`` on whole channel blocks: :func:`blocked_macs`),
  ``rows`` and ``col`` as :class:`KernelModel` says, the coefficients fitted by
  :func:`fit` on micro-model measurements (non-negative, relative error). A layer is
  **compute**-bound when its MAC term is the larger of the two, else **memory**-bound.
* **Fusions.** The profile lists the layer sequences the runtime ran as one kernel,
  e.g. ``[conv, batchnorm, relu]`` (``conv`` stands for every convolution type but
  the transposed ones, whose kernel folds a batchnorm only: ``[transposed_conv,
  batchnorm]``). A
  chain that starts at a convolution and follows single-consumer edges through a
  listed sequence is one kernel: the convolution's prediction covers it, the fused
  layers take 0 s and name the kernel they are fused into.
* **Layouts** (``nchwc_block`` > 0 in the profile: onnxruntime on x86 rewrites
  convolutions into blocked-channel *NCHWc* kernels when their channels allow it, and
  inserts layout conversions where an NCHWc tensor meets an operator that needs plain
  NCHW). :func:`layouts` replays that rewrite's rules on the network: a 2-D convolution
  runs NCHWc when its output channels are a multiple of the block (dense: any output
  count) and its input channels per group are too (a dense convolution of fewer input
  channels than the block reads NCHW directly; a depthwise one needs only the output
  channels); max/average pools when their channels are; global pools, batchnorm,
  ReLU/sigmoid/tanh and resizes when their input is NCHWc; add, mul and concat when
  every input is (equal shapes; whole blocks for concat). A plain-NCHW convolution is a
  kernel type of its own (``conv_nchw``, ``pointwise_nchw``, ``depthwise_nchw``,
  ``grouped_nchw``: im2col and GEMM rather than the blocked kernels), a residual add is
  fused into a convolution only when both run NCHWc, and each conversion is a kernel
  (``reorder_input`` before an NCHWc kernel fed a plain tensor, once per tensor;
  ``reorder_output`` after an NCHWc tensor some plain operator reads, once per tensor)
  whose time is charged to the layer that needs it (``layout_s``).
* **Cold weights.** Calibration times a kernel alone, its weights in the caches; in a
  network, of its W bytes of weights all but ``weight_cache_bytes`` are read from memory
  (the rest of the network passed through the caches since the last run): each layer
  with MACs (linear layers aside, calibrated cold) adds its weights' bytes × that share
  ÷ ``cold_weight_bytes_per_s`` (both fitted on synthetic networks:
  :mod:`archcost.runtime.networks`).
* **Whole network** = the sum of its layers + the runtime's fixed cost per run
  (``run_overhead_s``: a run with its inputs and outputs bound, as ``bench`` measures).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from archcost.errors import SpecError
from archcost.layers import REGISTRY
from archcost.layers.base import Layer, Shape
from archcost.profiles import LayerEstimate, Profile

if TYPE_CHECKING:
    import numpy as np

    from archcost.costs import CostRow
    from archcost.model import Model

CONV_TYPES = ("conv", "pointwise", "depthwise", "grouped", "stem")
#: the same convolutions in plain NCHW layout (no blocked-channel kernel for them).
NCHW_TYPES = tuple(f"{t}_nchw" for t in CONV_TYPES if t != "stem")
#: 3-D convolutions (a [C, D, H, W] input): onnxruntime has no blocked kernel for them.
CONV3D = "conv3d"
#: transposed convolutions: onnxruntime's ConvTranspose, a GEMM then col2im, plain NCHW
#: (kernel windows that overlap, and those that tile the output: k ≤ stride).
TRANSPOSED = "transposed_conv"
TRANSPOSED_TYPES = (TRANSPOSED, "transposed_conv_tiled")
MAC_TYPES = (*CONV_TYPES, *NCHW_TYPES, CONV3D, *TRANSPOSED_TYPES, "linear")
#: the convolution types that head a fused kernel (Conv + BatchNorm + ReLU ...).
FUSION_HEADS = (*CONV_TYPES, CONV3D, *TRANSPOSED_TYPES)
LAYOUT_TYPES = ("reorder_input", "reorder_output")
#: the convolution types onnxruntime runs as im2col and a GEMM per group (its plain
#: ``MlasConv``; a plain depthwise one has its own loop): the ``col`` term of their
#: model. The ``depthwise`` type uses the same term for its output elements
#: (:func:`kernel_work`).
COL_TYPES = ("conv_nchw", "pointwise_nchw", "grouped_nchw", CONV3D)


def _kinds(has: Callable[[type[Layer]], bool]) -> frozenset[str]:
    return frozenset(kind for kind, cls in REGISTRY.items() if has(cls))


#: how onnxruntime's NCHWc rewrite treats the ONNX operators each kind exports to, as
#: each kind class says (``Layer.nchwc``): kinds that run blocked when their input is,
#: kinds that do when all inputs are (same shape), kinds that vanish from the graph
#: (their output is their input's tensor).
NCHWC_FOLLOW = _kinds(lambda cls: cls.nchwc in ("follow", "global"))
NCHWC_ALL_INPUTS = _kinds(lambda cls: cls.nchwc in ("all_inputs", "channel_blocks"))
#: of those, kinds whose inputs' channels must each be whole blocks (Concat).
NCHWC_CHANNEL_BLOCKS = _kinds(lambda cls: cls.nchwc == "channel_blocks")
#: kinds after which the rewrite no longer knows shapes (``Layer.dynamic_reshape``).
DYNAMIC_RESHAPE = _kinds(lambda cls: cls.dynamic_reshape)
#: kinds fused into a convolution as its Sum input (``Layer.conv_sum``).
CONV_SUM = _kinds(lambda cls: cls.conv_sum)
#: views the runtime copies, priced with their own kernel (``Layer.runtime_copy``).
RUNTIME_COPIES = _kinds(lambda cls: cls.runtime_copy)
NCHWC_GLOBAL = _kinds(lambda cls: cls.nchwc == "global")
#: kinds a convolution's kernel absorbs at no extra cost when fused into it
#: (``Layer.free_in_conv_kernel``).
FREE_IN_KERNEL = _kinds(lambda cls: cls.free_in_conv_kernel)
NCHWC_POOLS = _kinds(lambda cls: cls.nchwc == "pool")
#: kinds calibrated with their weights cold (``calibration.cold_weights``: linear
#: layers): their models already read their weights from memory.
COLD_CALIBRATED = _kinds(lambda cls: bool(cls.calibration and cls.calibration.cold_weights))
#: bytes per weight: the predictor prices float32 networks.
WEIGHT_BYTES = 4
#: kernel types that run plain NCHW whatever their kind's ``nchwc`` (``Layer.plain_kernels``).
PLAIN_KERNELS = frozenset(t for cls in REGISTRY.values() for t in cls.plain_kernels)
TRANSPARENT = _kinds(lambda cls: cls.nchwc == "transparent")
#: a dense k×k convolution of at most this many input channels (an RGB stem) is its own
#: kernel type: onnxruntime runs it without the channel blocking of the others.
STEM_CHANNELS = 4
GENERIC = "elementwise"
#: zero-MAC kernel types of a layer over a clip ([C, D, H, W]), ``<kind>3d``: the kinds
#: calibrated for one (a max pool over a clip runs onnxruntime's plain 3-D pooling, not
#: the blocked 2-D kernel a ``maxpool`` is timed on).
VOLUME_TYPES = frozenset(
    t
    for cls in REGISTRY.values()
    for t in (cls.calibration.types if cls.calibration else ())
    if t.endswith("3d") and t != CONV3D
)


# -- the per-type model ------------------------------------------------------------------
@dataclass(frozen=True)
class KernelModel:
    """``seconds = fixed_s + macs / macs_per_s + bytes / bytes_per_s + rows / rows_per_s
    + col / col_per_s`` for one kernel type.

    ``rows`` counts the output's rows, channels × height (:func:`output_rows`): a
    blocked convolution kernel is called once per output row and channel block, so a
    layer of many channels at a small resolution (960 × 7 × 7) pays per row what MACs
    and bytes do not show. ``col`` counts the elements of the matrices a plain (NCHW)
    convolution builds to run as GEMMs (:func:`im2col_elements`): a grouped
    convolution of a few channels per group (ResNeXt's 32 groups of 4) spends its time
    there, not in MACs; for a transposed convolution, the matrix its GEMM writes and
    col2im scatters (:func:`col2im_elements`); for a depthwise convolution, its output elements
    (:func:`depthwise_outputs`): its kernel loads, accumulates over the k×k taps and
    stores each output vector, so a 3×3 filter costs more per MAC than a 7×7 one. A
    rate of ``inf`` means the term was fitted to zero (it does not help).
    """

    fixed_s: float
    macs_per_s: float
    bytes_per_s: float
    samples: int = 0
    #: median |predicted / measured − 1| over the samples it was fitted on.
    error: float = math.nan
    rows_per_s: float = math.inf
    col_per_s: float = math.inf

    def terms(self, macs: int, nbytes: int, col: int = 0) -> tuple[float, float]:
        """(compute seconds, memory seconds) of a kernel; its ``col`` elements (a GEMM's
        matrices built, a depthwise kernel's output vectors loaded and stored) are memory
        work."""
        return macs / self.macs_per_s, nbytes / self.bytes_per_s + col / self.col_per_s

    def overhead(self, rows: int = 0) -> float:
        """The fixed cost plus the per-row cost of a kernel with ``rows`` output rows."""
        return self.fixed_s + rows / self.rows_per_s

    def seconds(self, macs: int, nbytes: int, rows: int = 0, col: int = 0) -> float:
        """>>> KernelModel(1e-6, 1e9, 1e9).seconds(1000, 2000)
        4e-06
        >>> round(KernelModel(1e-6, 1e9, 1e9, rows_per_s=1e8).seconds(1000, 2000, 300), 15)
        7e-06
        >>> round(KernelModel(1e-6, 1e9, 1e9, col_per_s=1e9).seconds(1000, 2000, 0, 500), 15)
        4.5e-06
        """
        compute, memory = self.terms(macs, nbytes, col)
        return self.overhead(rows) + compute + memory

    def as_yaml(self) -> dict[str, Any]:
        return {
            "fixed_s": float(f"{self.fixed_s:.4e}"),
            "macs_per_s": _rate(self.macs_per_s),
            "bytes_per_s": _rate(self.bytes_per_s),
            "rows_per_s": _rate(self.rows_per_s),
            "col_per_s": _rate(self.col_per_s),
            "samples": self.samples,
            "median_error": round(self.error, 4) if math.isfinite(self.error) else None,
        }


def output_rows(shape: Sequence[Any]) -> int:
    """Rows of an output: every dimension but the last (channels × height for C×H×W;
    a vector is one row; several outputs add up).

    >>> output_rows((96, 56, 56)), output_rows((1000,)), output_rows(((58, 28, 28),) * 2)
    (5376, 1, 3248)
    """
    if not shape:
        return 0
    if isinstance(shape[0], (tuple, list)):
        return sum(output_rows(s) for s in shape)
    return math.prod(shape[:-1]) if len(shape) > 1 else 1


def _rate(x: float) -> float | str:
    return "inf" if math.isinf(x) else float(f"{x:.4e}")


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Non-negative least squares for a handful of columns: the best of the
    unconstrained fits over every subset of columns whose solution is non-negative."""
    import numpy as np  # lazy: numpy loads only when a model is fitted (start-up time)

    n = a.shape[1]
    best, best_err = np.zeros(n), float(np.sum(b * b))
    for k in range(1, n + 1):
        for cols in itertools.combinations(range(n), k):
            x, *_ = np.linalg.lstsq(a[:, cols], b, rcond=None)
            if np.all(x >= 0):
                full = np.zeros(n)
                full[list(cols)] = x
                err = float(np.sum((a @ full - b) ** 2))
                if err < best_err:
                    best, best_err = full, err
    return best


def fit(
    macs: Sequence[int],
    nbytes: Sequence[int],
    seconds: Sequence[float],
    rows: Sequence[int] | None = None,
    col: Sequence[int] | None = None,
    *,
    floor_s: float = 0.0,
) -> KernelModel:
    """Fit ``fixed + macs·a + bytes·b + rows·c + col·d`` (all ≥ 0) minimising the *relative*
    squared error (each sample divided by its measured time: a 10 µs kernel counts as
    much as a 10 ms one, as the ratios the predictor is judged on do). ``floor_s`` is
    added to each divisor: a sub-µs sample, whose time is the difference of two
    measurements, then weighs no more than one of ``floor_s``.

    >>> m = fit([0, 0, 0], [1000, 2000, 4000], [2e-6, 3e-6, 5e-6])
    >>> round(m.fixed_s * 1e6, 3), round(m.bytes_per_s / 1e9, 3)
    (1.0, 1.0)
    """
    import numpy as np  # lazy: numpy loads only when a model is fitted (start-up time)

    t = np.asarray(seconds, float)
    if len(t) == 0 or np.any(t <= 0):
        raise ValueError("fit needs at least one positive time")
    r = np.zeros_like(t) if rows is None else np.asarray(rows, float)
    c = np.zeros_like(t) if col is None else np.asarray(col, float)
    a = np.column_stack([np.ones_like(t), np.asarray(macs, float), np.asarray(nbytes, float), r, c])
    scale = a.max(axis=0)
    scale[scale == 0] = 1.0
    w = 1 / (t + floor_s)
    x = _nnls(a / scale * w[:, None], t * w) / scale
    pred = a @ x
    error = float(np.median(np.abs(pred / t - 1)))
    return KernelModel(
        fixed_s=float(x[0]),
        macs_per_s=1 / float(x[1]) if x[1] > 0 else math.inf,
        bytes_per_s=1 / float(x[2]) if x[2] > 0 else math.inf,
        samples=len(t),
        error=error,
        rows_per_s=1 / float(x[3]) if x[3] > 0 else math.inf,
        col_per_s=1 / float(x[4]) if x[4] > 0 else math.inf,
    )


#: :func:`fit_robust` sets a sample aside when its relative residual exceeds this many
#: times the median one (and :data:`OUTLIER_MIN`).
OUTLIER_TIMES = 3.0
OUTLIER_MIN = 0.25


def fit_robust(
    macs: Sequence[int],
    nbytes: Sequence[int],
    seconds: Sequence[float],
    rows: Sequence[int] | None = None,
    col: Sequence[int] | None = None,
    *,
    floor_s: float = 0.0,
    least_s: float = 0.0,
) -> KernelModel:
    """:func:`fit`, robust to the samples a shared machine spoils: a sample of at most
    ``least_s`` (a kernel's time that came out at or below zero once the runtime's fixed
    cost and the layout conversions were taken off: noise, not the kernel) is left out;
    then, after one fit, every sample whose relative residual (divided by its time plus
    ``floor_s``, as the fit weighs it) exceeds :data:`OUTLIER_TIMES` times the median
    one and :data:`OUTLIER_MIN` (one timed in a spell of interference from other
    processes, 2× slow) is set aside, and the rest fitted again. ``samples`` counts the
    samples the model was fitted on.

    >>> t = [1e-6 + b / 1e9 for b in (1000, 2000, 3000, 4000, 5000, 6000)]
    >>> m = fit_robust([0] * 8, [1000, 2000, 3000, 4000, 5000, 6000, 2500, 7000],
    ...                t + [1e-7, 3 * (1e-6 + 7e-6)], least_s=1e-7)
    >>> round(m.fixed_s * 1e6, 3), round(m.bytes_per_s / 1e9, 3), m.samples
    (1.0, 1.0, 6)
    """
    import numpy as np  # lazy: numpy loads only when a model is fitted (start-up time)

    r = [0] * len(seconds) if rows is None else list(rows)
    c = [0] * len(seconds) if col is None else list(col)
    data = [s for s in zip(macs, nbytes, seconds, r, c, strict=True) if s[2] > least_s]
    if not data:
        raise ValueError("fit needs at least one time above least_s")
    model = fit(*zip(*data, strict=True), floor_s=floor_s)
    residual = np.array(
        [abs(model.seconds(m, b, n, k) - t) / (t + floor_s) for m, b, t, n, k in data], float
    )
    cut = max(OUTLIER_TIMES * float(np.median(residual)), OUTLIER_MIN)
    kept = [sample for sample, e in zip(data, residual, strict=True) if e <= cut]
    if len(kept) == len(data) or not kept:
        return model
    return fit(*zip(*kept, strict=True), floor_s=floor_s)


# -- the profile -------------------------------------------------------------------------
@dataclass(frozen=True)
class RuntimeProfile(Profile):
    """A device profile calibrated on a runtime: a :class:`KernelModel` per kernel type,
    the fusions the runtime makes, the drift probe's time and the fixed cost per run.

    ``peak_macs_per_s`` and ``bandwidth_bytes_per_s`` (the plain roofline's two numbers)
    are the best rates the calibration measured, for the roofline chart.
    """

    runtime: str = "onnxruntime"
    runtime_version: str = ""
    threads: int = 1
    probe_s: float = math.nan
    run_overhead_s: float = 0.0
    #: onnxruntime's NCHWc channel block on this machine (8 with AVX2, 16 with
    #: AVX-512); 0: no blocked layouts (no layout simulation).
    nchwc_block: int = 0
    #: the channel multiple its dense and depthwise NCHWc convolutions accept (0: the block).
    nchwc_align: int = 0
    #: its blocked convolutions' models were fitted on the MACs of whole channel blocks
    #: (:func:`blocked_macs`), so predictions count them too; False for profiles
    #: calibrated before (their models were fitted on the layers' own MACs).
    padded_macs: bool = False
    kernels: dict[str, KernelModel] = field(default_factory=dict, compare=False)
    fusions: tuple[tuple[str, ...], ...] = ()
    #: the rate at which a network's layers read weights that did not stay in the caches
    #: since the previous run (calibration's micro-models read theirs from the caches);
    #: inf: no such term (profiles calibrated before it).
    cold_weight_bytes_per_s: float = math.inf
    #: the weights a network keeps in the caches from one run to the next: of W bytes of
    #: weights, the share ``1 − weight_cache_bytes / W`` is read from memory.
    weight_cache_bytes: float = 0.0

    def cold_share(self, weight_bytes: float) -> float:
        """The share of a network's ``weight_bytes`` of weights read from memory."""
        if weight_bytes <= 0 or math.isinf(self.cold_weight_bytes_per_s):
            return 0.0
        return max(0.0, 1.0 - self.weight_cache_bytes / weight_bytes)

    def summary(self) -> dict[str, Any]:
        return {
            **super().summary(),
            "runtime": self.runtime,
            "runtime_version": self.runtime_version,
            "threads": self.threads,
            "probe_s": self.probe_s,
            "run_overhead_s": self.run_overhead_s,
            "nchwc_block": self.nchwc_block,
            "nchwc_align": self.nchwc_align,
            "padded_macs": self.padded_macs,
            "cold_weight_bytes_per_s": (
                self.cold_weight_bytes_per_s
                if math.isfinite(self.cold_weight_bytes_per_s)
                else None
            ),
            "weight_cache_bytes": self.weight_cache_bytes,
        }

    def fusions_applied(self) -> tuple[tuple[str, ...], ...]:
        """The fusions the predictor applies: the profile's, and, for a profile
        calibrated before transposed heads were tried whose convolutions fold a
        batchnorm, ``[transposed_conv, batchnorm]`` (onnxruntime folds one into
        ConvTranspose as into Conv, and nothing else)."""
        fusions = tuple(tuple(f) for f in self.fusions)
        if ("conv", "batchnorm") in fusions and not any(f[:1] == (TRANSPOSED,) for f in fusions):
            return (*fusions, (TRANSPOSED, "batchnorm"))
        return fusions

    def model_for(self, kernel_type: str) -> KernelModel | None:
        """The model of a kernel type: its own, else ``conv`` for a stem (profiles
        calibrated before stems had their own), ``conv_nchw`` without its im2col term
        for a transposed convolution (profiles calibrated before its types: priced on
        its MACs, bytes and rows), else the generic elementwise model for a
        zero-MAC kind."""
        if kernel_type in self.kernels:
            return self.kernels[kernel_type]
        if kernel_type in ("stem", CONV3D):
            return self.kernels.get("conv")
        if kernel_type in TRANSPOSED_TYPES:
            plain = self.kernels.get("conv_nchw") or self.kernels.get("conv")
            return replace(plain, col_per_s=math.inf) if plain else None
        if kernel_type in VOLUME_TYPES:  # a profile without 3-D pools: the 2-D model
            return self.model_for(kernel_type.removesuffix("3d"))
        if kernel_type.endswith("_nchw"):  # a profile calibrated without layouts
            return self.kernels.get(kernel_type.removesuffix("_nchw"))
        return None if kernel_type in MAC_TYPES else self.kernels.get(GENERIC)


def mismatch_warning(profile: Profile) -> str | None:
    """A warning when ``profile`` was calibrated on another runtime or version than the
    one installed here (None when it matches or the runtime is not installed)."""
    if not isinstance(profile, RuntimeProfile):
        return None
    if profile.runtime != "onnxruntime":
        return (
            f"profile '{profile.name}' was calibrated on {profile.runtime}, not "
            "onnxruntime: its predictions describe that runtime."
        )
    try:
        import onnxruntime  # an optional extra: only its version is read here
    except ImportError:
        return None
    if onnxruntime.__version__ != profile.runtime_version:
        return (
            f"profile '{profile.name}' was calibrated on onnxruntime "
            f"{profile.runtime_version}, this is onnxruntime {onnxruntime.__version__}: "
            "kernels and fusions may differ; re-run archcost calibrate --runtime "
            "onnxruntime."
        )
    return None


def parse_runtime_fields(doc: dict[str, Any], file: str, lines: dict[str, int]) -> dict[str, Any]:
    """The runtime profile's own keys, checked (the roofline keys are checked by
    :func:`archcost.roofline.parse_profile`)."""

    def bad(key: str, expected: str) -> SpecError:
        return SpecError(
            f"key '{key}' of a runtime profile expects {expected}, got {doc.get(key)!r}.",
            file=file,
            line=lines.get(key),
            hint="Write the profile with: archcost calibrate --runtime onnxruntime -o PROFILE.yaml",
        )

    def number(value: Any, key: str, *, allow_inf: bool = False) -> float:
        try:
            x = float(str(value).replace("_", "")) if not isinstance(value, bool) else math.nan
        except ValueError:
            x = math.nan
        if math.isnan(x) or x < 0 or (math.isinf(x) and not allow_inf):
            raise bad(key, "a number >= 0")
        return x

    out: dict[str, Any] = {
        "runtime": str(doc.get("runtime")),
        "runtime_version": str(doc.get("runtime_version", "")),
    }
    threads = doc.get("threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise bad("threads", "a positive integer")
    out["threads"] = threads
    out["probe_s"] = math.nan if doc.get("probe_s") is None else number(doc["probe_s"], "probe_s")
    out["run_overhead_s"] = number(doc.get("run_overhead_s", 0), "run_overhead_s")
    for key in ("nchwc_block", "nchwc_align"):
        value = doc.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(key, "a channel count >= 0")
        out[key] = value
    padded = doc.get("padded_macs", False)
    if not isinstance(padded, bool):
        raise bad("padded_macs", "true or false")
    out["padded_macs"] = padded
    kernels = doc.get("kernels", {}) or {}
    if not isinstance(kernels, dict):
        raise bad("kernels", "a mapping of kernel types to their fitted model")
    models = {}
    for name, spec in kernels.items():
        if not isinstance(spec, dict) or not {"fixed_s", "macs_per_s", "bytes_per_s"} <= set(spec):
            raise bad("kernels", f"for '{name}' a mapping with fixed_s, macs_per_s, bytes_per_s")
        models[str(name)] = KernelModel(
            fixed_s=number(spec["fixed_s"], "kernels"),
            macs_per_s=number(spec["macs_per_s"], "kernels", allow_inf=True) or math.inf,
            bytes_per_s=number(spec["bytes_per_s"], "kernels", allow_inf=True) or math.inf,
            samples=int(spec.get("samples", 0) or 0),
            error=float(spec.get("median_error", math.nan) or math.nan),
            rows_per_s=number(spec.get("rows_per_s", "inf"), "kernels", allow_inf=True) or math.inf,
            col_per_s=number(spec.get("col_per_s", "inf"), "kernels", allow_inf=True) or math.inf,
        )
    out["kernels"] = models
    fusions = doc.get("fusions", []) or []
    if not isinstance(fusions, list) or not all(
        isinstance(f, list) and all(isinstance(k, str) for k in f) for f in fusions
    ):
        raise bad("fusions", "a list of layer sequences such as [conv, batchnorm, relu]")
    out["fusions"] = tuple(tuple(f) for f in fusions)
    rate = doc.get("cold_weight_bytes_per_s")
    rate_expected = "a rate > 0 (bytes per second), or null for none"
    try:
        out["cold_weight_bytes_per_s"] = (
            math.inf if rate is None else number(rate, "cold_weight_bytes_per_s", allow_inf=True)
        )
    except SpecError:
        raise bad("cold_weight_bytes_per_s", rate_expected) from None
    if out["cold_weight_bytes_per_s"] == 0:
        raise bad("cold_weight_bytes_per_s", rate_expected)
    if math.isfinite(out["cold_weight_bytes_per_s"]) and "weight_cache_bytes" not in doc:
        raise bad("weight_cache_bytes", "the bytes of weights a network keeps cached, with a rate")
    out["weight_cache_bytes"] = number(doc.get("weight_cache_bytes", 0), "weight_cache_bytes")
    return out


# -- prediction --------------------------------------------------------------------------
def _layer(model: Model, name: str) -> Any:
    return model.nodes[name].layer


@dataclass(frozen=True)
class ConvGeometry:
    """A convolution's weight shape read as onnxruntime reads it: output channels,
    input channels per group, groups, spatial dimensions of the kernel."""

    c_out: int
    c_in_per_group: int
    groups: int
    kernel: tuple[int, ...]


def conv_geometry(row: CostRow, layer: Any) -> ConvGeometry | None:
    """The geometry of a layer with MACs and a convolution weight (None for a linear
    layer, a layer whose weights cannot be read, and a convolution onnxruntime runs
    with a kernel of its own, ``Layer.nchwc_conv`` False: a transposed convolution's
    weight is ``(C_in, C_out/g, *kernel)``, which this reading would take for a
    grouped one)."""
    if layer is not None and not getattr(layer, "nchwc_conv", True):
        return None
    try:
        shapes = [
            s
            for s in layer.weight_shapes([Shape(tuple(s)) for s in row.input_shapes]).values()
            if len(s) >= 2
        ]
    except Exception:  # a kind whose weights cannot be read this way
        return None
    if not shapes:
        return None
    w = max(shapes, key=len)
    if len(w) == 2:
        return None
    c_in = row.input_shapes[0][0]
    return ConvGeometry(
        c_out=w[0], c_in_per_group=w[1], groups=max(c_in // w[1], 1), kernel=tuple(w[2:])
    )


def kernel_type(row: CostRow, layer: Any) -> str:
    """The kernel type of one cost row (see the module docstring), before layouts."""
    if row.macs == 0:
        if row.memory_access == 0:
            return "view"
        volume = f"{row.kind}3d"
        if volume in VOLUME_TYPES and _volume(row):
            return volume
        return layer.runtime_kernel() if hasattr(layer, "runtime_kernel") else row.kind
    if layer is not None and not getattr(layer, "nchwc_conv", True):
        own = str(layer.runtime_kernel())  # ConvTranspose: kernel types of its own
        if own not in MAC_TYPES:
            raise SpecError(
                f"kind '{row.kind}' names kernel type '{own}', which the predictor does "
                f"not know (layer '{row.name}').",
                hint="A kind with nchwc_conv = False returns one of MAC_TYPES from "
                "runtime_kernel().",
            )
        return own
    g = conv_geometry(row, layer)
    if g is None:
        return "linear" if _is_linear(row, layer) else "conv"
    if len(g.kernel) == 3:
        return CONV3D
    if g.groups > 1 and g.c_in_per_group == 1 and g.groups == row.input_shapes[0][0]:
        return "depthwise"
    if g.groups > 1:
        return "grouped"
    if math.prod(g.kernel) == 1:
        return "pointwise"
    return "stem" if g.c_in_per_group <= STEM_CHANNELS else "conv"


def _volume(row: CostRow) -> bool:
    """Whether the layer's input is a clip, [C, D, H, W]."""
    return bool(row.input_shapes) and len(row.input_shapes[0]) == 4


def _is_linear(row: CostRow, layer: Any) -> bool:
    try:
        shapes = layer.weight_shapes([Shape(tuple(s)) for s in row.input_shapes]).values()
    except Exception:
        return False
    return any(len(s) == 2 for s in shapes)


def nchwc_conv(c_out: int, c_in_per_group: int, groups: int, block: int, align: int = 0) -> bool:
    """Whether onnxruntime's NCHWc rewrite turns a 2-D convolution into a blocked kernel.

    ``block``: its channel block (0: no blocked kernels); ``align``: the channel
    multiple it accepts for dense and depthwise convolutions (calibrate measures both;
    onnxruntime 1.32 with AVX2: 8 and 4). A grouped convolution needs whole blocks per
    group; a dense one with fewer input channels than a block reads NCHW directly.

    >>> nchwc_conv(64, 32, 1, 8, 4), nchwc_conv(58, 24, 1, 8, 4), nchwc_conv(116, 58, 1, 8, 4)
    (True, True, False)
    >>> nchwc_conv(100, 1, 100, 8, 4), nchwc_conv(58, 1, 58, 8, 4), nchwc_conv(128, 4, 32, 8, 4)
    (True, False, False)
    >>> nchwc_conv(96, 48, 2, 8, 4), nchwc_conv(36, 12, 3, 8, 4), nchwc_conv(16, 3, 1, 8, 4)
    (True, False, True)
    """
    if block <= 0:
        return False
    align = align or block
    if groups > 1:
        if c_in_per_group == 1 and c_out == groups:  # depthwise
            return c_out % align == 0
        return c_in_per_group % block == 0 and (c_out // groups) % block == 0
    return c_in_per_group < block or c_in_per_group % align == 0


def whole_blocks(n: int, block: int) -> int:
    """``n`` channels rounded up to whole blocks of ``block``.

    >>> whole_blocks(24, 16), whole_blocks(32, 16)
    (32, 32)
    """
    return -(-n // block) * block


def blocked_macs(macs: int, g: ConvGeometry, block: int) -> int:
    """The MACs a blocked (NCHWc) convolution kernel computes: onnxruntime pads its
    output channels to whole blocks, and its input channels too when it reads them
    blocked (at least a block of them), and computes the padding like any channel; a
    grouped convolution is blocked only with whole blocks per group.

    >>> g = ConvGeometry(c_out=8, c_in_per_group=16, groups=1, kernel=(3, 3))
    >>> blocked_macs(8 * 16 * 9 * 28 * 28, g, 16) == 16 * 16 * 9 * 28 * 28
    True
    >>> blocked_macs(24 * 9 * 100, ConvGeometry(24, 1, 24, (3, 3)), 16) == 32 * 9 * 100
    True
    """
    if block <= 0:
        return macs
    if g.groups > 1 and g.c_in_per_group == 1 and g.c_out == g.groups:  # depthwise
        return macs // g.c_out * whole_blocks(g.c_out, block)
    if g.groups > 1:
        return macs
    padded = macs // g.c_out * whole_blocks(g.c_out, block)
    if g.c_in_per_group >= block:
        padded = padded // g.c_in_per_group * whole_blocks(g.c_in_per_group, block)
    return padded


def im2col_elements(row: CostRow, g: ConvGeometry | None) -> int:
    """Elements of the matrices a plain (NCHW) convolution builds to run as GEMMs: for
    every group, its input patches (input channels per group × kernel positions) at
    every output position, ``macs / output channels per group``; none for a 1×1
    convolution of stride 1, which multiplies its input directly.

    >>> from archcost.costs import CostRow
    >>> row = CostRow(name="c", kind="grouped_conv", inputs=(), input_shapes=((128, 56, 56),),
    ...               output_shape=(128, 56, 56), params=0, macs=128 * 4 * 9 * 56 * 56,
    ...               flops=0, memory_access=0, activations=0, buffers=0)
    >>> im2col_elements(row, ConvGeometry(128, 4, 32, (3, 3))) == 32 * 4 * 9 * 56 * 56
    True
    """
    if g is None or not row.macs:
        return 0
    in_spatial, out_spatial = tuple(row.input_shapes[0][1:]), tuple(row.output_shape[1:])
    if math.prod(g.kernel) == 1 and in_spatial == out_spatial:
        return 0
    return row.macs // (g.c_out // g.groups)


def depthwise_outputs(row: CostRow, g: ConvGeometry | None, block: int) -> int:
    """The output elements a depthwise kernel computes, its channels padded to whole
    blocks of ``block`` (0: none) as its MACs are (:func:`blocked_macs`).

    >>> from archcost.costs import CostRow
    >>> row = CostRow(name="d", kind="depthwise_conv", inputs=(), input_shapes=((24, 56, 56),),
    ...               output_shape=(24, 56, 56), params=0, macs=24 * 9 * 56 * 56,
    ...               flops=0, memory_access=0, activations=24 * 56 * 56, buffers=0)
    >>> depthwise_outputs(row, ConvGeometry(24, 1, 24, (3, 3)), 16) == 32 * 56 * 56
    True
    """
    elements = row.activations  # one output (a depthwise convolution has one)
    if block and g is not None and g.c_out:
        return elements // g.c_out * whole_blocks(g.c_out, block)
    return elements


def col2im_elements(row: CostRow, layer: Any) -> int:
    """Elements of the matrix a transposed convolution's GEMM writes and col2im then
    scatters into the output: every output channel × kernel position × input position,
    ``macs / input channels per group``.

    >>> from archcost.costs import CostRow
    >>> row = CostRow(name="t", kind="transposed_conv", inputs=(), input_shapes=((16, 4, 4),),
    ...               output_shape=(8, 8, 8), params=0, macs=16 * 8 * 16 * 16,
    ...               flops=0, memory_access=0, activations=0, buffers=0)
    >>> col2im_elements(row, None) == 8 * 16 * 16
    True
    """
    c_in_per_group = row.input_shapes[0][0] // max(getattr(layer, "groups", 1), 1)
    return row.macs // c_in_per_group if c_in_per_group else 0


def kernel_work(row: CostRow, layer: Any, kernel_type: str, padded_block: int) -> tuple[int, int]:
    """The (MACs, element work) a kernel of ``kernel_type`` computes for ``row``: a
    blocked convolution's MACs on whole channel blocks of ``padded_block`` channels (0:
    the layer's own MACs; :func:`blocked_macs`); the ``col`` term of its model
    (:class:`KernelModel`): a plain convolution's im2col matrices
    (:func:`im2col_elements`), a transposed convolution's col2im matrix
    (:func:`col2im_elements`), a depthwise kernel's output elements
    (:func:`depthwise_outputs`). Calibration counts its samples
    and the predictor its layers with this one function."""
    if kernel_type in TRANSPOSED_TYPES:
        return row.macs, col2im_elements(row, layer)
    if kernel_type == "depthwise":
        g = conv_geometry(row, layer)
        macs = blocked_macs(row.macs, g, padded_block) if g and padded_block else row.macs
        return macs, depthwise_outputs(row, g, padded_block)
    if kernel_type in CONV_TYPES and padded_block:
        g = conv_geometry(row, layer)
        return (blocked_macs(row.macs, g, padded_block) if g else row.macs), 0
    if kernel_type in COL_TYPES:
        return row.macs, im2col_elements(row, conv_geometry(row, layer))
    return row.macs, 0


def blocked_conv(row: CostRow, geometry: ConvGeometry | None, block: int, align: int) -> bool:
    """Whether onnxruntime runs this layer as an NCHWc convolution (``block``: the
    channel block)."""
    if geometry is None or len(geometry.kernel) != 2:  # none for ConvTranspose either
        return False
    g = geometry
    return nchwc_conv(g.c_out, g.c_in_per_group, g.groups, block, align)


@dataclass
class Layouts:
    """What onnxruntime's NCHWc rewrite does to a network (see :func:`layouts`)."""

    #: layers whose output tensor is blocked (NCHWc).
    blocked: set[str] = field(default_factory=set)
    #: layer -> shapes of the tensors converted to NCHWc for it.
    reorder_in: dict[str, list[tuple[int, ...]]] = field(default_factory=lambda: defaultdict(list))
    #: layer -> shapes of the NCHWc tensors converted back for it.
    reorder_out: dict[str, list[tuple[int, ...]]] = field(default_factory=lambda: defaultdict(list))
    #: fused layers cut from their chain (a residual add the runtime cannot fuse).
    unfused: set[str] = field(default_factory=set)


def layouts(
    rows: list[CostRow],
    types: dict[str, str],
    geometry: dict[str, ConvGeometry | None],
    chains: dict[str, str],
    block: int,
    align: int = 0,
) -> Layouts:
    """Replay onnxruntime's NCHWc rewrite on cost rows in network order: which layers run
    blocked, where it converts layouts, which residual adds it cannot fuse. ``chains``
    (layer -> the convolution heading its fused kernel) is the fusion before layouts."""
    out = Layouts()
    alias: dict[str, str] = {}  # a vanished layer's output is its input's tensor
    reordered_in: set[str] = set()
    reordered_out: set[str] = set()
    consumed: set[str] = set()
    # blocked tensor -> what the rewrite knows of its shape: ("static", dims) when shape
    # inference gave concrete dims; after a channel shuffle (whose Reshape target is
    # computed at run time) only (the tensor it was derived from, times halved), tracked
    # through same-padded convolutions and pools. It fuses an add into a convolution only
    # when it can prove both inputs' shapes equal.
    origin: dict[str, tuple[Any, ...]] = {}
    dynamic: set[str] = set()
    cut: set[str] = set()  # heads whose chain stops at an unfused add

    def tensor(name: str) -> str:
        return alias.get(name, name)

    def to_plain(r: CostRow) -> None:
        for name, shape in zip(r.inputs, r.input_shapes, strict=True):
            t = tensor(name)
            if t in out.blocked and t not in reordered_out:
                reordered_out.add(t)
                out.reorder_out[r.name].append(tuple(shape))

    def to_blocked(r: CostRow) -> None:
        t = tensor(r.inputs[0])
        if t not in out.blocked and t not in reordered_in:
            reordered_in.add(t)
            out.reorder_in[r.name].append(tuple(r.input_shapes[0]))

    def spatial_origin(r: CostRow) -> tuple[Any, ...]:
        t = tensor(r.inputs[0])
        shape = r.output_shape
        if r.name not in dynamic:
            return ("static", tuple(shape[1:]))
        if t in origin and origin[t][0] != "static" and not isinstance(shape[0], tuple):
            h_in, h_out = r.input_shapes[0][1:], tuple(shape[1:])
            if h_out == h_in:
                return origin[t]
            if h_out == tuple(-(-h // 2) for h in h_in):
                return origin[t][0], origin[t][1] + 1
        return r.name, 0

    for r in rows:
        consumed.update(tensor(i) for i in r.inputs)
        if r.kind in DYNAMIC_RESHAPE or any(tensor(i) in dynamic for i in r.inputs):
            dynamic.add(r.name)
        head = chains.get(r.name)
        if head is not None and head != r.name and head not in cut:
            ok = head in out.blocked or r.kind not in CONV_SUM
            if r.kind in CONV_SUM:  # fused only into an NCHWc conv, inputs of equal shape
                ok = ok and len({origin.get(tensor(i)) for i in r.inputs} - {None}) == 1
                ok = ok and all(tensor(i) in out.blocked for i in r.inputs)
            if ok:
                alias[r.name] = tensor(head)
                continue
            cut.add(head)
        if head is not None and head != r.name:
            out.unfused.add(r.name)
        t = types[r.name]
        ins = [tensor(i) for i in r.inputs]
        channels = r.input_shapes[0][0] if r.input_shapes and r.input_shapes[0] else 0
        spatial2d = bool(r.input_shapes) and len(r.input_shapes[0]) == 3
        if r.kind in TRANSPARENT:
            alias[r.name] = ins[0]
            continue
        if t in CONV_TYPES:
            g = geometry.get(r.name)
            if blocked_conv(r, g, block, align):
                out.blocked.add(r.name)
                origin[r.name] = spatial_origin(r)
                if g is not None and g.groups == 1 and g.c_in_per_group < block:
                    to_plain(r)  # reads its few input channels in NCHW
                else:
                    to_blocked(r)
                continue
        elif r.kind in NCHWC_POOLS and spatial2d and channels % block == 0:
            out.blocked.add(r.name)
            origin[r.name] = spatial_origin(r)
            to_blocked(r)
            continue
        elif (
            r.kind in NCHWC_FOLLOW
            and t not in PLAIN_KERNELS
            and ins
            and ins[0] in out.blocked
            and channels % block == 0
        ):
            out.blocked.add(r.name)
            origin[r.name] = origin[ins[0]] if r.kind not in NCHWC_GLOBAL else (r.name, 0)
            continue
        elif r.kind in NCHWC_ALL_INPUTS and ins and all(i in out.blocked for i in ins):
            shapes = {tuple(s) for s in r.input_shapes}
            if r.kind in NCHWC_CHANNEL_BLOCKS:
                same = len({tuple(s[1:]) for s in r.input_shapes}) == 1
                ok = same and all(s[0] % block == 0 for s in r.input_shapes)
            else:
                ok = len(shapes) == 1
            if ok:
                out.blocked.add(r.name)
                origin[r.name] = origin[ins[0]]
                continue
        to_plain(r)
    for r in rows:  # the network's outputs leave in NCHW
        t = tensor(r.name)
        if t in out.blocked and t not in consumed and t not in reordered_out:
            reordered_out.add(t)
            shape = r.output_shape
            if shape and not isinstance(shape[0], tuple):
                out.reorder_out[r.name].append(tuple(shape))
    return out


def _fusion_prefixes(fusions: Sequence[Sequence[str]]) -> set[tuple[str, ...]]:
    return {tuple(f[:i]) for f in fusions for i in range(2, len(f) + 1)}


def _estimate(
    r: CostRow,
    model: KernelModel,
    layout_s: float,
    extra_s: float,
    work: tuple[int, int],
    batch: int = 1,
) -> LayerEstimate:
    """``work``: the (MACs, col elements) the kernel computes (:func:`kernel_work`);
    the estimate reports the layer's own MACs. ``batch``: the batch ``r`` was counted
    at (its shapes are per sample, its counts for the whole batch). ``extra_s``: memory
    seconds besides its model's (fused activations' passes, weights read cold)."""
    macs, col = work
    compute, memory = model.terms(macs, r.memory_access, col)
    memory += extra_s
    overhead = model.overhead(output_rows(r.output_shape) * batch)
    return LayerEstimate(
        name=r.name,
        kind=r.kind,
        macs=r.macs,
        memory_access=r.memory_access,
        intensity=r.macs / r.memory_access if r.memory_access else math.inf,
        compute_s=compute,
        memory_s=memory,
        overhead_s=overhead,
        seconds=overhead + compute + memory + layout_s,
        bound="compute" if r.macs and compute >= memory else "memory",
        layout_s=layout_s,
    )


def plan(
    rows: list[CostRow], layers: dict[str, Any], profile: RuntimeProfile
) -> tuple[dict[str, str], dict[str, str], Layouts]:
    """The kernels the runtime will run: each layer's kernel type, the fused chains
    (layer -> the convolution heading its kernel) and the layout rewrite."""
    types = {r.name: kernel_type(r, layers.get(r.name)) for r in rows}
    consumers: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        for i in r.inputs:
            consumers[i].append(r.name)
    chains = _fuse(rows, types, consumers, _fusion_prefixes(profile.fusions_applied()))
    block = profile.nchwc_block
    lay = Layouts()
    if block:
        geometry = {r.name: conv_geometry(r, layers.get(r.name)) for r in rows if r.macs}
        lay = layouts(rows, types, geometry, chains, block, profile.nchwc_align)
        for name in lay.unfused:
            chains.pop(name, None)
        for r in rows:
            if types[r.name] in CONV_TYPES and r.name not in lay.blocked:
                types[r.name] = f"{types[r.name]}_nchw"
    return types, chains, lay


def network_weight_bytes(rows: Sequence[CostRow]) -> int:
    """The weights of a network's layers with MACs whose models read them from the
    caches (all but :data:`COLD_CALIBRATED` kinds), in bytes."""
    return sum(WEIGHT_BYTES * r.params for r in rows if r.macs and r.kind not in COLD_CALIBRATED)


def predict_rows(
    rows: list[CostRow], layers: dict[str, Any], profile: RuntimeProfile, batch: int = 1
) -> list[LayerEstimate]:
    """Per-layer predictions for cost rows (network order) and their layer objects;
    ``batch``: the batch the rows were counted at (their shapes are per sample, so the
    terms counted from shapes — rows, conversions, copies — are multiplied by it)."""
    types, chains, lay = plan(rows, layers, profile)
    cold = profile.cold_share(network_weight_bytes(rows))
    # a fused activation other than ReLU is one more pass over the kernel's output
    # (onnxruntime applies it after the convolution's tiles): its own model without the
    # fixed cost; batchnorm (folded into the weights), the add (accumulated) and ReLU
    # (a flag of the convolution kernel) cost nothing more.
    fused_extra: dict[str, float] = defaultdict(float)
    for r in rows:
        head = chains.get(r.name)
        if head is not None and head != r.name and r.kind not in FREE_IN_KERNEL:
            m = profile.model_for(types[r.name])
            if m is not None:
                rows_out = output_rows(r.output_shape) * batch
                fused_extra[head] += m.seconds(0, r.memory_access, rows_out) - m.fixed_s
    out = []
    for r in rows:
        t = types[r.name]
        head = chains.get(r.name)
        layout = math.fsum(
            _layout_seconds(profile, kind, shape, batch)
            for kind, shapes in (
                ("reorder_input", lay.reorder_in.get(r.name, ())),
                ("reorder_output", lay.reorder_out.get(r.name, ())),
            )
            for shape in shapes
        )
        split = profile.kernels.get(r.kind) if r.kind in RUNTIME_COPIES else None
        if t == "view" and split is not None:
            # a view in archcost's counts, a copy in the runtime (Split): read + write
            nbytes = 8 * math.prod(r.input_shapes[0]) * batch
            seconds = split.seconds(0, nbytes) + layout
            out.append(
                LayerEstimate(
                    name=r.name,
                    kind=r.kind,
                    macs=0,
                    memory_access=r.memory_access,
                    intensity=0.0,
                    compute_s=0.0,
                    memory_s=nbytes / split.bytes_per_s,
                    overhead_s=split.fixed_s,
                    seconds=seconds,
                    bound="memory",
                    layout_s=layout,
                )
            )
            continue
        if t == "view" or (head is not None and head != r.name):
            out.append(
                LayerEstimate(
                    name=r.name,
                    kind=r.kind,
                    macs=r.macs,
                    memory_access=r.memory_access,
                    intensity=r.macs / r.memory_access if r.memory_access else 0.0,
                    compute_s=0.0,
                    memory_s=0.0,
                    overhead_s=0.0,
                    seconds=layout,
                    bound="none" if t == "view" else "fused",
                    fused_into=head if t != "view" else None,
                    layout_s=layout,
                )
            )
            continue
        model = profile.model_for(t)
        if model is None:
            raise SpecError(
                f"profile '{profile.name}' has no model for kernel type '{t}' (layer '{r.name}').",
                hint="Re-run archcost calibrate --runtime onnxruntime.",
            )
        block = profile.nchwc_block if profile.padded_macs else 0
        work = kernel_work(r, layers.get(r.name), t, block)
        extra = fused_extra.get(r.name, 0.0)
        if cold and r.macs and r.kind not in COLD_CALIBRATED:
            extra += cold * WEIGHT_BYTES * r.params / profile.cold_weight_bytes_per_s
        out.append(_estimate(r, model, layout, extra, work, batch))
    return out


def _layout_seconds(
    profile: RuntimeProfile, kind: str, shape: tuple[int, ...], batch: int = 1
) -> float:
    model = profile.model_for(kind) or profile.model_for(GENERIC)
    return conversion_seconds(model, shape, batch) if model else 0.0


def conversion_seconds(model: KernelModel, shape: tuple[int, ...], batch: int = 1) -> float:
    """One layout conversion of a float32 tensor of ``batch`` samples of ``shape`` (read
    + write) by a conversion's kernel model (calibration takes the same off its
    convolutions' samples)."""
    return model.seconds(0, 8 * math.prod(shape) * batch, output_rows(shape) * batch)


def _fuse(
    rows: list[CostRow],
    types: dict[str, str],
    consumers: dict[str, list[str]],
    prefixes: set[tuple[str, ...]],
) -> dict[str, str]:
    """layer -> the convolution heading the kernel it is fused into (heads map to
    themselves). A chain grows from a convolution along single-consumer edges while the
    sequence of kinds (``conv`` for the head, ``transposed_conv`` for a transposed one)
    is a listed fusion."""
    head_of: dict[str, str] = {}
    for r in rows:
        if types[r.name] not in FUSION_HEADS or r.name in head_of:
            continue
        seq: tuple[str, ...] = (TRANSPOSED if types[r.name] in TRANSPOSED_TYPES else "conv",)
        node = r.name
        while True:
            nxt = consumers.get(node, [])
            if len(nxt) != 1 or nxt[0] in head_of:
                break
            candidate = nxt[0]
            kind = types[candidate]
            if (*seq, kind) not in prefixes:
                break
            seq = (*seq, kind)
            head_of.setdefault(r.name, r.name)
            head_of[candidate] = r.name
            node = candidate
    return head_of


def predict(
    model: Model, profile: RuntimeProfile, *, batch: int = 1, dtype: str = "float32"
) -> list[LayerEstimate]:
    """Per-layer predicted times of ``model`` on a calibrated runtime, in network order."""
    rows = model.costs(batch=batch, dtype=dtype).rows
    return predict_rows(rows, {r.name: _layer(model, r.name) for r in rows}, profile, batch)


def total_latency(estimates: list[LayerEstimate], profile: Profile) -> float:
    """The network's predicted time: its layers plus the runtime's fixed cost per run."""
    return math.fsum(e.seconds for e in estimates) + getattr(profile, "run_overhead_s", 0.0)
