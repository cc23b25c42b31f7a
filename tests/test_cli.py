"""The command line in-process: every output format carries the same exact numbers."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import archcost
from archcost.cli import main

ROOT = Path(__file__).resolve().parent.parent
MOBILENET = str(ROOT / "specs" / "mobilenet_v1.yaml")
TOTAL_KEYS = {"params", "macs", "flops", "memory_access", "activations", "peak_activation_bytes"}
LAYER_KEYS = {"name", "type", "inputs", "input_shapes", "output_shape", "params", "macs",
              "flops", "memory_access", "activations"}


def run(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_json_follows_the_design_schema(capsys):
    doc = json.loads(run(capsys, "analyze", MOBILENET, "--format", "json", "--set", "width=0.5"))
    assert doc["name"] == "MobileNetV1" and doc["input_shape"] == [3, 224, 224]
    assert doc["batch"] == 1 and doc["dtype"] == "float32"
    assert TOTAL_KEYS <= set(doc["totals"])
    assert all(LAYER_KEYS <= set(layer) for layer in doc["layers"])
    assert all(type(v) is int for v in doc["totals"].values())
    first = doc["layers"][0]
    assert first == {**first, "name": "conv1", "type": "conv", "inputs": ["input"],
                     "input_shapes": [[3, 224, 224]], "output_shape": [16, 112, 112]}
    for key in TOTAL_KEYS - {"peak_activation_bytes"}:
        assert sum(layer[key] for layer in doc["layers"]) == doc["totals"][key]
    assert doc["totals"] == {k: v for k, v in archcost.load(MOBILENET, width=0.5).totals.items()
                             if k in doc["totals"]}


def test_csv_markdown_dataframe_carry_the_json_numbers(capsys):
    doc = json.loads(run(capsys, "analyze", MOBILENET, "--format", "json"))
    rows = list(csv.DictReader(io.StringIO(run(capsys, "analyze", MOBILENET, "--format", "csv"))))
    assert [r["name"] for r in rows] == [layer["name"] for layer in doc["layers"]]
    for row, layer in zip(rows, doc["layers"]):
        assert row["type"] == layer["type"]
        assert all(int(row[k]) == layer[k] for k in ("params", "macs", "flops", "memory_access"))
    md = run(capsys, "analyze", MOBILENET, "--format", "markdown")
    assert f"**{doc['totals']['macs']:,}**" in md and f"**{doc['totals']['params']:,}**" in md
    df = archcost.load(MOBILENET).analyze()
    assert list(df["macs"]) == [layer["macs"] for layer in doc["layers"]]
    assert str(df["macs"].dtype) == "int64"
    assert int(df["params"].sum()) == doc["totals"]["params"]


def test_table_has_totals_and_conventions(capsys):
    out = run(capsys, "analyze", MOBILENET)
    assert "568.7M" in out and "4.2M" in out          # human units
    assert "total" in out and "multiply-accumulates" in out
    assert "dw_separable13.pw" in out


def test_batch_and_dtype_on_the_command_line(capsys):
    one = json.loads(run(capsys, "analyze", MOBILENET, "--format", "json"))["totals"]
    many = json.loads(run(capsys, "analyze", MOBILENET, "--format", "json", "--batch", "4",
                          "--dtype", "float16"))["totals"]
    assert many["macs"] == 4 * one["macs"] and many["params"] == one["params"]
    assert many["peak_activation_bytes"] == 2 * one["peak_activation_bytes"]


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "table"])
def test_compare_rows_equal_each_models_totals(capsys, fmt):
    specs = [MOBILENET, MOBILENET + "@width=0.5", str(ROOT / "specs" / "shufflenet_v2.yaml")]
    out = run(capsys, "compare", *specs, "--format", fmt)
    expected = [archcost.load(MOBILENET).totals, archcost.load(MOBILENET, width=0.5).totals,
                archcost.load(specs[2]).totals]
    if fmt == "json":
        got = json.loads(out)
        assert [r["macs"] for r in got] == [t["macs"] for t in expected]
        assert got[1]["macs_ratio"] == pytest.approx(expected[1]["macs"] / expected[0]["macs"])
    elif fmt == "csv":
        got = list(csv.DictReader(io.StringIO(out)))
        assert [int(r["params"]) for r in got] == [t["params"] for t in expected]
    else:
        assert "MobileNetV1 (width=0.5)" in out and "ShuffleNetV2" in out


#: Optional or heavy packages that load lazily, only on the paths that need them (start-up time).
HEAVY = ("pandas", "plotly", "dask", "distributed", "onnx", "onnxruntime", "torch")


def test_import_archcost_loads_no_heavy_package():
    # The lazy imports (each commented in archcost/) keep these off `import archcost`.
    code = f"import sys, archcost\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_python_dash_m_and_json_path_imports_neither_pandas_nor_plotly():
    code = ("import sys, io, contextlib\n"
            "from archcost.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['analyze', {MOBILENET!r}, '--format', 'json']) == 0\n"
            f"print(','.join(m for m in {HEAVY + ('rich',)!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    ran = subprocess.run([sys.executable, "-m", "archcost", "analyze", MOBILENET, "--format", "json"],
                         capture_output=True, text=True, check=True)
    # Howard et al. Table 1 recomputed layer by layer (docs/sources.md §1): 568,740,352.
    assert json.loads(ran.stdout)["totals"]["macs"] == 568_740_352


@pytest.mark.parametrize("command", ["analyze", "compare", "explain", "whatif", "validate",
                                     "calibrate", "bench"])
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: archcost " + command in capsys.readouterr().out


def test_html_is_written_only_on_success(tmp_path, capsys):
    path = tmp_path / "r" / "m.html"
    assert main(["analyze", MOBILENET, "--set", "width=0.25", "--format", "json",
                 "--html", str(path)]) == 0
    assert path.exists() and path.stat().st_size > 100_000
    assert not list(path.parent.glob(".*.tmp"))
