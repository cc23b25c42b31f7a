"""Colours with one meaning each: layer kinds and models never share a colour, and stay
apart for people with red-green colour blindness.

Distances are CIEDE2000 (ΔE00) computed by tests/colour_math.py, an implementation
written for these tests and checked here against Sharma, Wu & Dalal's published test
pairs; colour blindness is simulated with Machado, Oliveira & Fernandes' (2009)
severity-1.0 matrices for deuteranopia and protanopia.
"""

from __future__ import annotations

import itertools

import pytest
from colour_math import ciede2000, distance, lab

from archcost.layers import REGISTRY
from archcost.layers.base import KIND_COLORS
from archcost.report.style import MODEL_COLORS, kind_color

VISIONS = (None, "deuteranopia", "protanopia")
KIND_VS_MODEL = 9.0  # ΔE00 between any kind colour and any model colour, every vision
KIND_VS_KIND = 8.0  # between two different kind colours, every vision

# Sharma, Wu & Dalal (2005), Table 1: (L, a, b) pairs and their published ΔE00
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),  # 1
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),  # 2
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),  # 3
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),  # 4
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),  # 7
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),  # 9: hue-angle wrap
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),  # 11
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),  # 17
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),  # 18
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),  # 19
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),  # 20
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),  # 25
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),  # 26
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),  # 30
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),  # 34
]


@pytest.mark.parametrize(("lab1", "lab2", "published"), SHARMA)
def test_ciede2000_matches_the_published_test_pairs(lab1, lab2, published):
    assert ciede2000(lab1, lab2) == pytest.approx(published, abs=5e-5)
    assert ciede2000(lab2, lab1) == pytest.approx(published, abs=5e-5)  # symmetric


def test_srgb_to_lab_and_the_colour_blindness_simulation():
    # sRGB red is L*a*b* (53.24, 80.09, 67.20) (IEC 61966-2-1 primaries, D65 white;
    # the value every CIELAB converter prints, e.g. Bruce Lindbloom's calculator)
    assert lab("#ff0000") == pytest.approx((53.24, 80.09, 67.20), abs=0.02)
    # Machado's matrices keep neutral greys (each row sums to 1) and merge red and green
    for vision in VISIONS[1:]:
        assert distance("#808080", "#808080", vision) == 0
        grey = lab("#808080", vision)
        assert abs(grey[1]) < 0.05 and abs(grey[2]) < 0.05
    # a classic confusion pair: far apart for normal vision, close when colour blind
    assert distance("#d62728", "#2ca02c") > 60
    assert distance("#d62728", "#2ca02c", "deuteranopia") < 0.5 * distance("#d62728", "#2ca02c")


def kind_colours() -> dict[str, str]:
    return {kind: cls.style.color for kind, cls in REGISTRY.items()}


@pytest.mark.parametrize("vision", VISIONS, ids=["normal", "deuteranopia", "protanopia"])
def test_every_kind_colour_is_far_from_every_model_colour(vision):
    close = [
        (kind, colour, model, round(distance(colour, model, vision), 1))
        for kind, colour in kind_colours().items()
        for model in MODEL_COLORS
        if distance(colour, model, vision) < KIND_VS_MODEL
    ]
    assert close == []


@pytest.mark.parametrize("vision", VISIONS, ids=["normal", "deuteranopia", "protanopia"])
def test_different_kind_colours_stay_apart(vision):
    colours = sorted(set(kind_colours().values()))
    close = [(a, b, round(distance(a, b, vision), 1))
             for a, b in itertools.combinations(colours, 2)
             if distance(a, b, vision) < KIND_VS_KIND]
    assert close == []
    assert len(set(MODEL_COLORS)) == len(MODEL_COLORS)


def test_one_source_for_each_kind_colour():
    """The reports take a kind's colour from its class's style, which takes it from the
    one palette; the conv kinds the headline compares each have their own."""
    for kind, colour in kind_colours().items():
        assert kind_color(kind) == colour
        assert colour in KIND_COLORS.values()
    convs = {kind_color(k) for k in ("conv", "pointwise_conv", "depthwise_conv",
                                     "grouped_conv", "linear")}
    assert len(convs) == 5
    assert kind_color("a_kind_nobody_defined") in KIND_COLORS.values()


def test_kinds_sharing_a_colour_differ_by_pattern_in_the_bars():
    """add, concat and channel_shuffle (all data movement) stack in one bar on a
    ShuffleNet page: each has its own hatch."""
    from archcost.report.style import kind_marker

    markers = {k: kind_marker(k) for k in ("add", "concat", "channel_shuffle")}
    assert len({m["color"] for m in markers.values()}) == 1
    shapes = [m.get("pattern", {}).get("shape", "") for m in markers.values()]
    assert len(set(shapes)) == 3
    # kinds with a colour of their own stay plain
    assert "pattern" not in kind_marker("pointwise_conv")
