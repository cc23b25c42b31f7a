"""``archcost calibrate``: measure this machine and write it as a roofline device profile."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from archcost.commands.files import Output, check_outputs, write_output
from archcost.commands.options import Parents, add_command, positive_int
from archcost.commands.output import show, text_writer, wrote
from archcost.report.latency import calibration_lines, device_line
from archcost.roofline import profile_yaml

EPILOG = """examples:
  archcost calibrate                          # writes reports/this-machine.yaml
  archcost calibrate -o devices/laptop.yaml --name laptop
  archcost analyze mobilenet_v1 --device reports/this-machine.yaml
  archcost calibrate --runtime onnxruntime --threads 1   # reports/this-machine-onnxruntime.yaml
"""
DEFAULT_OUTPUT = "reports/this-machine.yaml"
DEFAULT_RUNTIME_OUTPUT = "reports/this-machine-onnxruntime.yaml"
RUNTIMES = ("numpy", "onnxruntime")


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "calibrate",
        [],
        help="measure this machine as a device profile (NumPy roofline or onnxruntime)",
        description="Measure this machine's NumPy float32 GEMM peak (MAC/s), "
        "large-copy bandwidth (bytes/s) and per-call overhead, and write "
        "them as a device profile YAML for --device. With --runtime onnxruntime: detect "
        "the runtime's fusions, time single-kernel ONNX micro-models of every kernel type "
        "(sampling most where the fitted model is least sure) and fit a per-kernel-type "
        "model (fixed cost + MACs / rate + bytes / rate), then time 40 synthetic networks "
        "to fit the rate at which a network reads its weights beyond one core's L2 from "
        "memory; under 5 minutes on 2 cores. "
        "Nothing is written if it is interrupted.",
        epilog=EPILOG,
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default=DEFAULT_OUTPUT,
        help="where to write the profile (default reports/this-machine.yaml; with "
        "--runtime onnxruntime reports/this-machine-onnxruntime.yaml)",
    )
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="numpy",
        help="numpy: the roofline of the NumPy backend (default); onnxruntime: a "
        "kernel-level predictor (needs the onnx extra)",
    )
    p.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="onnxruntime intra-op threads the predictions assume (default 1)",
    )
    p.add_argument(
        "--budget",
        type=positive_int,
        default=200,
        metavar="SECONDS",
        help="onnxruntime: seconds of kernel sampling (default 200; the synthetic "
        "networks take 10-15 s more)",
    )
    p.add_argument(
        "--name", default="this-machine", help="the profile's name (default this-machine)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes, fewer repeats (what --device this-machine uses)",
    )
    p.add_argument(
        "--gemm-size",
        type=positive_int,
        metavar="N",
        help="size of the square matmul (default 2048)",
    )
    p.add_argument(
        "--copy-mib", type=positive_int, metavar="MIB", help="MiB of the copied array (default 256)"
    )
    p.add_argument("--repeats", type=positive_int, help="timings per measurement (default 5)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The path is checked before minutes of measuring.
    if args.output != DEFAULT_OUTPUT:  # (the onnxruntime default differs; checked there)
        check_outputs([Output("-o", Path(args.output), text_writer(""))])
    if args.runtime == "onnxruntime":
        return run_onnxruntime(args)
    from archcost.calibrate import calibrate, calibration_comment  # numpy: only when measuring

    profile = calibrate(
        quick=args.quick,
        name=args.name,
        gemm_size=args.gemm_size,
        copy_bytes=args.copy_mib * 2**20 if args.copy_mib else None,
        repeats=args.repeats,
    )
    text = profile_yaml(profile, calibration_comment(profile))
    path = write_output(Output("-o", Path(args.output), text_writer(text)))
    print(device_line(profile))
    wrote(path)
    return 0


def run_onnxruntime(args: argparse.Namespace) -> int:
    """``calibrate --runtime onnxruntime``: fit the kernel models, then write the profile
    atomically (an interrupted calibration writes nothing)."""
    # onnx and onnxruntime load only for this runtime (start-up time, optional extra)
    from archcost.runtime import calibrate as runtime_calibrate

    output = args.output if args.output != DEFAULT_OUTPUT else DEFAULT_RUNTIME_OUTPUT
    name = args.name if args.name != "this-machine" else "this-machine-onnxruntime"
    check_outputs([Output("-o", Path(output), text_writer(""))])  # before minutes of measuring
    profile = runtime_calibrate.calibrate(
        threads=args.threads,
        budget_s=args.budget,
        name=name,
        progress=lambda text: print(f"calibrate: {text}", file=sys.stderr),
    )
    text = runtime_calibrate.profile_yaml(profile)
    path = write_output(Output("-o", Path(output), text_writer(text)))
    show("".join(line + "\n" for line in calibration_lines(profile)))
    wrote(path)
    return 0
