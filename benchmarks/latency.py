"""The latency predictor's accuracy evaluation (docs/latency.md): the calibrated onnxruntime predictor on unseen networks.

    python benchmarks/latency.py [--threads 1] [--rounds 15] [--profile PROFILE.yaml]
                                 [--write-profile PATH] [--budget 200] [--dump RAW.json]
    python benchmarks/latency.py --replay RAW.json --profile PROFILE.yaml

Calibrates onnxruntime on this machine (``archcost calibrate --runtime onnxruntime``;
or reads ``--profile``), then measures every zoo spec up to ``--max-macs`` (5 GMACs by
default; U-Net is skipped), every ``specs/examples/`` spec and the networks of
``benchmarks/latency_nets/`` (written for this evaluation) in onnxruntime,
**interleaved**: each of ``--rounds`` rounds runs every network a few times in a fresh
session and times the drift probe after each network, so slow drift on a shared
machine touches every network alike and no network's figure is one session's.

A network's time is its **best round**: the smallest of its rounds' medians. On a
shared host the other tenants slow everything down in spells of seconds to minutes
(the per-round medians of every network rise by 15–40%, of a network of µs by up to
2×, in the same rounds), and interference only ever adds time: as Python's ``timeit``
documentation puts it, the lowest value is what the machine can do, the higher ones
are other processes interfering. The median over all runs, which mixes the spells in
at whatever share they happened to have, is printed beside it. The drift probe's time
in the run is its best round too. It prints, as Markdown, against two baselines (MACs
alone; the two-number roofline with the profile's best measured rates):

(a) **ratios**: each network's time relative to MobileNetV2, predicted vs measured
    (same interleaved run), and the share within ±10%;
(b) **ranks**: Spearman ρ across networks, and per layer within each network
    (profiler kernel times mapped to layers vs the per-layer predictions);
(c) **probe-normalised absolute error**: measured × (probe at calibration / probe now)
    against the prediction, and the share within ±10%.

The predictor never saw these networks: it was fitted on single-kernel micro-models.
``--dump`` keeps the raw measurements (every round's times, the probes, each profiled
kernel); ``--replay`` prints the tables again from such a file, with the profile of
that run, so a predictor change can be compared on the same measurements (which were
taken in one interleaved run). A replayed table is only a fair evaluation when the
profile was calibrated before the measurement and neither saw the other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import archcost  # noqa: E402
from archcost.bench import spearman  # noqa: E402
from archcost.calibrate import cpu_model  # noqa: E402
from archcost.commands.files import Output, write_output  # noqa: E402
from archcost.commands.output import text_writer  # noqa: E402
from archcost.roofline import Profile, estimate_rows, load_profile, total_seconds  # noqa: E402
from archcost.runtime import ort  # noqa: E402
from archcost.runtime.bench import export_bytes, layer_of  # noqa: E402
from archcost.runtime.calibrate import calibrate, profile_yaml  # noqa: E402
from archcost.runtime.predict import predict, total_latency  # noqa: E402

REFERENCE = "MobileNetV2"
SKIP = {"unet.yaml"}  # 572x572 input, about 55 GMACs: minutes per run here


def _percent(fraction: float | None) -> str:
    """A fraction as a percentage; a profile without it: '?'."""
    return "?" if fraction is None else f"{fraction * 100:.1f}%"


def networks() -> list[tuple[str, Path]]:
    paths = (
        sorted((ROOT / "specs").glob("*.yaml"))
        + sorted((ROOT / "specs/examples").glob("*.yaml"))
        + sorted((ROOT / "benchmarks/latency_nets").glob("*.yaml"))
    )
    return [(p.relative_to(ROOT).as_posix(), p) for p in paths if p.name not in SKIP]


def pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x * 100:+.0f}%"


def measure(args: argparse.Namespace, threads: int) -> dict[str, Any]:
    """Measure every network, interleaved; the raw record (JSON-serialisable)."""
    load0 = os.getloadavg()[0]
    nets = []
    for label, path in networks():
        try:
            model = archcost.load(path)
            if model.totals["macs"] > args.max_macs:
                print(f"  skipped {label}: {model.totals['macs'] / 1e9:.1f} GMACs", file=sys.stderr)
                continue
            data = export_bytes(model)
            ort.BoundSession(data, threads)  # a model the runtime refuses is skipped here
            profiled = ort.ProfiledSession(data, threads)
        except archcost.SpecError as exc:
            print(f"  skipped {label}: {exc}", file=sys.stderr)
            continue
        profiled.run(2)
        nets.append(
            {
                "label": label,
                "model": data,
                "profiled": profiled,
                "times": [],
                "cpu": [],
                "wall_runs": [],
                "cpu_runs": [],
                "probes": [],
            }
        )
    probe = ort.Probe(threads)
    print(f"  measuring {len(nets)} networks, {args.rounds} interleaved rounds", file=sys.stderr)
    for r in range(args.rounds):
        for n in nets:
            # a fresh session each round: one session's speed differs from the next by
            # up to ±7% here (where its buffers land), so the median over rounds is the
            # network's, not one session's
            session = ort.BoundSession(n["model"], threads)
            last = session.warm()  # 50 ms of untimed runs: a new session starts cold
            # at least --runs timed runs, more for a network of µs (20 ms of runs)
            runs = max(args.runs, min(int(0.02 / max(last, 1e-6)), 200))
            wall, cpu = session.times(runs, warmup=0)
            n["times"].append(statistics.median(wall))
            del session
            n["cpu"].append(statistics.median(cpu))
            n["cpu_runs"].extend(cpu)
            n["wall_runs"].extend(wall)
            n["profiled"].run(2)
            n["probes"].append(probe.measure())
        print(f"  round {r + 1} done", file=sys.stderr)
    for n in nets:
        del n["model"]
        n["kernels"] = [
            [k.name, k.op, k.measured_s, list(k.covers)] for k in n.pop("profiled").kernels(skip=2)
        ]
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "runtime_version": ort.runtime_version(),
        "threads": threads,
        "date": dt.date.today().isoformat(),
        "load": [load0, os.getloadavg()[0]],
        "rounds": args.rounds,
        "runs": args.runs,
        "nets": nets,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per network per round")
    parser.add_argument("--profile", help="a runtime profile instead of calibrating now")
    parser.add_argument("--write-profile", help="also write the calibrated profile here")
    parser.add_argument("--budget", type=float, default=200.0, help="calibration seconds")
    parser.add_argument("--dump", help="also write the raw measurements (JSON) here")
    parser.add_argument("--replay", help="report a run recorded with --dump (needs --profile)")
    parser.add_argument(
        "--max-macs",
        type=float,
        default=5e9,
        help="skip networks above this many MACs (time on a shared machine)",
    )
    args = parser.parse_args()
    started = time.time()
    if args.replay and not args.profile:
        parser.error("--replay needs the --profile of the recorded run")
    if args.profile:
        profile = load_profile(args.profile)
    else:
        load = os.getloadavg()[0]
        samples: list[Any] = []
        profile = calibrate(
            threads=args.threads,
            budget_s=args.budget,
            progress=lambda s: print(f"  calibrate: {s}", file=sys.stderr),
            record=samples,
        )
        if args.dump:  # the calibration's samples, to refit a changed model later
            Path(args.dump).with_suffix(".samples.json").write_text(
                json.dumps(
                    [
                        [s.type, dict(s.config), s.macs, s.nbytes, s.seconds, s.drift, s.col]
                        for s in samples
                    ]
                ),
                encoding="utf-8",
            )
        print(f"  calibrated in {time.time() - started:.0f} s (load {load:.1f})", file=sys.stderr)
        if args.write_profile:
            text = profile_yaml(profile)
            write_output(Output("--write-profile", Path(args.write_profile), text_writer(text)))
    threads = getattr(profile, "threads", args.threads)
    if args.replay:
        raw = json.loads(Path(args.replay).read_text(encoding="utf-8"))
    else:
        raw = measure(args, threads)
        raw["seconds"] = round(time.time() - started)
        if args.dump:
            Path(args.dump).write_text(json.dumps(raw), encoding="utf-8")
    report(raw, profile)
    return 0


def report(raw: dict[str, Any], profile: Any) -> None:
    """Print the tables of one interleaved run against ``profile``'s predictions."""
    roofline = Profile("roofline", profile.peak_macs_per_s, profile.bandwidth_bytes_per_s)
    paths = dict(networks())
    nets = []
    for rec in raw["nets"]:
        model = archcost.load(paths[rec["label"]])
        kernels = [ort.Kernel(name, op, t, tuple(covers)) for name, op, t, covers in rec["kernels"]]
        n: dict[str, Any] = {"label": rec["label"], "model": model}
        # the best round: the smallest of the rounds' medians (see the module docstring)
        n["measured"] = min(rec["times"])
        n["cpu_s"] = min(rec["cpu"])
        n["probe"] = min(rec["probes"])
        # the earlier statistic, printed beside it: the median of every timed run
        n["cpu_median"] = statistics.median(rec.get("cpu_runs") or rec["cpu"])
        n["kernel_sum"] = math.fsum(k.measured_s for k in kernels)
        est = predict(model, profile)
        n["predicted"] = total_latency(est, profile)
        n["roofline"] = total_seconds(estimate_rows(model.costs().rows, roofline))
        n["macs"] = model.totals["macs"]
        measured_layer: dict[str, float] = {}
        for k in kernels:
            if k.covers:
                head = layer_of(k.covers[0])
                measured_layer[head] = measured_layer.get(head, 0.0) + k.measured_s
        # layers against kernels: the layout conversions cover no layer on either side
        predicted_layer = {e.name: e.seconds - e.layout_s for e in est}
        macs_layer = {e.name: e.macs for e in est}
        names = sorted(set(measured_layer) | {e.name for e in est if e.seconds > 0})
        measured = [measured_layer.get(x, 0.0) for x in names]
        n["rho_layers"] = spearman([predicted_layer.get(x, 0.0) for x in names], measured)
        n["rho_layers_macs"] = spearman([macs_layer.get(x, 0) for x in names], measured)
        nets.append(n)

    ref = next((n for n in nets if n["model"].name == REFERENCE), nets[0])
    load0, load1 = raw["load"]
    probe0 = getattr(profile, "probe_s", math.nan)
    print(
        f"Machine: {raw['cpu']}, {raw['logical_cpus']} logical CPUs; onnxruntime "
        f"{raw['runtime_version']}, {raw['threads']} thread(s); {raw['date']}; "
        f"load average {load0:.1f} at the start of the measurement, {load1:.1f} at the end; "
        f"{raw.get('seconds', 0):.0f} s in all."
    )
    print(
        f"Profile: {profile.name} ({profile.source}); probe at calibration {probe0 * 1e3:.3f} ms."
    )
    rate = getattr(profile, "cold_weight_bytes_per_s", math.inf)
    if math.isfinite(rate):
        m = profile.measured
        print(
            f"Cold weights: beyond {profile.weight_cache_bytes / 2**20:.1f} MiB of a network's "
            f"weights, read at {rate / 1e9:.1f} GB/s (fitted on {m.get('networks', '?')} "
            "synthetic networks, median error "
            f"{_percent(m.get('network_error'))} -> {_percent(m.get('network_error_fitted'))})."
        )
    print(
        f"{len(nets)} networks, {raw['rounds']} interleaved rounds of {raw['runs']} runs; "
        f"reference {ref['model'].name}. wall: the best round (the smallest of the rounds' "
        "medians); on-CPU: the calling thread's CPU time of the same runs (one thread: "
        "onnxruntime computes in the caller), i.e. without the waits for a CPU that other "
        "processes cause, best round; on-CPU median: the median of all timed runs, spells of "
        "interference included; probe-normalised wall: wall × (probe at calibration ÷ "
        "the best round of the probe timed after this network), what (c) compares; "
        "profiled kernels: the profiler's per-kernel medians, summed; ratio columns: time ÷ the reference's, "
        "with the predicted ratio's error against the measured on-CPU ratio, which is what "
        "(a) scores (the last ratio column: against the on-CPU medians instead); "
        "per-layer ρ: Spearman ρ between each layer's predicted time and the profiler's "
        "kernel times mapped to layers, read for (b) as the median over networks.\n"
    )
    ref_err = ref["predicted"] / ref["cpu_s"] - 1
    print(
        f"The reference {ref['model'].name} itself: predicted {ref['predicted'] * 1e3:.2f} ms, "
        f"on-CPU {ref['cpu_s'] * 1e3:.2f} ms ({pct(ref_err)}); every predicted ratio in (a) "
        "is divided by its prediction, so this error moves every network's ratio error "
        "the other way.\n"
    )
    print(
        "| network | MACs | wall | probe-normalised wall | on-CPU | on-CPU median "
        "| profiled kernels | predicted | predicted vs on-CPU "
        "| (c) predicted vs probe-normalised wall | measured ratio to ref (on-CPU) "
        "| (a) predictor's ratio (error) | MACs ratio (error) | roofline ratio (error) "
        "| predictor's ratio error vs on-CPU median ratio "
        "| per-layer ρ: predictor / MACs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in nets:
        n["norm"] = n["measured"] * probe0 / n["probe"]
        n["err_c"] = n["predicted"] / n["norm"] - 1
        n["err_cpu"] = n["predicted"] / n["cpu_s"] - 1
        for basis in ("cpu_s", "measured", "cpu_median"):
            ratio = n[basis] / ref[basis]
            n[f"a_pred_{basis}"] = (n["predicted"] / ref["predicted"]) / ratio - 1
            n[f"a_macs_{basis}"] = (n["macs"] / ref["macs"]) / ratio - 1
            n[f"a_roof_{basis}"] = (n["roofline"] / ref["roofline"]) / ratio - 1
        ratio = n["cpu_s"] / ref["cpu_s"]
        print(
            f"| {n['model'].name} | {n['macs'] / 1e6:,.0f} M | {n['measured'] * 1e3:.2f} ms | "
            f"{n['norm'] * 1e3:.2f} ms | {n['cpu_s'] * 1e3:.2f} ms | "
            f"{n['cpu_median'] * 1e3:.2f} ms | "
            f"{n['kernel_sum'] * 1e3:.2f} ms | {n['predicted'] * 1e3:.2f} ms | "
            f"{pct(n['err_cpu'])} | {pct(n['err_c'])} | {ratio:.2f} | "
            f"{n['predicted'] / ref['predicted']:.2f} ({pct(n['a_pred_cpu_s'])}) | "
            f"{n['macs'] / ref['macs']:.2f} ({pct(n['a_macs_cpu_s'])}) | "
            f"{n['roofline'] / ref['roofline']:.2f} ({pct(n['a_roof_cpu_s'])}) | "
            f"{pct(n['a_pred_cpu_median'])} | "
            f"{n['rho_layers']:+.2f} / {n['rho_layers_macs']:+.2f} |"
        )
    total = len(nets)

    def within(key: str) -> str:
        return f"{sum(abs(n[key]) <= 0.10 for n in nets)}/{total}"

    layer_rhos = [n["rho_layers"] for n in nets if math.isfinite(n["rho_layers"])]
    mac_rhos = [n["rho_layers_macs"] for n in nets if math.isfinite(n["rho_layers_macs"])]
    print()
    print("| | predictor | MACs only | roofline (2 numbers) | goal |")
    print("|---|---:|---:|---:|---:|")
    for basis, what in (
        ("cpu_s", "on-CPU"),
        ("measured", "wall"),
        ("cpu_median", "on-CPU median of all runs"),
    ):
        print(
            f"| (a) ratio to {ref['model'].name} within ±10%, {what} | {within('a_pred_' + basis)} "
            f"| {within('a_macs_' + basis)} | {within('a_roof_' + basis)} | ≥ 90% |"
        )
    for basis, what in (("cpu_s", "on-CPU"), ("measured", "wall")):
        values = [n[basis] for n in nets]
        print(
            f"| (b) Spearman ρ across networks, {what} | "
            f"{spearman([n['predicted'] for n in nets], values):+.3f} | "
            f"{spearman([n['macs'] for n in nets], values):+.3f} | "
            f"{spearman([n['roofline'] for n in nets], values):+.3f} | ≥ 0.95 |"
        )
    print(
        f"| (b) per-layer ρ, median over networks (min) | {statistics.median(layer_rhos):+.2f} "
        f"({min(layer_rhos):+.2f}) | {statistics.median(mac_rhos):+.2f} ({min(mac_rhos):+.2f}) "
        "| – | ≥ 0.9 |"
    )
    print(
        f"| (b) networks with per-layer ρ ≥ 0.9 | {sum(r >= 0.9 for r in layer_rhos)}/"
        f"{len(layer_rhos)} | {sum(r >= 0.9 for r in mac_rhos)}/{len(mac_rhos)} | – | |"
    )
    print(
        f"| (c) predicted vs probe-normalised wall time within ±10% | {within('err_c')} | – | – "
        "| ≥ 90% |"
    )
    print(f"| predicted vs on-CPU time within ±10% | {within('err_cpu')} | – | – | |")


if __name__ == "__main__":
    raise SystemExit(main())
