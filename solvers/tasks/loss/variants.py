"""Loss variants: a classes × examples score matrix (the lecture's table), labels, SVM or Softmax.

Scores are drawn as integers in units of 10^−decimals. A Softmax example's scores lie within
``softmax_spread`` of each other (drawn as a base plus offsets), so its probabilities stay
readable; an SVM example's scores cover the whole range.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from solvers.core import N_, NP_
from solvers.grading.core import undecided
from solvers.tasks.loss.compute import (
    LossBatch,
    loss_tensors,
    softmax_probabilities,
    svm_margins,
)
from solvers.tasks.loss.grading import GRADER
from solvers.tasks.loss.problem import LossProblem
from solvers.variants.base import HAND_RULE, Arrays, Generator, take
from solvers.variants.rng import CounterRng
from solvers.variants.specs import check_range, spec_error

KINDS = ("svm", "softmax")
"""Index of the ``kind`` array → loss."""
MIN_PROBABILITY = 0.01
"""The correct class's softmax probability is at least this (not 0.00 at 2 decimals)."""
MARGIN = 1.0
"""The SVM margin Δ of every variant (the lecture's)."""

_KIND, _LABELS, _SCORES, _BASE, _OFFSETS = range(1, 6)


MAX_EXAMPLES = 10
"""Most examples (and most classes) of a loss variant."""
MAX_LOSS_VALUE = 20
"""Largest magnitude of a score bound."""


class LossSpec(BaseModel):
    """Loss variants: an examples × classes score matrix (classes in rows, as the lecture)."""

    model_config = ConfigDict(extra="forbid")
    choice_labels: ClassVar[dict[str, str]] = {
        "svm": N_("multiclass SVM (hinge)"),
        "softmax": N_("Softmax (cross-entropy)"),
        "either": N_("either (drawn per variant)"),
        "0": N_("0 (integers)"),
    }
    """What the instructor's form shows for each choice of a field."""

    examples: int = Field(
        title=N_("examples (images)"),
        default=3,
        ge=1,
        le=MAX_EXAMPLES,
        description="Examples (columns).",
    )
    classes: int = Field(
        title=N_("classes"), default=3, ge=2, le=MAX_EXAMPLES, description="Classes (rows)."
    )
    loss: Literal["svm", "softmax", "either"] = Field(
        title=N_("loss"),
        default="either",
        description="'svm', 'softmax', or 'either': each variant picks one at random.",
    )
    low: float = Field(
        title=N_("lowest score"),
        default=-5,
        ge=-MAX_LOSS_VALUE,
        le=MAX_LOSS_VALUE,
        description="Lowest score.",
    )
    high: float = Field(
        title=N_("highest score"),
        default=5,
        ge=-MAX_LOSS_VALUE,
        le=MAX_LOSS_VALUE,
        description="Highest score.",
    )
    decimals: Literal[0, 1] = Field(
        title=N_("decimals of the scores"),
        default=1,
        description="Digits after the point of every score: 0 (integers) or 1.",
    )
    softmax_spread: float = Field(
        title=N_("softmax: largest score difference"),
        default=4,
        ge=1,
        le=2 * MAX_LOSS_VALUE,
        description="Softmax: the largest difference between two scores of one example "
        "(keeps every probability readable at 2 decimals).",
    )

    @property
    def scale(self) -> int:
        """10 to the power ``decimals``: scores are drawn as integers and divided by it."""
        return 10**self.decimals

    @property
    def int_range(self) -> tuple[int, int]:
        """The score range in units of 10^−decimals."""
        return math.ceil(self.low * self.scale - 1e-9), math.floor(self.high * self.scale + 1e-9)

    @model_validator(mode="after")
    def _valid_range(self) -> LossSpec:
        check_range(self.low, self.high, "score")
        low, high = self.int_range
        if low > high:
            raise spec_error(
                NP_(
                    "no score with {decimals} decimal lies between {low} and {high}",
                    "no score with {decimals} decimals lies between {low} and {high}",
                    "decimals",
                    self.decimals,
                ),
                decimals=self.decimals,
                low=self.low,
                high=self.high,
            )
        return self


