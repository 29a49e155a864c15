"""The loss task's one tensor implementation, over a leading batch dimension, in float64.

The worked solver (a batch of one), the batch solver, the variant generator and the grader
all call :func:`loss_tensors`; a named mistake is the same call with one keyword override.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any

import numpy as np
import torch

from solvers.core import Rounder, resolve_device
from solvers.tasks.loss.problem import LN_BASE, LossAnswer, LossProblem

F64 = torch.float64
Array = torch.Tensor | np.ndarray
"""A torch tensor, or a numpy array for a single problem."""


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
    scores: Array
    labels: Array
    margin: Array
    ln_base: Array
    scale: Array
    reg_loss: Array

    @classmethod
    def from_problems(cls, problems: Sequence[LossProblem], device: Any = "cpu") -> LossBatch:
        """Stack validated problems of one ``group_key``: torch tensors on ``device``, or
        numpy arrays where ``device`` is None."""
        first = problems[0]
        if device is None:
            make: Any = np.array
            floats, ints = np.float64, np.int64
        else:
            make = partial(torch.tensor, device=device)
            floats, ints = F64, torch.long
        margin, ln_base, scale, reg_loss = make(
            [
                [p.margin for p in problems],
                [LN_BASE[p.log_base] for p in problems],
                [1.0 / p.n_examples if p.reduction == "mean" else 1.0 for p in problems],
                [reg_terms(p)[1] for p in problems],
            ],
            dtype=floats,
        )
        return cls(
            kind=first.loss,
            columns=first.examples == "columns",
            scores=make([p.rows() for p in problems], dtype=floats),
            labels=make([p.labels for p in problems], dtype=ints),
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
    ``reg_loss``, ``loss`` (B,), ``grad`` dL/ds (B, N, C); for :meth:`reduced`, ``slope``
    dL_i/ds times the log base, ``ln_base`` the natural log of the log base used (B,) and
    ``nats`` the softmax L_i in nats (B, N).
    """

    per_example: Array
    data_loss: Array
    reg_loss: Array
    loss: Array
    grad: Array | None
    """None (with ``slope``) for a run asked for no gradient."""
    slope: Array | None
    ln_base: Array | float
    nats: Array | None = None
    raw: Array | None = None
    margins: Array | None = None
    top: Array | None = None
    shifted: Array | None = None
    exps: Array | None = None
    sums: Array | None = None
    probabilities: Array | None = None

    @property
    def extra(self) -> Array:
        """The margins (SVM) or the probabilities (softmax)."""
        return self.margins if self.probabilities is None else self.probabilities  # type: ignore[return-value]

    def reduced(
        self,
        b: LossBatch,
        *,
        ln_base: Array | float | None = None,
        scale: Array | float | None = None,
        reg_factor: float = 1.0,
    ) -> LossTensors:
        """The run that made these with these overrides too, bit for bit: they act on its
        last step only (the log base divides, the reduction scales, the regularization
        adds)."""
        per_example = self.per_example
        if ln_base is not None and self.nats is not None:
            per_example = self.nats / _per_example(ln_base)
        else:
            ln_base = self.ln_base
        data_loss, reg_loss, loss = _reduce(b, per_example, scale, reg_factor)
        grad = self.grad
        if scale is not None or ln_base is not self.ln_base:
            grad = _grad(b, self.slope, ln_base, scale)
        return replace(
            self,
            per_example=per_example,
            data_loss=data_loss,
            reg_loss=reg_loss,
            loss=loss,
            grad=grad,
            ln_base=ln_base,
        )


SHORT_AXIS = 4
"""Up to this many classes (or examples), a torch tensor's sum over them is added term by
term: torch's reduction kernel costs ten times as much on so short an axis (CPU), and adds
them in this order from +0, so the sums are the same, bit for bit."""


def axis_sum(x: Array, axis: int, keepdims: bool = False) -> Array:
    """``x.sum(axis, keepdims)``, term by term on a short torch axis (:data:`SHORT_AXIS`)."""
    if not isinstance(x, torch.Tensor) or not 2 <= x.shape[axis] <= SHORT_AXIS:
        return x.sum(axis=axis, keepdims=keepdims)
    terms = x.unbind(axis)
    total = terms[0] + 0.0  # torch's sum starts at +0: −0 + −0 is +0
    for term in terms[1:]:
        total = total + term
    return total.unsqueeze(axis) if keepdims else total


