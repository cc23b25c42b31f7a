"""Benchmark the NumPy conv kernels against a plain float32 GEMM and PyTorch's CPU conv.

Run:  python benchmarks/kernels.py [--repeat 50] [--methods] [--sweep]

For each representative layer (batch 1) it prints the time per call (median and best
of ``--repeat`` calls after warm-up, so the workspace and allocator are in the state a
real run leaves them), GFLOP/s (2·macs per second), the ratio to the GFLOP/s of a
plain float32 GEMM measured in the same run (the practical limit; the goal in docs/design.md is at
least 0.5 for standard convolutions), and, when torch is importable, torch's time and
the ratio numpy/torch, all from best times. NumPy is timed first and torch after a
pause, because the two libraries' spinning worker threads slow each other down when
calls interleave. ``--methods`` also times every conv method that applies; ``--sweep``
adds the conv shapes of ResNet-50, MobileNetV2 and ShuffleNetV2. torch is optional
(the ``bench`` extra) and only used here.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from archcost import kernels  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the comparison is optional
    torch = None


@dataclass(frozen=True)
class Layer:
    name: str
    c_in: int
    c_out: int
    size: int
    kernel: int
    stride: int = 1
    padding: int = 0
    groups: int = 1

    @property
    def out(self) -> int:
        return kernels.output_length(self.size, self.kernel, self.stride, self.padding,
                                     self.padding)

    @property
    def macs(self) -> int:
        return self.c_out * (self.c_in // self.groups) * self.kernel**2 * self.out**2


MAIN = [
    Layer("3x3 conv 64->64 @56", 64, 64, 56, 3, 1, 1),
    Layer("1x1 conv 256->64 @56", 256, 64, 56, 1),
    Layer("dw 3x3 144 @56", 144, 144, 56, 3, 1, 1, groups=144),
    Layer("gconv 3x3 128 g32 @56", 128, 128, 56, 3, 1, 1, groups=32),
]

SWEEP = [
    Layer("r50 stem 7x7/2 3->64 @224", 3, 64, 224, 7, 2, 3),
    Layer("r50 3x3/2 128 @56", 128, 128, 56, 3, 2, 1),
    Layer("r50 3x3 128 @28", 128, 128, 28, 3, 1, 1),
    Layer("r50 3x3 256 @14", 256, 256, 14, 3, 1, 1),
    Layer("r50 3x3 512 @7", 512, 512, 7, 3, 1, 1),
    Layer("r50 1x1 1024->256 @14", 1024, 256, 14, 1),
    Layer("r50 1x1/2 512->1024 @28", 512, 1024, 28, 1, 2),
    Layer("mv2 stem 3x3/2 3->32 @224", 3, 32, 224, 3, 2, 1),
    Layer("mv2 dw 3x3 32 @112", 32, 32, 112, 3, 1, 1, groups=32),
    Layer("mv2 dw 3x3/2 96 @112", 96, 96, 112, 3, 2, 1, groups=96),
    Layer("mv2 dw 3x3 384 @14", 384, 384, 14, 3, 1, 1, groups=384),
    Layer("mv2 dw 3x3 960 @7", 960, 960, 7, 3, 1, 1, groups=960),
    Layer("snv2 dw 3x3/2 116 @28", 116, 116, 28, 3, 2, 1, groups=116),
    Layer("dw x2 3x3 32 @56", 32, 64, 56, 3, 1, 1, groups=32),
    Layer("rx50 gconv 3x3/2 256 g32 @56", 256, 256, 56, 3, 2, 1, groups=32),
    Layer("rx50 gconv 3x3 256 g32 @28", 256, 256, 28, 3, 1, 1, groups=32),
    Layer("rx50 gconv 3x3 512 g32 @14", 512, 512, 14, 3, 1, 1, groups=32),
    Layer("rx50 gconv 3x3 1024 g32 @7", 1024, 1024, 7, 3, 1, 1, groups=32),
    Layer("alexnet conv 5x5 96->256 g2 @27", 96, 256, 27, 5, 1, 2, groups=2),
    Layer("snv1 gconv 1x1 240->240 g3 @28", 240, 240, 28, 1, groups=3),
]


def timeit(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median, best) seconds per call after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def gemm_gflops(repeat: int) -> float:
    """GFLOP/s of a plain float32 (1024 x 1024) @ (1024 x 1024) matmul, best of ``repeat``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    c = np.empty((1024, 1024), np.float32)
    _, best = timeit(lambda: np.matmul(a, b, out=c), repeat)
    return 2 * 1024**3 / best / 1e9


