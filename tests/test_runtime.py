"""archcost.runtime: onnxruntime measurements, kernel coverage, fitting, prediction.

The independent source for fusions and kernels is onnxruntime itself (its optimised
graph and profiler); fitting is checked on data generated from known coefficients;
kernel types against the kinds the specs were written with. No test asserts on wall
time: only on the structure of measurements (medians within their range, every node
covered once).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import archcost  # noqa: E402
from archcost.errors import SpecError  # noqa: E402
from archcost.roofline import load_profile, parse_profile  # noqa: E402
from archcost.layers import REGISTRY  # noqa: E402
from archcost.layers.act import BatchNorm, Relu  # noqa: E402
from archcost.layers.base import Shape  # noqa: E402
from archcost.layers.conv import Conv, DepthwiseConv, PointwiseConv  # noqa: E402
from archcost.layers.merge import Add, ChannelSplit  # noqa: E402
from archcost.layers.pool import MaxPool  # noqa: E402
from archcost.runtime import micro, ort  # noqa: E402
from archcost.runtime.calibrate import Config, calibrate, profile_yaml, two_conv_model  # noqa: E402
from archcost.runtime.micro import Step  # noqa: E402
from archcost.runtime.predict import (  # noqa: E402
    KernelModel,
    RuntimeProfile,
    fit,
    fit_robust,
    kernel_type,
    mismatch_warning,
    predict,
)


def _original_nodes(model: bytes) -> list[str]:
    import onnx

    return ort.node_names(onnx.load_from_string(model))


def _layers(covers) -> tuple[str, ...]:
    """The archcost layers a kernel covers (the exporter names nodes /<layer>/<Op>)."""
    return tuple(dict.fromkeys(ort.layer_of(n) for n in covers))


def _conv_then(followers, c=16, size=14) -> bytes:
    """A 3x3 conv named 'conv', then each (name, layer) in turn."""
    steps = [Step("conv", Conv(out=c, kernel=3, padding=1), ("x",))]
    for name, layer in followers:
        steps.append(Step(name, layer, (steps[-1].name,)))
    return micro.network(steps, {"x": Shape((c, size, size))})


@pytest.mark.parametrize(
    "followers",
    [
        (),
        ("batchnorm", "relu"),
        ("batchnorm", "add", "relu"),
        ("relu", "add"),
        ("hswish",),
        ("swish",),
    ],
    ids=lambda f: "+".join(f) or "conv",
)
def test_every_original_node_is_covered_by_one_kernel_or_its_pieces(followers):
    model = two_conv_model([REGISTRY[kind] for kind in followers])
    kernels = ort.profile_kernels(model, 1, warmup=0, runs=1)
    covered = [n for k in kernels for n in k.covers]
    assert set(covered) == set(_original_nodes(model))
    for node in set(covered):  # several kernels: the pieces a node was split into
        pieces = [k for k in kernels if node in k.covers]
        assert len(pieces) == 1 or all(k.covers == (node,) for k in pieces), pieces
    assert all(k.measured_s >= 0 for k in kernels)


def test_conv_batchnorm_add_relu_is_one_kernel_in_onnxruntime():
    # onnxruntime's NCHWc transformer folds BN into the conv and fuses the residual add
    # and the relu after it (its Conv "Sum" input): one kernel covers all four.
    kernels = ort.profile_kernels(two_conv_model((BatchNorm, Add, Relu)), 1, warmup=0, runs=1)
    fused = [k for k in kernels if "b" in _layers(k.covers)]
    assert len(fused) == 1
    assert _layers(fused[0].covers) == ("b", "f0_batchnorm", "f1_add", "f2_relu")
    # an add after an activation is not fused: it stays its own kernel
    kernels = ort.profile_kernels(two_conv_model((Relu, Add)), 1, warmup=0, runs=1)
    assert [_layers(k.covers) for k in kernels if "f1_add" in _layers(k.covers)] == [("f1_add",)]


def test_measure_reports_median_spread_probe_and_kernels():
    model = _conv_then([("relu0", Relu())])
    m = ort.measure(model, threads=1, warmup=1, runs=5, profile_runs=3)
    s = m.latency
    assert s.runs == 5 and s.min <= s.q1 <= s.median <= s.q3 <= s.max
    assert m.probe_s > 0 and m.version and m.runtime == "onnxruntime"
    assert sorted(n for k in m.kernels for n in k.covers) == ["/conv/Conv", "/relu0/Relu"]
    times = m.layer_times()
    assert times["/relu0/Relu"] == 0.0 and times["/conv/Conv"] > 0  # fused: the head carries it


def test_a_model_onnxruntime_cannot_run_names_the_node():
    import numpy as np
    import onnx
    from onnx import numpy_helper

    bad = onnx.load_from_string(micro.single(Conv(out=8, kernel=3, padding=1), [Shape((8, 7, 7))]))
    bad.graph.node[0].name = "stage2.conv"
    # a weight for 4 input channels on an 8-channel input: the Conv cannot run
    [weight] = [w for w in bad.graph.initializer if w.name == "layer.weight"]
    weight.CopyFrom(numpy_helper.from_array(np.zeros((8, 4, 3, 3), np.float32), "layer.weight"))
    with pytest.raises(SpecError, match="onnxruntime cannot run") as info:
        ort.measure(bad.SerializeToString(), runs=1, warmup=0, kernels=False)
    assert info.value.layer == "stage2.conv"


def test_missing_runtime_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ort.RuntimeMissing, match="not installed") as info:
        ort.import_onnxruntime()
    assert "pip install" in str(info.value)


def test_fit_recovers_known_coefficients():
    # data generated from fixed=2 µs, 10 G MAC/s, 5 GB/s: the fit must give them back
    macs = [0, 10**6, 5 * 10**6, 2 * 10**7, 3 * 10**5, 8 * 10**6]
    nbytes = [10**4, 2 * 10**5, 10**6, 4 * 10**5, 3 * 10**6, 5 * 10**5]
    t = [2e-6 + m / 1e10 + b / 5e9 for m, b in zip(macs, nbytes, strict=True)]
    model = fit(macs, nbytes, t)
    assert model.fixed_s == pytest.approx(2e-6, rel=1e-6)
    assert model.macs_per_s == pytest.approx(1e10, rel=1e-6)
    assert model.bytes_per_s == pytest.approx(5e9, rel=1e-6)
    assert model.error < 1e-9


def test_fit_with_a_floor_still_recovers_exact_data():
    # the floor only reweights the samples: exact data gives the same coefficients
    macs = [0, 10**6, 5 * 10**6, 2 * 10**7]
    nbytes = [10**4, 2 * 10**5, 10**6, 4 * 10**5]
    t = [1e-6 + m / 2e10 + b / 4e9 for m, b in zip(macs, nbytes, strict=True)]
    model = fit(macs, nbytes, t, floor_s=2e-6)
    assert model.fixed_s == pytest.approx(1e-6, rel=1e-6)
    assert model.macs_per_s == pytest.approx(2e10, rel=1e-6)


def test_a_sub_microsecond_outlier_weighs_no_more_than_the_floor():
    # nine samples on 1 µs + bytes / 1 GB/s and one at 0.01 µs (a difference of two
    # medians gone to nothing): without a floor its relative error dominates the fit
    nbytes = [1000 * i for i in range(1, 10)] + [1000]
    t = [1e-6 + b / 1e9 for b in nbytes[:-1]] + [1e-8]
    floored = fit([0] * 10, nbytes, t, floor_s=2e-6)
    plain = fit([0] * 10, nbytes, t)
    truth = [1e-6 + b / 1e9 for b in nbytes[:-1]]
    err = [abs(floored.seconds(0, b) / x - 1) for b, x in zip(nbytes, truth, strict=False)]
    err_plain = [abs(plain.seconds(0, b) / x - 1) for b, x in zip(nbytes, truth, strict=False)]
    assert max(err) < max(err_plain)


def test_the_robust_fit_recovers_a_known_law_that_spoiled_samples_hide():
    # 40 samples of 2 µs + MACs / 40 GMAC/s + bytes / 20 GB/s, with ±3% noise; then the
    # spoils a shared machine makes: 6 samples whose kernel came out at or below zero
    # once the fixed costs came off (kept at the floor of 0.1 µs, as calibrate keeps
    # them) and 4 timed in a spell of interference (2.5× slow)
    import random

    rng = random.Random(3)
    macs = [rng.randrange(10**5, 10**8) for _ in range(50)]
    nbytes = [rng.randrange(10**4, 10**7) for _ in range(50)]
    law = [2e-6 + m / 40e9 + b / 20e9 for m, b in zip(macs, nbytes, strict=True)]
    t = [x * rng.uniform(0.97, 1.03) for x in law]
    for i in range(40, 46):
        t[i] = 1e-7
    for i in range(46, 50):
        t[i] *= 2.5
    robust = fit_robust(macs, nbytes, t, floor_s=2e-6, least_s=1e-7)
    plain = fit(macs, nbytes, t, floor_s=2e-6)
    assert robust.macs_per_s == pytest.approx(40e9, rel=0.05)
    assert robust.bytes_per_s == pytest.approx(20e9, rel=0.15)
    assert robust.samples == 40
    # the plain fit is pulled off the law by the same samples
    worst = max(abs(plain.seconds(m, b) / x - 1) for m, b, x in zip(macs, nbytes, law, strict=True))
    assert worst > 0.2
    assert (
        max(abs(robust.seconds(m, b) / x - 1) for m, b, x in zip(macs, nbytes, law, strict=True))
        < 0.06
    )


def test_fit_never_gives_negative_coefficients():
    # time falls as bytes grow: an unconstrained fit would give a negative byte rate
    model = fit([0, 0, 0], [1000, 2000, 3000], [3e-6, 2e-6, 1e-6])
    assert model.fixed_s >= 0 and model.bytes_per_s > 0 and model.macs_per_s > 0


@pytest.mark.parametrize(
    "spec, kind, expected",
    [
        ("mobilenet_v1", "depthwise_conv", "depthwise"),
        ("mobilenet_v1", "pointwise_conv", "pointwise"),
        ("mobilenet_v1", "linear", "linear"),
        ("resnext50_32x4d", "grouped_conv", "grouped"),
        ("vgg16", "conv", "conv"),
        ("resnet50", "conv", "conv"),
        ("shufflenet_v2", "channel_split", "view"),
    ],
)
def test_kernel_types_from_weight_shapes_match_the_kinds_written(spec, kind, expected):
    model = archcost.load(f"specs/{spec}.yaml")
    rows = [r for r in model.costs().rows if r.kind == kind]
    assert rows
    if kind == "conv":  # the RGB stem is its own type
        stems = [r for r in rows if r.input_shapes[0][0] == 3]
        rows = [r for r in rows if r.input_shapes[0][0] > 4]
        assert stems and all(kernel_type(r, _layer_obj(model, r.name)) == "stem" for r in stems)
    for r in rows:
        assert kernel_type(r, model.nodes[r.name].layer) == expected, r.name


def _layer_obj(model, name):
    attrs = model.graph.nodes[name]
    return attrs["node"].layer if "node" in attrs else attrs["layer"]


def _profile(**kw) -> RuntimeProfile:
    flat = KernelModel(fixed_s=1e-6, macs_per_s=math.inf, bytes_per_s=1e10)
    conv = KernelModel(fixed_s=2e-6, macs_per_s=1e10, bytes_per_s=math.inf)
    kernels = {k: conv for k in ("conv", "pointwise", "depthwise", "grouped", "linear")}
    kernels["elementwise"] = flat
    defaults = dict(
        name="t",
        peak_macs_per_s=1e10,
        bandwidth_bytes_per_s=1e10,
        runtime="onnxruntime",
        runtime_version="0.0",
        kernels=kernels,
        fusions=(("conv", "batchnorm"), ("conv", "batchnorm", "relu")),
        run_overhead_s=5e-6,
        probe_s=1e-3,
    )
    defaults.update(kw)
    return RuntimeProfile(**defaults)


def write_profile(profile: RuntimeProfile, path: Path) -> Path:
    """The profile as its YAML file (the CLI writes it through commands.files)."""
    path.write_text(profile_yaml(profile), encoding="utf-8")
    return path


def test_fused_layers_take_no_time_and_name_their_kernel():
    model = archcost.load("specs/mobilenet_v1.yaml")
    rows = model.costs().rows
    est = predict(model, _profile())
    by = {e.name: e for e in est}
    for r, e in zip(rows, est, strict=True):
        if r.kind == "batchnorm":
            assert e.seconds == 0 and e.bound == "fused" and e.fused_into is not None
            head = by[e.fused_into]
            assert head.macs > 0 and head.seconds > 0
        if r.macs:  # the conv model by hand: 2 µs + MACs / 1e10
            assert e.seconds == pytest.approx(2e-6 + r.macs / 1e10)
            assert e.bound == "compute"
    # without fusions every batchnorm is its own elementwise kernel
    plain = predict(model, _profile(fusions=()))
    bn = [(r, e) for r, e in zip(rows, plain, strict=True) if r.kind == "batchnorm"]
    assert all(e.seconds == pytest.approx(1e-6 + r.memory_access / 1e10) for r, e in bn)


def test_runtime_profile_yaml_round_trips(tmp_path):
    p = _profile()
    path = write_profile(p, tmp_path / "p.yaml")
    q = load_profile(str(path))
    assert isinstance(q, RuntimeProfile)
    assert q.fusions == p.fusions and q.threads == 1 and q.runtime_version == "0.0"
    for k, m in p.kernels.items():
        assert q.kernels[k].fixed_s == pytest.approx(m.fixed_s, rel=1e-3)
        assert q.kernels[k].macs_per_s == pytest.approx(m.macs_per_s, rel=1e-3)
    assert q.probe_s == pytest.approx(1e-3, rel=1e-3)


def test_bad_runtime_profile_is_one_located_error():
    text = profile_yaml(_profile()).replace("threads: 1", "threads: many")
    with pytest.raises(SpecError, match="threads") as info:
        parse_profile(text, "p.yaml")
    assert info.value.line is not None


def test_profile_from_another_version_warns():
    import onnxruntime

    assert mismatch_warning(_profile(runtime_version=onnxruntime.__version__)) is None
    assert "re-run archcost calibrate" in mismatch_warning(_profile(runtime_version="0.0"))
    assert "tvm" in mismatch_warning(_profile(runtime="tvm"))


def test_calibration_micro_models_count_as_archcost_does(tmp_path):
    # the calibration's MACs/bytes of a micro-model == archcost's counts of the same layer
    spec = {
        "archcost": 1,
        "name": "m",
        "input": [24, 28, 28],
        "layers": [
            {"name": "dw", "type": "depthwise_conv", "kernel": 3, "stride": 2, "padding": 1},
            {"name": "pw", "type": "pointwise_conv", "out": 40},
            {"name": "bn", "type": "batchnorm"},
            {"name": "pool", "type": "maxpool", "kernel": 3, "stride": 2, "padding": 1},
        ],
    }
    import yaml

    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    model = archcost.load(path)
    rows = {r.name: r for r in model.costs().rows}
    cases = {
        "dw": Config.of(DepthwiseConv(kernel=3, stride=2, padding=1), (Shape((24, 28, 28)),)),
        "pw": Config.of(PointwiseConv(out=40), (Shape((24, 14, 14)),)),
        "bn": Config.of(BatchNorm(), (Shape((40, 14, 14)),)),
        "pool": Config.of(MaxPool(kernel=3, stride=2, padding=1), (Shape((40, 14, 14)),)),
    }
    for name, config in cases.items():
        assert (config.macs, config.nbytes) == (rows[name].macs, rows[name].memory_access), name
    # a split is a view in archcost's counts; onnxruntime copies, and the calibration
    # counts the copy: 40·7·7 floats read, the two halves written
    split = Config.of(ChannelSplit(), (Shape((40, 7, 7)),))
    assert split.nbytes == 4 * 2 * 40 * 7 * 7


def test_a_tiny_calibration_fits_and_writes_a_loadable_profile(tmp_path):
    p = calibrate(threads=1, budget_s=0.5, initial=3, types=("relu", "pointwise"))
    assert set(p.kernels) == {"relu", "pointwise", "elementwise"}
    assert ("conv", "batchnorm") in p.fusions  # onnxruntime folds BN into Conv
    assert p.probe_s > 0 and p.threads == 1
    q = load_profile(str(write_profile(p, tmp_path / "p.yaml")))
    # the samples it was fitted on (a robust fit may set a spoiled one aside) survive YAML
    assert q.kernels["pointwise"].samples == p.kernels["pointwise"].samples >= 1


def test_bench_an_onnx_file_reports_issue_13_json(tmp_path):
    import json

    from archcost.report.latency import runtime_bench_csv, runtime_bench_json
    from archcost.runtime.bench import bench as runtime_bench

    path = tmp_path / "m.onnx"
    path.write_bytes(_conv_then([("batchnorm0", BatchNorm()), ("relu1", Relu())], c=8))
    result = runtime_bench(path, threads=1, runs=3, warmup=1, profile_runs=2)
    doc = json.loads(runtime_bench_json(result))
    assert {"runtime", "threads", "measured_s", "probe_s", "layers"} <= set(doc)
    assert doc["runtime"] == "onnxruntime" and doc["threads"] == 1
    fused = [row for row in doc["layers"] if row["covers"] and row["covers"][0] == "conv"]
    assert fused and fused[0]["covers"] == ["conv", "batchnorm0", "relu1"]
    assert doc["spread"]["min_s"] <= doc["measured_s"] <= doc["spread"]["max_s"]
    assert runtime_bench_csv(result).splitlines()[0] == "name,op,measured_s,covers"


def test_bench_a_missing_onnx_file_is_a_spec_error(tmp_path):
    from archcost.runtime.bench import bench as runtime_bench

    with pytest.raises(SpecError, match="no such ONNX file"):
        runtime_bench(tmp_path / "nope.onnx")


def test_analyze_json_with_a_runtime_profile_has_latency_per_layer_and_total():
    import json

    from archcost.report.latency import to_json

    model = archcost.load("specs/mobilenet_v2.yaml")
    profile = _profile()
    costs = model.costs()
    est = predict(model, profile)
    doc = json.loads(to_json(model, costs, est, profile))
    layers = doc["layers"]
    assert all("latency_s" in row and row["latency_s"] == row["estimated_s"] for row in layers)
    assert doc["totals"]["latency_s"] == pytest.approx(
        math.fsum(row["latency_s"] for row in layers) + profile.run_overhead_s
    )
    assert doc["device"]["probe_s"] == profile.probe_s
    bn = [row for row in layers if row["type"] == "batchnorm"]
    assert bn and all(row["bound"] == "fused" and row["fused_into"] for row in bn)
    # relu6 after a conv's batchnorm is not in this profile's fusions: its own kernel
    relu6 = [row for row in layers if row["type"] == "relu6"]
    assert all(row["latency_s"] > 0 and "fused_into" not in row for row in relu6)


def test_latency_figures_show_every_kind_and_escape_names():
    from archcost.report.latency_figures import (
        by_kind,
        fig_compare_latency,
        fig_share_macs_vs_time,
        fig_time_by_kind,
    )

    model = archcost.load("specs/shufflenet_v2.yaml")
    est = predict(model, _profile())
    kinds = by_kind(est)
    assert set(kinds) == {r.kind for r in model.costs().rows}
    # zero-MAC kinds have time of their own here (concat, channel_shuffle are not fused)
    assert kinds["concat"]["seconds"] > 0 and kinds["concat"]["macs"] == 0
    assert math.fsum(v["seconds"] for v in kinds.values()) == pytest.approx(
        math.fsum(e.seconds for e in est)
    )
    fig = fig_time_by_kind(est, _profile())
    assert len(fig.data[0].y) == len(kinds)
    share = fig_share_macs_vs_time(est)
    assert sum(share.data[0].y) == pytest.approx(100) and sum(share.data[1].y) == pytest.approx(100)
    cmp = fig_compare_latency(["<b>a</b>", "b"], [10, 5], [1.0, 1.5])
    assert cmp.data[0].x[0] == "&lt;b&gt;a&lt;/b&gt;"
    assert list(cmp.data[1].y) == [1.0, 1.5]


def test_html_reports_show_latency_when_given_a_runtime_profile():
    from archcost.report.html import render_compare_report, render_model_report

    model = archcost.load("specs/shufflenet_v2.yaml")
    profile = _profile()
    page = render_model_report(model, plotlyjs="cdn", profile=profile)
    total = math.fsum(e.seconds for e in predict(model, profile)) + profile.run_overhead_s
    from archcost.report.latency import human_seconds

    assert "predicted latency" in page and human_seconds(total) in page
    assert "archcost-time-by-kind" in page and "archcost-share-macs-time" in page
    assert '<th class="n">est. time</th><th>bound</th>' in page
    plain = render_model_report(model, plotlyjs="cdn")
    assert "predicted latency" not in plain and "archcost-time-by-kind" not in plain
    cmp = render_compare_report(
        [model, archcost.load("specs/mobilenet_v2.yaml")], plotlyjs="cdn", profile=profile
    )
    assert "archcost-compare-latency" in cmp


def test_a_residual_add_joins_the_conv_before_it_not_the_one_after():
    # MobileNetV2's block boundary: conv b -> bn -> add(a) -> conv c. onnxruntime fuses
    # the add into b's kernel; c's kernel, which the add alone feeds, must not claim it.
    model = micro.network(
        [
            Step("a", PointwiseConv(out=16, bias=False), ("x",)),
            Step("b", Conv(out=16, kernel=3, padding=1, bias=False), ("a",)),
            Step("bn", BatchNorm(), ("b",)),
            Step("add", Add(), ("bn", "a")),
            Step("c", PointwiseConv(out=16, bias=False), ("add",)),
        ],
        {"x": Shape((16, 14, 14))},
    )
    kernels = ort.profile_kernels(model, 1, warmup=0, runs=1)
    by_head = {ort.layer_of(k.covers[0]): _layers(k.covers) for k in kernels if k.covers}
    assert by_head["b"] == ("b", "bn", "add")
    assert by_head["c"] == ("c",)


def test_bundled_profiles_state_their_source():
    from archcost.roofline import bundled_profiles

    for name in bundled_profiles():
        p = load_profile(name)
        source = p.source.lower()
        if source.startswith("measured"):  # a machine, a date
            assert "2026-" in source and ("cpu" in source or "epyc" in source), name
        else:
            assert "datasheet" in source and "peak roofline only" in source, name


def test_a_layer_onnxruntime_cannot_run_is_named_by_its_layer(monkeypatch):
    # the exporter names nodes /<layer>/<Op>; the error names the archcost layer
    from archcost.runtime import bench as runtime_bench

    def refuse(data: bytes, **_: object) -> None:
        raise ort.runtime_error(
            RuntimeError("[ONNXRuntimeError] : 1 : FAIL : Node (/unit.gconv1/Conv) Op (Conv) bad")
        )

    monkeypatch.setattr(runtime_bench, "measure", refuse)
    model = archcost.load("specs/examples/shufflenet_unit.yaml")
    with pytest.raises(SpecError) as info:
        runtime_bench.bench(model)
    assert info.value.layer == "unit.gconv1"
    assert "layer 'unit.gconv1'" in str(info.value)


def test_adaptive_sampling_is_least_sure_far_from_its_samples():
    # noisy samples of small kernels only: the refits disagree more on a kernel 100x
    # larger than on one inside the sampled range, so that is where it measures next
    import random

    from archcost.runtime.calibrate import Sample, _uncertainty

    rng = random.Random(0)
    samples = []
    for i in range(12):
        nbytes = 10_000 * (1 + i)
        noise = 1 + rng.uniform(-0.3, 0.3)
        samples.append(Sample("relu", (), 0, nbytes, (2e-6 + nbytes / 1e10) * noise))
    inside, far = (None, 0, 60_000, 0), (None, 0, 12_000_000, 0)
    spread = _uncertainty(samples, [inside, far], random.Random(1), refits=30)
    assert spread[1] > spread[0]


def test_a_bilinear_upsample_is_priced_by_its_own_kernel_type(tmp_path):
    # nearest is a copy (the generic element-wise model); bilinear runs onnxruntime's
    # linear Resize, about 20x the time per element: its own type, upsample_linear
    spec = tmp_path / "up.yaml"
    spec.write_text(
        "archcost: 1\nname: up\ninput: [16, 8, 8]\nlayers:\n"
        "  - {name: near, type: upsample, scale: 2, mode: nearest}\n"
        "  - {name: bil, type: upsample, scale: 2, mode: bilinear, inputs: input}\n",
        encoding="utf-8",
    )
    model = archcost.load(spec)
    rows = {r.name: r for r in model.costs().rows}
    assert kernel_type(rows["near"], model.nodes["near"].layer) == "upsample"
    assert kernel_type(rows["bil"], model.nodes["bil"].layer) == "upsample_linear"
    linear = KernelModel(fixed_s=3e-6, macs_per_s=math.inf, bytes_per_s=1e8)
    base = _profile()
    est = {
        e.name: e
        for e in predict(model, _profile(kernels={**base.kernels, "upsample_linear": linear}))
    }
    assert est["near"].seconds == pytest.approx(1e-6 + rows["near"].memory_access / 1e10)
    assert est["bil"].seconds == pytest.approx(3e-6 + rows["bil"].memory_access / 1e8)
    # a profile calibrated before the type: the generic model, as before
    old = {e.name: e for e in predict(model, base)}
    assert old["bil"].seconds == pytest.approx(1e-6 + rows["bil"].memory_access / 1e10)


def test_adaptive_sampling_does_not_chase_the_fixed_cost_of_kernels_of_a_few_us(monkeypatch):
    # noisy samples (±30%) of 4.5-880 µs from a law with a 0.5 µs fixed cost, and a pool
    # of candidates from a 0.5 µs kernel to a 400 µs one, over 40 draws: relative to the
    # time alone the refits disagree most on the 0.5 µs kernel (all fixed cost, which no
    # sample pins down) nearly every time; relative to the time plus the 20 µs floor, on
    # a kernel a network spends its time in more often than not
    import random

    from archcost.runtime import calibrate
    from archcost.runtime.calibrate import Sample, _uncertainty

    pool = [(None, 0, b, 0) for b in (100, 10_000, 100_000, 500_000, 2_000_000, 4_000_000)]

    def tiny_picked() -> int:
        picked = 0
        for seed in range(40):
            rng = random.Random(seed)
            samples = []
            for i in range(16):
                nbytes = 30_000 * (1 + i * i)
                noise = 1 + rng.uniform(-0.3, 0.3)
                samples.append(Sample("relu", (), 0, nbytes, (0.5e-6 + nbytes / 1e10) * noise))
            spread = _uncertainty(samples, pool, random.Random(seed + 1000))
            picked += max(range(len(pool)), key=spread.__getitem__) == 0
        return picked

    with_floor = tiny_picked()
    monkeypatch.setattr(calibrate, "UNCERTAINTY_FLOOR_S", 1e-12)
    without = tiny_picked()
    assert without >= 36  # 40 of 40 when written
    assert with_floor <= 24  # 16 of 40 when written
