"""Report speed: time and file size of the ResNet-50 page and the four-model compare page.

Run: .venv/bin/python benchmarks/reports.py [--repeats N]
Goal (docs/design.md, "Performance goals"): each report under 3 s end to end on the 2-core machine.

Two timings per report:
* ``build``: in this process, after the imports: load the spec(s), compute the costs,
  build every figure and write the file (median of N runs);
* ``cli``: the command a user types, ``archcost analyze/compare ... --html``, in a fresh
  interpreter (imports, loading, building, writing; median of N runs).
Plus the page size with Plotly inlined (the default) and with ``--plotlyjs cdn``-style
output, and the number of points drawn, so growth in either shows up here. The page's
weight against the full-bundle page, and the time its first chart takes to draw in
Chromium: benchmarks/report_pages.py.

Then the graph view alone: the layered layout and the whole graph figure for ResNet-50
and for a 10,000-layer residual spec, each as a ratio to loading that spec (shape
inference and costing) measured in the same run, so the layout's share stays visible
whatever the machine, and the layout's CPU time beside its wall time.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SINGLE = "specs/resnet50.yaml"
COMPARE = ["specs/mobilenet_v1.yaml", "specs/mobilenet_v2.yaml", "specs/shufflenet_v1.yaml",
           "specs/shufflenet_v2.yaml"]


def points(html_text: str) -> int:
    """Data points in the page's figures (x values of every trace, labels for sunbursts)."""
    total = 0
    for body in re.findall(r'class="archcost-figure" data-div="[^"]+">(.*?)</script>',
                           html_text, flags=re.S):
        for trace in json.loads(body)["data"]:
            for key in ("x", "labels", "y"):
                value = trace.get(key)
                if isinstance(value, list):
                    total += len(value)
                    break
                if isinstance(value, dict) and "shape" in value:  # plotly's typed arrays
                    total += int(str(value["shape"]).split(",")[0])
                    break
    return total


def median_time(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def cli_time(argv: list[str], repeats: int) -> float:
    cmd = [sys.executable, "-m", "archcost", *argv]

    def run() -> None:
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    return median_time(run, repeats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import archcost
    from archcost.report.html import render_compare_report, write_compare_report, \
        write_model_report

    missing = [p for p in [SINGLE, *COMPARE] if not (ROOT / p).exists()]
    if missing:
        print(f"missing specs: {', '.join(missing)}")
        return 1
    out = Path(tempfile.mkdtemp(prefix="archcost-bench-"))
    print(f"{'report':<34} {'build':>7} {'cli':>7} {'inline':>9} {'cdn':>8} {'points':>7}")
    cases = [
        ("ResNet-50 (single)", lambda: write_model_report(archcost.load(ROOT / SINGLE),
                                                          out / "single.html"),
         ["analyze", SINGLE, "--html", str(out / "single-cli.html")],
         lambda: write_model_report(archcost.load(ROOT / SINGLE), out / "single-cdn.html",
                                    plotlyjs="cdn")),
        ("MobileNet vs ShuffleNet (4 models)",
         lambda: write_compare_report([archcost.load(ROOT / p) for p in COMPARE],
                                      out / "compare.html"),
         ["compare", *COMPARE, "--html", str(out / "compare-cli.html")],
         lambda: out.joinpath("compare-cdn.html").write_text(
             render_compare_report([archcost.load(ROOT / p) for p in COMPARE], plotlyjs="cdn"),
             encoding="utf-8")),
    ]
    for label, build, argv, cdn in cases:
        build()  # warm: first-call imports inside plotly
        t_build = median_time(build, args.repeats)
        t_cli = cli_time(argv, args.repeats)
        cdn()
        name = "single" if "single" in argv[-1] else "compare"
        inline_size = (out / f"{name}.html").stat().st_size
        cdn_size = (out / f"{name}-cdn.html").stat().st_size
        n = points((out / f"{name}-cdn.html").read_text(encoding="utf-8"))
        print(f"{label:<34} {t_build:6.2f}s {t_cli:6.2f}s {inline_size / 1e6:7.2f}MB "
              f"{cdn_size / 1e3:6.0f}kB {n:7d}")
    print(f"(median of {args.repeats}; files in {out})")
    graph_view(out, args.repeats)
    return 0


DEEP = """
archcost: 1
name: Deep residual chain
input: [8, 8, 8]
blocks:
  unit:
    layers:
      - {name: conv1, type: conv, out: 8, kernel: 3, padding: 1}
      - {name: relu1, type: relu}
      - {name: conv2, type: conv, out: 8, kernel: 3, padding: 1}
      - {name: add, type: add, inputs: [input, conv2]}
layers:
  - {name: s, use: unit, repeat: 2500}
"""


def graph_view(out: Path, repeats: int) -> None:
    """Layout and figure time of the graph view, against loading the same spec."""
    import archcost
    from archcost.report.figures import fig_graph
    from archcost.report.graph_layout import layered_layout

    deep = out / "deep.yaml"
    deep.write_text(DEEP, encoding="utf-8")
    print(f"\n{'graph view':<26} {'layers':>7} {'load':>8} {'layout':>8} {'(cpu)':>8} "
          f"{'figure':>8} {'layout/load':>12} {'figure/load':>12}")
    for label, path in (("ResNet-50", ROOT / SINGLE), ("10,000-layer residual", deep)):
        m = archcost.load(path)
        inputs = {n: m.nodes[n].inputs for n in m.order}
        t_load = median_time(lambda: archcost.load(path), repeats)
        t_layout = median_time(lambda: layered_layout(inputs), repeats)
        cpu_layout = median_time(lambda: layered_layout(inputs), repeats, time.process_time)
        t_fig = median_time(lambda: fig_graph(m.network), repeats)
        print(f"{label:<26} {len(m.order) - 1:7d} {t_load * 1e3:6.0f}ms {t_layout * 1e3:6.0f}ms "
              f"{cpu_layout * 1e3:6.0f}ms {t_fig * 1e3:6.0f}ms {t_layout / t_load:12.2f} "
              f"{t_fig / t_load:12.2f}")
    print("(layout (cpu): the process's CPU time, less sensitive than wall time to a busy "
          "machine)")


if __name__ == "__main__":
    raise SystemExit(main())
