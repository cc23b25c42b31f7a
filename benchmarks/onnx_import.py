"""ONNX import speed: what `archcost.load("resnet50.onnx")` adds beyond `onnx.load`.

Run: .venv/bin/python benchmarks/onnx_import.py [MODEL.onnx]
Goal: importing ResNet-50's ONNX file adds at most 1 s beyond onnx.load.

Without an argument the file is ResNet-50 as torchvision exports it when torch and
torchvision are installed (BatchNorm folded, 122 nodes), else archcost's own export of
specs/resnet50.yaml (BatchNorm kept, 175 nodes, the same weights). The two are timed
interleaved, 5 rounds; the figures are medians, with the machine, date and load.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores, load {load:.1f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


def resnet50_file(folder: Path) -> tuple[Path, str]:
    path = folder / "resnet50.onnx"
    try:
        import torch

        torch.library.register_fake = lambda *a, **k: lambda f: f  # CPU torch + torchvision
        import torchvision

        model = torchvision.models.resnet50(weights=None).eval()
        torch.onnx.export(
            model, torch.randn(1, 3, 224, 224), str(path), dynamo=False, opset_version=17
        )
        return path, "torchvision ResNet-50 (torch.onnx.export, opset 17)"
    except Exception:  # torch missing or unusable: archcost's own export
        import archcost
        from archcost.onnx.exporter import export

        export(archcost.load(ROOT / "specs" / "resnet50.yaml"), path)
        return path, "archcost export of specs/resnet50.yaml (opset 17)"


def main() -> None:
    import onnx

    import archcost

    with tempfile.TemporaryDirectory() as tmp:
        if len(sys.argv) > 1:
            path, what = Path(sys.argv[1]), sys.argv[1]
        else:
            path, what = resnet50_file(Path(tmp))
        size = path.stat().st_size
        archcost.load(path)  # warm: imports, page cache
        loads, imports = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            onnx.load(str(path), load_external_data=False)
            t1 = time.perf_counter()
            model = archcost.load(path)
            t2 = time.perf_counter()
            loads.append(t1 - t0)
            imports.append(t2 - t1)
        load, full = statistics.median(loads), statistics.median(imports)
        print(f"{what}: {size / 2**20:.0f} MiB, {len(model.layers)} layers")
        print(f"machine: {machine()}")
        print(f"onnx.load            {load:6.3f} s (median of 5)")
        print(
            f"archcost.load        {full:6.3f} s (read, shape inference, folding, mapping, "
            "building and costing the model)"
        )
        print(
            f"added beyond load    {full - load:6.3f} s = {(full - load) / load:.2f}x onnx.load "
            f"(goal: <= 1 s) {'OK' if full - load <= 1.0 else 'OVER'}"
        )


if __name__ == "__main__":
    main()
