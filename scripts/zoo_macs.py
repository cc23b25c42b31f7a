#!/usr/bin/env python3
"""Recompute the zoo's MAC totals from the architecture tables, without archcost.

Plain arithmetic over each network's published layer table (docs/sources.md names the
table and the layout choices), independent of archcost's specs, graph and counting
code: this file imports nothing from archcost. tests/test_zoo_macs.py runs it and
compares every number with what archcost computes from the YAML specs.

Convention (the papers' "mult-adds"): a conv costs C_out·(C_in/groups)·k_h·k_w·H_out·W_out
multiply-accumulates, a fully connected layer in·out; everything else costs 0.

Covered: every bundled network at its defaults, and knob settings that move channel
rounding, repeats, groups and map sizes (SETTINGS).

Usage: scripts/zoo_macs.py [--json]
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable


def conv(c_in: int, c_out: int, k: int, out: int, groups: int = 1) -> int:
    """A k x k conv producing an out x out map."""
    return c_out * (c_in // groups) * k * k * out * out


def fc(n_in: int, n_out: int) -> int:
    return n_in * n_out


def down(n: int, k: int, s: int, p: int) -> int:
    """Output size of a conv or pool: floor((n + 2p - k) / s) + 1."""
    return (n + 2 * p - k) // s + 1


def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's _make_divisible: nearest multiple of 8, never 10% below v."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


# --------------------------------------------------------------------------------------
# MobileNet V1, Howard et al. 2017 Table 1 (penultimate dw at stride 1), TF-slim's
# depth(c) = max(int(c·width), 8).


def mobilenet_v1(width: float = 1.0, resolution: int = 224) -> int:
    def d(c: int) -> int:
        return max(int(c * width), 8)

    # (stride of the depthwise conv, output channels of the pointwise conv)
    rows = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)]
    rows += [(1, 512)] * 5 + [(2, 1024), (1, 1024)]
    n = -(-resolution // 2)  # 3x3 stride 2 padding 1
    total = conv(3, d(32), 3, n)
    c = d(32)
    for stride, out in rows:
        n = -(-n // stride)
        total += conv(c, c, 3, n, groups=c) + conv(c, d(out), 1, n)
        c = d(out)
    return total + fc(c, 1000)


# --------------------------------------------------------------------------------------
# MobileNet V2, Sandler et al. 2018 Table 2, torchvision's layout: make_divisible(c·width)
# channels, no expansion conv in the t = 1 bottleneck, last conv 1280·max(1, width).


def mobilenet_v2(width: float = 1.0, resolution: int = 224) -> int:
    rows = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]       # t, c, n, s
    n = -(-resolution // 2)
    c = make_divisible(32 * width)
    total = conv(3, c, 3, n)
    for t, out, repeats, stride in rows:
        out = make_divisible(out * width)
        for i in range(repeats):
            s = stride if i == 0 else 1
            hidden = c * t
            if t != 1:
                total += conv(c, hidden, 1, n)
            n = -(-n // s)
            total += conv(hidden, hidden, 3, n, groups=hidden) + conv(hidden, out, 1, n)
            c = out
    last = make_divisible(1280 * max(1.0, width))
    return total + conv(c, last, 1, n) + fc(last, 1000)


# --------------------------------------------------------------------------------------
# ShuffleNet V1, Zhang et al. 2017 Table 1 and Sec. 3.2, Megvii's official code: mid =
# out/4; a stride-2 unit's branch ends with out - in channels (concat with the pooled
# input); no group conv on the first pointwise layer of Stage 2's first unit. FC counted.


def shufflenet_v1(groups: int = 3, resolution: int = 224) -> int:
    stage2 = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}[groups]
    n = -(-resolution // 2)                  # conv1 3x3 stride 2
    total = conv(3, 24, 3, n)
    n = -(-n // 2)                           # max pool 3x3 stride 2
    c = 24
    for stage, (out, units) in enumerate([(stage2, 4), (2 * stage2, 8), (4 * stage2, 4)]):
        for i in range(units):
            mid = out // 4
            g1 = 1 if stage == 0 and i == 0 else groups
            total += conv(c, mid, 1, n, groups=g1)
            if i == 0:
                n = -(-n // 2)
                total += conv(mid, mid, 3, n, groups=mid) + conv(mid, out - c, 1, n, groups=groups)
            else:
                total += conv(mid, mid, 3, n, groups=mid) + conv(mid, out, 1, n, groups=groups)
            c = out
    return total + fc(c, 1000)


# --------------------------------------------------------------------------------------
# ShuffleNet V2, Ma et al. 2018 Table 5 (1x: 116 / 232 / 464, conv5 1024), torchvision's
# down-sampling unit (both branches end with out/2 channels).


def shufflenet_v2(resolution: int = 224) -> int:
    n = -(-resolution // 2)
    total = conv(3, 24, 3, n)
    n = -(-n // 2)
    c = 24
    for out, units in [(116, 4), (232, 8), (464, 4)]:
        half = out // 2
        m = -(-n // 2)
        # left: 3x3/2 dw, 1x1 in -> out/2; right: 1x1 in -> out/2, 3x3/2 dw, 1x1
        total += conv(c, c, 3, m, groups=c) + conv(c, half, 1, m)
        total += conv(c, half, 1, n) + conv(half, half, 3, m, groups=half) + conv(half, half, 1, m)
        n, c = m, out
        for _ in range(units - 1):             # basic unit on one half of the channels
            total += conv(half, half, 1, n) + conv(half, half, 3, n, groups=half)
            total += conv(half, half, 1, n)
    return total + conv(c, 1024, 1, n) + fc(1024, 1000)


# --------------------------------------------------------------------------------------
# ResNet-50 (He et al. 2015 Table 1) and ResNeXt-50 32x4d (Xie et al. 2016 Table 1), in
# torchvision's layout: the stride on the 3x3 conv, a 1x1 projection on each stage's
# first block.


def _bottleneck_net(widths: list[int], groups: int, resolution: int) -> int:
    n = down(resolution, 7, 2, 3)
    total = conv(3, 64, 7, n)
    n = down(n, 3, 2, 1)                     # max pool 3x3/2, padding 1
    c = 64
    for stage, (width, blocks) in enumerate(zip(widths, [3, 4, 6, 3], strict=True)):
        out = 256 * 2**stage
        for i in range(blocks):
            s = 2 if i == 0 and stage > 0 else 1
            m = -(-n // s)
            total += conv(c, width, 1, n) + conv(width, width, 3, m, groups=groups)
            total += conv(width, out, 1, m)
            if i == 0:
                total += conv(c, out, 1, m)
            n, c = m, out
    return total + fc(c, 1000)


def resnet50(resolution: int = 224) -> int:
    return _bottleneck_net([64, 128, 256, 512], 1, resolution)


def resnext50_32x4d(resolution: int = 224) -> int:
    return _bottleneck_net([128, 256, 512, 1024], 32, resolution)


# --------------------------------------------------------------------------------------
# VGG-16, Simonyan & Zisserman 2014 Table 1 configuration D; torchvision's adaptive pool
# makes fc6 see 7x7x512.


def vgg16(resolution: int = 224) -> int:
    total, c, n = 0, 3, resolution
    for out, convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(convs):
            total += conv(c, out, 3, n)
            c = out
        n //= 2
    return total + fc(512 * 7 * 7, 4096) + fc(4096, 4096) + fc(4096, 1000)


# --------------------------------------------------------------------------------------
# AlexNet, Krizhevsky et al. 2012 Sec. 3.5, the two-GPU original (groups = 2 on conv2,
# conv4, conv5), 227x227 input.


def alexnet(resolution: int = 227) -> int:
    n1 = down(resolution, 11, 4, 0)          # 55
    n2 = down(n1, 3, 2, 0)                   # pool -> 27; conv2 5x5 padding 2 keeps 27
    n3 = down(n2, 3, 2, 0)                   # pool -> 13
    n5 = down(n3, 3, 2, 0)                   # pool -> 6
    return (conv(3, 96, 11, n1) + conv(96, 256, 5, n2, groups=2) + conv(256, 384, 3, n3)
            + conv(384, 384, 3, n3, groups=2) + conv(384, 256, 3, n3, groups=2)
            + fc(256 * n5 * n5, 4096) + fc(4096, 4096) + fc(4096, 1000))


# --------------------------------------------------------------------------------------
# Xception, Chollet 2016 Fig. 5, Keras' layout: valid stem convs (299 -> 149 -> 147),
# separable conv = 3x3 depthwise + 1x1, max pools 3x3/2 "same", residual 1x1 stride 2.


def xception(resolution: int = 299) -> int:
    def sep(c_in: int, c_out: int, n: int) -> int:
        return conv(c_in, c_in, 3, n, groups=c_in) + conv(c_in, c_out, 1, n)

    n = down(resolution, 3, 2, 0)
    total = conv(3, 32, 3, n)
    n = down(n, 3, 1, 0)
    total += conv(32, 64, 3, n)
    c = 64
    for out in (128, 256, 728):                  # entry flow blocks 2-4
        m = -(-n // 2)
        total += conv(c, out, 1, m) + sep(c, out, n) + sep(out, out, n)
        n, c = m, out
    total += 8 * 3 * sep(728, 728, n)           # middle flow: 8 blocks of 3
    m = -(-n // 2)                               # exit flow block 13
    total += conv(728, 1024, 1, m) + sep(728, 728, n) + sep(728, 1024, n)
    n = m
    total += sep(1024, 1536, n) + sep(1536, 2048, n)
    return total + fc(2048, 1000)


# --------------------------------------------------------------------------------------
# MobileNetV3, Howard et al. 2019 Tables 1-2, torchvision's layout (_mobilenet_v3_conf):
# a 1x1 expansion unless the expanded width equals the input's, a k x k depthwise conv,
# squeeze-and-excite on a 1x1 map (make_divisible(expanded / 4) channels, both 1x1 convs
# counted), a 1x1 projection; head 1x1 to 6x the last width, then two linear layers.

MNV3_LARGE = [  # kernel, expanded, out, squeeze-and-excite, stride
    (3, 16, 16, False, 1), (3, 64, 24, False, 2), (3, 72, 24, False, 1),
    (5, 72, 40, True, 2), (5, 120, 40, True, 1), (5, 120, 40, True, 1),
    (3, 240, 80, False, 2), (3, 200, 80, False, 1), (3, 184, 80, False, 1),
    (3, 184, 80, False, 1), (3, 480, 112, True, 1), (3, 672, 112, True, 1),
    (5, 672, 160, True, 2), (5, 960, 160, True, 1), (5, 960, 160, True, 1),
]
MNV3_SMALL = [
    (3, 16, 16, True, 2), (3, 72, 24, False, 2), (3, 88, 24, False, 1),
    (5, 96, 40, True, 2), (5, 240, 40, True, 1), (5, 240, 40, True, 1),
    (5, 120, 48, True, 1), (5, 144, 48, True, 1), (5, 288, 96, True, 2),
    (5, 576, 96, True, 1), (5, 576, 96, True, 1),
]


def _mobilenet_v3(rows: list[tuple[int, int, int, bool, int]], last: int, width: float,
                  resolution: int) -> int:
    n = -(-resolution // 2)
    c = make_divisible(16 * width)
    total = conv(3, c, 3, n)
    for k, expanded, out, se, stride in rows:
        expanded, out = make_divisible(expanded * width), make_divisible(out * width)
        if expanded != c:
            total += conv(c, expanded, 1, n)
        n = -(-n // stride)
        total += conv(expanded, expanded, k, n, groups=expanded)
        if se:
            squeeze = make_divisible(expanded // 4)
            total += conv(expanded, squeeze, 1, 1) + conv(squeeze, expanded, 1, 1)
        total += conv(expanded, out, 1, n)
        c = out
    head = 6 * c
    hidden = make_divisible(last * width)
    return total + conv(c, head, 1, n) + fc(head, hidden) + fc(hidden, 1000)


def mobilenet_v3_large(width: float = 1.0, resolution: int = 224) -> int:
    return _mobilenet_v3(MNV3_LARGE, 1280, width, resolution)


def mobilenet_v3_small(width: float = 1.0, resolution: int = 224) -> int:
    return _mobilenet_v3(MNV3_SMALL, 1024, width, resolution)


# --------------------------------------------------------------------------------------
# EfficientNet, Tan & Le 2019 Table 1 (B0) and Sec. 3.3, torchvision's MBConv: expansion
# to make_divisible(in·t) (none when t = 1), k x k depthwise, squeeze-and-excite to
# max(1, in / 4) channels of the block's input, 1x1 projection; channels
# make_divisible(c·width), repeats ceil(n·depth); head 1x1 to 4x the last width.

EFFICIENTNET_B0 = [  # expand ratio, kernel, stride, in, out, repeats
    (1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1),
]


def efficientnet(width: float = 1.0, depth: float = 1.0, resolution: int = 224) -> int:
    n = -(-resolution // 2)
    c = make_divisible(32 * width)
    total = conv(3, c, 3, n)
    for t, k, stride, _, out, repeats in EFFICIENTNET_B0:
        out = make_divisible(out * width)
        for i in range(math.ceil(repeats * depth)):
            expanded = make_divisible(c * t)
            if t != 1:
                total += conv(c, expanded, 1, n)
            n = -(-n // (stride if i == 0 else 1))
            squeeze = max(1, c // 4)
            total += conv(expanded, expanded, k, n, groups=expanded)
            total += conv(expanded, squeeze, 1, 1) + conv(squeeze, expanded, 1, 1)
            total += conv(expanded, out, 1, n)
            c = out
    head = 4 * c
    return total + conv(c, head, 1, n) + fc(head, 1000)


# --------------------------------------------------------------------------------------
# ConvNeXt-T, Liu et al. 2022 Table 9 (C = 96, 192, 384, 768; B = 3, 3, 9, 3),
# torchvision's CNBlock: 7x7 depthwise, linear C -> 4C -> C at every position; a 4x4/4
# stem, 2x2/2 downsamplers; layer norm, GELU and layer scale cost no MACs.


def convnext_tiny(resolution: int = 224) -> int:
    n = resolution // 4
    total = conv(3, 96, 4, n)
    c = 96
    for stage, (width, blocks) in enumerate(zip([96, 192, 384, 768], [3, 3, 9, 3],
                                                strict=True)):
        if stage > 0:
            n //= 2
            total += conv(c, width, 2, n)
            c = width
        total += blocks * (conv(c, c, 7, n, groups=c) + 2 * conv(c, 4 * c, 1, n))
    return total + fc(c, 1000)


# --------------------------------------------------------------------------------------
# U-Net, Ronneberger et al. 2015 Fig. 1: unpadded 3x3 convs, 2x2 max pools, 2x2
# up-convolutions (a transposed conv costs C_in·C_out·k·input positions), crop and concat
# skips, a 1x1 conv to the classes.


def unet(classes: int = 2, resolution: int = 572) -> int:
    n, c, total = resolution, 1, 0
    for width in (64, 128, 256, 512, 1024):      # contracting path
        if width > 64:
            n //= 2
        total += conv(c, width, 3, n - 2) + conv(width, width, 3, n - 4)
        n, c = n - 4, width
    for width in (512, 256, 128, 64):            # expansive path
        total += c * width * 4 * n * n            # 2x2 up-conv, stride 2: n -> 2n
        n *= 2
        total += conv(2 * width, width, 3, n - 2) + conv(width, width, 3, n - 4)
        n, c = n - 4, width
    return total + conv(c, classes, 1, n)


NETWORKS: dict[str, Callable[..., int]] = {
    "alexnet": alexnet,
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "resnet50": resnet50,
    "resnext50_32x4d": resnext50_32x4d,
    "shufflenet_v1": shufflenet_v1,
    "shufflenet_v2": shufflenet_v2,
    "vgg16": vgg16,
    "xception": xception,
    "mobilenet_v3_large": mobilenet_v3_large,
    "mobilenet_v3_small": mobilenet_v3_small,
    "efficientnet": efficientnet,
    "convnext_tiny": convnext_tiny,
    "unet": unet,
}
"""Zoo name -> MACs at the given knobs (defaults: the spec's defaults)."""

SETTINGS: list[tuple[str, dict[str, float]]] = [
    *((name, {}) for name in NETWORKS),
    ("mobilenet_v1", {"width": 0.5}),
    ("mobilenet_v1", {"width": 0.75, "resolution": 160}),
    ("mobilenet_v2", {"width": 1.4}),
    ("mobilenet_v2", {"width": 0.35, "resolution": 96}),
    ("shufflenet_v1", {"groups": 8}),
    ("shufflenet_v1", {"groups": 1}),
    ("resnet50", {"resolution": 160}),
    ("mobilenet_v3_large", {"width": 0.75}),
    ("mobilenet_v3_small", {"width": 0.75, "resolution": 160}),
    ("efficientnet", {"width": 1.2, "depth": 1.4, "resolution": 300}),   # B3
    ("efficientnet", {"width": 2.0, "depth": 3.1, "resolution": 600}),   # B7
    ("convnext_tiny", {"resolution": 160}),
    ("unet", {"resolution": 188}),
]
"""The (network, knobs) pairs recomputed: every default, and knob settings that move
channel rounding, groups and map sizes."""


def main(argv: list[str]) -> int:
    rows = [{"name": name, "knobs": knobs, "macs": NETWORKS[name](**knobs)}
            for name, knobs in SETTINGS]
    if "--json" in argv:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        knobs = ",".join(f"{k}={v}" for k, v in row["knobs"].items())
        label = f"{row['name']}@{knobs}" if knobs else row["name"]
        print(f"{label:<40} {row['macs']:>17,}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
