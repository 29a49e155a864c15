"""The conv task's data: the problem with its validation and limits, the answer, the solution.

Errors are ``PydanticCustomError`` objects whose English templates (marked with ``N_``) name
the problem; the app translates them. Internally everything is normalized: the image is
C×H×W, the filters K×C×Fh×Fw, stride and padding are (vertical, horizontal) pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from solvers.core import N_, NP_, Solution, Step, trusted
from solvers.matrix import (
    MatrixText,
    bounded,
    coerce_tensor,
    coerce_vector,
    listed,
    tensor_input,
    vector_input,
)

MAX_SIDE = 64
"""Largest image height or width."""
MAX_CHANNELS = 8
"""Most image channels (C)."""
MAX_FILTERS = 16
"""Most filters (K)."""
MAX_KERNEL = 11
"""Largest kernel height or width."""
MAX_PADDING = 5
"""Most zero rows/columns added on each side."""
MAX_STRIDE = MAX_SIDE
"""Largest convolution or pooling stride."""
MAX_ABS_VALUE = 1e9
"""Largest absolute value of an image pixel, filter weight or bias (keeps sums finite)."""
MAX_WORKED_CELLS = 12
"""Most cells of one stage (conv or pooling) worked out in full in the steps."""
MAX_WORKED_TERMS = 600
"""Most products (conv) or window values (pooling) written out in one stage's worked cells."""

Pair = tuple[int, int]
Tensor3 = list[list[list[float]]]
Tensor4 = list[list[list[list[float]]]]

_IMAGE_INPUT = tensor_input(MAX_CHANNELS, MAX_SIDE, MAX_ABS_VALUE)
"""What the JSON schema states for the image: C×H×W or H×W nested lists, or text."""
_KERNEL = listed(listed(bounded(MAX_ABS_VALUE), MAX_KERNEL), MAX_KERNEL)
_FILTERS_INPUT = (
    listed(listed(_KERNEL, MAX_CHANNELS), MAX_FILTERS)
    | listed(_KERNEL, max(MAX_CHANNELS, MAX_FILTERS))
    | _KERNEL
    | MatrixText
)
"""What the JSON schema states for the filters: K×C×Fh×Fw, C×Fh×Fw (or K one-channel
kernels), Fh×Fw nested lists, or text."""
_FILTER_SEPARATOR = re.compile(r"^[ \t]*-{3,}[ \t]*\r?$", re.MULTILINE)
_FOUR_BRACKETS = re.compile(r"^\s*\[\s*\[\s*\[\s*\[")
_WHOLE = re.compile(r"^[+-]?\d+$")
_PAIR_APART = re.compile(r"[\s,;x×*]+")


def _error(kind: str, template: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, template, context)


def pair(value: int | Pair) -> Pair:
    """``2`` → ``(2, 2)``; a pair stays as it is."""
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE.match(value.strip()):
        return int(value.strip())
    raise ValueError


def _parse_pair(value: Any) -> int | Pair:
    """A whole number or a (vertical, horizontal) pair from a number, a list or text."""
    original = value
    if isinstance(value, str):
        parts = [p for p in _PAIR_APART.split(value.strip().strip("[]()")) if p]
        value = parts[0] if len(parts) == 1 else parts
    try:
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError
            return (_whole(value[0]), _whole(value[1]))
        return _whole(value)
    except ValueError:
        raise _error(
            "conv_pair",
            N_("expected a whole number or two of them (vertical, horizontal), got {value}"),
            value=str(original)[:40],
        ) from None


def _ranged(
    kind: str, low: int, high: int, too_small: str, too_large: str, optional: bool = False
) -> BeforeValidator:
    """A validator parsing a whole number or pair and checking each part is in [low, high]."""

    def check(value: Any) -> int | Pair | None:
        if value is None and optional:
            return None
        parsed = _parse_pair(value)
        for part in pair(parsed):
            if part < low:
                raise _error(kind, too_small, value=part, limit=low)
            if part > high:
                raise _error(kind, too_large, value=part, limit=high)
        return parsed

    whole = Annotated[int, Field(ge=low, le=high)]
    text = Annotated[
        str, Field(max_length=40, pattern=r"^[-+\s\d,;x×*\[\]()]*\d[-+\s\d,;x×*\[\]()]*$")
    ]
    accepted = whole | Annotated[list[whole], Field(min_length=2, max_length=2)] | text
    return BeforeValidator(check, json_schema_input_type=accepted | None if optional else accepted)