def methods_for(layer: Layer) -> list[str]:
    cg = layer.c_in // layer.groups
    found = []
    if layer.kernel == 1 and layer.stride == 1 and layer.padding == 0:
        found.append("pointwise")
    if cg == 1:
        found.append("depthwise")
    return found + ["rows", "im2col_cf", "im2col_cl"]


def arrays(layer: Layer) -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, layer.c_in, layer.size, layer.size), dtype=np.float32)
    w = rng.standard_normal((layer.c_out, layer.c_in // layer.groups, layer.kernel,
                             layer.kernel), dtype=np.float32)
    geometry = dict(stride=(layer.stride,) * 2, padding=((layer.padding,) * 2,) * 2,
                    dilation=(1, 1), groups=layer.groups)
    return x, w, geometry


def time_numpy(layer: Layer, repeat: int,
               all_methods: bool) -> list[tuple[str, float, float, np.ndarray]]:
    """(method, median s, best s, output) for auto and, optionally, every other method."""
    x, w, geometry = arrays(layer)
    chosen = kernels.conv_method(x.shape, w.shape, geometry["stride"], geometry["padding"],
                                 geometry["dilation"], layer.groups)
    methods = [chosen] + ([m for m in methods_for(layer) if m != chosen] if all_methods else [])
    rows = []
    for method in methods:
        def call() -> tuple[np.ndarray, int]:
            return kernels.conv(x, w, **geometry, method=method)
        y, mults = call()
        assert mults == layer.macs, (mults, layer.macs)
        rows.append((method, *timeit(call, repeat), y))
    return rows


def time_torch(layer: Layer, repeat: int) -> tuple[float, np.ndarray]:
    x, w, _ = arrays(layer)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    with torch.no_grad():
        def call() -> object:
            return F.conv2d(xt, wt, None, layer.stride, layer.padding, 1, layer.groups)
        _, best = timeit(call, repeat)
        return best, call().numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed calls per layer")
    parser.add_argument("--methods", action="store_true", help="time every applicable method")
    parser.add_argument("--sweep", action="store_true",
                        help="add ResNet-50 / MobileNetV2 / ShuffleNetV2 conv shapes")
    args = parser.parse_args(argv)

    gemm = gemm_gflops(max(20, args.repeat // 2))
    layers = MAIN + (SWEEP if args.sweep else [])
    numpy_rows = [time_numpy(layer, args.repeat, args.methods) for layer in layers]
    # Measured again after the layers, keeping the better figure: one noisy burst on a
    # shared machine should not make every ratio look good.
    gemm = max(gemm, gemm_gflops(max(20, args.repeat // 2)))
    # NumPy first, torch after a pause: OpenBLAS's and OpenMP's worker threads spin for
    # a while after each call, and interleaving the two libraries makes both slow.
    torch_rows: list[tuple[float, np.ndarray] | None] = [None] * len(layers)
    if torch is not None:
        time.sleep(1.0)
        torch_rows = [time_torch(layer, args.repeat) for layer in layers]
    print(f"# {platform.machine()} {platform.processor() or ''} numpy {np.__version__}"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch
             else ", torch not installed (no comparison)"))
    print(f"# plain float32 GEMM 1024^3: {gemm:.1f} GFLOP/s (best of two measurements)")
    print("# GFLOP/s, /GEMM, torch ms and np/tch use the best time of each (this machine's")
    print("# CPU quota and neighbours make medians noisy); med ms shows the spread.")
    header = f"{'layer [auto method]':<44} {'med ms':>8} {'best ms':>8} {'GFLOP/s':>7} {'/GEMM':>6}"
    if torch is not None:
        header += f" {'torch ms':>8} {'np/tch':>6} {'rel.diff':>8}"
    print(header)
    for layer, rows, reference in zip(layers, numpy_rows, torch_rows):
        flops = 2 * layer.macs
        for i, (method, median, best, y) in enumerate(rows):
            label = f"{layer.name} [{method}]" if i == 0 else f"  {method}"
            row = (f"{label:<44} {median * 1e3:8.3f} {best * 1e3:8.3f} "
                   f"{flops / best / 1e9:7.1f} {flops / best / 1e9 / gemm:6.2f}")
            if reference is not None:
                torch_time, expected = reference
                diff = float(np.abs(y - expected).max() / (np.abs(expected).max() or 1))
                row += f" {torch_time * 1e3:8.3f} {best / torch_time:6.2f} {diff:8.1e}"
            print(row)
    print(f"# workspace held: {kernels.workspace_nbytes() / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
