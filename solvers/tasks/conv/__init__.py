"""The conv task: conv → activation → pooling on a small image, every cell worked out."""

from __future__ import annotations

from solvers.core import N_, Task
from solvers.tasks.conv import grading
from solvers.tasks.conv.compute import solve_batch
from solvers.tasks.conv.problem import (
    MAX_ABS_VALUE,
    MAX_CHANNELS,
    MAX_FILTERS,
    MAX_KERNEL,
    MAX_PADDING,
    MAX_SIDE,
    MAX_STRIDE,
    MAX_WORKED_CELLS,
    MAX_WORKED_TERMS,
    ConvAnswer,
    ConvProblem,
    ConvShapes,
    ConvSolution,
    PoolSpec,
    Windows,
)
from solvers.tasks.conv.pytorch import torch_form
from solvers.tasks.conv.solve import own_steps, quick, solve
from solvers.tasks.conv.variants import ConvGenerator, ConvSpec


def example() -> ConvProblem:
    """The seed's homework example: 5×5 image, one 3×3 filter, stride 2, ReLU, 2×2 max-pool."""
    return ConvProblem(
        image=[[1, 2, 3, 4, 5], [2, 2, 1, 1, 1], [3, 2, 1, 1, 1], [4, 1, 1, 1, 1], [5, 1, 1, 1, 1]],
        filters=[[0, -1, 0], [1, 1, 1], [0, -1, 0]],
        stride=2,
        padding=0,
        activation="relu",
        pool=PoolSpec(kind="max", size=2),
    )


TASK = Task(
    id="conv",
    title=N_("Convolution"),
    summary=N_("Conv → ReLU → pooling on a small image, every cell worked out"),
    problem_model=ConvProblem,
    answer_model=ConvAnswer,
    solution_model=ConvSolution,
    solve=solve,
    solve_batch=solve_batch,
    example=example,
    spec_model=ConvSpec,
    generator=ConvGenerator(),
    grader=grading.GRADER,
    answer_cells=grading.answer_cells,
    answer_from_cells=grading.answer_from_cells,
    try_parts=grading.try_parts,
    part_labels=grading.PART_LABELS,
    torch_form=torch_form,
    quick=quick,
    own_steps=own_steps,
)

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_CHANNELS",
    "MAX_FILTERS",
    "MAX_KERNEL",
    "MAX_PADDING",
    "MAX_SIDE",
    "MAX_STRIDE",
    "MAX_WORKED_CELLS",
    "MAX_WORKED_TERMS",
    "TASK",
    "ConvAnswer",
    "ConvProblem",
    "ConvShapes",
    "ConvSolution",
    "PoolSpec",
    "Windows",
    "example",
    "solve",
    "solve_batch",
]
