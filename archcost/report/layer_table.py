"""The per-layer HTML table of the single-model page: its markup, CSS and script.

Headers and cell text come from the one column model (:mod:`archcost.report.columns`):
each header is the column's label with its unit (``memory (B)``), each numeric cell its
exact text (``4,231,976``) right-aligned, with the exact raw value in ``data-v`` so a
click on a header sorts by the number, never by the displayed text. Counts sort as
BigInt in the browser: a count past 2**53 keeps its order (a JavaScript Number would
round it).

Layout at any width: the table sits in its own scroller (``.tablewrap``, both ways),
its header row sticks to the scroller's top and the index and layer-name columns to
its left, so wide tables scroll sideways inside the section and never push the page
wider than the window. Names never break inside a word; input shapes may wrap after
an ``x`` (``32x<wbr>112x<wbr>112``), input lists after a comma, and nothing else wraps.

A filter box above the table hides the rows whose text does not contain what is
typed. The script is small, inline, plain JavaScript; every spec-supplied string is
escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archcost.report.columns import JSON, Column, human_seconds, view
from archcost.report.units import exact

if TYPE_CHECKING:
    import pandas as pd

    from archcost.profiles import LayerEstimate

HTML = JSON
"""The HTML table's columns: every column of ``archcost analyze`` (the JSON layers)."""

TABLE_ID = "archcost-table"
_WRAPPING = ("inputs", "input_shapes")  # the long cells; every other one stays on one line

TABLE_CSS = """
table{border-collapse:separate;border-spacing:0;width:100%;font-size:12.5px;
  font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
td.w{white-space:normal;overflow-wrap:normal;word-break:normal;min-width:9em}
th{position:sticky;top:0;z-index:2;background:#f3f5f8;cursor:pointer;user-select:none}
th[data-dir=asc]::after{content:" ▲";font-size:9px}
th[data-dir=desc]::after{content:" ▼";font-size:9px}
td.n,th.n{text-align:right}
.layers .idx{position:sticky;left:0;z-index:1;background:#fff;min-width:4.2em;width:4.2em}
.layers .nm{position:sticky;left:4.2em;z-index:1;background:#fff;
  box-shadow:inset -1px 0 0 var(--line)}
.layers th.idx,.layers th.nm{z-index:3;background:#f3f5f8}
tfoot td{font-weight:650;border-top:2px solid #c9ced8;position:sticky;bottom:0;background:#fff}
.tablewrap{max-height:640px;max-width:100%;overflow:auto;margin-bottom:10px}
input.filter{font:inherit;padding:4px 8px;margin:2px 0 8px;width:22em;max-width:100%;
  border:1px solid var(--line);border-radius:6px}
.shown{color:var(--muted);font-size:12px;margin-left:8px}
"""

TABLE_JS = """
// A table box may skip layout while off the screen (content-visibility: auto, for a
// faster first chart); near the screen it turns ordinary for good, because inside such
// a box Chromium's hit test misses the sticky header (a click to sort hit the scroller).
document.querySelectorAll('.tablewrap').forEach(function(w){
  function live(){w.style.contentVisibility='visible';w.setAttribute('data-live','');}
  if(!('IntersectionObserver' in window)){live();return;}
  new IntersectionObserver(function(es,o){
    if(es.some(function(e){return e.isIntersecting;})){live();o.disconnect();}
  },{rootMargin:'200px'}).observe(w);
});
// Type in a filter box to show only the rows whose text contains it.
document.querySelectorAll('input.filter').forEach(function(box){
  var t=document.getElementById(box.getAttribute('data-table'));
  var shown=document.getElementById(box.getAttribute('data-table')+'-shown');
  box.addEventListener('input',function(){
    var q=box.value.toLowerCase(),n=0,rows=t.tBodies[0].rows;
    Array.prototype.forEach.call(rows,function(r){
      var hit=r.textContent.toLowerCase().indexOf(q)>=0;
      r.style.display=hit?'':'none';if(hit){n++;}});
    if(shown){shown.textContent=q?n+' of '+rows.length+' layers':'';}
  });
});
// Click a header to sort by its column: data-v holds the exact value (integers compare
// as BigInt, so counts past 2**53 keep their order), text compares as text.
var INT=/^-?[0-9]+$/;
function archcostCompare(x,y){
  if(INT.test(x)&&INT.test(y)){var a=BigInt(x),b=BigInt(y);return a<b?-1:a>b?1:0;}
  return Number(x)-Number(y);
}
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('thead th').forEach(function(th,col){
    th.setAttribute('tabindex','0');
    function sort(){
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      var asc=th.getAttribute('data-dir')!=='asc';
      t.querySelectorAll('thead th').forEach(function(h){
        h.removeAttribute('data-dir');h.removeAttribute('aria-sort');});
      th.setAttribute('data-dir',asc?'asc':'desc');
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      rows.sort(function(a,b){
        var x=a.cells[col].getAttribute('data-v'),y=b.cells[col].getAttribute('data-v');
        var r=(x!==null&&y!==null)?archcostCompare(x,y):
              a.cells[col].textContent.localeCompare(b.cells[col].textContent);
        return asc?r:-r;});
      rows.forEach(function(r){body.appendChild(r);});
    }
    th.addEventListener('click',sort);
    th.addEventListener('keydown',function(e){if(e.key==='Enter'){sort();}});
  });
});
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _shape_cell(text: str) -> str:
    """A shape's text that may wrap after each ``x`` and ``;`` (never inside a number)."""
    return esc(text).replace("x", "x<wbr>").replace("; ", ";<wbr> ")


