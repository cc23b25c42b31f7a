"""Kind names as users write them: aliases, and suggestions for framework names.

An alias is accepted and becomes its kind (``silu`` builds a ``swish`` layer). Any
other unknown name gets a hint: the kind a framework name usually means (``ReLU``,
``bn``, ``fc``, ``dense``, ``gap``, ``Conv2d`` ...), else the closest kind ignoring case,
and always the full list of kinds.
"""

from __future__ import annotations

import difflib
import re

from archcost.layers.base import REGISTRY, Layer

#: Accepted spellings of a kind (PyTorch's module names, lower-cased).
ALIASES: dict[str, str] = {
    "silu": "swish",
    "hardswish": "hswish",
    "hardsigmoid": "hsigmoid",
}

#: Framework names and abbreviations, lower-cased, with "2d"/"3d"/"1d" removed: the
#: kind they usually mean. Suggested, never accepted silently.
FRAMEWORK_NAMES: dict[str, str] = {
    "bn": "batchnorm",
    "batchnorm": "batchnorm",
    "batchnormalization": "batchnorm",
    "fc": "linear",
    "dense": "linear",
    "gemm": "linear",
    "matmul": "linear",
    "gap": "global_avgpool",
    "globalaveragepooling": "global_avgpool",
    "globalaveragepool": "global_avgpool",
    "adaptiveavgpool": "adaptive_avgpool",
    "maxpooling": "maxpool",
    "averagepooling": "avgpool",
    "avgpooling": "avgpool",
    "convolution": "conv",
    "convtranspose": "transposed_conv",
    "conv_transpose": "transposed_conv",
    "deconv": "transposed_conv",
    "deconvolution": "transposed_conv",
    "upconv": "transposed_conv",
    "interpolate": "upsample",
    "resize": "upsample",
    "upsampling": "upsample",
    "upsamplingbilinear": "upsample",
    "upsamplingnearest": "upsample",
    "zeropad": "pad",
    "zeropadding": "pad",
    "reflectionpad": "pad",
    "replicationpad": "pad",
    "constantpad": "pad",
    "cropping": "crop",
    "centercrop": "crop",
    "depthwiseconv": "depthwise_conv",
    "separableconv": "separable_conv",
    "cat": "concat",
    "concatenate": "concat",
    "sum": "add",
    "multiply": "mul",
    "layernorm2d": "layernorm",
    "layer_norm": "layernorm",
    "layerscale": "scale",
    "leakyrelu": "relu",
    "mish": "swish",
    "sigmoid": "sigmoid",
    "hsigmoid": "hsigmoid",
    "h_swish": "hswish",
    "h_sigmoid": "hsigmoid",
    "localresponsenorm": "lrn",
    "channelshuffle": "channel_shuffle",
    "shuffle": "channel_shuffle",
    "split": "channel_split",
    "dropout": "dropout",
    "flatten": "flatten",
}


def lookup(name: str) -> type[Layer] | None:
    """The class of kind ``name`` or of its alias; None when unknown."""
    return REGISTRY.get(name) or REGISTRY.get(ALIASES.get(name, ""))


def suggest(name: str) -> str | None:
    """The kind an unknown ``name`` most likely means, or None.

    >>> suggest("ReLU"), suggest("bn"), suggest("Conv2d"), suggest("BatchNorm2d")
    ('relu', 'batchnorm', 'conv', 'batchnorm')
    >>> suggest("HardSwish"), suggest("fc"), suggest("GAP"), suggest("zzz") is None
    ('hswish', 'linear', 'global_avgpool', True)
    """
    lower = name.strip().lower()
    stem = re.sub(r"[123]d$", "", lower)
    for candidate in (lower, stem):
        if candidate in REGISTRY:
            return candidate
        if candidate in ALIASES:
            return ALIASES[candidate]
        if candidate in FRAMEWORK_NAMES and FRAMEWORK_NAMES[candidate] in REGISTRY:
            return FRAMEWORK_NAMES[candidate]
    close = difflib.get_close_matches(stem, list(REGISTRY) + list(ALIASES), n=1, cutoff=0.6)
    if close:
        return ALIASES.get(close[0], close[0])
    return None


def unknown_kind_hint(name: str, *, list_kinds: bool = True) -> str:
    """A did-you-mean (when there is a likely kind) and every valid kind, never cut
    (``list_kinds=False``: the list was given with an earlier error of the same run).

    >>> unknown_kind_hint("ReLU").startswith("Did you mean 'relu'? Kinds: ")
    True
    >>> unknown_kind_hint("bn", list_kinds=False)
    "Did you mean 'batchnorm'? (The kinds are listed above.)"
    """
    best = suggest(name)
    mean = f"Did you mean '{best}'? " if best else ""
    if not list_kinds:
        return mean + "(The kinds are listed above.)"
    kinds = ", ".join(sorted(REGISTRY))
    aliases = ", ".join(f"{a} = {k}" for a, k in sorted(ALIASES.items()))
    return mean + f"Kinds: {kinds}. Aliases: {aliases}."
