"""The loss task: multiclass SVM (hinge) or Softmax cross-entropy loss from a score matrix."""

from solvers.core import N_, Task
from solvers.tasks.loss import grading
from solvers.tasks.loss.compute import solve_batch
from solvers.tasks.loss.problem import LossAnswer, LossProblem, LossSolution
from solvers.tasks.loss.pytorch import torch_form
from solvers.tasks.loss.solve import own_steps, quick, solve
from solvers.tasks.loss.variants import LossGenerator, LossSpec


def example() -> LossProblem:
    """The lecture's example: three images (columns), classes cat, car, frog (rows)."""
    return LossProblem(
        scores=[[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]],
        labels=[0, 1, 2],
        class_names=["cat", "car", "frog"],
    )


TASK = Task(
    id="loss",
    title=N_("Loss function"),
    summary=N_("Multiclass SVM or Softmax loss from a score matrix"),
    problem_model=LossProblem,
    answer_model=LossAnswer,
    solution_model=LossSolution,
    solve=solve,
    solve_batch=solve_batch,
    example=example,
    spec_model=LossSpec,
    generator=LossGenerator(),
    grader=grading.GRADER,
    answer_cells=grading.answer_cells,
    answer_from_cells=grading.answer_from_cells,
    try_parts=grading.try_parts,
    part_labels=grading.PART_LABELS,
    torch_form=torch_form,
    quick=quick,
    own_steps=own_steps,
)
