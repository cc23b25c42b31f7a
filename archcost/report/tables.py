"""Text forms of a cost table: pandas DataFrame, terminal, JSON, CSV, Markdown.

JSON, CSV and Markdown are written with the standard library so that
``archcost analyze --format json`` never imports pandas or plotly.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from archcost.costs import COLUMNS, CONVENTIONS, COUNT_COLUMNS, Costs, CostRow
from archcost.report.units import human, human_bytes

if TYPE_CHECKING:
    import pandas as pd


def shape_text(shape: Any) -> str:
    """``(32, 112, 112)`` -> ``32x112x112``; several shapes joined by ``; ``."""
    if shape and isinstance(shape[0], tuple | list):
        return "; ".join(shape_text(s) for s in shape)
    return "x".join(map(str, shape))


def flat_row(row: CostRow, kind_key: str = "kind") -> dict[str, Any]:
    """A row with shapes and inputs as text, counts as ints (CSV, DataFrame)."""
    return {
        "name": row.name,
        kind_key: row.kind,
        "inputs": ", ".join(row.inputs),
        "input_shapes": shape_text(row.input_shapes),
        "output_shape": shape_text(row.output_shape),
        **{c: getattr(row, c) for c in COUNT_COLUMNS},
    }


def frame(costs: Costs) -> "pd.DataFrame":
    """The per-layer DataFrame: one row per layer, :data:`COLUMNS`, int64 counts."""
    import pandas as pd

    df = pd.DataFrame([flat_row(r) for r in costs.rows], columns=COLUMNS)
    return df.astype({c: "int64" for c in COUNT_COLUMNS})


def to_json(model: Any, costs: Costs) -> str:
    """The JSON object of docs/design.md ("Machine-readable output"): name, input_shape,
    batch, dtype, knobs, totals, layers."""
    doc = {
        "name": model.name,
        "input_shape": list(model.input_shape),
        "batch": costs.batch,
        "dtype": costs.dtype,
        "knobs": model.knobs,
        "totals": costs.totals,
        "layers": [],
    }
    head = json.dumps(doc)[: -len("[]}")]
    layers = ",\n ".join(json.dumps(r.as_json()) for r in costs.rows)
    return f"{head}[\n {layers}\n]}}"


def to_csv(costs: Costs) -> str:
    out = io.StringIO()
    # The JSON and CSV schema (docs/design.md) calls the kind "type".
    writer = csv.DictWriter(out, fieldnames=["name", "type", *COLUMNS[2:]], lineterminator="\n")
    writer.writeheader()
    for row in costs.rows:
        writer.writerow(flat_row(row, "type"))
    return out.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(model: Any, costs: Costs) -> str:
    head = ["name", "kind", "output", "params", "MACs", "FLOPs", "memory (B)", "activations"]
    lines = [
        f"# {_md_escape(model.label)}",
        "",
        f"Input {shape_text(model.input_shape)}, batch {costs.batch}, {costs.dtype}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * 2 + "---|" + "---:|" * 5,
    ]
    for r in costs.rows:
        lines.append(
            f"| {_md_escape(r.name)} | {r.kind} | {shape_text(r.output_shape)} | "
            f"{r.params:,} | {r.macs:,} | {r.flops:,} | {r.memory_access:,} | "
            f"{r.activations:,} |"
        )
    t = costs.totals
    lines.append(
        f"| **total** | | | **{t['params']:,}** | **{t['macs']:,}** | **{t['flops']:,}** "
        f"| **{t['memory_access']:,}** | **{t['activations']:,}** |"
    )
    lines += [
        "",
        f"Peak activation memory: {t['peak_activation_bytes']:,} bytes. "
        f"Buffers (BN running stats): {t['buffers']:,}.",
        "",
        CONVENTIONS,
        "",
    ]
    return "\n".join(lines)


def print_table(model: Any, costs: Costs, file: Any = None) -> None:
    """A readable terminal table with human units, totals and the conventions footer."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    import sys

    tty = (file or sys.stdout).isatty()
    console = Console(file=file, highlight=False, soft_wrap=False, width=None if tty else 120)
    t = costs.totals
    title = (
        f"{escape(model.label)} — input {shape_text(model.input_shape)}, "
        f"batch {costs.batch}, {costs.dtype}"
    )
    table = Table(
        title=title,
        title_justify="left",
        show_footer=True,
        box=None,
        header_style="bold",
        footer_style="bold",
        pad_edge=False,
    )
    table.add_column("layer", footer="total", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("output", no_wrap=True)
    for label, key, fmt in (
        ("params", "params", human),
        ("MACs", "macs", human),
        ("FLOPs", "flops", human),
        ("memory", "memory_access", human_bytes),
    ):
        table.add_column(label, justify="right", footer=fmt(t[key]), no_wrap=True)
    for r in costs.rows:
        table.add_row(
            escape(r.name),
            r.kind,
            shape_text(r.output_shape),
            human(r.params),
            human(r.macs),
            human(r.flops),
            human_bytes(r.memory_access),
        )
    console.print(table)
    console.print(
        f"[bold]{len(costs.rows)} layers[/]: params {t['params']:,} · MACs "
        f"{t['macs']:,} · FLOPs {t['flops']:,} · memory {t['memory_access']:,} B · "
        f"peak activations {human_bytes(t['peak_activation_bytes'])}"
    )
    console.print(f"[dim]{CONVENTIONS}[/]")


def print_compare(totals: "pd.DataFrame", fmt: str, file: Any = None) -> None:
    """The compare totals (one row per model, ratios to the first) in ``fmt``."""
    import sys

    out = file or sys.stdout
    keys = ["params", "macs", "flops", "memory_access", "peak_activation_bytes"]
    records = totals.to_dict("records")
    if fmt == "json":
        out.write(
            json.dumps(
                [{k: (int(v) if k in keys else v) for k, v in r.items()} for r in records], indent=1
            )
            + "\n"
        )
        return
    if fmt == "csv":
        out.write(totals.to_csv(index=False, lineterminator="\n"))
        return
    head = ["model", "params", "MACs", "FLOPs", "memory", "peak act."]
    fmts = [human, human, human, human_bytes, human_bytes]

    timed = "latency_s" in totals.columns  # compare --device

    def cells(r: dict[str, Any]) -> list[str]:
        out = [f"{f(int(r[k]))} ×{r[k + '_ratio']:.2f}" for k, f in zip(keys, fmts)]
        if timed:
            from archcost.report.latency import human_seconds

            out.append(f"{human_seconds(r['latency_s'])} ×{r['latency_s_ratio']:.2f}")
        return out

    if timed:
        head.append("latency")
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        lines += [
            "| " + " | ".join([_md_escape(str(r["model"]))] + cells(r)) + " |" for r in records
        ]
        out.write(
            "\n".join(lines) + f"\n\nRatios are to {_md_escape(str(records[0]['model']))}. "
            f"{CONVENTIONS}\n"
        )
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        box=None,
        header_style="bold",
        pad_edge=False,
        title=f"ratios to {escape(str(records[0]['model']))}",
        title_justify="left",
    )
    table.add_column(head[0], no_wrap=True)
    for h in head[1:]:
        table.add_column(h, justify="right", no_wrap=True)
    for r in records:
        table.add_row(escape(str(r["model"])), *cells(r))
    tty = (file or sys.stdout).isatty()
    console = Console(file=file, highlight=False, width=None if tty else 140)
    console.print(table)
    console.print(f"[dim]{CONVENTIONS}[/]")
