"""Branching graphs: residual with `when`, concat, channel_split, repeat, include, names."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

import archcost

RESIDUAL = """
archcost: 1
name: residual
input: [16, 8, 8]
blocks:
  basic:
    args: {out: null, stride: 1}
    layers:
      - {name: conv_a, type: conv, out: "${out}", kernel: 3, stride: "${stride}", padding: 1, bias: false}
      - {type: batchnorm}
      - {type: relu}
      - {name: conv_b, type: conv, out: "${out}", kernel: 3, padding: 1, bias: false}
      - {name: add, type: add, inputs: [input, conv_b], when: "${stride == 1 and in_channels == out}"}
      - {type: relu}
layers:
  - {name: stage1, use: basic, out: 16, repeat: 2}
  - {name: down, use: basic, out: 32, stride: 2}
"""


def test_residual_when_adds_only_where_shapes_allow(write_spec):
    model = archcost.load(write_spec(RESIDUAL))
    names = model.layers
    assert "stage1_1.add" in names and "stage1_2.add" in names
    assert "down.add" not in names                       # skipped: stride 2 and 16 != 32
    g = model.graph
    nodes = model.nodes
    assert nodes["stage1_1.add"].inputs == ("input", "stage1_1.conv_b")
    assert nodes["stage1_2.add"].inputs == ("stage1_1.relu2", "stage1_2.conv_b")
    # the skipped add passes conv_b through to the final relu
    assert nodes["down.relu2"].inputs == ("down.conv_b",)
    # the name of a repeated block means its last copy
    assert nodes["down.conv_a"].inputs == ("stage1_2.relu2",)
    assert nodes["down.relu2"].output_shapes[0].dims == (32, 4, 4)
    assert nx.is_directed_acyclic_graph(g)
    # params: 3 convs 16->16 (x2 blocks) ... counted independently here
    expected = 2 * (2 * 16 * 16 * 9 + 2 * 16) + (32 * 16 * 9 + 32 * 32 * 9 + 2 * 32)
    assert model.totals["params"] == expected


def test_concat_of_two_branches(write_spec):
    model = archcost.load(write_spec("""
        archcost: 1
        name: inception-ish
        input: [8, 10, 10]
        layers:
          - {name: a, type: pointwise_conv, out: 4}
          - {name: b, type: conv, out: 6, kernel: 3, padding: 1, inputs: input}
          - {name: c, type: maxpool, kernel: 3, stride: 1, padding: 1, inputs: input}
          - {name: cat, type: concat, inputs: [a, b, c]}
    """))
    assert model.nodes["cat"].output_shapes[0].dims == (18, 10, 10)
    assert set(model.graph.predecessors("cat")) == {"a", "b", "c"}
    # maxpool 3x3: 8 comparisons per output, 8·10·10 outputs
    assert {r.name: r.flops for r in model.costs().rows}["c"] == 8 * 8 * 100


def test_shufflenet_v2_unit_with_channel_split(write_spec):
    model = archcost.load(write_spec("""
        archcost: 1
        name: v2unit
        input: [116, 28, 28]
        blocks:
          unit:
            layers:
              - {name: split, type: channel_split}
              - {type: pointwise_conv, out: "${in_channels // 2}", inputs: "split:1", bias: false}
              - {type: depthwise_conv, kernel: 3, padding: 1, bias: false}
              - {name: pw2, type: pointwise_conv, out: "${in_channels // 2}", bias: false}
              - {name: cat, type: concat, inputs: ["split:0", pw2]}
              - {type: channel_shuffle, groups: 2}
        layers:
          - {name: unit, use: unit, repeat: 3}
    """))
    nodes = model.nodes
    assert nodes["unit2.cat"].inputs == ("unit2.split", "unit2.pw2")
    assert nodes["unit2.cat"].ports == (0, None)
    assert nodes["unit2.pointwise_conv1"].ports == (1,)
    assert [s.dims for s in nodes["unit1.split"].output_shapes] == [(58, 28, 28)] * 2
    macs = model.totals["macs"]
    # per unit: two 1x1 58->58 and one dw 3x3 on 58 channels, all at 28x28
    assert macs == 3 * (2 * 58 * 58 + 58 * 9) * 28 * 28


def test_repeat_naming_and_repeat_index(write_spec):
    model = archcost.load(write_spec("""
        archcost: 1
        name: rep
        input: [4, 16, 16]
        layers:
          - {name: conv5, type: conv, out: 4, kernel: 3, padding: 1, repeat: 2}
          - {type: conv, out: 4, kernel: 3, padding: 1, stride: "${2 if repeat_index == 0 else 1}", repeat: 3}
          - {type: relu}
    """))
    assert model.layers == ["conv5_1", "conv5_2", "conv1", "conv2", "conv3", "relu1"]
    assert model.nodes["conv3"].output_shapes[0].dims == (4, 8, 8)


def test_include_brings_blocks(write_spec):
    write_spec("""
        archcost: 1
        blocks:
          dw_separable:
            args: {out: null, stride: 1}
            layers:
              - {type: depthwise_conv, kernel: 3, stride: "${stride}", padding: 1, bias: false}
              - {type: pointwise_conv, out: "${out}", bias: false}
    """, "blocks/common.yaml")
    path = write_spec("""
        archcost: 1
        name: inc
        input: [32, 14, 14]
        include: blocks/common.yaml
        layers:
          - {use: dw_separable, out: 64, stride: 2}
    """)
    model = archcost.load(path)
    assert model.layers == ["dw_separable1.depthwise_conv1", "dw_separable1.pointwise_conv1"]
    assert model.totals["macs"] == 32 * 9 * 7 * 7 + 32 * 64 * 7 * 7


def test_params_overrides_and_integral_floats(write_spec):
    path = write_spec("""
        archcost: 1
        name: knobs
        input: [3, "${resolution}", "${resolution}"]
        params: {width: 1.0, resolution: 224}
        layers:
          - {type: conv, out: "${64 * width}", kernel: 3, stride: 2, padding: 1, bias: false}
    """)
    model = archcost.load(path, width=0.75, resolution=160)
    assert model.input_shape == (3, 160, 160)
    assert model.costs().rows[0].output_shape == (48, 80, 80)
    assert model.label == "knobs (width=0.75, resolution=160)"


def test_3d_conv_and_pool(write_spec):
    model = archcost.load(write_spec("""
        archcost: 1
        name: c3d
        input: [3, 16, 112, 112]
        layers:
          - {type: conv, out: 64, kernel: 3, padding: 1}
          - {type: maxpool, kernel: [1, 2, 2]}
          - {type: global_avgpool}
    """))
    rows = model.costs().rows
    assert rows[0].output_shape == (64, 16, 112, 112)
    assert rows[0].macs == 64 * 3 * 27 * 16 * 112 * 112
    assert rows[1].output_shape == (64, 16, 56, 56)
    assert rows[2].output_shape == (64, 1, 1, 1)


def test_batch_and_dtype_scale_what_they_should(write_spec):
    model = archcost.load(write_spec("""
        archcost: 1
        name: b
        input: [3, 8, 8]
        layers:
          - {type: conv, out: 4, kernel: 3}
          - {type: batchnorm}
    """))
    one, many = model.costs(), model.costs(batch=8, dtype="float16")
    assert many.totals["params"] == one.totals["params"]
    assert many.totals["macs"] == 8 * one.totals["macs"]
    assert many.totals["activations"] == 8 * one.totals["activations"]
    conv = one.rows[0]
    # float32: 4·(3·8·8 + 4·6·6 + 4·3·9 + 4)
    assert conv.memory_access == 4 * (192 + 144 + 112)
    assert many.rows[0].memory_access == 2 * (8 * (192 + 144) + 112)
    assert one.rows[1].buffers == 8 and one.rows[1].params == 8
    # peak: input (192) + conv (144) while conv runs; then conv + bn = 288
    assert one.totals["peak_activation_bytes"] == 4 * 336


def test_same_padding_tensorflow_rule(write_spec):
    model = archcost.load(write_spec("""
        archcost: 1
        name: same
        input: [1, 7, 8]
        layers:
          - {type: conv, out: 1, kernel: 3, stride: 2, padding: same}
          - {type: maxpool, kernel: 3, stride: 2, padding: same, inputs: input}
    """))
    rows = model.costs().rows
    assert rows[0].output_shape == (1, 4, 4)   # ceil(7/2), ceil(8/2)
    assert rows[1].output_shape == (1, 4, 4)


def test_repeat_index_reaches_into_a_repeated_block(write_spec):
    model = archcost.load(write_spec("""
        archcost: 1
        name: r
        input: [8, 8, 8]
        blocks:
          b: {layers: [{type: conv, out: "${8 + repeat_index}", kernel: 1}]}
        layers: [{name: x, use: b, repeat: 2}]
    """))
    assert model.nodes["x2.conv1"].output_shapes[0].dims == (9, 8, 8)


def test_requires_refuses_knobs_with_the_message(write_spec):
    path = write_spec("""
        archcost: 1
        name: req
        input: [3, 8, 8]
        params: {width: 1.0}
        requires:
          - {check: "${width == 0.5 or width == 1.0}", message: "width must be 0.5 or 1.0"}
        layers: [{type: relu}]
    """)
    assert archcost.load(path, width=0.5).knobs["width"] == 0.5
    import pytest
    with pytest.raises(archcost.SpecError, match=r"net.yaml:6: width must be 0.5 or 1.0 \(got width=0.75\)"):
        archcost.load(path, width=0.75)


def test_name_takes_knobs_and_label_shows_only_the_others(write_spec):
    path = write_spec("""
        archcost: 1
        name: "Net ${width}x"
        input: [3, 8, 8]
        params: {width: 1.0, resolution: 8}
        layers: [{type: relu}]
    """)
    assert archcost.load(path).name == "Net 1x"
    model = archcost.load(path, width=0.5, resolution=8)
    assert model.name == "Net 0.5x"
    assert model.label == "Net 0.5x (resolution=8)"


def test_block_arg_defaults_may_use_in_channels_and_earlier_args(write_spec):
    model = archcost.load(write_spec("""
        archcost: 1
        name: defaults
        input: [16, 8, 8]
        blocks:
          b:
            args: {expand: 4, mid: "${in_channels * expand}"}
            layers: [{type: pointwise_conv, out: "${mid}"}]
        layers: [{use: b}, {use: b, expand: 2}]
    """))
    assert [model.nodes[n].output_shapes[0].c for n in model.layers] == [64, 128]


def test_analyze_json_imports_no_networkx_and_the_graph_is_built_on_demand():
    """Cold start: loading and costing use the standard library; Model.graph builds the
    networkx.DiGraph only when asked, with the frozen Node on every node."""
    import subprocess
    import sys
    spec = Path(__file__).resolve().parent.parent / "specs" / "mobilenet_v1.yaml"
    code = ("import sys, io, contextlib\n"
            "from archcost.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['analyze', {str(spec)!r}, '--format', 'json']) == 0\n"
            "print(','.join(m for m in ('networkx', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    model = archcost.load(spec)
    g = model.graph
    assert list(g.nodes) == list(model.nodes)      # definition order = schedule here
    assert all(g.nodes[n]["node"] is model.nodes[n] for n in g.nodes)
    assert sorted(g.edges) == sorted((src, n) for n in model.nodes
                                     for src in set(model.nodes[n].inputs))
