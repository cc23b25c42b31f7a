"""Sweeps on Dask (loopback only): the same rows as the serial run, even when a worker
is killed mid-sweep; an unreachable scheduler is one error line, within a timeout."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from archcost import sweep_run
from archcost.cli import main
from archcost.spec import load_spec
from archcost.sweeping import configurations, parse_axis, sweep
from tests.conftest import SPECS

distributed = pytest.importorskip("distributed", reason="the sweep extra (dask) is not installed")

SNV1 = SPECS / "shufflenet_v1.yaml"
GRID = ["groups=1,2,3,4,5,8", "width=0.5,1.0", "resolution=96:224:32"]


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes on the loopback interface."""
    import logging

    c = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    yield c
    c.close()


def _same(a, b):
    assert list(a.columns) == list(b.columns)
    assert (
        a.astype(object).where(a.notna(), None).values.tolist()
        == b.astype(object).where(b.notna(), None).values.tolist()
    )


def test_cluster_rows_equal_the_serial_run(cluster):
    serial = sweep(SNV1, GRID, scheduler="serial")
    on_dask = sweep(SNV1, GRID, scheduler=cluster.scheduler_address)
    assert len(serial) == 60 and serial["error"].notna().sum() == 25
    _same(serial, on_dask)


def test_a_killed_worker_loses_nothing(cluster):
    spec = load_spec(SNV1)
    axes = [parse_axis(g) for g in GRID]
    configs = configurations(axes) * 2  # 120 configurations, 15 chunks
    serial = sweep_run.run_serial(spec, configs)
    client = distributed.Client(cluster.scheduler_address)
    pids = list(client.run(os.getpid).values())
    assert len(pids) == 2
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if not killed and done >= total // 8:  # mid-sweep: some chunks done, most not
            killed.append(pids[0])
            os.kill(pids[0], signal.SIGKILL)

    try:
        results = sweep_run.run_on(client, spec, configs, progress=progress)
    finally:
        client.close()
    assert killed, "the sweep finished before a worker could be killed"
    assert results == serial


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_line_within_the_timeout(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(sweep_run, "CONNECT_TIMEOUT_S", 2)
    out = tmp_path / "x.csv"
    start = time.monotonic()
    code = main(
        [
            "sweep",
            str(SNV1),
            "--grid",
            "groups=3,8",
            "--scheduler",
            f"tcp://127.0.0.1:{_free_port()}",
            "--format",
            "csv",
            "-o",
            str(out),
        ]
    )
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("archcost: error: --scheduler: cannot reach")
    assert "Traceback" not in err and not out.exists()
    assert elapsed < 30  # bounded by the connect timeout, not hanging


def test_a_port_that_answers_but_is_not_dask_is_one_line(monkeypatch, capsys):
    """A listener that accepts and sends garbage (a proxy, another service): Dask's
    handshake reads a nonsense frame length; that is one error line, not a traceback."""
    import threading

    monkeypatch.setattr(sweep_run, "CONNECT_TIMEOUT_S", 2)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    held = []

    def answer() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"\xff" * 64 + b"HTTP/1.1 400 Bad Request\r\n\r\n")
            held.append(conn)

    threading.Thread(target=answer, daemon=True).start()
    try:
        code = main(["sweep", str(SNV1), "--grid", "groups=3", "--scheduler", f"127.0.0.1:{port}"])
    finally:
        server.close()
        for conn in held:
            conn.close()
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("archcost: error: --scheduler: cannot reach")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_local_scheduler_starts_its_own_cluster():
    grid = ["groups=3,5,8", "width=0.5,1.0"]
    _same(sweep(SNV1, grid, scheduler="local", workers=1), sweep(SNV1, grid, scheduler="serial"))
