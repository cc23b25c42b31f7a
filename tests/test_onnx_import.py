"""ONNX import: one small onnx.helper graph per mapped op, with hand-computed counts.

Every expected number below is worked out by hand in the comment beside it from the
definitions in docs/design.md's counting conventions (conv MACs ``C_out·(C_in/g)·k·out``,
linear ``in·out``, params = the initializer elements the node uses), independently of
the kind classes that compute them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

import archcost  # noqa: E402
from archcost.cli import main  # noqa: E402
from archcost.errors import SpecError  # noqa: E402
from tests.onnx_graphs import floats, ints, model, node, save, weight  # noqa: E402


def load(tmp_path: Path, m, **kw) -> archcost.Model:
    return archcost.load(save(m, tmp_path / "m.onnx"), **kw)


def rows(mdl: archcost.Model) -> list:
    return list(mdl.costs().rows)


def one(tmp_path: Path, nodes, inits=(), **kw):
    """Import a graph that maps to exactly one layer; return its row."""
    mdl = load(tmp_path, model(nodes, inits, **kw))
    (row,) = rows(mdl)
    return row


# -- Conv ---------------------------------------------------------------------------------
def test_conv_standard_with_bias(tmp_path):
    row = one(
        tmp_path,
        [node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])],
        [weight("w", 4, 3, 3, 3), weight("b", 4)],
    )
    assert row.kind == "conv" and row.output_shape == (4, 8, 8)
    assert row.params == 4 * 3 * 9 + 4  # 112: weight + bias elements
    assert row.macs == 4 * 3 * 9 * 8 * 8  # 6,912


def test_conv_same_upper_and_lower_pad_the_odd_pixel_on_opposite_sides(tmp_path):
    # 8x8, k3, s2: output ceil(8/2) = 4; total padding (4-1)·2 + 3 - 8 = 1.
    for auto, pads in (("SAME_UPPER", [0, 1, 0, 1]), ("SAME_LOWER", [1, 0, 1, 0])):
        mdl = load(
            tmp_path,
            model(
                [node("Conv", ["x", "w"], ["y"], strides=[2, 2], auto_pad=auto)],
                [weight("w", 4, 3, 3, 3)],
            ),
        )
        (row,) = rows(mdl)
        assert row.output_shape == (4, 4, 4)
        assert row.macs == 4 * 27 * 16 and row.params == 4 * 27
        assert mdl.imported.doc["layers"][0]["padding"] == pads
        assert mdl.imported.doc["layers"][0]["bias"] is False


def test_conv_asymmetric_pads_and_dilation(tmp_path):
    # pads begin (0, 1), end (2, 1): H 8 + 2 - 2·2 = 6 rows out; W 8 + 2 - 4 = 6.
    row = one(
        tmp_path,
        [node("Conv", ["x", "w"], ["y"], pads=[0, 1, 2, 1], dilations=[2, 2])],
        [weight("w", 4, 3, 3, 3)],
    )
    assert row.output_shape == (4, 6, 6)
    assert row.macs == 4 * 27 * 36


def test_depthwise_and_multiplier(tmp_path):
    row = one(
        tmp_path,
        [node("Conv", ["x", "w"], ["y"], group=8, pads=[1, 1, 1, 1])],
        [weight("w", 8, 1, 3, 3)],
        shape=[1, 8, 8, 8],
    )
    assert row.kind == "depthwise_conv" and row.macs == 8 * 9 * 64 and row.params == 72
    row = one(
        tmp_path,
        [node("Conv", ["x", "w"], ["y"], group=8)],
        [weight("w", 16, 1, 3, 3)],
        shape=[1, 8, 8, 8],
    )
    assert row.kind == "depthwise_conv" and row.output_shape == (16, 6, 6)
    assert row.macs == 16 * 9 * 36


def test_pointwise_plain_grouped_and_strided(tmp_path):
    row = one(
        tmp_path, [node("Conv", ["x", "w"], ["y"])], [weight("w", 16, 8, 1, 1)], shape=[1, 8, 8, 8]
    )
    assert row.kind == "pointwise_conv" and row.macs == 16 * 8 * 64 and row.params == 128
    row = one(
        tmp_path,
        [node("Conv", ["x", "w"], ["y"], group=2, strides=[2, 2])],
        [weight("w", 16, 4, 1, 1)],
        shape=[1, 8, 8, 8],
    )
    assert row.kind == "pointwise_conv" and row.output_shape == (16, 4, 4)
    assert row.macs == 16 * 4 * 16 and row.params == 64


def test_grouped_conv(tmp_path):
    row = one(
        tmp_path,
        [node("Conv", ["x", "w", "b"], ["y"], group=2, pads=[1, 1, 1, 1])],
        [weight("w", 8, 4, 3, 3), weight("b", 8)],
        shape=[1, 8, 8, 8],
    )
    assert row.kind == "grouped_conv" and row.macs == 8 * 36 * 64 and row.params == 288 + 8


def test_conv3d(tmp_path):
    row = one(
        tmp_path,
        [node("Conv", ["x", "w"], ["y"])],
        [weight("w", 2, 3, 3, 3, 3)],
        shape=[1, 3, 4, 5, 5],
    )
    assert row.kind == "conv" and row.output_shape == (2, 2, 3, 3)
    assert row.macs == 2 * 3 * 27 * 2 * 3 * 3


# -- Gemm / MatMul -------------------------------------------------------------------------
def flat_then(tmp_path, nodes, inits):
    """[1, 20, 1, 1] -> Flatten -> ``nodes`` (reading 'f'); the rows after the flatten."""
    mdl = load(tmp_path, model([node("Flatten", ["x"], ["f"]), *nodes], inits, shape=[1, 20, 1, 1]))
    assert rows(mdl)[0].kind == "flatten"
    return rows(mdl)[1:]


def test_gemm_both_layouts(tmp_path):
    (row,) = flat_then(
        tmp_path,
        [node("Gemm", ["f", "w", "b"], ["y"], transB=1)],
        [weight("w", 10, 20), weight("b", 10)],
    )
    assert (row.kind, row.params, row.macs) == ("linear", 20 * 10 + 10, 200)
    (row,) = flat_then(tmp_path, [node("Gemm", ["f", "w"], ["y"])], [weight("w", 20, 10)])
    assert (row.params, row.macs) == (200, 200)


def test_matmul_plus_add_is_one_linear_with_bias(tmp_path):
    (row,) = flat_then(
        tmp_path,
        [node("MatMul", ["f", "w"], ["h"]), node("Add", ["h", "b"], ["y"])],
        [weight("w", 20, 10), weight("b", 10)],
    )
    assert (row.kind, row.params, row.macs) == ("linear", 210, 200)
    (row,) = flat_then(tmp_path, [node("MatMul", ["f", "w"], ["y"])], [weight("w", 20, 10)])
    assert row.params == 200


# -- normalisation and activations ----------------------------------------------------------
def test_batchnorm_params_and_buffers(tmp_path):
    inits = [weight(n, 3) for n in ("s", "b", "m")] + [floats("v", [1, 2, 3])]
    row = one(
        tmp_path,
        [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
        inits,
    )
    assert (row.kind, row.params, row.buffers) == ("batchnorm", 6, 6)  # γβ 2C, mean/var 2C


@pytest.mark.parametrize(
    "op, kind, attrs, per_element",
    [
        ("Relu", "relu", {}, 1),
        ("Sigmoid", "sigmoid", {}, 1),
        ("Tanh", "tanh", {}, 1),
        ("HardSwish", "hswish", {}, 4),
        ("HardSigmoid", "hsigmoid", {"alpha": 1 / 6}, 3),
        ("Softmax", "softmax", {"axis": 1}, 3),
    ],
)
def test_activations(tmp_path, op, kind, attrs, per_element):
    row = one(tmp_path, [node(op, ["x"], ["y"], **attrs)])
    assert row.kind == kind and row.flops == per_element * 3 * 64


def test_clip_0_6_is_relu6_as_inputs_and_as_attributes(tmp_path):
    row = one(
        tmp_path, [node("Clip", ["x", "lo", "hi"], ["y"])], [floats("lo", 0.0), floats("hi", 6.0)]
    )
    assert row.kind == "relu6"
    row = one(tmp_path, [node("Clip", ["x"], ["y"], min=0.0, max=6.0)], opset=10)
    assert row.kind == "relu6"


def test_x_times_sigmoid_x_is_one_swish(tmp_path):
    mdl = load(
        tmp_path,
        model(
            [
                node("Sigmoid", ["x"], ["s"], name="/act/Sigmoid"),
                node("Mul", ["x", "s"], ["y"], name="/act/Mul"),
            ]
        ),
    )
    (row,) = rows(mdl)
    assert row.kind == "swish" and row.name == "act" and row.flops == 2 * 3 * 64


def test_lrn(tmp_path):
    row = one(tmp_path, [node("LRN", ["x"], ["y"], size=5, alpha=1e-4, beta=0.75, bias=2.0)])
    assert row.kind == "lrn" and row.flops == (2 * 5 + 3) * 3 * 64


# -- pooling ---------------------------------------------------------------------------
def test_maxpool_padding_and_ceil_mode(tmp_path):
    row = one(
        tmp_path,
        [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])],
    )
    assert row.kind == "maxpool" and row.output_shape == (3, 4, 4)
    assert row.flops == (9 - 1) * 3 * 16
    # 8 wide, k3 s2, no padding: floor 3 outputs, ceil 4.
    row = one(
        tmp_path, [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)]
    )
    assert row.output_shape == (3, 4, 4)


def test_average_pools(tmp_path):
    row = one(tmp_path, [node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2])])
    assert row.kind == "avgpool" and row.flops == 4 * 3 * 16
    row = one(tmp_path, [node("GlobalAveragePool", ["x"], ["y"])])
    assert row.kind == "global_avgpool" and row.output_shape == (3, 1, 1)


def test_reducemean_over_h_w_is_global_avgpool(tmp_path):
    row = one(tmp_path, [node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=1)], opset=13)
    assert row.kind == "global_avgpool"
    row = one(
        tmp_path,
        [node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)],
        [ints("axes", [-1, -2])],
        opset=18,
    )
    assert row.kind == "global_avgpool"


# -- merges and shape ops ------------------------------------------------------------------
def test_add_mul_concat_of_branches(tmp_path):
    mdl = load(
        tmp_path,
        model(
            [
                node("Relu", ["x"], ["a"]),
                node("Sigmoid", ["x"], ["b"]),
                node("Add", ["a", "b"], ["s"]),
                node("GlobalAveragePool", ["s"], ["g"]),
                node("Mul", ["s", "g"], ["m"]),  # squeeze-excite broadcast [C,1,1]
                node("Concat", ["m", "a"], ["y"], axis=1),
            ]
        ),
    )
    by_kind = {r.kind: r for r in rows(mdl)}
    assert by_kind["add"].flops == 3 * 64  # (2 − 1)·elements
    assert by_kind["mul"].flops == 3 * 64 and by_kind["mul"].output_shape == (3, 8, 8)
    assert by_kind["concat"].output_shape == (6, 8, 8)
    assert by_kind["concat"].inputs == ("m", "a")


def test_split_along_channels(tmp_path):
    mdl = load(
        tmp_path,
        model(
            [
                node("Split", ["x", "sizes"], ["p", "q"], axis=1),
                node("Concat", ["q", "p"], ["y"], axis=1),
            ],
            [ints("sizes", [3, 5])],
            shape=[1, 8, 4, 4],
        ),
    )
    split, cat = rows(mdl)
    assert split.kind == "channel_split" and split.output_shape == ((3, 4, 4), (5, 4, 4))
    assert mdl.imported.doc["layers"][1]["inputs"] == ["p:1", "p:0"]


def test_slices_with_computed_bounds_are_one_channel_split(tmp_path):
    # ShuffleNet V2's export: the half is computed Shape -> Gather -> Div -> Mul.
    nodes = [
        node("Shape", ["x"], ["shp"]),
        node("Gather", ["shp", "one"], ["c"], axis=0),
        node("Div", ["c", "two"], ["half"]),
        node("Unsqueeze", ["half", "zero"], ["half1"]),
        node("Slice", ["x", "zero1", "half1", "one1"], ["lo"], name="/Slice"),
        node("Slice", ["x", "half1", "big", "one1"], ["hi"], name="/Slice_1"),
        node("Relu", ["hi"], ["r"]),
        node("Concat", ["lo", "r"], ["y"], axis=1),
    ]
    inits = [
        ints("one", 1),
        ints("two", 2),
        ints("zero", [0]),
        ints("zero1", [0]),
        ints("one1", [1]),
        ints("big", [2**62]),
    ]
    mdl = load(tmp_path, model(nodes, inits, shape=[1, 8, 4, 4]))
    kinds = [r.kind for r in rows(mdl)]
    assert kinds == ["channel_split", "relu", "concat"]
    assert rows(mdl)[0].output_shape == ((4, 4, 4), (4, 4, 4))


def test_reshape_transpose_reshape_is_a_channel_shuffle(tmp_path):
    nodes = [
        node("Reshape", ["x", "s5"], ["r5"]),
        node("Transpose", ["r5"], ["t"], perm=[0, 2, 1, 3, 4]),
        node("Reshape", ["t", "s4"], ["y"]),
    ]
    mdl = load(
        tmp_path,
        model(nodes, [ints("s5", [1, 2, 3, 4, 4]), ints("s4", [1, -1, 4, 4])], shape=[1, 6, 4, 4]),
    )
    (row,) = rows(mdl)
    assert row.kind == "channel_shuffle" and mdl.imported.doc["layers"][0]["groups"] == 2
    assert row.flops == 0 and row.memory_access == 4 * 2 * 6 * 16  # read + write


def test_flatten_and_reshape_to_2d(tmp_path):
    row = one(tmp_path, [node("Flatten", ["x"], ["y"])])
    assert row.kind == "flatten" and row.output_shape == (192,)
    row = one(tmp_path, [node("Reshape", ["x", "s"], ["y"])], [ints("s", [1, -1])])
    assert row.kind == "flatten" and row.output_shape == (192,)


def test_dropout_and_identity_are_zero_cost_rows(tmp_path):
    mdl = load(
        tmp_path,
        model(
            [
                node("Dropout", ["x", "ratio"], ["d"]),
                node("Identity", ["d"], ["i"]),
                node("Relu", ["i"], ["y"]),
            ],
            [floats("ratio", 0.25)],
        ),
    )
    assert [r.kind for r in rows(mdl)] == ["dropout", "identity", "relu"]
    assert mdl.imported.doc["layers"][0]["p"] == 0.25
    assert [(r.params, r.flops, r.memory_access) for r in rows(mdl)[:2]] == [(0, 0, 0)] * 2


def test_shared_initializer_through_identity_counts_per_layer(tmp_path):
    # Exporters deduplicate equal tensors and read them through Identity nodes.
    nodes = [
        node("Identity", ["b"], ["b2"]),
        node("Conv", ["x", "w", "b"], ["c"]),
        node("Conv", ["c", "w2", "b2"], ["y"]),
    ]
    mdl = load(
        tmp_path,
        model(nodes, [weight("w", 4, 3, 1, 1), weight("w2", 4, 4, 1, 1), floats("b", np.zeros(4))]),
    )
    assert [r.params for r in rows(mdl)] == [12 + 4, 16 + 4]


# -- names ----------------------------------------------------------------------------
def test_names_are_pytorch_module_paths(tmp_path):
    nodes = [
        node("Conv", ["x", "w"], ["c"], name="/layer1/layer1.0/conv1/Conv"),
        node("Relu", ["c"], ["r"], name="/layer1/layer1.0/relu/Relu"),
        node("Add", ["r", "c"], ["a"], name="/layer1/layer1.0/Add"),
        node("Relu", ["a"], ["y"], name="/layer1/layer1.0/relu_1/Relu"),
    ]
    mdl = load(tmp_path, model(nodes, [weight("w", 3, 3, 1, 1)]))
    assert mdl.layers == ["layer1.0.conv1", "layer1.0.relu", "layer1.0.add", "layer1.0.relu_1"]


# -- the import command, unsupported ops, bad input ------------------------------------------
def test_import_writes_a_spec_with_identical_counts(tmp_path, capsys):
    nodes = [
        node("Conv", ["x", "w", "b"], ["c"], name="/stem/Conv", pads=[1, 1, 1, 1]),
        node("Relu", ["c"], ["r"], name="/stem/act/Relu"),
        node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        node("GlobalAveragePool", ["p"], ["g"]),
        node("Flatten", ["g"], ["f"]),
        node("Gemm", ["f", "fw", "fb"], ["y"], name="/fc/Gemm", transB=1),
    ]
    path = save(
        model(
            nodes, [weight("w", 8, 3, 3, 3), weight("b", 8), weight("fw", 5, 8), weight("fb", 5)]
        ),
        tmp_path / "net.onnx",
    )
    assert main(["import", str(path), "-o", str(tmp_path / "net.yaml")]) == 0
    back = archcost.load(tmp_path / "net.yaml")
    direct = archcost.load(path)
    assert back.costs().rows == direct.costs().rows
    assert back.totals["macs"] == 8 * 27 * 64 + 8 * 5


def test_unsupported_ops_are_all_listed_and_nothing_is_written(tmp_path, capsys):
    nodes = [
        node("Erf", ["x"], ["e1"], name="/a/Erf"),
        node("Erf", ["e1"], ["e2"], name="/b/Erf"),
        node("Cos", ["e2"], ["y"], name="/c/Cos"),
    ]
    path = save(model(nodes), tmp_path / "u.onnx")
    out = tmp_path / "u.yaml"
    assert main(["import", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "3 unsupported ONNX ops" in err and "Erf ×2 (/a/Erf, /b/Erf" in err and "Cos ×1" in err
    assert err.startswith("archcost: error:") and "Traceback" not in err
    assert not out.exists()
    assert main(["analyze", str(path)]) == 2


def test_symbolic_and_several_inputs_need_an_input_shape(tmp_path):
    from onnx import TensorProto, helper

    m = model([node("Relu", ["x"], ["y"])], shape=["N", 3, "H", "W"])
    with pytest.raises(SpecError, match="symbolic"):
        load(tmp_path, m)
    assert load(tmp_path, m, input="3x16x16").costs().rows[0].output_shape == (3, 16, 16)
    two = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 8, 8]) for n in "xz"]
    m = model([node("Add", ["x", "z"], ["y"])], inputs=two)
    with pytest.raises(SpecError, match="2 graph inputs"):
        load(tmp_path, m)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "not a"), (b"archcost: 1\nname: x\n", "not a"), (None, "truncated or corrupt")],
)
def test_bad_files_get_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.onnx"
    if content is None:
        good = save(
            model([node("Conv", ["x", "w"], ["y"])], [weight("w", 4, 3, 3, 3)]),
            tmp_path / "good.onnx",
        ).read_bytes()
        content = good[: len(good) // 2]
    path.write_bytes(content)
    assert main(["import", str(path), "-o", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archcost: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "o.yaml").exists()


def test_missing_external_data(tmp_path, capsys):
    import onnx

    m = model([node("Conv", ["x", "w"], ["y"])], [weight("w", 64, 3, 3, 3)])
    onnx.save(
        m,
        str(tmp_path / "ext.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="ext.data",
        size_threshold=0,
    )
    assert archcost.load(tmp_path / "ext.onnx").totals["params"] == 64 * 27
    (tmp_path / "ext.data").unlink()
    assert main(["analyze", str(tmp_path / "ext.onnx")]) == 2
    assert "ext.data" in capsys.readouterr().err


def test_opset_outside_the_supported_range(tmp_path, capsys):
    path = save(model([node("Relu", ["x"], ["y"])], opset=6), tmp_path / "old.onnx")
    assert main(["analyze", str(path)]) == 2
    assert "opset 6 is outside" in capsys.readouterr().err


def test_without_the_extra_an_install_hint(tmp_path, capsys, monkeypatch):
    path = save(model([node("Relu", ["x"], ["y"])]), tmp_path / "m.onnx")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'archcost[onnx]'" in err and "Traceback" not in err


def test_the_input_is_never_overwritten(tmp_path, capsys):
    path = save(model([node("Relu", ["x"], ["y"])]), tmp_path / "m.onnx")
    before = path.read_bytes()
    assert main(["import", str(path), "-o", str(path)]) == 2
    assert path.read_bytes() == before


def test_every_mapped_op_is_listed_for_the_readme():
    from archcost.onnx.importer import OPS

    assert {"Conv", "Gemm", "MatMul", "BatchNormalization", "Clip", "Slice"} <= set(OPS)
    assert all(op.kinds for op in OPS.values())


def test_the_readme_tables_are_generated_from_the_code():
    from archcost.onnx.table import START, replace

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert START in readme
    assert replace(readme) == readme, "run scripts/gen_onnx_ops.py"


def test_unsupported_zero_counts_the_rest_and_marks_the_gap(tmp_path, capsys):
    nodes = [
        node("Conv", ["x", "w"], ["c"], name="/conv/Conv"),
        node("Erf", ["c"], ["e"], name="/act/Erf"),
        node("Relu", ["e"], ["y"], name="/relu/Relu"),
    ]
    path = save(model(nodes, [weight("w", 4, 3, 3, 3)]), tmp_path / "u.onnx")
    out = tmp_path / "u.yaml"
    assert main(["import", str(path), "-o", str(out), "--unsupported", "zero"]) == 0
    assert "1 ONNX op: Erf ×1" in capsys.readouterr().err
    mdl = archcost.load(out)
    kinds = [(r.kind, r.macs, r.flops, r.memory_access) for r in rows(mdl)]
    assert kinds[0][:2] == ("conv", 4 * 27 * 36)  # counted as usual
    assert kinds[1] == ("unsupported", 0, 0, 0)  # the gap, marked
    assert mdl.description.startswith("⚠ INCOMPLETE")
    assert main(["analyze", str(path), "--set", "unsupported=zero", "--format", "csv"]) == 0
    assert ",unsupported," in capsys.readouterr().out
    # validate runs the stand-in (zeros of its shape) and checks the rest.
    assert main(["validate", str(out)]) == 0
    assert "unsupported" in capsys.readouterr().out


def test_input_and_unsupported_options_on_every_spec_command(tmp_path, capsys):
    path = save(
        model([node("Erf", ["x"], ["e"]), node("Relu", ["e"], ["y"])], shape=["N", 3, "H", "W"]),
        tmp_path / "s.onnx",
    )
    assert (
        main(
            ["analyze", str(path), "--input", "3x16x16", "--unsupported", "zero", "--format", "csv"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "e,unsupported,input,3x16x16,3x16x16,0,0,0,0,768,0" in out  # 3·16·16 outputs
    assert main(["explain", str(path), "y", "--input", "3x16x16"]) == 2  # Erf refused
    assert "--unsupported zero" in capsys.readouterr().err


def test_names_from_the_dynamo_exporters_scope_metadata(tmp_path):
    conv = node("Conv", ["x", "w"], ["y"], name="node_Conv_12")
    entry = conv.metadata_props.add()
    entry.key, entry.value = (
        "pkg.torch.onnx.name_scopes",
        "['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d']",
    )
    mdl = load(tmp_path, model([conv], [weight("w", 4, 3, 3, 3)]))
    assert mdl.layers == ["layer1.0.conv1"]


def test_compare_whatif_and_html_take_an_onnx_file(tmp_path, capsys):
    nodes = [
        node("Conv", ["x", "w"], ["c"], name="/stem/Conv", pads=[1, 1, 1, 1]),
        node("Erf", ["c"], ["y"], name="/act/Erf"),
    ]
    path = save(model(nodes, [weight("w", 8, 3, 3, 3)]), tmp_path / "n.onnx")
    assert (
        main(["compare", f"{path}@unsupported=zero,input=3x16x16", "examples/grouped_vs_standard"])
        == 0
    )
    assert "55.3K" in capsys.readouterr().out  # 8·27·16·16 = 55,296 MACs at the new size
    out = tmp_path / "w.yaml"
    assert (
        main(
            ["whatif", str(path), "--unsupported", "zero", "--rewrite", "separable", "-o", str(out)]
        )
        == 0
    )
    assert archcost.load(out).totals["macs"] == 3 * 9 * 64 + 8 * 3 * 64  # dw + pw at 8x8
    html = tmp_path / "r.html"
    assert main(["analyze", str(path), "--unsupported", "zero", "--html", str(html)]) == 0
    assert "⚠ INCOMPLETE: 1 ONNX op: Erf ×1" in html.read_text(encoding="utf-8")


def test_a_hostile_constant_is_not_folded(tmp_path, capsys):
    """ConstantOfShape asked for 10^12 elements: refused as unsupported, never allocated."""
    nodes = [
        node("ConstantOfShape", ["huge"], ["zeros"]),
        node("ReduceSum", ["zeros"], ["total"], keepdims=0),
        node("Add", ["x", "total"], ["y"]),
    ]
    path = save(model(nodes, [ints("huge", [10**12])]), tmp_path / "h.onnx")
    assert main(["analyze", str(path)]) == 2
    assert (
        "ConstantOfShape ×1 (zeros: cannot be evaluated as a constant)" in capsys.readouterr().err
    )
