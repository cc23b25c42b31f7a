"""ONNX export: every zoo and example spec exports, imports back to the same counts,
and runs in onnxruntime with every layer agreeing with the NumPy backend.

The independent sides: the import reads the exported file with onnx's own shape
inference and counts the initializers the nodes use (not the spec), and onnxruntime
is a separate implementation of every op the NumPy backend runs.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import onnx  # noqa: E402

import archcost  # noqa: E402
from archcost import zoo  # noqa: E402
from archcost.backend import prepare  # noqa: E402
from archcost.cli import main  # noqa: E402
from archcost.onnx.exporter import build, export  # noqa: E402
from archcost.onnx.oracle import compare  # noqa: E402

NETWORKS = zoo.names() + zoo.examples()
# Smaller inputs where a spec has the knob: the same layers, shapes and weights
# (up to the resolution-independent ones), in a fraction of the time.
SMALL = {"unet": {"resolution": 188}}

# The kinds that come back under another name with identical counts: ONNX has no
# adaptive pooling, so an even adaptive_avgpool is exported as an AveragePool.
SAME_COUNTS = {("adaptive_avgpool", "avgpool"), ("adaptive_avgpool", "global_avgpool")}


def _model(name: str) -> archcost.Model:
    return archcost.load(name, **SMALL.get(name, {}))


@pytest.mark.parametrize("name", NETWORKS)
def test_export_then_import_gives_identical_counts(name, tmp_path):
    model = _model(name)
    path = export(model, tmp_path / "m.onnx")
    back = archcost.load(path)
    assert back.totals == model.totals
    rows, back_rows = model.costs().rows, back.costs().rows
    assert [r.name for r in back_rows] == [r.name for r in rows]
    for a, b in zip(rows, back_rows, strict=False):
        assert a.kind == b.kind or (a.kind, b.kind) in SAME_COUNTS, a.name
        assert (a.params, a.macs, a.flops, a.memory_access, a.activations, a.buffers) == (
            b.params,
            b.macs,
            b.flops,
            b.memory_access,
            b.activations,
            b.buffers,
        ), a.name
        assert a.output_shape == b.output_shape, a.name


@pytest.mark.parametrize("name", NETWORKS)
def test_onnxruntime_agrees_with_numpy_on_every_layer(name):
    result = compare(_model(name))
    first = result.first_divergence
    assert first is None, f"{first.name}: relative error {first.relative:.2e}"
    assert len(result.layers) == len(_model(name).layers)


def test_export_passes_the_checker_and_keeps_the_validate_weights(tmp_path):
    model = archcost.load("examples/standard_vs_separable")
    path = export(model, tmp_path / "s.onnx", seed=3)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    _, weights = prepare(model, seed=3)
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    for layer, tensors in weights.items():
        for key, array in tensors.items():
            assert np.array_equal(stored[f"{layer}.{key}"], array)
    # Node names carry the layer names.
    assert {n.name.split("/")[1] for n in proto.graph.node} == set(model.layers)


def test_opsets(tmp_path, capsys):
    model = archcost.load("mobilenet_v2", resolution=96)
    assert archcost.load(export(model, tmp_path / "m13.onnx", opset=13)).totals == model.totals
    model = archcost.load("convnext_tiny", resolution=64)
    for opset in (17, 20):
        proto = build(model, opset=opset)
        ops = {n.op_type for n in proto.graph.node}
        assert ("Gelu" in ops) == (opset >= 20), opset
        assert (
            archcost.load(export(model, tmp_path / f"c{opset}.onnx", opset=opset)).totals
            == model.totals
        )
    # LayerNormalization is an opset 17 op: one line naming the layer.
    assert main(["export", "convnext_tiny", "-o", str(tmp_path / "c13.onnx"), "--opset", "13"]) == 2
    err = capsys.readouterr().err
    assert "stem_norm" in err and "opset 17" in err and not (tmp_path / "c13.onnx").exists()


def test_export_command_and_bad_opset(tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export", "examples/grouped_vs_standard", "-o", str(out)]) == 0
    assert out.exists()
    assert (
        main(
            [
                "export",
                "examples/grouped_vs_standard",
                "-o",
                str(tmp_path / "x.onnx"),
                "--opset",
                "5",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "opset 5 is outside" in err and not (tmp_path / "x.onnx").exists()


def test_validate_with_the_onnxruntime_oracle(capsys):
    assert main(["validate", "examples/shufflenet_unit", "--oracle", "onnxruntime"]) == 0
    out = capsys.readouterr().out
    assert "agree with onnxruntime" in out


def test_the_oracle_names_the_first_layer_that_diverges(monkeypatch):
    """A NumPy kernel made wrong on purpose is caught at its layer."""
    from archcost.layers import act

    model = archcost.load("examples/bottleneck_1x1")
    original = act.Relu.forward

    def off_by_a_bit(self, xs, weights, out=None):
        y, n = original(self, xs, weights)
        return y * np.float32(1.01), n

    monkeypatch.setattr(act.Relu, "forward", off_by_a_bit)
    result = compare(model)
    first = result.first_divergence
    assert first is not None and first.kind == "relu"
    assert first.name == next(n for n in model.layers if model.nodes[n].kind == "relu")


def test_a_conv_with_pad_value_comes_back_as_one_conv(tmp_path, write_spec):
    spec = write_spec("""
        archcost: 1
        name: padded
        input: [2, 5, 5]
        layers:
          - {name: c, type: conv, out: 3, kernel: [3, 2], padding: [0, 1, 2, 0], pad_value: 0.5}
          - {name: d, type: depthwise_conv, kernel: 3, padding: 1, pad_value: -1.0}
        """)
    model = archcost.load(spec)
    back = archcost.load(export(model, tmp_path / "p.onnx"))
    assert [(r.name, r.kind, r.macs, r.memory_access) for r in back.costs().rows] == [
        (r.name, r.kind, r.macs, r.memory_access) for r in model.costs().rows
    ]
    assert back.nodes["c"].layer.pad_value == 0.5 and back.nodes["d"].layer.pad_value == -1.0
    assert compare(model).ok
