"""Sweep speed, as ratios measured in one run (never asserted in tests).

1. In-process: `archcost.sweep`'s serial path (one parsed spec; configurations share
   layers, shapes, counts and whole block expansions; duplicates costed once) against
   the plain loop over `archcost.load(spec, **knobs).totals`, on MobileNetV2
   configurations of one width x resolution grid, timed in interleaved rounds so that
   both see the same machine load. Goal: >= 3x.
2. Dask: --dask-configs of the configurations (spread over the grid) on a `dask
   scheduler` with 1 and with 2 single-threaded `dask worker` processes, each started in
   its own process session as the README's cluster recipe does (on Linux with
   autogroup scheduling, the processes of one session share one fair share of a busy
   machine, so a LocalCluster's workers cannot gain from a second core that other
   sessions keep busy); start-up excluded and reported apart. Goal: 2 workers >= 1.6x.
3. `--scheduler local`: a LocalCluster of 2 workers, start-up included, against the
   in-process sweep: the break-even that sets AUTO_CLUSTER_THRESHOLD.

Run: .venv/bin/python benchmarks/sweep.py [--configs 10000] [--naive 500]
The naive loop is timed on --naive configurations spread evenly over the grid (per
configuration; it runs at a steady rate) to keep the run short; --naive 10000 times all.
Run it un-niced; the first line names the machine, the date and the load.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SPEC = ROOT / "specs" / "mobilenet_v2.yaml"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average {load}"
    )


def grid(n: int) -> list[dict]:
    """n MobileNetV2 configurations of a fine width x resolution grid: widths 0.3, 0.3044,
    ... (step 0.0044, 250 values up to 1.3956) x resolutions 96, 100, ... (step 4, 40
    values up to 252) is 10,000; other n take the first n of a grid with more widths."""
    from archcost.sweeping import configurations, parse_axis

    resolutions = 40
    widths = max(250, -(-n // resolutions))
    axes = [
        parse_axis(f"width=0.3:{0.3 + 0.0044 * (widths - 1):.4f}:0.0044"),
        parse_axis("resolution=96:252:4"),
    ]
    return configurations(axes)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=500)
    parser.add_argument("--dask-configs", type=int, default=2_000)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()

    import archcost
    from archcost import sweep_run
    from archcost.spec import load_spec

    configs = grid(args.configs)
    print(f"machine: {machine()}")
    print(f"MobileNetV2, {len(configs):,} configurations (width x resolution)")

    # Interleaved rounds: each round times the naive loop on its share of the naive
    # configurations (spread over the whole grid) and the sweep on its tenth of the grid,
    # so that both see the same machine load (a shared machine's load moves by the minute).
    stride = max(1, len(configs) // args.naive)
    naive = configs[::stride][: args.naive]
    spec = load_spec(SPEC)
    rounds = 10
    naive_s = serial_s = 0.0
    reference: dict[int, dict] = {}
    serial: list[dict] = []
    for r in range(rounds):
        t = time.perf_counter()
        for i in range(r, len(naive), rounds):
            reference[i] = archcost.load(SPEC, **naive[i]).totals
        naive_s += time.perf_counter() - t
        part = configs[r * len(configs) // rounds : (r + 1) * len(configs) // rounds]
        t = time.perf_counter()
        serial += sweep_run.run(spec, part, scheduler="serial")
        serial_s += time.perf_counter() - t
    assert serial[::stride][: len(naive)] == [reference[i] for i in range(len(naive))], (
        "serial rows differ from load()"
    )
    naive_per = naive_s / len(naive)
    serial_per = serial_s / len(configs)
    print(
        f"naive loop  archcost.load(spec, **knobs).totals: {naive_per * 1e3:7.2f} ms/config "
        f"(timed on {len(naive):,} spread over the grid; {naive_per * len(configs):.1f} s for all)"
    )
    print(
        f"sweep serial (archcost.sweep's in-process path): {serial_per * 1e3:7.2f} ms/config "
        f"({serial_s:.1f} s)"
    )
    print(f"  ratio naive / sweep serial: {naive_per / serial_per:.2f}x   (goal >= 3x)")
    if args.skip_dask:
        return

    dask_configs = configs[:: max(1, len(configs) // args.dask_configs)][: args.dask_configs]
    dask_serial = serial[:: max(1, len(configs) // args.dask_configs)][: args.dask_configs]
    print(f"Dask: {len(dask_configs):,} of the configurations, spread over the grid")
    times = {}
    for workers in (1, 2):
        took, startup = on_cluster(workers, spec, dask_configs, dask_serial, sweep_run)
        times[workers] = took
        print(
            f"dask scheduler + {workers} dask worker process(es): {took:.1f} s "
            f"(+ {startup:.1f} s start-up, not counted)"
        )
    print(f"  ratio 1 worker / 2 workers: {times[1] / times[2]:.2f}x   (goal >= 1.6x)")

    from distributed import Client, LocalCluster

    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    startup = time.perf_counter() - t
    t = time.perf_counter()
    assert sweep_run.run_on(client, spec, dask_configs) == dask_serial
    local = time.perf_counter() - t
    client.close()
    cluster.close()
    print(
        f"LocalCluster, 2 workers (--scheduler local): {local:.1f} s (+ {startup:.1f} s start-up)"
    )
    per_local = local / len(dask_configs)
    for label, per in (
        ("LocalCluster", per_local),
        ("2 dask workers", times[2] / len(dask_configs)),
    ):
        if serial_per > per:
            print(
                f"  with {label}'s rate, start-up included, the cluster beats the in-process "
                f"sweep above ~{startup / (serial_per - per):,.0f} configurations"
            )
        else:
            print(f"  {label}: never faster than the in-process sweep at this load")
    print(f"  (AUTO_CLUSTER_THRESHOLD = {sweep_run.AUTO_CLUSTER_THRESHOLD:,})")


def on_cluster(
    workers: int, spec: object, configs: list[dict], expected: list[dict], sweep_run: object
) -> tuple[float, float]:
    """Seconds for the sweep on a scheduler and ``workers`` single-threaded worker
    processes started as the README's cluster recipe does (each its own process
    session, as on separate machines), and their start-up seconds."""
    import signal
    import socket
    import subprocess

    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    t = time.perf_counter()
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port)]
            + ["--dashboard-address", ":0"],
            start_new_session=True,
            **quiet,
        )
    ]
    try:
        for _ in range(workers):
            procs.append(
                subprocess.Popen(
                    [dask, "worker", address, "--nthreads", "1", "--nworkers", "1"]
                    + ["--no-dashboard", "--host", "127.0.0.1"],
                    start_new_session=True,
                    **quiet,
                )
            )
        client = Client(address, timeout=60)
        client.wait_for_workers(workers, timeout=120)
        startup = time.perf_counter() - t
        t = time.perf_counter()
        results = sweep_run.run_on(client, spec, configs)  # type: ignore[attr-defined]
        took = time.perf_counter() - t
        assert results == expected, "Dask rows differ from the serial run"
        client.close()
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait()
    return took, startup


if __name__ == "__main__":
    main()
