"""The repository explains itself: no pointer to a document that is not in it, and every
relative link in the Markdown docs resolves."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Documents that once lived outside the repository, and tracker issue numbers, which a
# reader of the repository cannot open: docs/design.md and docs/sources.md hold them now.
OUTSIDE = re.compile(r"\bDESIGN(\.md|'s)|ARCHITECTURES|\b[Ii]ssue \d|/work/shared|\.\./shared")


def tracked() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / line for line in out.splitlines()
            if line.endswith((".py", ".md", ".yaml", ".yml", ".sh", ".toml", ".txt"))]


def test_no_references_to_documents_outside_the_repository() -> None:
    here = Path(__file__).resolve()
    found = []
    for path in tracked():
        if path.resolve() == here or path.name == "CHANGELOG.md" or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


MARKDOWN = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", MARKDOWN, ids=[p.name for p in MARKDOWN])
def test_relative_links_resolve(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = target.split("#", 1)[0]
        assert (doc.parent / path).exists(), f"{doc.name}: broken link {target}"
