"""Page weight and time to the first chart: today's pages against the pages as they were.

Run: .venv/bin/python benchmarks/report_pages.py [--repeats N]
(needs the test extra's playwright and Debian's chromium, as tests/test_browser.py does)

For the ResNet-50 page and the README's four-model comparison it writes, in one run:

* ``before``: the page as archcost wrote it until the partial bundle: Plotly's full
  ``plotly.min.js`` (from the installed plotly package) inlined in ``<head>``, every
  chart drawn by its own ``Plotly.newPlot`` script right after its ``div``, and no
  ``content-visibility`` rule. It is built
  here from today's page (same figures, same JSON), so both pages differ only in how
  Plotly gets in and when the charts are drawn.
* ``now``: the page ``archcost analyze/compare --html`` writes (archcost.report.bundle:
  the partial bundle gzip-compressed and base64-encoded, unpacked by the browser; the
  charts drawn in order of what is on screen).

and prints each page's size and the time from navigation start to the first chart drawn
in headless Chromium (the first animation frame at which a chart's traces are in the
page), median of N loads with the two variants alternating, so both see the same machine
load. Then the ratios now/before. Nothing here is asserted; tests check sizes, not time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SINGLE = "specs/resnet50.yaml"
COMPARE = ["specs/mobilenet_v1.yaml", "specs/mobilenet_v2.yaml", "specs/shufflenet_v1.yaml",
           "specs/shufflenet_v2.yaml"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

# Polls every animation frame from navigation start; records the first frame at which
# some chart has its traces drawn (Plotly's trace layers hold elements).
FIRST_CHART = """
(function(){
  window.__firstChart = null;
  function tick(){
    var plots = document.querySelectorAll('.js-plotly-plot');
    for (var i = 0; i < plots.length; i++) {
      var p = plots[i];
      if (p._fullData && p._fullData.length &&
          p.querySelector('.main-svg .trace, .main-svg .slice, .main-svg .bars path')) {
        window.__firstChart = performance.now();
        return;
      }
    }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})();
"""

_FIGURE = re.compile(r'<script type="application/json" class="archcost-figure" '
                     r'data-div="([^"]+)">(.*?)</script>', re.S)


def before_page(now: str) -> str:
    """Today's page as it was written before the partial bundle: the full plotly.min.js
    inlined, each chart drawn by an inline ``Plotly.newPlot`` (plotly.io.to_html's
    script) right after its div, and no drawing script."""
    from plotly.offline import get_plotlyjs

    from archcost.report import bundle

    head_start = now.index("<!-- plotly.js v")
    head_end = now.index("</script>", now.index('id="archcost-plotlyjs"'))
    head_end = now.index("</script>", head_end + 1) + len("</script>")
    page = now[:head_start] + f"<script>{get_plotlyjs()}</script>" + now[head_end:]

    def inline(m: re.Match[str]) -> str:
        div, body = m.group(1), m.group(2)
        # {"data":D,"layout":L,"config":C} -> Plotly.newPlot("div", D, L, C), as before
        args = body[len('{"data":'):-1].replace(',"layout":', ", ", 1).replace(
            ',"config":', ", ", 1)
        return ('<script type="text/javascript">window.PLOTLYENV=window.PLOTLYENV || {};'
                f'if (document.getElementById("{div}")) {{Plotly.newPlot("{div}", {args})}};'
                "</script>")

    page, n = _FIGURE.subn(inline, page)
    assert n > 0 and bundle.draw_script() in page
    # nor did it skip off-screen charts and tables (content-visibility)
    page, rules = re.subn(r"\n[^\n{}]*\{content-visibility:auto;[^}]*\}", "", page)
    assert rules == 1
    return page.replace(bundle.draw_script(), "")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{cpu}, {os.cpu_count()} cores, {now}, load average {load}"


def first_chart_ms(browser, path: Path) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
        page.add_init_script(FIRST_CHART)
        page.goto(path.resolve().as_uri(), wait_until="commit")
        page.wait_for_function("window.__firstChart !== null", timeout=300_000)
        if errors:
            raise RuntimeError(f"{path.name}: {errors[0]}")
        return float(page.evaluate("window.__firstChart"))
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("needs playwright (the test extra: scripts/setup.sh test)")
        return 1
    chromium = os.environ.get("ARCHCOST_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        print(f"needs Chromium at {chromium} (apt-get install chromium)")
        return 1

    import archcost
    from archcost.report.html import render_compare_report, render_model_report

    out = Path(tempfile.mkdtemp(prefix="archcost-pages-"))
    cases = {
        "ResNet-50 (single)": render_model_report(archcost.load(ROOT / SINGLE)),
        "MobileNet vs ShuffleNet (4 models)": render_compare_report(
            [archcost.load(ROOT / p) for p in COMPARE]),
    }
    print(machine())
    print(f"{'':<36} {'size':-^26}  {'first chart drawn':-^26}")
    print(f"{'page':<36} {'before':>9} {'now':>9} {'ratio':>6}  {'before':>9} {'now':>9} "
          f"{'ratio':>6}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for i, (label, now_text) in enumerate(cases.items()):
                paths = {"before": out / f"{i}-before.html", "now": out / f"{i}-now.html"}
                paths["before"].write_text(before_page(now_text), encoding="utf-8")
                paths["now"].write_text(now_text, encoding="utf-8")
                first_chart_ms(browser, paths["now"])  # warm: the browser's first page
                times: dict[str, list[float]] = {"before": [], "now": []}
                for _ in range(args.repeats):
                    for variant, path in paths.items():
                        times[variant].append(first_chart_ms(browser, path))
                size = {v: path.stat().st_size for v, path in paths.items()}
                ms = {v: statistics.median(t) for v, t in times.items()}
                print(f"{label:<36} {size['before'] / 1e6:7.2f}MB {size['now'] / 1e6:7.2f}MB "
                      f"{size['now'] / size['before']:6.2f}  {ms['before']:7.0f}ms "
                      f"{ms['now']:7.0f}ms {ms['now'] / ms['before']:6.2f}")
        finally:
            browser.close()
    print(f"(size: bytes of the HTML file; first chart: median of {args.repeats} loads in "
          f"headless Chromium, 1280x900; ratios now/before; pages in {out})")
    print(machine())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
