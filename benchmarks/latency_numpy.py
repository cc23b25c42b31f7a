"""The NumPy latency evidence (docs/latency.md): do MACs predict NumPy time here, and does the roofline do better?

Run on a quiet machine:  python benchmarks/latency_numpy.py [--repeats 7] [--runs 3] [--profile PATH]

Calibrates this machine (full sizes; or uses ``--profile``), then benches MobileNet V1/V2
and ShuffleNet V1/V2 at 224 ``--runs`` times and prints, per network, total MACs,
estimated and measured time and the two Spearman rank correlations (the median run,
with the range over runs), then where the time goes by layer kind, as Markdown tables
for docs/latency.md, with the machine it ran on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import archcost  # noqa: E402
from archcost.bench import run  # noqa: E402
from archcost.calibrate import calibrate, calibration_comment, cpu_model, machine_info  # noqa: E402
from archcost.commands.files import Output, write_output  # noqa: E402
from archcost.commands.output import text_writer  # noqa: E402
from archcost.roofline import load_profile, profile_yaml  # noqa: E402

SPECS = ["mobilenet_v1", "mobilenet_v2", "shufflenet_v1", "shufflenet_v2"]


def rho(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="benches per network")
    parser.add_argument("--profile", help="a profile YAML instead of calibrating now")
    parser.add_argument("--write-profile", help="also write the calibrated profile here")
    args = parser.parse_args()
    if args.profile:
        profile = load_profile(args.profile)
    else:
        profile = calibrate()
        if args.write_profile:
            text = profile_yaml(profile, calibration_comment(profile))
            write_output(Output("--write-profile", Path(args.write_profile), text_writer(text)))
    info = machine_info()
    print(f"Machine: {cpu_model()}, nproc {os.cpu_count()}, numpy {np.__version__} "
          f"({info['blas']}), python {info['python']}, {dt.date.today().isoformat()}, "
          f"load average before {os.getloadavg()[0]:.2f}")
    print(f"Profile {profile.name}: peak {profile.peak_macs_per_s / 1e9:.1f} G MAC/s, bandwidth "
          f"{profile.bandwidth_bytes_per_s / 1e9:.1f} GB/s, overhead "
          f"{profile.overhead_s * 1e6:.2f} µs, ridge {profile.ridge:.2f} MAC/B\n")
    print("| network | layers | MACs | estimated | measured (NumPy) | meas./est. | "
          "ρ(estimate, measured) | ρ(MACs, measured) | ρ est. / MACs, conv+linear only | "
          "load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    medians = []
    for name in SPECS:
        model = archcost.load(ROOT / "specs" / f"{name}.yaml")
        results = sorted((run(model, profile=profile, repeats=args.repeats)
                          for _ in range(args.runs)), key=lambda r: r.measured_total_s)
        r = results[len(results) // 2]
        medians.append(r)
        c = r.correlations()

        def span(key: str) -> str:
            values = [x.correlations()[key] for x in results]
            return rho(c[key]) + (f" ({min(values):+.2f}…{max(values):+.2f})"
                                  if len(results) > 1 else "")

        loads = [x.load_before for x in results]
        print(f"| {model.name} | {len(r.layers)} | {r.macs / 1e6:.0f} M | "
              f"{r.estimated_total_s * 1e3:.1f} ms | {r.measured_total_s * 1e3:.1f} ms | "
              f"×{r.measured_total_s / r.estimated_total_s:.1f} | "
              f"{span('estimate_vs_measured')} | {span('macs_vs_measured')} | "
              f"{rho(c['estimate_vs_measured_mac_layers'])} / "
              f"{rho(c['macs_vs_measured_mac_layers'])} | "
              f"{min(loads):.1f}–{max(loads):.1f} |", flush=True)
    print("\nWhere the time goes (median run): share of MACs, of estimated and of measured "
          "time, and measured/estimated, per layer kind\n")
    print("| network | kind | layers | MACs | estimated | measured | meas./est. |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in medians:
        kinds: dict[str, list] = {}
        for t in r.layers:
            k = kinds.setdefault(t.kind, [0, 0, 0.0, 0.0])
            k[0] += 1
            k[1] += t.macs
            k[2] += t.estimated_s
            k[3] += t.measured_s
        for kind, (n, macs, est, meas) in sorted(kinds.items(), key=lambda kv: -kv[1][3])[:5]:
            print(f"| {r.model} | {kind} | {n} | {100 * macs / r.macs:.1f}% | "
                  f"{100 * est / r.estimated_total_s:.1f}% | "
                  f"{100 * meas / r.measured_total_s:.1f}% | "
                  + (f"×{meas / est:.1f} |" if est else "– |"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
