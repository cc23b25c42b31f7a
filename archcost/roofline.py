"""The roofline latency model: device profiles and per-layer time estimates.

A device is described by three numbers (a :class:`Profile`, read from YAML):

* ``peak_macs_per_s``: multiply-accumulates per second it can sustain at best;
* ``bandwidth_bytes_per_s``: bytes per second it can move to and from memory;
* ``overhead_s``: a fixed cost per layer (a kernel launch, a Python call), default 0.

Each layer's estimated time is the roofline's (Williams, Waterman & Patterson, 2009):

* ``compute_s = macs / peak_macs_per_s``
* ``memory_s = memory_access / bandwidth_bytes_per_s``
* ``seconds = max(compute_s, memory_s) + overhead_s``

with ``macs`` and ``memory_access`` exactly as :mod:`archcost.costs` counts them. A
layer is **compute**-bound when ``compute_s >= memory_s`` (a layer exactly at the
ridge counts as compute-bound: it reaches the peak), else **memory**-bound. Its
arithmetic intensity is ``macs / memory_access`` MACs per byte, and the ridge point
``peak_macs_per_s / bandwidth_bytes_per_s`` is the intensity where the two roofs meet.
Views (flatten, dropout, identity, channel_split), which move nothing and compute
nothing under the conventions, take no time and are bound by ``"none"``.

Profiles are YAML files; a few ship in ``archcost/devices/`` and are loaded by name
(``load_profile("jetson-nano-fp32")``); ``this-machine`` measures the machine now (see
:mod:`archcost.calibrate`); anything else is a path.
"""

from __future__ import annotations

import math
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archcost.errors import SpecError, did_you_mean

# Profile, LayerEstimate and profile_yaml live in archcost.profiles (shared with
# archcost.runtime.predict); they are imported from here too.
from archcost.profiles import LayerEstimate, Profile
from archcost.profiles import profile_yaml as profile_yaml
from archcost.spec import YMap, parse_yaml, read_text

if TYPE_CHECKING:
    from archcost.costs import CostRow
    from archcost.model import Model

#: The device name that means "measure this machine now" (a quick calibration).
THIS_MACHINE = "this-machine"
REQUIRED_KEYS = ("peak_macs_per_s", "bandwidth_bytes_per_s")
OPTIONAL_KEYS = ("name", "source", "overhead_s", "measured")
#: keys of a profile calibrated on a runtime (archcost.runtime.predict.RuntimeProfile)
RUNTIME_KEYS = (
    "runtime",
    "runtime_version",
    "threads",
    "probe_s",
    "run_overhead_s",
    "nchwc_block",
    "nchwc_align",
    "padded_macs",
    "kernels",
    "fusions",
    "cold_weight_bytes_per_s",
    "weight_cache_bytes",
)
MAX_PROFILE_BYTES = 64 * 1024
BOUNDS = ("compute", "memory", "none")

_EXAMPLE = (
    "A profile looks like:  name: my-cpu / source: measured by archcost calibrate / "
    "peak_macs_per_s: 5.0e+10 / bandwidth_bytes_per_s: 2.0e+10 / overhead_s: 1.0e-06"
)
_MEANING = {
    "peak_macs_per_s": "peak multiply-accumulates per second",
    "bandwidth_bytes_per_s": "memory bandwidth in bytes per second",
    "overhead_s": "fixed seconds added to every layer",
}


