"""The ``archcost`` command line: ``main(argv) -> exit code``.

Exit codes: 0 success; 1 a validation found a mismatch (or an internal bug); 2 a
mistake in the spec or the command line (one clear line on stderr, no traceback
unless ``--traceback``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from archcost import __version__
from archcost.errors import ArchcostError, SpecError

EPILOG_ANALYZE = """examples:
  archcost analyze specs/mobilenet_v1.yaml
  archcost analyze specs/mobilenet_v1.yaml --set width=0.5 --set resolution=160
  archcost analyze specs/resnet50.yaml --format json > resnet50.json
  archcost analyze specs/shufflenet_v1.yaml --set groups=8 --format markdown
  archcost analyze specs/mobilenet_v2.yaml --html          # reports/MobileNetV2.html
  archcost analyze specs/vgg16.yaml --batch 32 --dtype float16
  archcost analyze specs/shufflenet_v2.yaml --device this-machine   # + estimated time, bound
  archcost analyze specs/mobilenet_v2.yaml --device jetson-nano-fp32 --format csv
"""

EPILOG_COMPARE = """examples:
  archcost compare specs/mobilenet_v1.yaml specs/shufflenet_v2.yaml
  archcost compare specs/mobilenet_v1.yaml@width=0.5 specs/mobilenet_v1.yaml@resolution=128
  archcost compare specs/mobilenet_v1.yaml specs/mobilenet_v2.yaml \\
      specs/shufflenet_v1.yaml specs/shufflenet_v2.yaml --html reports/mobilenet_vs_shufflenet.html
"""

EPILOG_CALIBRATE = """examples:
  archcost calibrate                          # writes reports/this-machine.yaml
  archcost calibrate -o devices/laptop.yaml --name laptop
  archcost analyze specs/mobilenet_v1.yaml --device reports/this-machine.yaml
"""

EPILOG_BENCH = """examples:
  archcost bench specs/shufflenet_v2.yaml                      # estimated on this machine, measured now
  archcost bench specs/mobilenet_v1.yaml --repeats 9 --device reports/this-machine.yaml
  archcost bench specs/shufflenet_v1.yaml --set groups=8 --format csv > shufflenet_g8.csv
