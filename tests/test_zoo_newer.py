"""The newer zoo specs (U-Net, MobileNetV3, EfficientNet, ConvNeXt) against their sources.

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
    return tuple(m.nodes[layer].output_shapes[0].dims)


# ----------------------------------------------------------------------------- U-Net
# Ronneberger, Fischer & Brox 2015, Figure 1: the sizes printed beside every map.
UNET_FIG1 = [
    ("enc1.conv1", (64, 570, 570)), ("enc1.conv2", (64, 568, 568)),
    ("enc2.pool", (64, 284, 284)), ("enc2.conv1", (128, 282, 282)), ("enc2.conv2", (128, 280, 280)),
    ("enc3.pool", (128, 140, 140)), ("enc3.conv1", (256, 138, 138)),
    ("enc3.conv2", (256, 136, 136)),
    ("enc4.pool", (256, 68, 68)), ("enc4.conv1", (512, 66, 66)), ("enc4.conv2", (512, 64, 64)),
    ("bottom.pool", (512, 32, 32)), ("bottom.conv1", (1024, 30, 30)),
    ("bottom.conv2", (1024, 28, 28)),
    ("dec4.upconv", (512, 56, 56)), ("dec4.crop", (512, 56, 56)), ("dec4.cat", (1024, 56, 56)),
    ("dec4.conv1", (512, 54, 54)), ("dec4.conv2", (512, 52, 52)),
    ("dec3.upconv", (256, 104, 104)), ("dec3.crop", (256, 104, 104)),
    ("dec3.cat", (512, 104, 104)), ("dec3.conv1", (256, 102, 102)),
    ("dec3.conv2", (256, 100, 100)),
    ("dec2.upconv", (128, 200, 200)), ("dec2.crop", (128, 200, 200)),
    ("dec2.cat", (256, 200, 200)), ("dec2.conv1", (128, 198, 198)),
    ("dec2.conv2", (128, 196, 196)),
    ("dec1.upconv", (64, 392, 392)), ("dec1.crop", (64, 392, 392)), ("dec1.cat", (128, 392, 392)),
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


def test_unet_stages_read_like_the_figure():
    """The report's stages (the first name component): the figure's four contracting
    steps, the bottom, the four expansive steps and the 1x1 head."""
    from archcost.report.figures import stage_labels
    stages = list(dict.fromkeys(stage_labels(model("unet").layers)))
    assert stages == ["enc1", "enc2", "enc3", "enc4", "bottom", "dec4", "dec3", "dec2",
                      "dec1", "head"]


def test_unet_tile_knob():
    """Tile 16·b + 124 gives output 16·b − 60 (b = 28: 572 -> 388; b = 4: 188 -> 4)."""
    assert shape_of(model("unet", resolution=188), "head") == (2, 4, 4)
    with pytest.raises(archcost.SpecError, match="16·b \\+ 124"):
        model("unet", resolution=200)


def macs(name: str, **knobs) -> int:
    return model(name, **knobs).totals["macs"]


def params(name: str, **knobs) -> int:
    return model(name, **knobs).totals["params"]


def kind_of(m: archcost.Model, layer: str) -> str:
    return m.nodes[layer].kind


# ----------------------------------------------------------------------- MobileNetV3
# torchvision's MobileNet_V3_{Large,Small}_Weights meta: num_params 5,483,032 and
# 2,542,856; "_ops" (GFLOPS, i.e. G multiply-accumulates) 0.217 and 0.057.
# Howard et al. 2019, Table 3: Large 1.0 219M MAdds, 5.4M params; Small 1.0 56M, 2.5M.

@pytest.mark.parametrize("name,want_params,tv_gmacs,paper_mmacs", [
    ("mobilenet_v3_large", 5_483_032, 0.217, 219),
    ("mobilenet_v3_small", 2_542_856, 0.057, 56),
])
def test_mobilenet_v3_torchvision_and_paper(name, want_params, tv_gmacs, paper_mmacs):
    assert params(name) == want_params
    assert round(macs(name) / 1e9, 3) == tv_gmacs
    # The paper's MAdds differ from torchvision's layout by under 1.5%.
    assert abs(macs(name) / 1e6 - paper_mmacs) / paper_mmacs < 0.015


# Table 1 (Large) and Table 2 (Small): per bneck row, the NL column and the SE column.
MNV3_ROWS = {
    "mobilenet_v3_large": (["relu"] * 6 + ["hswish"] * 9,
                           [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
    "mobilenet_v3_small": (["relu"] * 3 + ["hswish"] * 8,
                           [1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]),
}


@pytest.mark.parametrize("name", MNV3_ROWS)
def test_mobilenet_v3_nonlinearity_and_se_per_row(name):
    m = model(name)
    acts, ses = MNV3_ROWS[name]
    for i, (act, se) in enumerate(zip(acts, ses), start=1):
        assert kind_of(m, f"bneck{i}.dwise_act") == act, i
        assert (f"bneck{i}.se.gate" in m.nodes) == bool(se), i


def test_mobilenet_v3_width_rounds_like_torchvision():
    """width 0.75, by hand with _make_divisible(c·0.75, 8): stem 12 -> 16; row 13's
    expansion 672·0.75 = 504; its output 160·0.75 = 120; head 6·120 = 720; fc1
    1280·0.75 = 960; its SE squeeze make_divisible(504 / 4 = 126, 8) = 128."""
    m = model("mobilenet_v3_large", width=0.75)
    assert shape_of(m, "stem")[0] == 16
    assert shape_of(m, "bneck13.expand")[0] == 504
    assert shape_of(m, "bneck13.project")[0] == 120
    assert shape_of(m, "bneck13.se.fc1")[0] == 128
    assert shape_of(m, "head")[0] == 720
    assert shape_of(m, "fc1") == (960,)


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_mobilenet_v3_resolution_scales_spatial_convs(name):
    """Convs over a map scale by (r/224)² when r is a multiple of 32; the SE 1x1 convs
    (on pooled 1x1 maps) and the linear layers do not."""
    def spatial(r):
        m = model(name, resolution=r)
        return sum(row.macs for row in m.costs().rows
                   if row.kind != "linear" and ".se." not in row.name)
    assert spatial(160) * 224 ** 2 == spatial(224) * 160 ** 2


# ---------------------------------------------------------------------- EfficientNet
# torchvision's EfficientNet_B{0..7}_Weights meta (num_params, "_ops" in G MACs, at the
# weights' crop size: B2's is 288) and Tan & Le 2019 Sec. 3.3 / Table 2 coefficients.
EFFICIENTNET = [
    ("B0", 1.0, 1.0, 224, 5_288_548, 0.386),
    ("B1", 1.0, 1.1, 240, 7_794_184, 0.687),
    ("B2", 1.1, 1.2, 288, 9_109_994, 1.088),
    ("B3", 1.2, 1.4, 300, 12_233_232, 1.827),
    ("B4", 1.4, 1.8, 380, 19_341_616, 4.394),
    ("B5", 1.6, 2.2, 456, 30_389_784, 10.266),
    ("B6", 1.8, 2.6, 528, 43_040_704, 19.068),
    ("B7", 2.0, 3.1, 600, 66_347_960, 37.746),
]


@pytest.mark.parametrize("variant,width,depth,resolution,want_params,tv_gmacs", EFFICIENTNET,
                         ids=[e[0] for e in EFFICIENTNET])
def test_efficientnet_b0_to_b7_are_settings(variant, width, depth, resolution, want_params,
                                            tv_gmacs):
    knobs = dict(width=width, depth=depth, resolution=resolution)
    assert params("efficientnet", **knobs) == want_params
    assert round(macs("efficientnet", **knobs) / 1e9, 3) == tv_gmacs


def test_efficientnet_defaults_are_b0_and_paper_table2():
    """Tan & Le Table 2: B0 0.39B FLOPS (multiply-adds), 5.3M params."""
    assert round(macs("efficientnet") / 1e9, 2) == 0.39
    assert round(params("efficientnet") / 1e6, 1) == 5.3


def test_efficientnet_repeats_round_up():
    """B7 (depth 3.1), by hand: ceil(1·3.1) = 4, ceil(2·3.1) = 7, 7, ceil(3·3.1) = 10, 10,
    ceil(4·3.1) = 13, 4 blocks in stages 2..8."""
    m = model("efficientnet", width=2.0, depth=3.1, resolution=600)
    counts = [sum(1 for n in m.layers if n.startswith(f"stage{s}.") and n.endswith(".dwise"))
              for s in range(2, 9)]
    assert counts == [4, 7, 7, 10, 10, 13, 4]
    # width 2.0: stage 8's 320 -> 640 channels, head 4·640 = 2560
    assert shape_of(m, "head")[0] == 2560


# -------------------------------------------------------------------------- ConvNeXt
# torchvision's ConvNeXt_Tiny_Weights meta: num_params 28,589,128, "_ops" 4.456;
# Liu et al. 2022 Table 1 / 9: ConvNeXt-T 28M params, 4.5G FLOPs (multiply-adds).

def test_convnext_tiny_torchvision_and_paper():
    assert params("convnext_tiny") == 28_589_128
    assert round(macs("convnext_tiny") / 1e9, 3) == 4.456
    assert round(macs("convnext_tiny") / 1e9, 1) == 4.5


def test_convnext_tiny_stages():
    """Sec. 2 / Table 9: C = (96, 192, 384, 768) at 56², 28², 14², 7²; B = (3, 3, 9, 3);
    the MLP of each block widens 4x."""
    m = model("convnext_tiny")
    assert shape_of(m, "stage1.block3.add") == (96, 56, 56)
    assert shape_of(m, "stage2.block3.add") == (192, 28, 28)
    assert shape_of(m, "stage3.block9.add") == (384, 14, 14)
    assert shape_of(m, "stage4.block3.add") == (768, 7, 7)
    assert shape_of(m, "stage3.block1.pwconv1") == (1536, 14, 14)
    assert "stage3.block10.add" not in m.nodes
    # layer norm: 2C params; layer scale: C params
    rows = {r.name: r for r in m.costs().rows}
    assert rows["stage4.block1.norm"].params == 2 * 768
    assert rows["stage4.block1.layer_scale"].params == 768


# ------------------------------------------------------------------ worked examples
EXAMPLES = SPECS / "examples"


def test_example_transposed_vs_resize_conv():
    """The header's hand arithmetic: deconv 16·8·9·16 = 18,432 MACs; resize 0; conv after
    resize 8·(9·16)·64 = 73,728 (4x); both 8x8x8 with 8·16·9 + 8 = 1,160 params."""
    m = archcost.load(EXAMPLES / "transposed_vs_resize_conv.yaml")
    rows = {r.name: r for r in m.costs().rows}
    assert (rows["deconv"].macs, rows["resize"].macs, rows["resize_conv"].macs) == \
        (18_432, 0, 73_728)
    assert rows["deconv"].params == rows["resize_conv"].params == 1_160
    assert shape_of(m, "deconv") == shape_of(m, "resize_conv") == (8, 8, 8)


def test_example_convnext_block():
    """The header's sums: params 4,800 + 192 + 37,248 + 36,960 + 96 = 79,296; MACs
    14,751,744 + 2·115,605,504 = 245,962,752; layer norm 7·301,056 + 4·3,136 FLOPs."""
    m = archcost.load(EXAMPLES / "convnext_block.yaml")
    assert m.totals["params"] == 79_296
    assert m.totals["macs"] == 245_962_752
    rows = {r.name: r for r in m.costs().rows}
    assert rows["norm"].flops == 2_119_936
    assert rows["act"].flops == 6_021_120


def test_explain_shows_the_transposed_conv_formula(capsys):
    from archcost.cli import main
    assert main(["explain", str(EXAMPLES / "transposed_vs_resize_conv.yaml"), "deconv"]) == 0
    out = capsys.readouterr().out
    assert "C_in·(C_out/g)·k·in = 16·8·(3·3)·(4·4) = 18,432" in out
    assert "(n − 1)·s − 2p + d·(k − 1) + output_padding + 1" in out
    assert "(4 − 1)·2 − 2 + 1·(3 − 1) + 1 + 1 = 8" in out


def test_whatif_on_unet_keeps_the_new_kinds():
    """Rewriting U-Net's 3x3 convs as separable leaves the up-convolutions, crops and
    concats as they were: the flat spec round-trips every new kind's fields."""
    m = model("unet", resolution=188)
    result = m.whatif("separable")
    before = {r.name: r for r in m.costs().rows}
    after = {r.name: r for r in result.after.costs().rows}
    for name in ("dec4.upconv", "dec1.upconv", "dec1.crop", "dec1.cat"):
        assert after[name].kind == before[name].kind
        assert after[name].macs == before[name].macs
        assert after[name].params == before[name].params
    assert shape_of(result.after, "head") == (2, 4, 4)
    # the first 3x3 conv, 1 -> 64 at 186², becomes 1·9·186² + 64·1·186² MACs
    assert after["enc1.conv1.dw"].macs + after["enc1.conv1.pw"].macs == (9 + 64) * 186 ** 2


def test_whatif_resize_conv_on_unet():
    """Each 2x2 stride-2 up-conv becomes resize x2 + a 2x2 conv padded [0, 1] per dim:
    C_out·C_in·4·(2n)² = 4x the up-conv's C_in·C_out·4·n² MACs, the same params."""
    m = model("unet")
    result = m.whatif("resize-conv")
    after = {r.name: r for r in result.after.costs().rows}
    for name, (c_in, c_out, n) in zip(("dec4", "dec3", "dec2", "dec1"), UNET_UPCONVS):
        assert after[f"{name}.upconv.conv"].macs == c_out * c_in * 4 * (2 * n) ** 2
        assert after[f"{name}.upconv.conv"].params == c_in * c_out * 4 + c_out
        assert after[f"{name}.upconv.resize"].macs == 0
    assert shape_of(result.after, "head") == (2, 388, 388)
