"""``archcost bench SPEC|MODEL.onnx --runtime onnxruntime``: measured latency per layer.

A spec reaches onnxruntime through archcost's ONNX export (same weights as
``validate``); an ``.onnx`` file runs as it is. The result has the whole-network latency
(median of warm runs, with the spread), the drift probe's time measured right after,
and one row per kernel the runtime ran, named after the layer it computes, with the
layers it covers (a fused Conv+BatchNorm+ReLU is one row covering three layers).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archcost.errors import SpecError
from archcost.model import Model
from archcost.onnx.exporter import build
from archcost.runtime.ort import LAYOUT_OPS, Measurement, import_onnx, layer_of, measure


@dataclass(frozen=True)
class LayerTime:
    """One kernel of the runtime: the layer it is named after, its median time, the
    layers it covers (``[]`` for a layout conversion the runtime added), its op."""

    name: str
    measured_s: float
    covers: tuple[str, ...]
    op: str


@dataclass
class RuntimeBench:
    model: str
    measurement: Measurement
    layers: list[LayerTime]
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def busy(self) -> bool:
        """True when other work was running: a load average above half the CPUs."""
        return self.measurement.load_before > self.cpus / 2

    def as_json(self) -> dict[str, Any]:
        m = self.measurement
        s = m.latency
        return {
            "model": self.model,
            "runtime": m.runtime,
            "runtime_version": m.version,
            "threads": m.threads,
            "measured_s": s.median,
            "spread": {"q1_s": s.q1, "q3_s": s.q3, "min_s": s.min, "max_s": s.max, "runs": s.runs},
            "probe_s": m.probe_s,
            "cpu_s": m.cpu.median if m.cpu else None,
            "load_before": None if math.isnan(m.load_before) else m.load_before,
            "layers": [
                {"name": t.name, "measured_s": t.measured_s, "covers": list(t.covers), "op": t.op}
                for t in self.layers
            ],
        }


def export_bytes(model: Model) -> bytes:
    """The spec as a serialized ONNX model (archcost's exporter, validate's weights)."""
    import_onnx()  # without onnx: the runtime's one-line install hint
    return bytes(build(model).SerializeToString())


def read_onnx(path: str | Path) -> bytes:
    """An ``.onnx`` file's bytes (its external data, if any, stays beside it)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"no such ONNX file: {path}.", file=str(path))
    onnx = import_onnx()
    try:
        model = onnx.load(str(path))
    except Exception as exc:
        raise SpecError(
            f"cannot read the ONNX model: {str(exc).splitlines()[0]}", file=str(path)
        ) from None
    return bytes(model.SerializeToString())


def bench(
    source: Model | str | Path,
    *,
    threads: int = 1,
    runs: int = 30,
    warmup: int = 5,
    profile_runs: int = 10,
) -> RuntimeBench:
    """Measure ``source`` (a loaded model, or an ``.onnx`` path) in onnxruntime."""
    if isinstance(source, Model):
        data, label = export_bytes(source), source.label
    else:
        data, label = read_onnx(source), Path(source).name
    try:
        m = measure(data, threads=threads, runs=runs, warmup=warmup, profile_runs=profile_runs)
    except SpecError as exc:  # name the archcost layer, not the exported node
        if exc.layer:
            exc.layer = layer_of(exc.layer)
        raise
    rows = []
    for k in m.kernels:
        layers = tuple(dict.fromkeys(layer_of(n) for n in k.covers))
        name = layers[0] if layers else k.name
        if k.op in LAYOUT_OPS:
            name = f"({k.op})"
        rows.append(LayerTime(name=name, measured_s=k.measured_s, covers=layers, op=k.op))
    return RuntimeBench(model=label, measurement=m, layers=rows)
