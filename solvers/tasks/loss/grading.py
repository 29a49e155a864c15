"""Grading the loss task: per-example losses, the loss, optionally the gradient dL/ds.

Parts: ``per_example`` (vector of the N losses L_i), ``loss`` (the total loss), and the
optional ``grad_scores`` (the gradient, in the layout of the problem's scores). The loss
is carried forward from the student's own L_i: their mean (or sum) plus the regularization.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from solvers.core import N_, AnswerCell, Rounder
from solvers.grading.core import (
    MAX_PART_SIDE,
    PartError,
    PartSpec,
    TaskGrader,
    catalogue,
    parse_matrix,
    parse_number,
    parse_vector,
    split_cell,
    subscript,
)
from solvers.matrix import matrix_input, number_input, vector_input
from solvers.tasks.loss.compute import (
    LossBatch,
    LossTensors,
    group_key,
    loss_from,
    loss_tensors,
)
from solvers.tasks.loss.problem import LN_BASE, LossProblem

LN10 = LN_BASE["10"]

MISCONCEPTIONS = catalogue(
    (
        "log10",
        N_("log base 10 instead of e"),
        N_(
            "This is the softmax loss with the logarithm to base 10 (−log₁₀ p). The "
            "cross-entropy loss uses the natural logarithm: L_i = −ln p."
        ),
        "softmax.example",
    ),
    (
        "svm_correct_class",
        N_("the correct class counted in the SVM sum"),
        N_(
            "This counts the correct class in the sum, which adds max(0, Δ) = Δ to every "
            "example. The sum runs over the other classes only: j ≠ y_i."
        ),
        "svm.example",
    ),
    (
        "no_hinge",
        N_("max(0, ·) dropped"),
        N_(
            "This adds the margins without max(0, ·): negative margins were counted. A class "
            "whose score is below s_y − Δ adds nothing to the SVM loss."
        ),
        "svm.example",
    ),
    (
        "sum_instead_of_mean",
        N_("sum instead of mean"),
        N_(
            "This is the sum of the per-example losses; the loss is their mean, "
            "(1/N)·Σ L_i (and the gradient has the factor 1/N too)."
        ),
        "loss.reduce",
    ),
    (
        "wrong_class_prob",
        N_("the wrong class's probability"),
        N_(
            "This takes −log of the largest probability instead of the probability of the "
            "correct class y_i."
        ),
        "softmax.example",
    ),
    (
        "reg_forgotten",
        N_("regularization forgotten"),
        N_("This is the data loss alone: the regularization loss λR(W) must be added."),
        "loss.reg",
    ),
    (
        "reg_halved",
        N_("regularization halved"),
        N_(
            "This adds half the regularization loss: check which convention the problem "
            "uses, λΣW² or ½λΣW²."
        ),
        "loss.reg",
    ),
    (
        "grad_no_minus_one",
        N_("the softmax gradient without −1 at the correct class"),
        N_(
            "This is p_j for every class. The gradient of the softmax loss is p_j − 1 at "
            "the correct class y_i and p_j elsewhere (times 1/N for the mean)."
        ),
        "loss.grad",
    ),
    (
        "reg_doubled",
        N_("regularization doubled"),
        N_(
            "This adds twice the regularization loss: check which convention the problem "
            "uses, λΣW² or ½λΣW² (2λW is the gradient of λΣW², not the loss)."
        ),
        "loss.reg",
    ),
)


class LossSubmission(BaseModel):
    """A student's answer to a loss problem; every part is optional (missing scores 0)."""

    model_config = ConfigDict(extra="forbid")

    per_example: list[float] | None = Field(
        default=None,
        examples=[[2.9, 0.0, 12.9], "2,9 0 12,9"],
        description="L_i for each example: a list or text ('2.9 0 12.9').",
    )
    loss: float | None = Field(
        default=None, examples=[5.27, "5,27"], description="The loss (text with ',' allowed)."
    )
    grad_scores: list[list[float]] | None = Field(
        default=None,
        examples=[[[0.0, 0.33, 0.33], [0.33, -0.33, 0.33], [-0.33, 0.0, -0.67]]],
        description="Optional: dL/ds in the layout of the problem's scores.",
    )

    @field_validator(
        "per_example", mode="before", json_schema_input_type=vector_input(MAX_PART_SIDE) | None
    )
    @classmethod
    def _per_example(cls, value: Any) -> list[float] | None:
        return None if value is None else parse_vector(value, "per_example")

    @field_validator("loss", mode="before", json_schema_input_type=number_input() | None)
    @classmethod
    def _loss(cls, value: Any) -> float | None:
        return None if value is None else parse_number(value, "loss")

    @field_validator(
        "grad_scores",
        mode="before",
        json_schema_input_type=matrix_input(MAX_PART_SIDE, MAX_PART_SIDE) | None,
    )
    @classmethod
    def _grad(cls, value: Any) -> list[list[float]] | None:
        return None if value is None else parse_matrix(value, "grad_scores")


