"""The loss task's tensor implementation: B problems at once over a leading batch dimension."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from solvers.core import resolve_device
from solvers.tasks.loss.problem import LN_BASE, LossAnswer, LossProblem


def loss_tensors(
    kind: str, scores: Any, labels: Any, parameter: Any, scale: Any
) -> tuple[Any, Any, Any, Any]:
    """The losses of B problems of one kind from tensors, without pydantic objects.

    ``scores`` is (B, N, C) float64 (one row per example), ``labels`` (B, N) long,
    ``parameter`` (B,) the SVM margin Δ or the softmax ln(log base), ``scale`` (B,) 1/N for
    the mean or 1 for the sum. Returns the per-example losses (B, N), the data losses (B,),
    dL/ds (B, N, C) and the margins (SVM) or probabilities (softmax) (B, N, C).
    """
    import torch

    onehot = torch.nn.functional.one_hot(labels, scores.shape[2]).bool()
    correct = scores.gather(2, labels.unsqueeze(2))
    parameter = parameter[:, None, None]
    if kind == "svm":
        raw = (parameter - correct) + scores  # the order of _hinge_rows and torch
        positive = (raw > 0) & ~onehot
        extra = torch.where(positive, raw, torch.zeros_like(raw))
        per_example = extra.sum(2)
        grad = positive.double() - onehot.double() * positive.sum(2, keepdim=True)
    else:
        per_example = ((torch.logsumexp(scores, 2, keepdim=True) - correct) / parameter).squeeze(2)
        extra = torch.softmax(scores, 2)
        grad = (extra - onehot.double()) / parameter
    return per_example, per_example.sum(1) * scale, grad * scale[:, None, None], extra


def _group_key(problem: LossProblem) -> tuple[Any, ...]:
    weights = problem.weights
    shape = None if weights is None else (len(weights), len(weights[0]))
    return problem.loss, problem.examples, len(problem.scores), len(problem.scores[0]), shape


def solve_batch(problems: Sequence[LossProblem], device: Any = None) -> list[LossAnswer]:
    """``solve``'s answers for many problems: vectorized torch over groups of one shape.

    Problems with the same loss, layout and shapes are stacked into (B, N, C) float64
    tensors on ``device`` (``None``: ``STEPGRAD_DEVICE``); margins, λ, log bases and
    reductions may differ within a group.
    """
    import torch

    device = resolve_device() if device is None else torch.device(device)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, problem in enumerate(problems):
        groups.setdefault(_group_key(problem), []).append(index)
    answers: list[LossAnswer | None] = [None] * len(problems)
    for (kind, layout, _, _, weights_shape), indices in groups.items():
        group = [problems[i] for i in indices]
        f64 = {"dtype": torch.float64, "device": device}
        scores = torch.tensor([p.scores for p in group], **f64)
        if layout == "columns":
            scores = scores.transpose(1, 2)
        labels = torch.tensor([p.labels for p in group], dtype=torch.long, device=device)
        n = scores.shape[1]
        scale = torch.tensor([1.0 / n if p.reduction == "mean" else 1.0 for p in group], **f64)
        if kind == "svm":
            parameter = torch.tensor([p.margin for p in group], **f64)
        else:
            parameter = torch.tensor([LN_BASE[p.log_base] for p in group], **f64)
        per_example, data_loss, grad, extra = loss_tensors(kind, scores, labels, parameter, scale)
        if weights_shape is None:
            reg_loss = torch.zeros_like(data_loss)
        else:
            weights = torch.tensor([p.weights for p in group], **f64)
            coefficient = torch.tensor(
                [p.reg if p.reg_convention == "l2" else p.reg / 2 for p in group], **f64
            )
            reg_loss = coefficient * (weights * weights).sum((1, 2))
        if layout == "columns":
            grad, extra = grad.transpose(1, 2), extra.transpose(1, 2)
        columns = zip(
            per_example.tolist(),
            data_loss.tolist(),
            reg_loss.tolist(),
            (data_loss + reg_loss).tolist(),
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
                probabilities=e if kind == "softmax" else None,
                margins=e if kind == "svm" else None,
            )
    return answers  # type: ignore[return-value]
