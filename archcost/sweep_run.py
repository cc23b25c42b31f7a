"""Where a sweep's configurations are costed: in this process, or on Dask.

``run(spec, configs, scheduler=...)`` returns one result per configuration, in the
order of ``configs``, whatever the scheduler:

* ``"serial"``: in this process, one after the other.
* ``"local"``: a ``dask.distributed`` LocalCluster with one single-threaded worker
  process per core, started for this sweep and closed after it.
* ``"tcp://HOST:PORT"`` (or any Dask address): an existing cluster's scheduler. Its
  workers need archcost installed (the same version); the parsed spec is sent to them,
  so the spec file need not exist there.
* ``None``: serial below :data:`AUTO_CLUSTER_THRESHOLD` configurations, else local.

Configurations travel in chunks (one Dask task each) to keep the scheduler's overhead
small next to a costing. When a worker dies, the scheduler resubmits its tasks to the
others (Dask's own retry of lost tasks); the results are the same.

dask is imported only here, only when a cluster is used.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archcost.costs import compute
from archcost.errors import ArchcostError, SpecError
from archcost.graph import BuildCache, sharing
from archcost.model import Model, _gc_paused, load_onnx
from archcost.roofline import estimate
from archcost.runtime.predict import total_latency

if TYPE_CHECKING:
    from archcost.spec import Spec

Value = int | float | bool | str

# Below this many configurations a sweep runs in-process: starting a LocalCluster costs
# about 6 s, and an in-process configuration about 14 ms on the 2-core test machine.
# benchmarks/sweep.py measured (docs/performance.md, 2026-12-01): with two worker
# processes that get both cores, the cluster (start-up included) wins above ~3,700
# configurations; a LocalCluster on the same machine under a load of 13 never won.
AUTO_CLUSTER_THRESHOLD = 4_000
CONNECT_TIMEOUT_S = 10
MAX_CHUNK = 256


def run(
    spec: Spec,
    configs: Sequence[dict[str, Any]],
    *,
    batch: int = 1,
    dtype: str = "float32",
    profile: Any = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """One result dict per configuration, in order (see the module docstring).
    A configuration given twice is costed once (its rows are equal, and separate)."""
    unique, where = distinct(configs)
    if progress is not None and len(unique) < len(configs):
        progress = _scaled(progress, len(unique), len(configs))
    if scheduler is None:
        scheduler = "serial" if len(unique) < AUTO_CLUSTER_THRESHOLD else "local"
    if scheduler == "serial":
        results = run_serial(
            spec, unique, batch=batch, dtype=dtype, profile=profile, progress=progress
        )
    else:
        client, cluster = connect(scheduler, workers=workers)
        try:
            results = run_on(
                client, spec, unique, batch=batch, dtype=dtype, profile=profile, progress=progress
            )
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return [dict(results[i]) for i in where]


def _scaled(
    progress: Callable[[int, int], None], unique: int, total: int
) -> Callable[[int, int], None]:
    """Progress over ``unique`` costings, reported out of the ``total`` configurations."""
    return lambda done, _: progress(done * total // unique, total)


def distinct(configs: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    """The distinct configurations (first occurrences, in order) and, per configuration,
    the index of its distinct one. Values are told apart by type too: ``True`` and
    ``1`` (or ``1`` and ``1.0``) are different settings.

    >>> distinct([{"w": 1}, {"w": 2}, {"w": 1}, {"w": 1.0}])
    ([{'w': 1}, {'w': 2}, {'w': 1.0}], [0, 1, 0, 2])
    """
    index: dict[tuple[Any, ...], int] = {}
    unique: list[dict[str, Any]] = []
    where = []
    for knobs in configs:
        key = tuple((k, type(v), v) for k, v in knobs.items())
        if key not in index:
            index[key] = len(unique)
            unique.append(knobs)
        where.append(index[key])
    return unique, where


def run_serial(
    spec: Spec,
    configs: Sequence[dict[str, Any]],
    *,
    batch: int = 1,
    dtype: str = "float32",
    profile: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    step = max(1, min(MAX_CHUNK, len(configs) // 100 or 1))
    for start in range(0, len(configs), step):
        results += evaluate_chunk(spec, configs[start : start + step], batch, dtype, profile)
        if progress is not None:
            progress(len(results), len(configs))
    return results


def connect(scheduler: str, *, workers: int | None = None) -> tuple[Any, Any]:
    """A Dask client (and the LocalCluster it owns, for ``"local"``).

    Raises:
        SpecError: dask is not installed, or the address cannot be reached within
            :data:`CONNECT_TIMEOUT_S` seconds.
    """
    try:
        # dask: an optional extra, loaded only for a cluster sweep
        from distributed import Client, LocalCluster
    except ImportError:
        raise SpecError(
            "--scheduler: dask.distributed is not installed.",
            hint="Install the sweep extra: pip install 'archcost[sweep]'.",
        ) from None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",  # this machine only: nothing listens beyond loopback
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        return Client(cluster), cluster
    if "://" not in scheduler and ":" not in scheduler:
        raise SpecError(
            f"--scheduler: '{scheduler}' is not serial, local or an address.",
            hint="e.g. --scheduler tcp://10.0.0.5:8786 (a running dask scheduler).",
        )
    return _client_within_timeout(Client, scheduler), None


def _unreachable(scheduler: str, reason: str) -> SpecError:
    return SpecError(
        f"--scheduler: cannot reach the Dask scheduler at {scheduler} within "
        f"{CONNECT_TIMEOUT_S} s ({reason}).",
        hint="Start one with 'dask scheduler' and workers with 'dask worker "
        "ADDRESS', or use --scheduler local.",
    )


def _client_within_timeout(client_class: Any, scheduler: str) -> Any:
    """A Client of ``scheduler``, or one error line within about CONNECT_TIMEOUT_S
    seconds: the TCP address is tried first (a refused or silent port fails there);
    then the Dask handshake runs in a thread given the same time, so that a port that
    answers but is not a Dask scheduler (a proxy, another service) cannot hang the
    sweep or end it in a traceback."""
    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if parts.scheme in ("tcp", "tls"):
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            host, port = None, None
        if not host or port is None:
            raise SpecError(
                f"--scheduler: '{scheduler}' is not HOST:PORT.",
                hint="e.g. --scheduler tcp://10.0.0.5:8786 (a running dask scheduler).",
            )
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise _unreachable(scheduler, str(exc) or type(exc).__name__) from None
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = client_class(scheduler, timeout=CONNECT_TIMEOUT_S)
        except BaseException as exc:  # reported below, as one line
            box["error"] = exc

    thread = threading.Thread(target=connect, name="archcost-dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S + 2)
    if "client" in box:
        return box["client"]
    failure = box.get("error")
    if failure is None:
        raise _unreachable(scheduler, "no Dask handshake")
    reason = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
    if not isinstance(failure, OSError | TimeoutError | ValueError):
        reason = f"it answered, but not as a Dask scheduler: {type(failure).__name__}"
    raise _unreachable(scheduler, reason)


def chunks(n: int, workers: int) -> list[range]:
    """Split ``range(n)`` into contiguous chunks: about 8 per worker, at most MAX_CHUNK."""
    size = max(1, min(MAX_CHUNK, -(-n // max(1, 8 * workers))))
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


def run_on(
    client: Any,
    spec: Spec,
    configs: Sequence[dict[str, Any]],
    *,
    batch: int = 1,
    dtype: str = "float32",
    profile: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Cost ``configs`` on a connected Dask client; results in order."""
    from distributed import as_completed  # dask: optional extra, only for a cluster sweep

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    parts = chunks(len(configs), workers)
    shared = client.scatter(spec, broadcast=True, hash=False)
    tag = uuid.uuid4().hex[:12]
    futures = [
        client.submit(
            evaluate_chunk,
            shared,
            [configs[i] for i in part],
            batch,
            dtype,
            profile,
            key=f"archcost-sweep-{tag}-{n}",
            retries=2,
        )
        for n, part in enumerate(parts)
    ]
    where = {f.key: n for n, f in enumerate(futures)}
    results: list[list[dict[str, Any]] | None] = [None] * len(parts)
    done = 0
    for future in as_completed(futures):
        n = where[future.key]
        results[n] = future.result()
        done += len(parts[n])
        if progress is not None:
            progress(done, len(configs))
    return [r for part in results for r in (part or [])]