def shapes(problem: LossProblem) -> dict[str, tuple[int, ...]]:
    """The expected shape of every part."""
    return {
        "per_example": (problem.n_examples,),
        "loss": (),
        "grad_scores": (len(problem.scores), len(problem.scores[0])),
    }


def values(
    problem: LossProblem, submission: LossSubmission
) -> tuple[dict[str, Any], list[PartError]]:
    """The submitted parts by name (a loss answer has no unknown parts past validation)."""
    return submission.model_dump(), []


def batch(problems: Sequence[LossProblem], device: Any) -> LossBatch:
    """Stack problems of one group."""
    return LossBatch.from_problems(problems, device)


def _unless(wrong: LossTensors, same: torch.Tensor) -> LossTensors:
    """A misconception's answers, NaN for the problems (``same``, (B,)) where it is right."""
    return replace(
        wrong,
        per_example=wrong.per_example.where(~same[:, None], math.nan),
        loss=wrong.loss.where(~same, math.nan),
        grad=wrong.grad.where(~same[:, None, None], math.nan),
    )


def specs(b: LossBatch, given: dict[str, torch.Tensor]) -> list[PartSpec]:
    """Expected, misconception and carried-forward answers of every part.

    Each misconception is :func:`loss_tensors` with its override (those of the last step:
    log base, reduction and regularization, from the right run's
    :meth:`~LossTensors.reduced`); one that would give the right answer for a problem (log
    base 10 asked, a sum asked) is NaN there. The loss of each is taken from the student's
    own L_i where they gave them (:func:`own_loss`), so that a mistake of the last step is
    found whatever their L_i.
    """
    index = GRADER.index
    right = loss_tensors(b)
    if b.kind == "svm":
        wrong = {
            "svm_correct_class": loss_tensors(b, correct_class=True, gradient=False),
            "no_hinge": loss_tensors(b, hinge=False),
        }
        per_example_of, grad_of = ("svm_correct_class", "no_hinge"), ("no_hinge",)
    else:
        wrong = {
            "log10": _unless(right.reduced(b, ln_base=LN10), b.ln_base == LN10),
            "wrong_class_prob": loss_tensors(b, wrong_class=True, gradient=False),
            "grad_no_minus_one": loss_tensors(b, minus_one=False),
        }
        per_example_of, grad_of = ("log10", "wrong_class_prob"), ("log10", "grad_no_minus_one")
    summed = _unless(right.reduced(b, scale=1.0), b.scale == 1.0)
    gave = gave_all(given)
    loss_cands = [
        (index(m), own_loss(b, given, wrong[m].per_example, gave=gave)) for m in per_example_of
    ]
    loss_cands.append(
        (
            index("sum_instead_of_mean"),
            own_loss(b, given, right.per_example, scale=1.0, gave=gave).where(
                b.scale != 1.0, math.nan
            ),
        )
    )
    loss_cands += [
        (index(m), own_loss(b, given, right.per_example, reg_factor=f, gave=gave))
        for m, f in (("reg_forgotten", 0.0), ("reg_halved", 0.5), ("reg_doubled", 2.0))
    ]
    grad_cands = [(index(m), wrong[m].grad) for m in grad_of]
    grad_cands.append((index("sum_instead_of_mean"), summed.grad))
    layout = (lambda m: m.transpose(1, 2)) if b.columns else (lambda m: m)
    return [
        PartSpec(
            "per_example",
            f"{b.kind}.example",
            right.per_example,
            given["per_example"],
            [(index(m), wrong[m].per_example) for m in per_example_of],
        ),
        PartSpec(
            "loss",
            "loss.reduce",
            right.loss,
            given["loss"],
            loss_cands,
            carried=carried(b, given)["loss"],
            carried_from="per_example",
        ),
        PartSpec(
            "grad_scores",
            "loss.grad",
            layout(right.grad),
            given["grad_scores"],
            [(i, layout(g)) for i, g in grad_cands],
            optional=True,
        ),
    ]


