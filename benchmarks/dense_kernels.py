"""Benchmark the dense-prediction and ConvNeXt kernels (archcost.kernels_dense).

Run:  python benchmarks/dense_kernels.py [--repeat 20]

For U-Net's four 2x2 up-convolutions (Ronneberger et al. 2015, Fig. 1, batch 1), a
3x3 stride-2 decoder layer, a bilinear x2 resize, ConvNeXt-T's first-stage layer norm
and GELU, it prints the best time per call of ``--repeat`` (after warm-up), the
transposed convs' GFLOP/s (2·macs per second) as a ratio to a plain float32 GEMM
measured in the same run, and, when torch is importable, torch's time and the ratio
numpy/torch. The header names the machine (CPU model, cores), the date and the load
average, as every performance figure must. torch is optional (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from archcost import kernels_dense as kd  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the comparison is optional
    torch = None


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    return f"{model}, {os.cpu_count()} cores; {now} UTC; load average {os.getloadavg()[0]:.2f}"


def best_time(fn: Callable[[], object], repeat: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_gflops(repeat: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    c = np.empty((1024, 1024), np.float32)
    return 2 * 1024**3 / best_time(lambda: np.matmul(a, b, out=c), repeat) / 1e9


# name, C_in, C_out, input side, kernel, stride, padding, output_padding
TRANSPOSED = [
    ("unet up4 (1024->512, 28->56)", 1024, 512, 28, 2, 2, 0, 0),
    ("unet up3 (512->256, 52->104)", 512, 256, 52, 2, 2, 0, 0),
    ("unet up2 (256->128, 100->200)", 256, 128, 100, 2, 2, 0, 0),
    ("unet up1 (128->64, 196->392)", 128, 64, 196, 2, 2, 0, 0),
    ("decoder 3x3 s2 (64->32, 56->112)", 64, 32, 56, 3, 2, 1, 1),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(machine())
    gemm = gemm_gflops(args.repeat)
    print(f"float32 GEMM reference: {gemm:.1f} GFLOP/s")
    rows = []
    for name, ci, co, n, k, s, p, op in TRANSPOSED:
        x = rng.standard_normal((1, ci, n, n), dtype=np.float32)
        w = rng.standard_normal((ci, co, k, k), dtype=np.float32)
        b = rng.standard_normal(co, dtype=np.float32)
        geo = dict(
            stride=(s, s),
            padding=((p, p), (p, p)),
            dilation=(1, 1),
            output_padding=(op, op),
            groups=1,
        )
        t_np = best_time(functools.partial(kd.transposed_conv, x, w, b, **geo), args.repeat)
        macs = ci * co * k * k * n * n
        t_torch = None
        if torch is not None:
            tx, tw, tb = map(torch.from_numpy, (x, w, b))
            with torch.no_grad():
                run = functools.partial(F.conv_transpose2d, tx, tw, tb, s, p, op)
                t_torch = best_time(run, args.repeat)
        rows.append((name, t_np, 2 * macs / t_np / 1e9 / gemm, t_torch))
    x = rng.standard_normal((1, 96, 56, 56), dtype=np.float32)
    gamma, beta = np.ones(96, np.float32), np.zeros(96, np.float32)
    others = [
        (
            "bilinear x2 (96x56x56)",
            lambda: kd.upsample(x, (112, 112), "linear", False),
            (lambda t: F.interpolate(t, scale_factor=2, mode="bilinear")) if torch else None,
        ),
        (
            "layernorm (96x56x56)",
            lambda: kd.layernorm(x, gamma, beta, 1e-6),
            (lambda t: F.layer_norm(t.permute(0, 2, 3, 1), (96,)).permute(0, 3, 1, 2))
            if torch
            else None,
        ),
        ("gelu (96x56x56)", lambda: kd.gelu(x), (lambda t: F.gelu(t)) if torch else None),
    ]
    for name, fn, torch_fn in others:
        t_np = best_time(fn, args.repeat)
        t_torch = None
        if torch_fn is not None:
            tx = torch.from_numpy(x)
            with torch.no_grad():
                t_torch = best_time(functools.partial(torch_fn, tx), args.repeat)
        rows.append((name, t_np, None, t_torch))
    print(f"{'layer':36} {'numpy ms':>9} {'of GEMM':>8} {'torch ms':>9} {'numpy/torch':>11}")
    for name, t_np, of_gemm, t_torch in rows:
        gemm_text = f"{of_gemm:8.2f}" if of_gemm is not None else f"{'':8}"
        torch_text = (
            f"{t_torch * 1e3:9.2f} {t_np / t_torch:11.2f}" if t_torch else f"{'-':>9} {'-':>11}"
        )
        print(f"{name:36} {t_np * 1e3:9.2f} {gemm_text} {torch_text}")
    ratios = [t_np / t_torch for _, t_np, _, t_torch in rows if t_torch]
    if ratios:
        print(f"median numpy/torch time ratio: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
