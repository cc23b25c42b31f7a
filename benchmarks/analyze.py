"""Analysis speed: time per layer for synthetic specs of 100, 1,000 and 10,000 layers,
and the cold start of `archcost analyze --format json` beside `python -c "import numpy"`.

Run: .venv/bin/python benchmarks/analyze.py
Goal (docs/design.md, "Performance goals"): the 10,000-layer spec analyzes in under
1 s on the 2-core machine, growth is linear, and the JSON path imports none of plotly,
pandas, numpy, rich and networkx.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def synthetic_spec(n_layers: int) -> str:
    """A chain of residual units (conv, batchnorm, relu, conv, batchnorm, add, relu):
    7 layers a unit, written out explicitly (no repeat) so parsing is measured too."""
    lines = ["archcost: 1", f"name: synthetic-{n_layers}", "input: [16, 32, 32]", "layers:"]
    units = max(1, n_layers // 7)
    prev = "input"
    for u in range(units):
        p = f"u{u}_"
        lines += [f"  - {{name: {p}c1, type: conv, out: 16, kernel: 3, padding: 1, inputs: {prev}}}",
                  f"  - {{name: {p}bn1, type: batchnorm}}", f"  - {{name: {p}r1, type: relu}}",
                  f"  - {{name: {p}c2, type: conv, out: 16, kernel: 3, padding: 1}}",
                  f"  - {{name: {p}bn2, type: batchnorm}}",
                  f"  - {{name: {p}add, type: add, inputs: [{prev}, {p}bn2]}}",
                  f"  - {{name: {p}r2, type: relu}}"]
        prev = f"{p}r2"
    return "\n".join(lines) + "\n"


def time_analyze(path: Path, repeats: int = 3) -> tuple[float, int]:
    import archcost
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model = archcost.load(path)
        model.costs()
        times.append(time.perf_counter() - started)
    return min(times), len(model.layers)


def cold_start(argv: list[str], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    print("analyze (load + build + shapes + costs), best of 3")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100, 1_000, 10_000):
            path = Path(tmp) / f"s{n}.yaml"
            path.write_text(synthetic_spec(n))
            seconds, layers = time_analyze(path)
            print(f"  {layers:>6,} layers: {seconds * 1e3:8.1f} ms  "
                  f"({seconds / layers * 1e6:6.1f} µs/layer)")
    py = sys.executable
    spec = str(ROOT / "specs" / "mobilenet_v1.yaml")
    numpy_s = cold_start([py, "-c", "import numpy"])
    json_s = cold_start([py, "-m", "archcost", "analyze", spec, "--format", "json"])
    print(f"cold start, median of 5: python -c 'import numpy' {numpy_s * 1e3:.0f} ms (reference); "
          f"archcost analyze mobilenet_v1 --format json {json_s * 1e3:.0f} ms "
          f"(ratio {json_s / numpy_s:.2f})")
    check = subprocess.run([py, "-c", "import sys, runpy; sys.argv = ['archcost', 'analyze', "
                            f"{spec!r}, '--format', 'json']\n"
                            "import contextlib, io\n"
                            "with contextlib.redirect_stdout(io.StringIO()):\n"
                            "    from archcost.cli import main; main(sys.argv[1:])\n"
                            "print(sorted(m for m in ('plotly', 'pandas', 'numpy', 'rich', 'networkx') if m in sys.modules))"],
                           capture_output=True, text=True, cwd=ROOT, check=True)
    print(f"modules imported by analyze --format json: {check.stdout.strip()}")


if __name__ == "__main__":
    main()
