"""Predict each layer's time on a calibrated runtime: fused kernels, a model per kernel type.

The predictor follows nn-Meter (Zhang et al., MobiSys 2021): divide the network into
the kernels the runtime executes after its fusions, predict each kernel, sum.

* **Kernel types.** A layer with MACs is a convolution or a linear layer; its type
  comes from its weight shape ``(C_out, C_in/g, *kernel)`` and input channels, not its
  kind's name: ``depthwise`` (g = C_in > 1, one input channel per group),
  ``grouped`` (1 < g), ``pointwise`` (1×1, g = 1), ``stem`` (k×k, g = 1, at most 4
  input channels: a network's first convolution), ``conv`` (other k×k, g = 1),
  ``linear`` (a 2-D weight). A layer that moves no memory (a view) takes no time. Every other
  layer is its own type, named by its kind (``batchnorm``, ``relu``, ``concat``...);
  a kind the profile never measured uses the ``elementwise`` model fitted over all
  zero-MAC kernels.
* **The model of a type** is a roofline with fitted efficiency and fixed cost,
  additive rather than a max so it can be fitted by least squares::

      seconds = fixed_s + macs / macs_per_s + bytes / bytes_per_s

  with ``macs`` and ``bytes`` (memory traffic) exactly as :mod:`archcost.costs` counts
  them, the three coefficients fitted by :func:`fit` on micro-model measurements
  (non-negative, relative error). A layer is **compute**-bound when its MAC term is
  the larger of the two, else **memory**-bound.
* **Fusions.** The profile lists the layer sequences the runtime ran as one kernel,
  e.g. ``[conv, batchnorm, relu]`` (``conv`` stands for every convolution type). A
  chain that starts at a convolution and follows single-consumer edges through a
  listed sequence is one kernel: the convolution's prediction covers it, the fused
  layers take 0 s and name the kernel they are fused into.
* **Whole network** = the sum of its layers + the runtime's fixed cost per run
  (``run_overhead_s``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archcost.errors import SpecError
from archcost.profiles import LayerEstimate, Profile

if TYPE_CHECKING:
    import numpy as np

    from archcost.costs import CostRow
    from archcost.model import Model

CONV_TYPES = ("conv", "pointwise", "depthwise", "grouped", "stem")
MAC_TYPES = (*CONV_TYPES, "linear")
#: a dense k×k convolution of at most this many input channels (an RGB stem) is its own
#: kernel type: onnxruntime runs it without the channel blocking of the others.
STEM_CHANNELS = 4
GENERIC = "elementwise"


# -- the per-type model ------------------------------------------------------------------
@dataclass(frozen=True)
class KernelModel:
    """``seconds = fixed_s + macs / macs_per_s + bytes / bytes_per_s`` for one kernel type.

    A rate of ``inf`` means the term was fitted to zero (it does not help).
    """

    fixed_s: float
    macs_per_s: float
    bytes_per_s: float
    samples: int = 0
    #: median |predicted / measured − 1| over the samples it was fitted on.
    error: float = math.nan

    def terms(self, macs: int, nbytes: int) -> tuple[float, float]:
        """(compute seconds, memory seconds) of a kernel."""
        return macs / self.macs_per_s, nbytes / self.bytes_per_s

    def seconds(self, macs: int, nbytes: int) -> float:
        """>>> KernelModel(1e-6, 1e9, 1e9).seconds(1000, 2000)
        4e-06
        """
        compute, memory = self.terms(macs, nbytes)
        return self.fixed_s + compute + memory

    def as_yaml(self) -> dict[str, Any]:
        return {
            "fixed_s": float(f"{self.fixed_s:.4e}"),
            "macs_per_s": _rate(self.macs_per_s),
            "bytes_per_s": _rate(self.bytes_per_s),
            "samples": self.samples,
            "median_error": round(self.error, 4) if math.isfinite(self.error) else None,
        }


def _rate(x: float) -> float | str:
    return "inf" if math.isinf(x) else float(f"{x:.4e}")


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Non-negative least squares for a handful of columns: the best of the
    unconstrained fits over every subset of columns whose solution is non-negative."""
    import itertools

    import numpy as np

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


