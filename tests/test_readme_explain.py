"""The README's `explain` example is what `archcost explain` prints for that layer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archcost.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def _example_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"\*\*explain\*\* shows.*?`(examples/\S+) (\S+)`:\s*```\n(.*?)```", text, re.S)
    assert m, "README lost its explain example"
    return [m.group(1), m.group(2), *[ln.strip() for ln in m.group(3).splitlines() if ln.strip()]]


def test_readme_explain_example_matches_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    spec, layer, *lines = _example_lines()
    assert main(["explain", spec, layer]) == 0
    printed = {" ".join(ln.split()) for ln in capsys.readouterr().out.splitlines()}
    missing = [ln for ln in lines if " ".join(ln.split()) not in printed]
    assert not missing, f"README explain lines not printed by archcost: {missing}"
