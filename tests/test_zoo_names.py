"""The bundled zoo answers by name wherever a SPEC is accepted (archcost.zoo.locate).

Expected totals are the torchvision figures that tests/test_zoo.py cites for the same
networks (mobilenet_v2: 300,774,272 MACs, 3,504,872 params; mobilenet_v1: Howard et
al. Table 1 recomputed, 568,740,352 MACs; resnet50: torchvision's 4,089,184,256 MACs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcost
from archcost import zoo
from archcost.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def test_every_top_level_spec_is_a_bundled_network() -> None:
    assert zoo.names() == sorted(p.stem for p in SPECS.glob("*.yaml"))
    assert zoo.examples() == sorted(f"examples/{p.stem}" for p in SPECS.glob("examples/*.yaml"))


def test_the_package_zoo_is_the_repository_specs() -> None:
    # One copy of each YAML: archcost/zoo is specs/ (a symlink in the checkout).
    assert zoo.ZOO.resolve() == SPECS.resolve()
    assert (ROOT / "archcost" / "zoo").is_symlink()


@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v2.yaml"])
def test_a_name_loads_the_bundled_spec(name: str) -> None:
    assert zoo.locate(name).samefile(SPECS / "mobilenet_v2.yaml")
    m = archcost.load(name)
    # torchvision's mobilenet_v2: num_params 3,504,872, 300,774,272 MACs (tests/test_zoo.py).
    assert (m.totals["macs"], m.totals["params"]) == (300_774_272, 3_504_872)


def test_knobs_apply_to_a_name() -> None:
    # Howard et al. Table 6: 0.5 MobileNet-224 is 149M mult-adds, 1.3M params.
    m = archcost.load("mobilenet_v1", width=0.5)
    assert round(m.totals["macs"] / 1e6) == 149 and round(m.totals["params"] / 1e6, 1) == 1.3


def test_includes_resolve_inside_the_zoo() -> None:
    # resnet50.yaml includes blocks/resnet.yaml; loaded by name from any directory.
    # He et al. Table 1, torchvision layout: 4,089,184,256 MACs (tests/test_zoo.py).
    assert archcost.load("resnet50").totals["macs"] == 4_089_184_256


def test_worked_examples_by_name() -> None:
    # 128·27·25 = 86,400 (standard) + 3·9·25 + 128·3·25 = 10,275 (separable).
    assert archcost.load("examples/standard_vs_separable").totals["macs"] == 86_400 + 10_275


def test_an_existing_file_wins_over_the_zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    (tmp_path / "mobilenet_v2").write_text(
        "archcost: 1\nname: Mine\ninput: [3, 8, 8]\nlayers:\n"
        "  - {type: conv, out: 4, kernel: 3, bias: false}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    m = archcost.load("mobilenet_v2")
    assert m.name == "Mine" and m.totals["macs"] == 4 * 27 * 36      # C_out·C_in·k·out


def test_names_never_leave_the_zoo() -> None:
    with pytest.raises(archcost.SpecError):
        zoo.locate("../archcost/devices/jetson-nano-fp32")
    with pytest.raises(archcost.SpecError):
        zoo.locate("blocks/../../pyproject.toml")


@pytest.mark.parametrize("arg, first_line, hint", [
    ("mobilenetv2", "archcost: error: 'mobilenetv2' is neither a spec file nor a bundled "
                    "network.", "Did you mean 'mobilenet_v2'?"),
    ("shufflenet", "archcost: error: 'shufflenet' is neither a spec file nor a bundled "
                   "network.", "Did you mean 'shufflenet_v1' or 'shufflenet_v2'?"),
    ("no/such/mobilenet_v2.yaml", "archcost: error: no/such/mobilenet_v2.yaml: no such file.",
     "give its name alone: 'mobilenet_v2'"),
    ("specs/mobilenet_v9.yaml", "archcost: error: specs/mobilenet_v9.yaml: no such file.",
     "Did you mean 'mobilenet_v2'?"),
], ids=["typo", "prefix", "path-to-a-zoo-name", "path-typo"])
def test_unknown_names_get_did_you_mean(arg: str, first_line: str, hint: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", arg]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(first_line + " ") and captured.err.count("\n") == 1
    assert hint in captured.err and "Traceback" not in captured.err


def test_cli_analyze_and_compare_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)            # no specs/ here: only the package's zoo
    assert main(["analyze", "mobilenet_v2", "--format", "json"]) == 0
    # torchvision's mobilenet_v2 (tests/test_zoo.py) and Howard et al. Table 1 recomputed
    # layer by layer (docs/sources.md).
    assert json.loads(capsys.readouterr().out)["totals"]["macs"] == 300_774_272
    assert main(["compare", "mobilenet_v1", "shufflenet_v2@width=0.5", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["macs"] == 568_740_352
    # Ma et al. Table 5, 0.5x: 41M (this layout: 40.48M, see tests/test_zoo.py).
    assert 40_000_000 < rows[1]["macs"] < 41_000_000


# --------------------------------------------------------------------------------------
# archcost zoo


def test_zoo_lists_every_network_with_its_totals_and_ranges(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo", "--format", "json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert sorted(entries) == zoo.names()
    # torchvision's figures, as tests/test_zoo.py cites them.
    assert (entries["mobilenet_v2"]["macs"], entries["mobilenet_v2"]["params"]) == (
        300_774_272, 3_504_872)
    assert entries["shufflenet_v2"]["macs"] == 144_907_992
    # Howard et al. Tables 6 and 7: the widths and resolutions the paper tabulates.
    assert entries["mobilenet_v1"]["ranges"] == {"width": [0.25, 0.5, 0.75, 1.0],
                                                 "resolution": [128, 160, 192, 224]}
    assert entries["mobilenet_v1"]["knobs"] == {"width": 1.0, "resolution": 224}
    assert all(Path(e["path"]).is_file() and e["description"] for e in entries.values())
    assert main(["zoo"]) == 0
    text = capsys.readouterr().out
    assert "knobs: width 1.0 [0.25, 0.5, 0.75, 1.0]; resolution 224 [128, 160, 192, 224]" in text
    assert "300,774,272 MACs" in text and "examples/standard_vs_separable" in text


def test_zoo_name_prints_the_header_and_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo", "mobilenet_v1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MobileNet V1 — Howard et al. 2017")
    assert "Correction: Table 1 prints the penultimate depthwise layer" in out
    path = next(line.split(None, 1)[1] for line in out.splitlines() if line.startswith("path:"))
    assert Path(path).samefile(SPECS / "mobilenet_v1.yaml")
    assert main(["zoo", "resnet50"]) == 0
    assert "It includes blocks/resnet.yaml" in capsys.readouterr().out


def test_zoo_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo", "resnet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archcost: error: 'resnet' is not a bundled network.")
    assert "'resnet50'" in err


@pytest.mark.parametrize("ranges, message", [
    ("{widht: [0.5]}", "'ranges' names 'widht', which is not a param"),
    ("{width: []}", "'ranges' for 'width' must be a list of values or a sentence"),
    ("{width: {a: 1}}", "'ranges' for 'width' must be a list of values or a sentence"),
    ("[0.5, 1.0]", "'ranges' must be a mapping"),
], ids=["unknown-param", "empty", "mapping", "list"])
def test_bad_ranges_are_located(ranges: str, message: str, write_spec) -> None:
    path = write_spec(f"""
        archcost: 1
        name: net
        input: [3, 8, 8]
        params: {{width: 1.0}}
        ranges: {ranges}
        layers:
          - {{type: conv, out: 4, kernel: 3}}
        """)
    with pytest.raises(archcost.SpecError, match=message) as info:
        archcost.load(path)
    assert info.value.line == 5
