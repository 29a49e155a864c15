"""Loss variants: a classes × examples score matrix (the lecture's table), labels, SVM or Softmax.

Scores are drawn as integers in units of 10^−decimals. A Softmax example's scores lie within
``softmax_spread`` of each other (drawn as a base plus offsets), so its probabilities stay
readable; an SVM example's scores cover the whole range.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from solvers.core import N_
from solvers.loss import LossProblem, loss_tensors
from solvers.variants.base import Arrays, Generator
from solvers.variants.rng import CounterRng
from solvers.variants.specs import LossSpec

KINDS = ("svm", "softmax")
"""Index of the ``kind`` array → loss."""
MIN_PROBABILITY = 0.01
"""The correct class's softmax probability is at least this (not 0.00 at 2 decimals)."""
MARGIN = 1.0
"""The SVM margin Δ of every variant (the lecture's)."""

_KIND, _LABELS, _SCORES, _BASE, _OFFSETS = range(1, 6)


class LossGenerator(Generator):
    """Draws score matrices; rules: no SVM margin exactly 0, some SVM loss, readable softmax."""

    task = "loss"
    rules: ClassVar[tuple[str, ...]] = (
        N_("an SVM margin s_j − s_y + Δ is exactly 0"),
        N_("every SVM margin is negative, so the loss and its gradient are 0"),
        N_("the softmax probability of a correct class is below 0.01"),
    )

    def draw(self, rng: CounterRng, spec: LossSpec) -> Arrays:
        """Kind (0 SVM, 1 Softmax), labels (B, N) and scores (B, C, N) in 10^−decimals."""
        shape = (spec.classes, spec.examples)
        if spec.loss == "either":
            kind = rng.first_attempt().integers(_KIND, 0, 1)
        else:
            kind = np.full(len(rng), KINDS.index(spec.loss), dtype=np.int16)
        low, high = spec.int_range
        spread = min(round(spec.softmax_spread * spec.scale), high - low)
        base = rng.integers(_BASE, low, high - spread, (1, spec.examples))
        softmax = base + rng.integers(_OFFSETS, 0, spread, shape)
        scores = np.where(
            kind[:, None, None] == 1, softmax, rng.integers(_SCORES, low, high, shape)
        )
        labels = rng.integers(_LABELS, 0, spec.classes - 1, (spec.examples,))
        return {"kind": kind, "labels": labels, "scores": scores}

    def violations(self, arrays: Arrays, spec: LossSpec) -> np.ndarray:
        """Margins from the integer scores (exact); probabilities in float64."""
        scores, labels = arrays["scores"], arrays["labels"]
        svm = arrays["kind"] == 0
        correct = np.take_along_axis(scores, labels[:, None, :], axis=1)
        others = np.arange(spec.classes)[None, :, None] != labels[:, None, :]
        raw = scores - correct + round(MARGIN * spec.scale)
        zero_margin = svm & ((raw == 0) & others).any((1, 2))
        no_loss = svm & ~((raw > 0) & others).any((1, 2))
        shifted = (scores - correct) / spec.scale
        p_correct = 1.0 / np.exp(shifted).sum(1)
        unreadable = ~svm & (p_correct < MIN_PROBABILITY).any(1)
        return np.stack([zero_margin, no_loss, unreadable], axis=1)

    def problems(self, arrays: Arrays, spec: LossSpec) -> list[LossProblem]:
        """Problems in the lecture's layout: rows are classes, columns are examples."""
        scores = (arrays["scores"] / spec.scale).tolist()
        return [
            LossProblem(scores=s, labels=y, examples="columns", loss=KINDS[k], margin=MARGIN)
            for s, y, k in zip(
                scores, arrays["labels"].tolist(), arrays["kind"].tolist(), strict=True
            )
        ]

    def solve_tensors(self, arrays: Arrays, spec: LossSpec, device: Any) -> dict[str, Any]:
        """``per_example`` (B, N), ``data_loss`` (B,), ``grad_scores`` and ``extra`` (B, C, N):
        the margins of SVM variants, the probabilities of Softmax ones."""
        import torch

        kind = torch.from_numpy(arrays["kind"]).to(device)
        scores = torch.from_numpy(arrays["scores"]).to(device, torch.float64) / spec.scale
        rows = scores.transpose(1, 2)
        labels = torch.from_numpy(arrays["labels"]).to(device, torch.long)
        batch, n, c = rows.shape
        per_example = torch.empty((batch, n), dtype=torch.float64, device=device)
        data_loss = torch.empty(batch, dtype=torch.float64, device=device)
        grad = torch.empty((batch, n, c), dtype=torch.float64, device=device)
        extra = torch.empty_like(grad)
        for index, name in enumerate(KINDS):
            mask = kind == index
            if not bool(mask.any()):
                continue
            size = int(mask.sum())
            parameter = torch.full((size,), MARGIN if name == "svm" else 1.0, dtype=torch.float64)
            scale = torch.full((size,), 1.0 / n, dtype=torch.float64)
            per_example[mask], data_loss[mask], grad[mask], extra[mask] = loss_tensors(
                name, rows[mask], labels[mask], parameter.to(device), scale.to(device)
            )
        return {
            "per_example": per_example,
            "data_loss": data_loss,
            "grad_scores": grad.transpose(1, 2),
            "extra": extra.transpose(1, 2),
        }
