"""The HTML reports in a real browser: headless Chromium driven by Playwright.

Uses Debian's ``chromium`` (``apt-get install chromium``; scripts/test.sh installs it),
never a browser downloaded by ``playwright install``. Skipped, with the reason, when
Playwright or Chromium is missing. Every page is opened with the network blocked:
only ``file:`` requests are allowed, anything else is aborted and recorded.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import archcost
from archcost.report.html import (COMPARE_CHARTS, SINGLE_CHARTS, write_compare_report,
                                  write_model_report)
from archcost.report.units import human, human_bytes
from tiny_specs import RESIDUAL, SHUFFLE

ROOT = Path(__file__).resolve().parent.parent
EVIL = """<img src=x onerror="document.title='pwned'">"""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]




def _chromium() -> str | None:
    for candidate in (os.environ.get("ARCHCOST_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; skips when there is none."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium found (install Debian's 'chromium' package; scripts/test.sh "
                    "does) — the browser tests need a real browser")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # a broken or sandbox-less install: say why, don't fail
            pytest.skip(f"Chromium at {executable} does not start: {exc}")
        yield b
        b.close()


@dataclass
class Opened:
    page: object
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def charts(self) -> int:
        return self.page.evaluate("document.querySelectorAll('.js-plotly-plot').length")


@pytest.fixture
def open_report(browser):
    """``open_report(path, charts)`` loads a report offline and waits for its charts."""
    contexts = []

    def open_(path: Path, charts: int) -> Opened:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        page.on("console", lambda m: opened.errors.append(f"console: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.errors.append(f"pageerror: {e}"))

        def block(route):
            opened.blocked.append(route.request.url)
            route.abort()

        page.route(lambda url: not url.startswith("file:"), block)
        page.goto(path.resolve().as_uri(), wait_until="load")
        if charts:
            # Each plot holds several .main-svg layers, so counting those would return
            # while later charts are still unplotted: wait until the page has at least
            # `charts` plots and every one of them has drawn its data. The timeout is
            # only a cap for a loaded machine; nothing is asserted about the time taken.
            page.wait_for_function(
                "n => { const d = document.querySelectorAll('.js-plotly-plot');"
                " return d.length >= n && Array.from(d).every(p =>"
                " p.querySelector('.main-svg') !== null"
                " && p._fullData !== undefined && p._fullData.length > 0); }",
                arg=charts, timeout=120_000)
        return opened

    yield open_
    for c in contexts:
        c.close()


@pytest.fixture
def tiny(write_spec):
    return [archcost.load(write_spec(RESIDUAL, "res.yaml")),
            archcost.load(write_spec(SHUFFLE, "shuffle.yaml"))]


def assert_clean(opened: Opened, charts: int) -> None:
    assert opened.errors == []
    assert opened.blocked == []  # the page asked for nothing outside itself
    assert opened.charts() == charts
    # every chart actually drew something
    assert opened.page.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".every(d => d.querySelectorAll('.main-svg').length > 0 && d._fullData.length > 0)")


def test_single_report_renders(tiny, open_report, tmp_path):
    m = tiny[0]
    path = write_model_report(m, tmp_path / "single.html")
    opened = open_report(path, len(SINGLE_CHARTS))
    assert_clean(opened, len(SINGLE_CHARTS))
    page = opened.page
    totals = page.inner_text("#archcost-totals")
    t = m.totals
    for shown in (human(t["params"]), human(t["macs"]), human(t["flops"]),
                  human_bytes(t["memory_access"]), human_bytes(t["peak_activation_bytes"]),
                  f"{t['macs']:,}"):
        assert shown in totals
    assert page.title() == "TinyRes · archcost"
    # the per-layer table lists every layer
    assert page.locator("#archcost-table tbody tr").count() == len(m.analyze())
    shot = tmp_path / "single.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_hover_and_buttons_work(tiny, open_report, tmp_path):
    path = write_model_report(tiny[1], tmp_path / "shuffle.html")
    opened = open_report(path, len(SINGLE_CHARTS))
    page = opened.page
    # hovering the first bar shows its layer's name and shapes
    page.evaluate("Plotly.Fx.hover('archcost-layers', [{curveNumber: 0, pointNumber: 0}])")
    # Plotly throttles hover events, so the label may be drawn a moment later: wait for it
    page.wait_for_function(
        "document.querySelector('#archcost-layers .hoverlayer').textContent.length > 0",
        timeout=60_000)
    hover = page.evaluate(
        "document.querySelector('#archcost-layers .hoverlayer').textContent")
    assert "→" in hover and "MACs = " in hover  # shapes and the formula with numbers
    # switching the sunburst to params restyles it without errors
    before = page.evaluate("document.getElementById('archcost-hierarchy').data[0].values[0]")
    page.locator("#archcost-hierarchy .updatemenu-button").nth(1).click()
    page.wait_for_function(
        "v => document.getElementById('archcost-hierarchy').data[0].values[0] !== v",
        arg=before, timeout=60_000)
    root = page.evaluate("document.getElementById('archcost-hierarchy').data[0].values[0]")
    assert root == tiny[1].totals["params"]
    # sorting the table by MACs puts the most expensive layer last on the second click
    header = page.locator("#archcost-table thead th", has_text="macs")
    header.click()
    header.click()
    first = page.locator("#archcost-table tbody tr").first.locator("td").nth(1).inner_text()
    df = tiny[1].analyze()
    assert first == df.loc[df["macs"].idxmax(), "name"]
    assert opened.errors == []


def test_compare_report_renders(tiny, open_report, tmp_path, write_spec):
    models = [*tiny, archcost.load(write_spec(RESIDUAL, "res.yaml"), width=0.5)]
    path = write_compare_report(models, tmp_path / "compare.html")
    opened = open_report(path, len(COMPARE_CHARTS))
    assert_clean(opened, len(COMPARE_CHARTS))
    page = opened.page
    table = page.inner_text("#archcost-totals-table")
    for m in models:
        assert m.label in table
        assert human(m.totals["macs"]) in table
    assert "TinyRes (width=0.5)" in table
    shot = tmp_path / "compare.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_spec_name_cannot_inject_script(write_spec, open_report, tmp_path):
    spec = write_spec(f"""
        archcost: 1
        name: {json.dumps(EVIL)}
        description: "</script><script>document.title='pwned2'</script>"
        input: [3, 8, 8]
        params: {{note: "<svg onload=\\"document.title='pwned3'\\">"}}
        layers:
          - {{name: conv1, type: conv, out: 4, kernel: 3, padding: 1}}
          - {{name: fc_pool, type: global_avgpool}}
          - {{name: fc, type: linear, out: 2}}
    """, "evil.yaml")
    m = archcost.load(spec)
    assert m.name == EVIL
    pages = ((write_model_report(m, tmp_path / "evil.html"), len(SINGLE_CHARTS),
              f"{EVIL} · archcost"),
             (write_compare_report([m, m], tmp_path / "evilc.html"), len(COMPARE_CHARTS),
              f"{EVIL} vs {EVIL} #2 · archcost"))
    for path, charts, title in pages:
        opened = open_report(path, charts)
        page = opened.page
        page.wait_for_timeout(300)  # give a would-be onerror/onload time to fire
        assert_clean(opened, charts)
        assert page.title() == title  # untouched by onerror/onload, the name shown as text
        assert page.evaluate("document.querySelectorAll('img, svg image, main svg[onload]')"
                             ".length") == 0
        assert EVIL in page.inner_text("h1")
        # Plotly shows the name as text too (sunburst centre / scatter label), not as markup
        text = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                             ".map(d => d.textContent).join(' ')")
        assert "<img src=x" in text


def test_cdn_report_needs_the_network(tiny, open_report, tmp_path):
    """The blocking works: a CDN page gets its script request aborted and draws nothing,
    which is what makes the inline pages' clean runs above meaningful."""
    path = write_model_report(tiny[1], tmp_path / "cdn.html", plotlyjs="cdn")
    opened = open_report(path, 0)
    opened.page.wait_for_timeout(300)
    assert any("cdn.plot.ly" in url for url in opened.blocked)
    assert opened.charts() == 0


