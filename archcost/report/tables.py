"""Text forms of a cost table: pandas DataFrame, terminal, JSON, CSV, Markdown.

Every writer takes its columns from :mod:`archcost.report.columns`, the one column
model; ``analyze --device`` (:mod:`archcost.report.latency`) uses the same writers with
more columns. JSON, CSV and Markdown are strings built with the standard library, so
``archcost analyze --format json`` never imports pandas or plotly; the terminal form is
a list of rich renderables (tables from :func:`plain_table`, lines of rich markup).
Nothing here prints: the commands do (:func:`archcost.commands.output.show`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from archcost.costs import COLUMNS, CONVENTIONS, COUNT_COLUMNS, CostRow, Costs
from archcost.report.columns import (
    CSV,
    JSON,
    MARKDOWN,
    TERMINAL,
    Column,
    human_seconds,
    shape_text,
    view,
)
from archcost.report.units import human, human_bytes
from archcost.roofline import LayerEstimate

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

__all__ = ["shape_text"]  # re-exported: the shape text every table uses


def flat_row(row: CostRow, kind_key: str = "kind") -> dict[str, Any]:
    """A row with shapes and inputs as text, counts as ints (the DataFrame)."""
    return {kind_key if c.name == "kind" else c.name: c.get(row, None) for c in view(CSV)}


INT64_MAX = 2**63 - 1


def count_dtype(values: Any) -> str:
    """``int64`` when every count fits, else ``object``: exact Python ints (a network
    with 10^9 channels has MACs past 2**63; they stay exact, never wrap or fail).

    >>> count_dtype([1, 2**40]), count_dtype([1, 2**63])
    ('int64', 'object')
    """
    return "int64" if all(-INT64_MAX - 1 <= int(v) <= INT64_MAX for v in values) else "object"


def frame(costs: Costs) -> pd.DataFrame:
    """The per-layer DataFrame: one row per layer, :data:`COLUMNS`; counts int64, or
    exact Python ints (object) in a column holding a count past 2**63 - 1."""
    import pandas as pd  # pandas loads only where a DataFrame is asked for

    df = pd.DataFrame([flat_row(r) for r in costs.rows], columns=COLUMNS)
    return df.astype({c: count_dtype(df[c]) for c in COUNT_COLUMNS})


# -- the writers: any rows, any columns ----------------------------------------------
Pair = tuple[CostRow, "LayerEstimate | None"]


def pairs(costs: Costs, estimates: Sequence[LayerEstimate] | None = None) -> list[Pair]:
    """Each layer's cost row with its time estimate (None without ``--device``)."""
    if estimates is None:
        return [(r, None) for r in costs.rows]
    return list(zip(costs.rows, estimates, strict=True))


def json_document(head: dict[str, Any], rows: Sequence[Pair], columns: Sequence[Column]) -> str:
    """``head`` as JSON with a ``layers`` list, one layer per line."""
    start = json.dumps({**head, "layers": []})[: -len("[]}")]
    records = []
    for r, e in rows:
        record = {}
        for c in columns:
            value = c.json_value(r, e)
            if not (c.optional and value is None):
                record[c.field] = value
        records.append(json.dumps(record))
    return start + "[\n " + ",\n ".join(records) + "\n]}"