# -- estimates ---------------------------------------------------------------------
def estimate_row(
    name: str, kind: str, macs: int, memory_access: int, profile: Profile
) -> LayerEstimate:
    """The roofline estimate of one layer with ``macs`` MACs moving ``memory_access`` bytes.

    The bound is decided in exact rational arithmetic (``macs · bandwidth`` against
    ``memory_access · peak``), so a layer exactly at the ridge is compute-bound
    whatever the float rounding of the two times.

    >>> e = estimate_row("c", "conv", 10**6, 10**5, Profile("d", 1e9, 1e8, 1e-6))
    >>> e.bound, e.intensity, e.seconds
    ('compute', 10.0, 0.001001)
    """
    peak, bandwidth = profile.peak_macs_per_s, profile.bandwidth_bytes_per_s
    compute_s = macs / peak
    memory_s = memory_access / bandwidth
    if macs == 0 and memory_access == 0:
        return LayerEstimate(
            name=name,
            kind=kind,
            macs=0,
            memory_access=0,
            intensity=0.0,
            compute_s=0.0,
            memory_s=0.0,
            overhead_s=0.0,
            seconds=0.0,
            bound="none",
        )
    compute_bound = macs * Fraction(bandwidth) >= memory_access * Fraction(peak)
    intensity = macs / memory_access if memory_access else math.inf
    return LayerEstimate(
        name=name,
        kind=kind,
        macs=macs,
        memory_access=memory_access,
        intensity=intensity,
        compute_s=compute_s,
        memory_s=memory_s,
        overhead_s=profile.overhead_s,
        seconds=max(compute_s, memory_s) + profile.overhead_s,
        bound="compute" if compute_bound else "memory",
    )


def estimate_rows(rows: list[CostRow], profile: Profile) -> list[LayerEstimate]:
    """Estimates for cost rows (from ``model.costs(batch, dtype).rows``), in their order."""
    return [estimate_row(r.name, r.kind, r.macs, r.memory_access, profile) for r in rows]


def estimate(
    model: Model, profile: Profile, *, batch: int = 1, dtype: str = "float32"
) -> list[LayerEstimate]:
    """Per-layer roofline estimates of ``model`` on ``profile``, in network order (a
    profile calibrated on a runtime predicts with its kernel models and fusions:
    :func:`archcost.runtime.predict.predict`).

    Args:
        model: a loaded model.
        profile: the device (see :func:`load_profile`).
        batch: samples per pass (multiplies MACs and activation traffic).
        dtype: element type of the byte counts.
    """
    # lazy: the runtime's predictor (two more dataclasses) loads only when a profile is
    # used, not at the start-up of every command (it imports nothing of this module)
    from archcost.runtime.predict import RuntimeProfile, predict

    if isinstance(profile, RuntimeProfile):
        return predict(model, profile, batch=batch, dtype=dtype)
    return estimate_rows(model.costs(batch=batch, dtype=dtype).rows, profile)


def total_seconds(estimates: list[LayerEstimate]) -> float:
    """The network's estimated time: the layers run one after another."""
    return math.fsum(e.seconds for e in estimates)


# -- profiles ----------------------------------------------------------------------
def bundled_profiles() -> dict[str, Any]:
    """Bundled profile names -> their files (``archcost/devices/*.yaml``)."""
    folder = resources.files("archcost") / "devices"
    if not folder.is_dir():
        return {}
    return {
        p.name[: -len(".yaml")]: p
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".yaml")
    }


def load_profile(name_or_path: str | Path) -> Profile:
    """A device profile by bundled name, ``this-machine`` (measured now), or path.

    A string without a ``/`` and without a ``.yaml``/``.yml`` suffix is a name.

    Raises:
        SpecError: unknown name, missing file, bad YAML, or a missing or wrong key.
    """
    text = str(name_or_path)
    looks_like_path = (
        isinstance(name_or_path, Path)
        or "/" in text
        or "\\" in text
        or text.endswith((".yaml", ".yml"))
    )
    if not looks_like_path:
        if text == THIS_MACHINE:
            # lazy: archcost.calibrate loads numpy; only this-machine measures anything
            from archcost.calibrate import calibrate

            return calibrate(quick=True)
        bundled = bundled_profiles()
        if text in bundled:
            return parse_profile(
                bundled[text].read_text(encoding="utf-8"),
                f"archcost/devices/{text}.yaml",
                default_name=text,
            )
        if not Path(text).is_file():
            names = [*bundled, THIS_MACHINE]
            raise SpecError(
                f"unknown device profile '{text}'.",
                hint=f"{did_you_mean(text, names)} Bundled profiles: "
                f"{', '.join(names)}; or give the path of a profile YAML "
                "(archcost calibrate -o my-machine.yaml writes one).",
            )
    path = Path(text)
    content = read_text(
        path,
        text,
        limit=MAX_PROFILE_BYTES,
        what="device profile",
        too_large=f"a device profile is a few lines (limit {MAX_PROFILE_BYTES:,} bytes).",
        missing_hint="Check the path, use a bundled name ("
        + ", ".join([*bundled_profiles(), THIS_MACHINE])
        + "), or write one with archcost calibrate -o PATH.",
    )
    return parse_profile(content, text, default_name=path.stem)


