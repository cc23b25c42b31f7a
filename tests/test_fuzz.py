"""A seeded, bounded fuzz test of the promise in docs/safety.md, and its regression corpus.

Every case — a mutation of a bundled spec (types, sizes, tags, expressions, includes,
odd file names and output paths; see tests/fuzzing.py) run through ``archcost.cli.main``
in-process — must exit 0, or exit 2 with one ``archcost: error:`` line per mistake and
no traceback; must write no file but its intended outputs; and must answer within a
watchdog. The seed is
fixed, so a failure reproduces; tests/fuzz_corpus/ keeps every input that ever broke
the promise.
"""

from __future__ import annotations

import random
import resource
import sys
from pathlib import Path

import pytest
from fuzzing import Case, make_case, run_case

SEED = 20261201
CASES = 300
CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
MAX_RSS_BYTES = 4 * 2**30  # this process's peak after all cases; the machine has 24 GB


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def test_fuzzed_specs_keep_the_promise(tmp_path):
    rng = random.Random(SEED)
    broken = []
    for i in range(CASES):
        case = make_case(rng, i)
        problems = run_case(case, tmp_path / case.name)
        if problems:
            broken.append(f"{case.name} {case.argv}: {problems}")
    assert not broken, f"{len(broken)} of {CASES} cases broke the promise:\n" + "\n".join(
        broken[:20]
    )
    assert _peak_rss() < MAX_RSS_BYTES


def _corpus() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.yaml"))


def _corpus_case(path: Path) -> Case:
    """A corpus file: an optional ``# argv: analyze SPEC ...`` first line, then the spec."""
    data = path.read_bytes()
    argv = ["analyze", "SPEC", "--format", "json"]
    first, _, rest = data.partition(b"\n")
    if first.startswith(b"# argv:"):
        argv = first[len(b"# argv:") :].decode().split()
        data = rest
    named = ("-o", "--output", "--html")
    outputs = [a for prev, a in zip(argv, argv[1:], strict=False) if prev in named]
    return Case(
        name=path.stem,
        files={"net.yaml": data},
        argv=["net.yaml" if a == "SPEC" else a for a in argv],
        outputs=outputs,
    )


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.stem)
def test_corpus_case_keeps_the_promise(tmp_path, path):
    case = _corpus_case(path)
    assert run_case(case, tmp_path) == []


def test_the_corpus_is_not_empty():
    assert len(_corpus()) >= 10
