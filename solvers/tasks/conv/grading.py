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

import re
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from solvers.core import N_, AnswerCell, Rounder
from solvers.grading.core import (
    MAX_PART_SIDE,
    PartError,
    PartSpec,
    TaskGrader,
    catalogue,
    nest,
    parse_maps,
    split_cell,
)
from solvers.matrix import tensor_input
from solvers.tasks.conv.compute import ConvBatch, Own, forward, group_key
from solvers.tasks.conv.problem import MAX_FILTERS, ConvProblem, stage_shapes

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
    (
        "cell_sign",
        N_("a conv cell's sign lost"),
        N_(
            "This cell has the right size but the opposite sign: check the signs of its "
            "products (a negative weight times a negative input is positive) and of the bias."
        ),
        "conv.cell",
    ),
    (
        "relu_skipped",
        N_("ReLU skipped"),
        N_(
            "This keeps the negative cells: ReLU writes max(0, x), so every negative cell of "
            "the conv map becomes 0 before pooling."
        ),
        "conv.relu",
    ),
    (
        "pool_stride_wrong",
        N_("pooling with stride 1"),
        N_(
            "This moves the pooling window by 1 cell; the pooling's stride moves it by the "
            "given stride (by default the window's size), so the windows do not overlap."
        ),
        "conv.pool",
    ),
    (
        "pool_window_wrong",
        N_("a wrong pooling window"),
        N_(
            "This pools windows of {window} cells; the problem's pooling window is "
            "{size}. Each pooled cell is the max (or average) of one such window."
        ),
        "conv.pool",
    ),
)

PARTS = ("conv", "activation", "pool")


class ConvSubmission(BaseModel):
    """A student's answer to a conv problem; every part is optional (missing scores 0)."""

    model_config = ConfigDict(extra="forbid")

    conv: list[list[list[float]]] | None = Field(
        default=None,
        examples=[[[[1, 2], [3, 4]]], "1 2\n3 4"],
        description="The conv map(s), K×H×W or H×W: nested lists or text.",
    )
    activation: list[list[list[float]]] | None = Field(
        default=None,
        examples=[[[[1, 2], [3, 4]]], "1 2; 3 4"],
        description="The map(s) after ReLU.",
    )
    pool: list[list[list[float]]] | None = Field(
        default=None, examples=[[[[4]]], 4, "4"], description="The map(s) after pooling."
    )

    @field_validator(
        *PARTS,
        mode="before",
        json_schema_input_type=float | tensor_input(MAX_FILTERS, MAX_PART_SIDE) | None,
    )
    @classmethod
    def _maps(cls, value: Any, info: Any) -> list[list[list[float]]] | None:
        return None if value is None else parse_maps(value, info.field_name, MAX_FILTERS)


def shapes(problem: ConvProblem) -> dict[str, tuple[int, ...]]:
    """The expected shape of every part the problem has."""
    stages = stage_shapes(problem)
    found = {"conv": stages.conv, "activation": stages.activation, "pool": stages.pool}
    return {part: tuple(shape) for part, shape in found.items() if shape is not None}


def values(
    problem: ConvProblem, submission: ConvSubmission
) -> tuple[dict[str, Any], list[PartError]]:
    """The submitted parts, and the stages given that the problem does not have."""
    dumped = {part: getattr(submission, part) for part in PARTS}  # no copy of the maps
    expected = try_parts(problem)  # the stages, without their shapes (once per row: cheap)
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


MISTAKES: dict[str, dict[str, Any]] = {
    "kernel_flipped": {"flip_kernels": True},
    "stride_one": {"stride": (1, 1)},
    "padding_ignored": {"padding": (0, 0)},
    "bias_forgotten": {"bias": False},
    "pool_before_relu": {"pool_before_relu": True},
    "avg_instead_of_max": {"pool_kind": "avg"},
    "cell_sign": {"negate": True},
    "relu_skipped": {"relu": False},
    "pool_stride_wrong": {"pool_stride": (1, 1)},
    "pool_window_wrong": {"pool_size": None},
}
"""Each misconception of the catalogue as :func:`forward`'s keyword override (the wrong
pooling window is chosen per problem: :func:`wrong_window`)."""


def wrong_window(b: ConvBatch) -> tuple[int, int] | None:
    """The pooling window a student plausibly takes instead of the problem's: the stride
    where they differ, else the conv filter's size, else one cell more; None without
    pooling."""
    size, stride = b.geometry.pool_size, b.geometry.pool_stride
    if size is None or stride is None:
        return None
    kernel = (int(b.filters.shape[-2]), int(b.filters.shape[-1]))
    for window in (stride, kernel, (size[0] + 1, size[1] + 1)):
        if window != size:
            return window
    return None


