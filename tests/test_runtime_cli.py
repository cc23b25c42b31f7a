"""The onnxruntime command line (docs/latency.md): calibrate/bench --runtime
onnxruntime, analyze and compare --device with a runtime profile, and their bad inputs (one line, exit 2)."""

from __future__ import annotations

import json
import sys

import pytest

pytest.importorskip("onnxruntime")

from archcost.cli import main  # noqa: E402
from tests.test_runtime import _profile, write_profile  # noqa: E402


def test_bench_a_spec_on_onnxruntime_prints_issue_13_json(capsys):
    code = main(
        [
            "bench",
            "specs/examples/shufflenet_unit.yaml",
            "--runtime",
            "onnxruntime",
            "--repeats",
            "3",
            "--format",
            "json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runtime"] == "onnxruntime" and doc["threads"] == 1 and doc["probe_s"] > 0
    covered = {name for row in doc["layers"] for name in row["covers"]}
    import archcost

    rows = archcost.load("specs/examples/shufflenet_unit.yaml").costs().rows
    assert covered == {r.name for r in rows}  # every layer is in some kernel
    heads = {row["name"]: row["covers"] for row in doc["layers"] if row["covers"]}
    assert heads["unit.gconv1"][:2] == ["unit.gconv1", "unit.bn1"]  # BN folded into the conv


def test_missing_onnxruntime_is_one_line_with_the_install_hint(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    code = main(["bench", "specs/examples/shufflenet_unit.yaml", "--runtime", "onnxruntime"])
    err = capsys.readouterr().err
    assert code == 2 and "onnxruntime is not installed" in err and "pip install" in err
    assert "Traceback" not in err


def test_interrupted_calibration_writes_nothing(monkeypatch, tmp_path):
    from archcost.runtime import calibrate as cal

    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cal, "calibrate", interrupted)
    out = tmp_path / "p.yaml"
    assert main(["calibrate", "--runtime", "onnxruntime", "-o", str(out)]) == 130
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_analyze_with_a_profile_from_another_version_warns(tmp_path, capsys):
    path = write_profile(_profile(runtime_version="0.0"), tmp_path / "old.yaml")
    assert (
        main(["analyze", "specs/mobilenet_v2.yaml", "--device", str(path), "--format", "json"]) == 0
    )
    captured = capsys.readouterr()
    assert "warning" in captured.err and "0.0" in captured.err
    doc = json.loads(captured.out)
    assert doc["totals"]["latency_s"] > 0 and "latency_s" in doc["layers"][0]


def test_compare_puts_latency_beside_macs(tmp_path, capsys):
    path = write_profile(_profile(), tmp_path / "p.yaml")
    assert (
        main(
            [
                "compare",
                "specs/mobilenet_v2.yaml",
                "specs/shufflenet_v2.yaml",
                "--device",
                str(path),
                "--format",
                "json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["latency_s_ratio"] == 1.0 and rows[1]["latency_s"] > 0
