"""Grading the conv task: the conv map, the activation map and the pooled map, cell by cell.

Parts (each K×H×W, or H×W for one map): ``conv``; ``activation`` when the problem has a
ReLU; ``pool`` when it pools. Error carried forward: the activation is consistent when it is
the ReLU of the student's own conv map, the pooled map when it pools their own activation
map (or the ReLU of their conv map when they gave no activation).

A map of another shape than expected is graded only when a misconception gives that shape
(stride 1, padding ignored) or it follows from the student's own earlier map; any other shape
is a format error.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from solvers.core import N_, AnswerCell
from solvers.grading.core import (
    F64,
    PartError,
    PartSpec,
    TaskGrader,
    catalogue,
    nest,
    parse_maps,
)
from solvers.tasks.conv.problem import ConvProblem, Geometry, Pair, stage_shapes

MISCONCEPTIONS = catalogue(
    (
        "kernel_flipped",
        N_("kernel flipped (or not flipped for convolution)"),
        N_(
            "This slides the kernel flipped by 180° where it should slide as given, or as "
            "given where convolution flips it. Cross-correlation (PyTorch's conv2d) does not "
            "flip; convolution does."
        ),
        "conv.cell",
    ),
    (
        "stride_one",
        N_("stride 1 instead of the given stride"),
        N_(
            "This moves the window by 1 cell at a time; the problem's stride moves it by "
            "more, which also makes the map smaller: (N − F + 2P)/S + 1."
        ),
        "conv.size",
    ),
    (
        "padding_ignored",
        N_("padding ignored"),
        N_(
            "This convolves the image without its zero padding. Add P rows and columns of "
            "zeros on every side first: the map is then (N − F + 2P)/S + 1 wide."
        ),
        "conv.padding",
    ),
    (
        "bias_forgotten",
        N_("bias forgotten"),
        N_("This is the sum of the products without the bias: add the filter's bias b."),
        "conv.cell",
    ),
    (
        "pool_before_relu",
        N_("pooling before ReLU"),
        N_(
            "This pools the conv map and applies ReLU afterwards. The order is conv, then "
            "ReLU, then pooling (for average pooling the results differ)."
        ),
        "conv.relu",
    ),
    (
        "avg_instead_of_max",
        N_("average instead of max"),
        N_("This averages each window; max pooling takes the largest value of the window."),
        "conv.pool",
    ),
)

PARTS = ("conv", "activation", "pool")


class ConvSubmission(BaseModel):
    """A student's answer to a conv problem; every part is optional (missing scores 0)."""

    model_config = ConfigDict(extra="forbid")

    conv: list[list[list[float]]] | None = Field(
        default=None, description="The conv map(s), K×H×W or H×W: nested lists or text."
    )
    activation: list[list[list[float]]] | None = Field(
        default=None, description="The map(s) after ReLU."
    )
    pool: list[list[list[float]]] | None = Field(
        default=None, description="The map(s) after pooling."
    )

    @field_validator(*PARTS, mode="before")
    @classmethod
    def _maps(cls, value: Any, info: Any) -> list[list[list[float]]] | None:
        return None if value is None else parse_maps(value, info.field_name)


@dataclass(frozen=True)
class ConvBatch:
    """Problems with one shape and one set of hyperparameters: ``image`` (B, C, H, W),
    ``filters`` (B, K, C, Fh, Fw) as given (not flipped), ``bias`` (B, K)."""

    geometry: Geometry
    convolution: bool
    relu: bool
    pool_kind: str | None
    image: torch.Tensor
    filters: torch.Tensor
    bias: torch.Tensor


def shapes(problem: ConvProblem) -> dict[str, tuple[int, ...]]:
    """The expected shape of every part the problem has."""
    stages = stage_shapes(problem)
    found = {"conv": stages.conv, "activation": stages.activation, "pool": stages.pool}
    return {part: tuple(shape) for part, shape in found.items() if shape is not None}


def values(
    problem: ConvProblem, submission: ConvSubmission
) -> tuple[dict[str, Any], list[PartError]]:
    """The submitted parts, and the stages given that the problem does not have."""
    dumped = submission.model_dump()
    expected = shapes(problem)
    extra = [
        (
            part,
            PydanticCustomError(
                "grading_unknown", N_("this problem has no {part} stage"), {"part": part}
            ),
            dumped[part],
        )
        for part in PARTS
        if part not in expected and dumped[part] is not None
    ]
    return {part: dumped[part] for part in expected}, extra


