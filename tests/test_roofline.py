"""The roofline model: arithmetic on hand-made profiles, profile files, analyze --device,
calibrate, and the roofline chart."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import archcost
from archcost.calibrate import calibrate, calibration_comment
from archcost.cli import main
from archcost.errors import SpecError
from archcost.roofline import (Profile, bundled_profiles, estimate, estimate_row, load_profile,
                               parse_profile, profile_yaml, total_seconds)

ROOT = Path(__file__).resolve().parent.parent

# Peak 1 G MAC/s and 100 MB/s: the ridge is at 10 MACs per byte.
DEVICE = Profile("hand", peak_macs_per_s=1e9, bandwidth_bytes_per_s=1e8)
SLOW_CALLS = Profile("hand+overhead", peak_macs_per_s=1e9, bandwidth_bytes_per_s=1e8,
                     overhead_s=1e-6)

NET = """
archcost: 1
name: tiny
input: [3, 8, 8]
layers:
  - {name: conv, type: conv, out: 4, kernel: 3, padding: 1, bias: false}
  - {name: bn, type: batchnorm}
  - {name: act, type: relu}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out: 5}
"""

GOOD_PROFILE = """\
name: lab
source: made up for a test
peak_macs_per_s: 2.0e+10
bandwidth_bytes_per_s: 1.0e+10
overhead_s: 1.0e-06
"""


# -- arithmetic ------------------------------------------------------------------------
def test_ridge_point():
    assert DEVICE.ridge == 10.0
    assert DEVICE.attainable(10.0) == DEVICE.peak_macs_per_s
    assert DEVICE.attainable(1.0) == 1e8
    assert DEVICE.attainable(1000.0) == 1e9


def test_layer_exactly_at_the_ridge():
    # 1e6 MACs / 1e9 = 1 ms of compute; 1e5 bytes / 1e8 = 1 ms of memory: on the ridge.
    e = estimate_row("ridge", "conv", 10**6, 10**5, DEVICE)
    assert e.intensity == DEVICE.ridge == 10.0
    assert e.compute_s == e.memory_s == 1e-3
    assert e.seconds == 1e-3
    assert e.bound == "compute"          # the tie goes to compute: the layer reaches the peak


def test_ridge_decided_exactly_despite_float_rounding():
    # Ridge 3e9/7e8 = 30/7 MACs per byte; 30k MACs over 7k bytes sits exactly on it,
    # although 30k/3e9 and 7k/7e8 need not round to the same float.
    device = Profile("odd", 3e9, 7e8)
    for k in (1, 3, 11, 12345):
        e = estimate_row("r", "conv", 30 * k, 7 * k, device)
        assert e.bound == "compute"
        assert e.seconds == pytest.approx(k * 1e-8, rel=1e-12)
    just_below = estimate_row("r", "conv", 30 * 12345 - 1, 7 * 12345, device)
    assert just_below.bound == "memory"


def test_compute_bound_far_right():
    e = estimate_row("big", "conv", 10**9, 10**3, DEVICE)   # 10^6 MACs per byte
    assert e.bound == "compute"
    assert e.compute_s == 1.0 and e.memory_s == 1e-5
    assert e.seconds == 1.0
    assert e.intensity == 1e6


def test_memory_bound_far_left():
    e = estimate_row("relu-ish", "relu", 0, 10**8, DEVICE)
    assert e.bound == "memory"
    assert (e.compute_s, e.memory_s, e.seconds, e.intensity) == (0.0, 1.0, 1.0, 0.0)
    e = estimate_row("thin", "depthwise_conv", 10, 10**8, DEVICE)
    assert e.bound == "memory" and e.seconds == 1.0


def test_overhead_is_added_to_every_working_layer():
    for macs, traffic in ((10**6, 10**5), (10**9, 10**3), (0, 10**8)):
        plain = estimate_row("x", "conv", macs, traffic, DEVICE)
        slow = estimate_row("x", "conv", macs, traffic, SLOW_CALLS)
        assert slow.seconds == plain.seconds + 1e-6
        assert slow.overhead_s == 1e-6 and slow.bound == plain.bound


def test_views_take_no_time():
    e = estimate_row("flat", "flatten", 0, 0, SLOW_CALLS)
    assert (e.seconds, e.overhead_s, e.bound, e.intensity) == (0.0, 0.0, "none", 0.0)


def test_counts_stay_exact_ints():
    e = estimate_row("x", "conv", 3**40, 7**30, DEVICE)
    assert type(e.macs) is int and e.macs == 3**40
    assert type(e.memory_access) is int and e.memory_access == 7**30
    assert isinstance(e.seconds, float)


def test_estimate_a_model(write_spec):
    model = archcost.load(write_spec(NET))
    rows = model.costs().rows
    ests = estimate(model, SLOW_CALLS)
    assert [e.name for e in ests] == [r.name for r in rows] == model.layers
    for r, e in zip(rows, ests):
        assert (e.macs, e.memory_access) == (r.macs, r.memory_access)
        if r.memory_access:
            expected = max(r.macs / 1e9, r.memory_access / 1e8) + 1e-6
            assert e.seconds == pytest.approx(expected, rel=1e-15)
    # conv: 4·3·9·64 = 6,912 MACs; 4 bytes · (3·64 + 4·64 + 108) = 2,224 bytes -> memory.
    conv = ests[0]
    assert (conv.macs, conv.memory_access, conv.bound) == (6912, 2224, "memory")
    assert ests[3].bound == "none"       # flatten is a view
    assert total_seconds(ests) == pytest.approx(math.fsum(e.seconds for e in ests))


def test_batch_and_dtype_scale_the_estimate(write_spec):
    model = archcost.load(write_spec(NET))
    one = estimate(model, DEVICE)
    two = estimate(model, DEVICE, batch=2)
    half = estimate(model, DEVICE, dtype="float16")
    assert [b.macs for b in two] == [2 * a.macs for a in one]
    assert all(h.memory_access * 2 == a.memory_access for h, a in zip(half, one))


# -- profile files -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(bundled_profiles()))
def test_bundled_profiles_load_and_say_where_they_come_from(name):
    profile = load_profile(name)
    assert profile.peak_macs_per_s > 0 and profile.bandwidth_bytes_per_s > 0
    assert profile.overhead_s >= 0
    assert len(profile.source) > 20, "every bundled profile states its source"
    text = bundled_profiles()[name].read_text(encoding="utf-8")
    assert text.startswith("#"), "a comment explains the source"
    assert "measured" in text.lower() or "illustrative" in text.lower() or "published" in text.lower()


def test_bundled_profiles_ship_as_package_data():
    # tests/test_wheel.py checks a built wheel; this is the quick check of the setting.
    import tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "devices/*.yaml" in config["tool"]["setuptools"]["package-data"]["archcost"]
    assert bundled_profiles(), "at least one profile in archcost/devices"


def test_profile_from_a_path(tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text(GOOD_PROFILE, encoding="utf-8")
    p = load_profile(path)
    assert (p.name, p.peak_macs_per_s, p.bandwidth_bytes_per_s, p.overhead_s) == \
        ("lab", 2e10, 1e10, 1e-6)
    assert p.ridge == 2.0
    assert load_profile(str(path)) == p


def test_numbers_yaml_reads_as_text_are_accepted():
    # YAML 1.1 reads 1e11 (no dot, no sign) as a string; people write it anyway.
    p = parse_profile("peak_macs_per_s: 1e11\nbandwidth_bytes_per_s: 25_600_000_000\n")
    assert (p.peak_macs_per_s, p.bandwidth_bytes_per_s, p.overhead_s) == (1e11, 2.56e10, 0.0)


def test_profile_yaml_round_trips():
    p = Profile("x", 1.234e10, 5.678e9, 7.5e-07, source="a: b # c", measured={"date": "2025-01-01"})
    again = parse_profile(profile_yaml(p, "line one\n\nline two"))
    assert again == p and again.measured == {"date": "2025-01-01"}


BAD_PROFILES = {
    "missing key": ("peak_macs_per_s: 1.0e+9\n",
                    r"missing required key 'bandwidth_bytes_per_s' \(memory bandwidth"),
    "wrong type (text)": ("peak_macs_per_s: fast\nbandwidth_bytes_per_s: 1.0e+9\n",
                          r":1: key 'peak_macs_per_s' .* expects a positive number, got 'fast'"),
    "wrong type (list)": ("peak_macs_per_s: 1.0e+9\nbandwidth_bytes_per_s: [1, 2]\n",
                          r":2: key 'bandwidth_bytes_per_s' .* expects a positive number"),
    "zero rate": ("peak_macs_per_s: 0\nbandwidth_bytes_per_s: 1.0e+9\n",
                  r"expects a positive number, got 0"),
    "negative overhead": ("peak_macs_per_s: 1.0e+9\nbandwidth_bytes_per_s: 1.0e+9\n"
                          "overhead_s: -1\n", r":3: key 'overhead_s' .* expects a number >= 0"),
    "infinite": ("peak_macs_per_s: .inf\nbandwidth_bytes_per_s: 1.0e+9\n", r"the number inf is out of range"),
    "bool": ("peak_macs_per_s: true\nbandwidth_bytes_per_s: 1.0e+9\n", r"got True"),
    "bad YAML": ("peak_macs_per_s: [1.0e+9\nbandwidth_bytes_per_s: 1\n", r"YAML syntax error"),
    "not a mapping": ("- 1\n- 2\n", r"must be a mapping of keys to values, got a list"),
    "empty": ("# nothing\n", r"got an empty document"),
    "unknown key": ("peak_macs_per_s: 1.0e+9\nbandwidth_bytes_per_s: 1.0e+9\nbandwith: 3\n",
                    r":3: unknown key 'bandwith'.*Keys: peak_macs_per_s"),
    "name not text": ("name: [a]\npeak_macs_per_s: 1.0e+9\nbandwidth_bytes_per_s: 1.0e+9\n",
                      r"key 'name' expects text"),
    "measured not flat": ("peak_macs_per_s: 1.0e+9\nbandwidth_bytes_per_s: 1.0e+9\n"
                          "measured: {a: [1]}\n", r"key 'measured' expects a mapping"),
}


@pytest.mark.parametrize("text,pattern", BAD_PROFILES.values(), ids=BAD_PROFILES.keys())
def test_bad_profiles_raise_a_located_spec_error(tmp_path, text, pattern):
    path = tmp_path / "device.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=pattern) as info:
        load_profile(path)
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize("text,pattern", list(BAD_PROFILES.values())[:4] +
                         [("- 1\n", "must be a mapping")],
                         ids=list(BAD_PROFILES)[:4] + ["not a mapping"])
def test_bad_profiles_exit_2_with_one_message(tmp_path, capsys, text, pattern):
    path = tmp_path / "device.yaml"
    path.write_text(text, encoding="utf-8")
    spec = ROOT / "specs" / "examples" / "standard_vs_separable.yaml"
    assert main(["analyze", str(spec), "--device", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archcost: error: ") and str(path) in err
    assert "Traceback" not in err


def test_unknown_name_and_missing_file(capsys):
    spec = str(ROOT / "specs" / "examples" / "standard_vs_separable.yaml")
    name = sorted(bundled_profiles())[0]
    assert main(["analyze", spec, "--device", name[:-1]]) == 2
    err = capsys.readouterr().err
    assert f"unknown device profile '{name[:-1]}'" in err and f"Did you mean '{name}'?" in err
    assert main(["analyze", spec, "--device", "no/such/profile.yaml"]) == 2
    assert "no/such/profile.yaml: no such device profile file" in capsys.readouterr().err


def test_huge_profile_file_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * 70_000 + "\n", encoding="utf-8")
    with pytest.raises(SpecError, match="a device profile is a few lines"):
        load_profile(path)


# -- analyze --device --------------------------------------------------------------------
@pytest.fixture
def lab_profile(tmp_path) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(GOOD_PROFILE, encoding="utf-8")
    return path


def test_analyze_device_json(write_spec, lab_profile, capsys):
    spec = write_spec(NET)
    assert main(["analyze", str(spec), "--device", str(lab_profile), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["device"]["name"] == "lab" and doc["device"]["ridge_macs_per_byte"] == 2.0
    layers = doc["layers"]
    assert [layer["bound"] for layer in layers] == ["compute", "memory", "memory", "none", "memory"]
    assert all(isinstance(layer["macs"], int) for layer in layers)
    assert doc["totals"]["estimated_s"] == pytest.approx(sum(x["estimated_s"] for x in layers))
    model = archcost.load(spec)
    expected = estimate(model, load_profile(lab_profile))
    assert [x["estimated_s"] for x in layers] == [e.seconds for e in expected]


def test_analyze_device_csv_markdown_table(write_spec, lab_profile, capsys):
    spec = str(write_spec(NET))
    assert main(["analyze", spec, "--device", str(lab_profile), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0])[-2:] == ["estimated_s", "bound"] and len(rows) == 5
    assert rows[0]["macs"] == "6912" and float(rows[0]["estimated_s"]) > 0
    assert main(["analyze", spec, "--device", str(lab_profile), "--format", "markdown"]) == 0
    assert "| est. time | bound |" in capsys.readouterr().out
    assert main(["analyze", spec, "--device", str(lab_profile)]) == 0
    out = capsys.readouterr().out
    assert "est. time" in out and "ridge 2 MAC/B" in out and "memory-bound 3 layers" in out


def test_analyze_json_imports_neither_pandas_nor_plotly(lab_profile):
    code = ("import sys; from archcost.cli import main; "
            f"main(['analyze', 'specs/mobilenet_v1.yaml', '--format', 'json', '--device', {str(lab_profile)!r}]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'plotly')), "
            "file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    assert done.stderr.strip() == "[]"
    json.loads(done.stdout)


# -- calibrate ------------------------------------------------------------------------------
TINY = {"gemm_size": 32, "copy_bytes": 1 << 16, "repeats": 1, "overhead_calls": 10}


def test_calibrate_writes_a_loadable_profile(tmp_path):
    profile = calibrate(name="tiny", **TINY)
    assert profile.peak_macs_per_s > 0 and profile.bandwidth_bytes_per_s > 0
    assert profile.overhead_s > 0 and math.isfinite(profile.ridge)
    assert profile.measured["gemm_size"] == 32 and profile.measured["numpy"]
    path = tmp_path / "tiny.yaml"
    path.write_text(profile_yaml(profile, calibration_comment(profile)), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Device profile") and "measured by archcost calibrate" in text
    assert load_profile(path) == profile


def test_calibrate_command(tmp_path, capsys):
    out = tmp_path / "me.yaml"
    assert main(["calibrate", "-o", str(out), "--name", "me", "--gemm-size", "32",
                 "--copy-mib", "1", "--repeats", "1"]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    p = load_profile(out)
    assert p.name == "me" and p.measured["copy_bytes"] == 2**20


def test_this_machine_measures_now(monkeypatch):
    from archcost import calibrate as cal
    monkeypatch.setattr(cal, "QUICK", TINY)
    p = load_profile("this-machine")
    assert p.name == "this-machine" and p.measured["gemm_size"] == 32


# -- the chart -------------------------------------------------------------------------------
def test_roofline_figure(write_spec):
    from archcost.report.roofline_chart import roofline_figure
    spec = write_spec(NET.replace("name: tiny", 'name: "<b>x</b> & co"'))
    model = archcost.load(spec)
    fig = roofline_figure(model, SLOW_CALLS, measured={"conv": 1e-3})
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    roof = fig.data[0]
    assert roof.name == "roof" and list(roof.y[1:]) == [1e9, 1e9] and roof.x[1] == 10.0
    assert roof.y[0] == pytest.approx(roof.x[0] * 1e8)
    ridge = [s for s in fig.layout.shapes if s.x0 == s.x1]
    assert ridge and ridge[0].x0 == SLOW_CALLS.ridge
    drawn = {t.name: t for t in fig.data[1:]}
    assert set(drawn) == {"conv", "linear", "measured"}     # layers with MACs only
    assert drawn["measured"].y[0] == pytest.approx(6912 / 1e-3)
    assert "&lt;b&gt;x&lt;/b&gt; &amp; co" in fig.layout.title.text
    assert "<b>x</b>" not in fig.layout.title.text
    assert "3 layers without MACs not drawn" in fig.layout.title.text
    assert all("<b>conv</b>" in h for h in drawn["conv"].hovertext)
