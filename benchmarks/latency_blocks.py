"""Where a network's predicted latency goes wrong, block by block, on-CPU.

    python benchmarks/latency_blocks.py --profile PROFILE.yaml [--repeats 7]

onnxruntime's profiler inflates small and memory-bound kernels (layout conversions, a
Resize: up to 3x their on-CPU time; docs/latency.md), so it cannot say which part of a
network the predictor gets wrong. This times parts of networks on-CPU instead, each
as a network of its own, with the calibration's own timer (bound runs less the
runtime's fixed cost: ``archcost.runtime.calibrate.Timer``): every block of MobileNetV2
(its stem and head too) and of ResNet-18 as a dense contrast, cut out of their specs,
all at one moment, against ``PROFILE.yaml``'s predictions. The drift
probe's time now and at calibration is printed first: a uniform offset across every
row is the machine's drift, a difference between rows is the model's. A part ending in
a classifier comes out over-predicted: its linear layer is priced with weights read
from memory (as in a network), and a part alone runs it with them in cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import archcost  # noqa: E402
from archcost.calibrate import cpu_model  # noqa: E402
from archcost.roofline import load_profile  # noqa: E402
from archcost.runtime.bench import export_bytes  # noqa: E402
from archcost.runtime.calibrate import Timer, run_costs  # noqa: E402
from archcost.runtime.ort import BoundSession, Probe, runtime_version  # noqa: E402
from archcost.runtime.predict import predict  # noqa: E402

#: the networks whose parts are timed: MobileNetV2 (the reference of the accuracy
#: evaluation) and ResNet-18 (dense 3×3 convolutions, as a contrast).
SPECS = ("specs/mobilenet_v2.yaml", "benchmarks/latency_nets/resnet18.yaml")


def part_of(name: str) -> str:
    """The part a layer belongs to: its block (the name up to its last dot), or the
    network's top level (stem and head) for a layer named without a block."""
    return name.rpartition(".")[0] or "(top level)"


def parts(model: archcost.Model) -> list[tuple[str, str]]:
    """Each run of consecutive layers of one part as a spec of its own: the layers with
    their kinds' fields, the part's input (whatever its first layer reads from outside)
    as the spec's input."""
    runs: list[list[Any]] = []
    for row in model.costs().rows:
        if runs and part_of(runs[-1][-1].name) == part_of(row.name):
            runs[-1].append(row)
        else:
            runs.append([row])
    out = []
    for run in runs:
        names = {r.name for r in run}
        outside = [i for r in run for i in r.inputs if i not in names]
        first = run[0]
        shape = first.input_shapes[first.inputs.index(outside[0])] if outside else ()
        layers = []
        for r in run:
            layer = model.nodes[r.name].layer
            entry = {"name": r.name, "type": layer.kind, **layer.fields()}
            entry["inputs"] = [i if i in names else "input" for i in r.inputs]
            layers.append(json.loads(json.dumps(entry)))  # tuples as lists, for YAML
        doc = {"archcost": 1, "name": f"{model.name} {part_of(first.name)}"}
        doc |= {"input": list(shape), "layers": layers}
        out.append((doc["name"], yaml.safe_dump(doc, sort_keys=False)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, help="a runtime profile (archcost calibrate)")
    parser.add_argument("--repeats", type=int, default=7, help="timings per part (median)")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    probe = Probe(profile.threads)
    probe_now = statistics.median(probe.measure() for _ in range(5))
    print(
        f"Machine: {cpu_model()}, {os.cpu_count()} logical CPUs; onnxruntime "
        f"{runtime_version()}, {profile.threads} thread(s); {dt.datetime.now():%Y-%m-%d %H:%M}; "
        f"load average {os.getloadavg()[0]:.1f}. Profile: {profile.name}; drift probe "
        f"{probe_now * 1e3:.3f} ms now, {profile.probe_s * 1e3:.3f} ms at calibration.\n"
    )
    _, kernel_s, _ = run_costs(profile.threads)
    timer = Timer(profile.threads, kernel_s)
    print("| part | measured (on-CPU) | predicted | predicted vs measured |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="archcost-blocks-") as tmp:
        for name, text in [p for spec in SPECS for p in parts(archcost.load(ROOT / spec))]:
            spec = Path(tmp) / "part.yaml"
            spec.write_text(text, encoding="utf-8")
            model = archcost.load(spec)
            session = BoundSession(export_bytes(model), profile.threads)
            measured = statistics.median(timer.seconds(session) for _ in range(args.repeats))
            predicted = sum(e.seconds for e in predict(model, profile))
            print(
                f"| {name} | {measured * 1e6:,.1f} µs | {predicted * 1e6:,.1f} µs | "
                f"{predicted / measured - 1:+.0%} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
