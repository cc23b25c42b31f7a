"""scripts/zoo_macs.py, an independent recomputation of the zoo's MACs, against archcost.

The script rebuilds each network from its architecture table by plain arithmetic and
imports nothing from archcost (run here with archcost made unimportable); archcost
computes the same totals from the YAML specs through its graph and costing code. The
default totals also equal the published figures tests/test_zoo.py cites (torchvision's
GFLOPS for ResNet-50, ResNeXt-50, VGG-16; Howard et al. Table 1 recomputed, ...).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import archcost
from archcost import zoo

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "zoo_macs.py"
# Run the script with 'import archcost' failing, so it cannot lean on the code it checks.
RUN = ("import runpy, sys; sys.modules['archcost'] = None; sys.argv = [sys.argv[1], '--json']; "
       "runpy.run_path(sys.argv[0], run_name='__main__')")


def recomputed() -> list[dict]:
    out = subprocess.run([sys.executable, "-c", RUN, str(SCRIPT)], capture_output=True,
                         text=True, check=True, cwd=ROOT / "scripts").stdout
    return json.loads(out)


ROWS = recomputed()


@pytest.mark.parametrize("row", ROWS, ids=[
    r["name"] + "".join(f"-{k}={v}" for k, v in r["knobs"].items()) for r in ROWS])
def test_archcost_equals_the_independent_recomputation(row: dict) -> None:
    assert archcost.load(row["name"], **row["knobs"]).totals["macs"] == row["macs"]


def test_every_zoo_network_is_recomputed_at_its_defaults() -> None:
    # A new spec in specs/ needs its table in scripts/zoo_macs.py (and docs/sources.md).
    defaults = {r["name"] for r in ROWS if not r["knobs"]}
    assert defaults == set(zoo.names())
    # The published exact figures (torchvision's meta["_ops"]; docs/sources.md).
    macs = {r["name"]: r["macs"] for r in ROWS if not r["knobs"]}
    assert macs["resnet50"] == 4_089_184_256 and macs["vgg16"] == 15_470_264_320
    assert macs["resnext50_32x4d"] == 4_230_479_872
