"""Two tiny specs the report tests share: a residual network (a report has to draw a
branch) and a ShuffleNet-V2-style split/shuffle."""

RESIDUAL = """
    archcost: 1
    name: TinyRes
    description: a stem, two residual units and a classifier
    input: [3, 32, "${resolution}"]
    params: {width: 1.0, resolution: 32}
    blocks:
      unit:
        args: {out: null}
        layers:
          - {name: conv1, type: conv, out: "${out}", kernel: 3, padding: 1, bias: false}
          - {name: bn1, type: batchnorm}
          - {name: relu1, type: relu}
          - {name: conv2, type: conv, out: "${out}", kernel: 3, padding: 1, bias: false}
          - {name: add, type: add, inputs: [input, conv2]}
    layers:
      - {name: conv1, type: conv, out: "${int(16 * width)}", kernel: 3, stride: 2, padding: 1}
      - {name: stage1, use: unit, out: "${int(16 * width)}", repeat: 2}
      - {name: pool, type: global_avgpool}
      - {name: fc, type: linear, out: 10}
"""
SHUFFLE = """
    archcost: 1
    name: TinyShuffle
    input: [3, 32, 32]
    params: {groups: 2}
    layers:
      - {name: conv1, type: conv, out: 24, kernel: 3, stride: 2, padding: 1}
      - {name: split, type: channel_split, sections: 2}
      - {name: pw, type: pointwise_conv, out: 12, inputs: "split:1"}
      - {name: dw, type: depthwise_conv, kernel: 3, padding: 1}
      - {name: cat, type: concat, inputs: ["split:0", dw]}
      - {name: shuffle, type: channel_shuffle, groups: "${groups}"}
      - {name: fc_pool, type: global_avgpool}
      - {name: fc, type: linear, out: 10}
"""