_Stride = Annotated[
    int | Pair,
    _ranged(
        "conv_stride",
        1,
        MAX_STRIDE,
        N_("the stride must be at least {limit}, got {value}"),
        N_("the stride is at most {limit}, got {value}"),
    ),
]
_Padding = Annotated[
    int | Pair,
    _ranged(
        "conv_padding",
        0,
        MAX_PADDING,
        N_("the padding cannot be negative, got {value}"),
        N_("the padding is at most {limit}, got {value}"),
    ),
]
_PoolSize = Annotated[
    int | Pair,
    _ranged(
        "conv_pool_size",
        1,
        MAX_SIDE,
        N_("the pooling size must be at least {limit}, got {value}"),
        N_("the pooling size is at most {limit}, got {value}"),
    ),
]
_PoolStride = Annotated[
    int | Pair | None,
    _ranged(
        "conv_pool_stride",
        1,
        MAX_STRIDE,
        N_("the pooling stride must be at least {limit}, got {value}"),
        N_("the pooling stride is at most {limit}, got {value}"),
        optional=True,
    ),
]


def _check_magnitude(numbers: list[float]) -> None:
    for x in numbers:
        if abs(x) > MAX_ABS_VALUE:
            raise _error(
                "conv_value",
                N_("{value} is too large: numbers are at most {limit} in absolute value"),
                value=x,
                limit=MAX_ABS_VALUE,
            )


def _flat(tensor: list[Any]) -> list[float]:
    if tensor and isinstance(tensor[0], list):
        return [x for part in tensor for x in _flat(part)]
    return tensor


def _coerce_image(value: Any) -> Tensor3:
    image = coerce_tensor(value, MAX_SIDE, MAX_CHANNELS)
    _check_magnitude(_flat(image))
    return image


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    return depth


def _outer_items(text: str) -> list[str]:
    """The elements of the outermost bracket pair: ``[[a], [b]]`` → ``["[a]", "[b]"]``."""
    body = text.strip()
    opened, closed = body.count("["), body.count("]")
    if opened != closed or not body.endswith("]"):
        raise _error(
            "matrix",
            N_("brackets do not match: {opened} [ and {closed} ]"),
            opened=opened,
            closed=closed,
        )
    body = body[1:-1]
    items: list[str] = []
    depth = start = 0
    for i, char in enumerate(body):
        if char == "[":
            if depth == 0:
                start = i
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                items.append(body[start : i + 1])
    return items


def _coerce_filters(value: Any, info: ValidationInfo) -> Tensor4:
    """K×C×Fh×Fw filters from text or lists (see the ``filters`` field for the forms)."""
    image = info.data.get("image")
    if isinstance(value, str) and _FILTER_SEPARATOR.search(value):
        parts: list[Any] | None = [b for b in _FILTER_SEPARATOR.split(value) if b.strip()]
    elif isinstance(value, str) and _FOUR_BRACKETS.match(value):
        parts = _outer_items(value)
    elif isinstance(value, list) and _depth(value) >= 4:
        parts = value
    else:
        parts = None
    if parts is None:
        # A 3-D stack is one filter with C channels, or K one-channel filters for a
        # one-channel image.
        if image is not None and len(image) == 1:
            filters = [[m] for m in coerce_tensor(value, MAX_KERNEL, MAX_FILTERS)]
        else:
            filters = [coerce_tensor(value, MAX_KERNEL, MAX_CHANNELS)]
    elif not parts:
        raise _error(
            "conv_filters", N_("no filter given: write each filter's numbers between the --- lines")
        )
    elif len(parts) > MAX_FILTERS:
        raise _error(
            "conv_filters",
            N_("{count} filters given; at most {limit} are allowed"),
            count=len(parts),
            limit=MAX_FILTERS,
        )
    else:
        filters = [coerce_tensor(p, MAX_KERNEL, MAX_CHANNELS) for p in parts]
    first = filters[0]
    shape0 = (len(first), len(first[0]), len(first[0][0]))
    for index, f in enumerate(filters[1:], start=2):
        shape = (len(f), len(f[0]), len(f[0][0]))
        if shape != shape0:
            raise _error(
                "conv_filters",
                N_("filter {index} is {shape} but filter 1 is {shape0} (channels×height×width)"),
                index=index,
                shape="×".join(map(str, shape)),
                shape0="×".join(map(str, shape0)),
            )
    _check_magnitude(_flat(filters))
    return filters


def _coerce_bias(value: Any) -> float | list[float]:
    vector = coerce_vector(value, MAX_FILTERS)
    _check_magnitude(vector)
    return vector[0] if len(vector) == 1 else vector


