"""``unsupported``: an ONNX op archcost cannot count, imported only on request.

``archcost import model.onnx --unsupported zero`` (or ``--set unsupported=zero``) maps
every op it has no kind for to this kind instead of refusing the file: the op counts as
0 (params, MACs, FLOPs and memory traffic), its output shape is the one onnx's shape
inference gave, and the row says which op it was. Every output names the kind, and the
model's description starts with the list of such ops, so a total that leaves something
out never looks complete. ``validate`` runs it as a stand-in that outputs zeros of its
shape (so the shapes and MACs of the rest are still checked by execution); it cannot be
exported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archcost.errors import FieldError
from archcost.layers.base import KIND_COLORS, KindStyle, Layer, Shape, register


@register("unsupported")
@dataclass(frozen=True, kw_only=True)
class Unsupported(Layer):
    """An ONNX op counted as 0 (``op``: its type; ``shape``: its per-sample output)."""

    op: str
    shape: tuple[int, ...]
    arity = (1, None)
    is_view = True  # counted as moving nothing: its cost is unknown, not zero work
    style = KindStyle("movement", KIND_COLORS["movement"])

    def check(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", self.op):
            raise FieldError(
                f"field 'op' must be an ONNX op type such as Erf or LayerNormalization, "
                f"got {self.op!r}."
            )

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        return Shape(tuple(self.shape))

    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        """Zeros of the output shape: a stand-in, not the op's numbers."""
        import numpy as np  # lazy: numpy loads only on the paths that execute

        return np.zeros((len(xs[0]), *self.shape), dtype=np.float32), 0

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        """The same stand-in in PyTorch: zeros of the output shape."""
        import torch  # lazy: torch is optional (the reference benchmark and its tests)

        return torch.zeros((len(xs[0]), *self.shape))

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """— (an op archcost could not map; it has nothing to export)."""
        raise NotImplementedError(
            f"'{name}' stands for the ONNX op {self.op}, which archcost "
            "could not map; it cannot be exported."
        )