def overrides(b: ConvBatch) -> dict[str, dict[str, Any]]:
    """The misconceptions that change some answer of the batch's problems, as overrides of
    :func:`forward` (a stride or padding that already is 1 or 0, pooling before a ReLU that
    is not there, an average that already is one, a ReLU skipped that is not there, a
    pooling stride that already is 1 change nothing)."""
    geometry = b.geometry
    window = wrong_window(b)
    changes_nothing = {
        "stride_one": geometry.stride == (1, 1),
        "padding_ignored": geometry.padding == (0, 0),
        "pool_before_relu": not b.relu,
        "avg_instead_of_max": b.pool_kind != "max",
        "relu_skipped": not b.relu,
        "pool_stride_wrong": geometry.pool_stride in (None, (1, 1)),
        "pool_window_wrong": window is None,
    }
    found = {m: o for m, o in MISTAKES.items() if not changes_nothing.get(m, False)}
    if window is not None:
        found["pool_window_wrong"] = {"pool_size": window}
    return found


def window_params(b: ConvBatch, override: dict[str, Any]) -> dict[str, Any] | None:
    """The explanation's params of the wrong pooling window (``2×2`` …), else None."""
    size = b.geometry.pool_size
    if "pool_size" not in override or size is None:
        return None
    window = override["pool_size"]
    return {"window": f"{window[0]}×{window[1]}", "size": f"{size[0]}×{size[1]}"}


def carried(
    b: ConvBatch, given: dict[str, torch.Tensor], rounder: Rounder | None = None
) -> dict[str, torch.Tensor]:
    """The activation and the pooling carried forward from the student's own maps: each
    stage from the student's own previous stage where they gave it (worked by hand with
    ``rounder``)."""
    maps = forward(b, given=given, rounder=rounder)
    stages = {"activation": maps.activation, "pool": maps.pool}
    return {part: m for part, m in stages.items() if m is not None and part in given}


def specs(b: ConvBatch, given: dict[str, torch.Tensor]) -> list[PartSpec]:
    """Expected, misconception and carried-forward answers of every part: each
    misconception is :func:`forward` with its override, every stage computed from the
    student's own previous stage where they gave it (stages it leaves as they were are not
    candidates)."""
    index = GRADER.index
    expected = forward(b)
    mine = Own.of(given)
    own = forward(b, given=mine, reuse=expected)
    mistakes = overrides(b)
    variants = {m: forward(b, given=mine, reuse=expected, **o) for m, o in mistakes.items()}
    params = {m: window_params(b, o) for m, o in mistakes.items()}
    steps = {"conv": "conv.cell", "activation": "conv.relu", "pool": "conv.pool"}
    sources = {"activation": "conv", "pool": "activation"}
    result = []
    for part in (p for p in PARTS if p in given):
        right, carried_forward = getattr(expected, part), getattr(own, part)
        found = [
            (m, answer)
            for m, maps in variants.items()
            for answer in [getattr(maps, part)]
            if answer is not None and answer is not right and answer is not carried_forward
        ]
        result.append(
            PartSpec(
                part,
                steps[part],
                right,
                given[part],
                [(index(m), answer) for m, answer in found],
                carried=None if part == "conv" else carried_forward,
                carried_from=sources.get(part, ""),
                params=[params[m] for m, _ in found],
                cellwise=frozenset({index("cell_sign")}),
            )
        )
    return result


def hand(b: ConvBatch, rounder: Rounder) -> dict[str, torch.Tensor]:
    """Every stage worked by hand: :func:`forward` with ``rounder`` after every product,
    sum and average."""
    maps = forward(b, rounder=rounder)
    stages = {part: getattr(maps, part) for part in PARTS}
    return {part: stage for part, stage in stages.items() if stage is not None}


def part_label(name: str) -> str:
    """Parts as the lecture's maps: conv, ReLU, pool; a cell ``pool[1,1]``."""
    part, index = split_cell(name)
    shown = {"conv": "conv", "activation": "ReLU", "pool": "pool"}.get(part, part)
    return f"{shown}[{index}]" if index else shown


GRADER = TaskGrader(
    task="conv",
    submission_model=ConvSubmission,
    misconceptions=MISCONCEPTIONS,
    shapes=shapes,
    values=values,
    group_key=group_key,
    batch=ConvBatch.of,
    specs=specs,
    reshapable=frozenset(PARTS),
    hand=hand,
    carried=carried,
    label=part_label,
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


_CELL_INDEX = re.compile(r"[1-9][0-9]{0,3}(,[1-9][0-9]{0,3}){1,2}")


def answer_from_cells(cells: dict[str, str]) -> dict[str, Any]:
    """A submission from the columns ``<stage>[i,j]`` or ``<stage>[k,i,j]`` (1-based); a
    column of a stage with another index (``pool[-1]``, ``pool[1,1,1,1]``) is an error
    (``answer_column``, naming the column)."""
    maps: dict[str, dict[tuple[int, ...], str]] = {}
    for column, text in cells.items():
        stage, _, where = column.partition("[")
        if stage not in STAGES:
            continue
        if not where.endswith("]") or not _CELL_INDEX.fullmatch(where[:-1].replace(" ", "")):
            raise PydanticCustomError(
                "answer_column",
                N_('column "{column}": a cell is named {stage}[row,column] or '
                   "{stage}[map,row,column], counted from 1"),
                {"column": column, "stage": stage},
            )  # fmt: skip
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
