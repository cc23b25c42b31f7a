"""``archcost sweep``: cost a grid (or a sample) of knob settings, flag the Pareto front."""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archcost.commands.files import Output, input_files, write_outputs
from archcost.commands.options import Parents, add_command, positive_int
from archcost.commands.output import LazyProgress, console, default_report_path, wrote
from archcost.costs import TOTAL_KEYS
from archcost.errors import SpecError
from archcost.report.tables import plain_table
from archcost.report.units import human, human_bytes

if TYPE_CHECKING:
    import pandas as pd

EPILOG = """examples:
  archcost sweep mobilenet_v2 --grid width=0.35,0.5,0.75,1.0,1.4 --grid resolution=96:224:32
  archcost sweep specs/shufflenet_v1.yaml --grid groups=1,2,3,4,8 --where "macs <= 150e6"
  archcost sweep specs/mobilenet_v1.yaml --grid width=0.25..1.0 --grid resolution=128:224:32 \\
      --sample 200 --sampler lhs --seed 1 --format csv -o mnv1.csv
  archcost sweep mobilenet_v2 --grid width=0.35,0.5,0.75,1.0 --grid resolution=96:224:32 \\
      --objectives macs,accuracy --html              # reports/MobileNetV2_sweep.html
  archcost sweep efficientnet --compound 1.2,1.1,1.15 --phi 0:3   # Tan & Le's alpha, beta, gamma
  archcost sweep specs/mobilenet_v2.yaml --grid width=0.3:1.4:0.001 --grid resolution=96:224:8 \\
      --scheduler tcp://10.0.0.5:8786 --yes --format parquet -o big.parquet
"""

FORMATS = ("table", "json", "csv", "parquet")
TABLE_ROWS = 200  # a terminal table shows at most this many rows (then the front)


def register(sub: Any, parents: Parents) -> None:
    s = add_command(
        sub,
        parents,
        "sweep",
        [parents.plotlyjs, parents.batch, parents.dtype],
        help="cost many knob settings at once; a Pareto front",
        description="Cost every configuration of a grid of knob values (or a random or "
        "Latin-hypercube sample of it) with one parsed spec; one row per "
        "configuration, in grid order: the knobs, every total, the published "
        "ImageNet accuracy where the spec reports it, a pareto flag over "
        "--objectives (minimised; accuracy maximised) and an error column for "
        "settings the spec refuses. Large sweeps run on Dask.",
        epilog=EPILOG,
    )
    s.set_defaults(run=run)
    s.add_argument("spec", help="the YAML spec, or a bundled network's name (mobilenet_v2)")
    s.add_argument(
        "--grid",
        action="append",
        metavar="KNOB=VALUES",
        default=[],
        help="a knob's values: a list (width=0.5,0.75,1.0), an inclusive range "
        "START:STOP:STEP (resolution=96:224:32) or, with --sample, an "
        "interval LOW..HIGH (width=0.35..1.4); repeatable, first varies slowest",
    )
    s.add_argument(
        "--compound",
        metavar="ALPHA,BETA,GAMMA",
        help="walk EfficientNet's compound scaling: depth = ALPHA^phi, width = BETA^phi, "
        "resolution = GAMMA^phi x the default resolution (e.g. 1.2,1.1,1.15)",
    )
    s.add_argument(
        "--phi",
        default="0:3",
        metavar="VALUES",
        help="the compound coefficients phi walked by --compound (default 0:3)",
    )
    s.add_argument(
        "--sample",
        type=positive_int,
        metavar="N",
        help="draw N configurations instead of the whole grid",
    )
    s.add_argument(
        "--sampler",
        choices=["random", "lhs"],
        default="random",
        help="how --sample draws: independent uniform (random, default) or a Latin hypercube (lhs)",
    )
    s.add_argument("--seed", type=int, default=0, help="random seed for --sample (default 0)")
    s.add_argument(
        "--where",
        metavar="EXPR",
        help="keep configurations matching EXPR over the columns, e.g. "
        '"macs <= 300e6 and params <= 3e6" (refused ones are kept)',
    )
    s.add_argument(
        "--objectives",
        default="macs,params",
        metavar="COLS",
        help="columns of the Pareto front, comma-separated (default macs,params; "
        "latency for latency_s, memory for memory_access); minimised, except "
        "accuracy (maximised)",
    )
    s.add_argument(
        "--device",
        metavar="PROFILE",
        help="add latency_s, the roofline estimate on a device profile",
    )
    s.add_argument(
        "--scheduler",
        metavar="WHERE",
        help="serial (this process), local (a Dask LocalCluster, one worker "
        "process per core) or a Dask scheduler address tcp://HOST:8786; "
        "default: serial below 4,000 configurations, else local",
    )
    s.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="worker processes of --scheduler local (default: one per core)",
    )
    s.add_argument(
        "--max-configs",
        type=positive_int,
        default=None,
        metavar="N",
        help="refuse larger sweeps without --yes (default 20,000)",
    )
    s.add_argument("--yes", action="store_true", help="run a sweep above --max-configs")
    s.add_argument(
        "--format",
        default="table",
        choices=FORMATS,
        help="output format (default: a terminal table); parquet needs -o",
    )
    s.add_argument("-o", "--output", metavar="PATH", help="write the results to PATH")
    s.add_argument(
        "--html",
        nargs="?",
        const="",
        metavar="PATH",
        help="also write an HTML report: Pareto chart, heatmap or parallel "
        "coordinates, the front (default reports/<name>_sweep.html)",
    )


