"""Every layer kind, registered once in :data:`REGISTRY` (kind name -> class)."""

# Importing each family module registers its kinds.
from archcost.layers import (  # noqa: F401
    act,
    channelwise,
    conv,
    dense,
    merge,
    opaque,
    pool,
    resample,
)
from archcost.layers.base import REGISTRY, Layer, Shape, conv_out_len

__all__ = ["REGISTRY", "Layer", "Shape", "conv_out_len"]
