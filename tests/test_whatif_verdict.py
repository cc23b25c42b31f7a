"""whatif's totals lines: an unchanged count says so, never "-0.0% less"."""

from __future__ import annotations

import pytest

from archcost.cli import main


def test_unchanged_total_reads_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    # The example's header: the 3x3 transposed conv and the nearest-resize + 3x3 conv
    # that replaces it both hold 16*8*(3*3) + 8 = 1,160 params, so params stay equal,
    # while the conv's MACs run over every output position and grow.
    assert main(["whatif", "examples/transposed_vs_resize_conv", "--rewrite", "resize-conv"]) == 0
    out = capsys.readouterr().out.splitlines()
    lines = {ln.split(":")[0].strip(): ln for ln in out if ":" in ln}
    assert lines["params"].endswith("unchanged)"), lines["params"]
    assert "-0.0%" not in lines["params"]
    assert lines["MACs"].endswith("% more)"), lines["MACs"]