def _head(col: Column) -> str:
    cls = ' class="n"' if col.numeric else ' class="nm"' if col.name == "name" else ""
    return f"<th{cls}>{esc(col.header())}</th>"


def _cell(col: Column, value: Any) -> str:
    if col.numeric:
        return f'<td class="n" data-v="{int(value)}">{col.exact(value)}</td>'
    text = str(value)
    if col.name == "name":
        return f'<td class="nm">{esc(text)}</td>'
    if col.name == "input_shapes":
        return f'<td class="w">{_shape_cell(text)}</td>'
    if col.name in _WRAPPING:
        return f'<td class="w">{esc(text)}</td>'
    return f"<td>{esc(text)}</td>"


def layer_table(
    df: pd.DataFrame,
    times: Mapping[str, LayerEstimate] | None = None,
    columns: Sequence[str] = HTML,
) -> str:
    """The filter box and the per-layer table of ``df`` (one row per layer, the
    columns named in ``columns``) with a totals row (the sums of the rows shown);
    ``times`` (layer name -> estimate, ``analyze --device``) adds the estimated time
    and what bounds it."""
    cols = view(columns)
    head = '<th class="n idx">#</th>' + "".join(_head(c) for c in cols)
    if times is not None:
        head += _head(view(("estimated_s",))[0]) + _head(view(("bound",))[0])
    rows = []
    for i, row in enumerate(df[list(columns)].itertuples(index=False, name=None)):
        cells = [f'<td class="n idx" data-v="{i}">{i}</td>']
        cells += [_cell(c, v) for c, v in zip(cols, row, strict=True)]
        if times is not None:
            e = times.get(str(row[0]))
            cells.append(
                f'<td class="n" data-v="{e.seconds if e else 0!r}">'
                f"{human_seconds(e.seconds) if e else ''}</td>"
                f"<td>{esc(e.bound if e else '')}"
                + (f" → {esc(e.fused_into)}" if e and e.fused_into else "")
                + "</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = ['<td class="idx"></td><td class="nm">total</td>']
    for c in cols[1:]:
        if c.numeric and c.name in df:
            foot.append(f'<td class="n">{exact(int(df[c.name].sum()))}</td>')
        else:
            foot.append("<td></td>")
    if times is not None:
        total_s = sum(e.seconds for e in times.values())
        foot.append(f'<td class="n">{human_seconds(total_s)}</td><td></td>')
    return (
        f'<input type="search" class="filter" data-table="{TABLE_ID}" '
        'placeholder="Filter layers by name, kind or shape" aria-label="Filter layers">'
        f'<span class="shown" id="{TABLE_ID}-shown" aria-live="polite"></span>'
        f'<div class="tablewrap"><table class="sortable layers" id="{TABLE_ID}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f"<tfoot><tr>{''.join(foot)}</tr></tfoot></table></div>"
    )
