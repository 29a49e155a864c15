"""The loss task's grading (solvers/tasks/loss/grading.py): submissions as typed, the
parts' shapes and labels, answer cells, the hand-worked answer, carried-forward credit."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from solvers.core import hand_rounder
from solvers.grading.batch import grade
from solvers.tasks.loss import LossProblem, example, solve
from solvers.tasks.loss.grading import (
    PART_LABELS,
    LossSubmission,
    answer_cells,
    answer_from_cells,
    batch,
    hand,
    part_label,
    shapes,
    try_parts,
)

CAT = LossProblem(scores=[[3.2], [5.1], [-1.7]], labels=[0], loss="softmax")
"""The lecture's softmax example: the cat image alone."""


def test_a_submission_takes_text_with_decimal_commas() -> None:
    typed = LossSubmission.model_validate({"per_example": "2,9 0 12,9", "loss": "5,27"})
    assert typed.per_example == [2.9, 0.0, 12.9] and typed.loss == 5.27
    assert typed.grad_scores is None
    with pytest.raises(ValidationError):
        LossSubmission.model_validate({"loss": 1, "extra": 2})


def test_shapes_follow_the_problem() -> None:
    assert shapes(example()) == {"per_example": (3,), "loss": (), "grad_scores": (3, 3)}
    assert shapes(CAT)["per_example"] == (1,) and shapes(CAT)["grad_scores"] == (3, 1)


def test_parts_as_the_lecture_writes_them() -> None:
    assert [part_label(p) for p in ("per_example", "per_example[2]", "loss")] == ["Lᵢ", "L₂", "L"]
    assert part_label("grad_scores[1,2]") == "∂L/∂s[1,2]" and part_label("other") == "other"
    assert try_parts(CAT) == list(PART_LABELS) == ["per_example", "loss"]


def test_cells_of_the_key_read_back() -> None:
    cells = answer_cells(solve(example()).answer)  # the lecture's SVM example
    assert [c.column for c in cells] == ["L1", "L2", "L3", "L"]
    assert [c.label for c in cells][:2] == ["L_{1}", "L_{2}"]
    assert answer_from_cells({"L2": "0", "L1": "2.9", "L3": "12.9", "L": "5.27", "x": "1"}) == {
        "per_example": ["2.9", "0", "12.9"],
        "loss": "5.27",
    }
    assert answer_from_cells({}) == {}


def test_the_hand_method_rounds_every_step() -> None:
    # e^3.2 = 24.53, e^5.1 = 164.02, e^-1.7 = 0.18; p = 24.53 / 188.73 = 0.13; -ln 0.13 = 2.04
    worked = hand(batch([CAT], "cpu"), hand_rounder(2))
    assert worked["per_example"].tolist() == [[2.04]]
    exact = -math.log(math.exp(3.2) / (math.exp(3.2) + math.exp(5.1) + math.exp(-1.7)))
    assert exact == pytest.approx(2.0404, abs=1e-4)
    assert grade("loss", CAT, {"per_example": [2.04], "loss": 2.04}).score == 2


def test_the_loss_is_carried_forward_from_the_students_own_li() -> None:
    marks = grade("loss", example(), {"per_example": [3.0, 0.0, 12.0], "loss": 5.0})
    per_example, loss = marks.parts
    assert not per_example.correct and loss.consistent  # (3 + 0 + 12) / 3 = 5
    assert 0 < marks.carried_forward_score <= loss.score
