"""One parser for knob values typed on the command line: ``--set k=v`` and
``spec.yaml@k=v`` type every value the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from archcost.cli import main
from archcost.commands.options import parse_sets
from archcost.expressions import parse_value
from archcost.report.compare import parse_model_arg

SPEC = str(Path(__file__).resolve().parent.parent / "specs" / "mobilenet_v1.yaml")
TEXTS = ["160", "-3", "0.5", "1e-3", "+2.5E2", "true", "FALSE", "nan", "NaN", "inf", "-inf",
         "1_000", "0x10", "relu6", " 7 "]
# What each text is, written out by hand: Python int/float literals in plain decimal
# notation are numbers, true/false (any case) booleans, everything else text.
EXPECTED = [160, -3, 0.5, 0.001, 250.0, True, False, "nan", "NaN", "inf", "-inf", "1_000",
            "0x10", "relu6", 7]


@pytest.mark.parametrize("text,expected", list(zip(TEXTS, EXPECTED, strict=True)), ids=TEXTS)
def test_set_and_at_suffix_type_a_value_alike(text, expected):
    via_set = parse_sets([f"width={text}"])["width"]
    via_at = parse_model_arg(f"{SPEC}@width={text}")[1]["width"]
    assert via_set == via_at == parse_value(text) == expected
    assert type(via_set) is type(via_at) is type(expected)


def test_nan_is_refused_the_same_way_on_both_paths(capsys):
    assert main(["analyze", SPEC, "--set", "width=nan", "--format", "json"]) == 2
    from_set = capsys.readouterr().err
    assert main(["compare", f"{SPEC}@width=nan", SPEC]) == 2
    from_at = capsys.readouterr().err
    assert "param 'width' expects a value like 1.0, got 'nan'" in from_set
    assert from_set == from_at
