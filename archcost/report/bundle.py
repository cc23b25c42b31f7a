"""Plotly's JavaScript in the pages, and how each chart gets onto the page.

The pages inline a *partial* plotly.js: only the trace types the reports draw
(:data:`TRACES`), built from plotly.js's own sources by ``scripts/plotly-bundle/build.sh``
and stored in the package, gzip-compressed, as ``vendor/plotly-archcost.min.js.gz``
(plotly.js is MIT-licensed; its licence is ``vendor/LICENSE-plotly.js.txt``). A page
carries those gzip bytes as base64 and unpacks them with the browser's
``DecompressionStream``: about 0.7 MB instead of the full 4.8 MB ``plotly.min.js``,
and a third of the JavaScript to compile. docs/reports.md ("Page weight") has the
figures and the reasons.

Charts are not drawn where they stand. Each one is a ``div`` plus its figure as JSON
(``<script type="application/json">``, which never runs); one small script draws them
once Plotly is unpacked: first the charts on screen, one per frame, then the others
one by one when the browser is idle, and at once any chart the reader scrolls to. So the
first chart appears without waiting for the ones below it, and every chart is drawn a
moment later whether or not anyone scrolls (printing and find-in-page see them all).
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.io.json import to_json_plotly

# The plotly.js release the bundle is built from, and the trace types it registers
# (scripts/plotly-bundle/entry.js; scatter comes with plotly.js's core).
VERSION = "4.1.1"
TRACES = ("bar", "box", "heatmap", "parcoords", "scatter", "sunburst")
# sha256 of the bundle's JavaScript (after gunzip), as build.sh printed it.
SHA256 = "7390f1811f16fceaa79cbb07c6822f6fe156779fc393b16118ed1cb0f5d358b7"
BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-archcost.min.js.gz"

# The element that carries the base64 bundle, and the promise of Plotly that the
# unpacking script leaves on window for the drawing script.
_PAYLOAD_ID = "archcost-plotlyjs"

# Unpack the bundle: base64 -> gzip bytes -> JavaScript, run as an inline script.
_UNPACK_JS = """
window.archcostPlotly=(function(){
  var el=document.getElementById('%(id)s');
  if(typeof DecompressionStream==='undefined'||typeof Blob.prototype.stream!=='function')
    return Promise.reject(new Error('this browser cannot unpack the charts '+
      '(it lacks DecompressionStream: Chrome/Edge 80+, Firefox 113+, Safari 16.4+ have it)'));
  var text=el.textContent,bytes;
  if(Uint8Array.fromBase64){bytes=Uint8Array.fromBase64(text);}
  else{var s=atob(text);bytes=new Uint8Array(s.length);
    for(var i=0;i<s.length;i++)bytes[i]=s.charCodeAt(i);}
  var stream=new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text().then(function(code){
    var js=document.createElement('script');js.textContent=code;
    document.head.appendChild(js);el.remove();
    return window.Plotly;});
})();
window.archcostPlotly.catch(function(){});  // the drawing script reports a failure
"""

# Draw the charts: the ones near the screen first (one per frame, so each shows as soon
# as it is drawn), then the rest one per idle moment; scrolling to a chart moves it up.
_DRAW_JS = """
(function(){
  var charts = Array.prototype.map.call(
    document.querySelectorAll('script.archcost-figure'), function(s){
      return {div: document.getElementById(s.getAttribute('data-div')), fig: s, done: false};
    });
  if (!charts.length) return;
  var ready = window.archcostPlotly || (window.Plotly ? Promise.resolve(window.Plotly) :
    Promise.reject(new Error('Plotly did not load (this page fetches it from the network)')));
  ready.then(function(Plotly){
    var busy = false, timer = null, idle = false;
    function near(c){
      var r = c.div.getBoundingClientRect(), h = window.innerHeight;
      return r.bottom > -h / 2 && r.top < h * 1.5;
    }
    // the next chart to draw: the first one near the screen, else the first one left
    function pick(){
      var later = null;
      for (var i = 0; i < charts.length; i++) {
        var c = charts[i];
        if (c.done) continue;
        if (near(c)) return [c, true];
        if (!later) later = c;
      }
      return later ? [later, false] : null;
    }
    function step(){
      timer = null;
      idle = false;
      if (busy) return;
      var p = pick();
      if (!p) return;
      var c = p[0], f = JSON.parse(c.fig.textContent);
      c.done = busy = true;
      Promise.resolve(Plotly.newPlot(c.div, f.data, f.layout, f.config)).then(
        function(){
          var after = window.archcostAfterDraw && window.archcostAfterDraw[c.div.id];
          busy = false;
          if (after) after();
          schedule();
        },
        function(e){ busy = false; console.error(e); schedule(); });
    }
    // near the screen: in the next frame, once this one is painted; else when idle
    function schedule(){
      if (timer !== null || busy) return;
      var p = pick();
      if (!p) return;
      idle = !p[1];
      if (p[1]) timer = requestAnimationFrame(function(){ timer = setTimeout(step, 0); });
      else if (window.requestIdleCallback) timer = requestIdleCallback(step, {timeout: 300});
      else timer = setTimeout(step, 50);
    }
    // scrolled to a chart still waiting for an idle moment: draw it now
    window.addEventListener('scroll', function(){
      if (!idle || busy) return;
      var p = pick();
      if (!p || !p[1]) return;
      if (window.cancelIdleCallback) cancelIdleCallback(timer);
      clearTimeout(timer);
      timer = null;
      idle = false;
      schedule();
    }, {passive: true});
    step();
  }, function(err){
    charts.forEach(function(c){
      c.div.className += ' archcost-nochart';
      c.div.textContent = 'Chart not drawn: ' + err.message + '.';
    });
  });
})();
"""

# The CSS for a chart the browser could not draw (no DecompressionStream, CDN blocked).
CSS = ".archcost-nochart{color:#a33;padding:12px;border:1px dashed #e3b4b4;border-radius:6px}\n"


@functools.cache
def bundle_gzip() -> bytes:
    """The stored bundle's bytes, gzip-compressed as they go into a page."""
    return BUNDLE.read_bytes()