# -- costing (here, or in a Dask worker) ---------------------------------------------
def _one_line(exc: ArchcostError) -> str:
    return " ".join(part.strip() for part in str(exc).splitlines())


def evaluate_one(
    spec: Spec,
    knobs: dict[str, Value],
    *,
    batch: int = 1,
    dtype: str = "float32",
    profile: Any = None,
) -> dict[str, Any]:
    """One configuration's result: the totals (and ``latency_s`` with a profile), or
    ``{"error": message}`` when the spec refuses the knobs."""
    try:
        model = Model(spec, knobs)
        costs = compute(
            model.nodes, model.counts, model.order, batch=batch, dtype=dtype, rows=False
        )
    except ArchcostError as exc:
        return {"error": _one_line(exc)}
    result: dict[str, Any] = dict(costs.totals)
    if profile is not None:
        result["latency_s"] = latency_seconds(model, profile, batch=batch, dtype=dtype)
    return result


def latency_seconds(model: Any, profile: Any, *, batch: int, dtype: str) -> float:
    """The network's time on ``profile``, as ``archcost analyze --device`` reports it
    (``totals.latency_s``): the per-layer estimates (a runtime profile's kernel models
    and fusions, else the roofline) plus a runtime profile's fixed cost per run."""
    return total_latency(estimate(model, profile, batch=batch, dtype=dtype), profile)


