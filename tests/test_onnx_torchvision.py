"""Models exported from torchvision (when torch happens to be installed; skipped
otherwise): the imported counts against PyTorch's own parameter count and the zoo.

Independent sources: PyTorch counts the parameters of its modules; the exporter (not
archcost) folds each BatchNorm into the conv before it, so the file holds the PyTorch
count minus one parameter per folded BN channel (γ, β become the conv's bias). MACs
do not change under folding and must equal the zoo spec's, which is checked against
torchvision's published figures in test_zoo.py.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
try:  # a torchvision built against another torch fails on import
    import torchvision
except Exception as exc:  # noqa: BLE001
    pytest.skip(f"torchvision unusable: {exc}", allow_module_level=True)

import archcost  # noqa: E402

# torchvision builder, the zoo spec with the same architecture (None: no zoo spec).
MODELS = [
    ("resnet18", None),
    ("resnet50", "resnet50"),
    ("mobilenet_v2", "mobilenet_v2"),
    ("shufflenet_v2_x1_0", "shufflenet_v2"),
    ("mobilenet_v3_large", "mobilenet_v3_large"),
    ("efficientnet_b0", "efficientnet"),
    ("convnext_tiny", "convnext_tiny"),
]


def _export(builder: str, path) -> torch.nn.Module:
    model = getattr(torchvision.models, builder)(weights=None).eval()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), str(path), dynamo=False, opset_version=17)
    return model


@pytest.mark.parametrize("builder, spec", MODELS)
def test_torchvision_export_imports_with_the_sources_counts(builder, spec, tmp_path):
    source = _export(builder, tmp_path / "m.onnx")
    imported = archcost.load(tmp_path / "m.onnx")
    torch_params = sum(p.numel() for p in source.parameters())
    folded = sum(m.num_features for m in source.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert imported.totals["params"] == torch_params - folded
    if spec is not None:
        assert imported.totals["macs"] == archcost.load(spec).totals["macs"]
    # Names are the module paths.
    assert any(n.startswith(("layer1.", "features.", "stage2.")) for n in imported.layers)


def test_the_dynamo_exporter_gives_the_same_macs(tmp_path):
    pytest.importorskip("onnxscript")
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, (x,), str(tmp_path / "d.onnx"), dynamo=True, opset_version=18)
    torch.onnx.export(model, x, str(tmp_path / "t.onnx"), dynamo=False, opset_version=17)
    dynamo, script = archcost.load(tmp_path / "d.onnx"), archcost.load(tmp_path / "t.onnx")
    assert dynamo.totals["macs"] == script.totals["macs"]
    assert "layer1.0.relu" in " ".join(dynamo.layers)  # names from the scope metadata
