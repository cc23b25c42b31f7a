"""archcost bench: per-layer measured time beside the roofline estimate, and Spearman's rho.

Never asserts on wall time: only on structure, finiteness and the rank arithmetic.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random

import pytest

import archcost
from archcost.bench import average_ranks, bench, run, spearman
from archcost.cli import main
from archcost.errors import SpecError
from archcost.roofline import Profile, profile_yaml

DEVICE = Profile("hand", peak_macs_per_s=1e10, bandwidth_bytes_per_s=1e10, overhead_s=1e-6)

NET = """
archcost: 1
name: small
input: [4, 12, 12]
layers:
  - {name: conv, type: conv, out: 8, kernel: 3, padding: 1}
  - {name: bn, type: batchnorm}
  - {name: act, type: relu}
  - {name: dw, type: depthwise_conv, kernel: 3, padding: 1}
  - {name: pw, type: pointwise_conv, out: 16}
  - {name: skip, type: pointwise_conv, out: 16, inputs: act}
  - {name: add, type: add, inputs: [pw, skip]}
  - {name: split, type: channel_split}
  - {name: shuffle, type: channel_shuffle, groups: 2, inputs: "split:0"}
  - {name: cat, type: concat, inputs: [shuffle, "split:1"]}
  - {name: pool, type: global_avgpool}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out: 10}
