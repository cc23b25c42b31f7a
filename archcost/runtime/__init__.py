"""Latency on a real runtime: measure with onnxruntime, calibrate a kernel model, predict.

* :mod:`archcost.runtime.ort` runs an ONNX model in onnxruntime: whole-network
  latency (median of warm runs, with the spread), per-kernel times from the runtime's
  profiler mapped back to the layers each kernel covers, and a drift probe.
* :mod:`archcost.runtime.micro` builds single-kernel ONNX micro-models.
* :mod:`archcost.runtime.calibrate` measures them, detects the runtime's fusions and
  fits a transparent per-kernel-type model (``archcost calibrate --runtime onnxruntime``).
* :mod:`archcost.runtime.predict` predicts each layer's time from that model
  (``archcost analyze SPEC --device PROFILE``).

Only these modules import onnx and onnxruntime, and only when they run.
"""