_BUILDS: list[Any] = []


def _shared_builds() -> Any:
    """This process's :class:`archcost.graph.BuildCache` (a Dask worker keeps its own
    across the chunks it runs; bounded, see ``BuildCache.limit``)."""
    if not _BUILDS:
        _BUILDS.append(BuildCache())
    return _BUILDS[0]


def evaluate_chunk(
    spec: Spec, chunk: Sequence[dict[str, Value]], batch: int, dtype: str, profile: Any
) -> list[dict[str, Any]]:
    """Several configurations in one call (a Dask task evaluates a chunk), sharing the
    layers, shapes and counts they have in common with every configuration this process
    has costed before (:class:`archcost.graph.BuildCache`)."""
    with _gc_paused(), sharing(_shared_builds()):
        return [
            evaluate_one(spec, knobs, batch=batch, dtype=dtype, profile=profile) for knobs in chunk
        ]


def run_onnx(
    path: str,
    configs: Sequence[dict[str, Value]],
    batch: int,
    dtype: str,
    profile: Any,
    progress: Callable[[int, int], None] | None,
) -> list[dict[str, Any]]:
    """Each configuration imported anew (``archcost.load(FILE.onnx, input=...)``), in
    this process."""
    results: list[dict[str, Any]] = []
    for knobs in configs:
        set_knobs: dict[str, Any] = {
            k: v for k, v in knobs.items() if not (k == "input" and v == "")
        }
        try:
            model = load_onnx(path, **set_knobs)
            costs = compute(
                model.nodes, model.counts, model.order, batch=batch, dtype=dtype, rows=False
            )
            result: dict[str, Any] = dict(costs.totals)
            if profile is not None:
                result["latency_s"] = latency_seconds(model, profile, batch=batch, dtype=dtype)
        except ArchcostError as exc:
            result = {"error": _one_line(exc)}
        results.append(result)
        if progress is not None:
            progress(len(results), len(configs))
    return results
