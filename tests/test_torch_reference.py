"""The benchmark's PyTorch translation computes what the NumPy backend computes.

``benchmarks/backend.py`` compares the backend's speed and outputs with PyTorch's on
the same weights; these tests make that comparison trustworthy: layer by layer, on
specs that use every registered layer kind (2D and 3D, every padding form, pad_value,
ceil_mode, channel multiplier, ports), the torch outputs equal the NumPy ones. Skipped
where torch is not installed (CI): torch is only the optional ``bench`` extra.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import archcost  # noqa: E402
from archcost.backend import prepare, run  # noqa: E402
from archcost.layers.base import REGISTRY  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from torch_reference import TorchNet  # noqa: E402

EVERY_KIND_2D = """
archcost: 1
name: every kind 2d
input: [6, 17, 19]
layers:
  - {name: c1, type: conv, out: 12, kernel: 3, stride: 2, padding: same}
  - {name: c2, type: conv, out: 12, kernel: [3, 2], padding: [1, 0, 2, 1], pad_value: 0.5, dilation: [2, 1], bias: false}
  - {type: batchnorm}
  - {type: relu6}
  - {type: grouped_conv, out: 12, kernel: 3, groups: 3, padding: 1}
  - {type: channel_shuffle, groups: 3}
  - {type: pointwise_conv, out: 12, groups: 2}
  - {type: depthwise_conv, kernel: 3, multiplier: 2, padding: 1, pad_value: -1}
  - {type: hswish}
  - {type: separable_conv, out: 12, kernel: 3, padding: same}
  - {type: swish}
  - {type: spatial_separable_conv, out: 12, kernel: 3, padding: 1}
  - {type: sigmoid}
  - {type: lrn, size: 3, k: 2}
  - {type: tanh}
  - {name: up, type: transposed_conv, out: 12, kernel: 3, stride: 2, padding: [1, 2, 0, 1], output_padding: 1, groups: 3}
  - {type: transposed_conv, out: 6, kernel: 2, stride: 1, padding: 1, dilation: 2}
  - {type: upsample, scale: 2, mode: bilinear}
  - {type: upsample, size: [25, 30], mode: bilinear, align_corners: true}
  - {type: crop, size: [20, 21]}
  - {type: pad, padding: [1, 2], mode: reflect}
  - {type: pad, padding: [0, 1, 2, 0], mode: replicate}
  - {type: pad, padding: 1, value: 0.5}
  - {type: layernorm}
  - {type: gelu}
  - {type: gelu, approximate: tanh}
  - {type: scale}
  - {type: upsample, size: [9, 10]}
  - {type: pointwise_conv, out: 12}
  - {name: sp, type: channel_split}
  - {name: b, type: pointwise_conv, out: 6, inputs: 'sp:1'}
  - {name: br, type: relu}
  - {name: cat, type: concat, inputs: ['sp:0', br]}
  - {type: global_avgpool}
  - {type: pointwise_conv, out: 12}
  - {name: gate, type: hsigmoid}
  - {name: scaled, type: mul, inputs: [cat, gate]}
  - {name: res, type: add, inputs: [scaled, cat]}
  - {type: maxpool, kernel: 3, stride: 2, ceil_mode: true}
  - {type: avgpool, kernel: 3, stride: 2, padding: 1, ceil_mode: true}
  - {type: maxpool, kernel: 2, stride: 1, padding: [0, 1, 1, 0]}
  - {type: avgpool, kernel: 2, stride: 2, padding: [1, 0, 0, 1], ceil_mode: true}
  - {type: adaptive_avgpool, out: [3, 2]}
  - {type: dropout}
  - {type: identity}
  - {type: flatten}
  - {type: linear, out: 7}
  - {type: softmax}
  - {name: opaque, type: unsupported, op: Erf, shape: [5, 2, 3], inputs: cat}