def group_key(problem: ConvProblem) -> Hashable:
    """Problems with one shape and one set of hyperparameters stack together."""
    return (
        tuple(torch.tensor(problem.image).shape),
        tuple(torch.tensor(problem.filters).shape),
        Geometry.of(problem),
        problem.mode,
        problem.activation,
        problem.pool.kind if problem.pool else None,
    )


def batch(problems: Sequence[ConvProblem], device: Any) -> ConvBatch:
    """Stack problems of one group."""
    first = problems[0]
    count = len(first.filters)
    f64 = {"dtype": F64, "device": device}
    bias = [[p.bias] * count if isinstance(p.bias, float) else p.bias for p in problems]
    return ConvBatch(
        geometry=Geometry.of(first),
        convolution=first.mode == "convolution",
        relu=first.activation == "relu",
        pool_kind=first.pool.kind if first.pool else None,
        image=torch.tensor([p.image for p in problems], **f64),
        filters=torch.tensor([p.filters for p in problems], **f64),
        bias=torch.tensor(bias, **f64),
    )


SMALL_BATCH = 512
"""Below this many rows :func:`convolve` loops over the kernel's offsets instead of calling
``einsum``: on a 2-core CPU a tiny ``einsum`` or ``bmm`` can cost milliseconds (thread
wake-up), the loop ~0.2 ms; from a few hundred rows on ``einsum`` is several times faster."""


def convolve(
    image: torch.Tensor, kernels: torch.Tensor, bias: torch.Tensor, stride: Pair, padding: Pair
) -> torch.Tensor | None:
    """Each problem's kernels slid over its own image, plus bias: (B, K, H', W'); None when
    the kernel does not fit."""
    (sv, sh), (pv, ph) = stride, padding
    fh, fw = kernels.shape[-2:]
    padded = F.pad(image, (ph, ph, pv, pv))
    if fh > padded.shape[2] or fw > padded.shape[3]:
        return None
    if image.shape[0] >= SMALL_BATCH:
        windows = padded.unfold(2, fh, sv).unfold(3, fw, sh)  # (B, C, H', W', Fh, Fw)
        out = torch.einsum("bcijhw,bkchw->bkij", windows, kernels)
    else:
        rows = (padded.shape[2] - fh) // sv * sv + 1
        cols = (padded.shape[3] - fw) // sh * sh + 1
        out = sum(
            padded[:, None, c, di : di + rows : sv, dj : dj + cols : sh]
            * kernels[:, :, c, di, dj, None, None]
            for c in range(kernels.shape[2])
            for di in range(fh)
            for dj in range(fw)
        )
    return out + bias[:, :, None, None]


def pool_maps(x: torch.Tensor, size: Pair, stride: Pair, kind: str) -> torch.Tensor | None:
    """Max or average pooling of (B, K, H, W) maps; None when the window does not fit.

    Written as a loop over the window's offsets: on a small CPU batch ``F.max_pool2d`` and
    ``F.avg_pool2d`` cost milliseconds a call (thread start-up), this costs microseconds,
    and on a big batch it is as fast.
    """
    (kh, kw), (sv, sh) = size, stride
    if x.shape[2] < kh or x.shape[3] < kw:
        return None
    rows, cols = (x.shape[2] - kh) // sv * sv + 1, (x.shape[3] - kw) // sh * sh + 1
    out = x[:, :, 0:rows:sv, 0:cols:sh]
    for di in range(kh):
        for dj in range(kw):
            if di or dj:
                cell = x[:, :, di : di + rows : sv, dj : dj + cols : sh]
                out = torch.maximum(out, cell) if kind == "max" else out + cell
    return out if kind == "max" else out / (kh * kw)


def _pooling(b: ConvBatch, kind: str | None = None) -> Callable[[Any], torch.Tensor | None]:
    """The problem's pooling (or ``kind`` instead of its kind); None where it does not fit."""
    size, stride, kind = b.geometry.pool_size, b.geometry.pool_stride, kind or b.pool_kind

    def apply(x: torch.Tensor | None) -> torch.Tensor | None:
        if x is None or size is None or stride is None or kind is None:
            return None
        return pool_maps(x, size, stride, kind)

    return apply


def _unbiased(conv_map: torch.Tensor | None, bias: torch.Tensor) -> torch.Tensor | None:
    return None if conv_map is None else conv_map - bias[:, :, None, None]


def _relu(x: torch.Tensor | None) -> torch.Tensor | None:
    return None if x is None else torch.relu(x)


def _per_row(
    first: torch.Tensor | None, fallback: torch.Tensor | None, source: torch.Tensor
) -> torch.Tensor | None:
    """``first`` in the rows where ``source`` was given (not all NaN), else ``fallback``."""
    given = ~torch.isnan(source).flatten(1).all(1)
    if first is None or fallback is None or first.shape != fallback.shape:
        return first if bool(given.all()) else fallback
    return torch.where(given[:, None, None, None], first, fallback)


