"""archcost sweep: grids, rows equal to `analyze`, errors kept, where, Pareto, accuracy."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archcost
from archcost.cli import main
from archcost.errors import SpecError
from archcost.expressions import parse_knob
from archcost.spec import load_spec
from archcost.sweeping import (
    compile_where,
    configurations,
    pareto_mask,
    parse_axis,
    reported_accuracy,
    sweep,
)
from tests.conftest import SPECS

MNV1 = str(SPECS / "mobilenet_v1.yaml")
MNV2 = str(SPECS / "mobilenet_v2.yaml")
SNV1 = str(SPECS / "shufflenet_v1.yaml")
TOTALS = [
    "params",
    "macs",
    "flops",
    "memory_access",
    "activations",
    "peak_activation_bytes",
    "buffers",
]


# -- grid parsing ----------------------------------------------------------------------------
def test_ranges_are_inclusive_and_exact_in_decimal():
    assert parse_axis("resolution=96:224:32").values == (96, 128, 160, 192, 224)
    # 0.1 is not a binary fraction: a float loop would give 0.30000000000000004.
    assert parse_axis("width=0.1:0.5:0.1").values == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert parse_axis("resolution=96:100:32").values == (96,)  # STOP not on a step
    assert parse_axis("width=1.0,0.5,1.0").values == (1.0, 0.5)  # duplicates once


def test_grid_values_are_typed_as_set_types_them():
    # One parser for knob values (--set, SPEC@k=v, --grid): the same text gives the same
    # value on every path, so a sweep row equals `analyze --set` for its knobs.
    texts = ["160", "0.5", "1e-3", "True", "nan", "inf", "1_000", "\u0661\u0662", " relu6 "]
    swept = parse_axis("k=" + ",".join(texts)).values
    assert swept == tuple(parse_knob("--set", "k", t) for t in texts)
    # Plain decimal notation only: underscores and non-ASCII digits stay text (int() would
    # read both as numbers).
    assert swept[6:8] == ("1_000", "\u0661\u0662")


def test_grid_order_is_the_product_first_axis_slowest():
    axes = [parse_axis("a=1,2"), parse_axis("b=x,y,z")]
    assert [tuple(c.values()) for c in configurations(axes)] == [
        (1, "x"),
        (1, "y"),
        (1, "z"),
        (2, "x"),
        (2, "y"),
        (2, "z"),
    ]


@pytest.mark.parametrize("n", [1, 7, 50])
def test_latin_hypercube_uses_every_stratum_once(n):
    axes = [parse_axis("w=0.0..1.0"), parse_axis("r=0.0..10.0")]
    rows = configurations(axes, sample=n, seed=3, method="lhs")
    assert len(rows) == n
    for name, width in (("w", 1.0), ("r", 10.0)):
        strata = sorted(min(int(r[name] / width * n), n - 1) for r in rows)
        assert strata == list(range(n))


def test_samples_are_seeded_and_inside_the_interval():
    axes = [parse_axis("w=0.35..1.4"), parse_axis("g=1,2,3")]
    a = configurations(axes, sample=200, seed=5)
    assert a == configurations(axes, sample=200, seed=5)
    assert a != configurations(axes, sample=200, seed=6)
    assert all(0.35 <= r["w"] <= 1.4 and r["g"] in (1, 2, 3) for r in a)
    assert {r["g"] for r in a} == {1, 2, 3}


def test_integer_knob_intervals_sample_ints():
    df = sweep(MNV2, ["resolution=96..224"], sample=20, seed=1, scheduler="serial")
    assert all(isinstance(v, int) and 96 <= v <= 224 for v in df["resolution"].tolist())


# -- rows equal analyze --------------------------------------------------------------------
def test_every_row_equals_a_fresh_load():
    df = sweep(MNV2, ["width=0.35,0.75,1.4", "resolution=96:224:64"], scheduler="serial")
    assert len(df) == 9 and df["error"].isna().all()
    for row in df.to_dict("records"):
        fresh = archcost.load(MNV2, width=row["width"], resolution=row["resolution"]).totals
        assert {k: int(row[k]) for k in TOTALS} == fresh


# Every zoo spec with blocks and knobs, over grids that make configurations share layers
# and whole block expansions (the sweep's BuildCache) and that refuse some settings:
# each row must equal a fresh archcost.load(), which shares nothing.
SHARED_GRIDS = [
    ("mobilenet_v2", ["width=0.35,0.4,1.0", "depth=0.5,1.0,1.4", "resolution=96,97,224"]),
    ("efficientnet", ["width=1.0,1.1", "depth=1.0,1.2,2.0", "resolution=224,240"]),
    ("shufflenet_v1", ["groups=1,2,3,4,8", "width=0.5,1.0", "resolution=64,224"]),
    ("shufflenet_v2", ["width=0.5,1.0,1.5", "resolution=32,224"]),
    ("mobilenet_v3_small", ["width=0.75,1.0", "resolution=160,224"]),
    ("unet", ["classes=2,3", "resolution=188,572,573"]),
    ("resnet50", ["resolution=16,224,225"]),
    ("vgg16", ["resolution=16,224,16"]),  # 16: a shape rule refuses pool5, twice
]


@pytest.mark.parametrize("name,grid", SHARED_GRIDS, ids=[g[0] for g in SHARED_GRIDS])
def test_shared_builds_equal_fresh_loads(name, grid):
    df = sweep(name, grid, scheduler="serial")
    knob_names = [g.split("=")[0] for g in grid]
    for row in df.to_dict("records"):
        knobs = {k: row[k] for k in knob_names}
        try:
            fresh = archcost.load(name, **knobs).totals
        except SpecError as exc:
            assert row["error"] == " ".join(p.strip() for p in str(exc).splitlines())
            continue
        assert not isinstance(row["error"], str), row
        assert {k: int(row[k]) for k in TOTALS} == fresh


def test_archcost_sweep_is_the_function_and_a_repeated_setting_keeps_its_rows():
    df = archcost.sweep(
        MNV2, grid={"width": [0.5, 1.0, 0.5]}, where="macs > 0", scheduler="serial"
    )
    assert df["width"].tolist() == [0.5, 1.0, 0.5]
    fresh = archcost.load(MNV2, width=0.5).totals
    for i in (0, 2):
        assert {k: int(df.loc[i, k]) for k in TOTALS} == fresh


def test_rows_equal_the_analyze_command(capsys):
    df = sweep(MNV1, ["width=0.25,0.6", "resolution=128,200"], scheduler="serial")
    for row in df.to_dict("records"):
        assert (
            main(
                [
                    "analyze",
                    MNV1,
                    "--set",
                    f"width={row['width']}",
                    "--set",
                    f"resolution={row['resolution']}",
                    "--format",
                    "json",
                ]
            )
            == 0
        )
        totals = json.loads(capsys.readouterr().out)["totals"]
        assert {k: int(row[k]) for k in TOTALS} == totals


def test_cli_json_rows_equal_analyze(capsys):
    assert (
        main(
            [
                "sweep",
                MNV2,
                "--grid",
                "width=0.5,1.3",
                "--grid",
                "resolution=160",
                "--format",
                "json",
                "--batch",
                "2",
                "--dtype",
                "float16",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [(r["width"], r["resolution"]) for r in rows] == [(0.5, 160), (1.3, 160)]
    for r in rows:
        main(
            [
                "analyze",
                MNV2,
                "--set",
                f"width={r['width']}",
                "--set",
                "resolution=160",
                "--format",
                "json",
                "--batch",
                "2",
                "--dtype",
                "float16",
            ]
        )
        assert {k: r[k] for k in TOTALS} == json.loads(capsys.readouterr().out)["totals"]


@pytest.mark.parametrize("kind", ["roofline", "runtime"])
def test_latency_equals_analyze_device(tmp_path, capsys, kind):
    """latency_s of a sweep row is analyze --device's totals.latency_s, for a plain
    roofline profile and for a runtime-calibrated one (kernel models, fusions and the
    fixed cost per run, which the sweep used to leave out)."""
    if kind == "runtime":
        pytest.importorskip("onnxruntime")
        from archcost.runtime.predict import predict
        from tests.test_runtime import _profile, write_profile

        profile = _profile(run_overhead_s=3e-4)
        device = str(write_profile(profile, tmp_path / "ort.yaml"))
    else:
        device = "epyc-2cpu-numpy"
    argv = ["--set", "width=0.5", "--device", device, "--format", "json", "--batch", "2"]
    assert main(["analyze", MNV2, *argv]) == 0
    analyzed = json.loads(capsys.readouterr().out)["totals"]["latency_s"]
    grid = ["--grid", "width=0.5", "--device", device, "--format", "json", "--batch", "2"]
    assert main(["sweep", MNV2, *grid]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["latency_s"] == analyzed
    if kind == "runtime":  # by hand: the layers' predicted times plus the run's fixed cost
        from archcost.roofline import load_profile

        loaded = load_profile(device)
        layers = predict(archcost.load(MNV2, width=0.5), loaded, batch=2)
        expected = math.fsum(e.seconds for e in layers) + 3e-4
        assert row["latency_s"] == pytest.approx(expected, rel=1e-12)


def test_refused_configurations_keep_their_row_and_message():
    df = sweep(SNV1, ["groups=1,5,8", "width=0.5,1.0"], scheduler="serial")
    assert list(zip(df["groups"], df["width"])) == [
        (1, 0.5),
        (1, 1.0),
        (5, 0.5),
        (5, 1.0),
        (8, 0.5),
        (8, 1.0),
    ]
    errors = df["error"].tolist()
    assert "only for groups 3 and 8" in errors[0]
    assert all("groups must be 1, 2, 3, 4 or 8" in e for e in errors[2:4])
    for i in (1, 4, 5):
        assert errors[i] is None or (isinstance(errors[i], float) and math.isnan(errors[i]))
    assert df["macs"].isna().tolist() == [True, False, True, True, False, False]
    assert not df["pareto"][[0, 2, 3]].any()


# -- where ---------------------------------------------------------------------------------
def test_where_keeps_what_pandas_would_and_every_error_row():
    grid = ["groups=1,2,3,4,5,8", "width=1.0"]
    full = sweep(SNV1, grid, scheduler="serial")
    kept = sweep(SNV1, grid, where="macs <= 140e6 and params < 2e6", scheduler="serial")
    ok = full[full["error"].isna()]
    expected = ok.query("macs <= 140e6 and params < 2e6")["groups"].tolist() + [5]
    assert sorted(kept["groups"].tolist()) == sorted(expected)
    assert kept["groups"].tolist() == sorted(kept["groups"].tolist())  # grid order kept


@pytest.mark.parametrize(
    "text, words",
    [
        ("macs <", ["cannot parse"]),
        ("mac < 3", ["unknown column 'mac'", "Did you mean 'macs'"]),
        ("__import__('os')", ["not allowed"]),
        ("macs.real > 1", ["not allowed"]),
        ("", ["empty"]),
    ],
)
def test_where_refuses_bad_expressions(text, words):
    with pytest.raises(SpecError) as info:
        compile_where(text, ["macs", "params"])
    assert all(w in str(info.value) for w in words), str(info.value)


# -- Pareto --------------------------------------------------------------------------------
def _dominated(p, q):
    """q dominates p (all minimised): no worse everywhere, better somewhere."""
    return all(b <= a for a, b in zip(p, q)) and any(b < a for a, b in zip(p, q))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6))),
        max_size=40,
    )
)
def test_pareto_mask_equals_the_naive_definition(points):
    mask = pareto_mask(points)
    for i, p in enumerate(points):
        expected = p is not None and not any(q is not None and _dominated(p, q) for q in points)
        assert mask[i] == expected


def test_accuracy_is_maximised():
    # (macs, accuracy): more accuracy for more MACs is a trade-off, both on the front.
    assert pareto_mask([(10, 60.0), (20, 70.0), (20, 65.0)], [False, True]) == [True, True, False]


# -- reported accuracy -----------------------------------------------------------------------
def test_reported_accuracy_is_the_papers_and_never_interpolated():
    df = sweep(
        MNV1, ["width=0.25,0.5,0.6,0.75,1.0", "resolution=128,160,192,224"], scheduler="serial"
    )
    acc = {(r["width"], r["resolution"]): r["accuracy"] for r in df.to_dict("records")}
    # Howard et al. 2017, Table 6 (widths at 224) and Table 7 (resolutions at 1.0).
    assert acc[(1.0, 224)] == 70.6 and acc[(0.75, 224)] == 68.4
    assert acc[(0.5, 224)] == 63.7 and acc[(0.25, 224)] == 50.6
    assert acc[(1.0, 192)] == 69.1 and acc[(1.0, 160)] == 67.2 and acc[(1.0, 128)] == 64.4
    assert sum(not _blank(v) for v in acc.values()) == 7  # nothing else
    assert _blank(acc[(0.6, 224)]) and _blank(acc[(0.5, 160)])


def _blank(value):
    return (
        value is None
        or value is __import__("pandas").NA
        or (isinstance(value, float) and math.isnan(value))
    )


def test_mobilenet_v2_checkpoint_table():
    spec = load_spec(MNV2)
    # TF-slim's MobileNet V2 checkpoint table: 22 checkpoints.
    assert len(spec.reported) == 22
    assert reported_accuracy(spec, {"width": 1.4, "resolution": 224})[0] == 75.0
    assert reported_accuracy(spec, {"width": 0.35, "resolution": 96})[0] == 45.5
    assert reported_accuracy(spec, {"width": 1.4, "resolution": 192}) == (None, "")


def test_accuracy_objective_needs_a_reported_section(write_spec):
    path = write_spec(
        "archcost: 1\nname: n\ninput: [3, 8, 8]\nparams: {c: 4}\n"
        "layers:\n  - {type: conv, out: '${c}', kernel: 3}\n"
    )
    with pytest.raises(SpecError, match="no reported"):
        sweep(str(path), ["c=2,4"], objectives=["macs", "accuracy"])


@pytest.mark.parametrize(
    "entry, words",
    [
        ("{widht: 1.0, top1: 70, source: p}", ["unknown param 'widht'", "Did you mean 'width'"]),
        ("{width: 1.0, top1: 170, source: p}", ["percentage"]),
        ("{width: 1.0, top1: 70}", ["source"]),
        ("{width: 1.0, top1: 70, source: p}, {width: 1.0, top1: 71, source: q}", ["twice"]),
        ("{width: true, top1: 70, source: p}", ["expects a value like 1.0"]),
    ],
)
def test_bad_reported_sections(write_spec, entry, words):
    path = write_spec(
        "archcost: 1\nname: n\ninput: [3, 8, 8]\nparams: {width: 1.0}\n"
        f"reported: [{entry}]\nlayers:\n  - {{type: relu}}\n"
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert all(w in str(info.value) for w in words), str(info.value)


# -- bad input on the command line: exit 2, one error line, nothing written ------------------
@pytest.mark.parametrize(
    "argv, words",
    [
        (["--grid", "widht=1"], ["unknown knob 'widht'", "Did you mean 'width'"]),
        (["--grid", "resolution=224:96:32"], ["inverted"]),
        (["--grid", "resolution=96:224:0"], ["step must be positive"]),
        (["--grid", "width=0.5..0.5", "--sample", "3"], ["empty or inverted"]),
        (["--grid", "width=0.5,,1"], ["empty value"]),
        (["--grid", "width=abc"], ["expects values like 1.0"]),
        (["--grid", "width=0.5", "--grid", "width=1"], ["given twice"]),
        (["--grid", "width=0.3..1"], ["needs --sample"]),
        (["--grid", "width=1", "--where", "macs <"], ["--where", "cannot parse"]),
        (["--grid", "width=1", "--where", "mac < 1"], ["unknown column 'mac'"]),
        (["--grid", "width=1", "--objectives", "macs,parms"], ["unknown column 'parms'"]),
        (["--grid", "width=0.1:1.4:0.00005"], ["26,001 configurations", "--yes"]),
        (["--grid", "width=0.5,1", "--max-configs", "1"], ["2 configurations", "limit of 1"]),
        (["--grid", "width=1", "--scheduler", "nowhere"], ["not serial, local or an address"]),
        ([], ["at least one --grid"]),
    ],
)
def test_bad_sweeps_exit_2_and_write_nothing(tmp_path, capsys, argv, words):
    out = tmp_path / "out.csv"
    html = tmp_path / "r.html"
    code = main(["sweep", MNV2, *argv, "--format", "csv", "-o", str(out), "--html", str(html)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("archcost: error: ") and "Traceback" not in err
    assert all(w in err for w in words), err
    assert not out.exists() and not html.exists() and list(tmp_path.iterdir()) == []


def test_outputs_csv_and_parquet_round_trip(tmp_path):
    import pandas as pd

    args = ["sweep", SNV1, "--grid", "groups=3,5,8", "--grid", "width=0.5,1.0"]
    assert main([*args, "--format", "parquet", "-o", str(tmp_path / "s.parquet")]) == 0
    assert main([*args, "--format", "csv", "-o", str(tmp_path / "s.csv")]) == 0
    expected = sweep(SNV1, ["groups=3,5,8", "width=0.5,1.0"], scheduler="serial")
    back = pd.read_parquet(tmp_path / "s.parquet")
    assert back["macs"].tolist() == expected["macs"].tolist()
    assert back["error"].notna().tolist() == [False, False, True, True, False, False]
    csv = pd.read_csv(tmp_path / "s.csv")
    assert csv["groups"].tolist() == [3, 3, 5, 5, 8, 8]
    assert [None if pd.isna(v) else int(v) for v in csv["params"]] == [
        None if pd.isna(v) else int(v) for v in expected["params"]
    ]


# -- depth knob ----------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [0.5, 1.0, 1.1, 1.4, 2.0])
def test_mobilenet_v2_depth_rounds_repeats_up(depth):
    # Sandler et al. 2018, Table 2: the bottleneck rows repeat n = 1, 2, 3, 4, 3, 3, 1.
    expected = sum(math.ceil(n * depth) for n in (1, 2, 3, 4, 3, 3, 1))
    model = archcost.load(MNV2, depth=depth)
    assert sum(name.endswith(".dwise") for name in model.layers) == expected


def test_mobilenet_v2_depth_default_is_table_2():
    # torchvision's count for mobilenet_v2 (the spec header): 300,774,272 MACs, 3,504,872 params.
    totals = archcost.load(MNV2, depth=1.0).totals
    assert (totals["macs"], totals["params"]) == (300_774_272, 3_504_872)


# -- compare shows accuracy --------------------------------------------------------------
def test_compare_shows_reported_accuracy_and_blanks(capsys):
    assert (
        main(["compare", MNV1, f"{MNV1}@width=0.6", f"{MNV1}@width=0.5", "--format", "json"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    # Howard et al. 2017, Table 6: 1.0 -> 70.6, 0.5 -> 63.7; 0.6 was never published.
    assert [r["accuracy"] for r in rows] == [70.6, None, 63.7]
    assert rows[1]["accuracy_source"] is None and "Table 6" in rows[2]["accuracy_source"]
    assert main(["compare", MNV1, f"{MNV1}@width=0.6"]) == 0
    assert "top-1 %" in capsys.readouterr().out


# -- compound scaling --------------------------------------------------------------------
def test_compound_walk_is_alpha_beta_gamma_to_the_phi():
    # Tan & Le 2019, Eq. 3 with their alpha = 1.2, beta = 1.1, gamma = 1.15.
    df = sweep("efficientnet", (), compound="1.2,1.1,1.15", phi="0:2", scheduler="serial")
    assert list(df.columns[:4]) == ["phi", "depth", "width", "resolution"]
    assert df["phi"].tolist() == [0, 1, 2]
    for row in df.to_dict("records"):
        p = row["phi"]
        assert row["depth"] == pytest.approx(1.2**p) and row["width"] == pytest.approx(1.1**p)
        assert row["resolution"] == round(224 * 1.15**p)
        fresh = archcost.load(
            "efficientnet", depth=row["depth"], width=row["width"], resolution=row["resolution"]
        ).totals
        assert {k: int(row[k]) for k in TOTALS} == fresh
    # phi = 0 is B0: torchvision's efficientnet_b0 has 5,288,548 params (the spec header).
    assert int(df["params"][0]) == 5_288_548


@pytest.mark.parametrize(
    "argv, words",
    [
        (["efficientnet", "--compound", "1.2,1.1"], ["ALPHA,BETA,GAMMA"]),
        (["mobilenet_v1", "--compound", "1.2,1.1,1.15"], ["no 'depth'"]),
        (["efficientnet", "--compound", "1.2,1.1,1.15", "--grid", "width=1"], ["sets depth"]),
        (["efficientnet", "--compound", "1.2,1.1,1.15", "--phi", "3:0"], ["--phi", "inverted"]),
        (["efficientnet", "--compound", "0.9,1.1,1.15"], [">= 1"]),
    ],
)
def test_bad_compound_walks(capsys, argv, words):
    assert main(["sweep", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archcost: error: ") and all(w in err for w in words), err


def test_an_onnx_file_sweeps_its_input_shape(tmp_path, capsys):
    """archcost sweep MODEL.onnx: the knob is the input shape; each row equals
    analyze MODEL.onnx --set input=..., and the MobileNetV2 spec at that resolution
    (the file is its export)."""
    pytest.importorskip("onnx")
    path = tmp_path / "mnv2.onnx"
    assert main(["export", MNV2, "-o", str(path)]) == 0
    capsys.readouterr()
    grid = ["--grid", "input=3x160x160,3x224x224,3x0x1", "--format", "json"]
    assert main(["sweep", str(path), *grid]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["input"] for r in rows] == ["3x160x160", "3x224x224", "3x0x1"]
    assert rows[2]["error"] and rows[2]["macs"] is None  # refused, kept
    for row, resolution in zip(rows[:2], (160, 224), strict=True):
        argv = ["analyze", str(path), "--set", f"input={row['input']}", "--format", "json"]
        assert main(argv) == 0
        assert {k: row[k] for k in TOTALS} == json.loads(capsys.readouterr().out)["totals"]
        assert row["macs"] == archcost.load(MNV2, resolution=resolution).totals["macs"]
    assert main(["sweep", str(path), "--grid", "input=3x96x96", "--scheduler", "local"]) == 2
    assert "in this process" in capsys.readouterr().err


def test_objective_short_names_are_the_columns():
    grid = ["width=0.35,0.5,1.0", "resolution=96,224"]
    short = sweep(MNV2, grid, objectives="latency,memory", device="epyc-2cpu-numpy")
    full = sweep(MNV2, grid, objectives=["latency_s", "memory_access"], device="epyc-2cpu-numpy")
    assert short["pareto"].tolist() == full["pareto"].tolist()
    assert 0 < int(short["pareto"].sum()) < len(short)
    with pytest.raises(SpecError, match="unknown column 'latncy'"):
        sweep(MNV2, grid, objectives="latncy", device="epyc-2cpu-numpy")
