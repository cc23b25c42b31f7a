"""Hostile and careless specs: one test per class of bad input.

Every case must end as ONE `archcost: error:` line with exit 2 — never a traceback,
an "internal error", a hang, or memory exhaustion. See docs/safety.md.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from archcost.cli import main
from archcost.errors import SpecError
from archcost.spec import MAX_FILE_BYTES, load_spec

HEAD = "archcost: 1\nname: bad\ninput: [3, 32, 32]\n"
RELU = "layers:\n  - {type: relu}\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert err.startswith("archcost: error: ") and err.endswith("\n"), err
    assert err.count("\n") == 1, f"more than one line: {err!r}"
    assert "Traceback" not in err and "internal error" not in err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"


# --- 1. device files and FIFOs ------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_device_as_spec_is_refused_unread(capsys, device):
    if not os.path.exists(device):
        pytest.skip(f"{device} is missing")
    assert_one_line_error(*run(capsys, "analyze", device)[::2], "a device", "regular file")


def test_device_as_include_is_refused(capsys, write_spec, tmp_path):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    path = write_spec(HEAD + "include: zero.yaml\n" + RELU)
    # /dev/zero is outside the tree, so confinement refuses it before the device check.
    assert_one_line_error(*run(capsys, "analyze", str(path))[::2], "outside")
    with pytest.raises(SpecError, match="a device"):
        load_spec(path, include_path=["/dev"])


def _watchdog(fifo: Path) -> threading.Timer:
    """Unblock a hung reader after 10 s by opening the FIFO for writing (the test then
    fails on the assertions instead of hanging the suite)."""

    def unblock() -> None:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)

    timer = threading.Timer(10, unblock)
    timer.daemon = True
    timer.start()
    return timer


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_spec_and_include_do_not_hang(capsys, write_spec, tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    timer = _watchdog(fifo)
    try:
        assert_one_line_error(*run(capsys, "analyze", str(fifo))[::2], "a FIFO")
        path = write_spec(HEAD + "include: pipe.yaml\n" + RELU)
        assert_one_line_error(*run(capsys, "analyze", str(path))[::2], "a FIFO")
    finally:
        timer.cancel()


def test_directory_as_spec(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "analyze", str(tmp_path))[::2], "a directory")


def test_oversized_file_is_refused(capsys, write_spec):
    path = write_spec(HEAD + RELU + "#" * (MAX_FILE_BYTES + 10) + "\n")
    assert_one_line_error(*run(capsys, "analyze", str(path))[::2], "bytes")


# --- 2. unbounded number literals ----------------------------------------------------


@pytest.mark.parametrize(
    "literal,word",
    [
        ("1" + "0" * 400, "too large"),  # passed, then overflowed a float
        ("9" * 5000, "too large"),  # Python's int-string limit
        ("0x" + "f" * 200, "too large"),  # through the constructor
        ("1.0e+400", "out of range"),  # inf
        (".nan", "out of range"),
    ],
    ids=["400-digits", "5000-digits", "hex", "float-inf", "nan"],
)
def test_huge_number_literal_is_refused_at_load(capsys, write_spec, literal, word):
    path = write_spec(f"archcost: 1\nname: n\ninput: [3, 32, {literal}]\n" + RELU)
    code, _, err = run(capsys, "analyze", str(path))
    assert_one_line_error(code, err, word, "net.yaml:3:")
    assert len(err) < 300


# --- 5. include confinement, no file contents in messages -----------------------------


def test_include_outside_the_tree_is_refused_without_quoting_it(capsys, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:TOPSECRET\n")
    spec = tmp_path / "sub" / "net.yaml"
    spec.parent.mkdir()
    spec.write_text(HEAD + "include: ../secret.txt\n" + RELU)
    code, _, err = run(capsys, "analyze", str(spec))
    assert_one_line_error(code, err, "outside the spec's directory", "--include-path")
    assert "TOPSECRET" not in err
    # Allowed explicitly, it is read — and its content is still never quoted.
    with pytest.raises(SpecError) as info:
        load_spec(spec, include_path=[tmp_path])
    err = str(info.value)
    assert "an included file must be a mapping, got a string" in err
    assert "TOPSECRET" not in err and "root:x" not in err


def test_include_through_a_symlink_out_of_the_tree(capsys, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "blocks.yaml").write_text("blocks: {}\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "link.yaml").symlink_to(outside / "blocks.yaml")
    (tree / "net.yaml").write_text(HEAD + "include: link.yaml\n" + RELU)
    assert_one_line_error(*run(capsys, "analyze", str(tree / "net.yaml"))[::2], "outside")


def test_absolute_include_is_refused(capsys, write_spec):
    path = write_spec(HEAD + "include: /etc/passwd\n" + RELU)
    assert_one_line_error(*run(capsys, "analyze", str(path))[::2], "outside")


def test_include_in_the_tree_still_works(capsys, write_spec):
    write_spec("blocks:\n  b: {layers: [{type: relu}]}\n", name="lib/b.yaml")
    path = write_spec(HEAD + "include: lib/b.yaml\nlayers:\n  - {use: b}\n")
    code, out, err = run(capsys, "analyze", str(path), "--format", "json")
    assert code == 0, err


# --- 6, 7. summarised and escaped values ----------------------------------------------


def test_huge_value_is_summarised(capsys, write_spec):
    path = write_spec("archcost: 1\nname: n\ninput: [" + ", ".join(["1"] * 100_000) + "]\n" + RELU)
    code, _, err = run(capsys, "analyze", str(path))
    assert_one_line_error(code, err, "a list of 100,000 items")
    assert len(err) < 400


@pytest.mark.parametrize(
    "text",
    [
        HEAD + 'layers:\n  - {name: "a\\nb", type: convv}\n',  # a layer name
        HEAD + 'layers:\n  - {type: "conv\\nfake: line"}\n',  # a kind
        HEAD + 'include: "x\\ny.yaml"\n' + RELU,  # an include path
        HEAD + 'layers:\n  - {type: "\\e[31mred"}\n',  # a terminal escape
        'archcost: 1\nname: n\ninput: [3, 3, 3]\n"new\\nkey": 1\n' + RELU,
    ],
    ids=["name", "kind", "include", "escape-sequence", "key"],
)
def test_user_strings_cannot_split_the_line(capsys, write_spec, text):
    code, _, err = run(capsys, "analyze", str(write_spec(text)))
    assert_one_line_error(code, err)
    assert "\x1b" not in err


def test_long_name_is_cut(capsys, write_spec):
    path = write_spec(HEAD + "layers:\n  - {type: " + "x" * 100_000 + "}\n")
    code, _, err = run(capsys, "analyze", str(path))
    assert_one_line_error(code, err, "unknown layer kind")
    assert len(err) < 3000


# --- 8. tags whose constructors fail --------------------------------------------------


@pytest.mark.parametrize(
    "value", ["!!float abc", "!!int x", "!!bool maybe", "!!int ''", "!!int ²", "!!float ''"]
)
def test_failing_tag_constructor_is_located(capsys, write_spec, value):
    path = write_spec(f"archcost: 1\nname: n\ninput: [3, 32, {value}]\n" + RELU)
    assert_one_line_error(*run(capsys, "analyze", str(path))[::2], "net.yaml:3:", "tagged")


# --- 3. counts past 2**63 -------------------------------------------------------------

BIG = (
    "archcost: 1\nname: big\ninput: [1000000000, 1000000, 1000000]\n"
    "layers:\n  - {type: conv, out: 8, kernel: 3}\n  - {type: relu}\n"
)
# conv MACs by hand: C_out · C_in · k² · H_out · W_out, H_out = W_out = 10^6 - 3 + 1.
BIG_MACS = 8 * 10**9 * 3 * 3 * 999_998 * 999_998


def test_counts_past_int64_stay_exact_in_compare(capsys, write_spec):
    import json

    path = write_spec(BIG)
    assert BIG_MACS > 2**63
    code, out, err = run(capsys, "compare", str(path), str(path), "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["macs"] for r in rows] == [BIG_MACS, BIG_MACS]
    code, out, err = run(capsys, "compare", str(path), str(path))
    assert code == 0, err
    assert "7.2e+22" in out
    code, out, err = run(capsys, "analyze", str(path))
    assert code == 0 and f"{BIG_MACS:,}" in out.replace("\n", ""), err


def test_counts_past_int64_in_the_dataframe_are_exact_ints(write_spec):
    from archcost.model import load
    from archcost.report.tables import frame

    df = frame(load(write_spec(BIG)).costs())
    assert df["macs"].dtype == object and df["macs"].sum() == BIG_MACS
    assert frame(load(write_spec(HEAD + RELU, "small.yaml")).costs())["macs"].dtype == "int64"


@pytest.mark.parametrize(
    "command",
    [
        ["analyze", "{spec}"],
        ["compare", "{spec}", "{spec}"],
        ["whatif", "{spec}", "--rewrite", "separable"],
    ],
    ids=["analyze", "compare", "whatif"],
)
def test_html_refuses_counts_past_int64_naming_the_limit(capsys, write_spec, tmp_path, command):
    path = write_spec(BIG)
    html = tmp_path / "r.html"
    argv = [a.format(spec=path) for a in command] + ["--html", str(html)]
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, "2**63 - 1", "9,223,372,036,854,775,807")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


# --- 4. validate on huge estimates ----------------------------------------------------


def test_validate_refuses_an_estimate_past_the_float_range(capsys, write_spec):
    # 4 · 10^308 float32 input elements, times batch 10^7: past 1e308 · 2^20 bytes.
    e = "100000000000000000000000000000000000000000000000000000000000000000000000000000"
    path = write_spec(f"archcost: 1\nname: huge\ninput: [{e}, {e}, {e}, {e}]\n" + RELU)
    code, _, err = run(capsys, "validate", str(path), "--batch", "10000000")
    assert_one_line_error(code, err, "more than this machine's", "refused before allocating")


def test_validate_max_memory_cannot_exceed_the_machine(capsys, write_spec):
    path = write_spec(BIG)
    code, _, err = run(capsys, "validate", str(path), "--max-memory", "99999999T")
    assert_one_line_error(code, err, "more than this machine's", "MiB of memory")


def test_validate_out_of_memory_is_a_clean_refusal(capsys, write_spec, monkeypatch):
    import archcost.backend as backend

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(backend, "draw_input", no_memory)
    code, _, err = run(capsys, "validate", str(write_spec(HEAD + RELU)))
    assert_one_line_error(code, err, "ran out of memory")


# --- 9. command-line mistakes ---------------------------------------------------------


@pytest.mark.parametrize(
    "argv,words",
    [
        (
            ["analyze", "{spec}", "--batch", "0"],
            ["--batch", "positive integer", "archcost analyze --help"],
        ),
        (
            ["analyze", "{spec}", "--dtype", "float64"],
            ["--dtype", "float64", "archcost analyze --help"],
        ),
        (["whatif", "{spec}"], ["required: --rewrite", "archcost whatif --help"]),
        (["analyze"], ["required: spec"]),
        (["frobnicate"], ["invalid choice: 'frobnicate'", "archcost --help"]),
        (["analyze", "{spec}", "--bogus"], ["unrecognized arguments: --bogus"]),
    ],
    ids=[
        "batch-0",
        "dtype",
        "missing-rewrite",
        "missing-spec",
        "unknown-command",
        "unknown-option",
    ],
)
def test_argparse_errors_are_one_line(capsys, write_spec, argv, words):
    spec = write_spec(HEAD + RELU)
    code, out, err = run(capsys, *[a.format(spec=spec) for a in argv])
    assert_one_line_error(code, err, *words)
    assert "usage:" not in err and out == ""


@pytest.mark.parametrize(
    "knob",
    ["resolution=" + "9" * 500, "resolution=" + "9" * 5000, "width=nan", "width=inf"],
    ids=["500-digits", "5000-digits", "nan", "inf"],
)
def test_huge_or_non_finite_set_values_are_refused(capsys, knob):
    code, _, err = run(capsys, "analyze", "mobilenet_v1", "--set", knob)
    assert_one_line_error(code, err, "param")
    assert len(err) < 400


def test_huge_knob_in_a_compare_argument(capsys):
    code, _, err = run(capsys, "compare", "mobilenet_v1@resolution=" + "9" * 5000)
    assert_one_line_error(code, err, "param 'resolution'")


def test_a_huge_field_value_is_summarised(capsys, write_spec):
    items = ", ".join(["1"] * 50_000)
    path = write_spec(HEAD + f"layers:\n  - {{type: conv, out: [{items}], kernel: 3}}\n")
    code, _, err = run(capsys, "analyze", str(path))
    assert_one_line_error(code, err, "field 'out'", "a list of 50,000 items")
    assert len(err) < 400


# --- odd spec paths ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    ["a" * 5000, "a/" * 3000 + "x.yaml", "specs/" + "é" * 300 + ".yaml"],
    ids=["name-too-long", "path-too-long", "long-unicode"],
)
def test_odd_spec_paths_are_one_line(capsys, spec):
    code, _, err = run(capsys, "analyze", spec)
    assert_one_line_error(code, err)
    assert len(err) < 1000
