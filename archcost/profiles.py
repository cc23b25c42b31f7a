"""Device profiles and per-layer time estimates: the types every latency model shares.

A :class:`Profile` describes a device by three numbers (peak MACs per second, memory
bandwidth, a fixed cost per layer); :class:`LayerEstimate` is one layer's predicted
time. :mod:`archcost.roofline` estimates with the plain roofline and loads profiles;
:mod:`archcost.runtime.predict` extends :class:`Profile` with kernel models calibrated
on a runtime. Both import these types from here, the lowest module of the latency
models, so neither imports the other's internals in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass(frozen=True)
class Profile:
    """A device for the roofline model.

    Attributes:
        name: what reports call the device.
        peak_macs_per_s: peak multiply-accumulates per second (> 0).
        bandwidth_bytes_per_s: memory bandwidth, bytes read + written per second (> 0).
        overhead_s: seconds added to every layer that does work (>= 0).
        source: where the numbers come from (measured, published, illustrative).
        file: the YAML file it was read from, if any.
        measured: how a calibrated profile was measured (free-form scalars).
    """

    name: str
    peak_macs_per_s: float
    bandwidth_bytes_per_s: float
    overhead_s: float = 0.0
    source: str = ""
    file: str | None = field(default=None, compare=False)
    measured: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def ridge(self) -> float:
        """The ridge point in MACs per byte: ``peak_macs_per_s / bandwidth_bytes_per_s``.

        >>> Profile("d", 1e9, 1e8).ridge
        10.0
        """
        return self.peak_macs_per_s / self.bandwidth_bytes_per_s

    def attainable(self, intensity: float) -> float:
        """The roof at ``intensity`` MACs/byte: ``min(peak, intensity · bandwidth)`` MAC/s.

        >>> Profile("d", 1e9, 1e8).attainable(2.0), Profile("d", 1e9, 1e8).attainable(50.0)
        (200000000.0, 1000000000.0)
        """
        return min(self.peak_macs_per_s, intensity * self.bandwidth_bytes_per_s)

    def summary(self) -> dict[str, Any]:
        """The profile as plain JSON-able values (no ``measured`` details)."""
        return {
            "name": self.name,
            "source": self.source,
            "peak_macs_per_s": self.peak_macs_per_s,
            "bandwidth_bytes_per_s": self.bandwidth_bytes_per_s,
            "overhead_s": self.overhead_s,
            "ridge_macs_per_byte": self.ridge,
        }


@dataclass(frozen=True)
class LayerEstimate:
    """One layer's roofline estimate. Counts are exact ints; times are float seconds."""

    name: str
    kind: str
    macs: int
    memory_access: int
    intensity: float
    compute_s: float
    memory_s: float
    overhead_s: float
    seconds: float
    bound: str
    #: a layer the runtime fuses into another layer's kernel names that layer (its
    #: time is 0 here; see :mod:`archcost.runtime.predict`).
    fused_into: str | None = None
    #: the part of ``seconds`` spent converting tensor layouts for this layer (the
    #: NCHWc reorders onnxruntime inserts; see :mod:`archcost.runtime.predict`).
    layout_s: float = 0.0

    @property
    def throughput(self) -> float:
        """Estimated MACs per second, ``macs / seconds`` (0 for layers without MACs)."""
        return self.macs / self.seconds if self.macs and self.seconds else 0.0


def profile_yaml(profile: Profile, comment: str = "") -> str:
    """A profile as YAML that :func:`archcost.roofline.parse_profile` reads back, with a
    comment header.

    Rates are written with four significant digits in YAML-1.1 float syntax
    (``1.790e+10``), which every YAML loader reads as a number.
    """
    head = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    plain = {"name": profile.name, "source": profile.source}
    text = head + yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=10_000)
    text += (
        f"peak_macs_per_s: {profile.peak_macs_per_s:.3e}\n"
        f"bandwidth_bytes_per_s: {profile.bandwidth_bytes_per_s:.3e}\n"
        f"overhead_s: {profile.overhead_s:.3e}\n"
    )
    if profile.measured:
        text += yaml.safe_dump(
            {"measured": dict(profile.measured)}, sort_keys=False, allow_unicode=True, width=10_000
        )
    return text
