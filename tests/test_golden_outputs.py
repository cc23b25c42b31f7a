"""Golden snapshots of `archcost analyze` as JSON, CSV and Markdown for two small specs.

The snapshots in tests/golden/ pin the *format* (keys, column order, number
formatting, totals rows) so a refactor of the writers cannot change what users and
scripts read. The *numbers* in them are checked here against the hand arithmetic in
each spec's header (the MobileNet paper's Sec. 3.1 example; the ShuffleNet paper's
Sec. 3.2 unit cost), not against the code that wrote them.

Regenerate after an intended format change with
``.venv/bin/python -m pytest tests/test_golden_outputs.py --update-golden`` and review
the diff.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from archcost.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"

# spec -> per-layer MACs from the spec header's hand arithmetic
SPECS = {
    # MobileNet V1 Sec. 3.1: standard 128·(3·3·3)·(5·5); separable dw 675 + pw 9,600
    "standard_vs_separable": {"standard": 86_400, "separable": 675 + 9_600},
    # ShuffleNet Sec. 3.2: hw(2cm/g + 9m) = 196 · (2·480·120/3 + 9·120), the three convs
    "shufflenet_unit": {"total": 196 * (2 * 480 * 120 // 3 + 9 * 120)},
}
FORMATS = {"json": "json", "csv": "csv", "markdown": "md"}


def analyze(spec: str, fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["analyze", f"specs/examples/{spec}.yaml", "--format", fmt]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("fmt", FORMATS, ids=list(FORMATS))
@pytest.mark.parametrize("spec", SPECS, ids=list(SPECS))
def test_output_matches_the_golden_snapshot(spec, fmt, capsys, request, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = analyze(spec, fmt, capsys)
    path = GOLDEN / f"{spec}.{FORMATS[fmt]}"
    if request.config.getoption("--update-golden"):
        path.write_text(out, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; run with --update-golden"
    assert out == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("spec", SPECS, ids=list(SPECS))
def test_snapshot_numbers_are_the_hand_arithmetic(spec):
    expected = SPECS[spec]
    doc = json.loads((GOLDEN / f"{spec}.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader(io.StringIO((GOLDEN / f"{spec}.csv").read_text(encoding="utf-8"))))
    markdown = (GOLDEN / f"{spec}.md").read_text(encoding="utf-8")
    if "total" in expected:
        assert doc["totals"]["macs"] == expected["total"]
        assert sum(int(r["macs"]) for r in rows) == expected["total"]
        assert f"**{expected['total']:,}**" in markdown
        return
    by_name: dict[str, int] = {}
    for layer in doc["layers"]:  # composite rows ("separable.depthwise") roll up by prefix
        top = layer["name"].split(".")[0]
        by_name[top] = by_name.get(top, 0) + layer["macs"]
    assert {k: by_name[k] for k in expected} == expected
    assert sum(int(r["macs"]) for r in rows) == sum(expected.values()) == doc["totals"]["macs"]


@pytest.mark.parametrize("fmt", FORMATS, ids=list(FORMATS))
def test_device_output_matches_the_golden_snapshot(fmt, capsys, request, monkeypatch):
    """``--device`` adds the roofline columns; the bundled Jetson profile is fixed data."""
    monkeypatch.chdir(ROOT)
    argv = ["analyze", "specs/examples/standard_vs_separable.yaml", "--format", fmt,
            "--device", "jetson-nano-fp32"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    path = GOLDEN / f"standard_vs_separable.jetson-nano-fp32.{FORMATS[fmt]}"
    if request.config.getoption("--update-golden"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")
