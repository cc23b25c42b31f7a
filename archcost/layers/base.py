"""The kind contract: :class:`Shape`, :class:`Layer`, the registry and field parsing.

A layer kind is one frozen, kw-only dataclass whose fields are the YAML keys,
registered with ``@register("kind")``. The class holds everything about its kind, so
no other module dispatches on kind names:

* typed fields, each parsed by a converter chosen from its annotation's type
  (:func:`converter_for`: ``int``, ``float``, ``bool``, ``str``, ``tuple[int, ...]``,
  unions with ``None``, ``Literal[...]``, enums, ``Annotated[int, AtLeast(0)]``);
* ``out_shapes(ins)``, ``weight_shapes``/``buffer_shapes`` (params and buffers are
  their sizes), ``macs``/``flops`` (memory traffic is computed once, in
  :mod:`archcost.costs`, from ``is_view`` and the element counts);
* ``formulas(ins)``: :class:`Formula` rows whose substituted text evaluates
  (:func:`evaluate_formula`) to the reported value;
* ``forward(xs, weights, out=None)`` (the NumPy forward, with its multiplication
  tally) and ``init_weights(ins, rng)`` (the weights ``validate`` draws);
* ``style``: a :class:`KindStyle` (report category, colour, glyph);
* ``rewrite_candidate(rule)``: which ``whatif`` rules apply to it;
* ``calibration`` (a :class:`Calibration`) and ``calibration_sample(type, draw)``:
  which kernel types latency calibration times it for, and a layer of it as CNNs use
  it (optional: a kind without them is priced by the generic model);
* ``to_torch(...)`` (optional PyTorch translation for the reference benchmark) and
  ``to_onnx(...)`` (the ONNX export slot);
* composites: ``expand(name)`` into primitive rows.

Conventions (docs/design.md): all counts are per sample and exact Python ints.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import math
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, NamedTuple, Union

if TYPE_CHECKING:
    import random

    import numpy as np

from archcost.errors import FieldError, ShapeError, did_you_mean, shown


@dataclass(frozen=True)
class Shape:
    """A per-sample tensor shape: ``(C, *spatial)``, or ``(F,)`` once flat.

    >>> Shape((32, 112, 112)).numel
    401408
    >>> str(Shape((32, 112, 112)))
    '32x112x112'
    """

    dims: tuple[int, ...]

    @property
    def c(self) -> int:
        return self.dims[0]

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.dims[1:]

    @property
    def numel(self) -> int:
        return math.prod(self.dims)

    @property
    def is_flat(self) -> bool:
        """True for ``[F]`` and for ``[C, 1, 1]`` (which a linear layer treats as flat)."""
        return all(d == 1 for d in self.spatial)

    def with_spatial(self, spatial: Sequence[int]) -> Shape:
        return Shape((self.c, *spatial))

    def with_c(self, c: int) -> Shape:
        return Shape((c, *self.spatial))

    def __str__(self) -> str:
        return "x".join(map(str, self.dims))


REGISTRY: dict[str, type[Layer]] = {}


@dataclass(frozen=True)
class KindStyle:
    """How reports draw a kind: its category, colour and graph glyph.

    Attributes:
        category: the family a report groups it under (``conv``, ``dense``, ``norm``,
            ``activation``, ``pool``, ``merge``, ``movement``, ``composite``).
        color: a CSS colour, the same on every page.
        glyph: the Plotly marker symbol in the network graph.
    """

    category: str
    color: str
    glyph: str = "circle"


#: The colours of layer kinds in every report: the single source (each kind's ``style``
#: takes its colour from here). Paul Tol's colour-blind-safe qualitative schemes
#: ('muted', 'light' and 'dark', https://personal.sron.nl/~pault/), chosen so that no kind
#: colour is a model colour (``archcost.report.style.MODEL_COLORS``, Okabe-Ito): every
#: kind/model pair is at least 9 CIEDE2000 apart for normal vision and for simulated
#: deuteranopia and protanopia, and any two of these colours at least 8 apart
#: (tests/test_palette.py). There are fewer colours than kinds: kinds share their
#: family's colour (norm, activation, pool, merge and movement) and are told apart by
#: name in legends and hovers, by hatch pattern in bar charts (report.style.kind_marker)
#: and by glyph in the graph; the conv kinds the headline
#: compares (standard, 1×1, depthwise, grouped) and dense layers get one each.
KIND_COLORS: dict[str, str] = {
    "conv": "#332288",  # indigo (muted): standard, transposed and composite convs
    "pointwise": "#77aadd",  # light blue (light): 1×1 convs
    "depthwise": "#44bb99",  # mint (light)
    "grouped": "#882255",  # wine (muted)
    "dense": "#ffaabb",  # pink (light)
    "activation": "#eedd88",  # light yellow (light)
    "pool": "#99ddff",  # light cyan (light)
    "norm": "#dddddd",  # pale grey (light)
    "movement": "#666633",  # dark olive (dark): merge and data movement, unsupported ops
}

#: The network input is not a kind, but the graph draws it too.
INPUT_STYLE = KindStyle("input", "#ffffff", "triangle-right")


@dataclass(frozen=True)
class Calibration:
    """How latency calibration (:mod:`archcost.runtime.calibrate`) measures a kind.

    Attributes:
        types: the predictor's kernel types this kind's micro-models are timed for
            (:func:`archcost.runtime.predict.kernel_type`): the kind's own name for a
            kind without MACs; for a convolution or linear layer the types its weight
            shape gives (``conv``, ``stem``, ``pointwise``, ``depthwise``, ``grouped``,
            ``linear``; a transposed convolution: ``transposed_conv`` and
            ``transposed_conv_tiled``).
            :meth:`Layer.calibration_sample` draws a layer of each.
        generic: its samples join the fit of the generic ``elementwise`` model, which
            prices kinds never measured (cheap per-element work: not a convolution,
            not LRN's windowed sums).
        after_conv: its role when calibration finds which sequences after a
            convolution the runtime runs inside the convolution's kernel: ``norm``,
            ``activation`` or ``residual`` (its second input is the residual). None:
            never tried. A kind with a role builds with its default fields.
        cold_weights: in a network its weights come from memory, not a cache (a
            classifier's matrix is read once per run, after the rest of the network has
            passed through the caches): it is timed with the caches flushed before each
            run, its input read back in.
    """

    types: tuple[str, ...]
    generic: bool = True
    after_conv: Literal["norm", "activation", "residual"] | None = None
    cold_weights: bool = False


#: the largest channels × size :meth:`Draw.feature_map` draws.
MAX_CHANNELS_TIMES_SIZE = 16_384


@dataclass(frozen=True)
class Draw:
    """Random layer configurations as CNNs use them, for latency calibration: channel
    counts and square resolutions drawn from the calibration's lists.

    >>> import random
    >>> Draw(random.Random(0), channels=(8,), sizes=(7,)).feature_map()
    Shape(dims=(8, 7, 7))
    """

    rng: random.Random
    channels: tuple[int, ...]
    sizes: tuple[int, ...]

    def choice(self, options: Sequence[Any]) -> Any:
        """One of ``options``, uniformly (repeat an option to weight it)."""
        return self.rng.choice(options)

    def c(self) -> int:
        """A channel count."""
        return int(self.rng.choice(self.channels))

    def c_out(self, c_in: int) -> int:
        """An output channel count for ``c_in`` input channels, as CNNs pair them: from a
        quarter to six times as many (a bottleneck's reduction to MobileNet V2's
        expansion).

        >>> import random
        >>> draw = Draw(random.Random(0), channels=(2, 8, 16, 64, 96, 512), sizes=(7,))
        >>> sorted({draw.c_out(16) for _ in range(100)})
        [8, 16, 64, 96]
        """
        options = [c for c in self.channels if 4 * c >= c_in and c <= 6 * c_in]
        return int(self.rng.choice(options or self.channels))

    def feature_map(self, c: int | None = None, size: int | None = None) -> Shape:
        """A ``c × size × size`` input (each drawn when not given), as CNNs have them:
        channels grow as the resolution falls, so a drawn size keeps channels × size at
        most :data:`MAX_CHANNELS_TIMES_SIZE` (96 channels at 112×112, 1,024 at 14×14;
        those of every network in archcost's zoo but VGG's and U-Net's full-resolution
        layers are within it).

        >>> import random
        >>> draw = Draw(random.Random(0), channels=(8, 1024), sizes=(7, 14, 112))
        >>> {draw.feature_map(1024).spatial for _ in range(20)} <= {(7, 7), (14, 14)}
        True
        """
        for _ in range(100):
            s = self.rng.choice(self.sizes) if size is None else size
            k = self.c() if c is None else c
            if size is not None or k * s <= MAX_CHANNELS_TIMES_SIZE:
                break
        return Shape((k, s, s))

    def clip(self) -> Shape:
        """A ``c × frames × size × size`` input of a 3-D convolution or pool, as video
        networks have them (:data:`CALIBRATION_CLIPS`).

        >>> import random
        >>> Draw(random.Random(0), channels=(8,), sizes=(7,)).clip()
        Shape(dims=(256, 4, 14, 14))
        """
        return Shape(self.choice(CALIBRATION_CLIPS))


#: The clips latency calibration draws for 3-D kinds, [C, D, H, W]: C3D's (Tran et al.
#: 2015: 16 frames of 112×112; 64, 128, 256, 512 channels as the clip halves, the inputs
#: of its convolutions and of its pools), and each with half the frames.
CALIBRATION_CLIPS = tuple(
    (c, d, s, s)
    for c, frames, s in (
        (3, 16, 112),
        (64, 16, 112),
        (64, 16, 56),
        (128, 16, 56),
        (128, 8, 28),
        (256, 8, 28),
        (256, 4, 14),
        (512, 4, 14),
        (512, 2, 7),
    )
    for d in (frames, max(frames // 2, 1))
)


class Formula(NamedTuple):
    """One explained quantity: ``symbolic`` with the numbers in (``substituted``).

    ``substituted``, read by :func:`evaluate_formula`, equals ``value``; build
    rows with :func:`formula` so that the number is computed from the text.
    """

    quantity: str
    symbolic: str
    substituted: str
    value: Any


def formula(quantity: str, symbolic: str, substituted: str) -> Formula:
    """A :class:`Formula` whose value is its substituted text, evaluated.

    >>> formula("macs", "C_out·(k·C_in/g)·out", "3·(3·3·1)·(5·5)").value
    675
    """
    return Formula(quantity, symbolic, substituted, evaluate_formula(substituted))


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_FORMULA_SYMBOLS = str.maketrans({"·": "*", "−": "-", "⌊": "[", "⌋": "]", "⌈": "{", "⌉": "}"})


def evaluate_formula(text: str) -> int | Fraction:
    """The value of a formula text: integers (``1,234`` grouping allowed), ``+ − · /``,
    parentheses, ``⌊x⌋`` and ``⌈x⌉``; exact (fractions inside floors and ceilings).

    >>> evaluate_formula("⌊(224 + 2 − 1·(3−1) − 1)/2⌋ + 1")
    112
    >>> evaluate_formula("4·(1·(147 + 75) + 27 + 0)")
    996

    Raises:
        ValueError: anything else in the text.
    """
    source = _THOUSANDS.sub("", text).translate(_FORMULA_SYMBOLS)
    source = source.replace("[", "_floor(").replace("]", ")")
    source = source.replace("{", "_ceil(").replace("}", ")")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"not a formula: {text!r}") from None

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Fraction(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
            a, b = value(node.left), value(node.right)
            op = type(node.op)
            return (
                a + b
                if op is ast.Add
                else a - b
                if op is ast.Sub
                else a * b
                if op is ast.Mult
                else a / b
            )
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("_floor", "_ceil")
            and len(node.args) == 1
        ):
            inner = value(node.args[0])
            return Fraction(math.floor(inner) if node.func.id == "_floor" else math.ceil(inner))
        raise ValueError(f"not a formula: {text!r}")

    result = value(tree.body)
    return int(result) if result.denominator == 1 else result


_FIELD_SPECS: dict[type, dict[str, dataclasses.Field]] = {}
_FIELD_CONVERTERS: dict[type, dict[str, Callable[[Any, str], Any]]] = {}


def _field_specs(cls: type) -> dict[str, dataclasses.Field]:
    if cls not in _FIELD_SPECS:
        _FIELD_SPECS[cls] = {f.name: f for f in dataclasses.fields(cls)}
    return _FIELD_SPECS[cls]


def _field_converters(cls: type) -> dict[str, Callable[[Any, str], Any]]:
    """Each field's converter, chosen from its annotation's real type (once per class)."""
    if cls not in _FIELD_CONVERTERS:
        hints = typing.get_type_hints(cls, include_extras=True)
        _FIELD_CONVERTERS[cls] = {name: converter_for(hints[name]) for name in _field_specs(cls)}
    return _FIELD_CONVERTERS[cls]


def register(kind: str) -> Callable[[type[Layer]], type[Layer]]:
    """Class decorator: make ``cls`` the implementation of layer kind ``kind``."""

    def wrap(cls: type[Layer]) -> type[Layer]:
        assert kind not in REGISTRY, f"layer kind {kind!r} registered twice"
        cls.kind = kind
        REGISTRY[kind] = cls
        return cls

    return wrap


@dataclass(frozen=True, kw_only=True)
class Layer:
    """Base of every layer kind. Subclasses are frozen, kw-only dataclasses."""

    kind: ClassVar[str] = ""
    #: (fewest, most) inputs; most=None means any number.
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    #: FLOPs per output element for simple elementwise kinds.
    flops_per_element: ClassVar[int] = 0
    #: True when frameworks implement the kind as a view: no memory traffic.
    is_view: ClassVar[bool] = False
    #: True when ``forward`` accepts ``out=`` and may write into its first input (the
    #: executor offers that only in timing runs, for an input no one reads later).
    inplace: ClassVar[bool] = False
    #: How reports draw the kind; every registered kind sets one.
    style: ClassVar[KindStyle]
    #: How latency calibration times the kind on a runtime; None: not timed on its own
    #: (the predictor prices it with the generic model, a view with nothing).
    calibration: ClassVar[Calibration | None] = None
    #: How onnxruntime's NCHWc layout rewrite treats the ONNX nodes the kind exports
    #: (:func:`archcost.runtime.predict.layouts`): ``follow`` runs blocked when its input
    #: is; ``global`` too, its output starting a new spatial origin; ``all_inputs`` when
    #: every input is; ``pool`` when its channels are whole blocks; ``transparent``
    #: vanishes from the graph (its output is its input's tensor). None: plain NCHW.
    #: ``channel_blocks`` like ``all_inputs`` but for inputs of equal spatial shape whose
    #: channels are each whole blocks (Concat along the channels).
    nchwc: ClassVar[
        Literal["follow", "global", "all_inputs", "channel_blocks", "pool", "transparent"] | None
    ] = None
    #: False for a convolution onnxruntime has no NCHWc kernel for (ConvTranspose): it
    #: stays NCHW whatever its channels, is no im2col convolution either, and its kind
    #: names its kernel types (:meth:`runtime_kernel`) instead of its weight shape.
    nchwc_conv: ClassVar[bool] = True
    #: kernel types of the kind (:meth:`runtime_kernel`) that run plain NCHW even where
    #: ``nchwc`` says the kind follows a blocked input (a bilinear upsample's Resize).
    plain_kernels: ClassVar[frozenset[str]] = frozenset()
    #: True when the kind's ONNX export computes a Reshape target at run time (channel
    #: shuffle): the NCHWc rewrite no longer knows the shapes of tensors derived from it.
    dynamic_reshape: ClassVar[bool] = False
    #: True when the kind fuses into a preceding convolution as the convolution's Sum
    #: input (a residual add): only into an NCHWc convolution, both inputs blocked and of
    #: a shape the rewrite can prove equal.
    conv_sum: ClassVar[bool] = False
    #: True for a view in archcost's counts that the runtime copies (onnxruntime's Split):
    #: priced as a read and a write with the kind's own calibrated kernel.
    runtime_copy: ClassVar[bool] = False
    #: True when a convolution's kernel absorbs the kind at no extra cost once fused
    #: (batchnorm folded into the weights, a residual add accumulated, ReLU a flag).
    free_in_conv_kernel: ClassVar[bool] = False

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Layer:
        """Build the layer from evaluated YAML fields, validating every one.

        Raises:
            FieldError: unknown field (with a did-you-mean), missing required field,
                or a value of the wrong type.
        """
        spec = _field_specs(cls)
        for key in fields:
            if key not in spec:
                raise FieldError(
                    f"unknown field '{key}' for kind '{cls.kind}'.",
                    hint=did_you_mean(key, spec)
                    + f" Fields of {cls.kind}: "
                    + (", ".join(spec) or "none")
                    + ".",
                )
        converters = _field_converters(cls)
        values = {}
        for name, f in spec.items():
            if name in fields:
                values[name] = converters[name](fields[name], name)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise FieldError(
                    f"missing required field '{name}' for kind '{cls.kind}'.",
                    hint=f"Add '{name}: ...' to the layer.",
                )
        layer = cls(**values)
        layer.check()
        return layer

    def check(self) -> None:
        """Validate field values that do not depend on shapes."""

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _field_specs(type(self))}

    def expand(self, name: str) -> list[tuple[str, Layer]] | None:
        """Composite kinds return their primitive rows; primitives return None."""
        return None

    # -- shapes ---------------------------------------------------------------------
    def out_shapes(self, ins: Sequence[Shape]) -> tuple[Shape, ...]:
        """Every output's shape (more than one only for channel_split)."""
        return (self.out_shape(ins),)

    def out_shape(self, ins: Sequence[Shape]) -> Shape:
        """The output shape; elementwise kinds keep their input's."""
        return ins[0]

    # -- counts (per sample) ----------------------------------------------------------
    def weight_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        """Trainable tensors, by name (params = their total size)."""
        return {}

    def buffer_shapes(self, ins: Sequence[Shape]) -> dict[str, tuple[int, ...]]:
        """Non-trainable state (batchnorm's running mean and variance)."""
        return {}

    def params(self, ins: Sequence[Shape]) -> int:
        return sum(math.prod(s) for s in self.weight_shapes(ins).values())

    def buffers(self, ins: Sequence[Shape]) -> int:
        return sum(math.prod(s) for s in self.buffer_shapes(ins).values())

    def scratch_elements(self, ins: Sequence[Shape]) -> int:
        """Per-sample float32 elements of working memory the NumPy forward needs beside
        its inputs and output (im2col columns, an uncropped output), for the memory
        estimate ``validate`` checks before it runs."""
        return 0

    def macs(self, ins: Sequence[Shape]) -> int:
        """Multiply-accumulates (the papers' mult-adds); 0 for all but conv/linear."""
        return 0

    def flops(self, ins: Sequence[Shape]) -> int:
        """Every floating-point operation, multiplications and additions separately."""
        return self.flops_per_element * sum(s.numel for s in self.out_shapes(ins))

    def formulas(self, ins: Sequence[Shape]) -> list[Formula]:
        """Params, MACs and FLOPs (and kind-specific lines) as :class:`Formula` rows for
        ``explain``; memory traffic is added by :func:`archcost.costs.memory_formula`.

        Kinds with weights or special FLOPs override this or :meth:`flops_formula`.
        """
        weights = self.weight_shapes(ins)
        params = " + ".join("·".join(map(str, s)) for s in weights.values())
        return [
            formula("params", "Σ weight sizes" if weights else "", params or "0"),
            formula("macs", "", "0"),
            formula("flops", *self.flops_formula(ins)),
        ]

    def flops_formula(self, ins: Sequence[Shape]) -> tuple[str, str]:
        """``(symbolic, substituted)`` for the FLOPs."""
        elements = sum(s.numel for s in self.out_shapes(ins))
        return (f"{self.flops_per_element}/element", f"{self.flops_per_element}·{elements:,}")

    # -- execution --------------------------------------------------------------------
    def forward(self, xs: list[Any], weights: dict[str, Any]) -> tuple[Any, int]:
        """Run the layer on batched float32 arrays; returns (output(s), multiplications).

        ``multiplications`` is tallied from the array operations actually run. Kinds
        with ``inplace = True`` also take ``out=`` (an array of the output's shape,
        possibly ``xs[0]``) and write the result there.
        """
        raise NotImplementedError(f"{self.kind} has no forward")

    def init_weights(self, ins: Sequence[Shape], rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The weights and buffers ``validate`` runs the layer with, drawn from ``rng``
        in ``weight_shapes`` then ``buffer_shapes`` order. The default draws every
        tensor from N(0, 0.1²); kinds override it where scale matters."""
        shapes = {**self.weight_shapes(ins), **self.buffer_shapes(ins)}
        return {name: small_normal(rng, shape) for name, shape in shapes.items()}

    # -- latency calibration ----------------------------------------------------------
    @classmethod
    def calibration_sample(
        cls, kernel_type: str, draw: Draw
    ) -> tuple[Layer, tuple[Shape, ...]] | None:
        """A layer of this kind computing ``kernel_type`` (one of
        ``calibration.types``) as CNNs use it, and its input shapes, drawn with
        ``draw``; None when the draw does not fit the kind (calibration draws again).

        The default: the kind with its default fields on ``arity[0]`` copies of one
        drawn feature map. Kinds with required fields or other inputs override it.
        """
        x = draw.feature_map()
        return cls(), (x,) * cls.arity[0]

    def runtime_kernel(self) -> str:
        """The predictor's kernel type of this layer when it has no MACs, or when it is
        a convolution the runtime has a kernel of its own for (``nchwc_conv`` False)
        (:func:`archcost.runtime.predict.kernel_type`): its kind, unless a field makes
        the runtime run another kernel (a bilinear ``upsample``)."""
        return self.kind

    # -- rewrites, other frameworks -----------------------------------------------------
    def rewrite_candidate(self, rule: str) -> bool:
        """Is this layer one that the ``whatif`` rule ``rule`` is about? (The rule may
        still decline it, with a reason.)"""
        return False

    def to_torch(
        self, xs: list[Any], weights: dict[str, Any], ins: Sequence[Shape], *, inplace: bool = False
    ) -> Any:
        """The same computation with PyTorch CPU ops on tensors (the reference in
        ``benchmarks/torch_reference.py``); torch is imported only here. With
        ``inplace`` the kind may overwrite ``xs[0]``, as torchvision does.

        Raises:
            NotImplementedError: the kind has no PyTorch translation.
        """
        raise NotImplementedError(
            f"kind '{self.kind}' has no PyTorch translation; add "
            f"{type(self).__name__}.to_torch in {type(self).__module__}."
        )

    def to_onnx(
        self, graph: Any, name: str, inputs: Sequence[str], ins: Sequence[Shape]
    ) -> list[str]:
        """Add this layer's ONNX nodes (and initializers) to ``graph``, an export
        builder from :mod:`archcost.onnx`; return the names of its outputs.

        Raises:
            NotImplementedError: the kind has no ONNX mapping yet.
        """
        raise NotImplementedError(
            f"kind '{self.kind}' has no ONNX export yet; add "
            f"{type(self).__name__}.to_onnx in {type(self).__module__}."
        )


# -- weight initialisation -------------------------------------------------------------
def small_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """N(0, 0.1²) float32: biases, shifts and running means."""
    import numpy as np  # lazy: numpy loads only on the paths that execute layers

    return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.1)


def he_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """He-scaled N(0, 2/fan_in) float32 (fan_in = all but the first dim), so
    activations stay O(1) through deep nets."""
    import numpy as np  # lazy: numpy loads only on the paths that execute layers

    fan_in = math.prod(shape[1:])
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(math.sqrt(2 / fan_in))


def near_one(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """U(0.5, 1.5) float32: scales and variances near the identity."""
    import numpy as np  # lazy: numpy loads only on the paths that execute layers

    return rng.uniform(0.5, 1.5, shape).astype(np.float32)


# -- field converters ------------------------------------------------------------------
@dataclass(frozen=True)
class AtLeast:
    """``Annotated[int, AtLeast(0)]``: an integer field's smallest value (default 1)."""

    minimum: int


NonNegative = Annotated[int, AtLeast(0)]
IntOrTuple = int | tuple[int, ...]
Padding = NonNegative | Literal["same", "valid"] | tuple[NonNegative, ...]
Sections = int | tuple[int, ...]


def to_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """An integer field: ints, and floats that are integral (48.0 -> 48).

    >>> to_int(64 * 0.75, "out")
    48
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"field '{name}' expects an integer, got {shown(value)}.")
    if isinstance(value, float):
        if not value.is_integer():
            raise FieldError(
                f"field '{name}' expects an integer, got {shown(value)}.",
                hint="Round it explicitly: '${round(...)}', '${int(...)}' or "
                "'${make_divisible(..., 8)}'.",
            )
        value = int(value)
    if value < minimum:
        raise FieldError(f"field '{name}' must be >= {minimum}, got {value}.")
    return value


def to_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise FieldError(f"field '{name}' expects true or false, got {shown(value)}.")


def to_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"field '{name}' expects a number, got {shown(value)}.")
    return float(value)


def to_str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise FieldError(f"field '{name}' expects a string, got {shown(value)}.")
    return value


_Converter = Callable[[Any, str], Any]


def _describe(tp: Any) -> str:
    """``an integer``, ``'same'``, ``a list of integers`` ... for error messages."""
    tp, _ = _strip_annotated(tp)
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(v) for v in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return " or ".join(repr(m.value) for m in tp)
    if origin is tuple:
        return "a list"
    return {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "a string",
        type(None): "null",
    }.get(tp, str(tp))


def _strip_annotated(tp: Any) -> tuple[Any, int]:
    if typing.get_origin(tp) is Annotated:
        base, *extras = typing.get_args(tp)
        minimum = next((e.minimum for e in extras if isinstance(e, AtLeast)), 1)
        return base, minimum
    return tp, 1


def converter_for(tp: Any) -> _Converter:
    """The field converter for a type annotation (its real type, not its text).

    ``int`` (integral floats accepted; minimum 1, or ``Annotated[int, AtLeast(m)]``),
    ``float``, ``bool``, ``str``, ``Literal[...]`` (strings case-insensitively),
    ``enum.Enum`` subclasses (by value), ``tuple[T, ...]`` (a non-empty YAML list) and
    unions of these, ``None`` included. A union picks its member by the value's type.

    >>> converter_for(int | None)(None, "stride") is None
    True
    >>> converter_for(Padding)("SAME", "padding")
    'same'
    """
    tp, minimum = _strip_annotated(tp)
    origin = typing.get_origin(tp)
    if tp is int:
        return functools.partial(_int_field, minimum=minimum)
    if tp is float:
        return to_float
    if tp is bool:
        return to_bool
    if tp is str:
        return to_str
    if tp is type(None):
        return _none_field
    if origin is Literal:
        return functools.partial(_literal_field, options=typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return functools.partial(_enum_field, enum_type=tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"field type {tp} is not supported: use tuple[T, ...]")
        return functools.partial(
            _tuple_field, item=converter_for(args[0]), described=_describe(args[0])
        )
    if origin in (Union, types.UnionType):
        members = typing.get_args(tp)
        return functools.partial(
            _union_field,
            members=tuple((_value_class(m), converter_for(m)) for m in members),
            described=_describe_union(members),
        )
    raise TypeError(
        f"field type {tp!r} has no converter: use int, float, bool, str, a "
        "Literal, an Enum, tuple[T, ...] or a union of these"
    )


def _int_field(value: Any, name: str, *, minimum: int) -> int:
    return to_int(value, name, minimum=minimum)


def _none_field(value: Any, name: str) -> None:
    if value is not None:
        raise FieldError(f"field '{name}' expects null, got {shown(value)}.")


def _literal_field(value: Any, name: str, *, options: tuple[Any, ...]) -> Any:
    if value in options and type(value) in {type(o) for o in options}:
        return value
    if isinstance(value, str):
        for option in options:
            if isinstance(option, str) and option.lower() == value.lower():
                return option
    expected = " or ".join(repr(o) for o in options)
    raise FieldError(
        f"field '{name}' expects {expected}, got {shown(value)}.",
        hint=did_you_mean(str(value).lower(), [str(o) for o in options]),
    )


def _enum_field(value: Any, name: str, *, enum_type: type[enum.Enum]) -> enum.Enum:
    for member in enum_type:
        if member.value == value or (
            isinstance(value, str)
            and isinstance(member.value, str)
            and member.value.lower() == value.lower()
        ):
            return member
    values = [m.value for m in enum_type]
    raise FieldError(
        f"field '{name}' expects one of {', '.join(map(repr, values))}, got {shown(value)}.",
        hint=did_you_mean(str(value), map(str, values)),
    )


def _tuple_field(value: Any, name: str, *, item: _Converter, described: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise FieldError(f"field '{name}' expects a list of {described}s, got {shown(value)}.")
    if not value:
        raise FieldError(f"field '{name}' expects {described} or a list of them, got [].")
    return tuple(item(v, name) for v in value)


def _value_class(tp: Any) -> str:
    """Which YAML values a union member takes: 'none', 'list', 'bool', 'number', 'text'."""
    tp, _ = _strip_annotated(tp)
    origin = typing.get_origin(tp)
    if tp is type(None):
        return "none"
    if origin is tuple:
        return "list"
    if tp is bool:
        return "bool"
    if tp in (int, float):
        return "number"
    if origin is Literal:
        return "text" if all(isinstance(v, str) for v in typing.get_args(tp)) else "number"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "text" if all(isinstance(m.value, str) for m in tp) else "number"
    if tp is str:
        return "text"
    raise TypeError(f"union member {tp!r} is not supported")


def _describe_union(members: tuple[Any, ...]) -> str:
    parts = [_describe(m) for m in members if m is not type(None)]
    if any(typing.get_origin(_strip_annotated(m)[0]) is tuple for m in members):
        parts = [p for p in parts if p != "a list"] + ["a list"]
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else parts[0]


def _union_field(
    value: Any, name: str, *, members: tuple[tuple[str, _Converter], ...], described: str
) -> Any:
    if value is None:
        wanted = "none"
    elif isinstance(value, list | tuple):
        wanted = "list"
    elif isinstance(value, bool):
        wanted = "bool"
    elif isinstance(value, int | float):
        wanted = "number"
    elif isinstance(value, str):
        wanted = "text"
    else:
        wanted = "other"
    for value_class, convert in members:
        if value_class == wanted:
            return convert(value, name)
    if wanted == "number":  # e.g. a bool-only union given 1: report it as a number
        wanted = "other"
    raise FieldError(f"field '{name}' expects {described}, got {shown(value)}.")


# -- geometry shared by conv and pool --------------------------------------------------
def conv_out_len(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length along one axis: ``floor((n + p - d*(k-1) - 1)/s) + 1``.

    ``p`` is the total padding of the axis (both sides).

    >>> conv_out_len(224, 3, 2, 2)
    112
    >>> conv_out_len(7, 3, 1, 0, 2)
    3
    """
    return (n + p - d * (k - 1) - 1) // s + 1


def per_dim(value: int | tuple[int, ...], ndim: int, name: str) -> tuple[int, ...]:
    """Broadcast an int to every spatial dim, or check a list has one per dim."""
    if isinstance(value, int):
        return (value,) * ndim
    if len(value) != ndim:
        raise ShapeError(
            f"'{name}' has {len(value)} values but the input has {ndim} spatial dims.",
            hint=f"Give one value, or {ndim} (one per dim).",
        )
    return tuple(value)


def resolve_padding(
    padding: int | str | tuple[int, ...],
    spatial: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
) -> tuple[tuple[int, int], ...]:
    """(before, after) padding per spatial dim.

    ``same`` is TensorFlow's rule: output ``ceil(n/s)``, the odd pixel after.

    >>> resolve_padding("same", (224, 224), (3, 3), (2, 2), (1, 1))
    ((0, 1), (0, 1))
    >>> resolve_padding((1, 2, 3, 4), (8, 8), (3, 3), (1, 1), (1, 1))
    ((1, 2), (3, 4))
    """
    ndim = len(spatial)
    if padding == "valid":
        return ((0, 0),) * ndim
    if padding == "same":
        pads = []
        for n, k, s, d in zip(spatial, kernel, stride, dilation, strict=True):
            out = -(-n // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, int):
        return ((padding, padding),) * ndim
    assert not isinstance(padding, str), padding  # 'same' and 'valid' are handled above
    if len(padding) == ndim:
        return tuple((p, p) for p in padding)
    if len(padding) == 2 * ndim:
        return tuple((padding[2 * i], padding[2 * i + 1]) for i in range(ndim))
    raise ShapeError(
        f"'padding' has {len(padding)} values but the input has {ndim} spatial dims.",
        hint=f"Give one value, {ndim} (one per dim) or {2 * ndim} (before and after for each dim).",
    )


def require_spatial(x: Shape, kind: str) -> None:
    if len(x.spatial) not in (2, 3):
        raise ShapeError(
            f"{kind} needs a [C, H, W] or [C, D, H, W] input, got [{x}].",
            hint="Is there a flatten or linear layer before it?",
        )


def flat_pads(pads: Sequence[tuple[int, int]]) -> list[int]:
    """``((lo, hi) per spatial dim)`` -> ``torch.nn.functional.pad``'s order, last dim
    first.

    >>> flat_pads(((1, 2), (3, 4)))
    [3, 4, 1, 2]
    """
    return [p for lo_hi in reversed(pads) for p in lo_hi]