def csv_text(rows: Sequence[Pair], columns: Sequence[Column]) -> str:
    """One CSV line per layer, raw values, headed by the columns' fields."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.field for c in columns])
    for r, e in rows:
        writer.writerow([c.raw(c.get(r, e)) for c in columns])
    return out.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(
    rows: Sequence[Pair], columns: Sequence[Column], totals: Mapping[str, Any]
) -> list[str]:
    """A Markdown table: exact values, headers with units, a bold totals line."""
    lines = [
        "| " + " | ".join(c.header() for c in columns) + " |",
        "|" + "".join("---:|" if c.numeric else "---|" for c in columns),
    ]
    for r, e in rows:
        cells = []
        for c in columns:
            value = c.get(r, e)
            cells.append(c.exact(value) if c.numeric else _md_escape(str(value)))
        lines.append("| " + " | ".join(cells) + " |")
    total = "| **total** |"
    for c in columns[1:]:
        total += f" **{c.exact(totals[c.name])}** |" if c.name in totals else " |"
    lines.append(total)
    return lines


Justify = Literal["left", "right"]


def plain_table(
    title: str | None,
    columns: Sequence[tuple[str, Justify]],
    *,
    footers: Sequence[str] | None = None,
    wrap: Collection[str] = (),
) -> Table:
    """The one borderless table every terminal output uses: a left-aligned ``title``
    (already escaped; None for none), bold headers, ``columns`` as ``(header, justify)``
    kept on one line each except those named in ``wrap``, and with ``footers`` (one per
    column) a bold footer line."""
    from rich.table import Table  # rich loads only for terminal output (start-up time)

    table = Table(
        title=title,
        title_justify="left",
        show_footer=footers is not None,
        box=None,
        header_style="bold",
        footer_style="bold",
        pad_edge=False,
    )
    for i, (header, justify) in enumerate(columns):
        footer = footers[i] if footers is not None else ""
        table.add_column(header, justify=justify, footer=footer, no_wrap=header not in wrap)
    return table


def terminal_table(
    title: str, rows: Sequence[Pair], columns: Sequence[Column], totals: Mapping[str, Any]
) -> Table:
    """A rich table: short values, a totals footer; every cell escaped for rich markup."""
    from rich.markup import escape  # rich loads only for terminal output (start-up time)

    table = plain_table(
        title,
        [(c.header(with_unit=False), "right" if c.numeric else "left") for c in columns],
        footers=[
            "total" if i == 0 else c.short(totals[c.name]) if c.name in totals else ""
            for i, c in enumerate(columns)
        ],
    )
    for r, e in rows:
        table.add_row(
            *(c.short(c.get(r, e)) if c.numeric else escape(str(c.get(r, e))) for c in columns)
        )
    return table


# -- analyze ---------------------------------------------------------------------------
def to_json(model: Any, costs: Costs) -> str:
    """The JSON object of docs/design.md ("Machine-readable output"): name, input_shape,
    batch, dtype, knobs, totals, layers."""
    head = {
        "name": model.name,
        "input_shape": list(model.input_shape),
        "batch": costs.batch,
        "dtype": costs.dtype,
        "knobs": model.knobs,
        "totals": costs.totals,
    }
    return json_document(head, pairs(costs), view(JSON))


def to_csv(costs: Costs) -> str:
    return csv_text(pairs(costs), view(CSV))


def to_markdown(model: Any, costs: Costs) -> str:
    t = costs.totals
    lines = [
        f"# {_md_escape(model.label)}",
        "",
        f"Input {shape_text(model.input_shape)}, batch {costs.batch}, {costs.dtype}.",
        "",
        *markdown_table(pairs(costs), view(MARKDOWN), t),
        "",
        f"Peak activation memory: {t['peak_activation_bytes']:,} bytes. "
        f"Buffers (BN running stats): {t['buffers']:,}.",
        "",
        CONVENTIONS,
        "",
    ]
    return "\n".join(lines)


def to_terminal(model: Any, costs: Costs) -> list[Any]:
    """The terminal table (human units, totals) and its summary and conventions lines,
    rich renderables to print in order."""
    from rich.markup import escape  # rich loads only for terminal output (start-up time)

    t = costs.totals
    title = (
        f"{escape(model.label)} — input {shape_text(model.input_shape)}, "
        f"batch {costs.batch}, {costs.dtype}"
    )
    return [
        terminal_table(title, pairs(costs), view(TERMINAL), t),
        f"[bold]{len(costs.rows)} layers[/]: params {t['params']:,} · MACs "
        f"{t['macs']:,} · FLOPs {t['flops']:,} · memory {t['memory_access']:,} B · "
        f"peak activations {human_bytes(t['peak_activation_bytes'])}",
        f"[dim]{CONVENTIONS}[/]",
    ]


# -- compare -----------------------------------------------------------------------------
COMPARE_KEYS = ["params", "macs", "flops", "memory_access", "peak_activation_bytes"]


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def compare_json(totals: pd.DataFrame) -> str:
    """The compare totals (one object per model, ratios to the first) as JSON: counts as
    exact ints, a missing accuracy or latency as null."""
    rows = [
        {k: (int(v) if k in COMPARE_KEYS else None if _blank(v) else v) for k, v in r.items()}
        for r in totals.to_dict("records")
    ]
    return json.dumps(rows, indent=1) + "\n"


def compare_csv(totals: pd.DataFrame) -> str:
    return str(totals.to_csv(index=False, lineterminator="\n"))


def _compare_rows(totals: pd.DataFrame) -> tuple[list[str], list[dict[str, Any]], list[list[str]]]:
    """Headers, records and their cells: counts in human units with the ratio to the first
    model, then the latency (compare --device) and the top-1 (where reported)."""
    records = totals.to_dict("records")
    timed = "latency_s" in totals.columns  # compare --device
    acc = "accuracy" in totals.columns  # published top-1, where the specs report it
    head = ["model", "params", "MACs", "FLOPs", "memory", "peak act."]
    head += ["latency"] if timed else []
    head += ["top-1 %"] if acc else []
    fmts = [human, human, human, human_bytes, human_bytes]
    cells = []
    for r in records:
        row = [
            f"{f(int(r[k]))} ×{r[k + '_ratio']:.2f}"
            for k, f in zip(COMPARE_KEYS, fmts, strict=True)
        ]
        if timed:
            row.append(f"{human_seconds(r['latency_s'])} ×{r['latency_s_ratio']:.2f}")
        if acc:
            row.append("" if _blank(r["accuracy"]) else f"{r['accuracy']:.1f}")
        cells.append(row)
    return head, records, cells


def compare_markdown(totals: pd.DataFrame) -> str:
    head, records, cells = _compare_rows(totals)
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    lines += [
        "| " + " | ".join([_md_escape(str(r["model"]))] + row) + " |"
        for r, row in zip(records, cells, strict=True)
    ]
    return (
        "\n".join(lines) + f"\n\nRatios are to {_md_escape(str(records[0]['model']))}. "
        f"{CONVENTIONS}\n"
    )


def compare_terminal(totals: pd.DataFrame) -> list[Any]:
    """The compare table and its notes, rich renderables to print in order."""
    from rich.markup import escape  # rich loads only for terminal output (start-up time)

    head, records, cells = _compare_rows(totals)
    table = plain_table(
        f"ratios to {escape(str(records[0]['model']))}",
        [(head[0], "left"), *((h, "right") for h in head[1:])],
    )
    for r, row in zip(records, cells, strict=True):
        table.add_row(escape(str(r["model"])), *row)
    parts: list[Any] = [table]
    if "accuracy" in totals.columns:
        parts.append(
            "[dim]top-1 %: published ImageNet accuracy where the spec's reported: section "
            "has the setting (blank where nothing was published).[/]"
        )
    parts.append(f"[dim]{CONVENTIONS}[/]")
    return parts


COMPARE_FORMATS: dict[str, Callable[[pd.DataFrame], str | list[Any]]] = {
    "table": compare_terminal,
    "json": compare_json,
    "csv": compare_csv,
    "markdown": compare_markdown,
}
"""``archcost compare --format`` -> its formatter: text, or rich renderables."""
