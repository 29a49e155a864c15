"""Grading the loss task: per-example losses, the loss, optionally the gradient dL/ds.

Parts: ``per_example`` (vector of the N losses L_i), ``loss`` (the total loss), and the
optional ``grad_scores`` (the gradient, in the layout of the problem's scores). The loss
is carried forward from the student's own L_i: their mean (or sum) plus the regularization.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from solvers.core import N_, AnswerCell
from solvers.grading.core import (
    F64,
    PartError,
    PartSpec,
    TaskGrader,
    catalogue,
    parse_matrix,
    parse_number,
    parse_vector,
)
from solvers.tasks.loss.problem import LossProblem

LN10 = math.log(10.0)
_LN_BASE = {"e": 1.0, "10": LN10, "2": math.log(2.0)}

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
        default=None, description="L_i for each example: a list or text ('2.9 0 12.9')."
    )
    loss: float | None = Field(default=None, description="The loss (text with ',' allowed).")
    grad_scores: list[list[float]] | None = Field(
        default=None, description="Optional: dL/ds in the layout of the problem's scores."
    )

    @field_validator("per_example", mode="before")
    @classmethod
    def _per_example(cls, value: Any) -> list[float] | None:
        return None if value is None else parse_vector(value, "per_example")

    @field_validator("loss", mode="before")
    @classmethod
    def _loss(cls, value: Any) -> float | None:
        return None if value is None else parse_number(value, "loss")

    @field_validator("grad_scores", mode="before")
    @classmethod
    def _grad(cls, value: Any) -> list[list[float]] | None:
        return None if value is None else parse_matrix(value, "grad_scores")


@dataclass(frozen=True)
class LossBatch:
    """Loss problems of one kind and shape as tensors; scores in rows (B, N, C).

    ``scale`` is 1/N for a mean and 1 for a sum; ``ln_base`` the natural log of the softmax
    base; ``reg_loss`` the regularization loss (0 without). ``columns``: the problems'
    matrices (scores, gradient) are written classes × examples.
    """

    kind: str
    columns: bool
    scores: torch.Tensor
    labels: torch.Tensor
    margin: torch.Tensor
    ln_base: torch.Tensor
    scale: torch.Tensor
    reg_loss: torch.Tensor


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


def group_key(problem: LossProblem) -> Hashable:
    """Problems with one loss, layout and shape stack together."""
    return problem.loss, problem.examples, len(problem.scores), len(problem.scores[0])


def batch(problems: Sequence[LossProblem], device: Any) -> LossBatch:
    """Stack problems of one group."""
    f64 = {"dtype": F64, "device": device}
    first = problems[0]

    def reg_loss(p: LossProblem) -> float:
        if p.weights is None:
            return 0.0
        squares = math.fsum(w * w for row in p.weights for w in row)
        return (p.reg if p.reg_convention == "l2" else p.reg / 2) * squares

    return LossBatch(
        kind=first.loss,
        columns=first.examples == "columns",
        scores=torch.tensor([p.rows() for p in problems], **f64),
        labels=torch.tensor([p.labels for p in problems], dtype=torch.long, device=device),
        margin=torch.tensor([p.margin for p in problems], **f64),
        ln_base=torch.tensor([_LN_BASE[p.log_base] for p in problems], **f64),
        scale=torch.tensor(
            [1.0 / p.n_examples if p.reduction == "mean" else 1.0 for p in problems], **f64
        ),
        reg_loss=torch.tensor([reg_loss(p) for p in problems], **f64),
    )


def specs(b: LossBatch, given: dict[str, torch.Tensor]) -> list[PartSpec]:
    """Expected, misconception and carried-forward answers of every part."""
    index = GRADER.index
    s, c = b.scores, b.scores.shape[2]
    onehot = torch.nn.functional.one_hot(b.labels, c).bool()
    correct = s.gather(2, b.labels.unsqueeze(2))
    scale = b.scale[:, None, None]
    nan = torch.full_like(b.scale, math.nan)
    per_example_cands: list[tuple[int, torch.Tensor]] = []
    grad_cands: list[tuple[int, torch.Tensor]] = []
    if b.kind == "svm":
        raw = (b.margin[:, None, None] - correct) + s
        hinge = torch.where(onehot, 0.0, torch.relu(raw))
        per_example = hinge.sum(2)
        positive = (raw > 0) & ~onehot
        grad = positive.to(F64) - onehot.to(F64) * positive.sum(2, keepdim=True)
        per_example_cands += [
            (index("svm_correct_class"), per_example + b.margin[:, None]),
            (index("no_hinge"), torch.where(onehot, 0.0, raw).sum(2)),
        ]
        grad_cands.append((index("no_hinge"), (~onehot).to(F64) - onehot.to(F64) * (c - 1)))
    else:
        lse = torch.logsumexp(s, 2)
        natural = lse - correct.squeeze(2)
        per_example = natural / b.ln_base[:, None]
        base10 = (b.ln_base == LN10)[:, None]
        delta = torch.exp(s - lse[:, :, None]) - onehot.to(F64)  # softmax; torch.softmax
        # costs milliseconds on a tiny CPU batch (thread wake-up), exp of the shift does not
        grad = delta / b.ln_base[:, None, None]
        per_example_cands += [
            (index("log10"), torch.where(base10, math.nan, natural / LN10)),
            (index("wrong_class_prob"), (lse - s.amax(2)) / b.ln_base[:, None]),
        ]
        grad_cands.append((index("log10"), torch.where(base10[:, :, None], math.nan, delta / LN10)))
    grad = grad * scale
    mean = b.scale != 1.0
    grad_cands = [(i, g * scale) for i, g in grad_cands]
    grad_cands.append(
        (index("sum_instead_of_mean"), torch.where(mean[:, None, None], grad / scale, math.nan))
    )

    def total(losses: torch.Tensor) -> torch.Tensor:
        return losses.sum(1) * b.scale + b.reg_loss

    data = per_example.sum(1) * b.scale
    loss_cands = [(i, total(p)) for i, p in per_example_cands] + [
        (index("sum_instead_of_mean"), torch.where(mean, per_example.sum(1) + b.reg_loss, nan)),
        (index("reg_forgotten"), data),
        (index("reg_halved"), data + b.reg_loss / 2),
        (index("reg_doubled"), data + b.reg_loss * 2),
    ]
    layout = (lambda m: m.transpose(1, 2)) if b.columns else (lambda m: m)
    return [
        PartSpec(
            "per_example",
            f"{b.kind}.example",
            per_example,
            given["per_example"],
            per_example_cands,
        ),
        PartSpec(
            "loss",
            "loss.reduce",
            data + b.reg_loss,
            given["loss"],
            loss_cands,
            carried=total(given["per_example"]),
            carried_from="per_example",
        ),
        PartSpec(
            "grad_scores",
            "loss.grad",
            layout(grad),
            given["grad_scores"],
            [(i, layout(g)) for i, g in grad_cands],
            optional=True,
        ),
    ]


GRADER = TaskGrader(
    task="loss",
    submission_model=LossSubmission,
    misconceptions=MISCONCEPTIONS,
    shapes=shapes,
    values=values,
    group_key=group_key,
    batch=batch,
    specs=specs,
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
