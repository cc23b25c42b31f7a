"""``archcost bench``: each layer's measured NumPy time beside its roofline estimate."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from archcost.commands.options import (
    SPEC_HELP,
    Parents,
    add_command,
    parse_sets,
    parse_size,
    positive_int,
)
from archcost.commands.output import LazyProgress, keep_freed_memory, show
from archcost.errors import SpecError
from archcost.model import load
from archcost.report.latency import BENCH_FORMATS, RUNTIME_BENCH_FORMATS
from archcost.roofline import THIS_MACHINE, load_profile

EPILOG = """examples:
  archcost bench shufflenet_v2                      # estimated on this machine, measured now
  archcost bench mobilenet_v1 --repeats 9 --device reports/this-machine.yaml
  archcost bench shufflenet_v1 --set groups=8 --format csv > shufflenet_g8.csv
  archcost bench mobilenet_v2 --runtime onnxruntime --format json
  archcost bench model.onnx --runtime onnxruntime --threads 2
"""  # noqa: E501 (help text, shown as written)


def register(sub: Any, parents: Parents) -> None:
    p = add_command(
        sub,
        parents,
        "bench",
        [parents.knobs, parents.includes, parents.fmt, parents.seeded, parents.batch],
        help="measure each layer's NumPy time beside its roofline estimate",
        description="Run SPEC in the NumPy backend (the executor's weights and "
        "input), time every layer (one warm-up pass, then the median of "
        "--repeats passes), put the roofline estimate beside it, and "
        "report the Spearman rank correlation of estimated and of "
        "MACs-only against measured per-layer time.",
        epilog=EPILOG,
    )
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument(
        "--repeats",
        type=positive_int,
        default=None,
        help="timed passes; each layer's time is their median (default 5; onnxruntime: "
        "timed runs with inputs and outputs bound, after 50 ms of warm-up, default 30)",
    )
    p.add_argument(
        "--runtime",
        choices=("numpy", "onnxruntime"),
        default="numpy",
        help="numpy: archcost's backend, per layer beside the roofline (default); "
        "onnxruntime: the exported model (or MODEL.onnx) in onnxruntime, per kernel from "
        "its profiler, with the layers each kernel covers (batch 1, seed 0: --batch, "
        "--seed, --max-memory and --device are numpy's only)",
    )
    p.add_argument(
        "--threads", type=positive_int, default=1, help="onnxruntime intra-op threads (default 1)"
    )
    p.add_argument(
        "--device",
        metavar="PROFILE",
        default=THIS_MACHINE,
        help="profile for the estimates (default this-machine: a quick calibration "
        "of the machine being measured)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.runtime == "onnxruntime":
        return run_onnxruntime(args)
    from archcost.bench import run as bench_run  # numpy loads only for the commands that run it

    model = load(args.spec, include_path=args.include_path, **parse_sets(args.set))
    profile = load_profile(args.device)
    keep_freed_memory()  # time layers as a long-running process would run them
    bar = LazyProgress(sys.stdout.isatty())
    try:
        result = bench_run(
            model,
            profile=profile,
            repeats=args.repeats or 5,
            batch=args.batch,
            seed=args.seed,
            progress=bar,
            max_memory=parse_size(args.max_memory) if args.max_memory else None,
        )
    finally:
        bar.close()
    show(BENCH_FORMATS[args.format](result), width=140)
    return 0


def run_onnxruntime(args: argparse.Namespace) -> int:
    """``bench SPEC|MODEL.onnx --runtime onnxruntime``: per-kernel times in onnxruntime."""
    numpy_only = [
        option
        for option, given in (
            ("--batch", args.batch != 1),
            ("--seed", args.seed != 0),
            ("--max-memory", args.max_memory is not None),
            ("--device", args.device != THIS_MACHINE),
        )
        if given
    ]
    if numpy_only:
        raise SpecError(
            f"{', '.join(numpy_only)}: only for --runtime numpy; onnxruntime times the "
            "model at batch 1 with seed-0 weights and input, without estimates.",
            hint="Drop the option, or bench with --runtime numpy.",
        )
    # onnx and onnxruntime load only for this runtime (start-up time, optional extra)
    from archcost.runtime.bench import bench as runtime_bench
    from archcost.runtime.ort import import_onnxruntime

    import_onnxruntime()  # the install hint before any work
    knobs = parse_sets(args.set)
    source: Any
    if str(args.spec).lower().endswith(".onnx"):
        if knobs:
            raise SpecError("--set applies to specs, not to an .onnx model.", file=str(args.spec))
        source = args.spec
    else:
        source = load(args.spec, include_path=args.include_path, **knobs)
    result = runtime_bench(source, threads=args.threads, runs=args.repeats or 30)
    show(RUNTIME_BENCH_FORMATS[args.format](result), width=140)
    return 0
