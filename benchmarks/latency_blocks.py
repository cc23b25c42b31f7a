"""Where a network's predicted latency goes wrong, block by block, on-CPU.

    python benchmarks/latency_blocks.py --profile PROFILE.yaml [--repeats 7]

onnxruntime's profiler inflates small and memory-bound kernels (layout conversions, a
Resize: up to 3x their on-CPU time; docs/latency.md), so it cannot say which part of a
network the predictor gets wrong. This times parts of networks on-CPU instead, each
as a network of its own, with the calibration's own timer (bound runs less the
runtime's fixed cost: ``archcost.runtime.calibrate.Timer``): MobileNetV2's stem and its
13 bottlenecks (Table 2, width 1.0 at 224), and two ResNet basic blocks as a dense
reference, all at one moment, against ``PROFILE.yaml``'s predictions. The drift
probe's time now and at calibration is printed first: a uniform offset across every
row is the machine's drift, a difference between rows is the model's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import archcost  # noqa: E402
from archcost.calibrate import cpu_model  # noqa: E402
from archcost.roofline import load_profile  # noqa: E402
from archcost.runtime.bench import export_bytes  # noqa: E402
from archcost.runtime.calibrate import Timer, run_costs  # noqa: E402
from archcost.runtime.ort import BoundSession, Probe, runtime_version  # noqa: E402
from archcost.runtime.predict import predict  # noqa: E402

#: MobileNetV2's bottlenecks (Sandler et al. 2018, Table 2): name, input channels,
#: input size, expansion t, output channels c, stride s.
BOTTLENECKS = [
    ("b1", 32, 112, 1, 16, 1),
    ("b2.1", 16, 112, 6, 24, 2),
    ("b2.2", 24, 56, 6, 24, 1),
    ("b3.1", 24, 56, 6, 32, 2),
    ("b3.2", 32, 28, 6, 32, 1),
    ("b4.1", 32, 28, 6, 64, 2),
    ("b4.2", 64, 14, 6, 64, 1),
    ("b5.1", 64, 14, 6, 96, 1),
    ("b5.2", 96, 14, 6, 96, 1),
    ("b6.1", 96, 14, 6, 160, 2),
    ("b6.2", 160, 7, 6, 160, 1),
    ("b7", 160, 7, 6, 320, 1),
]


def bottleneck(c: int, size: int, t: int, out: int, s: int) -> str:
    expand = (
        f"  - {{name: expand, type: pointwise_conv, out: {c * t}, bias: false}}\n"
        "  - {name: expand_bn, type: batchnorm}\n"
        "  - {name: expand_relu6, type: relu6}\n"
        if t != 1
        else ""
    )
    add = "  - {name: add, type: add, inputs: [input, project_bn]}\n" if s == 1 and c == out else ""
    return (
        f"input: [{c}, {size}, {size}]\nlayers:\n{expand}"
        f"  - {{name: dwise, type: depthwise_conv, kernel: 3, stride: {s}, padding: 1, bias: false}}\n"
        "  - {name: dwise_bn, type: batchnorm}\n"
        "  - {name: dwise_relu6, type: relu6}\n"
        f"  - {{name: project, type: pointwise_conv, out: {out}, bias: false}}\n"
        f"  - {{name: project_bn, type: batchnorm}}\n{add}"
    )


def basic_block(c: int, size: int) -> str:
    conv = "{{name: {n}, type: conv, out: {c}, kernel: 3, padding: 1, bias: false}}"
    return (
        f"input: [{c}, {size}, {size}]\nlayers:\n"
        f"  - {conv.format(n='conv1', c=c)}\n  - {{name: bn1, type: batchnorm}}\n"
        "  - {name: relu1, type: relu}\n"
        f"  - {conv.format(n='conv2', c=c)}\n  - {{name: bn2, type: batchnorm}}\n"
        "  - {name: add, type: add, inputs: [input, bn2]}\n  - {name: relu2, type: relu}\n"
    )


def parts() -> list[tuple[str, str]]:
    stem = (
        "input: [3, 224, 224]\nlayers:\n"
        "  - {name: conv1, type: conv, out: 32, kernel: 3, stride: 2, padding: 1, bias: false}\n"
        "  - {name: conv1_bn, type: batchnorm}\n  - {name: conv1_relu6, type: relu6}\n"
    )
    rows = [("MobileNetV2 stem", stem)]
    rows += [(f"MobileNetV2 {n}", bottleneck(c, h, t, o, s)) for n, c, h, t, o, s in BOTTLENECKS]
    rows += [("ResNet basic block 64@56", basic_block(64, 56))]
    rows += [("ResNet basic block 256@14", basic_block(256, 14))]
    return rows


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
        for name, body in parts():
            spec = Path(tmp) / "part.yaml"
            spec.write_text(f"archcost: 1\nname: {name}\n{body}", encoding="utf-8")
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
