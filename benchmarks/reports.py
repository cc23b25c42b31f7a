"""Report speed: time and file size of the ResNet-50 page and the four-model compare page.

Run: .venv/bin/python benchmarks/reports.py [--repeats N]
Goal (docs/design.md, "Performance goals"): each report under 3 s end to end on the 2-core machine.

Two timings per report:
* ``build``: in this process, after the imports: load the spec(s), compute the costs,
  build every figure and write the file (median of N runs);
* ``cli``: the command a user types, ``archcost analyze/compare ... --html``, in a fresh
  interpreter (imports, loading, building, writing; median of N runs).
Plus the page size with Plotly inlined (the default) and with ``--plotlyjs cdn``-style
output, and the number of points drawn, so growth in either shows up here.
"""

from __future__ import annotations

import argparse
import json
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
    for chunk in html_text.split("Plotly.newPlot(")[1:]:
        data = json.JSONDecoder().raw_decode(chunk.split(",", 1)[1].lstrip())[0]
        for trace in data:
            for key in ("x", "labels", "y"):
                value = trace.get(key)
                if isinstance(value, list):
                    total += len(value)
                    break
                if isinstance(value, dict) and "shape" in value:  # plotly's typed arrays
                    total += int(str(value["shape"]).split(",")[0])
                    break
    return total


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
