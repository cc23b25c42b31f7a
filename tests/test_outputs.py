"""Output paths: checked before anything is written, never an
input, written atomically under a unique temporary name, cleaned up on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from archcost.commands.files import Output, write_output, write_outputs
from archcost.errors import SpecError


def text_writer(content: str):
    return lambda tmp: Path(tmp).write_text(content, encoding="utf-8")


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_writes_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    write_output(Output("-o", target, text_writer("hello")))
    assert target.read_text() == "hello"
    assert listing(tmp_path) == ["out.txt"]
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_replacing_keeps_the_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_output(Output("-o", target, text_writer("new")))
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o640


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink", "dotdot"])
def test_an_input_is_never_an_output(tmp_path, monkeypatch, spelling):
    spec = tmp_path / "net.yaml"
    spec.write_text("original")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    out = {
        "same": spec,
        "dot": Path("./net.yaml"),
        "dotdot": Path("sub/../net.yaml"),
        "symlink": tmp_path / "link.yaml",
        "hardlink": tmp_path / "hard.yaml",
    }[spelling]
    if spelling == "symlink":
        out.symlink_to(spec)
    if spelling == "hardlink":
        os.link(spec, out)
    with pytest.raises(SpecError, match="is an input of this command"):
        write_output(Output("-o", out, text_writer("clobbered")), inputs=["net.yaml"])
    assert spec.read_text() == "original"


@pytest.mark.parametrize(
    "case,pattern",
    [
        ("directory", "is a directory"),
        ("under-a-file", "not a directory"),
        ("deep-under-a-file", "not a directory"),
        ("empty", "needs a file path"),
        ("device", "not a regular file"),
    ],
    ids=["directory", "under-a-file", "deep-under-a-file", "empty", "device"],
)
def test_bad_output_paths(tmp_path, case, pattern):
    (tmp_path / "file.txt").write_text("x")
    path = {
        "directory": tmp_path,
        "under-a-file": tmp_path / "file.txt" / "out.html",
        "deep-under-a-file": tmp_path / "file.txt" / "a" / "b" / "out.html",
        "empty": Path(""),
        "device": Path("/dev/null"),
    }[case]
    before = listing(tmp_path)
    with pytest.raises(SpecError, match=pattern) as info:
        write_output(Output("--html", path, text_writer("x")))
    assert "\n" not in str(info.value)
    assert listing(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(SpecError, match="not writable"):
            write_output(Output("--html", locked / "r.html", text_writer("x")))
    finally:
        locked.chmod(0o700)


def test_all_or_nothing(tmp_path):
    (tmp_path / "file").write_text("x")
    good = tmp_path / "new" / "ok.yaml"
    bad = tmp_path / "file" / "r.html"
    with pytest.raises(SpecError, match="not a directory"):
        write_outputs(
            [Output("-o", good, text_writer("a")), Output("--html", bad, text_writer("b"))]
        )
    assert listing(tmp_path) == ["file"]


def test_a_failing_writer_leaves_nothing(tmp_path):
    def boom(tmp: Path) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        write_outputs(
            [
                Output("-o", tmp_path / "new" / "deep" / "a.txt", text_writer("a")),
                Output("--html", tmp_path / "b.html", boom),
            ]
        )
    assert listing(tmp_path) == []  # not even the directories made for a.txt


def test_two_outputs_one_file(tmp_path):
    with pytest.raises(SpecError, match="are the same file"):
        write_outputs(
            [
                Output("-o", tmp_path / "x", text_writer("a")),
                Output("--html", tmp_path / "./x", text_writer("b")),
            ]
        )


def test_missing_directories_are_created(tmp_path):
    target = tmp_path / "reports" / "deep" / "r.html"
    write_output(Output("--html", target, text_writer("r")))
    assert target.read_text() == "r"


def test_temporary_names_are_unique(tmp_path):
    seen = []

    def spy(tmp: Path) -> None:
        seen.append(Path(tmp))
        Path(tmp).write_text("x")

    for _ in range(2):
        write_output(Output("-o", tmp_path / "out.txt", spy))
    assert seen[0] != seen[1] and all(p.parent == tmp_path for p in seen)


def test_keyboard_interrupt_removes_the_temporary(tmp_path):
    def interrupted(tmp: Path) -> None:
        Path(tmp).write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_output(Output("-o", tmp_path / "out.txt", interrupted))
    assert listing(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_a_write_removes_the_temporary(tmp_path, sig):
    """A real process, killed while its writer is mid-file."""
    started = tmp_path / "started"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from archcost.commands.files import Output, write_output
        def slow(tmp):
            Path(tmp).write_text("half")
            Path({str(started)!r}).write_text("")
            time.sleep(60)
        write_output(Output("-o", Path({str(tmp_path / "out.txt")!r}), slow))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.05)
        proc.send_signal(sig)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code != 0
    assert listing(tmp_path) == ["started"]


# --- through the commands -------------------------------------------------------------

SPEC = "archcost: 1\nname: net\ninput: [3, 16, 16]\nlayers:\n  - {type: conv, out: 8, kernel: 3}\n"


@pytest.fixture
def spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "net.yaml"
    path.write_text(SPEC)
    return path


def _one_line_refusal(capsys, argv, *words):
    from archcost.cli import main

    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("archcost: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize(
    "argv",
    [
        ["whatif", "net.yaml", "--rewrite", "separable", "-o", "net.yaml"],
        ["whatif", "net.yaml", "--rewrite", "separable", "-o", "./net.yaml"],
        ["whatif", "./net.yaml", "--rewrite", "separable", "-o", "sub/../net.yaml"],
        ["analyze", "net.yaml", "--html", "net.yaml"],
        ["compare", "net.yaml", "./net.yaml", "--html", "./net.yaml"],
    ],
    ids=["whatif-o", "whatif-dot", "whatif-dotdot", "analyze-html", "compare-html"],
)
def test_commands_never_overwrite_their_spec(capsys, spec, argv):
    (spec.parent / "sub").mkdir()
    _one_line_refusal(capsys, argv, "is an input of this command")
    assert spec.read_text() == SPEC


def test_an_included_file_and_a_device_profile_are_inputs_too(capsys, spec, tmp_path):
    from archcost.roofline import profile_yaml

    (tmp_path / "lib.yaml").write_text("blocks:\n  b: {layers: [{type: relu}]}\n")
    spec.write_text(SPEC.replace("layers:\n", "include: lib.yaml\nlayers:\n  - {use: b}\n"))
    _one_line_refusal(
        capsys, ["whatif", "net.yaml", "--rewrite", "separable", "-o", "lib.yaml"], "is an input"
    )
    assert "blocks:" in (tmp_path / "lib.yaml").read_text()
    import archcost.roofline as roofline

    device = tmp_path / "dev.yaml"
    device.write_text(profile_yaml(roofline.load_profile("jetson-nano-fp32")))
    before = device.read_text()
    _one_line_refusal(
        capsys, ["analyze", "net.yaml", "--device", "dev.yaml", "--html", "dev.yaml"], "is an input"
    )
    assert device.read_text() == before


@pytest.mark.parametrize(
    "out,word",
    [
        ("sub", "is a directory"),
        ("net.yaml/x.html", "not a directory"),
        ("net.yaml/deeper/x.html", "not a directory"),
    ],
    ids=["directory", "under-a-file", "deep-under-a-file"],
)
def test_bad_html_paths_are_one_line(capsys, spec, out, word):
    (spec.parent / "sub").mkdir()
    _one_line_refusal(capsys, ["analyze", "net.yaml", "--html", out], word)


def test_whatif_writes_nothing_when_one_output_is_bad(capsys, spec, tmp_path):
    _one_line_refusal(
        capsys,
        [
            "whatif",
            "net.yaml",
            "--rewrite",
            "separable",
            "-o",
            "ok.yaml",
            "--html",
            "net.yaml/r.html",
        ],
        "not a directory",
    )
    assert listing(tmp_path) == ["net.yaml"]


def test_whatif_writes_both_outputs(capsys, spec, tmp_path):
    from archcost.cli import main

    assert (
        main(["whatif", "net.yaml", "--rewrite", "separable", "-o", "ok.yaml", "--html", "r.html"])
        == 0
    )
    assert listing(tmp_path) == ["net.yaml", "ok.yaml", "r.html"]
    assert "separable" in capsys.readouterr().out or (tmp_path / "ok.yaml").read_text()
