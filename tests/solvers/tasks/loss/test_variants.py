"""Loss variants (solvers/tasks/loss/variants.py): the instructor's spec, draws within it,
the rules a variant must meet checked on hand-made candidates, the problems and their
tensor answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from solvers.tasks.loss import solve
from solvers.tasks.loss.variants import KINDS, MARGIN, LossGenerator, LossSpec
from solvers.variants.rng import CounterRng


def test_spec_ranges_in_units_of_the_decimals() -> None:
    spec = LossSpec(low=-1.25, high=2.04, decimals=1)
    assert spec.scale == 10 and spec.int_range == (-12, 20)
    assert LossSpec(low=-1.25, high=2.04, decimals=0).int_range == (-1, 2)
    with pytest.raises(ValidationError, match="no score with 0 decimals lies between"):
        LossSpec(low=0.2, high=0.8, decimals=0)
    with pytest.raises(ValidationError, match="the score range is empty"):
        LossSpec(low=3, high=-3)


@pytest.mark.parametrize("loss", ["svm", "softmax", "either"])
def test_draws_stay_in_the_spec(loss: str) -> None:
    spec = LossSpec(examples=4, classes=3, loss=loss, low=-2, high=3, softmax_spread=2)
    arrays = LossGenerator().draw(CounterRng(np.arange(1, 501, dtype=np.uint64)), spec)
    assert arrays["scores"].shape == (500, 3, 4) and arrays["labels"].shape == (500, 4)
    assert arrays["scores"].min() >= -20 and arrays["scores"].max() <= 30
    assert arrays["labels"].min() >= 0 and arrays["labels"].max() <= 2
    kinds = set(arrays["kind"].tolist())
    assert kinds == ({0, 1} if loss == "either" else {KINDS.index(loss)})
    softmax = arrays["scores"][arrays["kind"] == 1]
    if len(softmax):  # an example's softmax scores lie within the spread
        assert (softmax.max(1) - softmax.min(1)).max() <= 20


def test_the_rules_on_hand_made_candidates() -> None:
    spec = LossSpec(examples=1, classes=2, decimals=0)
    arrays = {
        "kind": np.array([0, 0, 1, 0], np.int16),
        # class scores of the one example; the correct class is 0 in each
        "scores": np.array([[[3], [2]], [[5], [1]], [[0], [9]], [[1], [3]]], np.int16),
        "labels": np.zeros((4, 1), np.int16),
    }
    broken = LossGenerator().violations(arrays, spec)
    assert broken[:, :3].tolist() == [
        [True, True, False],  # 2 − 3 + 1 = 0: a margin exactly 0, so no loss either
        [False, True, False],  # 1 − 5 + 1 < 0: no SVM loss
        [False, False, True],  # p = 1 / (1 + e⁹) < 0.01
        [False, False, False],  # 3 − 1 + 1 = 3
    ]
    assert not broken[3].any()


def test_problems_and_their_tensor_answers_agree_with_the_solver() -> None:
    spec = LossSpec(examples=2, classes=3)
    generator = LossGenerator()
    arrays = generator.draw(CounterRng(np.arange(1, 9, dtype=np.uint64)), spec)
    problems = generator.problems(arrays, spec)
    assert all(p.examples == "columns" and p.margin == MARGIN for p in problems)
    assert problems[0].scores == (arrays["scores"][0] / 10).tolist()
    tensors = generator.solve_tensors(arrays, spec, "cpu")
    for i, problem in enumerate(problems):
        answer = solve(problem).answer
        assert torch.allclose(tensors["per_example"][i], torch.tensor(answer.per_example).double())
        assert tensors["data_loss"][i].item() == pytest.approx(answer.data_loss)
        assert np.allclose(tensors["grad_scores"][i].numpy(), answer.grad_scores)
    assert generator.bulk_meta(spec) == {"scale": 10, "kinds": KINDS}