def own_loss(
    b: LossBatch,
    given: dict[str, torch.Tensor],
    per_example: torch.Tensor,
    scale: float | None = None,
    reg_factor: float = 1.0,
    gave: torch.Tensor | None = None,
) -> torch.Tensor:
    """The loss from the student's own L_i in the rows that give them all (``gave``, when
    known: :func:`gave_all`), else from ``per_example`` (a mistake's), reduced with
    ``scale`` and ``reg_factor``."""
    mine = given["per_example"]
    if mine.shape == per_example.shape:
        per_example = torch.where(gave_all(given) if gave is None else gave, mine, per_example)
    return loss_from(b, per_example, scale=scale, reg_factor=reg_factor)


def gave_all(given: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B, 1): the rows that give every L_i."""
    return ~torch.isnan(given["per_example"]).any(1, keepdim=True)


def carried(
    b: LossBatch, given: dict[str, torch.Tensor], rounder: Rounder | None = None
) -> dict[str, torch.Tensor]:
    """The loss carried forward from the student's own L_i (worked by hand with
    ``rounder``)."""
    return {"loss": loss_from(b, given["per_example"], rounder)}


def hand(b: LossBatch, rounder: Rounder) -> dict[str, torch.Tensor]:
    """Every part worked by hand: :func:`loss_tensors` with ``rounder`` at each step."""
    t = loss_tensors(b, rounder=rounder)
    grad = t.grad.transpose(1, 2) if b.columns else t.grad
    return {"per_example": t.per_example, "loss": t.loss, "grad_scores": grad}


def part_label(name: str) -> str:
    """Parts as the lecture writes them: Lᵢ, L₂, L, ∂L/∂s (∂L/∂s[1,2] for a cell)."""
    part, index = split_cell(name)
    if part == "per_example":
        return subscript(f"L{index}") if index else "Lᵢ"
    if part == "grad_scores":
        return f"∂L/∂s[{index}]" if index else "∂L/∂s"
    return "L" if part == "loss" else name


GRADER = TaskGrader(
    task="loss",
    submission_model=LossSubmission,
    misconceptions=MISCONCEPTIONS,
    shapes=shapes,
    values=values,
    group_key=group_key,
    batch=batch,
    specs=specs,
    hand=hand,
    carried=carried,
    label=part_label,
)


# ---- the answer's parts, as keys list them and students write them -----------------------

PART_LABELS = {"per_example": N_("L_i of every example"), "loss": N_("the loss L")}
"""The parts a student answers on the try page, labelled."""


def answer_cells(answer: Any) -> list[AnswerCell]:
    """L₁ … L_N and L."""
    cells = [
        AnswerCell(f"L{i}", f"L_{{{i}}}", value) for i, value in enumerate(answer.per_example, 1)
    ]
    return [*cells, AnswerCell("L", "L", answer.loss)]


def answer_from_cells(cells: dict[str, str]) -> dict[str, Any]:
    """A submission from the columns ``L1`` … ``LN`` and ``L``."""
    answer: dict[str, Any] = {}
    per_example = {int(k[1:]): v for k, v in cells.items() if k[:1] == "L" and k[1:].isdigit()}
    if per_example:
        answer["per_example"] = [per_example[i] for i in sorted(per_example)]
    if "L" in cells:
        answer["loss"] = cells["L"]
    return answer


def try_parts(problem: LossProblem) -> list[str]:
    """Every loss problem asks for the L_i and L."""
    return list(PART_LABELS)
