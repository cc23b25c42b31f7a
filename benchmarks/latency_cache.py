"""Does a network run faster when its weights stay in the caches from one run to the next?

    python benchmarks/latency_cache.py [SPEC ...] [--rounds 8] [--runs 5]

Each network is timed on onnxruntime (one thread, inputs and outputs bound, on-CPU time
of the calling thread) two ways, interleaved round by round: runs back to back (its
weights and activations stay in the caches from the run before, as far as they fit)
and runs with 64 MiB written before each (every cache flushed, as calibration times
linear layers). Printed: each way's best and median per-round median, and the flushed
time over the back-to-back one. docs/latency.md uses it to explain why a small network's
best rounds in ``benchmarks/latency.py`` come out faster than its predictions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import archcost  # noqa: E402
from archcost.calibrate import cpu_model  # noqa: E402
from archcost.runtime.bench import export_bytes  # noqa: E402
from archcost.runtime.calibrate import flush_caches  # noqa: E402
from archcost.runtime.ort import BoundSession, runtime_version  # noqa: E402

#: MobileNetV3-Small (10 MiB of parameters, most in its two linear layers), MobileNetV2
#: (13 MiB) and ResNet-18 (45 MiB, more than a 32 MiB L3).
DEFAULT_SPECS = (
    "specs/mobilenet_v3_small.yaml",
    "specs/mobilenet_v2.yaml",
    "benchmarks/latency_nets/resnet18.yaml",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("specs", nargs="*", default=list(DEFAULT_SPECS))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per way per round")
    args = parser.parse_args()
    print(
        f"Machine: {cpu_model()}, {os.cpu_count()} logical CPUs; onnxruntime "
        f"{runtime_version()}, 1 thread; {dt.datetime.now():%Y-%m-%d %H:%M}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    sessions = {}
    for spec in args.specs:
        model = archcost.load(ROOT / spec if not Path(spec).is_absolute() else spec)
        params = sum(r.params for r in model.costs().rows) * 4 / 2**20
        sessions[spec] = (BoundSession(export_bytes(model), 1), params)
    times: dict[str, dict[str, list[float]]] = {s: {"warm": [], "flushed": []} for s in sessions}
    for _ in range(args.rounds):
        for spec, (session, _params) in sessions.items():
            session.warm()
            _, back_to_back = session.times(args.runs)
            _, flushed = session.times(args.runs, warmup=0, before=flush_caches)
            times[spec]["warm"].append(statistics.median(back_to_back))
            times[spec]["flushed"].append(statistics.median(flushed))
    print(
        "| network | parameters | back to back: best / median | caches flushed: best / median "
        "| flushed ÷ back to back (best, median) |"
    )
    print("|---|---:|---:|---:|---:|")
    for spec, (_session, params) in sessions.items():
        w, f = times[spec]["warm"], times[spec]["flushed"]
        print(
            f"| {spec} | {params:.1f} MiB | {min(w) * 1e3:.2f} / {statistics.median(w) * 1e3:.2f} ms "
            f"| {min(f) * 1e3:.2f} / {statistics.median(f) * 1e3:.2f} ms "
            f"| {min(f) / min(w) - 1:+.0%}, {statistics.median(f) / statistics.median(w) - 1:+.0%} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