ZOO_COMPARE = ["mobilenet_v1", "mobilenet_v2", "shufflenet_v1", "shufflenet_v2"]


def test_bundled_reports_render(open_report, tmp_path):
    """ResNet-50's page and the README's four-model comparison, as users get them."""
    paths = [ROOT / "specs" / f"{n}.yaml" for n in ["resnet50", *ZOO_COMPARE]]
    single = write_model_report(archcost.load(paths[0]), tmp_path / "resnet50.html")
    assert_clean(open_report(single, len(SINGLE_CHARTS)), len(SINGLE_CHARTS))
    models = [archcost.load(p) for p in paths[1:]]
    both = write_compare_report(models, tmp_path / "mobilenet_vs_shufflenet.html")
    opened = open_report(both, len(COMPARE_CHARTS))
    assert_clean(opened, len(COMPARE_CHARTS))
    table = opened.page.inner_text("#archcost-totals-table")
    assert all(m.label in table for m in models)
    opened.page.screenshot(path=str(tmp_path / "mobilenet_vs_shufflenet.png"), full_page=True)


def test_report_with_a_device_profile_draws_the_roofline(tiny, open_report, tmp_path):
    from archcost.roofline import load_profile
    path = write_model_report(tiny[0], tmp_path / "roofline.html",
                              profile=load_profile("jetson-nano-fp32"))
    # + the roofline, time per kind, and share of MACs vs share of time
    opened = open_report(path, len(SINGLE_CHARTS) + 3)
    assert_clean(opened, len(SINGLE_CHARTS) + 3)
    cards = opened.page.inner_text("#archcost-totals")
    assert "predicted latency" in cards.lower()
    assert opened.page.locator("#archcost-roofline .main-svg").count() > 0
    assert "Roofline on" in opened.page.inner_text("body")


