"""Zoo specs built on the dense-prediction and ConvNeXt kinds, against their sources.

Every expected number is copied from the cited figure or table, or derived by hand in a
comment from the figure's printed sizes; none comes from archcost's output.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

import archcost

SPECS = Path(__file__).resolve().parent.parent / "specs"


@lru_cache(maxsize=None)
def model(name: str, **knobs) -> archcost.Model:
    return archcost.load(SPECS / f"{name}.yaml", **knobs)


def shape_of(m: archcost.Model, layer: str) -> tuple[int, ...]:
    return tuple(m.graph.nodes[layer]["output_shapes"][0].dims)


# ----------------------------------------------------------------------------- U-Net
# Ronneberger, Fischer & Brox 2015, Figure 1: the sizes printed beside every map.
UNET_FIG1 = [
    ("enc1.conv1", (64, 570, 570)), ("enc1.conv2", (64, 568, 568)),
    ("pool1", (64, 284, 284)), ("enc2.conv1", (128, 282, 282)), ("enc2.conv2", (128, 280, 280)),
    ("pool2", (128, 140, 140)), ("enc3.conv1", (256, 138, 138)), ("enc3.conv2", (256, 136, 136)),
    ("pool3", (256, 68, 68)), ("enc4.conv1", (512, 66, 66)), ("enc4.conv2", (512, 64, 64)),
    ("pool4", (512, 32, 32)), ("enc5.conv1", (1024, 30, 30)), ("enc5.conv2", (1024, 28, 28)),
    ("up4.upconv", (512, 56, 56)), ("crop4", (512, 56, 56)), ("cat4", (1024, 56, 56)),
    ("dec4.conv1", (512, 54, 54)), ("dec4.conv2", (512, 52, 52)),
    ("up3.upconv", (256, 104, 104)), ("crop3", (256, 104, 104)), ("cat3", (512, 104, 104)),
    ("dec3.conv1", (256, 102, 102)), ("dec3.conv2", (256, 100, 100)),
    ("up2.upconv", (128, 200, 200)), ("crop2", (128, 200, 200)), ("cat2", (256, 200, 200)),
    ("dec2.conv1", (128, 198, 198)), ("dec2.conv2", (128, 196, 196)),
    ("up1.upconv", (64, 392, 392)), ("crop1", (64, 392, 392)), ("cat1", (128, 392, 392)),
    ("dec1.conv1", (64, 390, 390)), ("dec1.conv2", (64, 388, 388)),
    ("head", (2, 388, 388)),
]


def test_unet_every_map_size_as_figure_1():
    m = model("unet")
    assert m.input_shape == (1, 572, 572)
    for layer, dims in UNET_FIG1:
        assert shape_of(m, layer) == dims, layer
    assert shape_of(m, m.layers[-1]) == (2, 388, 388)


# (C_in, C_out, kernel side, output side) of every conv, read off Figure 1.
UNET_CONVS = [
    (1, 64, 3, 570), (64, 64, 3, 568), (64, 128, 3, 282), (128, 128, 3, 280),
    (128, 256, 3, 138), (256, 256, 3, 136), (256, 512, 3, 66), (512, 512, 3, 64),
    (512, 1024, 3, 30), (1024, 1024, 3, 28),
    (1024, 512, 3, 54), (512, 512, 3, 52), (512, 256, 3, 102), (256, 256, 3, 100),
    (256, 128, 3, 198), (128, 128, 3, 196), (128, 64, 3, 390), (64, 64, 3, 388),
    (64, 2, 1, 388),
]
# (C_in, C_out, input side) of the four 2x2 up-convolutions.
UNET_UPCONVS = [(1024, 512, 28), (512, 256, 52), (256, 128, 100), (128, 64, 196)]


def test_unet_params_by_hand():
    """Σ C_in·C_out·k² + C_out over the 19 convs and the 4 up-convs (biases everywhere):
    18,842,048 contracting + 2,786,240 up-convs + 9,402,370 expansive convs and head
    = 31,030,658."""
    convs = sum(ci * co * k * k + co for ci, co, k, _ in UNET_CONVS)
    ups = sum(ci * co * 4 + co for ci, co, _ in UNET_UPCONVS)
    assert convs + ups == 31_030_658
    assert model("unet").totals["params"] == 31_030_658


def test_unet_macs_from_the_figure_sizes():
    """conv: C_out·C_in·k²·out²; up-conv: C_in·C_out·4·in² (every input pixel meets every
    weight). Both sums from the figure's sizes, not from archcost."""
    convs = sum(ci * co * k * k * o * o for ci, co, k, o in UNET_CONVS)
    ups = sum(ci * co * 4 * n * n for ci, co, n in UNET_UPCONVS)
    m = model("unet")
    assert m.totals["macs"] == convs + ups
    upconv_macs = sum(r.macs for r in m.costs().rows if r.kind == "transposed_conv")
    assert upconv_macs == ups


def test_unet_tile_knob():
    """Tile 16·b + 124 gives output 16·b − 60 (b = 28: 572 -> 388; b = 4: 188 -> 4)."""
    assert shape_of(model("unet", resolution=188), "head") == (2, 4, 4)
    with pytest.raises(archcost.SpecError, match="16·b \\+ 124"):
        model("unet", resolution=200)