def run(args: argparse.Namespace) -> int:
    # sweeping loads only for this command (start-up time)
    from archcost.sweeping import MAX_CONFIGS, objective_names, sweep, sweep_spec, sweep_title

    if not args.grid and not args.compound:
        raise SpecError(
            "sweep needs at least one --grid KNOB=VALUES (or --compound).",
            hint="e.g. --grid width=0.5,0.75,1.0 --grid resolution=96:224:32",
        )
    if args.format == "parquet" and not args.output:
        raise SpecError("--format parquet writes a binary file; give it -o PATH.")
    if args.format == "parquet":
        _require_pyarrow()
    out_path = Path(args.output) if args.output else None
    spec = sweep_spec(args.spec)
    objectives = objective_names(args.objectives)
    bar = LazyProgress(sys.stderr.isatty())
    try:
        frame = sweep(
            spec,
            args.grid,
            sample=args.sample,
            seed=args.seed,
            sampler=args.sampler,
            where=args.where,
            objectives=objectives,
            batch=args.batch,
            dtype=args.dtype,
            device=args.device,
            scheduler=args.scheduler,
            max_configs=args.max_configs or MAX_CONFIGS,
            yes=args.yes,
            workers=args.workers,
            compound=args.compound,
            phi=args.phi,
            progress=lambda done, total: bar(done, total, f"{done:,}/{total:,} configurations"),
        )
    finally:
        bar.close()
    title = sweep_title(spec, frame.columns)
    outputs = []
    if out_path is not None:
        outputs.append(Output("-o", out_path, lambda tmp: _write(frame, args.format, tmp)))
    if args.html is not None:
        from archcost.report.sweep import write_sweep_report  # plotly: only for --html

        path = Path(args.html) if args.html else default_report_path(f"{title}_sweep")
        outputs.append(
            Output(
                "--html",
                path,
                lambda tmp: write_sweep_report(
                    frame, tmp, spec=spec, objectives=objectives, plotlyjs=args.plotlyjs
                ),
            )
        )
    written = write_outputs(
        outputs, inputs=[*getattr(spec, "files", []), *input_files(args.device)]
    )
    if out_path is None:
        if args.format == "json":
            sys.stdout.write(to_json(frame) + "\n")
        elif args.format == "csv":
            sys.stdout.write(to_csv(frame))
        else:
            print_table(frame, title, objectives)
    for path in written:
        wrote(path)
    return 0


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise SpecError(
            "--format parquet needs pyarrow.",
            hint="Install the sweep extra: pip install 'archcost[sweep]'.",
        ) from None


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values: ints stay exact ints, blanks are None."""
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if (
                value is None
                or (isinstance(value, float) and math.isnan(value))
                or type(value).__name__ == "NAType"
            ):
                clean[key] = None
            elif hasattr(value, "item"):
                clean[key] = value.item()
            else:
                clean[key] = value
        out.append(clean)
    return out


def to_json(frame: pd.DataFrame) -> str:
    return json.dumps(records(frame), indent=1)


def to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def _write(frame: pd.DataFrame, fmt: str, path: Path) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "json":
        path.write_text(to_json(frame) + "\n", encoding="utf-8")
    elif fmt == "csv":
        path.write_text(to_csv(frame), encoding="utf-8")
    else:
        buffer = io.StringIO()
        print_table(frame, "", [], file=buffer)
        path.write_text(buffer.getvalue(), encoding="utf-8")


def print_table(frame: pd.DataFrame, name: str, objectives: list[str], file: Any = None) -> None:
    """A terminal table: knobs, counts in human units, accuracy, the front marked ★."""
    from rich.markup import escape  # rich: only when a table prints (start-up time)

    out = file or sys.stdout
    rows = records(frame)
    shown = rows if len(rows) <= TABLE_ROWS else [r for r in rows if r["pareto"]]
    knob_cols = [
        c
        for c in frame.columns
        if c not in (*TOTAL_KEYS, "latency_s", "accuracy", "accuracy_source", "pareto", "error")
    ]
    counts = [
        ("params", "params", human),
        ("MACs", "macs", human),
        ("FLOPs", "flops", human),
        ("memory", "memory_access", human_bytes),
        ("peak act.", "peak_activation_bytes", human_bytes),
    ]
    title = (
        (
            f"{escape(name)}: {len(rows):,} configurations, "
            f"{sum(r['pareto'] for r in rows):,} on the front ★ "
            f"({', '.join(objectives)})"
        )
        if name
        else None
    )
    right: list[str] = [escape(col) for col in knob_cols] + [label for label, _, _ in counts]
    right += ["latency"] if "latency_s" in frame.columns else []
    right += ["top-1 %"] if "accuracy" in frame.columns else []
    table = plain_table(
        title,
        [("", "left"), *((h, "right") for h in right), ("error", "left")],
        wrap=("error",),
    )
    for r in shown:
        cells = ["★" if r["pareto"] else ""] + [escape(str(r[c])) for c in knob_cols]
        cells += ["" if r[key] is None else fmt(r[key]) for _, key, fmt in counts]
        if "latency_s" in frame.columns:
            cells.append("" if r["latency_s"] is None else f"{r['latency_s'] * 1e3:.2f} ms")
        if "accuracy" in frame.columns:
            cells.append("" if r["accuracy"] is None else f"{r['accuracy']:.1f}")
        cells.append(escape(r["error"] or ""))
        table.add_row(*cells)
    screen = console(160, out)
    screen.print(table)
    if len(shown) < len(rows):
        screen.print(
            f"[dim]{len(rows) - len(shown):,} rows off the front not shown; "
            f"--format csv or json lists every row.[/]"
        )
    if "accuracy" in frame.columns:
        screen.print(
            "[dim]top-1 %: published ImageNet accuracy where the spec's reported: "
            "section has the setting; blank where nothing was published.[/]"
        )