"""


# -- Spearman ----------------------------------------------------------------------------
def test_average_ranks_with_ties():
    assert average_ranks([10, 20, 20, 5]) == [2.0, 3.5, 3.5, 1.0]
    assert average_ranks([7, 7, 7]) == [2.0, 2.0, 2.0]
    assert average_ranks([]) == []
    assert average_ranks([0, 0, 1, 0]) == [2.0, 2.0, 4.0, 2.0]


def test_spearman_hand_computed_with_ties():
    # x = [1, 2, 2, 3, 4] -> ranks [1, 2.5, 2.5, 4, 5]; y = [2, 1, 4, 3, 5] -> [2, 1, 4, 3, 5].
    # Both rank means are 3; deviations dx = [-2, -.5, -.5, 1, 2], dy = [-1, -2, 1, 0, 2].
    # sum dx·dy = 2 + 1 - .5 + 0 + 4 = 6.5; sum dx² = 9.5; sum dy² = 10.
    # rho = 6.5 / sqrt(9.5 · 10) = 6.5 / sqrt(95).
    assert spearman([1, 2, 2, 3, 4], [2, 1, 4, 3, 5]) == pytest.approx(6.5 / math.sqrt(95),
                                                                       abs=1e-15)


def test_spearman_without_ties_is_the_classic_formula():
    # No ties: rho = 1 - 6·sum d² / (n(n² - 1)); d = rank differences.
    x, y = [3, 1, 4, 15, 9, 2, 6], [2, 7, 1, 8, 28, 18, 4]
    rx, ry = average_ranks(x), average_ranks(y)
    n = len(x)
    classic = 1 - 6 * sum((a - b) ** 2 for a, b in zip(rx, ry)) / (n * (n * n - 1))
    assert spearman(x, y) == pytest.approx(classic, abs=1e-15)


def test_spearman_edge_cases():
    assert spearman([1, 2, 3], [10, 100, 1000]) == 1.0           # any monotone map
    assert spearman([1, 2, 3], [0.3, 0.2, 0.1]) == -1.0
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))            # a constant side
    assert math.isnan(spearman([1], [2]))
    with pytest.raises(ValueError):
        spearman([1, 2], [1, 2, 3])


def test_spearman_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(6)
    for _ in range(20):
        n = rng.randint(3, 40)
        x = [rng.randint(0, 5) for _ in range(n)]              # many ties
        y = [rng.random() if rng.random() < .8 else 0.5 for _ in range(n)]
        if len(set(x)) > 1 and len(set(y)) > 1:
            assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


# -- bench -------------------------------------------------------------------------------
@pytest.fixture
def small(write_spec):
    return archcost.load(write_spec(NET))


def test_bench_gives_one_row_per_layer(small):
    result = run(small, profile=DEVICE, repeats=2)
    assert [t.name for t in result.layers] == small.layers
    costs = small.costs().rows
    for t, r in zip(result.layers, costs):
        assert (t.kind, t.macs, t.memory_access) == (r.kind, r.macs, r.memory_access)
        assert math.isfinite(t.measured_s) and t.measured_s > 0
        assert 0 < t.min_s <= t.measured_s
        assert t.bound in ("compute", "memory", "none")
    assert result.macs == small.totals["macs"]
    assert result.estimated_total_s == pytest.approx(sum(t.estimated_s for t in result.layers))
    for name, rho in result.correlations().items():
        assert -1.0 <= rho <= 1.0, name
    assert result.pass_seconds > 0


def test_bench_frame(small):
    df = bench(small, profile=DEVICE, repeats=1, warmup=0)
    assert list(df.columns) == ["name", "kind", "macs", "memory_access", "estimated_s", "bound",
                                "measured_s", "min_s"]
    assert len(df) == len(small.layers) and str(df["macs"].dtype) == "int64"
    assert set(df.attrs["spearman"]) == {"estimate_vs_measured", "macs_vs_measured",
                                         "estimate_vs_measured_mac_layers",
                                         "macs_vs_measured_mac_layers"}
    assert df.attrs["device"]["name"] == "hand" and df.attrs["macs"] == int(df["macs"].sum())


def test_bench_accepts_a_path_and_a_profile_name(write_spec, monkeypatch):
    from archcost import calibrate as cal
    monkeypatch.setattr(cal, "QUICK", {"gemm_size": 32, "copy_bytes": 1 << 16, "repeats": 1,
                                       "overhead_calls": 10})
    result = run(write_spec(NET), repeats=1)           # default device: this-machine, measured
    assert result.profile.name == "this-machine"
    assert len(result.layers) == 13


def test_bench_refuses_bad_arguments(small):
    with pytest.raises(SpecError, match="repeats >= 1"):
        run(small, profile=DEVICE, repeats=0)
    with pytest.raises(SpecError, match="refused before allocating"):
        run(small, profile=DEVICE, max_memory=1)


# -- the command ---------------------------------------------------------------------------
@pytest.fixture
def device_file(tmp_path):
    path = tmp_path / "hand.yaml"
    path.write_text(profile_yaml(DEVICE), encoding="utf-8")
    return str(path)


def test_bench_command_json(write_spec, device_file, capsys):
    spec = str(write_spec(NET))
    assert main(["bench", spec, "--repeats", "2", "--device", device_file, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "small" and doc["repeats"] == 2 and doc["device"]["name"] == "hand"
    assert len(doc["per_layer"]) == 13
    assert all(row["measured_s"] > 0 for row in doc["per_layer"])
    for rho in doc["spearman"].values():
        assert rho is None or -1 <= rho <= 1


def test_bench_command_table_csv_markdown(write_spec, device_file, capsys):
    spec = str(write_spec(NET))
    assert main(["bench", spec, "--repeats", "1", "--device", device_file]) == 0
    out = capsys.readouterr().out
    assert "measured" in out and "Spearman rank correlation" in out and "MACs alone" in out
    assert main(["bench", spec, "--repeats", "1", "--device", device_file, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 13 and float(rows[0]["measured_s"]) > 0
    assert main(["bench", spec, "--repeats", "1", "--device", device_file,
                 "--format", "markdown"]) == 0
    assert "| layer | kind | MACs |" in capsys.readouterr().out


def test_bench_command_errors(write_spec, device_file, capsys):
    spec = str(write_spec(NET))
    assert main(["bench", spec, "--device", device_file, "--max-memory", "1k"]) == 2
    assert "refused before allocating" in capsys.readouterr().err
    assert main(["bench", spec, "--device", "nope"]) == 2
    assert "unknown device profile 'nope'" in capsys.readouterr().err
    assert main(["bench", spec, "--repeats", "0"]) == 2      # argparse's error, as one line
    assert capsys.readouterr().err.count("\n") == 1