def kind_batches(arrays: Arrays, spec: LossSpec, device: Any) -> list[tuple[Any, LossBatch]]:
    """The variants of each loss kind as a :class:`LossBatch` (rows: examples), with the
    mask (B,) of the variants it holds."""
    import torch

    kind = torch.from_numpy(arrays["kind"]).to(device)
    scores = torch.from_numpy(arrays["scores"]).to(device, torch.float64) / spec.scale
    rows = scores.transpose(1, 2)
    labels = torch.from_numpy(arrays["labels"]).to(device, torch.long)
    out = []
    for index, name in enumerate(KINDS):
        mask = kind == index
        if not bool(mask.any()):
            continue
        ones = torch.ones(int(mask.sum()), dtype=torch.float64, device=device)
        batch = LossBatch(
            kind=name,
            columns=True,
            scores=rows[mask],
            labels=labels[mask],
            margin=ones * MARGIN,
            ln_base=ones,
            scale=ones / rows.shape[1],
            reg_loss=ones * 0.0,
        )
        out.append((mask, batch))
    return out


class LossGenerator(Generator):
    """Draws score matrices; rules: no SVM margin exactly 0, some SVM loss, readable softmax."""

    task = "loss"
    rules: ClassVar[tuple[str, ...]] = (
        N_("an SVM margin s_j − s_y + Δ is exactly 0"),
        N_("every SVM margin is negative, so the loss and its gradient are 0"),
        N_("the softmax probability of a correct class is below 0.01"),
        HAND_RULE,
    )

    def bulk_meta(self, spec: LossSpec) -> dict[str, Any]:
        """Scores are in units of ``scale``; ``kind`` indexes ``kinds``."""
        return {"scale": spec.scale, "kinds": KINDS}

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
        rows, labels = arrays["scores"].transpose(0, 2, 1), arrays["labels"]
        svm = arrays["kind"] == 0
        others = np.arange(spec.classes)[None, None, :] != labels[:, :, None]
        raw = svm_margins(rows, labels, round(MARGIN * spec.scale))
        zero_margin = svm & ((raw == 0) & others).any((1, 2))
        no_loss = svm & ~((raw > 0) & others).any((1, 2))
        p = softmax_probabilities(rows / spec.scale)
        p_correct = np.take_along_axis(p, labels[:, :, None], axis=2)[:, :, 0]
        unreadable = ~svm & (p_correct < MIN_PROBABILITY).any(1)
        broken = np.stack([zero_margin, no_loss, unreadable], axis=1)
        hand = np.zeros(len(svm), dtype=bool)
        rest = np.flatnonzero(~broken.any(1))  # the hand method only where the rest is met
        for mask, batch in kind_batches(take(arrays, rest), spec, "cpu"):
            hand[rest[mask.numpy()]] = undecided(GRADER, batch).numpy()
        return np.concatenate([broken, hand[:, None]], axis=1)

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

        batch, c, n = arrays["scores"].shape
        per_example = torch.empty((batch, n), dtype=torch.float64, device=device)
        data_loss = torch.empty(batch, dtype=torch.float64, device=device)
        grad = torch.empty((batch, n, c), dtype=torch.float64, device=device)
        extra = torch.empty_like(grad)
        for mask, problems in kind_batches(arrays, spec, device):
            t = loss_tensors(problems)
            per_example[mask], data_loss[mask], grad[mask], extra[mask] = (
                t.per_example,
                t.data_loss,
                t.grad,
                t.extra,
            )
        return {
            "per_example": per_example,
            "data_loss": data_loss,
            "grad_scores": grad.transpose(1, 2),
            "extra": extra.transpose(1, 2),
        }