def specs(b: ConvBatch, given: dict[str, torch.Tensor]) -> list[PartSpec]:
    """Expected, misconception and carried-forward answers of every part."""
    index = GRADER.index
    pool = _pooling(b)
    flipped = b.filters.flip(-2, -1)
    kernels, other = (flipped, b.filters) if b.convolution else (b.filters, flipped)
    stride, padding = b.geometry.stride, b.geometry.padding

    def conv(**changes: Any) -> torch.Tensor | None:
        options = {"kernels": kernels, "bias": b.bias, "stride": stride, "padding": padding}
        return convolve(b.image, **{**options, **changes})

    def chain(conv_map: torch.Tensor | None) -> dict[str, torch.Tensor | None]:
        activation = _relu(conv_map) if b.relu else conv_map
        return {"conv": conv_map, "activation": activation, "pool": pool(activation)}

    expected = chain(conv())
    variants = {
        "kernel_flipped": chain(conv(kernels=other)),
        "stride_one": chain(conv(stride=(1, 1))) if stride != (1, 1) else {},
        "padding_ignored": chain(conv(padding=(0, 0))) if padding != (0, 0) else {},
        "bias_forgotten": chain(_unbiased(expected["conv"], b.bias)),
        "pool_before_relu": {"pool": _relu(pool(expected["conv"]))} if b.relu else {},
        "avg_instead_of_max": (
            {"pool": _pooling(b, "avg")(expected["activation"])} if b.pool_kind == "max" else {}
        ),
    }
    from_conv = _relu(given["conv"]) if b.relu else given["conv"]
    carried = {"activation": from_conv, "pool": pool(from_conv)}
    if "activation" in given:
        carried["pool"] = _per_row(pool(given["activation"]), carried["pool"], given["activation"])
    steps = {"conv": "conv.cell", "activation": "conv.relu", "pool": "conv.pool"}
    sources = {"activation": "conv", "pool": "activation"}
    return [
        PartSpec(
            part,
            steps[part],
            expected[part],  # type: ignore[arg-type]
            given[part],
            [
                (index(m), answers[part])
                for m, answers in variants.items()
                if answers.get(part) is not None
            ],
            carried=carried.get(part),
            carried_from=sources.get(part, ""),
        )
        for part in PARTS
        if part in given
    ]


GRADER = TaskGrader(
    task="conv",
    submission_model=ConvSubmission,
    misconceptions=MISCONCEPTIONS,
    shapes=shapes,
    values=values,
    group_key=group_key,
    batch=batch,
    specs=specs,
    reshapable=frozenset(PARTS),
)


# ---- the answer's parts, as keys list them and students write them -----------------------

STAGES = ("conv", "activation", "pool")
PART_LABELS = {
    "conv": N_("the conv map"),
    "activation": N_("the map after ReLU"),
    "pool": N_("the map after pooling"),
}
"""The parts a student answers on the try page, labelled."""


def answer_cells(answer: Any) -> list[AnswerCell]:
    """Every cell of every map: ``pool[i,j]`` (``pool[k,i,j]`` with several maps)."""
    cells = []
    for stage in STAGES:
        maps = getattr(answer, stage)
        if maps is None:
            continue
        several = len(maps) > 1
        for k, grid in enumerate(maps, start=1):
            for i, row in enumerate(grid, start=1):
                for j, value in enumerate(row, start=1):
                    where = f"{k},{i},{j}" if several else f"{i},{j}"
                    cells.append(
                        AnswerCell(f"{stage}[{where}]", f"\\text{{{stage}}}_{{{where}}}", value)
                    )
    return cells


def answer_from_cells(cells: dict[str, str]) -> dict[str, Any]:
    """A submission from the columns ``<stage>[i,j]`` or ``<stage>[k,i,j]`` (1-based)."""
    maps: dict[str, dict[tuple[int, ...], str]] = {}
    for column, text in cells.items():
        stage, _, where = column.partition("[")
        if stage not in STAGES or not where.endswith("]"):
            continue
        index = tuple(int(i) for i in where[:-1].split(","))
        maps.setdefault(stage, {})[index if len(index) == 3 else (1, *index)] = text
    return {stage: nest(values) for stage, values in maps.items()}


def try_parts(problem: ConvProblem) -> list[str]:
    """The stages the problem has: conv, then ReLU and pooling when it has them."""
    parts = ["conv"]
    if problem.activation != "none":
        parts.append("activation")
    if problem.pool is not None:
        parts.append("pool")
    return parts