class PoolSpec(BaseModel):
    """Pooling after the activation: max or average over size×size windows, no padding."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["max", "avg"] = Field(default="max", description="Max or average pooling.")
    size: _PoolSize = Field(
        default=2,
        description=f"Window side, or [height, width]; 1 to {MAX_SIDE}, at most the map's size.",
    )
    stride: _PoolStride = Field(
        default=None,
        description=f"Step between windows, or [vertical, horizontal]; 1 to {MAX_STRIDE}. "
        "Defaults to the size (windows that do not overlap).",
    )


class ConvProblem(BaseModel):
    """Conv → activation → pooling on a small image, as in the CS231n quiz."""

    model_config = ConfigDict(extra="forbid")

    image: Annotated[
        Tensor3, BeforeValidator(_coerce_image, json_schema_input_type=_IMAGE_INPUT)
    ] = Field(
        examples=[
            [[4, 5, 4, 1, 1], [1, 3, 5, 1, 1], [3, 5, 5, 5, 2], [4, 5, 4, 4, 2], [1, 1, 0, 0, 2]]
        ],
        description=f"The input, H×W or C×H×W: nested lists, or text with one row per line "
        f"(or `1 2; 3 4`, or `[[1, 2], [3, 4]]`) and channels separated by a blank line or "
        f"written as nested brackets. At most {MAX_CHANNELS} channels of {MAX_SIDE}×{MAX_SIDE}; "
        f"numbers at most {MAX_ABS_VALUE:g} in absolute value. Stored as C×H×W.",
    )
    filters: Annotated[
        Tensor4, BeforeValidator(_coerce_filters, json_schema_input_type=_FILTERS_INPUT)
    ] = Field(
        examples=[[[0, 1, -1], [1, -1, 0], [-1, 0, 0]], "0 1 -1\n1 -1 0\n-1 0 0"],
        description=f"The filters (kernels), F×F, C×F×F or K×C×F×F; rectangular kernels allowed. "
        f"In text, channels of one filter are separated by a blank line and filters by a line "
        f"of three or more dashes (`---`); nested brackets `[[[[...]]]]` also work. A 3-D "
        f"stack is one filter with C channels, except for a one-channel image where it is K "
        f"one-channel filters. At most {MAX_FILTERS} filters, kernels at most "
        f"{MAX_KERNEL}×{MAX_KERNEL}. Stored as K×C×Fh×Fw.",
    )
    bias: Annotated[
        float | list[float],
        BeforeValidator(
            _coerce_bias,
            json_schema_input_type=bounded(MAX_ABS_VALUE)
            | vector_input(MAX_FILTERS, MAX_ABS_VALUE),
        ),
    ] = Field(
        examples=[1, [1]],
        default=0.0,
        description="One number for every filter, or one per filter (K numbers).",
    )
    stride: _Stride = Field(
        default=1,
        examples=[2, [2, 2]],
        description=f"Convolution stride, or [vertical, horizontal]; 1 to {MAX_STRIDE}.",
    )
    padding: _Padding = Field(
        default=0,
        description=f"Zero padding P added on each side (as in CS231n), or [vertical, "
        f"horizontal]; 0 to {MAX_PADDING}.",
    )
    mode: Literal["cross-correlation", "convolution"] = Field(
        default="cross-correlation",
        description="`cross-correlation` slides the kernel as given (PyTorch's conv2d); "
        "`convolution` flips it by 180° first.",
    )
    activation: Literal["relu", "none"] = Field(
        default="relu", description="`relu` (max(0, x)) or `none`."
    )
    pool: PoolSpec | None = Field(
        default_factory=PoolSpec,
        examples=[{"kind": "max", "size": 2}],
        description="Pooling after the activation (default 2×2 max, stride 2), or null for none.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ConvProblem:
        channels, height, width = len(self.image), len(self.image[0]), len(self.image[0][0])
        count, depth = len(self.filters), len(self.filters[0])
        fh, fw = len(self.filters[0][0]), len(self.filters[0][0][0])
        if depth != channels:
            raise _error(
                "conv_channels",
                NP_(
                    "the image has {image} channel but each filter has {filters}",
                    "the image has {image} channels but each filter has {filters}",
                    "image",
                    channels,
                ),
                image=channels,
                filters=depth,
                field="filters",
            )
        pv, ph = pair(self.padding)
        if fh > height + 2 * pv or fw > width + 2 * ph:
            raise _error(
                "conv_filter_size",
                N_("the {fh}×{fw} filter is larger than the padded {height}×{width} image"),
                fh=fh,
                fw=fw,
                height=height + 2 * pv,
                width=width + 2 * ph,
                field="filters",
            )
        if isinstance(self.bias, list) and len(self.bias) != count:
            raise _error(
                "conv_bias",
                N_("{count} biases given but there are {filters} filters (give one or {filters})"),
                count=len(self.bias),
                filters=count,
                field="bias",
            )
        if self.pool is not None:
            sv, sh = pair(self.stride)
            out_h, out_w = out_size(height, fh, pv, sv), out_size(width, fw, ph, sh)
            kh, kw = pair(self.pool.size)
            if kh > out_h or kw > out_w:
                raise _error(
                    "conv_pool_size",
                    N_(
                        "the {kh}×{kw} pooling window is larger than the {height}×{width} map "
                        "it pools"
                    ),
                    kh=kh,
                    kw=kw,
                    height=out_h,
                    width=out_w,
                    field="pool_size",
                )
        return self


@dataclass(frozen=True)
class Geometry:
    """The normalized hyperparameters: pairs are (vertical, horizontal)."""

    stride: Pair
    padding: Pair
    pool_size: Pair | None
    pool_stride: Pair | None

    @classmethod
    def of(cls, problem: ConvProblem) -> Geometry:
        """The geometry of a validated problem (one instance per set of hyperparameters:
        a solve asks for it several times)."""
        pool = problem.pool
        if pool is None:
            return _geometry(problem.stride, problem.padding, None, None)
        return _geometry(problem.stride, problem.padding, pool.size, pool.stride)


@lru_cache(maxsize=256)
def _geometry(
    stride: int | Pair,
    padding: int | Pair,
    pool_size: int | Pair | None,
    pool_stride: int | Pair | None,
) -> Geometry:
    """:meth:`Geometry.of` from the problem's own values (pooling's ``None`` without one)."""
    size = None if pool_size is None else pair(pool_size)
    pooled = size if pool_stride is None else pair(pool_stride)
    return Geometry(pair(stride), pair(padding), size, pooled)


def out_size(n: int, f: int, p: int, s: int) -> int:
    """(N − F + 2P)/S + 1, rounded down as frameworks do."""
    return (n - f + 2 * p) // s + 1


class ConvShapes(BaseModel):
    """The shape of every stage, [channels, height, width]; null for a stage that is off."""

    input: list[int]
    padded: list[int]
    conv: list[int]
    activation: list[int] | None
    pool: list[int] | None
    output: list[int]


class ConvAnswer(BaseModel):
    """Every map, K×H×W (one map per filter, even for K = 1), full precision."""

    conv: Tensor3 = Field(description="The convolution output plus bias, K×H'×W'.")
    activation: Tensor3 | None = Field(description="After ReLU; null for activation `none`.")
    pool: Tensor3 | None = Field(description="After pooling; null when there is no pooling.")
    output: Tensor3 = Field(description="The last stage's map.")
    shapes: ConvShapes


class Windows(BaseModel):
    """Where each output cell's window lies in the map it reads (0-based).

    The window of output cell (i, j) covers rows ``rows[i]`` … ``rows[i] + size[0] − 1`` and
    columns ``cols[j]`` … ``cols[j] + size[1] − 1``; ``rows[i] = i·stride[0]``.
    """

    size: Pair
    stride: Pair
    rows: list[int]
    cols: list[int]


class ConvSolution(Solution):
    """The answer, the steps, and what a page needs to draw the grids and highlight windows."""

    task: Literal["conv"] = "conv"
    answer: ConvAnswer
    steps: list[Step]
    padding: Pair = Field(description="Zero rows (top and bottom) and columns (left and right).")
    padded: Tensor3 = Field(description="The zero-padded input, C×(H+2P)×(W+2P).")
    kernels: Tensor4 = Field(description="The kernels as applied (flipped for convolution).")
    bias: list[float] = Field(description="One bias per filter.")
    conv_windows: Windows = Field(description="Conv cells' windows in the padded input.")
    pool_windows: Windows | None = Field(description="Pool cells' windows in the pooled map.")
    worked_conv_cells: int = Field(
        description=f"How many conv cells the steps work out in full, in order map, row, "
        f"column: at most {MAX_WORKED_CELLS}, fewer when a kernel has many weights (at most "
        f"{MAX_WORKED_TERMS} products in all). The rest are in the maps only."
    )
    worked_pool_cells: int = Field(
        description="How many pooling cells the steps work out in full, same order and limits."
    )


def stage_shapes(problem: ConvProblem) -> ConvShapes:
    """The shape of every stage of a validated problem, without computing anything."""
    geometry = Geometry.of(problem)
    channels, height, width = len(problem.image), len(problem.image[0]), len(problem.image[0][0])
    count, fh, fw = len(problem.filters), len(problem.filters[0][0]), len(problem.filters[0][0][0])
    (sv, sh), (pv, ph) = geometry.stride, geometry.padding
    conv = [count, out_size(height, fh, pv, sv), out_size(width, fw, ph, sh)]
    activation = list(conv) if problem.activation == "relu" else None
    pool = None
    if geometry.pool_size and geometry.pool_stride:
        (kh, kw), (tv, th) = geometry.pool_size, geometry.pool_stride
        pool = [count, out_size(conv[1], kh, 0, tv), out_size(conv[2], kw, 0, th)]
    return trusted(  # ConvShapes(...) without validating the lists of ints just made
        ConvShapes,
        input=[channels, height, width],
        padded=[channels, height + 2 * pv, width + 2 * ph],
        conv=conv,
        activation=activation,
        pool=pool,
        output=pool or activation or conv,
    )