def last_argmax(x: Array) -> Array:
    """The first index of the largest value along the last axis (``x.argmax(axis=-1)``;
    compared term by term on a short torch axis, see :data:`SHORT_AXIS`)."""
    if not isinstance(x, torch.Tensor) or x.shape[-1] > SHORT_AXIS or x.isnan().any():
        return x.argmax(axis=-1)
    terms = x.unbind(-1)
    best, index = terms[0], torch.zeros_like(terms[0], dtype=torch.int64)
    for k, term in enumerate(terms[1:], 1):
        larger = term > best
        best = torch.where(larger, term, best)
        index = index.masked_fill(larger, k)
    return index


def _per_problem(x: Array | float) -> Array | float:
    """(B,) → (B, 1, 1), a number as it is."""
    return x if isinstance(x, int | float) else x[:, None, None]


def _per_example(x: Array | float) -> Array | float:
    """(B,) → (B, 1), a number as it is."""
    return x if isinstance(x, float) else x[:, None]


def _label_index(scores: Array, labels: Array) -> Any:
    """Where every example's class ``labels`` (B, N) is, for :func:`_take` and :func:`_put`."""
    if isinstance(scores, torch.Tensor):
        return labels[:, :, None]
    return (*_positions(*scores.shape[:2]), labels[:, :, None])


