"""The built wheel works from a clean environment, zoo included.

Builds the wheel from a copy of the checkout (``pip wheel``, so the checkout stays
clean), installs it with its user-facing extras into a fresh virtual environment in a
temporary directory, and runs the installed ``archcost`` from a directory with no
``specs/`` in it. Its totals must equal the repository's (this checkout's own
``archcost.load`` of the same spec files), and the headline ones their sources
(torchvision's mobilenet_v2: 300,774,272 MACs, 3,504,872 params).

Needs the network to PyPI (or pip's cache) for the dependencies; takes about a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import archcost

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# The extras a user installs (README "Install"); test and bench are for developers.
EXTRAS = sorted(set(PYPROJECT["project"].get("optional-dependencies", {})) - {"test", "bench"})
COMPARED = ["mobilenet_v1", "mobilenet_v2", "shufflenet_v1", "shufflenet_v2"]


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _check(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the wheel, the fresh venv's bin directory, an empty working directory)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("archcost", "specs"):    # archcost/zoo stays a symlink to ../specs
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=ignore)
    dist = base / "dist"
    _check(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist),
                 str(src)], cwd=base))
    (wheel,) = dist.glob("archcost-*.whl")
    venv = base / "venv"
    _check(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=base))
    target = f"{wheel}[{','.join(EXTRAS)}]" if EXTRAS else str(wheel)
    # This pip installs into the new venv (--python); --no-compile: byte-compiling
    # plotly and pandas at install time took most of the install's minute or two here.
    _check(_run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                 "install", "--quiet", "--no-compile", target], cwd=base))
    work = base / "work"
    work.mkdir()
    return wheel, venv / "bin", work


def test_wheel_carries_the_zoo_and_no_symlink(installed: tuple[Path, Path, Path]) -> None:
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in ROOT.joinpath("specs").rglob("*.yaml"):
        rel = spec.relative_to(ROOT / "specs").as_posix()
        assert f"archcost/zoo/{rel}" in names, rel
    assert not any(n.startswith(("tests/", "specs/")) for n in names)


def test_installed_package_is_the_wheel(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    where = _check(_run([str(bin_dir / "python"), "-c",
                         "import archcost, archcost.zoo; print(archcost.__file__); "
                         "print(archcost.zoo.ZOO)"], cwd=work)).split()
    assert all(Path(p).is_relative_to(bin_dir.parent) for p in where)
    version = _check(_run([str(bin_dir / "archcost"), "--version"], cwd=work))
    assert version.strip() == f"archcost {archcost.__version__}"


def test_analyze_a_zoo_name(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    doc = json.loads(_check(_run([str(bin_dir / "archcost"), "analyze", "mobilenet_v2",
                                  "--format", "json"], cwd=work)))
    repo = archcost.load(ROOT / "specs" / "mobilenet_v2.yaml")
    assert doc["totals"] == {k: repo.totals[k] for k in doc["totals"]}
    # torchvision's mobilenet_v2: num_params 3,504,872, 300,774,272 MACs (tests/test_zoo.py).
    assert (doc["totals"]["macs"], doc["totals"]["params"]) == (300_774_272, 3_504_872)


def test_compare_the_headline_four_with_html(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    out = work / "out" / "compare.html"
    rows = json.loads(_check(_run([str(bin_dir / "archcost"), "compare", *COMPARED, "--html",
                                   str(out), "--format", "json"], cwd=work)))
    for row, name in zip(rows, COMPARED, strict=True):
        repo = archcost.load(ROOT / "specs" / f"{name}.yaml")
        assert (row["macs"], row["params"]) == (repo.totals["macs"], repo.totals["params"])
    html = out.read_text(encoding="utf-8")
    assert "ShuffleNetV2" in html and "MobileNetV1" in html
    # Plotly inlined: the wheel carries the packed bundle (archcost/report/vendor/)
    assert 'src="http' not in html and 'id="archcost-plotlyjs"' in html
    assert out.stat().st_size > 600_000


def test_validate_runs_in_the_wheel(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    result = _run([str(bin_dir / "archcost"), "validate", "shufflenet_v2"], cwd=work)
    _check(result)
    assert "error" not in result.stderr.lower()


def test_unknown_name_in_the_wheel(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    result = _run([str(bin_dir / "archcost"), "analyze", "mobilenet_v3"], cwd=work)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("archcost: error: 'mobilenet_v3' is neither")


def test_zoo_listing_in_the_wheel(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    entries = json.loads(_check(_run([str(bin_dir / "archcost"), "zoo", "--format", "json"],
                                     cwd=work)))
    assert sorted(e["name"] for e in entries) == sorted(
        p.stem for p in (ROOT / "specs").glob("*.yaml"))
    for e in entries:
        assert Path(e["path"]).is_relative_to(bin_dir.parent)     # the package's copy
        repo = archcost.load(ROOT / "specs" / f"{e['name']}.yaml")
        assert (e["macs"], e["params"]) == (repo.totals["macs"], repo.totals["params"])
