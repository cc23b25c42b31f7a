"""Every layer kind, registered once in :data:`REGISTRY` (kind name -> class)."""

from archcost.layers import (
    act,
    channelwise,
    conv,
    dense,
    merge,
    opaque,
    pool,  # noqa: F401
    resample,
)  # (registration)
from archcost.layers.base import REGISTRY, Layer, Shape, conv_out_len

__all__ = ["REGISTRY", "Layer", "Shape", "conv_out_len"]
