"""The loss task's one tensor implementation, over a leading batch dimension, in float64.

The worked solver (a batch of one), the batch solver, the variant generator and the grader
all call :func:`loss_tensors`; a named mistake is the same call with one keyword override.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from solvers.core import resolve_device
from solvers.tasks.loss.problem import LN_BASE, LossAnswer, LossProblem

F64 = torch.float64


def reg_terms(problem: LossProblem) -> tuple[float, float]:
    """ΣW² and the regularization loss λΣW² (or ½λΣW²); 0 and 0 without weights."""
    if problem.weights is None:
        return 0.0, 0.0
    squares = math.fsum(w * w for row in problem.weights for w in row)
    coefficient = problem.reg if problem.reg_convention == "l2" else problem.reg / 2
    return squares, coefficient * squares


@dataclass(frozen=True)
class LossBatch:
    """Loss problems of one kind and shape as tensors; scores in rows (B, N, C).

    ``margin`` is the SVM margin Δ, ``ln_base`` the natural log of the softmax base,
    ``scale`` 1/N for a mean and 1 for a sum, ``reg_loss`` the regularization loss (0
    without), each (B,). ``columns``: the problems' matrices (scores, gradient) are written
    classes × examples.
    """

    kind: str
    columns: bool
    scores: torch.Tensor
    labels: torch.Tensor
    margin: torch.Tensor
    ln_base: torch.Tensor
    scale: torch.Tensor
    reg_loss: torch.Tensor

    @classmethod
    def from_problems(cls, problems: Sequence[LossProblem], device: Any = "cpu") -> LossBatch:
        """Stack validated problems of one ``group_key``."""
        first = problems[0]
        parameters = torch.tensor(
            [
                (
                    p.margin,
                    LN_BASE[p.log_base],
                    1.0 / p.n_examples if p.reduction == "mean" else 1.0,
                    reg_terms(p)[1],
                )
                for p in problems
            ],
            dtype=F64,
            device=device,
        )
        margin, ln_base, scale, reg_loss = parameters.unbind(1)
        return cls(
            kind=first.loss,
            columns=first.examples == "columns",
            scores=torch.tensor([p.rows() for p in problems], dtype=F64, device=device),
            labels=torch.tensor([p.labels for p in problems], dtype=torch.long, device=device),
            margin=margin,
            ln_base=ln_base,
            scale=scale,
            reg_loss=reg_loss,
        )


def group_key(problem: LossProblem) -> Hashable:
    """Problems with one loss, layout and shape stack into one :class:`LossBatch`."""
    return problem.loss, problem.examples, len(problem.scores), len(problem.scores[0])


@dataclass(frozen=True)
class LossTensors:
    """Every intermediate of B problems; matrices in rows (B, N, C).

    SVM: ``raw`` s_j − s_{y_i} + Δ and ``margins`` the terms of the sum (max(0, ·), 0 at
    the correct class). Softmax: ``top`` max_j s_j (B, N, 1), ``shifted`` s − top, ``exps``,
    ``sums`` (B, N, 1) and ``probabilities``. Both: ``per_example`` (B, N), ``data_loss``,
    ``reg_loss``, ``loss`` (B,) and ``grad`` dL/ds (B, N, C).
    """

    per_example: torch.Tensor
    data_loss: torch.Tensor
    reg_loss: torch.Tensor
    loss: torch.Tensor
    grad: torch.Tensor
    raw: torch.Tensor | None = None
    margins: torch.Tensor | None = None
    top: torch.Tensor | None = None
    shifted: torch.Tensor | None = None
    exps: torch.Tensor | None = None
    sums: torch.Tensor | None = None
    probabilities: torch.Tensor | None = None

    @property
    def extra(self) -> torch.Tensor:
        """The margins (SVM) or the probabilities (softmax)."""
        return self.margins if self.probabilities is None else self.probabilities  # type: ignore[return-value]


def _per_problem(x: torch.Tensor | float) -> torch.Tensor | float:
    """(B,) → (B, 1, 1), a number as it is."""
    return x[:, None, None] if isinstance(x, torch.Tensor) else x


def loss_tensors(
    b: LossBatch,
    *,
    ln_base: torch.Tensor | float | None = None,
    correct_class: bool = False,
    hinge: bool = True,
    scale: torch.Tensor | float | None = None,
    wrong_class: bool = False,
    reg_factor: float = 1.0,
) -> LossTensors:
    """The losses, their gradient and every intermediate of a batch.

    The overrides are the named mistakes: ``ln_base`` another log base, ``correct_class``
    the correct class counted in the SVM sum, ``hinge=False`` max(0, ·) dropped, ``scale``
    another reduction (1: the sum), ``wrong_class`` the largest probability taken instead of
    the correct class's, ``reg_factor`` the regularization loss times this.
    """
    scores = b.scores
    labels = b.scores.argmax(2) if wrong_class else b.labels
    index = labels.unsqueeze(2)
    onehot = torch.zeros_like(scores).scatter_(2, index, 1.0)
    factor = _per_problem(b.scale if scale is None else scale)
    parts: dict[str, torch.Tensor] = {}
    if b.kind == "svm":
        raw = (b.margin[:, None, None] - scores.gather(2, index)) + scores
        terms = raw.clamp(min=0.0) if hinge else raw
        if not correct_class:
            terms = terms - terms * onehot  # 0 at the correct class
        active = onehot == 0  # max(0, Δ) at the correct class does not depend on the scores
        if hinge:
            active = active & (terms > 0) if correct_class else terms > 0
        count = active.sum(2, keepdim=True)
        grad = (active.to(F64) - onehot * count) * factor
        parts.update(raw=raw, margins=terms)
    else:
        top = scores.amax(2, keepdim=True)
        shifted = scores - top
        exps = shifted.exp()
        sums = exps.sum(2, keepdim=True)
        probabilities = exps / sums
        log_base = _per_problem(b.ln_base if ln_base is None else ln_base)
        terms = (sums.log() - shifted.gather(2, index)) / log_base  # (B, N, 1)
        grad = (probabilities - onehot) * factor / log_base
        parts.update(top=top, shifted=shifted, exps=exps, sums=sums, probabilities=probabilities)
    per_example = terms.sum(2)
    data_loss = per_example.sum(1) * (b.scale if scale is None else scale)
    reg_loss = b.reg_loss * reg_factor if reg_factor != 1.0 else b.reg_loss
    return LossTensors(
        per_example=per_example,
        data_loss=data_loss,
        reg_loss=reg_loss,
        loss=data_loss + reg_loss,
        grad=grad,
        **parts,
    )


def solve_batch(problems: Sequence[LossProblem], device: Any = None) -> list[LossAnswer]:
    """``solve``'s answers for many problems: vectorized torch over groups of one shape.

    Problems with the same loss, layout and shapes are stacked into (B, N, C) float64
    tensors on ``device`` (``None``: ``STEPGRAD_DEVICE``); margins, λ, log bases and
    reductions may differ within a group.
    """
    device = resolve_device() if device is None else torch.device(device)
    groups: dict[Hashable, list[int]] = {}
    for index, problem in enumerate(problems):
        groups.setdefault(group_key(problem), []).append(index)
    answers: list[LossAnswer | None] = [None] * len(problems)
    for indices in groups.values():
        b = LossBatch.from_problems([problems[i] for i in indices], device)
        t = loss_tensors(b)
        grad, extra = t.grad, t.extra
        if b.columns:
            grad, extra = grad.transpose(1, 2), extra.transpose(1, 2)
        columns = zip(
            t.per_example.tolist(),
            t.data_loss.tolist(),
            t.reg_loss.tolist(),
            t.loss.tolist(),
            grad.tolist(),
            extra.tolist(),
            strict=True,
        )
        for i, (losses, data, reg, total, g, e) in zip(indices, columns, strict=True):
            answers[i] = LossAnswer.model_construct(
                per_example=losses,
                data_loss=data,
                reg_loss=reg,
                loss=total,
                grad_scores=g,
                probabilities=e if b.kind == "softmax" else None,
                margins=e if b.kind == "svm" else None,
            )
    return answers  # type: ignore[return-value]
