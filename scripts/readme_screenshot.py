"""Retake docs/compare-screenshot.png, the README's picture of a compare page.

Run: .venv/bin/python scripts/readme_screenshot.py
(needs the test extra's playwright and Debian's chromium, as the browser tests do)

Writes the four-model MobileNet vs ShuffleNet page, opens it offline in headless
Chromium at 1280 px, waits until every chart is drawn, and keeps the top 1400 px
(title, headline, totals, MACs against parameters).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = ["mobilenet_v1", "mobilenet_v2", "shufflenet_v1", "shufflenet_v2"]
OUT = ROOT / "docs" / "compare-screenshot.png"
WIDTH, HEIGHT = 1280, 1400


def main() -> int:
    from playwright.sync_api import sync_playwright

    import archcost
    from archcost.report.html import COMPARE_CHARTS, write_compare_report

    chromium = os.environ.get("ARCHCOST_CHROMIUM", "/usr/bin/chromium")
    os.chdir(ROOT)  # the page shows the spec paths as given: specs/....yaml
    with tempfile.TemporaryDirectory() as tmp:
        page_path = write_compare_report(
            [archcost.load(f"specs/{m}.yaml") for m in MODELS],
            Path(tmp) / "mobilenet_vs_shufflenet.html")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_function(
                "n => { const d = document.querySelectorAll('.js-plotly-plot');"
                " return d.length >= n && Array.from(d).every(p => p._fullData"
                " && p.querySelector('.main-svg')); }",
                arg=len(COMPARE_CHARTS), timeout=300_000)
            page.wait_for_timeout(500)  # let the last frame paint
            page.screenshot(path=str(OUT), clip={"x": 0, "y": 0, "width": WIDTH,
                                                 "height": HEIGHT})
            browser.close()
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