def test_filter_box_shows_only_matching_rows(tiny, open_report, tmp_path):
    m = tiny[1]  # the split/concat/shuffle unit
    path = write_model_report(m, tmp_path / "filter.html")
    page = open_report(path, len(SINGLE_CHARTS)).page
    rows = page.locator("#archcost-table tbody tr")
    df = m.analyze()
    names = df["name"].tolist()
    # a row matches when its name, kind or inputs contain the text (counts never do)
    wanted = [r.name for r in df.itertuples() if "shuffle" in f"{r.name} {r.kind} {r.inputs}"]
    page.fill("input.filter", "shuffle")
    visible = [r for r in range(rows.count()) if rows.nth(r).is_visible()]
    assert 0 < len(visible) == len(wanted) < len(names)
    page.fill("input.filter", "")
    assert all(rows.nth(r).is_visible() for r in range(rows.count()))


def test_compare_headline_is_consistent_with_the_totals(tiny, open_report, tmp_path):
    path = write_compare_report(tiny, tmp_path / "cmp-headline.html")
    page = open_report(path, len(COMPARE_CHARTS)).page
    text = page.inner_text("#archcost-headline")
    macs = {m.label: m.totals["macs"] for m in tiny}
    cheap = min(macs, key=macs.get)
    assert f"MACs: {cheap} is cheapest ({human(macs[cheap])})" in text


def test_every_chart_draws_as_it_is_scrolled_to(open_report, tmp_path):
    """The page draws the charts on screen first and the rest later: scroll to each one,
    top to bottom, and it is drawn (traces in the page) with no error on the way."""
    from archcost.roofline import load_profile
    m = archcost.load(ROOT / "specs" / "mobilenet_v2.yaml")
    path = write_model_report(m, tmp_path / "scroll.html",
                              profile=load_profile("jetson-nano-fp32"))
    opened = open_report(path, 0)
    page = opened.page
    divs = page.evaluate("Array.from(document.querySelectorAll('script.archcost-figure'))"
                         ".map(s => s.getAttribute('data-div'))")
    # every chart of the page, + the roofline, time by kind, and MACs vs time
    assert set(SINGLE_CHARTS) < set(divs) and len(divs) == len(SINGLE_CHARTS) + 3
    for div in divs:
        page.locator(f"#{div}").scroll_into_view_if_needed()
        page.wait_for_function(
            "id => { const d = document.getElementById(id); return d._fullData !== undefined"
            " && d._fullData.length > 0 && d.querySelector('.main-svg') !== null; }",
            arg=div, timeout=120_000)
    assert_clean(opened, len(divs))


def test_the_bundle_registers_exactly_the_trace_types_it_lists(tiny, open_report, tmp_path):
    from archcost.report.bundle import TRACES
    path = write_model_report(tiny[0], tmp_path / "traces.html")
    page = open_report(path, len(SINGLE_CHARTS)).page
    registered = page.evaluate("Object.keys(Plotly.PlotSchema.get().traces).sort()")
    assert registered == sorted(TRACES)


def test_a_browser_that_cannot_unpack_says_so(tiny, browser, tmp_path):
    """No DecompressionStream (Firefox before 113, Safari before 16.4): every chart says
    why it is missing; the rest of the page works and nothing throws."""
    path = write_model_report(tiny[0], tmp_path / "old-browser.html")
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script("delete window.DecompressionStream;")
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_function(
            "document.querySelectorAll('.archcost-nochart').length > 0", timeout=60_000)
        notes = page.locator(".archcost-nochart")
        assert notes.count() == len(SINGLE_CHARTS)
        assert "DecompressionStream" in notes.first.inner_text()
        assert errors == []
        assert page.locator("#archcost-table tbody tr").count() == len(tiny[0].analyze())
    finally:
        context.close()
