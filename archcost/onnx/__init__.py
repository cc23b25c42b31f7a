"""The ONNX bridge: import ``.onnx`` files as specs, export specs to ONNX.

``onnx`` and ``onnxruntime`` are an optional extra (``pip install 'archcost[onnx]'``);
they are imported only on the paths that read or write ONNX files, and their absence
is one clear error line (:func:`require`), never a traceback.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from archcost.errors import SpecError

INSTALL_HINT = "Install the ONNX extra: pip install 'archcost[onnx]'."


def is_onnx_path(path: str | Path) -> bool:
    """True when ``path`` names an ONNX file (by its suffix).

    >>> is_onnx_path("resnet50.onnx"), is_onnx_path("specs/resnet50.yaml")
    (True, False)
    """
    return str(path).lower().endswith(".onnx")


def require(module: str = "onnx", *, file: str | None = None) -> ModuleType:
    """Import ``onnx`` or ``onnxruntime``, or raise one SpecError line with the install hint."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SpecError(
            f"reading and writing ONNX files needs the '{module}' package, which is not installed.",
            file=file,
            hint=INSTALL_HINT,
        ) from None