"""

EVERY_KIND_3D = """
archcost: 1
name: every kind 3d
input: [3, 6, 9, 8]
layers:
  - {type: conv, out: 8, kernel: 3, stride: [1, 2, 2], padding: 1}
  - {type: depthwise_conv, kernel: [3, 3, 1], padding: same, multiplier: 2}
  - {type: batchnorm}
  - {type: relu}
  - {type: grouped_conv, out: 8, kernel: 2, groups: 4, padding: [0, 1, 1, 0, 0, 1], pad_value: 0.25}
  - {name: t3, type: transposed_conv, out: 4, kernel: 3, stride: [1, 2, 2], padding: 1, output_padding: [0, 1, 1]}
  - {name: u3, type: upsample, scale: [1, 2, 2], mode: trilinear, inputs: t3}
  - {type: crop, inputs: [u3, t3]}
  - {type: pad, padding: [1, 0, 0, 1, 1, 1], mode: replicate}
  - {type: layernorm}
  - {type: upsample, scale: [2, 1, 1]}
  - {type: maxpool, kernel: 2, ceil_mode: true}
  - {type: avgpool, kernel: 2, stride: 1, padding: 1}
  - {type: adaptive_avgpool, out: [2, 2, 1]}
  - {type: global_avgpool}
  - {type: linear, out: 4}
"""


def numpy_layers(model: archcost.Model, x: np.ndarray, weights: dict) -> dict:
    """Every layer's NumPy output (the executor frees them; here all are kept)."""
    values = {"input": x}
    for name in model.layers:
        node = model.nodes[name]
        xs = [values[s][p] if isinstance(values[s], list) else values[s]
              for s, p in zip(node.inputs, node.ports)]
        values[name], _ = node.layer.forward(xs, weights[name])
    return values


def assert_close(name: str, got: np.ndarray, want: np.ndarray, rel: float = 1e-5) -> None:
    """Equal within ``rel`` of the output's largest magnitude (float32 sums in another
    order differ in the last bits)."""
    assert got.shape == want.shape, f"{name}: torch {got.shape} vs numpy {want.shape}"
    scale = max(float(np.abs(want).max()), 1e-6)
    diff = float(np.abs(got - want).max())
    assert diff <= rel * scale, f"{name}: max |torch − numpy| = {diff:.3g} (scale {scale:.3g})"


@pytest.mark.parametrize("text", [EVERY_KIND_2D, EVERY_KIND_3D], ids=["2d", "3d"])
def test_every_layer_matches_the_numpy_backend(write_spec, text):
    model = archcost.load(write_spec(text))
    x, weights = prepare(model, batch=2, seed=3)
    want = numpy_layers(model, x, weights)
    got = TorchNet(model, weights)(torch.from_numpy(x), keep_all=True)
    for name in model.layers:
        w, t = want[name], got[name]
        for i, (wi, ti) in enumerate(zip(*([w, t] if isinstance(w, list) else [[w], [t]]))):
            assert_close(f"{name}[{i}]", ti.numpy(), wi)


def test_the_specs_cover_every_registered_kind(write_spec):
    used = set()
    for text in (EVERY_KIND_2D, EVERY_KIND_3D):
        for node in archcost.load(write_spec(text)).nodes.values():
            used.add(node.kind)
            if node.composite:
                used.add(node.composite[1].kind)
    assert used >= set(REGISTRY), f"not covered: {sorted(set(REGISTRY) - used)}"


@pytest.mark.parametrize("spec", ["mobilenet_v2", "shufflenet_v2", "resnet50"])
def test_zoo_outputs_match_at_low_resolution(spec):
    # The backend's accuracy bar (docs/performance.md): equal within 1e-4 of the output's magnitude
    # (rounding differences grow over ResNet-50's 50 layers to about 1e-5).
    model = archcost.load(ROOT / "specs" / f"{spec}.yaml", resolution=64)
    x, weights = prepare(model, seed=0)
    want = run(model, x, weights).outputs
    got = TorchNet(model, weights)(torch.from_numpy(x))
    assert set(got) == set(want)
    for name in want:
        assert_close(name, got[name].numpy(), want[name], rel=1e-4)


def test_inplace_passes_equal_the_plain_ones():
    torch = pytest.importorskip("torch")
    from archcost.backend import prepare, run
    model = archcost.load(ROOT / "specs" / "resnet50.yaml", resolution=64)
    x, weights = prepare(model, batch=1, seed=3)
    xt = torch.from_numpy(x.copy())
    net = TorchNet(model, weights)
    plain, fast = net(xt), net(xt, inplace=True)
    np.testing.assert_array_equal(xt.numpy(), x)            # the input is left alone
    for name, value in plain.items():
        torch.testing.assert_close(fast[name], value, rtol=0, atol=0)
    ours = run(model, x, weights, inplace=True).outputs
    for name, value in plain.items():
        np.testing.assert_allclose(ours[name], value.numpy(), rtol=1e-4, atol=1e-5)
