"""Shared fixtures: write a spec to a temporary file and load or run it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Every hypothesis test runs on CI's loaded 2-core machine: no per-example deadline (the
# default 200 ms fails under load) and no "too slow" data-generation health check, the
# two settings that depend on wall time. Decorators' own @settings inherit this profile.
settings.register_profile("archcost", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("archcost")

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """``write_spec(text, name="net.yaml")`` writes dedented YAML and returns its path."""
    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path
    return write


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the snapshots in tests/golden/ from the current output")
