"""``archcost calibrate``: measure this machine and write it as a roofline device profile."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archcost.commands.files import Output, check_outputs, write_output
from archcost.commands.options import Parents, add_command, positive_int
from archcost.commands.output import text_writer, wrote
from archcost.report.latency import device_line
from archcost.roofline import profile_yaml

EPILOG = """examples:
  archcost calibrate                          # writes reports/this-machine.yaml
  archcost calibrate -o devices/laptop.yaml --name laptop
  archcost analyze mobilenet_v1 --device reports/this-machine.yaml
  archcost calibrate --runtime onnxruntime --threads 1   # reports/this-machine-onnxruntime.yaml
"""
DEFAULT_OUTPUT = "reports/this-machine.yaml"
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
        "model (fixed cost + MACs / rate + bytes / rate); under 5 minutes on 2 cores. "
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
        help="onnxruntime: seconds of kernel sampling (default 200)",
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
        from archcost.runtime import commands

        return commands.calibrate(
            output=args.output
            if args.output != DEFAULT_OUTPUT
            else "reports/this-machine-onnxruntime.yaml",
            threads=args.threads,
            budget=args.budget,
            name=args.name if args.name != "this-machine" else "this-machine-onnxruntime",
            progress=True,
        )
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