def head_scripts(plotlyjs: str) -> str:
    """What ``<head>`` needs for Plotly: the packed bundle and its unpacker (``inline``),
    or a script tag for Plotly's CDN (``cdn``)."""
    config = "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
    if plotlyjs == "cdn":
        from plotly.io._utils import plotly_cdn_url  # only for plotlyjs="cdn" (private module)

        url = plotly_cdn_url().replace("&", "&amp;").replace('"', "&quot;")
        return f'{config}\n<script charset="utf-8" src="{url}"></script>'
    payload = base64.b64encode(bundle_gzip()).decode("ascii")
    return "\n".join(
        [
            config,
            f"<!-- plotly.js v{VERSION} (trace types: {', '.join(TRACES)}), MIT licence, "
            "Copyright Plotly, Inc.; gzip-compressed, base64-encoded -->",
            f'<script type="application/gzip;base64" id="{_PAYLOAD_ID}">{payload}</script>',
            f"<script>{_UNPACK_JS % {'id': _PAYLOAD_ID}}</script>",
        ]
    )


def draw_script() -> str:
    """The script at the end of ``<body>`` that draws every chart."""
    return f"<script>{_DRAW_JS}</script>"


def _css_size(value: Any, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, int | float):
        return f"{value}px"
    return str(value)


def chart_div(
    fig: go.Figure, div_id: str, config: dict[str, Any], post_script: str | None = None
) -> str:
    """A chart: its ``div`` (sized as Plotly's own HTML export sizes it) and its figure as
    JSON for the drawing script. Plotly's JSON escapes ``<``, ``>`` and ``/``, so no
    string in a figure can close the ``<script>`` element or start markup.

    ``post_script`` (archcost's own JavaScript, never text from a spec; ``{plot_id}``
    stands for the div id) runs right after the chart is drawn."""
    figure = fig.to_plotly_json()
    layout = figure.get("layout", {})
    height = _css_size(layout.get("height"), "100%")
    width = _css_size(layout.get("width"), "100%")
    jconfig = to_json_plotly({**config, "responsive": config.get("responsive", True)})
    body = (
        f'{{"data":{to_json_plotly(figure.get("data", []))},'
        f'"layout":{to_json_plotly(layout)},"config":{jconfig}}}'
    )
    after = (
        ""
        if post_script is None
        else "<script>(window.archcostAfterDraw=window.archcostAfterDraw||{})"
        f'["{div_id}"]=function(){{{post_script.replace("{plot_id}", div_id)}}};</script>'
    )
    return (
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}; width:{width};">'
        f'</div><script type="application/json" class="archcost-figure" data-div="{div_id}">'
        f"{body}</script>{after}"
    )
