#!/usr/bin/env python3
"""Regenerate the README's tables of supported ONNX ops (between the onnx-ops markers)
from the importer's op table and the kind classes' to_onnx. Usage:
scripts/gen_onnx_ops.py [--check]  (--check: exit 1 when the README is out of date)."""

from __future__ import annotations

import sys
from pathlib import Path

from archcost.onnx.table import replace

README = Path(__file__).resolve().parent.parent / "README.md"

text = README.read_text(encoding="utf-8")
new = replace(text)
if "--check" in sys.argv:
    sys.exit(0 if new == text else 1)
if new != text:
    README.write_text(new, encoding="utf-8")
    print(f"updated {README}")