@lru_cache(maxsize=64)
def _positions(batch: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The problem (B, 1, 1) and example (1, N, 1) indices of numpy arrays (B, N, ·)."""
    return np.arange(batch)[:, None, None], np.arange(n)[None, :, None]


def _take(x: Array, at: Any) -> Array:
    """``x`` at every example's label (B, N, 1)."""
    return x.gather(2, at) if isinstance(x, torch.Tensor) else x[at]


def _put(x: Array, at: Any, value: Array | float) -> Array:
    """A copy of ``x`` with ``value`` (B, N, 1) at every example's label."""
    if isinstance(x, torch.Tensor):
        return x.scatter(2, at, value)
    x = x.copy()
    x[at] = value
    return x


def _same(x: Any) -> Any:
    return x


def _margins(scores: Array, at: Any, margin: Array | float) -> Array:
    """s_j − s_{y_i} + Δ at every class, as (Δ − s_{y_i}) + s_j (PyTorch's order)."""
    return (_per_problem(margin) - _take(scores, at)) + scores


def svm_margins(scores: Array, labels: Array, margin: Array | float = 1.0) -> Array:
    """Every class's SVM margin s_j − s_{y_i} + Δ (B, N, C), before max(0, ·), of scores in
    rows (B, N, C) with labels (B, N) and margin Δ (B,) or a number: the ``raw`` of
    :func:`loss_tensors` (Δ at the correct class; integer scores give exact margins)."""
    return _margins(scores, _label_index(scores, labels), margin)


def _softmax(xp: Any, scores: Array) -> tuple[Array, Array, Array, Array, Array]:
    """The max-shifted softmax over the classes: ``top``, ``shifted``, ``exps``, ``sums``,
    ``probabilities``."""
    top = xp.amax(scores, axis=2, keepdims=True)
    shifted = scores - top
    exps = xp.exp(shifted)
    sums = axis_sum(exps, 2, keepdims=True)
    return top, shifted, exps, sums, exps / sums


def softmax_probabilities(scores: Array) -> Array:
    """The softmax probabilities (B, N, C) of scores in rows (B, N, C): the
    ``probabilities`` of :func:`loss_tensors`."""
    return _softmax(torch if isinstance(scores, torch.Tensor) else np, scores)[4]


def mean_losses(
    kind: str, scores: np.ndarray, labels: np.ndarray, gradient: bool = True
) -> LossTensors:
    """Problems in numpy, scores in rows (B, N, C), labels (B, N): :func:`loss_tensors` with
    Δ = 1, the natural log, no regularization and a mean over the examples (what the graph
    task's ``svm`` and ``softmax_ce`` gates compute)."""
    one = np.ones(len(scores))
    batch = LossBatch(
        kind=kind,
        columns=False,
        scores=scores,
        labels=labels,
        margin=one,
        ln_base=one,
        scale=one / labels.shape[1],
        reg_loss=one * 0.0,
    )
    return loss_tensors(batch, gradient=gradient)


def _reduce(
    b: LossBatch,
    per_example: Array,
    scale: Array | float | None,
    reg_factor: float,
    r: Rounder = _same,
) -> tuple[Array, Array, Array]:
    """The last step: data loss, regularization loss and loss (each through ``r``)."""
    data_loss = r(axis_sum(per_example, 1) * (b.scale if scale is None else scale))
    reg_loss = b.reg_loss * reg_factor if reg_factor != 1.0 else b.reg_loss
    if r is not _same:
        reg_loss = r(reg_loss)
    return data_loss, reg_loss, r(data_loss + reg_loss)


def loss_from(
    b: LossBatch,
    per_example: Array,
    rounder: Rounder | None = None,
    scale: Array | float | None = None,
    reg_factor: float = 1.0,
) -> Array:
    """The loss from per-example losses (B, N), as :func:`loss_tensors`'s last step gives it
    (each value through ``rounder`` when given; ``scale`` and ``reg_factor`` as there)."""
    return _reduce(b, per_example, scale, reg_factor, rounder or _same)[2]


def _grad(
    b: LossBatch,
    slope: Array,
    ln_base: Array | float,
    scale: Array | float | None,
    r: Rounder = _same,
) -> Array:
    """The last step of the gradient: ``slope`` times the reduction's factor over the log base."""
    grad = slope * _per_problem(b.scale if scale is None else scale)
    return r(grad if b.kind == "svm" else grad / _per_problem(ln_base))


def loss_tensors(
    b: LossBatch,
    *,
    ln_base: Array | float | None = None,
    correct_class: bool = False,
    hinge: bool = True,
    scale: Array | float | None = None,
    wrong_class: bool = False,
    reg_factor: float = 1.0,
    minus_one: bool = True,
    rounder: Rounder | None = None,
    gradient: bool = True,
) -> LossTensors:
    """The losses, their gradient and every intermediate of a batch.

    The overrides are the named mistakes: ``ln_base`` another log base, ``correct_class``
    the correct class counted in the SVM sum, ``hinge=False`` max(0, ·) dropped, ``scale``
    another reduction (1: the sum), ``wrong_class`` the largest probability taken instead of
    the correct class's, ``reg_factor`` the regularization loss times this (the last two act
    on the last step only, see :meth:`LossTensors.reduced`), ``minus_one=False`` the softmax
    gradient without the −1 at the correct class (p_j for every class). The same code runs on torch
    tensors and (a batch of one, where torch's per-operation cost would dominate) numpy
    arrays.

    ``rounder`` works the problem by hand: every intermediate value (margin, sum, exp,
    probability, −ln, loss, gradient cell) is rounded by it, and the softmax is taken without
    the max-shift (e^{s_j} as the lecture writes them, then p = e^{s_y}/Σe^{s_j}).
    ``gradient=False`` skips the gradient (``grad`` and ``slope`` are None): a mistake whose
    gradient nobody grades.
    """
    xp: Any = torch if isinstance(b.scores, torch.Tensor) else np
    r = rounder or _same
    scores = b.scores
    if ln_base is None:
        ln_base = b.ln_base
    at = _label_index(scores, last_argmax(scores) if wrong_class else b.labels)
    parts: dict[str, Array] = {}
    if b.kind == "svm":
        raw = r(_margins(scores, at, b.margin))
        terms = raw.clip(0.0) if hinge else raw
        if not correct_class:
            terms = _put(terms, at, 0.0)
        slope = None
        if gradient:
            # 1 where the margin is counted; max(0, Δ) at the correct class does not depend on s
            counted = xp.sign(terms) if hinge else xp.ones_like(terms)
            if correct_class or not hinge:
                counted = _put(counted, at, 0.0)
            slope = _put(counted, at, 0.0 - axis_sum(counted, 2, keepdims=True))
        per_example = r(axis_sum(terms, 2))
        nats = None
        parts.update(raw=raw, margins=terms)
    elif rounder is None:
        top, shifted, exps, sums, probabilities = _softmax(xp, scores)
        nats = (xp.log(sums) - _take(shifted, at))[:, :, 0]
        per_example = nats / _per_example(ln_base)
        slope = (
            _put(probabilities, at, _take(probabilities, at) - float(minus_one))
            if gradient
            else None
        )
        parts.update(top=top, shifted=shifted, exps=exps, sums=sums, probabilities=probabilities)
    else:  # by hand: no max-shift, every value rounded
        exps = r(xp.exp(scores))
        sums = r(axis_sum(exps, 2, keepdims=True))
        probabilities = r(exps / sums)
        nats = -xp.log(_take(probabilities, at))[:, :, 0]
        per_example = r(nats / _per_example(ln_base))
        slope = (
            _put(probabilities, at, r(_take(probabilities, at) - float(minus_one)))
            if gradient
            else None
        )
        parts.update(exps=exps, sums=sums, probabilities=probabilities)
    data_loss, reg_loss, loss = _reduce(b, per_example, scale, reg_factor, r)
    return LossTensors(
        per_example=per_example,
        data_loss=data_loss,
        reg_loss=reg_loss,
        loss=loss,
        grad=None if slope is None else _grad(b, slope, ln_base, scale, r),
        slope=slope,
        ln_base=ln_base,
        nats=nats,
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
