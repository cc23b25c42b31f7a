#!/usr/bin/env python3
"""Write docs/kinds.md from the layer registry (archcost.layers.doc.render).

Run after adding or changing a kind: .venv/bin/python scripts/gen_kinds_doc.py
tests/test_every_kind.py fails while the file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archcost.layers.doc import render  # noqa: E402

if __name__ == "__main__":
    target = ROOT / "docs" / "kinds.md"
    text = render()
    if target.exists() and target.read_text(encoding="utf-8") == text:
        print(f"{target.relative_to(ROOT)} is up to date")
    else:
        tmp = target.with_suffix(".md.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        print(f"wrote {target.relative_to(ROOT)}")
