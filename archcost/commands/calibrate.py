"""``archcost calibrate``: measure this machine and write it as a roofline device profile."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archcost.commands.options import Parents, add_command, positive_int
from archcost.commands.output import write_text, wrote
from archcost.report.latency import device_line
from archcost.roofline import profile_yaml

EPILOG = """examples:
  archcost calibrate                          # writes reports/this-machine.yaml
  archcost calibrate -o devices/laptop.yaml --name laptop
  archcost analyze specs/mobilenet_v1.yaml --device reports/this-machine.yaml
"""


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "calibrate",
        [],
        help="measure this machine as a roofline device profile",
        description="Measure this machine's NumPy float32 GEMM peak (MAC/s), "
        "large-copy bandwidth (bytes/s) and per-call overhead, and write "
        "them as a device profile YAML for --device.",
        epilog=EPILOG,
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default="reports/this-machine.yaml",
        help="where to write the profile (default reports/this-machine.yaml)",
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
    from archcost.calibrate import calibrate, calibration_comment  # numpy: only when measuring

    profile = calibrate(
        quick=args.quick,
        name=args.name,
        gemm_size=args.gemm_size,
        copy_bytes=args.copy_mib * 2**20 if args.copy_mib else None,
        repeats=args.repeats,
    )
    path = write_text(Path(args.output), profile_yaml(profile, calibration_comment(profile)))
    print(device_line(profile))
    wrote(path)
    return 0