def fit(macs: Sequence[int], nbytes: Sequence[int], seconds: Sequence[float]) -> KernelModel:
    """Fit ``fixed + macs·a + bytes·b`` (all ≥ 0) minimising the *relative* squared error
    (each sample divided by its measured time: a 10 µs kernel counts as much as a 10 ms
    one, as the ratios the predictor is judged on do).

    >>> m = fit([0, 0, 0], [1000, 2000, 4000], [2e-6, 3e-6, 5e-6])
    >>> round(m.fixed_s * 1e6, 3), round(m.bytes_per_s / 1e9, 3)
    (1.0, 1.0)
    """
    import numpy as np

    t = np.asarray(seconds, float)
    if len(t) == 0 or np.any(t <= 0):
        raise ValueError("fit needs at least one positive time")
    a = np.column_stack([np.ones_like(t), np.asarray(macs, float), np.asarray(nbytes, float)])
    scale = a.max(axis=0)
    scale[scale == 0] = 1.0
    x = _nnls(a / scale / t[:, None], np.ones_like(t)) / scale
    pred = a @ x
    error = float(np.median(np.abs(pred / t - 1)))
    return KernelModel(
        fixed_s=float(x[0]),
        macs_per_s=1 / float(x[1]) if x[1] > 0 else math.inf,
        bytes_per_s=1 / float(x[2]) if x[2] > 0 else math.inf,
        samples=len(t),
        error=error,
    )


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
    kernels: dict[str, KernelModel] = field(default_factory=dict, compare=False)
    fusions: tuple[tuple[str, ...], ...] = ()

    def summary(self) -> dict[str, Any]:
        return {
            **super().summary(),
            "runtime": self.runtime,
            "runtime_version": self.runtime_version,
            "threads": self.threads,
            "probe_s": self.probe_s,
            "run_overhead_s": self.run_overhead_s,
        }

    def model_for(self, kernel_type: str) -> KernelModel | None:
        """The model of a kernel type: its own, else ``conv`` for a stem (profiles
        calibrated before stems had their own), else the generic elementwise model for a
        zero-MAC kind."""
        if kernel_type in self.kernels:
            return self.kernels[kernel_type]
        if kernel_type == "stem":
            return self.kernels.get("conv")
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
        import onnxruntime
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
        )
    out["kernels"] = models
    fusions = doc.get("fusions", []) or []
    if not isinstance(fusions, list) or not all(
        isinstance(f, list) and all(isinstance(k, str) for k in f) for f in fusions
    ):
        raise bad("fusions", "a list of layer sequences such as [conv, batchnorm, relu]")
    out["fusions"] = tuple(tuple(f) for f in fusions)
    return out


# -- prediction --------------------------------------------------------------------------
def _layer(model: Model, name: str) -> Any:
    return model.nodes[name].layer


def kernel_type(row: CostRow, layer: Any) -> str:
    """The kernel type of one cost row (see the module docstring)."""
    if row.macs == 0:
        return "view" if row.memory_access == 0 else row.kind
    from archcost.layers.base import Shape

    try:
        shapes = [
            s
            for s in layer.weight_shapes([Shape(tuple(s)) for s in row.input_shapes]).values()
            if len(s) >= 2
        ]
    except Exception:  # a kind whose weights cannot be read this way: a dense conv
        shapes = []
    if not shapes:
        return "conv"
    w = max(shapes, key=len)
    if len(w) == 2:
        return "linear"
    c_in = row.input_shapes[0][0]
    groups = max(c_in // w[1], 1)
    if groups > 1 and w[1] == 1 and groups == c_in:
        return "depthwise"
    if groups > 1:
        return "grouped"
    if math.prod(w[2:]) == 1:
        return "pointwise"
    return "stem" if w[1] <= STEM_CHANNELS else "conv"


def _fusion_prefixes(fusions: Sequence[Sequence[str]]) -> set[tuple[str, ...]]:
    return {tuple(f[:i]) for f in fusions for i in range(2, len(f) + 1)}


def predict_rows(
    rows: list[CostRow], layers: dict[str, Any], profile: RuntimeProfile
) -> list[LayerEstimate]:
    """Per-layer predictions for cost rows (network order) and their layer objects."""
    types = {r.name: kernel_type(r, layers.get(r.name)) for r in rows}
    consumers: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        for i in r.inputs:
            consumers[i].append(r.name)
    chains = _fuse(rows, types, consumers, _fusion_prefixes(profile.fusions))
    out = []
    for r in rows:
        t = types[r.name]
        head = chains.get(r.name)
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
                    seconds=0.0,
                    bound="none" if t == "view" else "fused",
                    fused_into=head if t != "view" else None,
                )
            )
            continue
        model = profile.model_for(t)
        if model is None:
            raise SpecError(
                f"profile '{profile.name}' has no model for kernel type '{t}' (layer '{r.name}').",
                hint="Re-run archcost calibrate --runtime onnxruntime.",
            )
        compute, memory = model.terms(r.macs, r.memory_access)
        out.append(
            LayerEstimate(
                name=r.name,
                kind=r.kind,
                macs=r.macs,
                memory_access=r.memory_access,
                intensity=r.macs / r.memory_access if r.memory_access else math.inf,
                compute_s=compute,
                memory_s=memory,
                overhead_s=model.fixed_s,
                seconds=model.fixed_s + compute + memory,
                bound="compute" if r.macs and compute >= memory else "memory",
            )
        )
    return out


def _fuse(
    rows: list[CostRow],
    types: dict[str, str],
    consumers: dict[str, list[str]],
    prefixes: set[tuple[str, ...]],
) -> dict[str, str]:
    """layer -> the convolution heading the kernel it is fused into (heads map to
    themselves). A chain grows from a convolution along single-consumer edges while the
    sequence of kinds (``conv`` for the head) is a listed fusion."""
    head_of: dict[str, str] = {}
    for r in rows:
        if types[r.name] not in CONV_TYPES or r.name in head_of:
            continue
        seq: tuple[str, ...] = ("conv",)
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
    return predict_rows(rows, {r.name: _layer(model, r.name) for r in rows}, profile)


def total_latency(estimates: list[LayerEstimate], profile: Profile) -> float:
    """The network's predicted time: its layers plus the runtime's fixed cost per run."""
    return math.fsum(e.seconds for e in estimates) + getattr(profile, "run_overhead_s", 0.0)
