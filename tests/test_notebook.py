"""The README's Python example, run as a notebook (nbclient), shows what it promises:
exact totals, a Model, a whatif result and a comparison displayed as HTML tables, the
comparison's page written, its figures Plotly figures."""

from __future__ import annotations

import re
from pathlib import Path

import nbclient
import nbformat

import archcost
from archcost.report.units import human

ROOT = Path(__file__).resolve().parent.parent


def readme_example() -> str:
    """The first ```python block of README.md (the test follows the README)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def test_readme_example_runs_in_a_notebook_and_displays_html(tmp_path):
    source = readme_example()
    assert 'archcost.load("mobilenet_v1", width=0.5)' in source
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(source),
        nbformat.v4.new_code_cell("m.totals['macs']"),
        nbformat.v4.new_code_cell("m"),
        nbformat.v4.new_code_cell('m.whatif("pointwise-grouped:4")'),
        nbformat.v4.new_code_cell("c"),
        nbformat.v4.new_code_cell("print(type(c.figures()['kinds']).__module__, "
                                  "*sorted(c.figures()))"),
    ]
    # run in a scratch directory: the example writes reports/cmp.html where it runs
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [cell.outputs for cell in nb.cells]
    # MobileNet V1 0.5-224: 149 M mult-adds (Howard et al. 2017, Table 6); the exact
    # integer is the one the README states
    assert outputs[1][0]["data"]["text/plain"] == "149497088"
    model_html = outputs[2][0]["data"]["text/html"]
    assert "MobileNetV1 (width=0.5)" in model_html and "149,497,088" in model_html
    whatif_html = outputs[3][0]["data"]["text/html"]
    assert "whatif pointwise-grouped:4" in whatif_html and "rewritten" in whatif_html
    # the comparison: its headline (the cheapest model by MACs, the ratio recomputed here
    # from each model's own totals) above one row per model
    cmp_html = outputs[4][0]["data"]["text/html"]
    v1 = archcost.load("mobilenet_v1").totals["macs"]
    v2 = archcost.load("shufflenet_v2", width=0.5).totals["macs"]
    assert (f"MACs: ShuffleNetV2 0.5x is cheapest ({human(v2)}), {v1 / v2:.1f}× less than "
            f"MobileNetV1 ({human(v1)}).") in cmp_html
    assert cmp_html.count("<tr>") == 3  # header + two models
    assert outputs[5][0]["text"] == (
        "plotly.graph_objs._figure cumulative distributions kinds scatter stages\n")
    page = (tmp_path / "reports" / "cmp.html").read_text(encoding="utf-8")
    assert 'id="archcost-headline"' in page and "ShuffleNetV2 0.5x" in page