def parse_profile(text: str, file: str = "<profile>", *, default_name: str = "device") -> Profile:
    """Parse and check the YAML text of a device profile.

    Numbers may be written ``1.2e+11``, ``120000000000`` or, although YAML 1.1 reads
    them as strings, ``1.2e11``/``1e11``; they must be finite, rates positive and the
    overhead non-negative.

    Raises:
        SpecError: with the file, the line when known, what was expected and an example.
    """
    try:
        doc = parse_yaml(text, file)  # the spec loader's safe reader: lines, limits
    except SpecError as exc:
        exc.hint = exc.hint or _EXAMPLE
        raise
    if not isinstance(doc, YMap):  # parse_yaml's mappings are YMaps (they know their lines)
        found = (
            "an empty document"
            if doc is None
            else "a list"
            if isinstance(doc, list)
            else f"a {type(doc).__name__}"
        )
        raise SpecError(
            f"a device profile must be a mapping of keys to values, got {found}.",
            file=file,
            hint=_EXAMPLE,
        )
    lines = doc.key_lines
    for key in doc:
        known = REQUIRED_KEYS + OPTIONAL_KEYS + (RUNTIME_KEYS if "runtime" in doc else ())
        if key not in known:
            raise SpecError(
                f"unknown key '{key}' in a device profile.",
                file=file,
                line=lines.get(str(key)),
                hint=f"{did_you_mean(str(key), known)} Keys: {', '.join(known)}.",
            )
    for key in REQUIRED_KEYS:
        if key not in doc:
            raise SpecError(
                f"missing required key '{key}' ({_MEANING[key]}) in a device profile.",
                file=file,
                hint=_EXAMPLE,
            )
    values = {
        key: _number(doc[key], key, file, lines.get(key), positive=True) for key in REQUIRED_KEYS
    }
    overhead = _number(
        doc.get("overhead_s", 0.0), "overhead_s", file, lines.get("overhead_s"), positive=False
    )
    strings = {}
    for key, default in (("name", default_name), ("source", "")):
        value = doc.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int | float) or value is None:
            raise SpecError(
                f"key '{key}' expects text, got {value!r}.",
                file=file,
                line=lines.get(key),
                hint=f'Write e.g. {key}: "my device".',
            )
        strings[key] = str(value)
    measured = doc.get("measured", {}) or {}
    if not isinstance(measured, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str | int | float | bool))
        for k, v in measured.items()
    ):
        raise SpecError(
            "key 'measured' expects a mapping of names to plain values "
            "(how the profile was measured).",
            file=file,
            line=lines.get("measured"),
        )
    if "runtime" in doc:
        # lazy: the runtime's profile type loads only for a calibrated profile (start-up
        # time); archcost.runtime.predict imports nothing of this module
        from archcost.runtime.predict import RuntimeProfile, parse_runtime_fields

        return RuntimeProfile(
            name=strings["name"],
            source=strings["source"],
            overhead_s=overhead,
            file=file,
            measured=dict(measured),
            peak_macs_per_s=values["peak_macs_per_s"],
            bandwidth_bytes_per_s=values["bandwidth_bytes_per_s"],
            **parse_runtime_fields(doc, file, lines),
        )
    return Profile(
        name=strings["name"],
        source=strings["source"],
        overhead_s=overhead,
        file=file,
        measured=dict(measured),
        **values,
    )


def _number(value: Any, key: str, file: str, line: int | None, *, positive: bool) -> float:
    what = "a positive number" if positive else "a number >= 0"
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.replace("_", ""))
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise SpecError(
            f"key '{key}' ({_MEANING[key]}) expects {what}, got {value!r}.",
            file=file,
            line=line,
            hint=f"Write e.g. {key}: " + ("1.0e-06" if key == "overhead_s" else "5.0e+10") + ".",
        )
    return number