"""


def parse_value(text: str) -> Any:
    """A --set value, typed: int, float, true/false, else the string.

    >>> parse_value("0.75"), parse_value("224"), parse_value("true"), parse_value("x")
    (0.75, 224, True, 'x')
    """
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    knobs: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--set expects KEY=VALUE, got '{item}'.", hint="e.g. --set width=0.5")
        knobs[key.strip()] = parse_value(value)
    return knobs


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions to the terminal; keeps the examples epilog's lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _parent(*adders: Any) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    for add in adders:
        add(parent)
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archcost", description="What a convolutional network costs, layer by layer, and why.",
        epilog="Run 'archcost COMMAND --help' for a command's options and examples.")
    parser.add_argument("--traceback", action="store_true", help="show the Python stack on errors")
    parser.add_argument("--version", action="version", version=f"archcost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # Options shared by several commands, as argparse parents (defined once).
    hidden = _parent(lambda p: p.add_argument("--traceback", action="store_true",
                                              default=argparse.SUPPRESS, help=argparse.SUPPRESS))
    knobs = _parent(lambda p: p.add_argument(
        "--set", action="append", metavar="KEY=VALUE",
        help="override a param, e.g. --set width=0.75 (repeatable)"))
    batch = _parent(lambda p: p.add_argument("--batch", type=positive_int, default=1,
                                             help="samples per pass (default 1)"))
    dtype = _parent(lambda p: p.add_argument(
        "--dtype", default="float32", choices=["float32", "float16", "bfloat16", "int8"],
        help="element type for byte counts (default float32)"))
    fmt = _parent(lambda p: p.add_argument(
        "--format", default="table", choices=["table", "json", "csv", "markdown"],
        help="output format (default: a terminal table)"))
    plotlyjs = _parent(lambda p: p.add_argument(
        "--plotlyjs", default="inline", choices=["inline", "cdn"],
        help="inline Plotly's JavaScript (works offline; default) or load it from a CDN"))
    seeded = _parent(
        lambda p: p.add_argument("--seed", type=int, default=0, help="random seed (default 0)"),
        lambda p: p.add_argument("--max-memory", metavar="SIZE",
                                 help="refuse runs whose estimated peak exceeds SIZE (e.g. 2G, "
                                      "512M); default: half of the available memory"))

    def command(name: str, parents: list[argparse.ArgumentParser], **kwargs: Any
                ) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[hidden, *parents],
                              formatter_class=_HelpFormatter, **kwargs)

    a = command("analyze", [knobs, fmt, plotlyjs, batch, dtype],
                help="per-layer params, MACs, FLOPs and memory traffic",
                description="Count the cost of every layer of SPEC.", epilog=EPILOG_ANALYZE)
    a.add_argument("spec", help="the YAML spec")
    a.add_argument("--html", nargs="?", const="", metavar="PATH",
                   help="also write an HTML report (default reports/<name>.html)")
    a.add_argument("--device", metavar="PROFILE",
                   help="add roofline time estimates (estimated_s, bound) for a device profile: "
                        "a bundled name (jetson-nano-fp32, ...), this-machine (measured now), "
                        "or a profile YAML path; the HTML report gets a roofline chart")

    c = command("compare", [fmt, plotlyjs, batch, dtype],
                help="several specs or knob settings side by side",
                description="Compare totals of several models; SPEC@k=v,... sets knobs.",
                epilog=EPILOG_COMPARE)
    c.add_argument("specs", nargs="+", metavar="SPEC[@k=v,...]")
    c.add_argument("--html", nargs="?", const="", metavar="PATH",
                   help="also write an HTML compare report (default reports/compare.html)")

    e = command("explain", [knobs, batch, dtype],
                help="every count of a layer as its formula with the numbers",
                description="Explain the layers of SPEC whose name matches LAYER (a name or a "
                            "glob such as 'stage2.*'): fields, shapes, output-size arithmetic, "
                            "and each count's formula with the numbers in.",
                epilog="examples:\n  archcost explain specs/examples/standard_vs_separable.yaml "
                       "separable\n  archcost explain specs/mobilenet_v1.yaml 'dw_separable2.*'\n")
    e.add_argument("spec")
    e.add_argument("layer", help="a layer name or glob")

    w = command("whatif", [knobs, plotlyjs],
                help="rewrite convolutions by a rule and compare the cost",
                description="Rewrite every matching conv of SPEC by RULE: separable (k×k -> "
                            "depthwise + pointwise), spatial (k×k -> k×1 + 1×k), grouped:G, "
                            "shuffled:G (grouped + channel shuffle), pointwise-grouped:G (1×1 "
                            "convs in G groups). Prints the per-layer before/after and the "
                            "totals; -o writes the rewritten spec, which archcost loads like "
                            "any other.",
                epilog="examples:\n  archcost whatif specs/vgg16.yaml --rewrite separable\n"
                       "  archcost whatif specs/resnet50.yaml --rewrite grouped:32 --only "
                       "'layer*.conv2' -o resnet50_grouped.yaml\n"
                       "  archcost whatif specs/vgg16.yaml --rewrite shuffled:4 --html\n")
    w.add_argument("spec")
    w.add_argument("--rewrite", required=True, metavar="RULE",
                   help="separable | spatial | grouped:G | shuffled:G | pointwise-grouped:G")
    w.add_argument("--only", metavar="GLOB", help="rewrite only layers whose name matches")
    w.add_argument("-o", "--output", metavar="PATH", help="write the rewritten spec (YAML)")
    w.add_argument("--html", nargs="?", const="", metavar="PATH",
                   help="write a compare report of before and after "
                        "(default reports/<name>_whatif.html)")

    v = command("validate", [knobs, seeded, batch],
                help="run the network with NumPy and check shapes and MACs",
                description="Run SPEC on seeded random tensors; compare every layer's executed "
                            "shape and multiplications with the analysis. Exit 0 when all "
                            "agree, 1 naming the layers that differ.",
                epilog="examples:\n  archcost validate specs/mobilenet_v2.yaml\n"
                       "  archcost validate specs/resnet50.yaml --set resolution=112 --batch 2\n"
                       "  archcost validate specs/vgg16.yaml --max-memory 1G\n")
    v.add_argument("spec")

    k = command("calibrate", [],
                help="measure this machine as a roofline device profile",
                description="Measure this machine's NumPy float32 GEMM peak (MAC/s), large-copy "
                            "bandwidth (bytes/s) and per-call overhead, and write them as a "
                            "device profile YAML for --device.", epilog=EPILOG_CALIBRATE)
    k.add_argument("-o", "--output", metavar="PATH", default="reports/this-machine.yaml",
                   help="where to write the profile (default reports/this-machine.yaml)")
    k.add_argument("--name", default="this-machine", help="the profile's name (default this-machine)")
    k.add_argument("--quick", action="store_true",
                   help="smaller sizes, fewer repeats (what --device this-machine uses)")
    k.add_argument("--gemm-size", type=positive_int, metavar="N",
                   help="size of the square matmul (default 2048)")
    k.add_argument("--copy-mib", type=positive_int, metavar="MIB",
                   help="MiB of the copied array (default 256)")
    k.add_argument("--repeats", type=positive_int, help="timings per measurement (default 5)")

    b = command("bench", [knobs, fmt, seeded, batch],
                help="measure each layer's NumPy time beside its roofline estimate",
                description="Run SPEC in the NumPy backend (the executor's weights and input), "
                            "time every layer (one warm-up pass, then the median of --repeats "
                            "passes), put the roofline estimate beside it, and report the "
                            "Spearman rank correlation of estimated and of MACs-only against "
                            "measured per-layer time.", epilog=EPILOG_BENCH)
    b.add_argument("spec")
    b.add_argument("--repeats", type=positive_int, default=5,
                   help="timed passes; each layer's time is their median (default 5)")
    b.add_argument("--device", metavar="PROFILE", default="this-machine",
                   help="profile for the estimates (default this-machine: a quick calibration "
                        "of the machine being measured)")
    im = command("import", [],
                 help="write an ONNX model as an equivalent spec",
                 description="Map every node of MODEL.onnx to an archcost layer (names from "
                             "the node names, shapes from onnx's shape inference) and write "
                             "the spec; it loads back to the same counts. Every command that "
                             "takes a SPEC also takes the .onnx file itself. Needs the onnx "
                             "extra: pip install 'archcost[onnx]'.",
                 epilog="examples:\n  archcost import resnet18.onnx -o resnet18.yaml\n"
                        "  archcost import model.onnx -o model.yaml --input 3x160x160\n"
                        "  archcost analyze model.onnx --set input=3x224x224   # symbolic "
                        "input\n")
    im.add_argument("model", help="the .onnx file")
    im.add_argument("-o", "--output", required=True, metavar="PATH",
                    help="where to write the spec (YAML)")
    im.add_argument("--input", metavar="[NAME=]CxHxW",
                    help="the per-sample input shape, for a symbolic input (or to choose one "
                         "of several graph inputs)")
    ex = command("export", [knobs],
                 help="write a spec as an ONNX model (runs in onnxruntime)",
                 description="Write SPEC as an ONNX model: one node (or the standard "
                             "decomposition) per layer, named /<layer>/<Op>, with the weights "
                             "'archcost validate' draws (same --seed, same numbers). It passes "
                             "onnx's checker with full shape inference and runs in "
                             "onnxruntime. Needs the onnx extra: pip install 'archcost[onnx]'.",
                 epilog="examples:\n  archcost export specs/mobilenet_v2.yaml -o mobilenet_v2.onnx\n"
                        "  archcost export specs/shufflenet_v1.yaml --set groups=8 -o sn.onnx "
                        "--opset 13\n")
    ex.add_argument("spec")
    ex.add_argument("-o", "--output", required=True, metavar="PATH",
                    help="where to write the model (.onnx)")
    ex.add_argument("--opset", type=positive_int, default=17,
                    help="the ONNX opset (default 17; 13 .. the installed onnx's newest)")
    ex.add_argument("--seed", type=int, default=0,
                    help="the weights' seed, as for validate (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ArchcostError as exc:
        if args.traceback:
            raise
        print(f"archcost: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("archcost: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so, briefly
        if args.traceback:
            raise
        print(f"archcost: internal error: {type(exc).__name__}: {exc} "
              "(run with --traceback and report it)", file=sys.stderr)
        return 1


def default_report_path(stem: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem) or "report"
    return Path("reports") / f"{safe}.html"


def write_atomically(path: Path, writer: Any) -> Path:
    """Let ``writer(tmp_path)`` write, then move into place: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        writer(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def cmd_analyze(args: argparse.Namespace) -> int:
    from archcost.model import load
    from archcost.report import tables
    model = load(args.spec, **parse_sets(args.set))
    costs = model.costs(batch=args.batch, dtype=args.dtype)
    profile = None
    if args.device:       # before anything is written: a bad profile writes nothing
        from archcost.roofline import load_profile
        profile = load_profile(args.device)
    if args.html is not None:
        from archcost.report.html import write_model_report
        path = Path(args.html) if args.html else default_report_path(model.name)
        write_atomically(path, lambda tmp: write_model_report(
            model, tmp, batch=args.batch, dtype=args.dtype, plotlyjs=args.plotlyjs,
            profile=profile))
    if profile is not None:
        from archcost.report.latency import print_estimates
        from archcost.roofline import estimate_rows
        print_estimates(model, costs, estimate_rows(costs.rows, profile), profile, args.format)
    elif args.format == "json":
        print(tables.to_json(model, costs))
    elif args.format == "csv":
        sys.stdout.write(tables.to_csv(costs))
    elif args.format == "markdown":
        print(tables.to_markdown(model, costs))
    else:
        tables.print_table(model, costs)
    if args.html is not None:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from archcost.model import load
    from archcost.report.compare import compare_totals, parse_model_arg
    models = []
    for text in args.specs:
        try:
            path, knobs = parse_model_arg(text)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        models.append(load(path, **knobs))
    totals = compare_totals(models, batch=args.batch, dtype=args.dtype)
    if args.html is not None:
        from archcost.report.html import write_compare_report
        path = Path(args.html) if args.html else default_report_path("compare")
        write_atomically(path, lambda tmp: write_compare_report(
            models, tmp, batch=args.batch, dtype=args.dtype, plotlyjs=args.plotlyjs))
    from archcost.report import tables
    tables.print_compare(totals, args.format)
    if args.html is not None:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from archcost.backend import run_validate_command
    return run_validate_command(args)


def cmd_explain(args: argparse.Namespace) -> int:
    from archcost.explain import explain, render
    from archcost.model import load
    model = load(args.spec, **parse_sets(args.set))
    sys.stdout.write(render(explain(model, args.layer, batch=args.batch, dtype=args.dtype)))
    return 0


def cmd_whatif(args: argparse.Namespace) -> int:
    from archcost.model import load
    from archcost.rewrite import print_rewrite, rewrite
    model = load(args.spec, **parse_sets(args.set))
    result = rewrite(model, args.rewrite, only=args.only)
    written = []
    if args.output:
        written.append(write_atomically(Path(args.output),
                                        lambda tmp: tmp.write_text(result.text, encoding="utf-8")))
    if args.html is not None:
        from archcost.report.html import write_compare_report
        path = Path(args.html) if args.html else default_report_path(f"{model.name}_whatif")
        written.append(write_atomically(path, lambda tmp: write_compare_report(
            [result.before, result.after], tmp, plotlyjs=args.plotlyjs)))
    print_rewrite(result)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from archcost.calibrate import calibrate, write_profile
    from archcost.report.latency import device_line
    profile = calibrate(quick=args.quick, name=args.name, gemm_size=args.gemm_size,
                        copy_bytes=args.copy_mib * 2**20 if args.copy_mib else None,
                        repeats=args.repeats)
    path = write_profile(profile, args.output)   # atomic
    print(device_line(profile))
    print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from archcost.backend import _LazyProgress, keep_freed_memory, parse_size
    from archcost.bench import run
    from archcost.model import load
    from archcost.report.latency import print_bench
    from archcost.roofline import load_profile
    model = load(args.spec, **parse_sets(args.set))
    profile = load_profile(args.device)
    keep_freed_memory()      # time layers as a long-running process would run them
    bar = _LazyProgress(sys.stdout.isatty())
    try:
        result = run(model, profile=profile, repeats=args.repeats, batch=args.batch,
                     seed=args.seed, progress=bar,
                     max_memory=parse_size(args.max_memory) if args.max_memory else None)
    finally:
        bar.close()
    print_bench(result, args.format)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from archcost.model import load_onnx
    from archcost.onnx.importer import to_yaml
    out = Path(args.output)
    if out.exists() and out.resolve() == Path(args.model).resolve():
        raise SpecError("the output would overwrite the input model.", file=args.model,
                        hint="Give another path with -o.")
    model = load_onnx(args.model, input=args.input)
    text = to_yaml(model.imported.doc)
    write_atomically(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    totals = model.totals
    print(f"{model.name}: {len(model.layers)} layers, {totals['params']:,} params, "
          f"{totals['macs']:,} MACs")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from archcost.model import load
    from archcost.onnx.exporter import export
    out = Path(args.output)
    if out.exists() and out.resolve() == Path(args.spec).resolve():
        raise SpecError("the output would overwrite the input spec.", file=args.spec,
                        hint="Give another path with -o.")
    model = load(args.spec, **parse_sets(args.set))
    export(model, out, opset=args.opset, seed=args.seed)
    print(f"{model.label}: {len(model.layers)} layers, opset {args.opset}, seed {args.seed}")
    print(f"wrote {out}", file=sys.stderr)
    return 0


COMMANDS = {"import": cmd_import, "export": cmd_export, "analyze": cmd_analyze, "compare": cmd_compare, "validate": cmd_validate,
            "explain": cmd_explain, "whatif": cmd_whatif, "calibrate": cmd_calibrate,
            "bench": cmd_bench}
