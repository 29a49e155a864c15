"""The loss task as PyTorch (solvers/tasks/loss/pytorch.py): the script, run, prints the
solver's numbers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvers.tasks.loss.problem import LossProblem
from solvers.tasks.loss.pytorch import torch_form
from tests.solvers.test_pytorch_view import SETTINGS, check, numbers


@pytest.mark.parametrize(
    "data",
    [
        {"scores": "1 2 3; 4 5 6", "labels": "2 0", "examples": "rows", "loss": "softmax"},
        {"scores": "1 2; 4 5; 0 1", "labels": "0 1", "loss": "softmax", "log_base": "10"},
        {"scores": "1 2; 4 5; 0 1", "labels": "1 2", "loss": "softmax", "log_base": "2",
         "reduction": "sum", "reg": 0.5, "weights": "1 -2; 3 0.5", "reg_convention": "half_l2"},
        {"scores": "1 2; 4 5", "labels": "1 0", "margin": 0, "reg": 0.1, "weights": "1 2"},
        {"scores": "1 1; 1 1", "labels": "0 1"},  # every margin exactly Δ: no kink on 0
    ],
)  # fmt: skip
def test_loss_cases(data: dict[str, Any]) -> None:
    check("loss", LossProblem.model_validate(data))


@SETTINGS
@given(st.data())
def test_random_loss_problems(data: st.DataObject) -> None:
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    scores = data.draw(st.lists(st.lists(numbers, min_size=c, max_size=c), min_size=n, max_size=n))
    weights = data.draw(st.none() | st.lists(st.lists(numbers, min_size=2, max_size=2),
                                             min_size=1, max_size=3))  # fmt: skip
    problem = LossProblem(
        scores=scores,
        labels=data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)),
        examples="rows",
        loss=data.draw(st.sampled_from(["svm", "softmax"])),
        margin=data.draw(st.sampled_from([0.0, 1.0, 0.5])),
        log_base=data.draw(st.sampled_from(["e", "10", "2"])),
        reduction=data.draw(st.sampled_from(["mean", "sum"])),
        reg=0.0 if weights is None else data.draw(st.sampled_from([0.0, 0.1, 1.0])),
        weights=weights,
        reg_convention=data.draw(st.sampled_from(["l2", "half_l2"])),
    )
    check("loss", problem)


def test_the_form_states_the_courses_conventions_in_torch() -> None:
    svm = torch_form(LossProblem(scores="1 2; 4 5; 0 1", labels="0 1"))
    code = [line.code for line in svm.lines]
    assert "scores.T" in code  # examples are the lecture's columns
    assert any("F.multi_margin_loss(s, y, margin=1.0, reduction='none') * 3" in c for c in code)
    assert not svm.uses_math
    base10 = torch_form(
        LossProblem(scores="1 2; 4 5", labels="1 0", loss="softmax", log_base="10", examples="rows")
    )
    assert base10.uses_math and "scores.T" not in [line.code for line in base10.lines]
    assert any("/ math.log(10)" in line.code for line in base10.lines)
